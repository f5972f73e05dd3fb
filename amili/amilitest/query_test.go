package amilitest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
)

// registerN registers invoices Q-001..Q-n, one clock minute apart, and returns their case ids.
func registerN(t testing.TB, s *Server, clock *fakeclock.Clock, n int) []string {
	t.Helper()
	var ids []string
	for i := 1; i <= n; i++ {
		body := with(t, testdata(t, "invoice.json"), "invoice_number", fmt.Sprintf("Q-%03d", i))
		ids = append(ids, post(t, s, "/invoice--registrations", body, http.StatusCreated)["_case"].(string))
		clock.Advance(time.Minute)
	}
	return ids
}

// listIDs runs GET /cases with the raw query and returns the ids and _meta.
func listIDs(t testing.TB, s *Server, query url.Values) ([]string, map[string]any) {
	t.Helper()
	m := get(t, s, "/cases?"+query.Encode())
	var ids []string
	for _, it := range m["_items"].([]any) {
		ids = append(ids, it.(map[string]any)["_id"].(string))
	}
	return ids, m["_meta"].(map[string]any)
}

func TestListCases(t *testing.T) {
	clock := newClock()
	s := NewServer(Options{Now: clock.Now})
	defer s.Close()
	ids := registerN(t, s, clock, 30)
	other := s.AddCreditor(true)
	body := with(t, testdata(t, "invoice.json"), "creditor", other, "invoice_number", "Q-001")
	otherID := post(t, s, "/invoice--registrations", body, http.StatusCreated)["_case"].(string)

	t.Run("DefaultPage", func(t *testing.T) {
		got, meta := listIDs(t, s, url.Values{})
		if len(got) != 25 || meta["max_results"] != 25.0 || meta["total"] != 31.0 || meta["page"] != 1.0 {
			t.Errorf("got %d items, meta %v; want 25 of 31", len(got), meta)
		}
		if got[0] != ids[0] {
			t.Errorf("default order: first %s, want %s", got[0], ids[0])
		}
	})
	t.Run("Page2", func(t *testing.T) {
		got, meta := listIDs(t, s, url.Values{"page": {"2"}, "max_results": {"10"}, "where": {`{"creditor":"` + s.Creditor + `"}`}})
		if len(got) != 10 || got[0] != ids[10] || meta["total"] != 30.0 {
			t.Errorf("page 2: %d items from %s, meta %v", len(got), got[0], meta)
		}
		got, _ = listIDs(t, s, url.Values{"page": {"4"}, "max_results": {"10"}, "where": {`{"creditor":"` + s.Creditor + `"}`}})
		if len(got) != 0 {
			t.Errorf("page past the end: %d items", len(got))
		}
	})
	t.Run("MaxResultsCapped", func(t *testing.T) {
		got, meta := listIDs(t, s, url.Values{"max_results": {"500"}})
		if len(got) != 31 || meta["max_results"] != 100.0 {
			t.Errorf("max_results=500: %d items, meta %v; want all 31 and max_results 100", len(got), meta)
		}
	})
	t.Run("SortDescCreated", func(t *testing.T) {
		got, _ := listIDs(t, s, url.Values{"sort": {"-_created"}, "max_results": {"3"}})
		if len(got) != 3 || got[0] != otherID || got[1] != ids[29] || got[2] != ids[28] {
			t.Errorf("-_created: %v, want %s %s %s", got, otherID, ids[29], ids[28])
		}
		got, _ = listIDs(t, s, url.Values{"sort": {`[("_created", -1)]`}, "max_results": {"1"}})
		if got[0] != otherID {
			t.Errorf("Eve sort syntax: %v", got)
		}
	})
	t.Run("SortID", func(t *testing.T) {
		got, _ := listIDs(t, s, url.Values{"sort": {"_id"}, "max_results": {"100"}})
		for i := 1; i < len(got); i++ {
			if got[i-1] > got[i] {
				t.Fatalf("sort=_id: %s before %s", got[i-1], got[i])
			}
		}
	})
	t.Run("CreditorAndInvoiceNumber", func(t *testing.T) {
		where := fmt.Sprintf(`{"creditor":%q,"debt.invoice_number":"Q-001"}`, other)
		got, meta := listIDs(t, s, url.Values{"where": {where}})
		if len(got) != 1 || got[0] != otherID || meta["total"] != 1.0 {
			t.Errorf("where %s: %v", where, got)
		}
		got, _ = listIDs(t, s, url.Values{"where": {`{"debt.invoice_number":"Q-001"}`}})
		if len(got) != 2 {
			t.Errorf("Q-001 across creditors: %d cases, want 2", len(got))
		}
	})
	t.Run("In", func(t *testing.T) {
		got, _ := listIDs(t, s, url.Values{"where": {fmt.Sprintf(`{"creditor":%q,"debt.invoice_number":{"$in":["Q-003","Q-005","nope"]}}`, s.Creditor)}})
		if len(got) != 2 || got[0] != ids[2] || got[1] != ids[4] {
			t.Errorf("$in: %v, want %s %s", got, ids[2], ids[4])
		}
		got, _ = listIDs(t, s, url.Values{"where": {fmt.Sprintf(`{"_id":{"$in":[%q,%q]}}`, ids[7], ids[8])}})
		if len(got) != 2 {
			t.Errorf("$in on _id: %v", got)
		}
	})
	t.Run("DateRange", func(t *testing.T) {
		// Q-011 was created at 07:51:01, Q-015 at 07:55:01.
		where := `{"_created":{"$gte":"Tue, 07 Oct 2025 07:51:01 GMT","$lte":"Tue, 07 Oct 2025 07:55:01 GMT"}}`
		got, meta := listIDs(t, s, url.Values{"where": {where}})
		if len(got) != 5 || got[0] != ids[10] || got[4] != ids[14] || meta["total"] != 5.0 {
			t.Errorf("_created range: %d cases from %v, want Q-011..Q-015", len(got), got)
		}
		got, _ = listIDs(t, s, url.Values{"where": {`{"_updated":{"$gte":"2025-10-07T08:10:00Z"}}`}})
		if len(got) != 2 {
			t.Errorf("_updated >= 08:10 (ISO): %d cases, want 2", len(got))
		}
	})
	t.Run("DottedAndOperators", func(t *testing.T) {
		got, _ := listIDs(t, s, url.Values{"where": {`{"status":"initializing","customer_name":"Jane Smith","total_remaining_capital_amount":{"$gt":499.99},"debt.invoice_number":{"$nin":["Q-001"]}}`}, "max_results": {"100"}})
		if len(got) != 29 {
			t.Errorf("combined filter: %d cases, want 29", len(got))
		}
		got, _ = listIDs(t, s, url.Values{"where": {`{"$or":[{"debt.invoice_number":"Q-002"},{"debt.invoice_number":"Q-030"}]}`}})
		if len(got) != 2 {
			t.Errorf("$or: %d cases", len(got))
		}
	})
	for name, q := range map[string]url.Values{
		"BadWhere":      {"where": {`{"creditor":`}},
		"BadOperator":   {"where": {`{"creditor":{"$regex":"x"}}`}},
		"BadPage":       {"page": {"0"}},
		"BadMaxResults": {"max_results": {"many"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, m, _ := do(t, "GET", s.URL+"/cases?"+q.Encode(), "", "")
			assertAPIError(t, code, m, http.StatusBadRequest, "")
		})
	}
	code, m, _ := do(t, "GET", s.URL+"/cases/0123456789abcdef01234567", "", "")
	assertAPIError(t, code, m, http.StatusNotFound, "")
}

