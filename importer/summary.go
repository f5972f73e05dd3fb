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
	"github.com/amili-import/amili-import/source"
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
	// Waiting are the matching files the source held back (not complete yet: min_age, a
	// done-marker missing); a later run takes them.
	Waiting []source.Waiting
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
	type waiting struct {
		Name       string     `json:"name"`
		Reason     string     `json:"reason"`
		Why        string     `json:"why"`
		EligibleAt *time.Time `json:"eligible_at,omitempty"`
	}
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
		Waiting        []waiting      `json:"waiting"`
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
		Waiting:        []waiting{},
	}
	if out.Reasons == nil {
		out.Reasons = map[string]int{}
	}
	for _, f := range s.Files {
		out.Files = append(out.Files, file{f.Name, string(f.Outcome), f.Counts, f.Error, f.MovedTo})
	}
	for _, w := range s.Waiting {
		ww := waiting{Name: w.Name, Reason: w.Reason, Why: w.Why}
		if !w.EligibleAt.IsZero() {
			ww.EligibleAt = &w.EligibleAt
		}
		out.Waiting = append(out.Waiting, ww)
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

// waitingLines sum up the files held back, one line per reason: "1 file not yet eligible
// (min_age), eligible at 08:12:03 CET", with the earliest time when there are several.
func waitingLines(ws []source.Waiting) []string {
	var out []string
	for _, reason := range []string{source.WaitMinAge, source.WaitDoneMarker} {
		n := 0
		var first time.Time
		for _, w := range ws {
			if w.Reason != reason {
				continue
			}
			n++
			if !w.EligibleAt.IsZero() && (first.IsZero() || w.EligibleAt.Before(first)) {
				first = w.EligibleAt
			}
		}
		if n == 0 {
			continue
		}
		l := fmt.Sprintf("%d file not yet eligible (%s)", n, reason)
		if n > 1 {
			l = fmt.Sprintf("%d files not yet eligible (%s)", n, reason)
		}
		switch {
		case !first.IsZero() && n == 1:
			l += ", eligible at " + clock(first)
		case !first.IsZero():
			l += ", the first eligible at " + clock(first)
		case reason == source.WaitDoneMarker:
			l += ", taken when the done-marker is there"
		}
		out = append(out, l)
	}
	return out
}

// clock is a moment for the summary: the time of day with its zone, and the date too when it
// is not today.
func clock(t time.Time) string {
	if now := time.Now().In(t.Location()); t.Format(time.DateOnly) != now.Format(time.DateOnly) {
		return t.Format("2006-01-02 15:04:05 MST")
	}
	return t.Format("15:04:05 MST")
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
	for _, w := range s.Waiting {
		fmt.Fprintf(&b, "  %-40s %-9s %s", w.Name, "waiting", w.Why)
		if !w.EligibleAt.IsZero() {
			fmt.Fprintf(&b, "; eligible at %s", clock(w.EligibleAt))
		}
		fmt.Fprintln(&b)
	}
	for _, l := range waitingLines(s.Waiting) {
		fmt.Fprintf(&b, "  %s\n", l)
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
