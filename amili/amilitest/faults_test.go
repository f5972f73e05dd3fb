package amilitest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// postRaw posts body and returns the transport error, if any.
func postRaw(s *Server, path, body string) (int, error) {
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestFaultsByInvoiceNumber(t *testing.T) {
	s := NewServer(Options{Faults: Faults{ByInvoiceNumber: map[string]string{
		"DROP": FaultCommitThenDrop, "FAIL": FaultCommitThenFail, "S500": FaultServerError,
		"R422": FaultReject422, "ONCE": FaultCommitThenDrop + "_once", "DEBT": FaultCommitThenDrop,
	}}})
	defer s.Close()
	inv := func(n string) string { return with(t, testdata(t, "invoice.json"), "invoice_number", n) }

	t.Run("CommitThenDrop", func(t *testing.T) {
		_, err := postRaw(s, "/invoice--registrations", inv("DROP"))
		if err == nil {
			t.Fatal("the client got an answer; want the connection closed")
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("error %v: want EOF or connection reset", err)
		}
		if n := s.RegistrationCount(s.Creditor, "DROP"); n != 1 {
			t.Errorf("RegistrationCount = %d, want 1 (stored before the drop)", n)
		}
		if len(get(t, s, `/cases?where={"debt.invoice_number":"DROP"}`)["_items"].([]any)) != 1 {
			t.Error("the dropped registration's case cannot be found")
		}
	})
	t.Run("CommitThenFail", func(t *testing.T) {
		code, err := postRaw(s, "/invoice--registrations", inv("FAIL"))
		if err != nil || code != 500 {
			t.Fatalf("got %d %v, want 500", code, err)
		}
		if n := s.RegistrationCount(s.Creditor, "FAIL"); n != 1 {
			t.Errorf("RegistrationCount = %d, want 1", n)
		}
	})
	t.Run("ServerError", func(t *testing.T) {
		code, err := postRaw(s, "/invoice--registrations", inv("S500"))
		if err != nil || code != 500 {
			t.Fatalf("got %d %v, want 500", code, err)
		}
		if n := s.RegistrationCount(s.Creditor, "S500"); n != 0 {
			t.Errorf("RegistrationCount = %d, want 0", n)
		}
	})
	t.Run("Reject422", func(t *testing.T) {
		code, m, _ := do(t, "POST", s.URL+"/invoice--registrations", "", inv("R422"))
		assertAPIError(t, code, m, 422, "invoice_number")
		if n := s.RegistrationCount(s.Creditor, "R422"); n != 0 {
			t.Errorf("RegistrationCount = %d, want 0", n)
		}
	})
	t.Run("Once", func(t *testing.T) {
		if _, err := postRaw(s, "/invoice--registrations", inv("ONCE")); err == nil {
			t.Fatal("first attempt answered; want a drop")
		}
		if code, err := postRaw(s, "/invoice--registrations", inv("ONCE")); err != nil || code != 201 {
			t.Fatalf("second attempt: %d %v, want 201", code, err)
		}
		if n := s.RegistrationCount(s.Creditor, "ONCE"); n != 2 {
			t.Errorf("RegistrationCount = %d, want 2", n)
		}
	})
	t.Run("CaseDebt", func(t *testing.T) {
		body := with(t, testdata(t, "case.json"), "debts.0.invoice_number", "DEBT")
		if _, err := postRaw(s, "/case--registrations", body); err == nil {
			t.Fatal("a case registration with a faulted debt was answered")
		}
		if n := s.RegistrationCount(s.Creditor, "DEBT"); n != 1 {
			t.Errorf("RegistrationCount = %d, want 1", n)
		}
	})
	// Other invoice numbers are untouched.
	if code, err := postRaw(s, "/invoice--registrations", inv("FINE")); err != nil || code != 201 {
		t.Errorf("unfaulted: %d %v", code, err)
	}
	// SetFaults clears them.
	s.SetFaults(Faults{})
	if code, err := postRaw(s, "/invoice--registrations", inv("DROP")); err != nil || code != 201 {
		t.Errorf("after SetFaults: %d %v", code, err)
	}
}

func TestFaultRates(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	inv := func(n string) string { return with(t, testdata(t, "invoice.json"), "invoice_number", n) }

	s.SetFaults(Faults{Storm429: 1})
	code, m, h := do(t, "GET", s.URL+"/cases", "", "")
	assertAPIError(t, code, m, 429, "")
	if h.Get("Retry-After") == "" {
		t.Error("429 storm without Retry-After")
	}
	s.SetFaults(Faults{ServerErrorRate: 1})
	if code, _ := postRaw(s, "/invoice--registrations", inv("R1")); code != 500 || len(s.Registrations()) != 0 {
		t.Errorf("server error rate 1: %d, %d stored", code, len(s.Registrations()))
	}
	s.SetFaults(Faults{CommitThenFail: 1})
	if code, _ := postRaw(s, "/invoice--registrations", inv("R2")); code != 500 || s.RegistrationCount(s.Creditor, "R2") != 1 {
		t.Errorf("commit-then-fail rate 1: %d, count %d", code, s.RegistrationCount(s.Creditor, "R2"))
	}
	s.SetFaults(Faults{CommitThenDrop: 1})
	if _, err := postRaw(s, "/invoice--registrations", inv("R3")); err == nil || s.RegistrationCount(s.Creditor, "R3") != 1 {
		t.Errorf("commit-then-drop rate 1: err %v, count %d", err, s.RegistrationCount(s.Creditor, "R3"))
	}

	// A fraction is repeatable for a seed.
	pattern := func() string {
		s.SetFaults(Faults{Seed: 7, ServerErrorRate: 0.5})
		var b strings.Builder
		for i := 0; i < 20; i++ {
			code, _, _ := do(t, "GET", s.URL+"/cases", "", "")
			b.WriteString(map[bool]string{true: "x", false: "."}[code == 500])
		}
		return b.String()
	}
	p1, p2 := pattern(), pattern()
	if p1 != p2 || !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Errorf("seeded 50%% errors: %s then %s; want the same mix twice", p1, p2)
	}

	s.SetFaults(Faults{UploadLatency: 30 * time.Millisecond})
	start := time.Now()
	upload(t, s, "0123456789abcdef01234567", "a.pdf", []byte("%PDF-"), "cases", "original_invoice")
	if time.Since(start) >= 30*time.Millisecond {
		t.Error("upload latency applied before the 404 check; unknown cases should fail fast")
	}
}

