package main

import (
	"testing"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/internal/logging"
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
