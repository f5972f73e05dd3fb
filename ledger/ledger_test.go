package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/fakeclock"
)

// clock is a settable test clock.

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// MustOpen opens a fresh ledger in a temporary directory, closed when the test ends.
func MustOpen(tb testing.TB) *Ledger {
	tb.Helper()
	l, _ := mustOpenClock(tb)
	return l
}

// mustOpenClock is MustOpen with the ledger's clock exposed.
func mustOpenClock(tb testing.TB) (*Ledger, *fakeclock.Clock) {
	tb.Helper()
	c := fakeclock.New(t0)
	l, err := Open(context.Background(), filepath.Join(tb.TempDir(), "ledger.db"), Options{Now: c.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l, c
}

func TestOpenFresh(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schemaVersion(ctx, l.db)
	if err != nil {
		t.Fatal(err)
	}
	if want := ms[len(ms)-1].version; v != want {
		t.Errorf("schema version = %d, want %d", v, want)
	}
	for _, table := range []string{"runs", "files", "submissions", "submission_items", "events", "claims",
		"conflicts", "row_errors", "leases", "report_deliveries"} {
		var n int
		if err := l.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: n=%d err=%v", table, n, err)
		}
	}
	var mode string
	if err := l.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk, sync, busy int
	l.db.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	l.db.QueryRow("PRAGMA synchronous").Scan(&sync)
	l.db.QueryRow("PRAGMA busy_timeout").Scan(&busy)
	if fk != 1 || sync != 2 || busy != 5000 {
		t.Errorf("foreign_keys=%d synchronous=%d busy_timeout=%d, want 1, 2 (FULL), 5000", fk, sync, busy)
	}
	if _, err := l.StartRun(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	l.Close()

	// Reopening applies nothing and keeps the data.
	l2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	var applied, runs int
	l2.db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&applied)
	l2.db.QueryRow("SELECT count(*) FROM runs").Scan(&runs)
	if applied != len(ms) || runs != 1 {
		t.Errorf("after reopen: %d migrations recorded, %d runs; want %d, 1", applied, runs, len(ms))
	}
}

// withMigrations is the embedded migration set plus extra files.
func withMigrations(t *testing.T, extra map[string]string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	for _, mg := range ms {
		m["migrations/"+mg.name] = &fstest.MapFile{Data: []byte(mg.sql)}
	}
	for name, sql := range extra {
		m["migrations/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return m
}

func TestMigrationFailureLeavesPreviousVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l := openWithRows(t, path)
	before, _ := schemaVersion(ctx, l.db)
	l.Close()

	// The bad migration creates a table, changes rows, then fails on its last statement.
	bad := withMigrations(t, map[string]string{"9001_bad.sql": `CREATE TABLE extra (y INTEGER);
		UPDATE submissions SET state = 'rejected';
		CREATE TABLE oops (;`})
	_, err := open(ctx, path, Options{}, bad)
	if err == nil || !strings.Contains(err.Error(), "9001_bad.sql") {
		t.Fatalf("open with a bad migration: err = %v, want one naming 9001_bad.sql", err)
	}
	l, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	v, _ := schemaVersion(ctx, l.db)
	var extra, rejected int
	l.db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'").Scan(&extra)
	l.db.QueryRow("SELECT count(*) FROM submissions WHERE state = 'rejected'").Scan(&rejected)
	if v != before || extra != 0 || rejected != 0 {
		t.Errorf("after failed migration: version %d (want %d), table extra exists %d, rejected rows %d; want nothing of 9001 applied",
			v, before, extra, rejected)
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := open(ctx, path, Options{}, withMigrations(t, map[string]string{"9001_more.sql": "CREATE TABLE more (x INTEGER);"}))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrSchema) {
		t.Errorf("older program on newer schema: err = %v, want ErrSchema", err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "l.db")
	l := openWithRows(t, path)
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 8192 {
		t.Fatalf("ledger only %d bytes", len(data))
	}

	t.Run("Header", func(t *testing.T) {
		cp := filepath.Join(dir, "header.db")
		bad := append([]byte(nil), data...)
		copy(bad, "this is not a sqlite file at all")
		os.WriteFile(cp, bad, 0o600)
		_, err := Open(ctx, cp, Options{})
		assertCorrupt(t, err, cp)
	})
	t.Run("Pages", func(t *testing.T) {
		cp := filepath.Join(dir, "pages.db")
		bad := append([]byte(nil), data...)
		// Overwrite every page after the first with garbage: b-tree pages become unreadable.
		for i := 4096; i < len(bad); i++ {
			bad[i] = byte(i*7 + 13)
		}
		os.WriteFile(cp, bad, 0o600)
		_, err := Open(ctx, cp, Options{})
		assertCorrupt(t, err, cp)
	})
}

func assertCorrupt(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	t.Log(err)
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "ledger backup") {
		t.Errorf("error %q should name the file and say how to restore it", msg)
	}
}

// openWithRows makes a ledger at path with a few hundred submissions, so it spans many pages.
func openWithRows(t *testing.T, path string) *Ledger {
	t.Helper()
	ctx := context.Background()
	l, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := l.StartRun(ctx, "job")
	var reqs []ClaimRequest
	for i := range 300 {
		reqs = append(reqs, invoiceReq(run, 0, fmt.Sprintf("INV-%04d", i), "h", domain.Amount(100+i)))
	}
	for _, r := range reqs {
		if _, err := l.Claim(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	if _, err := Open(ctx, path, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing ledger succeeded")
	}
	l := openWithRows(t, path)
	defer l.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	subs, err := ro.Submissions(ctx, SubmissionFilter{})
	if err != nil || len(subs) != 300 {
		t.Fatalf("read-only Submissions: %d, %v; want 300", len(subs), err)
	}
	if _, err := ro.StartRun(ctx, "x"); err == nil {
		t.Error("StartRun on a read-only ledger succeeded")
	}
}

// invoiceReq is a one-item invoice claim.
func invoiceReq(run RunID, file FileID, number, hash string, amount domain.Amount) ClaimRequest {
	return ClaimRequest{Run: run, File: file, Line: 2, Kind: domain.KindInvoice, Creditor: "cred-1",
		Items: []domain.Item{{InvoiceNumber: number, Amount: amount, Currency: "SEK", CustomerName: "Anna", PDF: number + ".pdf", ContentHash: hash}}}
}

// caseReq is a case registration with one debt per number, all with the given hash.
func caseReq(run RunID, file FileID, hash string, numbers ...string) ClaimRequest {
	r := ClaimRequest{Run: run, File: file, Line: 5, Kind: domain.KindCase, Creditor: "cred-1"}
	for i, n := range numbers {
		r.Items = append(r.Items, domain.Item{InvoiceNumber: n, Amount: domain.Amount(1000 * (i + 1)), Currency: "SEK", ContentHash: hash + "-" + n})
	}
	return r
}
