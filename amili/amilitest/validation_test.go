package amilitest

import (
	"net/http"
	"testing"
)

// Mutated copies of the guides' bodies are refused with Amili's error shape and a message for
// the field at fault.
func TestValidation(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	inv, cas := testdata(t, "invoice.json"), testdata(t, "case.json")

	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"InvoiceNumberMissing", "/invoice--registrations", with(t, inv, "invoice_number", nil), "invoice_number"},
		{"InvoiceDateMissing", "/invoice--registrations", with(t, inv, "invoice_date", nil), "invoice_date"},
		{"InvoiceDueDateMissing", "/invoice--registrations", with(t, inv, "invoice_due_date", nil), "invoice_due_date"},
		{"InvoiceTypeMissing", "/invoice--registrations", with(t, inv, "invoice_type", nil), "invoice_type"},
		{"AccountMissing", "/invoice--registrations", with(t, inv, "account", nil), "account"},
		{"MatrixMissing", "/invoice--registrations", with(t, inv, "matrix", nil), "matrix"},
		{"MatrixEmpty", "/invoice--registrations", with(t, inv, "matrix", []any{}), "matrix"},
		{"CurrencyMissing", "/invoice--registrations", with(t, inv, "currency", nil), "currency"},
		{"CurrencyUnknown", "/invoice--registrations", with(t, inv, "currency", "XYZ"), "currency"},
		{"TwoCustomerFlags", "/invoice--registrations", with(t, inv, "customer.is_company", true), "customer"},
		{"NoCustomerFlag", "/invoice--registrations", with(t, inv, "customer.is_person", nil), "customer"},
		{"CustomerNameMissing", "/invoice--registrations", with(t, inv, "customer.name", nil), "customer.name"},
		{"InactiveCreditor", "/invoice--registrations", with(t, inv, "creditor", s.InactiveCreditor), "creditor"},
		{"UnknownCreditor", "/invoice--registrations", with(t, inv, "creditor", "0123456789abcdef01234567"), "creditor"},
		{"UnknownAccount", "/invoice--registrations", with(t, inv, "account", "0123456789abcdef01234567"), "account"},
		{"BadDate", "/invoice--registrations", with(t, inv, "invoice_date", "07/10/2025"), "invoice_date"},
		{"BadAmount", "/invoice--registrations", with(t, inv, "matrix.0.unit_price", "five hundred"), "matrix.0.unit_price"},
		{"BadVAT", "/invoice--registrations", with(t, inv, "matrix.0.unit_vat_percent", "lots"), "matrix.0.unit_vat_percent"},
		{"FirstActionMissing", "/case--registrations", with(t, cas, "first_action", nil), "first_action"},
		{"CaseCustomerMissing", "/case--registrations", with(t, cas, "customer", nil), "customer"},
		{"CaseTwoFlags", "/case--registrations", with(t, cas, "customer.is_person", true), "customer"},
		{"DebtsMissing", "/case--registrations", with(t, cas, "debts", nil), "debts"},
		{"DebtCapitalMissing", "/case--registrations", with(t, cas, "debts.0.capital_to_claim", nil), "debts.0.capital_to_claim"},
		{"DebtCapitalZero", "/case--registrations", with(t, cas, "debts.0.capital_to_claim", 0), "debts.0.capital_to_claim"},
		{"DebtInvoiceNumberMissing", "/case--registrations", with(t, cas, "debts.0.invoice_number", nil), "debts.0.invoice_number"},
		{"DebtDueDaysMissing", "/case--registrations", with(t, cas, "debts.0.invoice_due_days_after_invoice_date", nil), "debts.0.invoice_due_days_after_invoice_date"},
		{"CaseInactiveCreditor", "/case--registrations", with(t, cas, "creditor", s.InactiveCreditor), "creditor"},
		{"CaseCurrencyUnknown", "/case--registrations", with(t, cas, "currency", "SEKK"), "currency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m, _ := do(t, "POST", s.URL+tc.path, "", tc.body)
			assertAPIError(t, code, m, http.StatusUnprocessableEntity, tc.field)
		})
	}
	if n := len(s.Registrations()); n != 0 {
		t.Errorf("refused registrations were stored: %d", n)
	}
	if got := s.StatusCounts()[422]; got < 28 {
		t.Errorf("StatusCounts[422] = %d, want every refusal counted", got)
	}
	code, m, _ := do(t, "POST", s.URL+"/invoice--registrations", "", "{not json")
	assertAPIError(t, code, m, http.StatusBadRequest, "")
}

