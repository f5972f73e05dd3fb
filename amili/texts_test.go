package amili_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/redact"
)

// TestRefusalQuotingTheIDNumberIsMasked: a 422 whose message and field detail quote the
// customer's personnummer gives an error in which no form of the number is whole.
func TestRefusalQuotingTheIDNumberIsMasked(t *testing.T) {
	for _, id := range []string{"198112189876", "19811218-9876", "8112189876", "811218-9876"} {
		t.Run(id, func(t *testing.T) {
			clk := newClock()
			s := amilitest.NewServer(amilitest.Options{Now: clk.Now, Tokens: []string{"static-tok"}, Faults: amilitest.Faults{
				ByInvoiceNumber: map[string]string{"INV-Q": amilitest.FaultReject422QuotingID}}})
			defer s.Close()
			c := sandboxClient(t, s, clk, amili.AuthConfig{Method: "token", Token: "static-tok"})
			inv := sandboxInvoice(s, "INV-Q", 10000)
			inv.Customer.IDNumber = id
			_, err := c.RegisterInvoice(context.Background(), inv)
			var e *amili.Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("err = %v, want a 422", err)
			}
			texts := []string{err.Error(), e.Message}
			for _, v := range e.Fields {
				texts = append(texts, v)
			}
			for _, txt := range texts {
				if strings.Contains(txt, "9876") {
					t.Errorf("the personnummer is whole in %q", txt)
				}
			}
			if !strings.Contains(err.Error(), "****") {
				t.Errorf("no masked number in %q: the test's fault did not quote it", err.Error())
			}
		})
	}
}

// TestHugeErrorTextIsBounded: a 200 KB error message from Amili is kept to redact.MaxText.
func TestHugeErrorTextIsBounded(t *testing.T) {
	huge := strings.Repeat("x", 200<<10)
	for name, body := range map[string]string{
		"message": `{"_status":"ERR","_error":{"code":422,"message":"` + huge + `"}}`,
		"field":   `{"_status":"ERR","_issues":{"customer.name":"` + huge + `"}}`,
		"text":    huge,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusUnprocessableEntity)
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			c, err := amili.New(amili.Config{BaseURL: srv.URL, Auth: amili.AuthConfig{Method: "token", Token: "T"}, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.RegisterInvoice(context.Background(), &domain.InvoiceRegistration{InvoiceNumber: "INV-H", Creditor: "c", Account: "a"})
			if err == nil {
				t.Fatal("no error")
			}
			if n := len(err.Error()); n > redact.MaxText+200 {
				t.Errorf("error text is %d bytes, want about %d at most", n, redact.MaxText)
			}
		})
	}
}

// TestReadTimeoutSaysTimeout: an answer whose headers came (200) but whose body stalls past
// amili.timeout is reported as a timeout with its duration, not as "HTTP 200".
func TestReadTimeoutSaysTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"_status":"OK",`))
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := amili.New(amili.Config{BaseURL: srv.URL, Auth: amili.AuthConfig{Method: "token", Token: "T"}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RegisterInvoice(context.Background(), &domain.InvoiceRegistration{InvoiceNumber: "INV-T", Creditor: "c", Account: "a"})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "timeout") || !strings.Contains(msg, "300ms") || !strings.Contains(msg, "read") {
		t.Errorf("error %q does not say that reading the answer timed out after 300ms", msg)
	}
}
