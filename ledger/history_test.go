package ledger

import (
	"context"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// The claims record and the state history are read back as they happened, cut at a moment; a
// new claim keeps the VAT split of its content.
func TestClaimRecordsAndTransitions(t *testing.T) {
	l, clk := mustOpenClock(t)
	ctx := context.Background()
	req := invoiceReq(0, 0, "H-1", "h1", 12_500)
	req.Items[0].VAT = []domain.VATPart{{Rate: "25%", Net: 10_000, VAT: 2_500}}
	c, err := l.Claim(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	cut := clk.Now()
	if _, err := l.MarkSending(ctx, c.Submission.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, invoiceReq(0, 0, "H-1", "h1", 12_500)); err != nil { // in doubt: no split kept
		t.Fatal(err)
	}
	all, err := l.ClaimRecords(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Outcome != "new" || all[1].Outcome != "in_doubt" {
		t.Fatalf("claims %+v, want new then in_doubt", all)
	}
	if len(all[0].VAT) != 1 || all[0].VAT[0] != req.Items[0].VAT[0] || all[1].VAT != nil {
		t.Errorf("VAT %+v and %+v, want the split on the new claim only", all[0].VAT, all[1].VAT)
	}
	early, err := l.ClaimRecords(ctx, cut)
	if err != nil || len(early) != 1 {
		t.Errorf("claims before the cut: %d (%v), want 1", len(early), err)
	}
	moves, err := l.Transitions(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(moves) != 2 || moves[0].To != StateClaimed || moves[1].From != StateClaimed || moves[1].To != StateSending {
		t.Errorf("transitions %+v, want claimed then sending", moves)
	}
	if before, _ := l.Transitions(ctx, cut); len(before) != 1 {
		t.Errorf("transitions before the cut: %d, want 1", len(before))
	}
}

func TestCreditorNames(t *testing.T) {
	l := MustOpen(t)
	ctx := context.Background()
	if _, _, ok, err := l.CreditorName(ctx, "c1"); ok || err != nil {
		t.Fatalf("name of an unknown creditor: ok %v, err %v", ok, err)
	}
	for _, n := range []string{"Old AB", "New AB"} {
		if err := l.SaveCreditorName(ctx, "c1", n); err != nil {
			t.Fatal(err)
		}
	}
	if name, at, ok, err := l.CreditorName(ctx, "c1"); !ok || err != nil || name != "New AB" || at.IsZero() {
		t.Errorf("got %q at %v (ok %v, %v), want the name saved last", name, at, ok, err)
	}
}

// Each event names its run by job and start time, so a person reading a history need not look
// the run's id up; an event of no run names none.
func TestEventsNameTheirRun(t *testing.T) {
	l, clk := mustOpenClock(t)
	ctx := context.Background()
	started := clk.Now()
	run, err := l.StartRun(ctx, "invoices")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	c, err := l.Claim(ctx, invoiceReq(run, 0, "R-1", "r1", 100))
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.Claim(ctx, invoiceReq(0, 0, "R-2", "r2", 100))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := l.Events(ctx, c.Submission.ID)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v (%v), want one", evs, err)
	}
	if got := evs[0]; got.Run != run || got.Job != "invoices" || !got.RunStarted.Equal(started) {
		t.Errorf("event run %d job %q started %v, want %d invoices %v", got.Run, got.Job, got.RunStarted, run, started)
	}
	evs, err = l.Events(ctx, other.Submission.ID)
	if err != nil || len(evs) != 1 || evs[0].Job != "" || !evs[0].RunStarted.IsZero() {
		t.Errorf("event of no run: %+v (%v), want no job and no start", evs, err)
	}
}
