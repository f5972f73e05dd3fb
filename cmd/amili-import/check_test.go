package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/mail/mailtest"
)

func TestCheck(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	job := fmt.Sprintf(`jobs:
  - name: invoices
    kind: invoice
    source:
      dir: %s
`, h.dir)

	t.Run("OK", func(t *testing.T) {
		h.writeConfig(h.srv.Creditor, job)
		code, out, stderr := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
		}
		for _, want := range []string{"ok    authenticate", "ok    creditor " + h.srv.Creditor, "ok    job invoices: source", "ok    ledger"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := h.registrationCalls(); n != 0 {
			t.Errorf("check registered %d things", n)
		}
	})
	t.Run("InactiveCreditor", func(t *testing.T) {
		h.writeConfig(h.srv.InactiveCreditor, job)
		code, out, _ := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(out, "FAIL  creditor "+h.srv.InactiveCreditor) {
			t.Errorf("exit %d, want 2 with the creditor named:\n%s", code, out)
		}
	})
	t.Run("MissingSourceDir", func(t *testing.T) {
		h.writeConfig(h.srv.Creditor, strings.Replace(job, h.dir, filepath.Join(h.dir, "nope"), 1))
		code, out, _ := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(out, "FAIL  job invoices: source") {
			t.Errorf("exit %d, want 2 with the source named:\n%s", code, out)
		}
	})
	t.Run("SMTP", func(t *testing.T) {
		// The relay is reached, STARTTLS and AUTH done, nothing sent; a wrong password fails.
		smtpSrv, err := mailtest.NewServer("reports@example.se", "s3cret")
		if err != nil {
			t.Fatal(err)
		}
		defer smtpSrv.Close()
		dir := t.TempDir()
		ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "smtp-password")
		os.WriteFile(ca, smtpSrv.CertPEM, 0o600)
		smtp := func(password string) string {
			os.WriteFile(pw, []byte(password+"\n"), 0o600)
			return fmt.Sprintf("smtp:\n  host: 127.0.0.1\n  port: %d\n  username: reports@example.se\n  password_file: %s\n  from: reports@example.se\n  to: [finance@example.se]\n  ca_file: %s\n", smtpSrv.Port, pw, ca)
		}
		h.writeConfig(h.srv.Creditor, job+smtp("s3cret"))
		code, out, stderr := h.run(context.Background(), "check", "--config", h.cfg)
		want := fmt.Sprintf("ok    smtp 127.0.0.1:%d (starttls, AUTH as reports@example.se)", smtpSrv.Port)
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("exit %d, want 0 and %q:\n%s\n%s", code, want, out, stderr)
		}
		h.writeConfig(h.srv.Creditor, job+smtp("wrong"))
		code, out, _ = h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(out, "FAIL  smtp 127.0.0.1") {
			t.Errorf("exit %d, want 2 with the relay named:\n%s", code, out)
		}
		if n := len(smtpSrv.Messages()); n != 0 {
			t.Errorf("check sent %d messages", n)
		}
	})
	t.Run("BadConfig", func(t *testing.T) {
		code, out, _ := h.run(context.Background(), "check", "--config", filepath.Join(h.dir, "missing.yaml"))
		if code != exitNoStart || !strings.Contains(out, "FAIL  config") {
			t.Errorf("exit %d, want 2:\n%s", code, out)
		}
	})
}
