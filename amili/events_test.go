package amili_test

import (
	"context"
	"errors"
	"testing"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
)

// RegisterEvent sends each kind to its endpoint, by case or by invoice number, and FindEvents
// finds it again by its reference, across pages.
func TestSandboxEventsAndLookup(t *testing.T) {
	clk := newClock()
	s := amilitest.NewServer(amilitest.Options{SimpleAPICodes: []string{"c"}, Now: clk.Now})
	defer s.Close()
	c := sandboxClient(t, s, clk, amili.AuthConfig{APICode: "c"})
	ctx := context.Background()
	reg, err := c.RegisterInvoice(ctx, sandboxInvoice(s, "EV-1", 100000))
	if err != nil {
		t.Fatal(err)
	}
	bank := domain.NewDate(2026, 3, 1)
	for i := range 120 { // more than one page of payments
		ref := "PAY-" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		e := &domain.Event{Kind: domain.KindPayment, Payment: &domain.Payment{Creditor: s.Creditor, InvoiceNumber: "EV-1",
			Currency: "SEK", Amount: 100, BankTransactionDate: bank, CreditorPaymentReference: ref, Origin: domain.OriginCreditorSystem}}
		caseID := ""
		if i%2 == 0 {
			caseID = reg.Case
		}
		r, err := c.RegisterEvent(ctx, e, caseID)
		if err != nil || r.ID == "" || r.Status != "completed" {
			t.Fatalf("payment %d: %+v %v", i, r, err)
		}
	}
	credit := &domain.Event{Kind: domain.KindCrediting, Crediting: &domain.Crediting{Creditor: s.Creditor, InvoiceNumber: "EV-1",
		Currency: "SEK", Amount: 2550, CreditInvoice: "CN-9", Origin: domain.OriginCreditorSystem}}
	cr, err := c.RegisterEvent(ctx, credit, "")
	if err != nil {
		t.Fatal(err)
	}
	cancel := &domain.Event{Kind: domain.KindCancellation, Cancellation: &domain.Cancellation{Creditor: s.Creditor,
		InvoiceNumber: "EV-1", Origin: domain.OriginCreditorSystem}}
	if _, err := c.RegisterEvent(ctx, cancel, reg.Case); err != nil {
		t.Fatal(err)
	}

	all, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindPayment, Creditor: s.Creditor})
	if err != nil || len(all) != 120 {
		t.Fatalf("FindEvents(all payments) = %d, %v; want 120 over two pages", len(all), err)
	}
	one, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindPayment, Creditor: s.Creditor, Reference: "PAY-Ec"})
	if err != nil || len(one) != 1 || one[0].Amount != 100 || one[0].Case != reg.Case || one[0].Status != "completed" || one[0].Created.IsZero() {
		t.Fatalf("FindEvents(PAY-Ec) = %+v, %v", one, err)
	}
	got, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindCrediting, Creditor: s.Creditor, Reference: "CN-9", CreditInvoice: true})
	if err != nil || len(got) != 1 || got[0].ID != cr.ID || got[0].Amount != 2550 || got[0].Reference != "CN-9" {
		t.Fatalf("FindEvents(credit invoice CN-9) = %+v, %v", got, err)
	}
	if got, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindCrediting, Creditor: s.Creditor, Reference: "CN-9"}); err != nil || len(got) != 0 {
		t.Errorf("CN-9 as creditor_reference = %+v, %v; want none", got, err)
	}
	if got, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindCancellation, Creditor: s.Creditor, Case: reg.Case}); err != nil || len(got) != 1 {
		t.Errorf("cancellation by case = %+v, %v", got, err)
	}
	// The case is closed: a payment after the cancellation is refused, permanently.
	late := &domain.Event{Kind: domain.KindPayment, Payment: &domain.Payment{Creditor: s.Creditor, InvoiceNumber: "EV-1",
		Currency: "SEK", Amount: 100, BankTransactionDate: bank, CreditorPaymentReference: "LATE", Origin: domain.OriginCreditorSystem}}
	if _, err := c.RegisterEvent(ctx, late, ""); amili.ClassOf(err) != amili.Permanent {
		t.Errorf("payment on a cancelled case: %v, want a permanent refusal", err)
	}
}

// A lookup set to none, or one the server does not serve, is ErrNoLookup.
func TestFindEventsNoLookup(t *testing.T) {
	clk := newClock()
	s := amilitest.NewServer(amilitest.Options{SimpleAPICodes: []string{"c"}, Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	var p amili.Paths
	if err := p.Set("creditor_payments_lookup", amili.NoLookup); err != nil {
		t.Fatal(err)
	}
	if err := p.Set("creditor_creditings_lookup", "/no-such-listing"); err != nil {
		t.Fatal(err)
	}
	c, err := amili.New(amili.Config{BaseURL: s.URL, Auth: amili.AuthConfig{APICode: "c"},
		Now: clk.Now, Sleep: clk.Sleep, RateLimit: 1e6, Burst: 1000, Paths: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindPayment, Creditor: s.Creditor, Reference: "X"}); !errors.Is(err, amili.ErrNoLookup) {
		t.Errorf("payments lookup none: %v, want ErrNoLookup", err)
	}
	if _, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindCrediting, Creditor: s.Creditor, Reference: "X"}); !errors.Is(err, amili.ErrNoLookup) {
		t.Errorf("creditings lookup 404: %v, want ErrNoLookup", err)
	}
	// The cancellations lookup still defaults to its POST path.
	if _, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindCancellation, Creditor: s.Creditor, InvoiceNumber: "X"}); err != nil {
		t.Errorf("cancellations lookup: %v", err)
	}
	if _, err := c.FindEvents(ctx, amili.EventQuery{Kind: domain.KindInvoice, Creditor: s.Creditor}); err == nil {
		t.Error("FindEvents of an invoice kind did not fail")
	}
}