// The lenient spellings Amili's guides use are all accepted.
func TestLenientSpellings(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	inv := testdata(t, "invoice.json")
	for i, body := range []string{
		with(t, inv, "invoice_number", "L-1", "customer.id_number", "5567891234"),
		with(t, inv, "invoice_number", "L-2", "invoice_date", "Tue, 07 Oct 2025 00:00:00 GMT", "invoice_due_date", "Fri, 17 Oct 2025 00:00:00 GMT"),
		with(t, inv, "invoice_number", "L-3", "invoice_date", "2025-10-07", "matrix.0.unit_price", "500.00", "matrix.0.total_price_excluding_vat", 500),
		with(t, inv, "invoice_number", "L-4", "invoice_date", "2025-10-07T10:11:22.123456", "customer", nil),
	} {
		post(t, s, "/invoice--registrations", body, http.StatusCreated)
		if n := s.RegistrationCount(s.Creditor, []string{"L-1", "L-2", "L-3", "L-4"}[i]); n != 1 {
			t.Errorf("body %d: RegistrationCount = %d", i, n)
		}
	}
	// VAT is added to the case's capital: 1000 at 25% is 1250.
	body := with(t, inv, "invoice_number", "VAT-1", "matrix.0.total_price_excluding_vat", 1000.0, "matrix.0.unit_vat_percent", "25%")
	id := post(t, s, "/invoice--registrations", body, http.StatusCreated)["_case"].(string)
	if c := get(t, s, "/cases/"+id); c["debt"].(map[string]any)["capital_to_claim"] != 1250.0 {
		t.Errorf("capital_to_claim = %v, want 1250", c["debt"].(map[string]any)["capital_to_claim"])
	}
}

// A case registration makes one case per debt, answered in debt order.
func TestCaseRegistrationDebtOrder(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	debt := func(n string, amount float64) map[string]any {
		return map[string]any{"invoice_number": n, "invoice_date": "2025-07-07", "capital_to_claim": amount, "invoice_due_days_after_invoice_date": 30}
	}
	body := with(t, testdata(t, "case.json"), "debts", []any{debt("D-1", 100), debt("D-2", 200.5), debt("D-3", 300)})
	reg := post(t, s, "/case--registrations", body, http.StatusCreated)
	cases, ocrs := reg["_cases"].([]any), reg["_ocr_numbers_ocr"].([]any)
	if len(cases) != 3 || len(ocrs) != 3 || len(reg["_ocr_numbers"].([]any)) != 3 {
		t.Fatalf("answer %v: want three of each", reg)
	}
	for i, want := range []struct {
		n      string
		amount float64
	}{{"D-1", 100}, {"D-2", 200.5}, {"D-3", 300}} {
		c := get(t, s, "/cases/"+cases[i].(string))
		d := c["debt"].(map[string]any)
		if d["invoice_number"] != want.n || d["capital_to_claim"] != want.amount || c["ocr_number"] != ocrs[i] {
			t.Errorf("case %d: %v %v ocr %v, want %s %v %v", i, d["invoice_number"], d["capital_to_claim"], c["ocr_number"], want.n, want.amount, ocrs[i])
		}
		if !LuhnValid(ocrs[i].(string)) {
			t.Errorf("OCR %v fails the mod-10 check", ocrs[i])
		}
	}
	r := s.Registrations()
	if len(r) != 1 || r[0].Kind != "case" || len(r[0].InvoiceNumbers) != 3 || r[0].CaseIDs[2] != cases[2] {
		t.Errorf("Registrations() = %+v", r)
	}
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{"79927398713": true, "79927398710": false, "5560269986": true, "": false, "12a": false} {
		if got := LuhnValid(s); got != want {
			t.Errorf("LuhnValid(%q) = %v, want %v", s, got, want)
		}
	}
}
