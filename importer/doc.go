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
//     Claim → MarkSending → register → MarkRegistered → upload each item's PDF → MarkPDF;
//     a registration whose outcome is unknown is looked up at Amili (one GET /cases)
//     before it is ever sent again;
//  4. the file's outcome goes to the ledger, then the file is archived (done),
//     quarantined (failed) or left for the next run (partial).
//
// The package declares what it needs of a ledger, an API client and a source as small
// interfaces; cmd/amili-import wires the real ones.
package importer
