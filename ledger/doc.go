// Package ledger is amili-import's memory: a SQLite database that records every run, every file
// seen, and every registration's way from claimed to registered and uploaded, so that a rerun, a
// crash or the same file dropped twice never registers an invoice number twice for a creditor.
//
// Every step is written, durably, before the next is taken: a submission is marked sending
// before its POST, so a crash leaves it "in doubt" and the next run looks it up at Amili instead
// of sending it again. State changes go through one table of legal transitions and append to an
// append-only event log in the same transaction.
//
// No SQL exists outside this package. The database runs in WAL mode with synchronous=FULL and
// foreign keys on; its schema is built by numbered, embedded migrations.
package ledger
