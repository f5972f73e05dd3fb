package source

import (
	"errors"
	"fmt"
	"log/slog"
	"path"
	"time"
)

// After says what happens to a file once the ledger has recorded its outcome.
type After string

// The two choices for Options.After.
const (
	// AfterArchive moves finished files to archive_dir/<yyyy-mm-dd>/ and failed ones to error_dir.
	AfterArchive After = "archive"
	// AfterLeave leaves every file where it is; the ledger's content hash keeps it from being
	// imported twice. A quarantined file gets its <name>.error.txt beside it.
	AfterLeave After = "leave"
)

// DefaultPatterns is used when Options.Patterns is empty.
var DefaultPatterns = []string{"*.csv"}

// DefaultMinAge is how long a file's size and mtime must stay unchanged before it is taken.
const DefaultMinAge = 60 * time.Second

// Options describe one job's directory and its file rules. They are the same for the local
// and the SFTP source; directories are slash-separated paths on the source (relative ones
// are taken relative to Dir).
type Options struct {
	Dir      string   // the inbox; required
	Patterns []string // path.Match patterns on the base name; default *.csv
	// MinAge is how long a file must keep its size and mtime before it is taken (a file whose
	// mtime is already older than MinAge is taken at once). Zero means DefaultMinAge.
	MinAge time.Duration
	// DoneMarker, when set (e.g. ".done"), makes a file complete only when <name><DoneMarker>
	// exists; files without a marker are not taken, whatever their age.
	DoneMarker string
	PDFDir     string // where OpenPDF looks; default Dir
	ArchiveDir string // default <Dir>/archive
	ErrorDir   string // default <Dir>/error
	After      After  // default AfterArchive
	// LeavePDFs keeps ArchivePDF from moving PDFs (archive_pdfs: false); by default the PDFs
	// a finished file used are archived with it.
	LeavePDFs bool
	// AllowSymlinksOutside lets a local source follow symbolic links that lead out of Dir and
	// the directories configured outside it. By default such a link is refused
	// (ErrNotUsable): the inbox is a boundary.
	AllowSymlinksOutside bool
	// Location is the time zone of the archive's date directories; default time.Local.
	Location *time.Location
	// Now is the clock for stability and archive dates; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger // nil discards
}

// withDefaults validates o and fills in its defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("source: dir is required")
	}
	o.Dir = path.Clean(o.Dir)
	if len(o.Patterns) == 0 {
		o.Patterns = DefaultPatterns
	}
	for _, p := range o.Patterns {
		if _, err := path.Match(p, ""); err != nil {
			return o, fmt.Errorf("source: pattern %q: %w", p, err)
		}
	}
	if o.MinAge == 0 {
		o.MinAge = DefaultMinAge
	}
	if o.MinAge < 0 {
		return o, fmt.Errorf("source: min_age %s is negative", o.MinAge)
	}
	o.PDFDir = o.resolve(o.PDFDir, ".")
	o.ArchiveDir = o.resolve(o.ArchiveDir, "archive")
	o.ErrorDir = o.resolve(o.ErrorDir, "error")
	switch o.After {
	case "":
		o.After = AfterArchive
	case AfterArchive, AfterLeave:
	default:
		return o, fmt.Errorf("source: after %q: want archive or leave", o.After)
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// resolve makes dir absolute against o.Dir, defaulting to def.
func (o Options) resolve(dir, def string) string {
	if dir == "" {
		dir = def
	}
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join(o.Dir, dir)
}
