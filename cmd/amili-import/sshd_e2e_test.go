package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source/sftptest"
)

// TestSamplesFromRealSSHD: the three sample exports, dropped on a real OpenSSH sshd, are taken
// by the configured jobs, registered in the sandbox with each PDF on its own case, and archived.
func TestSamplesFromRealSSHD(t *testing.T) {
	d := sftptest.StartSSHD(t)
	srv := amilitest.NewServer(amilitest.Options{Tokens: []string{"sshd-token"}})
	t.Cleanup(srv.Close)
	local := t.TempDir()
	tok := filepath.Join(local, "token")
	if err := os.WriteFile(tok, []byte("sshd-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, cfg: filepath.Join(local, "amili-import.yaml"), db: filepath.Join(local, "ledger.db")}
	inbox := filepath.Join(d.Dir, "inbox")
	copyDir(t, samplesDir, inbox)
	erpMapping, err := filepath.Abs(filepath.Join(samplesDir, "erp-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	job := func(name, pattern, extra string) string {
		return fmt.Sprintf(`  - name: %s
%s    source:
      type: sftp
      dir: %s
      patterns: [%q]
      min_age: 1ms
`, name, extra, inbox, pattern)
	}
	cfg := tokenConfig(srv.URL, srv.Account, srv.Creditor, tok, h.db, "warn") + fmt.Sprintf(`sftp:
  host: %s
  port: %d
  user: %s
  private_key_file: %s
  known_hosts: %s
jobs:
`, d.Host, d.Port, d.User, d.ClientKeyFile, d.KnownHostsFile) +
		job("invoices", "invoices.csv", "") + job("cases", "cases.csv", "") +
		job("erp", "erp-invoices.csv", "    mapping: "+erpMapping+"\n")
	if err := os.WriteFile(h.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"invoices", "cases", "erp"} {
		if code, out, errText := h.run(context.Background(), "run", "--config", h.cfg, name); code != exitOK {
			t.Fatalf("run %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errText)
		}
	}
	// 4 invoices + 3 case registrations (4 debts) + 2 ERP invoices: 9 registrations, 10 cases.
	if got := len(srv.Registrations()); got != 9 {
		t.Errorf("registrations: got %d, want 9", got)
	}
	for _, c := range srv.Cases() {
		ups := srv.Uploads(c.ID)
		if len(ups) != 1 {
			t.Errorf("case %s (%s) has %d uploads, want 1", c.ID, c.Debt.InvoiceNumber, len(ups))
			continue
		}
		if want := sha256File(t, filepath.Join(samplesDir, c.Debt.InvoiceNumber+".pdf")); ups[0].SHA256 != want {
			t.Errorf("case of %s holds another PDF", c.Debt.InvoiceNumber)
		}
	}
	if got := len(srv.Cases()); got != 10 {
		t.Errorf("cases: got %d, want 10", got)
	}
	if states := h.ledgerStates(); states[ledger.StateUploaded] != 9 {
		t.Errorf("ledger states %v, want 9 uploaded", states)
	}
	archived, _ := filepath.Glob(filepath.Join(inbox, "archive", "*", "*.csv"))
	if len(archived) != 3 {
		t.Errorf("archived: %v, want the 3 sample files", archived)
	}
	// The event samples (payments, credit notes, cancellations) match no job and stay.
	for _, name := range []string{"invoices.csv", "cases.csv", "erp-invoices.csv"} {
		if _, err := os.Stat(filepath.Join(inbox, name)); err == nil {
			t.Errorf("%s is still in the inbox", name)
		}
	}
}
