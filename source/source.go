// Package source is where amili-import finds its files: a local directory or a directory on an
// SFTP server. Both implementations offer the same operations (list complete files, open one
// as a stream, open a PDF beside it, archive or quarantine it afterwards, archive the PDFs it
// used), so the importer does not know which it has.
package source

import (
	"context"
	"io"
	"time"
)

// File is a file ready to import: complete (stable for min_age, or its done-marker present),
// matching the job's patterns, not a dotfile or a temporary name.
type File struct {
	Name    string // relative to the source directory, slash-separated
	Size    int64
	ModTime time.Time
}

// Why List holds a matching file back (Waiting.Reason).
const (
	// WaitMinAge: the file changed, or appeared, less than min_age ago.
	WaitMinAge = "min_age"
	// WaitDoneMarker: the file's done-marker is not there yet.
	WaitDoneMarker = "done_marker"
)

// Waiting is a file that matches the patterns but is not complete yet: it may still be being
// written. It is taken by a later List.
type Waiting struct {
	File
	// Reason is WaitMinAge or WaitDoneMarker.
	Reason string
	// Why says it for people: "changed less than min_age 1m0s ago", "no done-marker x.csv.done".
	Why string
	// EligibleAt is when List takes the file if it does not change; zero when that depends on
	// something else (its done-marker).
	EligibleAt time.Time
}

// Listing is what List found: the complete files, oldest first, and those held back.
type Listing struct {
	Files   []File
	Waiting []Waiting
}

// Source is what both implementations provide.
type Source interface {
	// List returns the complete files matching the patterns, oldest first, and the matching
	// files it holds back, with when they become eligible.
	List(ctx context.Context) (Listing, error)
	// Open streams a file found by List.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// OpenPDF streams a PDF by its name relative to the PDF directory (by default the CSV's
	// directory). A name that would leave that directory is refused.
	OpenPDF(ctx context.Context, name string) (io.ReadCloser, error)
	// Archive moves a finished file to archive_dir/<yyyy-mm-dd>/ and returns its new name. A
	// name already there is never overwritten.
	Archive(ctx context.Context, name string) (string, error)
	// ArchivePDF moves a PDF a finished file used, named relative to the PDF directory as
	// OpenPDF takes it, to archive_dir/<yyyy-mm-dd>/ under the same relative name, and returns
	// its new name. A name already there is never overwritten; only a regular file is moved.
	// When the source leaves PDFs in place (ArchivesPDFs is false) nothing moves and the
	// PDF's current name is returned.
	ArchivePDF(ctx context.Context, name string) (string, error)
	// ArchivesPDFs reports whether ArchivePDF moves PDFs: after is archive and archive_pdfs
	// is not turned off.
	ArchivesPDFs() bool
	// Quarantine moves a file that failed as a whole to error_dir, with <name>.error.txt
	// beside it holding reason.
	Quarantine(ctx context.Context, name, reason string) (string, error)
	// Describe names the source in logs and the ledger, without credentials
	// (e.g. "sftp://user@host:22/in" or "/srv/in").
	Describe() string
	Close() error
}
