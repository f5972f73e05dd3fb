package domain

import "fmt"

// RowError is one problem with one field of one row. A row can have several.
type RowError struct {
	File   string // the file's name as given to the reader
	Line   int    // physical line number (1-based), even when a quoted field spans lines
	Column string // the column's header name as it is in the file ("" for a whole-row problem)
	Value  string // the offending value, personal identity numbers masked
	Rule   string // the rule broken, in plain words
	// InvoiceNumber is the row's invoice number when it could be read, for the ledger.
	InvoiceNumber string
	// Warning marks a problem that is reported but does not reject the row (e.g. a bad
	// check digit under the "warn" identity-number policy).
	Warning bool
}

// Error formats the problem as "file:line: column "c": rule (value "v")", the form users see.
func (e RowError) Error() string {
	loc := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Column != "" {
		loc += fmt.Sprintf(": column %q", e.Column)
	}
	if e.Value != "" {
		return fmt.Sprintf("%s: %s (value %q)", loc, e.Rule, e.Value)
	}
	return fmt.Sprintf("%s: %s", loc, e.Rule)
}
