package amilitest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// The request bodies in testdata/ are the guides' own, copied verbatim (invoice_date, which the
// guide computes with new Date().toISOString(), is a fixed ISO 8601 value). The response_*.json
// files are the guides' documented answers; ours must have every key with the same type.

// collectionOnly are fields of a case that only exist once Amili's debt collection has run
// (flow items, letters), which the sandbox does not simulate.
var collectionOnly = map[string]bool{
	"next_flow_item": true, "next_flow_item_on_close": true, "debt_collection": true,
	"services": true, "limitation": true, "event_listeners": true,
}

func TestGuideInvoiceFlow(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()

	// Both spellings of the endpoint take the guide's body.
	reg := post(t, s, "/invoice-registration", testdata(t, "invoice.json"), http.StatusCreated)
	sameShape(t, "invoice registration", testdataMap(t, "response_invoice_registration.json"), reg, nil)
	if reg["_status"] != "OK" {
		t.Errorf("_status = %v, want OK", reg["_status"])
	}
	ocr, _ := reg["ocr_number_ocr"].(string)
	if !ocrLike.MatchString(ocr) || !LuhnValid(ocr) {
		t.Errorf("ocr_number_ocr %q: want 20 digits with a valid mod-10 check digit", ocr)
	}
	caseID := reg["_case"].(string)

	again := with(t, testdata(t, "invoice.json"), "invoice_number", "INV-2025-016")
	post(t, s, "/invoice--registrations", again, http.StatusCreated)

	// Step 2: find the case by invoice number.
	where := url.QueryEscape(`{"debt.invoice_number": "INV-2025-015"}`)
	list := get(t, s, "/cases?where="+where)
	sameShape(t, "cases", testdataMap(t, "response_cases_list.json"), list, nil)
	items := list["_items"].([]any)
	if len(items) != 1 {
		t.Fatalf("found %d cases for INV-2025-015, want 1", len(items))
	}
	c := items[0].(map[string]any)
	if c["_id"] != caseID || c["invoice"] != reg["_invoice"] || c["invoice_registration"] != reg["_id"] {
		t.Errorf("case ids %v/%v/%v, want %v/%v/%v", c["_id"], c["invoice"], c["invoice_registration"], caseID, reg["_invoice"], reg["_id"])
	}
	debt := c["debt"].(map[string]any)
	if debt["capital_to_claim"] != 500.0 || c["total_remaining_capital_amount"] != 500.0 || c["customer_name"] != "Jane Smith" {
		t.Errorf("case amounts/customer = %v, %v, %v; want 500, 500, Jane Smith", debt["capital_to_claim"], c["total_remaining_capital_amount"], c["customer_name"])
	}
	if debt["invoice_due_days_after_invoice_date"] != 10.0 {
		t.Errorf("due days = %v, want 10 (7 Oct to 17 Oct)", debt["invoice_due_days_after_invoice_date"])
	}
	if c["status"] != "initializing" || c["customer_id_number"] != "556789-1234" {
		t.Errorf("status %v, id number %v", c["status"], c["customer_id_number"])
	}

	// Step 3: credit 100 of 500.
	credit := with(t, testdata(t, "crediting.json"), "case", caseID)
	cr := post(t, s, "/creditor-crediting", credit, http.StatusCreated)
	sameShape(t, "crediting", testdataMap(t, "response_crediting.json"), cr, nil)
	if cr["_crediting_status"] != "completed" {
		t.Errorf("_crediting_status = %v", cr["_crediting_status"])
	}
	c = get(t, s, "/cases/"+caseID)
	if c["total_remaining_capital_amount"] != 400.0 || c["status"] != "initializing" {
		t.Errorf("after crediting 100: remaining %v status %v, want 400 and still open", c["total_remaining_capital_amount"], c["status"])
	}

	// Step 4: cancel.
	cancel := with(t, testdata(t, "cancellation.json"), "case", caseID)
	cn := post(t, s, "/creditor-cancellation", cancel, http.StatusCreated)
	sameShape(t, "cancellation", testdataMap(t, "response_cancellation.json"), cn, nil)
	if cn["_cancellation_status"] != "completed" {
		t.Errorf("_cancellation_status = %v", cn["_cancellation_status"])
	}
	c = get(t, s, "/cases/"+caseID)
	closed, _ := c["closed"].(map[string]any)
	if c["status"] != "closed" || closed == nil || closed["reason"] != ReasonCancelled || c["total_remaining_transaction_amount"] != 0.0 {
		t.Errorf("after cancellation: status %v closed %v remaining %v", c["status"], closed, c["total_remaining_transaction_amount"])
	}
	cn = post(t, s, "/creditor--cancellations", cancel, http.StatusCreated)
	if cn["_cancellation_status"] != "warning" {
		t.Errorf("second cancellation: %v, want warning", cn["_cancellation_status"])
	}
	if got := s.Calls()["POST /invoice--registrations"]; got != 2 {
		t.Errorf("Calls[POST /invoice--registrations] = %d, want 2 (both spellings)", got)
	}
}

