// Package mapping turns a CSV export into Amili registrations or events, or into precise row
// errors.
//
// A Reader streams one file row by row in constant memory. It decodes the bytes (UTF-8 with or
// without BOM, Windows-1252, ISO-8859-1) and finds each column's field through a Layout (the
// canonical one, whose headers are Amili's own dotted field paths, or a user's YAML mapping
// file). gocsv decodes the rows into typed rows of cells (row.go), fed by a header-translating
// row source (rowsource.go) that reads ahead a batch at a time in a goroutine of its own; a
// Reader left before the end of its file is closed with Close. The Reader then validates every
// value (amounts in integer öre, real dates, VAT rates, Luhn-checked identity numbers, e-mail
// and mobile formats, currencies) and groups rows: the lines of one invoice into one invoice
// registration, consecutive debts of one customer into one case registration. Every problem of
// a row is reported with file, physical line, column, masked value and the rule broken; a
// problem that makes the rest of the file unreadable is a *FileError and stops the file.
//
// A file of payments, creditings or cancellations (events on invoices Amili already has) is
// read with NextEvent: one event per row, no grouping, each with the key it is sent once by and
// a content hash; a row repeating an earlier row's event exactly is read past, and the same key
// with other content is a row error.
//
// The package is pure: no network, no database, nothing of this module but domain. The
// canonical columns, the grouping and money rules and the mapping-file format are documented
// for users in samples/README.md.
package mapping
