// Package domain is amili-import's vocabulary: money in öre, dates as Amili writes them, the
// two registrations (an invoice, a case of debts) and their items, the events on an existing
// invoice or case (payment, crediting, cancellation), the row error that names a
// file, line, column and rule, and the counts of a file or a run. Package mapping produces these from CSV files; the
// ledger, the Amili client, the importer and the report use them. It imports nothing of ours.
package domain
