package ledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

func TestBeginFilePrior(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	run, _ := l.StartRun(ctx, "job")
	a, prior, err := l.BeginFile(ctx, run, FileRecord{Path: "in/a.csv", Size: 10, SHA256: "aaa"})
	if err != nil || prior != nil {
		t.Fatalf("first sight: prior %v, err %v", prior, err)
	}
	// Still in progress: not a prior.
	if _, prior, _ := l.BeginFile(ctx, run, FileRecord{Path: "in/a-again.csv", Size: 10, SHA256: "aaa"}); prior != nil {
		t.Errorf("in-progress file taken as prior: %+v", prior)
	}
	// Partial: not a prior; its rows resume.
	l.FinishFile(ctx, a, FilePartial, domain.Counts{Rows: 3, Failed: 1}, "timeout")
	if _, prior, _ := l.BeginFile(ctx, run, FileRecord{Path: "in/a.csv", Size: 10, SHA256: "aaa"}); prior != nil {
		t.Errorf("partial file taken as prior: %+v", prior)
	}
	b, _, _ := l.BeginFile(ctx, run, FileRecord{Path: "in/b.csv", Size: 10, SHA256: "bbb"})
	l.FinishFile(ctx, b, FileFailed, domain.Counts{}, "missing column")
	clk.Advance(time.Minute)
	done, _, _ := l.BeginFile(ctx, run, FileRecord{Path: "in/c.csv", Size: 10, SHA256: "ccc"})
	if err := l.FinishFile(ctx, done, FileDone, domain.Counts{Rows: 5, Registered: 5}, ""); err != nil {
		t.Fatal(err)
	}
	run2, _ := l.StartRun(ctx, "job")
	_, prior, err = l.BeginFile(ctx, run2, FileRecord{Path: "renamed/c-copy.csv", Size: 10, SHA256: "ccc"})
	if err != nil || prior == nil {
		t.Fatalf("same bytes under another name: prior %v, err %v", prior, err)
	}
	if prior.ID != done || prior.Path != "in/c.csv" || prior.Outcome != FileDone || prior.Counts.Registered != 5 || prior.Run != run {
		t.Errorf("prior = %+v", prior)
	}
	if _, prior, _ := l.BeginFile(ctx, run2, FileRecord{Path: "in/b.csv", Size: 10, SHA256: "bbb"}); prior != nil {
		t.Errorf("failed file taken as prior")
	}
	if err := l.FinishFile(ctx, 12345, FileDone, domain.Counts{}, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishFile of an unknown file: %v, want ErrNotFound", err)
	}
}

func TestRunsAndLastSuccessful(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	if _, ok, err := l.LastSuccessfulRun(ctx, "job"); ok || err != nil {
		t.Fatalf("no runs yet: ok %v err %v", ok, err)
	}
	r1, _ := l.StartRun(ctx, "job")
	clk.Advance(time.Hour)
	l.FinishRun(ctx, r1, RunOutcomeOK, domain.Counts{Rows: 1})
	okAt := clk.Now()
	clk.Advance(time.Hour)
	r2, _ := l.StartRun(ctx, "job")
	l.FinishRun(ctx, r2, "some_failed", domain.Counts{Rows: 1, Failed: 1})
	r3, _ := l.StartRun(ctx, "other")
	clk.Advance(time.Hour)
	l.FinishRun(ctx, r3, RunOutcomeOK, domain.Counts{})
	at, ok, err := l.LastSuccessfulRun(ctx, "job")
	if err != nil || !ok || !at.Equal(okAt) {
		t.Errorf("LastSuccessfulRun = %v %v %v, want %v", at, ok, err, okAt)
	}
	if at, ok, _ := l.LastSuccessfulRun(ctx, ""); !ok || !at.Equal(okAt.Add(2*time.Hour)) {
		t.Errorf("LastSuccessfulRun of any job = %v %v, want %v", at, ok, okAt.Add(2*time.Hour))
	}
	// A run that did all it could, with a row rejected, succeeded; a failed one did not.
	r4, _ := l.StartRun(ctx, "job")
	clk.Advance(time.Hour)
	l.FinishRun(ctx, r4, RunOutcomeCompletedWithRejections, domain.Counts{Rows: 2, Registered: 1, Rejected: 1})
	rejAt := clk.Now()
	r5, _ := l.StartRun(ctx, "job")
	clk.Advance(time.Hour)
	l.FinishRun(ctx, r5, "failed", domain.Counts{})
	if at, ok, _ := l.LastSuccessfulRun(ctx, "job"); !ok || !at.Equal(rejAt) {
		t.Errorf("LastSuccessfulRun after a run with a rejected row = %v %v, want %v", at, ok, rejAt)
	}
}

