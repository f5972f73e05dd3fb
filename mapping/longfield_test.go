package mapping

import (
	"io"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

// A cell of 100 kB is refused with its row; the rows beside it are read as usual and the
// error quotes only the cell's start.
func TestLongFieldRefusesRow(t *testing.T) {
	head := "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n"
	row := func(num, name string) string {
		return num + ",2025-09-01,2025-10-01,SEK," + name + ",556026-9986,100.00,25\n"
	}
	in := head + row("A1", "ACME") + row("A2", strings.Repeat("x", 100_000)) + row("A3", "ACME")
	r, err := NewReader(strings.NewReader(in), "big.csv", Options{Layout: canonical, Creditor: "c", Account: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var ok []string
	var errs []domain.RowError
	for {
		reg, rowErrs, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, rowErrs...)
		if reg != nil {
			ok = append(ok, reg.Items[0].InvoiceNumber)
		}
	}
	if strings.Join(ok, ",") != "A1,A3" {
		t.Errorf("registrations %v, want A1 and A3", ok)
	}
	if len(errs) != 1 || errs[0].Line != 3 || errs[0].Column != "customer.name" ||
		!strings.Contains(errs[0].Rule, "longer than 10000 characters") || len(errs[0].Value) > 80 {
		t.Errorf("errors %+v, want one for line 3, customer.name, with a short value", errs)
	}
}
