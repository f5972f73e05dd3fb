package ledger

import (
	"context"
	"testing"
)

// TestSettled tells the rows a Claim would answer ClaimDone, without writing anything.
func TestSettled(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	done := invoiceReq(0, 0, "S-1", "hash-1", 100)
	open := invoiceReq(0, 0, "S-2", "hash-2", 200)
	cs, err := l.ClaimBatch(ctx, []ClaimRequest{done, open})
	if err != nil {
		t.Fatal(err)
	}
	id := cs[0].Submission.ID
	if err := l.MarkSending(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkRegistered(ctx, id, Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.MarkPDF(ctx, id, 0, PDFMissing, "no PDF"); err != nil {
		t.Fatal(err)
	}
	otherContent := invoiceReq(0, 0, "S-1", "hash-changed", 100)
	unknown := invoiceReq(0, 0, "S-3", "hash-3", 300)
	got, err := l.Settled(ctx, []ClaimRequest{done, open, otherContent, unknown})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: settled = %v, want %v", i, got[i], want[i])
		}
	}
	// Settled is a read: the claimed row is still only claimed, and a Claim agrees with it.
	c, err := l.Claim(ctx, done)
	if err != nil || c.Outcome != ClaimDone {
		t.Errorf("claim after Settled: %v %v, want done", c.Outcome, err)
	}
}