func TestRowErrors(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	run, _ := l.StartRun(ctx, "job")
	f, _, _ := l.BeginFile(ctx, run, FileRecord{Path: "in/x.csv", Size: 1, SHA256: "x"})
	errs := []domain.RowError{
		{File: "x.csv", Line: 4, Column: "id_number", Value: "19121212-****", Rule: "bad check digit", InvoiceNumber: "9", Warning: true},
		{File: "x.csv", Line: 2, Column: "amount", Value: "12,3,4", Rule: "not a number", InvoiceNumber: "7"},
	}
	if err := l.RecordRowErrors(ctx, f, errs); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	got, err := l.RowErrors(ctx, Period{Since: t0, Until: t0.Add(time.Minute)})
	if err != nil || len(got) != 2 {
		t.Fatalf("RowErrors: %d %v", len(got), err)
	}
	if got[0].Line != 2 || got[0].File != "in/x.csv" || got[0].Rule != "not a number" || got[1].Value != "19121212-****" || !got[1].Warning {
		t.Errorf("row errors %+v", got)
	}
	if got, _ := l.RowErrors(ctx, Period{Since: t0.Add(time.Minute)}); len(got) != 0 {
		t.Errorf("period after: %d row errors", len(got))
	}
}

func TestSubmissionQueries(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	r1, _ := l.StartRun(ctx, "job")
	a, _ := l.Claim(ctx, invoiceReq(r1, 0, "Q1", "h", 100))
	clk.Advance(time.Hour)
	r2, _ := l.StartRun(ctx, "job")
	b, _ := l.Claim(ctx, caseReq(r2, 0, "h", "Q2", "Q3"))
	other := invoiceReq(r2, 0, "Q4", "h", 5)
	other.Creditor = "cred-2"
	c, _ := l.Claim(ctx, other)
	l.MarkSending(ctx, c.Submission.ID, "")
	clk.Advance(time.Hour)
	l.Claim(ctx, invoiceReq(r2, 0, "Q1", "h", 100)) // r2 resumes Q1

	ids := func(ss []Submission) []SubmissionID {
		var out []SubmissionID
		for _, s := range ss {
			out = append(out, s.ID)
		}
		return out
	}
	A, B, C := a.Submission.ID, b.Submission.ID, c.Submission.ID
	tests := []struct {
		name string
		f    SubmissionFilter
		want []SubmissionID
	}{
		{"all", SubmissionFilter{}, []SubmissionID{A, B, C}},
		{"run 1", SubmissionFilter{Run: r1}, []SubmissionID{A}},
		{"run 2", SubmissionFilter{Run: r2}, []SubmissionID{A, B, C}},
		{"created first hour", SubmissionFilter{Created: Period{Until: t0.Add(time.Hour)}}, []SubmissionID{A}},
		{"updated since 1h", SubmissionFilter{Updated: Period{Since: t0.Add(time.Hour)}}, []SubmissionID{B, C}},
		{"state sending", SubmissionFilter{States: []State{StateSending}}, []SubmissionID{C}},
		{"state claimed or sending", SubmissionFilter{States: []State{StateClaimed, StateSending}}, []SubmissionID{A, B, C}},
		{"creditor", SubmissionFilter{Creditor: "cred-2"}, []SubmissionID{C}},
		{"number", SubmissionFilter{InvoiceNumber: "Q3"}, []SubmissionID{B}},
		{"limit", SubmissionFilter{Limit: 2}, []SubmissionID{B, C}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Submissions(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); len(g) != len(tt.want) || !equalIDs(g, tt.want) {
				t.Errorf("got %v, want %v", g, tt.want)
			}
		})
	}
	all, _ := l.Submissions(ctx, SubmissionFilter{InvoiceNumber: "Q2"})
	if len(all) != 1 || len(all[0].Items) != 2 || all[0].Items[1].InvoiceNumber != "Q3" || all[0].Items[1].Amount != 2000 {
		t.Errorf("case submission items %+v", all)
	}
}

func equalIDs(a, b []SubmissionID) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
