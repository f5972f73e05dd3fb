package main

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
)

// TestDryRunEvents dry-runs the event samples: each file's kind is read from its header, every
// event is printed as the JSON body it would be sent as, origin creditor_system and the
// configured account included, and nothing reaches the API.
func TestDryRunEvents(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	code, out, stderr := h.run(context.Background(), "import", "--dry-run", "--config", h.cfg,
		filepath.Join(h.dir, "payments.csv"), filepath.Join(h.dir, "credit-notes.csv"), filepath.Join(h.dir, "cancellations.csv"))
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var body struct {
			Account, Creditor, Origin string
			InvoiceNumber             string `json:"invoice_number"`
			Amount                    json.Number
			PaymentReference          string `json:"creditor_payment_reference"`
			CreditorReference         string `json:"creditor_reference"`
			CreditInvoice             string `json:"credit_invoice"`
		}
		if err := json.Unmarshal(sc.Bytes(), &body); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Text())
		}
		if body.Account != h.srv.Account || body.Creditor != h.srv.Creditor || body.Origin != "creditor_system" {
			t.Errorf("account %q, creditor %q, origin %q: want the configured ones and creditor_system", body.Account, body.Creditor, body.Origin)
		}
		got = append(got, strings.Join([]string{body.InvoiceNumber, string(body.Amount), body.PaymentReference + body.CreditorReference, body.CreditInvoice}, " "))
	}
	want := []string{"INV-2025-101 10000.00 BG-2025-0917 ", "INV-2025-102 500.00 SWISH-7731002 ",
		"INV-2025-101 896.23 CR-2025-001 KF-2025-001", "INV-2025-104 6000.00  KF-2025-002", "INV-2025-103   "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("printed\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(stderr, "0 registrations valid, 5 events valid, 0 rows with errors, 0 files refused") {
		t.Errorf("count line missing:\n%s", stderr)
	}
	if len(h.srv.Calls()) != 0 {
		t.Errorf("a dry run called the API: %v", h.srv.Calls())
	}

	t.Run("Table", func(t *testing.T) {
		code, out, _ := h.run(context.Background(), "import", "--dry-run", "--format", "table", "--config", h.cfg, filepath.Join(h.dir, "credit-notes.csv"))
		if code != exitOK {
			t.Errorf("exit %d", code)
		}
		for _, line := range []string{"credit-notes.csv  2     crediting  INV-2025-101", "896.23   SEK", "CR-2025-001", "KF-2025-002"} {
			if !strings.Contains(out, line) {
				t.Errorf("table lacks %q:\n%s", line, out)
			}
		}
	})
	t.Run("KindFlag", func(t *testing.T) {
		// A payment file read as a crediting file is refused on its payment columns.
		code, _, stderr := h.run(context.Background(), "import", "--dry-run", "--kind", "crediting", "--config", h.cfg, filepath.Join(h.dir, "payments.csv"))
		if code != exitSomeRows || !strings.Contains(stderr, "which a crediting file does not have") {
			t.Errorf("exit %d, want 1 with the column refused:\n%s", code, stderr)
		}
	})
}
