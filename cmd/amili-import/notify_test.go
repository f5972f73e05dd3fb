package main

import (
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/mail/mailtest"
)

// decoded is a notice's headers and its quoted-printable body, decoded.
func decoded(t *testing.T, m mailtest.Message) string {
	t.Helper()
	head, body, _ := strings.Cut(string(m.Data), "\r\n\r\n")
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return head + "\n\n" + string(b)
}

// TestFailureNoticeOncePerIncident: with notify.email set, a failing job e-mails the operator
// over a real SMTP exchange (STARTTLS, AUTH) once when it starts failing, with the reason and the
// command to inspect it; runs that keep failing send nothing more; after a successful run, the
// next failure is told again. A quarantined file is told too.
func TestFailureNoticeOncePerIncident(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	smtpSrv, err := mailtest.NewServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	root := filepath.Dir(h.cfg)
	ca, pw := filepath.Join(root, "ca.pem"), filepath.Join(root, "smtp-password")
	os.WriteFile(ca, smtpSrv.CertPEM, 0o600)
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	drop := filepath.Join(root, "drop")
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("invoices", "", drop, 1)+fmt.Sprintf(`notify:
  email: ops@example.se
smtp:
  host: 127.0.0.1
  port: %d
  username: reports@example.se
  password_file: %s
  from: reports@example.se
  to: [finance@example.se]
  ca_file: %s
`, smtpSrv.Port, pw, ca))
	run := func(want int) {
		t.Helper()
		if code, out, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg); code != want {
			t.Fatalf("run: exit %d, want %d\n%s\n%s", code, want, out, stderr)
		}
	}
	notices := func(want int) []mailtest.Message {
		t.Helper()
		msgs := smtpSrv.Messages()
		if len(msgs) != want {
			t.Fatalf("%d notices, want %d", len(msgs), want)
		}
		return msgs
	}

	run(exitNoStart) // the inbox does not exist
	m := notices(1)[0]
	body := decoded(t, m)
	if len(m.To) != 1 || m.To[0] != "ops@example.se" || !m.TLS || m.Auth != "reports@example.se" {
		t.Errorf("notice went to %v (TLS %v, auth %q), want ops@example.se over TLS with AUTH", m.To, m.TLS, m.Auth)
	}
	for _, want := range []string{"Subject: amili-import: job invoices failed", drop, "amili-import run invoices --config " + h.cfg} {
		if !strings.Contains(body, want) {
			t.Errorf("notice lacks %q:\n%s", want, body)
		}
	}
	run(exitNoStart)
	run(exitNoStart)
	notices(1) // still the same incident

	os.MkdirAll(drop, 0o755)
	run(exitOK)
	notices(1)
	os.RemoveAll(drop)
	run(exitNoStart)
	notices(2) // failing anew is a new incident

	os.MkdirAll(drop, 0o755)
	os.WriteFile(filepath.Join(drop, "broken.csv"), []byte("no,such,layout\n1,2,3\n"), 0o644)
	run(exitSomeRows)
	m = notices(3)[2]
	if body := decoded(t, m); !strings.Contains(body, "quarantined broken.csv") || !strings.Contains(body, "error.txt") {
		t.Errorf("quarantine notice:\n%s", body)
	}
}
