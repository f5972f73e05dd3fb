package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

func TestClaimOutcomes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		state    State  // where the first claim is driven to ("" for nothing claimed before)
		hash     string // the second claim's content hash ("" for the same as the first)
		want     ClaimOutcome
		wantAfer State
	}{
		{"unknown", "", "", ClaimNew, StateClaimed},
		{"claimed same", StateClaimed, "", ClaimResume, StateClaimed},
		{"sending same", StateSending, "", ClaimInDoubt, StateSending},
		{"registered same", StateRegistered, "", ClaimResume, StateRegistered},
		{"uploaded same", StateUploaded, "", ClaimDone, StateUploaded},
		{"no_pdf same", StateNoPDF, "", ClaimDone, StateNoPDF},
		{"rejected same", StateRejected, "", ClaimDone, StateRejected},
		{"rejected corrected", StateRejected, "corrected", ClaimNew, StateClaimed},
		{"claimed other", StateClaimed, "other", ClaimConflict, StateClaimed},
		{"sending other", StateSending, "other", ClaimConflict, StateSending},
		{"registered other", StateRegistered, "other", ClaimConflict, StateRegistered},
		{"uploaded other", StateUploaded, "other", ClaimConflict, StateUploaded},
		{"no_pdf other", StateNoPDF, "other", ClaimConflict, StateNoPDF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := MustOpen(t)
			hash := "h-N1"
			if tt.state != "" {
				driveTo(t, l, "N1", tt.state)
			}
			if tt.hash != "" {
				hash = tt.hash
			}
			var before Submission
			if tt.state != "" {
				before, _ = l.Submission(ctx, 1)
			}
			c, err := l.Claim(ctx, invoiceReq(0, 0, "N1", hash, 100))
			if err != nil {
				t.Fatal(err)
			}
			if c.Outcome != tt.want {
				t.Fatalf("outcome = %v, want %v", c.Outcome, tt.want)
			}
			if c.Submission.State != tt.wantAfer || c.Submission.ID != 1 {
				t.Errorf("submission %d in %s, want 1 in %s", c.Submission.ID, c.Submission.State, tt.wantAfer)
			}
			if got := c.Submission.Items[0].ContentHash; tt.want == ClaimConflict && got != before.Items[0].ContentHash {
				t.Errorf("conflict changed the stored hash to %q", got)
			}
			var recorded, recState string
			l.db.QueryRow("SELECT outcome, state FROM claims ORDER BY id DESC LIMIT 1").Scan(&recorded, &recState)
			if recorded != tt.want.String() || State(recState) != tt.wantAfer {
				t.Errorf("claims record %s/%s, want %s/%s", recorded, recState, tt.want, tt.wantAfer)
			}
			conflicts, _ := l.Conflicts(ctx, Period{}, "")
			if tt.want == ClaimConflict {
				if len(conflicts) != 1 {
					t.Fatalf("%d conflicts rows, want 1", len(conflicts))
				}
				k := conflicts[0]
				if k.Creditor != "cred-1" || k.InvoiceNumber != "N1" || k.OldHash != "h-N1" || k.NewHash != hash || k.Submission != 1 || k.Line != 2 {
					t.Errorf("conflict row %+v", k)
				}
				if c.ConflictItem != "N1" || c.OldHash != "h-N1" || c.NewHash != hash {
					t.Errorf("claim conflict fields %q %q %q", c.ConflictItem, c.OldHash, c.NewHash)
				}
			} else if len(conflicts) != 0 {
				t.Errorf("%d conflicts rows, want none", len(conflicts))
			}
		})
	}
}

func TestClaimCorrectedAfterRejection(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	run, _ := l.StartRun(ctx, "job")
	f, _, _ := l.BeginFile(ctx, run, FileRecord{Path: "fixed.csv", Size: 1, SHA256: "s2"})
	id := driveTo(t, l, "R1", StateSending)
	if err := l.MarkRejected(ctx, id, "422 customer.name required"); err != nil {
		t.Fatal(err)
	}
	r := invoiceReq(run, f, "R1", "fixed", 555)
	r.Line = 9
	c, err := l.Claim(ctx, r)
	if err != nil || c.Outcome != ClaimNew {
		t.Fatalf("claim corrected: %v %v", c.Outcome, err)
	}
	s := c.Submission
	if s.ID != id || s.State != StateClaimed || s.LastError != "" || s.FileID != f || s.Line != 9 ||
		s.Items[0].ContentHash != "fixed" || s.Items[0].Amount != 555 || s.Items[0].PDFState != PDFPending {
		t.Errorf("re-claimed submission %+v", s)
	}
	_, ev, err := l.History(ctx, "cred-1", "R1")
	if err != nil {
		t.Fatal(err)
	}
	last := ev[len(ev)-1]
	if last.From != StateRejected || last.To != StateClaimed || last.Run != run {
		t.Errorf("last event %+v, want rejected→claimed in run %d", last, run)
	}
	// The corrected version is now the known content: a second copy of it resumes.
	if c, _ := l.Claim(ctx, r); c.Outcome != ClaimResume {
		t.Errorf("same corrected content again: %v, want resume", c.Outcome)
	}
}

