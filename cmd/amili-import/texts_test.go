package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
)

// TestAmiliQuotingTheIDNumberIsMaskedEverywhere: Amili refuses one invoice with a 422 whose
// message and field detail quote the customer's personnummer. Neither the summary (text and
// JSON), the log, the ledger file nor report.html and report.csv show the whole number, in any
// of the forms the file may write it.
func TestAmiliQuotingTheIDNumberIsMaskedEverywhere(t *testing.T) {
	for name, form := range map[string]string{"12digits": "191212121212", "12digitsHyphen": "19121212-1212",
		"10digits": "1212121212", "10digitsHyphen": "121212-1212"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, amilitest.Options{Faults: amilitest.Faults{
				ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultReject422QuotingID}}})
			p := filepath.Join(h.dir, "invoices.csv")
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(data), "19121212-1212", form)), 0o644); err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			code, out, stderr := h.run(context.Background(), "import", "--config", h.cfg, filepath.Join(h.dir, "invoices.csv"))
			if code != exitSomeRows {
				t.Fatalf("exit %d, want 1 (one refusal); stderr:\n%s", code, stderr)
			}
			seen["text summary"], seen["log"] = out, stderr
			// The same file again: the refusal is reported from the ledger.
			_, out, _ = h.run(context.Background(), "import", "--config", h.cfg, "--summary", "json", filepath.Join(h.dir, "invoices.csv"))
			seen["json summary"] = out
			_, out, _ = h.run(context.Background(), "ledger", "show", "INV-2025-102", "--config", h.cfg)
			seen["ledger show"] = out

			dir := filepath.Join(t.TempDir(), "r")
			today := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
			after := time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")
			if code, _, stderr := h.run(context.Background(), "report", "--config", h.cfg, "--since", today, "--until", after, "--out", dir); code != exitOK {
				t.Fatalf("report: exit %d\n%s", code, stderr)
			}
			for _, name := range []string{"report.html", "report.csv"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				seen[name] = string(b)
			}
			seen["ledger file"] = dumpLedger(t, h.db)

			if !strings.Contains(seen["text summary"], "Validation failed for customer") {
				t.Errorf("the summary does not show Amili's reason:\n%s", seen["text summary"])
			}
			for where, text := range seen {
				for _, whole := range []string{"1212121212", "121212-1212", "121212+1212"} {
					if strings.Contains(text, whole) {
						i := strings.Index(text, whole)
						t.Errorf("%s shows the whole identity number: …%s…", where, text[max(0, i-60):min(len(text), i+20)])
					}
				}
			}
		})
	}
}

// dumpLedger is every text cell of the ledger file, one per line.
func dumpLedger(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	var b strings.Builder
	for _, n := range names {
		rows, err := db.Query("SELECT * FROM " + n)
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
				if s, ok := v.([]byte); ok {
					v = string(s)
				}
				fmt.Fprintf(&b, "%s.%s: %v\n", n, cols[i], v)
			}
		}
		rows.Close()
	}
	return b.String()
}

// TestHugeRefusalIsStoredBounded: a 422 whose message is 200 KB long reaches the summary and
// the ledger file bounded to 2000 bytes.
func TestHugeRefusalIsStoredBounded(t *testing.T) {
	h := newHarness(t, amilitest.Options{Faults: amilitest.Faults{
		ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultReject422Huge}}})
	code, out, stderr := h.run(context.Background(), "import", "--config", h.cfg, filepath.Join(h.dir, "invoices.csv"))
	if code != exitSomeRows {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(out, "the value is not accepted") {
		t.Errorf("the summary does not show Amili's reason")
	}
	if len(out) > 8000 {
		t.Errorf("the summary is %d bytes: the reason is not bounded", len(out))
	}
	for _, line := range strings.Split(dumpLedger(t, h.db), "\n") {
		if len(line) > 2000+100 {
			t.Errorf("ledger cell of %d bytes: %.80s…", len(line), line)
		}
	}
}
