package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/fakeclock"
	"github.com/amili-import/amili-import/internal/redact"
)

// TestStoredTextsAreMaskedAndBounded: every text the ledger is given to keep (a reason, an
// event's detail, a file's error) reaches the SQLite file with its identity numbers masked and
// bounded, whoever built it.
func TestStoredTextsAreMaskedAndBounded(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	quote := "Validation failed for customer 19811218-9876 (customer.id_number: value '8112189876')"
	huge := quote + strings.Repeat(" and more", 200_000/9)

	rej := driveTo(t, l, "T-REJ", StateSending)
	if err := l.MarkRejected(ctx, rej, quote); err != nil {
		t.Fatal(err)
	}
	fail := driveTo(t, l, "T-FAIL", StateClaimed)
	if err := l.RecordFailure(ctx, fail, huge); err != nil {
		t.Fatal(err)
	}
	acc := driveTo(t, l, "T-ACC", StateSending)
	if err := l.MarkAccepted(ctx, acc, quote); err != nil {
		t.Fatal(err)
	}
	pdf := driveTo(t, l, "T-PDF", StateRegistered)
	if _, err := l.MarkPDF(ctx, pdf, 0, PDFMissing, quote); err != nil {
		t.Fatal(err)
	}
	run, err := l.StartRun(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	fid, _, err := l.BeginFile(ctx, run, FileRecord{Path: "a.csv", Size: 1, SHA256: "ab"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.FinishFile(ctx, fid, FilePartial, domain.Counts{}, huge); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite3", "file:"+l.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cells := 0
	for _, table := range []string{"submissions", "submission_items", "events", "files"} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, "Validation failed") {
					cells++
				}
				if strings.Contains(s, "9876") {
					t.Errorf("%s.%s holds a whole identity number: %.120q", table, cols[i], s)
				}
				if len(s) > redact.MaxText {
					t.Errorf("%s.%s holds %d bytes, want at most %d", table, cols[i], len(s), redact.MaxText)
				}
			}
		}
		rows.Close()
	}
	if cells < 5 {
		t.Errorf("found the texts in %d cells, want them stored (masked) in at least 5", cells)
	}
}

// TestRegisteredNeedsACaseOfItsOwnPerItem: an answer without a case id for an item, naming one
// case for two items, or naming a case another invoice number holds, records nothing; the error
// (the reason a person reads) names the submission and its items by their invoice numbers.
func TestRegisteredNeedsACaseOfItsOwnPerItem(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	first := driveTo(t, l, "C-FIRST", StateRegistered) // holds case "c"
	_ = first
	for name, tc := range map[string]struct {
		cases []CaseRef
		want  string
	}{
		"empty":        {[]CaseRef{{CaseID: ""}}, "invoice number C-empty (submission "},
		"another's":    {[]CaseRef{{CaseID: "c-C-FIRST"}}, "invoice number C-another's (submission "},
		"one for two":  {[]CaseRef{{CaseID: "x"}, {CaseID: "x"}}, "case x named for D1-one for two and D2-one for two"},
		"one missing2": {[]CaseRef{{CaseID: "y"}, {CaseID: ""}}, "invoice numbers D1-one missing2, D2-one missing2 (submission "},
		"one for one":  {[]CaseRef{{CaseID: "z"}}, "invoice numbers D1-one for one, D2-one for one (submission "},
	} {
		cases := tc.cases
		t.Run(name, func(t *testing.T) {
			req := invoiceReq(0, 0, "C-"+name, "h-"+name, 100)
			if len(cases) == 2 || name == "one for one" {
				req = caseReq(0, 0, "h-"+name, "D1-"+name, "D2-"+name)
			}
			c, err := l.Claim(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.MarkSending(ctx, c.Submission.ID, ""); err != nil {
				t.Fatal(err)
			}
			err = l.MarkRegistered(ctx, c.Submission.ID, Registered{RegistrationID: "r-" + name, Cases: cases})
			if !errors.Is(err, ErrCasesUnaccounted) {
				t.Errorf("err = %v, want ErrCasesUnaccounted", err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to say %q", err, tc.want)
			}
			s, _ := l.Submission(ctx, c.Submission.ID)
			if s.State != StateSending {
				t.Errorf("state %s, want still sending", s.State)
			}
		})
	}
}

// TestLeaseTakeoverSaysWhy: a lease left by a process that is gone is taken over at once, and
// the new lease says from whom and why; a lease held on another host says when it lapses and
// that it is then taken over.
func TestLeaseTakeoverSaysWhy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	clk := fakeclock.New(t0)
	gone := map[int]bool{4242: true}
	l, err := Open(ctx, path, Options{Now: clk.Now, Host: "here", ProcessGone: func(pid int) bool { return gone[pid] }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.AcquireLease(ctx, "job:a", LeaseOwner{Host: "here", PID: 4242}, time.Hour); err != nil {
		t.Fatal(err)
	}
	ls, err := l.AcquireLease(ctx, "job:a", LeaseOwner{Host: "here", PID: 7}, time.Hour)
	if err != nil {
		t.Fatalf("a lease of a process that is gone is not taken over: %v", err)
	}
	if !strings.Contains(ls.TookOver, "here pid 4242") || !strings.Contains(ls.TookOver, "no longer running") {
		t.Errorf("TookOver = %q, want it to name here pid 4242 and say it is no longer running", ls.TookOver)
	}
	clk.Advance(2 * time.Hour)
	ls, err = l.AcquireLease(ctx, "job:a", LeaseOwner{Host: "here", PID: 8}, time.Hour)
	if err != nil || !strings.Contains(ls.TookOver, "expired") {
		t.Errorf("expired lease: %v, TookOver %q; want it taken over, saying it expired", err, ls.TookOver)
	}

	if _, err := l.AcquireLease(ctx, "job:b", LeaseOwner{Host: "there", PID: 99}, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = l.AcquireLease(ctx, "job:b", LeaseOwner{Host: "here", PID: 7}, time.Hour)
	var held *LeaseHeldError
	if !errors.As(err, &held) {
		t.Fatalf("err = %v, want *LeaseHeldError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "another host") || !strings.Contains(msg, "taken over") {
		t.Errorf("held elsewhere: %q; want it to say the holder is on another host and when the lease is taken over", msg)
	}
}
