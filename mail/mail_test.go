package mail

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/mail/mailtest"
	"github.com/emersion/go-sasl"
)

func startServer(t *testing.T) *mailtest.Server {
	t.Helper()
	srv, err := mailtest.NewServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatalf("start SMTP server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// configFor points a Config at srv with STARTTLS required and its certificate as CA file.
func configFor(t *testing.T, srv *mailtest.Server, password string) Config {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{Host: srv.Host, Port: srv.Port, TLS: TLSStartTLS, Username: srv.Username, Password: password,
		From: "Amili Import <reports@example.se>", To: []string{"finance@example.se"}, Cc: []string{"cfo@example.se"},
		CAFile: ca, Timeout: 5 * time.Second, Backoff: time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
}

func TestSendRoundTrip(t *testing.T) {
	srv := startServer(t)
	s, err := New(configFor(t, srv, "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	csv := []byte("\uFEFFrecord;amount\r\nregistration;1234,56\r\n")
	subject, err := Subject("", SubjectData{Since: "2026-11-21 00:00", Until: "2026-11-22 00:00"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Subject: subject, HTML: `<p>Hej Åsa</p><img src="cid:chart.png">`,
		Inline:      []Part{{Name: "chart.png", ContentType: "image/png", Data: png}},
		Attachments: []Part{{Name: "report.csv", ContentType: "text/csv; charset=utf-8", Data: csv}}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.Auth != "reports@example.se" || m.Mech != sasl.Plain {
		t.Errorf("TLS %v, auth %q with %q: want STARTTLS and AUTH PLAIN", m.TLS, m.Auth, m.Mech)
	}
	if strings.Join(m.To, ",") != "finance@example.se,cfo@example.se" {
		t.Errorf("envelope recipients %q", m.To)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	gotSubject, _ := dec.DecodeHeader(msg.Header.Get("Subject"))
	for k, want := range map[string]string{"From": `"Amili Import" <reports@example.se>`, "To": "<finance@example.se>", "Cc": "<cfo@example.se>"} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	if gotSubject != "Amili reconciliation 2026-11-21 00:00 – 2026-11-22 00:00" {
		t.Errorf("Subject: got %q", gotSubject)
	}
	leaves, err := mailtest.Parts(msg.Header, msg.Body)
	if err != nil {
		t.Fatal(err)
	}
	var html, chart, att *mailtest.Part
	for i := range leaves {
		switch l := &leaves[i]; {
		case l.ContentType == "text/html":
			html = l
		case l.ContentType == "image/png":
			chart = l
		case l.Filename == "report.csv":
			att = l
		}
	}
	if html == nil || !strings.Contains(string(html.Body), "Hej Åsa") || !strings.Contains(string(html.Body), "cid:chart.png") {
		t.Fatalf("HTML part missing or wrong: %+v", html)
	}
	if chart == nil || chart.ContentID != "chart.png" || !bytes.Equal(chart.Body, png) || chart.Disposition != "inline" {
		t.Errorf("inline chart wrong: %+v", chart)
	}
	if att == nil || !bytes.Equal(att.Body, csv) || att.Disposition != "attachment" {
		t.Errorf("CSV attachment wrong: %+v", att)
	}
}

func TestWrongPasswordIsPermanent(t *testing.T) {
	srv := startServer(t)
	s, err := New(configFor(t, srv, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Subject: "x", HTML: "<p>x</p>"})
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("got %v, want *Error", err)
	}
	if me.Temporary || me.Attempts != 1 {
		t.Errorf("wrong password: temporary %v after %d attempts, want permanent after 1", me.Temporary, me.Attempts)
	}
	if !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q should name the authentication failure and not the password", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server accepted %d messages", n)
	}
}

func TestTemporaryFailureIsRetried(t *testing.T) {
	srv := startServer(t)
	cfg := configFor(t, srv, "s3cret")
	var waits []time.Duration
	cfg.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(451, 421)
	if err := s.Send(context.Background(), Message{Subject: "x", HTML: "<p>x</p>"}); err != nil {
		t.Fatalf("after two 4xx replies: %v", err)
	}
	if len(waits) != 2 || len(srv.Messages()) != 1 {
		t.Errorf("waited %v, delivered %d: want 2 waits and 1 message", waits, len(srv.Messages()))
	}
	if waits[1] < waits[0]/2 {
		t.Errorf("backoff did not grow: %v", waits)
	}
}

func TestPermanentReplyIsNotRetried(t *testing.T) {
	srv := startServer(t)
	s, err := New(configFor(t, srv, "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(554)
	err = s.Send(context.Background(), Message{Subject: "x", HTML: "<p>x</p>"})
	var me *Error
	if !errors.As(err, &me) || me.Temporary || me.Attempts != 1 {
		t.Fatalf("554: got %v, want a permanent *Error after 1 attempt", err)
	}
}

func TestConnectionRefusedIsTemporaryAndBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s, err := New(Config{Host: "127.0.0.1", Port: port, From: "a@example.se", To: []string{"b@example.se"},
		MaxAttempts: 3, Backoff: time.Millisecond, Timeout: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Subject: "x", HTML: "x"})
	var me *Error
	if !errors.As(err, &me) || !me.Temporary || me.Attempts != 3 {
		t.Fatalf("refused connection: got %v, want a temporary *Error after 3 attempts", err)
	}
}

func TestLoginAuth(t *testing.T) {
	srv := startServer(t)
	cfg := configFor(t, srv, "s3cret")
	cfg.Auth = "login"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Subject: "x", HTML: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].Mech != sasl.Login {
		t.Errorf("got %+v, want one message delivered with AUTH LOGIN", m)
	}
}

func TestUntrustedCertificateIsPermanent(t *testing.T) {
	srv := startServer(t)
	cfg := configFor(t, srv, "s3cret")
	cfg.CAFile = ""
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Subject: "x", HTML: "x"})
	var me *Error
	if !errors.As(err, &me) || me.Temporary {
		t.Fatalf("untrusted certificate: got %v, want a permanent *Error", err)
	}
}

func TestSubjectTemplate(t *testing.T) {
	got, err := Subject("Avstämning {{.Since}}–{{.Until}} {{.Creditor}}", SubjectData{Since: "a", Until: "b", Creditor: "c1"})
	if err != nil || got != "Avstämning a–b c1" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := Subject("{{.Nope}}", SubjectData{}); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestImplicitTLS(t *testing.T) {
	srv, err := mailtest.NewImplicitTLSServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := configFor(t, srv, "s3cret")
	cfg.TLS = TLSImplicit
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Subject: "x", HTML: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Errorf("implicit TLS: got %d messages (%+v)", len(m), m)
	}
}

func TestStartTLSRequiredOrOptional(t *testing.T) {
	srv, err := mailtest.NewPlainServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := configFor(t, srv, "s3cret")
	s, err := New(cfg) // starttls: required
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), Message{Subject: "x", HTML: "x"})
	var me *Error
	if !errors.As(err, &me) || me.Temporary || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("server without STARTTLS: got %v, want a permanent error naming STARTTLS", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("sent in the clear although STARTTLS is required")
	}
	cfg.TLS = TLSStartTLSOptional
	if s, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{Subject: "x", HTML: "x"}); err != nil {
		t.Fatalf("starttls_optional: %v", err)
	}
	if m := srv.Messages(); len(m) != 1 || m[0].TLS {
		t.Errorf("starttls_optional: got %+v, want one message in the clear", m)
	}
}

// TestCheck connects, starts TLS and authenticates against a real SMTP server without sending:
// right credentials pass, a wrong password fails as such, and no message is delivered.
func TestCheck(t *testing.T) {
	srv := startServer(t)
	s, err := New(configFor(t, srv, "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check with the right password: %v", err)
	}
	bad, err := New(configFor(t, srv, "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Check(context.Background()); err == nil {
		t.Error("Check with a wrong password succeeded")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("Check delivered %d messages, want none", n)
	}
}