func TestLatency(t *testing.T) {
	s := NewServer(Options{Latency: 40 * time.Millisecond})
	defer s.Close()
	start := time.Now()
	get(t, s, "/cases")
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered in %v, want at least the 40ms latency", d)
	}
}

func TestInspection(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	post(t, s, "/invoice--registrations", testdata(t, "invoice.json"), 201)
	post(t, s, "/case--registrations", testdata(t, "case.json"), 201)
	get(t, s, "/cases")
	do(t, "POST", s.URL+"/invoice--registrations", "", "{}")
	calls := s.Calls()
	for k, want := range map[string]int{"POST /invoice--registrations": 2, "POST /case--registrations": 1, "GET /cases": 1} {
		if calls[k] != want {
			t.Errorf("Calls[%q] = %d, want %d (all: %v)", k, calls[k], want, calls)
		}
	}
	if st := s.StatusCounts(); st[201] != 2 || st[200] != 1 || st[422] != 1 {
		t.Errorf("StatusCounts = %v", st)
	}
	r := s.Registrations()
	if len(r) != 2 || r[0].Kind != "invoice" || r[1].Kind != "case" || r[0].InvoiceNumbers[0] != "INV-2025-015" || !strings.Contains(string(r[0].Body), "Jane Smith") {
		t.Errorf("Registrations = %+v", r)
	}
	if cs := s.Cases(); len(cs) != 2 || cs[1].Debt.InvoiceNumber != "INV-2025-003" || cs[1].CaseRegistration != r[1].ID {
		t.Errorf("Cases = %+v", cs)
	}
}
