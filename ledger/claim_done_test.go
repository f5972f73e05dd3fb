package ledger

import (
	"context"
	"testing"
)

// TestClaimDoneTellsDoneRows: ClaimDone answers true exactly for the rows a Claim would answer
// ClaimDone: same content, final state; not for an open one, changed content or an unknown one.
func TestClaimDoneTellsDoneRows(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	done := invoiceReq(0, 0, "S-1", "hash-1", 100)
	open := invoiceReq(0, 0, "S-2", "hash-2", 200)
	c, err := l.Claim(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, open); err != nil {
		t.Fatal(err)
	}
	id := c.Submission.ID
	if _, err := l.MarkSending(ctx, id, ""); err != nil {
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
	got, err := l.ClaimDone(ctx, []ClaimRequest{done, open, otherContent, unknown})
	if err != nil {
		t.Fatal(err)
	}
	want := []State{StateNoPDF, "", "", ""}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: done = %q, want %q", i, got[i], want[i])
		}
	}
	// The open row was left as it was: a Claim still resumes it; the done one stays done.
	if c, err := l.Claim(ctx, open); err != nil || c.Outcome != ClaimResume {
		t.Errorf("claim of the open row after ClaimDone: %v %v, want resume", c.Outcome, err)
	}
	if c, err := l.Claim(ctx, done); err != nil || c.Outcome != ClaimDone {
		t.Errorf("claim of the done row after ClaimDone: %v %v, want done", c.Outcome, err)
	}
}
