package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// Summary is what a run did, for people (WriteText) and for scripts (WriteJSON).
type Summary struct {
	Job   string
	Files []FileResult
	// Counts are the run's totals over its files.
	Counts domain.Counts
	// SameFile counts files skipped because the same bytes were already imported.
	SameFile int
	// Reasons groups rejections (row errors, refused PDFs, Amili's answers) by reason.
	Reasons  map[string]int
	APICalls int64
	Elapsed  time.Duration
	// Cancelled is set when the run was interrupted; what was not done waits for the next run.
	Cancelled bool
}

// FileResult is one file's outcome.
type FileResult struct {
	Name    string
	Outcome ledger.FileOutcome
	Counts  domain.Counts
	Error   string // why a file failed as a whole
	MovedTo string // where it was archived or quarantined
}

// AllDone reports whether every row of every file reached its end: nothing rejected, failed,
// in conflict or left for a later run. The CLI exits 1 when it is false.
func (s Summary) AllDone() bool {
	c := s.Counts
	if c.Rejected > 0 || c.Failed > 0 || c.Conflicts > 0 || c.Pending > 0 || s.Cancelled {
		return false
	}
	for _, f := range s.Files {
		if f.Outcome == ledger.FileFailed || f.Outcome == ledger.FilePartial {
			return false
		}
	}
	return true
}

// Completed reports whether the run did everything it could: every row reached an end, done,
// rejected or in conflict, and every file was finished or refused as a whole. Nothing failed
// transiently, is pending, or was left by an interrupted run; a rerun would change nothing.
func (s Summary) Completed() bool {
	c := s.Counts
	if c.Failed > 0 || c.Pending > 0 || s.Cancelled {
		return false
	}
	for _, f := range s.Files {
		if f.Outcome == ledger.FilePartial {
			return false
		}
	}
	return true
}

// Outcome names how a run that was not stopped by an error ended, as the ledger records it:
// ok (AllDone), completed_with_rejections (Completed, rows or files refused), interrupted
// (cancelled) or some_failed (rows left for a later run).
func (s Summary) Outcome() string {
	switch {
	case s.AllDone():
		return ledger.RunOutcomeOK
	case s.Cancelled:
		return RunOutcomeInterrupted
	case s.Completed():
		return ledger.RunOutcomeCompletedWithRejections
	}
	return RunOutcomeSomeFailed
}

// Run outcomes the ledger records besides its successful ones.
const (
	// RunOutcomeSomeFailed: the run finished with rows left for a later run.
	RunOutcomeSomeFailed = "some_failed"
	// RunOutcomeInterrupted: the run was cancelled; the next one resumes.
	RunOutcomeInterrupted = "interrupted"
	// RunOutcomeFailed: the run could not start or stopped on an error.
	RunOutcomeFailed = "failed"
)

// MarshalJSON writes the summary with stable snake_case names.
func (s Summary) MarshalJSON() ([]byte, error) {
	type file struct {
		Name    string        `json:"name"`
		Outcome string        `json:"outcome"`
		Counts  domain.Counts `json:"counts"`
		Error   string        `json:"error,omitempty"`
		MovedTo string        `json:"moved_to,omitempty"`
	}
	out := struct {
		Job string `json:"job"`
		domain.Counts
		SameFile       int            `json:"same_file_already_imported"`
		Reasons        map[string]int `json:"rejection_reasons"`
		APICalls       int64          `json:"api_calls"`
		ElapsedSeconds float64        `json:"elapsed_seconds"`
		Cancelled      bool           `json:"cancelled"`
		AllDone        bool           `json:"all_done"`
		Files          []file         `json:"files"`
	}{
		Job:            s.Job,
		Counts:         s.Counts,
		SameFile:       s.SameFile,
		Reasons:        s.Reasons,
		APICalls:       s.APICalls,
		ElapsedSeconds: s.Elapsed.Seconds(),
		Cancelled:      s.Cancelled,
		AllDone:        s.AllDone(),
		Files:          []file{},
	}
	if out.Reasons == nil {
		out.Reasons = map[string]int{}
	}
	for _, f := range s.Files {
		out.Files = append(out.Files, file{f.Name, string(f.Outcome), f.Counts, f.Error, f.MovedTo})
	}
	return json.Marshal(out)
}

// WriteJSON writes the summary as one indented JSON document.
func (s Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteText writes the summary for people.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	title := "Import summary"
	if s.Job != "" {
		title += " — job " + s.Job
	}
	fmt.Fprintln(&b, title)
	for _, f := range s.Files {
		fmt.Fprintf(&b, "  %-40s %-9s", f.Name, f.Outcome)
		if f.Outcome != ledger.FileDuplicate {
			c := f.Counts
			// Every outcome figure, so the registrations add up however the run ended.
			fmt.Fprintf(&b, " %d rows, %d registrations: %d registered, %d resumed, %d already imported, %d rejected, %d conflicts, %d failed, %d pending",
				c.Rows, c.Registrations, c.Registered, c.Resumed, c.AlreadyImported, c.Rejected, c.Conflicts, c.Failed, c.Pending)
		}
		if f.Error != "" {
			fmt.Fprintf(&b, "\n      %s", f.Error)
		}
		if f.MovedTo != "" {
			fmt.Fprintf(&b, "\n      moved to %s", f.MovedTo)
		}
		fmt.Fprintln(&b)
	}
	c := s.Counts
	line := func(label string, v any) { fmt.Fprintf(&b, "  %-36s %v\n", label, v) }
	line("files", len(s.Files))
	line("rows", c.Rows)
	line("registered", c.Registered)
	line("PDFs attached", c.PDFsAttached)
	line("registered without PDF", c.NoPDF)
	line("skipped: already imported", c.AlreadyImported)
	line("skipped: same file already imported", s.SameFile)
	line("conflicts (not sent)", c.Conflicts)
	line("rejected", c.Rejected)
	line("in doubt, resolved", c.InDoubtResolved)
	line("resumed: PDFs of an earlier run", c.Resumed)
	line("failed (a rerun resumes)", c.Failed)
	line("pending: in doubt or elsewhere", c.Pending)
	line("API calls", s.APICalls)
	line("elapsed", s.Elapsed.Round(time.Millisecond))
	if len(s.Reasons) > 0 {
		fmt.Fprintln(&b, "Rejections by reason:")
		keys := slices.SortedFunc(maps.Keys(s.Reasons), func(x, y string) int {
			if d := s.Reasons[y] - s.Reasons[x]; d != 0 {
				return d
			}
			return strings.Compare(x, y)
		})
		for _, k := range keys {
			fmt.Fprintf(&b, "  %5d  %s\n", s.Reasons[k], k)
		}
	}
	if s.Cancelled {
		fmt.Fprintln(&b, "Interrupted: what was not done is left for the next run.")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
