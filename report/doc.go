// Package report builds the reconciliation report finance uses to tick off, to the öre, what the
// billing system exported against what Amili received and what Amili says now.
//
// A report covers a period [Since, Until) for one creditor or all of them. It is built from the
// ledger (files, registrations, rejections, conflicts, money totals) and from Amili's current
// view of the period's cases, read with paged list queries (one GET /cases per 100 cases). It
// is written as report.html (inline CSS, no scripts, no remote images), report.csv (UTF-8 with
// BOM, formula injection neutralised) and chart.png (registrations and amounts per day), and
// may be e-mailed through package mail. Deliveries are recorded in the ledger so that a period
// is never e-mailed twice and a report that could not be sent is sent with the next run.
package report
