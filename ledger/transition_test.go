package ledger

import (
	"context"
	"errors"
	"testing"
)

// driveTo brings a fresh one-item submission to state st along legal moves.
func driveTo(t *testing.T, l *Ledger, number string, st State) SubmissionID {
	t.Helper()
	ctx := context.Background()
	c, err := l.Claim(ctx, invoiceReq(0, 0, number, "h-"+number, 100))
	if err != nil || c.Outcome != ClaimNew {
		t.Fatalf("claim %s: %v %v", number, c.Outcome, err)
	}
	id := c.Submission.ID
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	switch st {
	case StateClaimed:
	case StateSending:
		_, err := l.MarkSending(ctx, id, "")
		must(err)
	case StateRejected:
		must(l.MarkRejected(ctx, id, "422"))
	case StateRegistered, StateUploaded, StateNoPDF:
		_, err := l.MarkSending(ctx, id, "")
		must(err)
		must(l.MarkRegistered(ctx, id, Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c-" + number, OCRNumber: "1"}}}))
		if st == StateUploaded {
			_, err := l.MarkPDF(ctx, id, 0, PDFUploaded, "")
			must(err)
		}
		if st == StateNoPDF {
			_, err := l.MarkPDF(ctx, id, 0, PDFMissing, "no file")
			must(err)
		}
	}
	s, _ := l.Submission(ctx, id)
	if s.State != st {
		t.Fatalf("drove %s to %s, want %s", number, s.State, st)
	}
	return id
}

func TestLegalTransitions(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	reg := Registered{RegistrationID: "reg-1", InvoiceID: "inv-1", Cases: []CaseRef{{CaseID: "case-1", OCRNumber: "123"}}}
	tests := []struct {
		name string
		from State
		do   func(id SubmissionID) error
		want State
	}{
		{"claimed→sending", StateClaimed, func(id SubmissionID) error { _, err := l.MarkSending(ctx, id, ""); return err }, StateSending},
		{"claimed→rejected", StateClaimed, func(id SubmissionID) error { return l.MarkRejected(ctx, id, "pdf required") }, StateRejected},
		{"sending→registered", StateSending, func(id SubmissionID) error { return l.MarkRegistered(ctx, id, reg) }, StateRegistered},
		{"sending→claimed", StateSending, func(id SubmissionID) error { return l.MarkUnsent(ctx, id, "", "not found at Amili") }, StateClaimed},
		{"sending→rejected", StateSending, func(id SubmissionID) error { return l.MarkRejected(ctx, id, "422") }, StateRejected},
		{"registered→uploaded", StateRegistered, func(id SubmissionID) error { _, err := l.MarkPDF(ctx, id, 0, PDFUploaded, ""); return err }, StateUploaded},
		{"registered→no_pdf", StateRegistered, func(id SubmissionID) error { _, err := l.MarkPDF(ctx, id, 0, PDFMissing, "gone"); return err }, StateNoPDF},
		{"rejected→claimed", StateRejected, func(id SubmissionID) error {
			s, _ := l.Submission(ctx, id)
			r := invoiceReq(0, 0, s.Items[0].InvoiceNumber, "corrected", 100)
			_, err := l.Claim(ctx, r)
			return err
		}, StateClaimed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := driveTo(t, l, "L"+string(rune('A'+i)), tt.from)
			evBefore, _ := l.Events(ctx, id)
			if err := tt.do(id); err != nil {
				t.Fatal(err)
			}
			s, err := l.Submission(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if s.State != tt.want {
				t.Errorf("state = %s, want %s", s.State, tt.want)
			}
			ev, _ := l.Events(ctx, id)
			var last Event
			for _, e := range ev[len(evBefore):] {
				if e.From != e.To {
					last = e
				}
			}
			if last.From != tt.from || last.To != tt.want {
				t.Errorf("last state event %s→%s, want %s→%s", last.From, last.To, tt.from, tt.want)
			}
		})
	}
}

func TestMarkSendingCountsAttempts(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	id := driveTo(t, l, "A1", StateClaimed)
	for range 2 {
		if _, err := l.MarkSending(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
		if err := l.MarkUnsent(ctx, id, "", "connection refused"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.RecordFailure(ctx, id, "timeout"); err != nil {
		t.Fatal(err)
	}
	s, _ := l.Submission(ctx, id)
	if s.Attempts != 2 || s.LastError != "timeout" || s.State != StateClaimed {
		t.Errorf("attempts %d, last error %q, state %s; want 2, timeout, claimed", s.Attempts, s.LastError, s.State)
	}
}

func TestIllegalTransitions(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	reg := Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c"}}}
	tests := []struct {
		name string
		from State
		do   func(id SubmissionID) error
	}{
		{"claimed→registered", StateClaimed, func(id SubmissionID) error { return l.MarkRegistered(ctx, id, reg) }},
		{"claimed→claimed (unsent)", StateClaimed, func(id SubmissionID) error { return l.MarkUnsent(ctx, id, "", "x") }},
		{"sending→sending", StateSending, func(id SubmissionID) error { _, err := l.MarkSending(ctx, id, ""); return err }},
		{"registered→rejected", StateRegistered, func(id SubmissionID) error { return l.MarkRejected(ctx, id, "x") }},
		{"registered→sending", StateRegistered, func(id SubmissionID) error { _, err := l.MarkSending(ctx, id, ""); return err }},
		{"uploaded→sending", StateUploaded, func(id SubmissionID) error { _, err := l.MarkSending(ctx, id, ""); return err }},
		{"uploaded→pdf", StateUploaded, func(id SubmissionID) error { _, err := l.MarkPDF(ctx, id, 0, PDFMissing, ""); return err }},
		{"no_pdf→registered (another registration)", StateNoPDF, func(id SubmissionID) error {
			return l.MarkRegistered(ctx, id, Registered{RegistrationID: "other", Cases: []CaseRef{{CaseID: "c2"}}})
		}},
		{"rejected→sending", StateRejected, func(id SubmissionID) error { _, err := l.MarkSending(ctx, id, ""); return err }},
		{"claimed→pdf", StateClaimed, func(id SubmissionID) error { _, err := l.MarkPDF(ctx, id, 0, PDFUploaded, ""); return err }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := driveTo(t, l, "X"+string(rune('A'+i)), tt.from)
			before, _ := l.Submission(ctx, id)
			evBefore, _ := l.Events(ctx, id)
			err := tt.do(id)
			if !errors.Is(err, ErrIllegalTransition) {
				t.Fatalf("err = %v, want ErrIllegalTransition", err)
			}
			after, _ := l.Submission(ctx, id)
			evAfter, _ := l.Events(ctx, id)
			if after.State != before.State || after.Attempts != before.Attempts || after.RegistrationID != before.RegistrationID ||
				!after.Updated.Equal(before.Updated) || after.Items[0].PDFState != before.Items[0].PDFState {
				t.Errorf("submission changed: %+v → %+v", before, after)
			}
			if len(evAfter) != len(evBefore) {
				t.Errorf("%d events appended by an illegal move", len(evAfter)-len(evBefore))
			}
		})
	}
}

func TestMarkRegisteredWrongCaseCount(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	id := driveTo(t, l, "W1", StateSending)
	err := l.MarkRegistered(ctx, id, Registered{RegistrationID: "r"})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if s, _ := l.Submission(ctx, id); s.State != StateSending || s.RegistrationID != "" {
		t.Errorf("state %s, registration %q after a refused MarkRegistered", s.State, s.RegistrationID)
	}
}

func TestMarkPDFCaseRegistration(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	c, err := l.Claim(ctx, caseReq(0, 0, "h", "D1", "D2", "D3"))
	if err != nil {
		t.Fatal(err)
	}
	id := c.Submission.ID
	l.MarkSending(ctx, id, "")
	cases := []CaseRef{{"c1", "o1"}, {"c2", "o2"}, {"c3", "o3"}}
	if err := l.MarkRegistered(ctx, id, Registered{RegistrationID: "cr", Cases: cases}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		item int
		st   PDFState
		want State
	}{{0, PDFUploaded, StateRegistered}, {2, PDFMissing, StateRegistered}, {1, PDFUploaded, StateNoPDF}}
	for _, s := range steps {
		got, err := l.MarkPDF(ctx, id, s.item, s.st, "")
		if err != nil || got != s.want {
			t.Fatalf("MarkPDF(%d, %s) = %s, %v; want %s", s.item, s.st, got, err, s.want)
		}
	}
	s, _ := l.Submission(ctx, id)
	for i, it := range s.Items {
		if it.CaseID != cases[i].CaseID || it.OCRNumber != cases[i].OCRNumber {
			t.Errorf("item %d case %s/%s, want %v", i, it.CaseID, it.OCRNumber, cases[i])
		}
	}
	if _, err := l.MarkPDF(ctx, id, 7, PDFUploaded, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkPDF of item 7: %v, want ErrNotFound", err)
	}
}

func TestEventsAppendOnly(t *testing.T) {
	l := MustOpen(t)
	driveTo(t, l, "E1", StateSending)
	if _, err := l.db.Exec("UPDATE events SET detail = 'x'"); err == nil {
		t.Error("UPDATE of events succeeded")
	}
	if _, err := l.db.Exec("DELETE FROM events"); err == nil {
		t.Error("DELETE of events succeeded")
	}
}

func TestLegalTable(t *testing.T) {
	all := []State{"", StateClaimed, StateSending, StateRegistered, StateUploaded, StateNoPDF, StateRejected}
	n := 0
	for _, f := range all {
		for _, to := range all {
			if Legal(f, to) {
				n++
			}
		}
	}
	if n != 9 {
		t.Errorf("%d legal moves, want the 9 of the design", n)
	}
	for _, s := range []State{StateUploaded, StateNoPDF} {
		for _, to := range all {
			if Legal(s, to) {
				t.Errorf("%s → %s is legal; done states are final", s, to)
			}
		}
	}
}
