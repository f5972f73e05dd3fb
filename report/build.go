package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/amili-import/amili-import/internal/redact"
	"github.com/amili-import/amili-import/ledger"
)

// BuildOptions tune Build. The zero value shows times in UTC and stamps the report with
// time.Now.
type BuildOptions struct {
	Location *time.Location
	Now      func() time.Time
}

// Build gathers one period's report from the ledger's history up to the period's end and from
// Amili's view now. It fails when Amili cannot be read: a report without Amili's view would let
// a missing case go unnoticed.
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
	bk, err := readBook(ctx, st, p.Until)
	if err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	b := &builder{r: r, bk: bk, p: p, totals: map[key]*Total{}}
	b.registrationLines()
	b.versionLines()
	b.rowLines()
	b.rowErrors()
	b.files()
	b.cleanTexts()
	b.sortLines()
	r.vatTotals()
	if err := r.readCases(ctx, cases); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	if err := r.creditorNames(ctx, st, cases); err != nil {
		return nil, fmt.Errorf("build report: %w", err)
	}
	r.Days = days(r, bk)
	return r, nil
}

// builder puts one period's report together from the book.
type builder struct {
	r      *Report
	bk     *book
	p      Period
	totals map[key]*Total
}

type key struct{ creditor, currency string }

func (b *builder) total(creditor, currency string) *Total {
	k := key{creditor, currency}
	t := b.totals[k]
	if t == nil {
		t = &Total{Creditor: creditor, Currency: currency}
		b.totals[k] = t
	}
	return t
}

// wanted reports whether a creditor belongs in the report.
func (b *builder) wanted(creditor string) bool {
	return b.p.Creditor == "" || creditor == b.p.Creditor
}

func (b *builder) inPeriod(t time.Time) bool {
	return !t.Before(b.p.Since) && t.Before(b.p.Until)
}

func registeredState(s ledger.State) bool {
	return s == ledger.StateRegistered || s == ledger.StateUploaded || s == ledger.StateNoPDF
}

func pendingState(s ledger.State) bool {
	return s == ledger.StateClaimed || s == ledger.StateSending
}

// fileName names a file for a person: its path as the ledger records it, the ledger's id only
// beside a description when the ledger holds no such file.
func (b *builder) fileName(id ledger.FileID) string {
	if f, ok := b.bk.files[id]; ok {
		return f.Path
	}
	if p, ok := b.bk.later[id]; ok {
		return p
	}
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("a file the ledger does not hold (id %d)", id)
}

// versionLines lists what each content of each invoice number did in the period: rejected, or
// still pending at the period's end; and what was pending at its start.
func (b *builder) versionLines() {
	for _, v := range b.bk.versions {
		o := v.origin
		if !b.wanted(o.Creditor) {
			continue
		}
		t := b.total(o.Creditor, o.Currency)
		forward := o.At.Before(b.p.Since)
		if forward && (v.end == nil || !v.end.At.Before(b.p.Since)) {
			t.BroughtForward += o.Amount
		}
		switch {
		case v.end == nil:
			b.r.Pending = append(b.r.Pending, b.line(v, o.At, b.pendingState(v)))
			t.Pending += o.Amount
		case b.inPeriod(v.end.At) && !v.registered():
			b.r.Problems = append(b.r.Problems, b.rejected(v, v.end.At, reason(v.end)))
			t.Rejected += o.Amount
		}
	}
}

// registrationLines lists the items of every submission the ledger recorded registered in the
// period. They come from the state history, the file side from the claims record: a
// registration whose claim went missing shows as a balance that is not zero.
func (b *builder) registrationLines() {
	for i := range b.bk.moves {
		m := &b.bk.moves[i]
		s, ok := b.bk.subs[m.Submission]
		if m.To != ledger.StateRegistered || !b.inPeriod(m.At) || !ok || !b.wanted(s.Creditor) {
			continue
		}
		for pos, it := range s.Items {
			g := b.registeredLine(m, s, pos, it)
			b.r.Registrations = append(b.r.Registrations, g)
			b.total(s.Creditor, it.Currency).Registered += it.Amount
		}
	}
}