// Payments and creditings find the case by invoice number as well as by id.
func TestTransactionsByInvoiceNumber(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	id := post(t, s, "/invoice--registrations", testdata(t, "invoice.json"), http.StatusCreated)["_case"].(string)
	credit := with(t, testdata(t, "crediting.json"), "case", nil, "invoice_number", "INV-2025-015", "amount", 200)
	post(t, s, "/creditor--creditings", credit, http.StatusCreated)
	pay := with(t, testdata(t, "payment.json"), "case", nil, "invoice_number", "INV-2025-015", "amount", "300.00")
	post(t, s, "/creditor--payments", pay, http.StatusCreated)
	c := get(t, s, "/cases/"+id)
	if c["status"] != "closed" || c["closed"].(map[string]any)["reason"] != ReasonFullyPaid || c["total_remaining_capital_amount"] != 0.0 {
		t.Errorf("credit 200 + pay 300 of 500: status %v closed %v remaining %v", c["status"], c["closed"], c["total_remaining_capital_amount"])
	}
	for name, tc := range map[string]struct{ body, field string }{
		"BothCaseAndNumber": {with(t, testdata(t, "payment.json"), "invoice_number", "INV-2025-015"), "case"},
		"UnknownNumber":     {with(t, testdata(t, "payment.json"), "case", nil, "invoice_number", "nope"), "invoice_number"},
		"UnknownCase":       {testdata(t, "payment.json"), "case"},
		"NoAmount":          {with(t, testdata(t, "payment.json"), "amount", nil), "amount"},
		"NoBankDate":        {with(t, testdata(t, "payment.json"), "bank_transaction_date", nil), "bank_transaction_date"},
		"WrongCurrency":     {with(t, testdata(t, "payment.json"), "case", id, "currency", "EUR"), "currency"},
	} {
		t.Run(name, func(t *testing.T) {
			code, m, _ := do(t, "POST", s.URL+"/creditor--payments", "", tc.body)
			assertAPIError(t, code, m, http.StatusUnprocessableEntity, tc.field)
		})
	}
}
