package report

import (
	"bytes"
	"context"
	"image/png"
	"mime"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mail"
	"github.com/amili-import/amili-import/mail/mailtest"
)

func sender(t *testing.T, srv *mailtest.Server, password string) *mail.Sender {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := mail.New(mail.Config{Host: srv.Host, Port: srv.Port, TLS: mail.TLSStartTLS, Username: srv.Username,
		Password: password, From: "reports@example.se", To: []string{"finance@example.se"}, Cc: []string{"cfo@example.se"},
		CAFile: ca, Timeout: 5 * time.Second, Backoff: time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDeliveryOverSMTP runs the scheduled report against a real SMTP server: a wrong password
// keeps the report for later, the next run sends it once, and a period is never sent twice.
func TestDeliveryOverSMTP(t *testing.T) {
	srv, err := mailtest.NewServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f := newFixture(t)
	file := f.file("in/invoices-20261121.csv")
	f.register(file, 2, item{creditor: f.sb.Creditor, number: "INV-1", customer: "Åsa Öberg", amount: 125050}, pdfUpload)
	f.register(file, 3, item{creditor: f.sb.Creditor, number: "INV-2", customer: "Bo Ek", amount: 100}, pdfMissing)
	f.finish(file, domain.Counts{Rows: 2, Registrations: 2, Registered: 2, PDFsAttached: 1, NoPDF: 1})

	ctx := context.Background()
	now := time.Date(2026, 11, 22, 6, 0, 0, 0, stockholm)
	out := t.TempDir()
	rc := config.Report{Name: "daily", Creditor: f.sb.Creditor, OutDir: out}
	deps := f.deps()
	deps.Subject = "Avstämning {{.Since}} – {{.Until}} {{.Creditor}}"

	// 1. Wrong password: a clear error, the report on disk, recorded for the next run.
	deps.Mailer = sender(t, srv, "wrong")
	err = RunScheduled(ctx, deps, rc, now)
	if err == nil || !strings.Contains(err.Error(), "AUTH") || !strings.Contains(err.Error(), "permanent") {
		t.Fatalf("wrong password: got %v, want a permanent authentication error", err)
	}
	pending, err := f.led.PendingReports(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].State != ledger.DeliveryFailed || pending[0].LastError == "" {
		t.Fatalf("after the failure the ledger holds %+v, want one failed delivery with its reason", pending)
	}
	dir := pending[0].Path
	if want := OutDir(out, Period{Since: periodSince, Until: periodUntil, Creditor: f.sb.Creditor}, stockholm); dir != want {
		t.Errorf("report kept in %s, want %s", dir, want)
	}
	if !pending[0].Since.Equal(periodSince) || !pending[0].Until.Equal(periodUntil) {
		t.Errorf("recorded period %v – %v, want the previous day", pending[0].Since, pending[0].Until)
	}
	for _, name := range []string{HTMLFile, CSVFile, ChartFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("report not kept on disk: %v", err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages accepted with a wrong password", n)
	}

	// 2. The next run, with the right password, sends the kept report and marks it sent.
	deps.Mailer = sender(t, srv, "s3cret")
	if err := RunScheduled(ctx, deps, rc, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if pending, _ := f.led.PendingReports(ctx); len(pending) != 0 {
		t.Errorf("still pending after a successful send: %+v", pending)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	checkMessage(t, msgs[0], dir, f.sb.Creditor)

	// 3. The same period is never sent again: not by the schedule, not on request.
	if err := RunScheduled(ctx, deps, rc, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := Deliver(ctx, deps, Period{Since: periodSince, Until: periodUntil, Creditor: f.sb.Creditor}, t.TempDir(), true); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("server got %d messages after sending the same period again, want still 1", n)
	}
}

func checkMessage(t *testing.T, m mailtest.Message, dir, creditor string) {
	t.Helper()
	if !m.TLS || m.Auth != "reports@example.se" {
		t.Errorf("sent without STARTTLS or AUTH: TLS %v auth %q", m.TLS, m.Auth)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if want := "Avstämning 2026-11-21 00:00 – 2026-11-22 00:00 " + creditor; subject != want {
		t.Errorf("Subject %q, want %q", subject, want)
	}
	for k, want := range map[string]string{"From": "<reports@example.se>", "To": "<finance@example.se>", "Cc": "<cfo@example.se>"} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	csvOnDisk, err := os.ReadFile(filepath.Join(dir, CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	var html, chart, csv *mailtest.Part
	leaves, err := mailtest.Parts(msg.Header, msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range leaves {
		switch l := &leaves[i]; {
		case l.ContentType == "text/html":
			html = l
		case l.ContentType == "image/png":
			chart = l
		case l.Filename == CSVFile:
			csv = l
		}
	}
	if html == nil {
		t.Fatal("no HTML part")
	}
	for _, want := range []string{`src="cid:chart.png"`, "Åsa Öberg", "1\u202f250.50", "INV-2"} {
		if !strings.Contains(string(html.Body), want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	if chart == nil || chart.ContentID != ChartFile {
		t.Fatalf("no inline chart with Content-ID %s", ChartFile)
	}
	if _, err := png.Decode(bytes.NewReader(chart.Body)); err != nil {
		t.Errorf("inline chart does not decode: %v", err)
	}
	if csv == nil || !bytes.Equal(csv.Body, csvOnDisk) {
		t.Error("CSV attachment differs from report.csv on disk")
	}
}

func TestDuePeriod(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 6, 0, 0, 0, stockholm)
	p, due, err := DuePeriod(ctx, f.led, "", now, stockholm)
	if err != nil || !due || !p.Since.Equal(periodSince) || !p.Until.Equal(periodUntil) {
		t.Fatalf("first period: %v – %v due %v (%v), want the previous day", p.Since, p.Until, due, err)
	}
	if _, err := f.led.RecordReport(ctx, "", p.ledger(), "x"); err != nil {
		t.Fatal(err)
	}
	if _, due, _ := DuePeriod(ctx, f.led, "", now.Add(3*time.Hour), stockholm); due {
		t.Error("a period is due again on the same day")
	}
	p, due, _ = DuePeriod(ctx, f.led, "", now.AddDate(0, 0, 3), stockholm)
	if !due || !p.Since.Equal(periodUntil) || !p.Until.Equal(periodUntil.AddDate(0, 0, 3)) {
		t.Errorf("after three days: %v – %v, want from the last report's end to today", p.Since, p.Until)
	}
}