func TestClaimCaseGrouping(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	first, err := l.Claim(ctx, caseReq(0, 0, "h", "D1", "D2", "D3"))
	if err != nil || first.Outcome != ClaimNew || len(first.Submission.Items) != 3 {
		t.Fatalf("first case claim: %v %v", first.Outcome, err)
	}
	tests := []struct {
		name    string
		req     ClaimRequest
		want    ClaimOutcome
		reason  string
		records int // conflicts rows written
	}{
		{"same", caseReq(0, 0, "h", "D1", "D2", "D3"), ClaimResume, "", 0},
		{"subset", caseReq(0, 0, "h", "D1", "D2"), ClaimConflict, "grouped differently than when first claimed", 2},
		{"superset", caseReq(0, 0, "h", "D1", "D2", "D3", "D4"), ClaimConflict, "grouped differently than when first claimed", 3},
		{"reordered", caseReq(0, 0, "h", "D2", "D1", "D3"), ClaimConflict, "grouped differently than when first claimed", 3},
		{"one debt changed", func() ClaimRequest {
			r := caseReq(0, 0, "h", "D1", "D2", "D3")
			r.Items[1].ContentHash = "changed"
			return r
		}(), ClaimConflict, "known with other content", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := l.Conflicts(ctx, Period{}, "")
			c, err := l.Claim(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if c.Outcome != tt.want {
				t.Fatalf("outcome %v, want %v", c.Outcome, tt.want)
			}
			after, _ := l.Conflicts(ctx, Period{}, "")
			added := after[len(before):]
			if len(added) != tt.records {
				t.Fatalf("%d conflict rows, want %d", len(added), tt.records)
			}
			for _, k := range added {
				if k.Reason != tt.reason || k.Submission != first.Submission.ID {
					t.Errorf("conflict %+v, want reason %q on submission %d", k, tt.reason, first.Submission.ID)
				}
			}
			s, _ := l.Submission(ctx, first.Submission.ID)
			if len(s.Items) != 3 || s.State != StateClaimed {
				t.Errorf("submission changed: %d items, %s", len(s.Items), s.State)
			}
		})
	}
	// D4 was never claimed by the conflicting superset.
	if _, _, err := l.History(ctx, "cred-1", "D4"); !errors.Is(err, ErrNotFound) {
		t.Errorf("D4 history: %v, want ErrNotFound", err)
	}
}

func TestClaimPerCreditor(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	a := invoiceReq(0, 0, "SAME", "h", 100)
	b := a
	b.Creditor = "cred-2"
	b.Items = []domain.Item{{InvoiceNumber: "SAME", ContentHash: "other", Currency: "SEK"}}
	for _, r := range []ClaimRequest{a, b} {
		if c, err := l.Claim(ctx, r); err != nil || c.Outcome != ClaimNew {
			t.Errorf("claim for %s: %v %v, want new", r.Creditor, c.Outcome, err)
		}
	}
	cs, _ := l.FindCreditors(ctx, "SAME")
	if len(cs) != 2 {
		t.Errorf("creditors holding SAME: %v", cs)
	}
}

func TestClaimInvalid(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	bad := []ClaimRequest{
		{Creditor: "c", Kind: domain.KindInvoice},
		{Kind: domain.KindInvoice, Items: []domain.Item{{InvoiceNumber: "1"}}},
		{Creditor: "c", Kind: domain.KindCase, Items: []domain.Item{{InvoiceNumber: "1"}, {InvoiceNumber: "1"}}},
		{Creditor: "c", Kind: "letter", Items: []domain.Item{{InvoiceNumber: "1"}}},
	}
	for i, r := range bad {
		if _, err := l.Claim(ctx, r); !errors.Is(err, ErrInvalid) {
			t.Errorf("request %d: err = %v, want ErrInvalid", i, err)
		}
	}
	var n int
	l.db.QueryRow("SELECT count(*) FROM submissions").Scan(&n)
	if n != 0 {
		t.Errorf("%d submissions after invalid claims", n)
	}
}

func TestUniqueIsLastDefence(t *testing.T) {
	l := MustOpen(t)
	driveTo(t, l, "U1", StateClaimed)
	_, err := l.db.Exec(`INSERT INTO submissions (kind, creditor, state, items, created, updated) VALUES ('invoice', 'cred-1', 'claimed', 1, 'x', 'x')`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.db.Exec(`INSERT INTO submission_items (submission_id, position, creditor, invoice_number, content_hash, amount, currency)
		VALUES (2, 0, 'cred-1', 'U1', 'h', 1, 'SEK')`)
	if err = dbError(err); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second item U1: %v, want ErrDuplicate", err)
	}
}

func TestConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	var handles []*Ledger
	for range 2 {
		l, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		handles = append(handles, l)
	}
	const workers, numbers = 8, 20
	outcomes := make([][]ClaimOutcome, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := handles[w%2]
			for n := range numbers {
				c, err := l.Claim(ctx, invoiceReq(0, 0, fmt.Sprintf("C%d", n), "h", 100))
				if err != nil {
					t.Error(err)
					return
				}
				outcomes[w] = append(outcomes[w], c.Outcome)
			}
		}()
	}
	wg.Wait()
	for n := range numbers {
		news := 0
		for w := range workers {
			if len(outcomes[w]) > n && outcomes[w][n] == ClaimNew {
				news++
			}
		}
		if news != 1 {
			t.Errorf("C%d: %d ClaimNew among %d claimers, want exactly 1", n, news, workers)
		}
	}
	var subs int
	handles[0].db.QueryRow("SELECT count(*) FROM submissions").Scan(&subs)
	if subs != numbers {
		t.Errorf("%d submissions, want %d", subs, numbers)
	}
}
