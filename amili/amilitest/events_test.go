package amilitest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

// Every applied payment, crediting and cancellation is listed on its resource's path, filtered
// by where on its references, and kept for Events.
func TestEventListings(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	inv := func(n string) string {
		m := post(t, s, "/invoice--registrations", with(t, testdata(t, "invoice.json"), "invoice_number", n), http.StatusCreated)
		return m["_case"].(string)
	}
	caseA, caseB := inv("EV-A"), inv("EV-B")
	post(t, s, "/creditor--creditings", with(t, testdata(t, "crediting.json"), "case", nil,
		"invoice_number", "EV-A", "amount", 100, "creditor_reference", "CN-1"), http.StatusCreated)
	post(t, s, "/creditor--payments", with(t, testdata(t, "payment.json"), "case", caseA,
		"amount", "150.50", "creditor_payment_reference", "PAY-1"), http.StatusCreated)
	post(t, s, "/creditor--payments", with(t, testdata(t, "payment.json"), "case", caseB,
		"amount", 10, "creditor_payment_reference", "PAY-2"), http.StatusCreated)
	post(t, s, "/creditor-cancellation", with(t, testdata(t, "cancellation.json"), "case", nil,
		"invoice_number", "EV-B"), http.StatusCreated)

	list := func(path, where string) []any {
		t.Helper()
		q := path
		if where != "" {
			q += "?where=" + url.QueryEscape(where)
		}
		return get(t, s, q)["_items"].([]any)
	}
	if got := list("/creditor--payments", ""); len(got) != 2 {
		t.Fatalf("payments listed: %d, want 2", len(got))
	}
	pay := list("/creditor--payments", `{"creditor_payment_reference":"PAY-1"}`)
	if len(pay) != 1 {
		t.Fatalf("PAY-1 listed %d times, want 1", len(pay))
	}
	p := pay[0].(map[string]any)
	if p["case"] != caseA || p["amount"] != 150.5 || p["_payment_status"] != "completed" || p["currency"] != "SEK" {
		t.Errorf("PAY-1 listed as %v", p)
	}
	// The crediting named the invoice number; the listing names the case it applied to too.
	cr := list("/creditor-crediting", `{"creditor_reference":"CN-1"}`)
	if len(cr) != 1 || cr[0].(map[string]any)["case"] != caseA || cr[0].(map[string]any)["invoice_number"] != "EV-A" {
		t.Errorf("CN-1 listed as %v", cr)
	}
	if got := list("/creditor--creditings", `{"creditor_reference":"CN-2"}`); len(got) != 0 {
		t.Errorf("an unknown reference listed %v", got)
	}
	if got := list("/creditor--cancellations", `{"case":"`+caseB+`"}`); len(got) != 1 ||
		got[0].(map[string]any)["_cancellation_status"] != "completed" {
		t.Errorf("cancellation of EV-B listed as %v", got)
	}
	// Paging, as for GET /cases.
	m := get(t, s, "/creditor--payments?max_results=1&page=2")
	if items := m["_items"].([]any); len(items) != 1 || items[0].(map[string]any)["creditor_payment_reference"] != "PAY-2" {
		t.Errorf("page 2 of 1: %v", items)
	}
	if meta := m["_meta"].(map[string]any); meta["total"] != 2.0 {
		t.Errorf("_meta %v, want total 2", meta)
	}
	code, body, _ := do(t, "GET", s.URL+"/creditor--payments?where="+url.QueryEscape(`{"amount":{"$gt":1}}`), "", "")
	assertAPIError(t, code, body, http.StatusBadRequest, "")

	evs := s.Events()
	if len(evs) != 4 {
		t.Fatalf("Events: %d, want 4", len(evs))
	}
	want := []struct {
		kind domain.Kind
		ref  string
		amt  domain.Amount
	}{{domain.KindCrediting, "CN-1", 10000}, {domain.KindPayment, "PAY-1", 15050}, {domain.KindPayment, "PAY-2", 1000}, {domain.KindCancellation, "", 0}}
	for i, w := range want {
		if e := evs[i]; e.Kind != w.kind || e.Reference != w.ref || e.Amount != w.amt {
			t.Errorf("event %d: %s %q %s, want %s %q %s", i, e.Kind, e.Reference, e.Amount, w.kind, w.ref, w.amt)
		}
	}
}

