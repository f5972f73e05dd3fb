package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// BuildOptions tune Build. The zero value shows times in UTC and stamps the report with
// time.Now.
type BuildOptions struct {
	Location *time.Location
	Now      func() time.Time
}

// Build gathers one period's report from the ledger and from Amili. It fails when Amili cannot
// be read: a report without Amili's view would let a missing case go unnoticed.
func Build(ctx context.Context, st Store, cases Cases, p Period, opts BuildOptions) (*Report, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if !p.Until.After(p.Since) {
		return nil, fmt.Errorf("build report: empty period %s – %s", p.Since.Format(time.RFC3339), p.Until.Format(time.RFC3339))
	}
	r := &Report{Period: p, Location: opts.Location, Generated: opts.Now().In(opts.Location)}
	b := &builder{r: r, st: st, p: p, fileByID: map[ledger.FileID]ledger.FileInfo{},
		runCred: map[ledger.RunID]string{}, fileCred: map[ledger.FileID]string{}}
	if err := b.load(ctx); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	b.files()
	b.registrations()
	if err := b.totals(ctx); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	if err := b.problems(ctx); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	if err := b.carriedOver(ctx); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	if err := r.readCases(ctx, cases); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	r.Days = days(r)
	return r, nil
}

// builder holds what the ledger said while the report is put together.
type builder struct {
	r        *Report
	st       Store
	p        Period
	files_   []ledger.FileInfo
	fileByID map[ledger.FileID]ledger.FileInfo
	subs     []ledger.Submission     // touched by the runs that read the period's files
	runCred  map[ledger.RunID]string // "" when a run touched several creditors
	fileCred map[ledger.FileID]string
	conf     []ledger.Conflict
}

// load reads the period's files, the submissions their runs claimed, and the conflicts.
func (b *builder) load(ctx context.Context) error {
	files, err := b.st.Files(ctx, ledger.FileFilter{FirstSeen: b.p.ledger()})
	if err != nil {
		return err
	}
	b.files_ = files
	var runs []ledger.RunID
	for _, f := range files {
		b.fileByID[f.ID] = f
		if f.Run != 0 && !slices.Contains(runs, f.Run) {
			runs = append(runs, f.Run)
		}
	}
	seen := map[ledger.SubmissionID]bool{}
	for _, run := range runs {
		subs, err := b.st.Submissions(ctx, ledger.SubmissionFilter{Run: run})
		if err != nil {
			return err
		}
		for i, s := range subs {
			// A job has one creditor, so the submissions of a run name the run's creditor.
			if i == 0 {
				b.runCred[run] = s.Creditor
			} else if b.runCred[run] != s.Creditor {
				b.runCred[run] = ""
			}
			if _, ok := b.fileByID[s.FileID]; ok && b.fileCred[s.FileID] == "" {
				b.fileCred[s.FileID] = s.Creditor
			}
			if !seen[s.ID] {
				seen[s.ID] = true
				b.subs = append(b.subs, s)
			}
		}
	}
	slices.SortFunc(b.subs, func(a, c ledger.Submission) int { return cmp.Compare(a.ID, c.ID) })
	if b.conf, err = b.st.Conflicts(ctx, b.p.ledger(), ""); err != nil {
		return err
	}
	for _, c := range b.conf {
		if b.fileCred[c.File] == "" {
			b.fileCred[c.File] = c.Creditor
		}
	}
	return nil
}

// creditorOf is the creditor a file was imported for: the creditor of the submissions first
// claimed from it, else of its conflicts, else of its run; "" when nothing in the ledger says.
func (b *builder) creditorOf(id ledger.FileID) string {
	if c := b.fileCred[id]; c != "" {
		return c
	}
	if f, ok := b.fileByID[id]; ok {
		return b.runCred[f.Run]
	}
	return ""
}

// wanted reports whether a creditor belongs in the report.
func (b *builder) wanted(creditor string) bool {
	return b.p.Creditor == "" || creditor == b.p.Creditor
}

func (b *builder) fileName(id ledger.FileID) string {
	if f, ok := b.fileByID[id]; ok {
		return f.Path
	}
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("file #%d", id)
}

