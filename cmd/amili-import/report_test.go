package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/mail/mailtest"
)

// TestReportVerb imports the samples, writes the report for today and e-mails it once.
func TestReportVerb(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	if code, _, stderr := h.importFiles(nil, "invoices.csv", "cases.csv"); code != exitOK {
		t.Fatalf("import: exit %d\n%s", code, stderr)
	}
	smtpSrv, err := mailtest.NewServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, smtpSrv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(h.srv.Creditor, fmt.Sprintf(`time_zone: UTC
reports:
  - name: daily
    schedule: "0 6 * * *"
    decimal_comma: true
    send: false
smtp:
  host: 127.0.0.1
  port: %d
  username: reports@example.se
  password_file: %s
  from: reports@example.se
  to: [finance@example.se]
  ca_file: %s
`, smtpSrv.Port, pw, ca))

	ctx := context.Background()
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	out := filepath.Join(t.TempDir(), "r")
	code, stdout, stderr := h.run(ctx, "report", "--config", h.cfg, "--since", today, "--until", tomorrow, "--out", out)
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	if strings.TrimSpace(stdout) != out {
		t.Errorf("printed %q, want the folder %q", stdout, out)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	cr.Comma = ';' // decimal_comma: true
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var regs int
	balance := ""
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		switch {
		case r[col["record"]] == "registration":
			regs++
		case r[col["record"]] == "total" && r[col["state"]] == "balance":
			balance = r[col["amount"]]
		}
	}
	if regs == 0 || balance != "0,00" {
		t.Errorf("report.csv: %d registrations, balance %q; want some and 0,00", regs, balance)
	}
	f, err := os.Open(filepath.Join(out, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("chart.png: %v", err)
	}
	if n := len(smtpSrv.Messages()); n != 0 {
		t.Fatalf("sent %d messages without --send", n)
	}

	for i := range 2 {
		code, _, stderr = h.run(ctx, "report", "--config", h.cfg, "--since", today, "--until", tomorrow, "--out", out, "--send")
		if code != exitOK {
			t.Fatalf("report --send (%d): exit %d\n%s", i+1, code, stderr)
		}
	}
	if n := len(smtpSrv.Messages()); n != 1 {
		t.Errorf("two runs of report --send for the same period sent %d messages, want 1", n)
	}

	code, _, stderr = h.run(ctx, "report", "--config", h.cfg, "--since", "21/11/2026")
	if code != exitNoStart || !strings.Contains(stderr, "--since") {
		t.Errorf("bad --since: exit %d, stderr %q; want 2 naming the flag", code, stderr)
	}
}