func TestGuideCaseFlow(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()

	reg := post(t, s, "/case--registrations", testdata(t, "case.json"), http.StatusCreated)
	sameShape(t, "case registration", testdataMap(t, "response_case_registration.json"), reg, nil)
	cases := reg["_cases"].([]any)
	if len(cases) != 1 || len(reg["_ocr_numbers"].([]any)) != 1 || len(reg["_ocr_numbers_ocr"].([]any)) != 1 {
		t.Fatalf("one debt: want one case and OCR number, got %v", reg)
	}
	caseID := cases[0].(string)

	// Step 2: upload the original invoice.
	pdf := []byte("%PDF-1.4\n% original invoice\n")
	if code, body := upload(t, s, caseID, "original_invoice.pdf", pdf, "cases", "original_invoice"); code != http.StatusCreated || !strings.HasPrefix(body["url"].(string), "http") {
		t.Fatalf("upload: %d %v", code, body)
	}

	// Step 4: the customer paid the creditor the whole amount.
	pay := with(t, testdata(t, "payment.json"), "case", caseID)
	p := post(t, s, "/creditor--payments", pay, http.StatusCreated)
	sameShape(t, "payment", testdataMap(t, "response_payment.json"), p, nil)
	if p["_payment_status"] != "completed" {
		t.Errorf("_payment_status = %v", p["_payment_status"])
	}

	// Step 5: closed, like the guide's final case.
	c := get(t, s, "/cases/"+caseID)
	sameShape(t, "closed case", testdataMap(t, "response_case_closed.json"), c, collectionOnly)
	closed := c["closed"].(map[string]any)
	if c["status"] != "closed" || closed["reason"] != ReasonFullyPaid {
		t.Errorf("status %v reason %v, want closed/%s", c["status"], closed["reason"], ReasonFullyPaid)
	}
	if c["total_remaining_capital_amount"] != 0.0 || c["total_added_capital_amount"] != 2000.0 {
		t.Errorf("remaining %v added %v, want 0 and 2000", c["total_remaining_capital_amount"], c["total_added_capital_amount"])
	}
	tx := c["transactions"].([]any)
	last := tx[len(tx)-1].(map[string]any)
	if last["amount"] != -2000.0 || last["creditor_payment"] != p["_id"] || last["payment_method"] != "creditor_payment" {
		t.Errorf("payment transaction = %v", last)
	}
	hist := c["status_history"].([]any)
	if h := hist[len(hist)-1].(map[string]any); h["status"] != "closed" {
		t.Errorf("last status_history entry %v, want closed", h)
	}
	if c["case_registration"] != reg["_id"] || c["customer_id_number"] != "5560269986" {
		t.Errorf("case_registration %v customer_id_number %v", c["case_registration"], c["customer_id_number"])
	}
	// A closed case takes no more payments.
	code, m, _ := do(t, "POST", s.URL+"/creditor--payments", "", pay)
	assertAPIError(t, code, m, http.StatusUnprocessableEntity, "case")
}