func (b *builder) files() {
	for _, f := range b.files_ {
		c := b.creditorOf(f.ID)
		if c != "" && !b.wanted(c) {
			continue
		}
		b.r.Files = append(b.r.Files, File{
			Name: f.Path, Creditor: c, Received: f.FirstSeen.In(b.r.Location), Outcome: string(f.Outcome),
			Rows: f.Counts.Rows, Registered: f.Counts.Registered, AlreadyImported: f.Counts.AlreadyImported,
			Rejected: f.Counts.Rejected, Conflicts: f.Counts.Conflicts, PDFsAttached: f.Counts.PDFsAttached,
			Error: f.Error,
		})
	}
}

func registeredState(s ledger.State) bool {
	return s == ledger.StateRegistered || s == ledger.StateUploaded || s == ledger.StateNoPDF
}

func pendingState(s ledger.State) bool {
	return s == ledger.StateClaimed || s == ledger.StateSending
}

func (b *builder) inPeriod(t time.Time) bool {
	return !t.Before(b.p.Since) && t.Before(b.p.Until)
}

// registrations lists the items registered from the period's files or registered in the
// period after a resume, then those still pending. An item merely seen again (already
// imported) is not listed: it was listed in the period it was registered.
func (b *builder) registrations() {
	var pending []Registration
	for _, s := range b.subs {
		if !b.wanted(s.Creditor) {
			continue
		}
		_, fromPeriod := b.fileByID[s.FileID]
		switch {
		case registeredState(s.State) && (fromPeriod || b.inPeriod(s.Updated)):
			b.r.Registrations = append(b.r.Registrations, b.itemRows(s)...)
		case pendingState(s.State):
			pending = append(pending, b.itemRows(s)...)
		}
	}
	b.r.Registrations = append(b.r.Registrations, pending...)
}

func (b *builder) itemRows(s ledger.Submission) []Registration {
	out := make([]Registration, 0, len(s.Items))
	for _, it := range s.Items {
		out = append(out, Registration{
			Creditor: s.Creditor, InvoiceNumber: it.InvoiceNumber, CustomerName: it.CustomerName,
			Amount: it.Amount, Currency: it.Currency, InvoiceID: s.InvoiceID, CaseID: it.CaseID,
			OCRNumber: it.OCRNumber, PDF: string(it.PDFState), State: string(s.State),
			File: b.fileName(s.FileID), Line: s.Line, At: s.Updated.In(b.r.Location),
		})
	}
	return out
}

type key struct{ creditor, currency string }

// totals puts the file side (what the period's files claimed) against the buckets.
func (b *builder) totals(ctx context.Context) error {
	m := map[key]*Total{}
	fileDone := map[key]domain.Amount{}
	get := func(k key) *Total {
		t := m[k]
		if t == nil {
			t = &Total{Creditor: k.creditor, Currency: k.currency}
			m[k] = t
		}
		return t
	}
	for _, f := range b.files_ {
		c := b.creditorOf(f.ID)
		if !b.wanted(c) {
			continue
		}
		for _, mt := range f.Totals {
			if mt.Outcome == "resume" || mt.Outcome == "in_doubt" {
				// Seen again after a crash or a transient failure: the item's first claim
				// counts it, or, when that was before the period, the loop below.
				continue
			}
			get(key{c, mt.Currency}).File += mt.Amount
			if mt.Outcome == "done" {
				fileDone[key{c, mt.Currency}] += mt.Amount
			}
		}
	}
	// Items first claimed before the period and resumed in it count once on the file side,
	// as they do once in the registered, pending or rejected bucket.
	for _, s := range b.subs {
		if _, fromPeriod := b.fileByID[s.FileID]; fromPeriod || !b.wanted(s.Creditor) {
			continue
		}
		if pendingState(s.State) || (registeredState(s.State) || s.State == ledger.StateRejected) && b.inPeriod(s.Updated) {
			for _, it := range s.Items {
				get(key{s.Creditor, it.Currency}).File += it.Amount
			}
		}
	}
	for _, g := range b.r.Registrations {
		t := get(key{g.Creditor, g.Currency})
		if pendingState(ledger.State(g.State)) {
			t.Pending += g.Amount
		} else {
			t.Registered += g.Amount
		}
	}
	lt, err := b.st.Totals(ctx, b.p.ledger(), b.p.Creditor)
	if err != nil {
		return err
	}
	for _, x := range lt {
		t := get(key{x.Creditor, x.Currency})
		t.AlreadyImported = x.AlreadyImported.Amount
		t.Rejected = x.Rejected.Amount
		t.Conflicts = x.Conflict.Amount
		t.LedgerRegistered = x.Registered.Amount
	}
	// A row refused earlier and seen again with the same content is claimed "done", but the
	// ledger does not count it as already imported: it was refused again, so it counts as
	// rejected.
	for k, done := range fileDone {
		if t := get(k); done > t.AlreadyImported {
			t.Rejected += done - t.AlreadyImported
		}
	}
	for _, t := range m {
		b.r.Totals = append(b.r.Totals, *t)
	}
	slices.SortFunc(b.r.Totals, func(a, c Total) int {
		return cmp.Or(cmp.Compare(a.Creditor, c.Creditor), cmp.Compare(a.Currency, c.Currency))
	})
	return nil
}

