package report

import (
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// nextPeriod is the day after the fixture's period.
func nextPeriod() Period {
	return Period{Since: periodUntil, Until: periodUntil.AddDate(0, 0, 1)}
}

func (f *fixture) build(p Period) *Report {
	f.t.Helper()
	r, err := Build(f.ctx, f.led, f.client, p, BuildOptions{Location: stockholm})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func registeredLines(r *Report, number string) int {
	n := 0
	for _, g := range r.Registrations {
		if g.InvoiceNumber == number && !pendingState(ledger.State(g.State)) {
			n++
		}
	}
	return n
}

// An invoice claimed and sent before a period boundary, cut short by a kill and resumed after
// it, is registered in exactly one period: the one in which the ledger recorded it registered.
func TestRegistrationBelongsToOnePeriod(t *testing.T) {
	f := newFixture(t)
	done := item{creditor: f.sb.Creditor, number: "P-1", customer: "A", amount: 10_000}
	cut := item{creditor: f.sb.Creditor, number: "P-2", customer: "B", amount: 33_548}
	a := f.file("a.csv")
	f.register(a, 2, done, pdfUpload)
	if _, err := f.led.MarkSending(f.ctx, f.claim(a, 3, cut).Submission.ID, ""); err != nil {
		t.Fatal(err)
	}
	// The kill: the run never finishes. The next run starts after the boundary.
	f.clock.Advance(24 * time.Hour)
	var err error
	if f.run, err = f.led.StartRun(f.ctx, "invoices"); err != nil {
		t.Fatal(err)
	}
	again := f.file("a.csv")
	f.claim(again, 2, done)
	c := f.claim(again, 3, cut)
	regID, caseID, ocr := f.sandboxCase(cut, cut.amount)
	if err := f.led.MarkRegistered(f.ctx, c.Submission.ID, ledger.Registered{RegistrationID: regID,
		Cases: []ledger.CaseRef{{CaseID: caseID, OCRNumber: ocr}}}); err != nil {
		t.Fatal(err)
	}
	f.pdf(c.Submission.ID, caseID, pdfUpload)
	f.finish(again, domain.Counts{})

	first, second := f.build(f.period("")), f.build(nextPeriod())
	t.Logf("P-2 registered in the first report %d time(s), in the second %d time(s)",
		registeredLines(first, "P-2"), registeredLines(second, "P-2"))
	if got := registeredLines(first, "P-2") + registeredLines(second, "P-2"); got != 1 {
		t.Errorf("P-2 listed as registered %d times over the two reports, want 1", got)
	}
	if got := registeredLines(second, "P-2"); got != 1 {
		t.Errorf("P-2 registered in the second period's report %d times, want 1 (it was recorded registered then)", got)
	}
	for _, r := range []*Report{first, second} {
		for _, tot := range r.Totals {
			if tot.Balance() != 0 {
				t.Errorf("period %s: balance %s, want 0", r.Period.Since.Format(time.DateOnly), tot.Balance())
			}
		}
	}
}

// A file that took two runs is one file: listed once, its rows counted once in its total,
// and nothing of it counted as already imported.
func TestFileOfTwoRunsCountedOnce(t *testing.T) {
	f := newFixture(t)
	items := []item{
		{creditor: f.sb.Creditor, number: "T-1", customer: "A", amount: 500_000},
		{creditor: f.sb.Creditor, number: "T-2", customer: "B", amount: 235_630},
		{creditor: f.sb.Creditor, number: "T-3", customer: "C", amount: 807_588},
	}
	a := f.file("big.csv")
	f.register(a, 2, items[0], pdfUpload) // killed after the first invoice
	var err error
	if f.run, err = f.led.StartRun(f.ctx, "invoices"); err != nil {
		t.Fatal(err)
	}
	again := f.file("big.csv")
	f.claim(again, 2, items[0])
	f.register(again, 3, items[1], pdfUpload)
	f.register(again, 4, items[2], pdfUpload)
	f.finish(again, domain.Counts{})

	r := f.build(f.period(""))
	var fileTotal, already domain.Amount
	for _, tot := range r.Totals {
		fileTotal += tot.File
		already += tot.AlreadyImported
	}
	t.Logf("file total %s, already imported %s, files listed %d", fileTotal, already, len(r.Files))
	if want := domain.Amount(1_543_218); fileTotal != want {
		t.Errorf("file total %s, want %s (the file's own total)", fileTotal, want)
	}
	if already != 0 {
		t.Errorf("already imported %s, want 0: only an earlier file imports anything already", already)
	}
	if len(r.Files) != 1 {
		t.Errorf("files listed %d, want 1", len(r.Files))
	}
}

// Changing one debt of a case registration: every debt the conflicts total counts is listed
// as a conflict line with its amount.
func TestConflictTotalTiesToLines(t *testing.T) {
	f := newFixture(t)
	debts := []item{
		{creditor: f.sb.Creditor, number: "K-1", customer: "A", amount: 1_000},
		{creditor: f.sb.Creditor, number: "K-2", customer: "A", amount: 2_000},
		{creditor: f.sb.Creditor, number: "K-3", customer: "A", amount: 4_000},
	}
	claimCase := func(file ledger.FileID, its []item) ledger.Claim {
		t.Helper()
		f.clock.Advance(time.Second)
		var ms []domain.Item
		for _, it := range its {
			ms = append(ms, it.mapping())
		}
		c, err := f.led.Claim(f.ctx, ledger.ClaimRequest{Run: f.run, File: file, Line: 2, Kind: domain.KindCase,
			Creditor: f.sb.Creditor, Items: ms})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := f.file("cases.csv")
	c := claimCase(a, debts)
	if _, err := f.led.MarkSending(f.ctx, c.Submission.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.led.MarkRegistered(f.ctx, c.Submission.ID, ledger.Registered{RegistrationID: "r1",
		Cases: []ledger.CaseRef{{CaseID: "c1"}, {CaseID: "c2"}, {CaseID: "c3"}}}); err != nil {
		t.Fatal(err)
	}
	changed := append([]item(nil), debts...)
	changed[1].amount, changed[1].contentTag = 2_500, "changed"
	b := f.file("cases-changed.csv")
	if got := claimCase(b, changed); got.Outcome != ledger.ClaimConflict {
		t.Fatalf("outcome %v, want conflict", got.Outcome)
	}

	r := f.build(f.period(""))
	var total, listed domain.Amount
	for _, tot := range r.Totals {
		total += tot.Conflicts
	}
	lines := 0
	for _, p := range r.Problems {
		if p.Kind != ProblemConflict {
			continue
		}
		lines++
		if !p.HasAmount {
			t.Errorf("conflict line %s has no amount", p.InvoiceNumber)
		}
		listed += p.Amount
	}
	t.Logf("conflicts total %s, %d conflict lines adding up to %s", total, lines, listed)
	if total != listed || lines != 3 {
		t.Errorf("conflicts total %s, lines %d adding up to %s; want the three debts listed and the total equal to them", total, lines, listed)
	}
}
