// Package report builds the reconciliation report finance uses to tick off, to the öre, what the
// billing system exported against what Amili received and what Amili says now.
//
// A report covers a period [Since, Until) for one creditor or all of them. Its money comes from
// the ledger's history up to the period's end (the claims record and the state transitions; see
// book.go for the rule that puts each amount in exactly one period), so consecutive reports
// count every amount once and a rebuild shows the same figures. Amili's view of the period's
// cases is read with paged list queries (one GET /cases per 100 cases) and each creditor's name
// with one GET /creditors/{id}. A report is written once to a folder of its own as report.html
// (inline CSS, no scripts, no remote images), report.csv (UTF-8 with BOM, formula injection
// neutralised) and chart.png (drawn with image/draw and the Go fonts of golang.org/x/image), and
// may be e-mailed through package mail. Deliveries are recorded in the ledger so that a period is never e-mailed twice and a
// report that could not be sent is sent with the next run; building a period again writes a
// rebuild beside the first report, which stays as it was mailed.
package report
