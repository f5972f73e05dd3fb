package mapping

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

// TestNextAndNextEventRefuseTheOtherKind holds each reading method to its kinds of file: a
// registration file read as events, or an event file read as registrations, is a *FileError
// that says which method reads it, and nothing is returned from its rows.
func TestNextAndNextEventRefuseTheOtherKind(t *testing.T) {
	const invoices = "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n" +
		"A1,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,100.00,25\n"
	const payments = "invoice_number,amount,currency,bank_transaction_date,creditor_payment_reference\nA1,10.00,SEK,2025-10-03,P-1\n"
	opts := Options{Account: "acc-1", Creditor: "cred-1"}

	r, err := NewReader(strings.NewReader(invoices), "inv.csv", opts)
	if err != nil {
		t.Fatal(err)
	}
	ev, errs, err := r.NextEvent()
	var fe *FileError
	if !errors.As(err, &fe) || ev != nil || errs != nil || !strings.Contains(err.Error(), "an invoice file holds registrations, not events: it is read with Next") {
		t.Fatalf("NextEvent on an invoice file = %v, %v, %v; want a *FileError naming Next", ev, errs, err)
	}
	if reg, _, err := r.Next(); err != nil || reg == nil {
		t.Fatalf("Next after the refused NextEvent = %v, %v; want the registration", reg, err)
	}

	r, err = NewReader(strings.NewReader(payments), "pay.csv", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind() != domain.KindPayment {
		t.Fatalf("kind %q, want payment from the header", r.Kind())
	}
	reg, errs, err := r.Next()
	if !errors.As(err, &fe) || reg != nil || errs != nil || !strings.Contains(err.Error(), "pay.csv: a payment file holds events, not registrations: it is read with NextEvent") {
		t.Fatalf("Next on a payment file = %v, %v, %v; want a *FileError naming NextEvent", reg, errs, err)
	}
	if ev, _, err := r.NextEvent(); err != nil || ev == nil || ev.Key != "P-1" || ev.Line != 2 || ev.File != "pay.csv" {
		t.Fatalf("NextEvent after the refused Next = %+v, %v; want payment P-1 at pay.csv:2", ev, err)
	}
}

// TestEventKindFromOptions holds the job's kind above the header: a payment header read as a
// crediting file is refused on the column crediting files do not have.
func TestEventKindFromOptions(t *testing.T) {
	const payments = "invoice_number,amount,currency,bank_transaction_date,creditor_payment_reference\nA1,10.00,SEK,2025-10-03,P-1\n"
	_, err := NewReader(strings.NewReader(payments), "pay.csv", Options{Kind: domain.KindCrediting, Creditor: "c"})
	if err == nil || err.Error() != `pay.csv:1: column "bank_transaction_date": column maps to bank_transaction_date, which a crediting file does not have` {
		t.Fatalf("err = %v", err)
	}
	_, err = NewReader(strings.NewReader(payments), "pay.csv", Options{Kind: "refund", Creditor: "c"})
	if err == nil || !strings.Contains(err.Error(), `kind "refund" is not invoice, case, payment, crediting or cancellation`) {
		t.Fatalf("err = %v", err)
	}
}

// readEvents reads a whole event file and returns the events and every row error.
func readEvents(t *testing.T, path string, opts Options) ([]*domain.Event, []domain.RowError) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, filepath.Base(path), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var evs []*domain.Event
	var errs []domain.RowError
	for {
		ev, e, err := r.NextEvent()
		if err == io.EOF {
			return evs, errs
		}
		if err != nil {
			t.Fatalf("NextEvent: %v", err)
		}
		errs = append(errs, e...)
		if ev != nil {
			evs = append(evs, ev)
		}
	}
}

// TestEventSamples holds the event samples to what samples/README.md says of them: each is
// read without a problem as the kind its header shows, names invoices that invoices.csv
// registers, pays and credits each less than its total, and cancels an invoice that is neither
// paid nor credited; one credit has a creditor_reference, one only a credit_invoice.
func TestEventSamples(t *testing.T) {
	opts := Options{Account: "a", Creditor: "c"}
	regs, errs := readAll(t, "../samples/invoices.csv", opts)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	totals := map[string]domain.Amount{}
	for _, reg := range regs {
		totals[reg.Items[0].InvoiceNumber] = reg.Items[0].Amount
	}
	moved := map[string]domain.Amount{}
	cancelled := map[string]bool{}
	byRef, byCreditInvoice := 0, 0
	for _, tt := range []struct {
		file string
		kind domain.Kind
		n    int
	}{{"payments.csv", domain.KindPayment, 2}, {"credit-notes.csv", domain.KindCrediting, 2}, {"cancellations.csv", domain.KindCancellation, 1}} {
		evs, errs := readEvents(t, filepath.Join("../samples", tt.file), opts)
		if len(errs) != 0 || len(evs) != tt.n {
			t.Fatalf("%s: %d events, problems %v; want %d events and no problem", tt.file, len(evs), errs, tt.n)
		}
		for _, ev := range evs {
			inv, caseID := ev.Target()
			if ev.Kind != tt.kind || caseID != "" || totals[inv] == 0 {
				t.Errorf("%s:%d: kind %s for %q/%q; want %s naming an invoice of invoices.csv", tt.file, ev.Line, ev.Kind, inv, caseID, tt.kind)
			}
			a, _ := ev.Amount()
			moved[inv] += a
			if ev.Cancellation != nil {
				cancelled[inv] = true
			}
			if c := ev.Crediting; c != nil && c.CreditorReference != "" {
				byRef++
			} else if c != nil && c.CreditInvoice != "" {
				byCreditInvoice++
			}
		}
	}
	for inv, a := range moved {
		if a >= totals[inv] || cancelled[inv] && a != 0 {
			t.Errorf("%s: paid and credited %s of %s, cancelled %v", inv, a, totals[inv], cancelled[inv])
		}
	}
	if len(cancelled) != 1 || byRef != 1 || byCreditInvoice != 1 {
		t.Errorf("%d cancelled, %d credits by reference, %d by credit invoice; want 1 each", len(cancelled), byRef, byCreditInvoice)
	}
}

// TestEventFieldsDocumented holds samples/README.md to the event layouts: every field of an
// event file is named there.
func TestEventFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../samples/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for f := field(0); f < numFields; f++ {
		if fieldDefs[f].scope&scopeEvents != 0 && !strings.Contains(string(doc), "| `"+f.String()+"` |") {
			t.Errorf("samples/README.md has no row for %s", f)
		}
	}
}
