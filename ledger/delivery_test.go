package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestReportDeliveries(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	week := Period{Since: t0, Until: t0.Add(7 * 24 * time.Hour)}
	if _, ok, _ := l.LastReportUntil(ctx, "c1"); ok {
		t.Fatal("LastReportUntil with no reports: ok")
	}
	id, err := l.RecordReport(ctx, "c1", week, "/var/reports/w1.html")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordReport(ctx, "c1", week, "/elsewhere"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same period again: %v, want ErrDuplicate", err)
	}
	if _, err := l.RecordReport(ctx, "c2", week, ""); err != nil {
		t.Errorf("same period for another creditor: %v", err)
	}
	if _, err := l.RecordReport(ctx, "c1", Period{Since: t0, Until: t0}, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty period: %v, want ErrInvalid", err)
	}
	if err := l.MarkReportFailed(ctx, id, "smtp 451"); err != nil {
		t.Fatal(err)
	}
	pending, _ := l.PendingReports(ctx)
	if len(pending) != 2 || pending[0].ID != id || pending[0].State != DeliveryFailed || pending[0].Attempts != 1 ||
		pending[0].LastError != "smtp 451" || pending[0].Path != "/var/reports/w1.html" || !pending[0].Until.Equal(week.Until) {
		t.Fatalf("pending = %+v", pending)
	}
	if err := l.MarkReportSent(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkReportSent(ctx, id); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("sent twice: %v, want ErrIllegalTransition", err)
	}
	pending, _ = l.PendingReports(ctx)
	if len(pending) != 1 || pending[0].Creditor != "c2" {
		t.Errorf("pending after sending c1: %+v", pending)
	}
	until, ok, err := l.LastReportUntil(ctx, "c1")
	if err != nil || !ok || !until.Equal(week.Until) {
		t.Errorf("LastReportUntil = %v %v %v", until, ok, err)
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := openWithRows(t, filepath.Join(dir, "l.db"))
	defer l.Close()
	// Some of it still in the WAL.
	driveTo(t, l, "BK1", StateUploaded)
	dst := filepath.Join(dir, "copy.db")
	if err := l.Backup(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := l.Backup(ctx, dst); err == nil {
		t.Error("backup over an existing file succeeded")
	}
	c, err := Open(ctx, dst, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, _ := l.Submissions(ctx, SubmissionFilter{})
	got, _ := c.Submissions(ctx, SubmissionFilter{})
	if len(got) != len(want) || len(got) != 301 {
		t.Fatalf("copy has %d submissions, original %d", len(got), len(want))
	}
	s, ev, err := c.History(ctx, "cred-1", "BK1")
	if err != nil || s.State != StateUploaded || len(ev) != 5 {
		t.Errorf("copy history of BK1: %s, %d events, %v", s.State, len(ev), err)
	}
}
