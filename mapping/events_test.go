package mapping

import (
	"errors"
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