func (b *builder) registeredLine(m *ledger.Transition, s ledger.Submission, pos int, it ledger.SubmissionItem) Registration {
	state := string(ledger.StateRegistered)
	if registeredState(s.State) {
		state = string(s.State)
	}
	g := Registration{Creditor: s.Creditor, InvoiceNumber: it.InvoiceNumber, CustomerName: it.CustomerName,
		Amount: it.Amount, Currency: it.Currency, InvoiceID: s.InvoiceID, CaseID: it.CaseID, OCRNumber: it.OCRNumber,
		PDF: string(it.PDFState), State: state, File: b.fileName(s.FileID), Line: s.Line, At: m.At.In(b.r.Location),
		content: b.bk.content(s.FileID)}
	for _, v := range b.bk.byEnd[m.ID] {
		if v.pos == pos {
			g.File, g.Line, g.content = b.fileName(v.origin.File), v.origin.Line, b.bk.content(v.origin.File)
			g.Claimed, g.BroughtForward = v.origin.At.In(b.r.Location), v.origin.At.Before(b.p.Since)
			g.vat = v.origin.VAT
		}
	}
	return g
}

// reason is Amili's (or the PDF rule's) reason kept with a rejection.
func reason(t *ledger.Transition) string {
	r, _ := strings.CutPrefix(t.Detail, "rejected: ")
	return r
}

// pendingState is where a pending item stands now: claimed or sending, or, when it has since
// moved on, the state it had (claimed) at the period's end.
func (b *builder) pendingState(v *version) string {
	s := b.bk.subs[v.origin.Submission]
	if pendingState(s.State) {
		return string(s.State)
	}
	return string(ledger.StateClaimed)
}

// line is one item of a version on a money line.
func (b *builder) line(v *version, at time.Time, state string) Registration {
	o := v.origin
	s := b.bk.subs[o.Submission]
	var it ledger.SubmissionItem
	if v.pos < len(s.Items) {
		it = s.Items[v.pos]
	}
	g := Registration{Creditor: o.Creditor, InvoiceNumber: o.InvoiceNumber, CustomerName: it.CustomerName,
		Amount: o.Amount, Currency: o.Currency, State: state, File: b.fileName(o.File), Line: o.Line,
		At: at.In(b.r.Location), Claimed: o.At.In(b.r.Location), BroughtForward: o.At.Before(b.p.Since),
		content: b.bk.content(o.File), PDF: string(ledger.PDFPending)}
	return g
}

func (b *builder) rejected(v *version, at time.Time, rule string) Problem {
	o := v.origin
	return Problem{Kind: ProblemRejected, Creditor: o.Creditor, File: b.fileName(o.File), Line: o.Line, Rule: rule,
		InvoiceNumber: o.InvoiceNumber, Amount: o.Amount, Currency: o.Currency, HasAmount: true,
		At: at.In(b.r.Location), content: b.bk.content(o.File), BroughtForward: o.At.Before(b.p.Since)}
}

// rowLines counts the period's file rows in the file total, and lists those that brought no
// version of their own: already imported by an earlier file, refused before, in conflict.
func (b *builder) rowLines() {
	for _, row := range b.bk.rows {
		c := row.claim
		if !b.wanted(c.Creditor) || !b.inPeriod(c.At) {
			continue
		}
		t := b.total(c.Creditor, c.Currency)
		t.File += c.Amount
		switch row.kind {
		case rowAlready:
			b.r.AlreadyImported = append(b.r.AlreadyImported, b.alreadyLine(row))
			t.AlreadyImported += c.Amount
		case rowRefused:
			rule := "seen again, refused before"
			if row.version != nil && row.version.end != nil {
				rule += ": " + reason(row.version.end)
			}
			b.r.Problems = append(b.r.Problems, Problem{Kind: ProblemRejected, Creditor: c.Creditor, File: b.fileName(c.File),
				Line: c.Line, Rule: rule, InvoiceNumber: c.InvoiceNumber, Amount: c.Amount, Currency: c.Currency,
				HasAmount: true, At: c.At.In(b.r.Location), content: b.bk.content(c.File)})
			t.Rejected += c.Amount
		case rowConflict:
			b.r.Problems = append(b.r.Problems, b.conflict(c))
			t.Conflicts += c.Amount
		}
	}
}