func TestGuideCreditorAndOnboarding(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()

	cr := get(t, s, "/creditors/"+s.Creditor)
	sameShape(t, "creditor", testdataMap(t, "response_creditor.json"), cr, nil)
	if cr["is_active"] != true || cr["_id"] != seedCreditor {
		t.Errorf("seeded creditor %v active %v", cr["_id"], cr["is_active"])
	}
	if in := get(t, s, "/creditors/"+s.InactiveCreditor); in["is_active"] != false {
		t.Errorf("inactive creditor is_active = %v", in["is_active"])
	}
	if code, m, _ := do(t, "GET", s.URL+"/creditors/0123456789abcdef01234567", "", ""); code != http.StatusNotFound || m["_status"] != "ERR" {
		t.Errorf("unknown creditor: %d %v", code, m)
	}

	for _, tc := range []struct {
		file   string
		active bool
	}{{"account_inactive.json", false}, {"account_active.json", true}} {
		acc := post(t, s, "/accounts", testdata(t, tc.file), http.StatusCreated)
		sameShape(t, tc.file, testdataMap(t, "response_account.json"), acc, nil)
		got := get(t, s, "/creditors/"+acc["_creditor"].(string))
		if got["is_active"] != tc.active || got["account"] != acc["_id"] {
			t.Errorf("%s: creditor active %v account %v", tc.file, got["is_active"], got["account"])
		}
		// Registering against the new creditor works only when it is active.
		inv := with(t, testdata(t, "invoice.json"), "account", acc["_id"], "creditor", acc["_creditor"])
		code, m, _ := do(t, "POST", s.URL+"/invoice--registrations", "", inv)
		if tc.active && code != http.StatusCreated {
			t.Errorf("%s: registration %d %v, want 201", tc.file, code, m)
		}
		if !tc.active {
			assertAPIError(t, code, m, http.StatusUnprocessableEntity, "creditor")
		}
		where := url.QueryEscape(jsonBody(map[string]string{"account": acc["_id"].(string), "type": "account_admin"}))
		groups := get(t, s, "/access--groups?where="+where)["_items"].([]any)
		if len(groups) != 1 {
			t.Fatalf("account_admin groups: %v", groups)
		}
		user := strings.ReplaceAll(testdata(t, "user.json"), "ACCOUNT_ADMIN_GROUP_ID", groups[0].(map[string]any)["_id"].(string))
		user = with(t, user, "account", acc["_id"])
		if u := post(t, s, "/users", user, http.StatusCreated); !hexID.MatchString(u["_id"].(string)) {
			t.Errorf("user id %v", u["_id"])
		}
	}
	// Option B without its activation fields is refused.
	bad := with(t, testdata(t, "account_active.json"), "initial_creditor_data.payout_details", nil)
	code, m, _ := do(t, "POST", s.URL+"/accounts", "", bad)
	assertAPIError(t, code, m, http.StatusUnprocessableEntity, "initial_creditor_data.payout_details")
}

// assertAPIError checks Amili's error shape and that details name field.
func assertAPIError(t testing.TB, code int, m map[string]any, wantCode int, field string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("status %d, want %d (%v)", code, wantCode, m)
		return
	}
	e, _ := m["_error"].(map[string]any)
	if m["_status"] != "ERR" || e == nil || e["code"] != float64(wantCode) || e["message"] == "" {
		t.Errorf("error body %v: want {_status: ERR, _error: {code: %d, message}}", m, wantCode)
		return
	}
	if field == "" {
		return
	}
	details, _ := e["details"].(map[string]any)
	msg, _ := details[field].(string)
	if msg == "" {
		t.Errorf("_error.details has no message for %q: %v", field, details)
	}
	if issues, _ := m["_issues"].(map[string]any); issues[field] != msg {
		t.Errorf("_issues[%q] = %v, want %q", field, issues[field], msg)
	}
}

func TestDatesAndIDs(t *testing.T) {
	clock := newClock()
	s := NewServer(Options{Now: clock.Now})
	defer s.Close()
	reg := post(t, s, "/invoice--registrations", testdata(t, "invoice.json"), http.StatusCreated)
	if reg["_created"] != "Tue, 07 Oct 2025 07:41:01 GMT" {
		t.Errorf("_created = %v, want the clock's time in RFC 1123 GMT", reg["_created"])
	}
	for _, k := range []string{"_id", "_invoice", "_case", "_ocr_number"} {
		if !hexID.MatchString(reg[k].(string)) {
			t.Errorf("%s = %v, want 24 hex digits", k, reg[k])
		}
	}
	if reg["_id"] == reg["_invoice"] || reg["_case"] == reg["_ocr_number"] {
		t.Errorf("ids collide: %v", reg)
	}
	c := s.Cases()[0]
	if c.Debt.InvoiceDate != "Tue, 07 Oct 2025 10:11:22 GMT" || c.Debt.CapitalToClaim != domain.Amount(50000) {
		t.Errorf("Cases()[0].Debt = %+v", c.Debt)
	}
	if _, err := time.Parse(domain.DateLayout, c.Created); err != nil {
		t.Errorf("Created %q: %v", c.Created, err)
	}
}