// problems lists what a person must act on: row errors, rejections, conflicts.
func (b *builder) problems(ctx context.Context) error {
	rowErrs, err := b.st.RowErrors(ctx, b.p.ledger())
	if err != nil {
		return err
	}
	for _, e := range rowErrs {
		if c := b.creditorOf(e.FileID); c != "" && !b.wanted(c) {
			continue
		}
		kind := ProblemRowError
		if e.Warning {
			kind = ProblemWarning
		}
		b.r.Problems = append(b.r.Problems, Problem{Kind: kind, Creditor: b.creditorOf(e.FileID), File: e.File, Line: e.Line, Column: e.Column,
			Value: e.Value, Rule: e.Rule, InvoiceNumber: e.InvoiceNumber})
	}
	for _, s := range b.subs {
		if s.State != ledger.StateRejected || !b.wanted(s.Creditor) {
			continue
		}
		rule := s.LastError
		if !b.inPeriod(s.Updated) {
			rule = "seen again, refused before: " + rule
		}
		for _, it := range s.Items {
			b.r.Problems = append(b.r.Problems, Problem{Kind: ProblemRejected, Creditor: s.Creditor, File: b.fileName(s.FileID), Line: s.Line,
				Rule: rule, InvoiceNumber: it.InvoiceNumber, Amount: it.Amount, Currency: it.Currency, HasAmount: true})
		}
	}
	for _, c := range b.conf {
		if !b.wanted(c.Creditor) {
			continue
		}
		name := c.FilePath
		if name == "" {
			name = b.fileName(c.File)
		}
		b.r.Problems = append(b.r.Problems, Problem{Kind: ProblemConflict, Creditor: c.Creditor, File: name, Line: c.Line, Rule: c.Reason,
			InvoiceNumber: c.InvoiceNumber, OldHash: c.OldHash, NewHash: c.NewHash})
	}
	return nil
}

// carriedOver lists items claimed before the period that are still pending and that no run of
// the period touched.
func (b *builder) carriedOver(ctx context.Context) error {
	subs, err := b.st.Submissions(ctx, ledger.SubmissionFilter{
		States: []ledger.State{ledger.StateClaimed, ledger.StateSending}, Creditor: b.p.Creditor,
		Created: ledger.Period{Until: b.p.Since},
	})
	if err != nil {
		return err
	}
	touched := map[ledger.SubmissionID]bool{}
	for _, s := range b.subs {
		touched[s.ID] = true
	}
	for _, s := range subs {
		if !touched[s.ID] {
			b.r.CarriedOver = append(b.r.CarriedOver, b.itemRows(s)...)
		}
	}
	return nil
}

// days buckets the registered items by calendar day in the report's zone, every day of the
// period from the first to the last (at most 62 bars; longer periods show only busy days).
func days(r *Report) []Day {
	cur := r.ChartCurrency()
	byDay := map[time.Time]*Day{}
	dayOf := func(t time.Time) time.Time {
		t = t.In(r.Location)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, r.Location)
	}
	for _, g := range r.Registrations {
		if pendingState(ledger.State(g.State)) {
			continue
		}
		d := dayOf(g.At)
		if byDay[d] == nil {
			byDay[d] = &Day{Date: d}
		}
		byDay[d].Count++
		if g.Currency == cur {
			byDay[d].Amount += g.Amount
		}
	}
	first, last := dayOf(r.Period.Since), dayOf(r.Period.Until.Add(-time.Nanosecond))
	var out []Day
	if last.Sub(first) <= 62*24*time.Hour {
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			if x := byDay[d]; x != nil {
				out = append(out, *x)
			} else {
				out = append(out, Day{Date: d})
			}
		}
		return out
	}
	for _, x := range byDay {
		out = append(out, *x)
	}
	slices.SortFunc(out, func(a, c Day) int { return a.Date.Compare(c.Date) })
	return out
}
