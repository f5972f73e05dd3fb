// Package importer runs one job: it takes the files a source offers, validates and maps every
// row, submits each registration to Amili exactly once, attaches the original PDFs to their
// cases, and records every step in the ledger before and after it happens.
//
// The flow for one file:
//
//  1. spool the file to a temporary file while hashing it (one read of a remote file);
//     the ledger recognises bytes it has already imported under any name;
//  2. a validation pass over the whole file: a file-level error stops the file before
//     anything is sent (it is quarantined); row errors are recorded and never sent;
//  3. a submission pass with bounded concurrency: for each registration
//     Claim (owned by this run; a row another live run owns is left to it) → register, with
//     MarkSending done by the client's BeforeSend hook right before the request is written →
//     MarkRegistered → each item's PDF: MarkPDFSending → upload → MarkPDF;
//     a registration whose outcome is unknown is looked up at Amili (one GET /cases) and is
//     sent again only when a lookup after the grace period finds nothing;
//  4. the file's outcome goes to the ledger, then the file is archived (done),
//     quarantined (failed) or left for the next run (partial);
//  5. once every file of the run is through, the PDFs of the files archived as done follow
//     them into the archive, except those a CSV still in the inbox names.
//
// Each stage has its file: spool.go, validate.go, submit.go (the pass and its bookkeeping),
// claim.go, send.go, resolve.go, upload.go, finish.go, pdfarchive.go.
//
// The package declares what it needs of a ledger, an API client and a source as small
// interfaces; cmd/amili-import wires the real ones.
package importer
