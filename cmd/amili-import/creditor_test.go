package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
)

// TestRowNamingAnInactiveCreditorIsRefusedAlone: one row of a file names an inactive creditor.
// That row is refused with its line and rule; the other rows are registered, the run exits 1,
// and the file is finished, not left partial.
func TestRowNamingAnInactiveCreditorIsRefusedAlone(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	csv := "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.article_description,matrix.number_of_units,matrix.unit_price,matrix.total_price_excluding_vat,matrix.unit_vat_percent,creditor\n" +
		"OK-1,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,Work,1,100.00,100.00,25,\n" +
		"OFF-2,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,Work,1,100.00,100.00,25," + h.srv.InactiveCreditor + "\n" +
		"OK-3,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,Work,1,100.00,100.00,25,\n"
	if err := os.WriteFile(filepath.Join(h.dir, "mixed.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(h.srv.Creditor, "")
	code, out, stderr := h.run(t.Context(), "import", "--config", h.cfg, "--pdf", "optional", filepath.Join(h.dir, "mixed.csv"))
	if code != exitSomeRows {
		t.Fatalf("exit %d, want 1; stdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `column "creditor": creditor `+h.srv.InactiveCreditor+" is not active at Amili") {
		t.Errorf("the summary does not give the rule; stdout:\n%s", out)
	}
	db := dumpLedger(t, h.db)
	if !strings.Contains(db, "row_errors.line: 3\n") || !strings.Contains(db, "row_errors.column_name: creditor\n") ||
		!strings.Contains(db, "row_errors.invoice_number: OFF-2\n") {
		t.Errorf("the ledger holds no row error for line 3, column creditor, OFF-2")
	}
	for _, n := range []string{"OK-1", "OK-3"} {
		if got := h.srv.RegistrationCount(h.srv.Creditor, n); got != 1 {
			t.Errorf("%s registered %d times, want 1", n, got)
		}
	}
	if got := h.srv.RegistrationCount(h.srv.InactiveCreditor, "OFF-2"); got != 0 {
		t.Errorf("OFF-2 sent %d times for the inactive creditor", got)
	}
	if strings.Contains(out, "partial") {
		t.Errorf("the file is left partial:\n%s", out)
	}
}