// A credit or payment larger than the remaining capital is refused; a closed case takes none.
func TestEventRefusals(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	id := post(t, s, "/invoice--registrations", with(t, testdata(t, "invoice.json"), "invoice_number", "R-1"), http.StatusCreated)["_case"].(string)
	code, m, _ := do(t, "POST", s.URL+"/creditor--creditings", "", with(t, testdata(t, "crediting.json"), "case", id, "amount", "500.01"))
	assertAPIError(t, code, m, http.StatusUnprocessableEntity, "amount")
	post(t, s, "/creditor--cancellations", with(t, testdata(t, "cancellation.json"), "case", id), http.StatusCreated)
	code, m, _ = do(t, "POST", s.URL+"/creditor--payments", "", with(t, testdata(t, "payment.json"), "case", id, "amount", 1))
	assertAPIError(t, code, m, http.StatusUnprocessableEntity, "case")
	// Cancelling again is a warning, not an error.
	again := post(t, s, "/creditor--cancellations", with(t, testdata(t, "cancellation.json"), "case", id), http.StatusCreated)
	if again["_cancellation_status"] != "warning" {
		t.Errorf("second cancellation: %v, want warning", again)
	}
	if n := len(s.Events()); n != 2 {
		t.Errorf("Events: %d, want the two cancellations", n)
	}
}

// The faults a registration can meet apply to events too, forced by reference or invoice number.
func TestEventFaults(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	id := post(t, s, "/invoice--registrations", with(t, testdata(t, "invoice.json"), "invoice_number", "F-OK"), http.StatusCreated)["_case"].(string)
	post(t, s, "/invoice--registrations", with(t, testdata(t, "invoice.json"), "invoice_number", "F-INV"), http.StatusCreated)
	s.SetFaults(Faults{ByInvoiceNumber: map[string]string{
		"PAY-DROP": FaultCommitThenDrop, "PAY-500": FaultServerError, "F-INV": FaultCommitThenFail,
	}})
	pay := func(ref string) string {
		return with(t, testdata(t, "payment.json"), "case", id, "amount", 1, "creditor_payment_reference", ref)
	}
	if _, err := postRaw(s, "/creditor--payments", pay("PAY-DROP")); err == nil {
		t.Error("commit_then_drop answered")
	}
	if code, err := postRaw(s, "/creditor--payments", pay("PAY-500")); err != nil || code != 500 {
		t.Errorf("server_error: %d %v", code, err)
	}
	refs := map[string]int{}
	for _, e := range s.Events() {
		refs[e.Reference]++
	}
	if refs["PAY-DROP"] != 1 || refs["PAY-500"] != 0 {
		t.Errorf("applied: %v, want PAY-DROP once (stored before the drop) and PAY-500 never", refs)
	}
	if n := len(get(t, s, "/creditor--payments?where="+url.QueryEscape(`{"creditor_payment_reference":"PAY-DROP"}`))["_items"].([]any)); n != 1 {
		t.Errorf("the dropped payment is listed %d times, want 1", n)
	}
	// Forced by the invoice number of the case the event names.
	if code, err := postRaw(s, "/creditor--creditings", with(t, testdata(t, "crediting.json"), "case", nil, "invoice_number", "F-INV", "amount", 1)); err != nil || code != 500 {
		t.Errorf("commit_then_fail on a crediting: %d %v", code, err)
	}
	if n := len(s.Events()); n != 2 {
		t.Errorf("Events: %d, want 2 (the drop and the committed-then-failed crediting)", n)
	}
}