func (b *builder) alreadyLine(row *fileRow) Registration {
	c := row.claim
	g := Registration{Creditor: c.Creditor, InvoiceNumber: c.InvoiceNumber, Amount: c.Amount, Currency: c.Currency,
		State: string(c.State), File: b.fileName(c.File), Line: c.Line, At: c.At.In(b.r.Location),
		Claimed: c.At.In(b.r.Location), content: b.bk.content(c.File)}
	if row.version != nil {
		s := b.bk.subs[c.Submission]
		if row.version.pos < len(s.Items) {
			it := s.Items[row.version.pos]
			g.CustomerName, g.CaseID, g.OCRNumber, g.PDF = it.CustomerName, it.CaseID, it.OCRNumber, string(it.PDFState)
		}
		g.InvoiceID = s.InvoiceID
	}
	return g
}

// conflict is a conflict line with its amount. The ledger keeps both hashes for the items whose
// content differs; the other items of the same registration are held back with them.
func (b *builder) conflict(c ledger.ClaimRecord) Problem {
	p := Problem{Kind: ProblemConflict, Creditor: c.Creditor, File: b.fileName(c.File), Line: c.Line,
		InvoiceNumber: c.InvoiceNumber, Amount: c.Amount, Currency: c.Currency, HasAmount: true,
		At: c.At.In(b.r.Location), content: b.bk.content(c.File),
		Rule: "not sent: another item of the same registration conflicts"}
	if k, ok := b.bk.conflicts[conflictKey{c.File, c.InvoiceNumber, c.At}]; ok {
		p.Rule, p.OldHash, p.NewHash = k.Reason, k.OldHash, k.NewHash
	}
	return p
}

// rowErrors lists the rows refused by validation whose first record is in the period.
func (b *builder) rowErrors() {
	for _, e := range b.bk.rowErrors {
		if !b.inPeriod(e.At) {
			continue
		}
		c := b.creditorOf(b.bk.content(e.FileID))
		if c != "" && !b.wanted(c) {
			continue
		}
		kind := ProblemRowError
		if e.Warning {
			kind = ProblemWarning
		}
		b.r.Problems = append(b.r.Problems, Problem{Kind: kind, Creditor: c, File: e.File, Line: e.Line, Column: e.Column,
			Value: e.Value, Rule: e.Rule, InvoiceNumber: e.InvoiceNumber, At: e.At.In(b.r.Location),
			content: b.bk.content(e.FileID)})
	}
}

// cleanTexts masks identity numbers in, and bounds, every stored text the report shows (Amili's
// reasons, rules, values, file errors): both report.html and report.csv are made from these. The
// ledger masks what it stores, but a ledger written by an older version may hold whole numbers.
func (b *builder) cleanTexts() {
	for i := range b.r.Problems {
		p := &b.r.Problems[i]
		p.Rule, p.Value = redact.Text(p.Rule), redact.Text(p.Value)
	}
	for i := range b.r.Files {
		b.r.Files[i].Error = redact.Text(b.r.Files[i].Error)
	}
}

// creditorOf is the creditor a file content was imported for: that of its first claim, else of
// a conflict it raised; "" when nothing in the ledger says.
func (b *builder) creditorOf(content string) string { return b.bk.creditors[content] }

// sortLines puts the lines in a stable order and the totals by creditor and currency.
func (b *builder) sortLines() {
	byPlace := func(a, c Registration) int {
		return cmp.Or(a.At.Compare(c.At), cmp.Compare(a.File, c.File), cmp.Compare(a.Line, c.Line),
			cmp.Compare(a.InvoiceNumber, c.InvoiceNumber))
	}
	slices.SortStableFunc(b.r.Registrations, byPlace)
	slices.SortStableFunc(b.r.AlreadyImported, byPlace)
	slices.SortStableFunc(b.r.Pending, byPlace)
	kindOrder := map[string]int{ProblemRowError: 0, ProblemWarning: 0, ProblemRejected: 1, ProblemConflict: 2}
	slices.SortStableFunc(b.r.Problems, func(a, c Problem) int {
		return cmp.Or(cmp.Compare(kindOrder[a.Kind], kindOrder[c.Kind]), a.At.Compare(c.At),
			cmp.Compare(a.File, c.File), cmp.Compare(a.Line, c.Line))
	})
	for _, t := range b.totals {
		if *t == (Total{Creditor: t.Creditor, Currency: t.Currency}) {
			continue // nothing of it moved in the period
		}
		b.r.Totals = append(b.r.Totals, *t)
	}
	slices.SortFunc(b.r.Totals, func(a, c Total) int {
		return cmp.Or(cmp.Compare(a.Creditor, c.Creditor), cmp.Compare(a.Currency, c.Currency))
	})
}
