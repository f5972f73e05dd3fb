package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
)

// submissionOf is the ledger's submission holding number.
func (h *harness) submissionOf(number string) ledger.Submission {
	h.t.Helper()
	lg, err := ledger.Open(context.Background(), h.db, ledger.Options{ReadOnly: true})
	if err != nil {
		h.t.Fatal(err)
	}
	defer lg.Close()
	s, _, err := lg.History(context.Background(), h.srv.Creditor, number)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// TestAnswerWithoutCaseIsHeld: Amili stores a registration but its 201 names no case (an
// invoice without "_case", a case registration whose "_cases" is one short). The run says so
// (exit 1, failed, the reason in the summary), attaches nothing, and never sends it again.
func TestAnswerWithoutCaseIsHeld(t *testing.T) {
	for _, tt := range []struct{ file, number string }{
		{"invoices.csv", "INV-2025-102"},
		{"cases.csv", "INV-2025-011"}, // the second of Tolvan's two debts in one registration
	} {
		t.Run(tt.file, func(t *testing.T) {
			h := newHarness(t, amilitest.Options{Faults: amilitest.Faults{
				ByInvoiceNumber: map[string]string{tt.number: amilitest.FaultNoCaseID}}})
			code, sum, stderr := h.importFiles(nil, tt.file)
			if code != exitSomeRows {
				t.Errorf("exit %d, want 1", code)
			}
			if sum.Failed != 1 || sum.Reasons[importer.HeldReason] != 1 {
				t.Errorf("failed %d, reasons %v; want 1 failed, held", sum.Failed, sum.Reasons)
			}
			if !strings.Contains(stderr, "does not account") {
				t.Errorf("the log does not say why:\n%s", stderr)
			}
			for _, id := range h.casesByInvoice()[tt.number] {
				if n := len(h.srv.Uploads(id)); n != 0 {
					t.Errorf("%s: %d PDFs attached to a case the answer did not name", tt.number, n)
				}
			}
			s := h.submissionOf(tt.number)
			if s.State != ledger.StateSending || s.Accepted.IsZero() || !strings.Contains(s.LastError, "never sent again") {
				t.Errorf("ledger: state %s, accepted %v, last error %q; want sending, accepted, held", s.State, s.Accepted, s.LastError)
			}
			h.importFiles(nil, tt.file)
			if n := h.srv.RegistrationCount(h.srv.Creditor, tt.number); n != 1 {
				t.Errorf("%s registered %d times, want 1", tt.number, n)
			}
		})
	}
}

// TestAnswerNamingAnotherInvoicesCaseIsHeld: Amili stores an invoice but answers with the case
// of the invoice registered before it. That case keeps only its own PDF; the new invoice is
// held (exit 1) and not sent again.
func TestAnswerNamingAnotherInvoicesCaseIsHeld(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	if code, _, stderr := h.importFiles(nil, "invoices.csv"); code != exitOK {
		t.Fatalf("first import: exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	var extra strings.Builder
	extra.WriteString(lines[0] + "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "INV-2025-104,") {
			extra.WriteString(strings.ReplaceAll(l, "INV-2025-104", "INV-2025-900") + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(h.dir, "more.csv"), []byte(extra.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(h.dir, "INV-2025-104.pdf"), filepath.Join(h.dir, "INV-2025-900.pdf"))
	h.srv.SetFaults(amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-900": amilitest.FaultSharedCaseID}})

	code, sum, _ := h.importFiles(nil, "more.csv")
	if code != exitSomeRows || sum.Failed != 1 || sum.Reasons[importer.HeldReason] != 1 {
		t.Errorf("exit %d, failed %d, reasons %v; want 1, 1, held", code, sum.Failed, sum.Reasons)
	}
	for num, ids := range h.casesByInvoice() {
		for _, id := range ids {
			if n := len(h.srv.Uploads(id)); n > 1 {
				t.Errorf("%s's case %s holds %d PDFs, want only its own", num, id, n)
			}
		}
	}
	for _, id := range h.casesByInvoice()["INV-2025-900"] {
		if n := len(h.srv.Uploads(id)); n != 0 {
			t.Errorf("INV-2025-900's own case got a PDF though the answer named another case")
		}
	}
	s := h.submissionOf("INV-2025-900")
	if s.State != ledger.StateSending || s.Accepted.IsZero() || !strings.Contains(s.LastError, "already belongs to invoice number") {
		t.Errorf("ledger: state %s, accepted %v, last error %q; want sending, accepted, naming the other invoice", s.State, s.Accepted, s.LastError)
	}
	h.importFiles(nil, "more.csv")
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-900"); n != 1 {
		t.Errorf("INV-2025-900 registered %d times, want 1", n)
	}
}
