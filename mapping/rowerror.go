package mapping

import "fmt"

// FileError is a problem that stops a whole file before any of its rows is sent: a missing
// required column, bytes that do not decode, an unknown or ambiguous layout.
type FileError struct {
	File   string
	Line   int // 0 when the problem is not tied to a line
	Column string
	Rule   string
}

// Error formats the problem as "file:line: column "c": rule".
func (e *FileError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += fmt.Sprintf(":%d", e.Line)
	}
	if e.Column != "" {
		loc += fmt.Sprintf(": column %q", e.Column)
	}
	return loc + ": " + e.Rule
}
