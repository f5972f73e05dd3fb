package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/schedules"
)

// The flow guides' endpoint spellings, configured under amili.paths, reach the client.
func TestClientConfigPaths(t *testing.T) {
	cfg, err := config.Parse([]byte(`amili:
  auth: {method: token, token_env: T}
  paths:
    invoice_registrations: /invoice-registration
    creditor_creditings: /creditor-crediting
    case: /cases/{id}
`), "c.yaml", func(string) string { return "tok" })
	if err != nil {
		t.Fatal(err)
	}
	cc, err := clientConfig(cfg, func(string) string { return "tok" }, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cc.Paths.InvoiceRegistrations, "/invoice-registration"; got != want {
		t.Errorf("invoice registrations path: got %q, want %q", got, want)
	}
	if got, want := cc.Paths.Creditings, "/creditor-crediting"; got != want {
		t.Errorf("creditings path: got %q, want %q", got, want)
	}
	if got, want := cc.Paths.CaseRegistrations, "/case--registrations"; got != want {
		t.Errorf("unset path: got %q, want the default %q", got, want)
	}
	if _, err := config.Parse([]byte("amili:\n  paths: {invoices: /x}\n"), "c.yaml", nil); err == nil {
		t.Error("an unknown amili.paths key was accepted")
	}
}

// The translator from config to options takes each left-out key's default from the package
// that owns it, and checks what spans two packages.
func TestTranslatorDefaultsAndCrossChecks(t *testing.T) {
	parse := func(t *testing.T, src string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(src), "c.yaml", func(string) string { return "x" })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := parse(t, "amili:\n  auth: {token_env: T}\n")
	if g, err := inDoubtGrace(cfg); err != nil || g != importer.DefaultInDoubtGrace {
		t.Errorf("in-doubt grace: got %v, %v; want the importer's %v", g, err, importer.DefaultInDoubtGrace)
	}
	if got := leaseTTL(cfg); got != schedules.DefaultLeaseTTL {
		t.Errorf("lease TTL: got %v, want %v", got, schedules.DefaultLeaseTTL)
	}
	if got := drainTimeout(cfg); got != importer.DefaultDrainTimeout {
		t.Errorf("drain timeout: got %v, want %v", got, importer.DefaultDrainTimeout)
	}

	var ce *config.Error
	// A client timeout of 6m makes the default grace of 10m too short.
	_, err := inDoubtGrace(parse(t, "amili:\n  timeout: 6m\n  auth: {token_env: T}\n"))
	if !errors.As(err, &ce) || ce.Key != "amili.in_doubt_grace" {
		t.Errorf("grace under twice the timeout: got %v, want an error on amili.in_doubt_grace", err)
	}

	// With no method, a private key alone makes it jwt, which needs the API code too.
	key := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = clientConfig(parse(t, "amili:\n  auth: {private_key_file: "+key+"}\n"), func(string) string { return "" }, logging.Discard())
	if !errors.As(err, &ce) || ce.Key != "amili.auth.api_code_env" {
		t.Errorf("jwt without an API code: got %v, want an error on amili.auth.api_code_env", err)
	}
}

// A config whose in-doubt grace is under twice the client timeout is refused when it loads, by
// the daemon as by a one-shot run: not at the first scheduled run.
func TestGraceUnderTwiceTheTimeoutIsRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	src := "ledger: {path: " + filepath.Join(dir, "l.db") + "}\namili:\n  timeout: 10m\n  auth: {token_env: T}\n" +
		"jobs:\n  - name: j\n    schedule: \"@every 1m\"\n    source: {dir: " + dir + "}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("T", "tok")
	for _, args := range [][]string{{"daemon", "--config", cfg}, {"run", "--config", cfg, "j"}, {"check", "--config", cfg}} {
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a daemon that starts stops here
		code := run(ctx, args, &out, &errb)
		cancel()
		if code != exitNoStart || !strings.Contains(out.String()+errb.String(), "amili.in_doubt_grace") {
			t.Errorf("%s: exit %d, %q; want exit %d naming amili.in_doubt_grace", args[0], code, out.String()+errb.String(), exitNoStart)
		}
	}
}

// amili.auth.token_ttl, documented as a setting, reaches the client.
func TestClientConfigTokenTTL(t *testing.T) {
	cfg, err := config.Parse([]byte("amili:\n  auth: {method: api_code, api_code_env: C, token_ttl: 15m}\n"), "c.yaml", func(string) string { return "code" })
	if err != nil {
		t.Fatal(err)
	}
	cc, err := clientConfig(cfg, func(string) string { return "code" }, logging.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cc.Auth.TokenTTL, 15*time.Minute; got != want {
		t.Errorf("token ttl: got %v, want %v", got, want)
	}
}

// jobs[].source.archive_pdfs reaches the source: on unless set to false.
func TestSourceOptionsArchivePDFs(t *testing.T) {
	const job = `amili:
  account: 674dbeaf08847b9501cc9132
  creditor: 674dbeb208847b9501cc9138
  auth: {token_env: T}
jobs:
  - name: invoices
    source:
      dir: /srv/in
`
	for src, leave := range map[string]bool{
		job:                                 false,
		job + "      archive_pdfs: true\n":  false,
		job + "      archive_pdfs: false\n": true,
	} {
		cfg, err := config.Parse([]byte(src), "c.yaml", func(string) string { return "x" })
		if err != nil {
			t.Fatal(err)
		}
		if got := sourceOptions(cfg, cfg.Jobs[0], logging.Discard()).LeavePDFs; got != leave {
			t.Errorf("LeavePDFs = %v, want %v for\n%s", got, leave, src)
		}
	}
}
