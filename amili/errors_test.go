package amili

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

func invoice(num string) *domain.InvoiceRegistration {
	return &domain.InvoiceRegistration{
		Account: "acc", Creditor: "cred", InvoiceType: "invoice", InvoiceNumber: num, Currency: "SEK",
		Matrix: []domain.MatrixLine{{ArticleDescription: "x", UnitPrice: 10000, TotalPriceExcludingVAT: 10000, UnitVATPercent: "25%"}},
	}
}

// TestErrorClasses checks each way a call can fail, what class it gets, what the error carries
// and how many requests reached the server.
func TestErrorClasses(t *testing.T) {
	tests := []struct {
		name     string
		call     string // "register", "get" or "upload"
		handler  func(t *testing.T, n int, w http.ResponseWriter, r *http.Request)
		class    Class
		status   int
		requests int
		fields   map[string]string
		message  string
	}{
		{
			name: "422 with details",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 422, `{"_status":"ERR","_error":{"code":422,"message":"Validation failed","details":{"customer.name":"Name is required","customer":{"address":{"zip_code":"bad zip"}}}}}`)
			},
			class: Permanent, status: 422, requests: 1, message: "Validation failed",
			fields: map[string]string{"customer.name": "Name is required", "customer.address.zip_code": "bad zip"},
		},
		{
			name: "422 with Eve _issues",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 422, `{"_status":"ERR","_issues":{"invoice_number":["required field","must be a string"],"matrix":[{"unit_price":"must be of number type"}],"customer":{"name":"empty values not allowed"}},"_error":{"code":422,"message":"Insertion failure: 1 document(s) contain(s) error(s)"}}`)
			},
			class: Permanent, status: 422, requests: 1, message: "Insertion failure: 1 document(s) contain(s) error(s)",
			fields: map[string]string{
				"invoice_number":      "required field; must be a string",
				"matrix.0.unit_price": "must be of number type",
				"customer.name":       "empty values not allowed",
			},
		},
		{
			name: "400",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, `{"_status":"ERR","_error":{"code":400,"message":"The browser (or proxy) sent a request that this server could not understand."}}`)
			},
			class: Permanent, status: 400, requests: 1, message: "The browser (or proxy) sent a request that this server could not understand.",
		},
		{
			name: "404 on GET",
			call: "get",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 404, `{"_status":"ERR","_error":{"code":404,"message":"The requested URL was not found on the server."}}`)
			},
			class: Permanent, status: 404, requests: 1, message: "The requested URL was not found on the server.",
		},
		{
			name: "500 on registration POST is in doubt and not resent",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 500, `{"_status":"ERR","_error":{"code":500,"message":"Internal Server Error"}}`)
			},
			class: InDoubt, status: 500, requests: 1, message: "Internal Server Error",
		},
		{
			name: "503 on registration POST is in doubt too",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(503)
			},
			class: InDoubt, status: 503, requests: 1,
		},
		{
			name: "500 on GET is retried until it succeeds",
			call: "get",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n < 3 {
					writeJSON(w, 500, `{"_status":"ERR","_error":{"code":500,"message":"boom"}}`)
					return
				}
				writeJSON(w, 200, `{"_id":"c1","creditor":"cred","status":"active"}`)
			},
			requests: 3,
		},
		{
			name: "500 on GET every time gives up after MaxAttempts as retryable",
			call: "get",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 500, `{"_status":"ERR","_error":{"code":500,"message":"boom"}}`)
			},
			class: Retryable, status: 500, requests: 5, message: "boom",
		},
		{
			name: "connection dropped after the registration was read is in doubt",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				hangUp(t, w, r)
			},
			class: InDoubt, requests: 1,
		},
		{
			name: "connection dropped on GET is retried",
			call: "get",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					hangUp(t, w, r)
					return
				}
				writeJSON(w, 200, `{"_id":"c1"}`)
			},
			requests: 2,
		},
		{
			name: "_status ERR on a 200 is an error",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, `{"_status":"ERR","_error":{"code":422,"message":"Validation failed","details":{"currency":"unsupported"}}}`)
			},
			class: Permanent, status: 200, requests: 1, message: "Validation failed",
			fields: map[string]string{"currency": "unsupported"},
		},
		{
			name: "unreadable 201 on registration is in doubt",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 201, `<html>gateway</html>`)
			},
			class: InDoubt, requests: 1,
		},
		{
			name: "429 on registration is refused, so it is retried",
			call: "register",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					writeJSON(w, 429, `{"_status":"ERR","_error":{"code":429,"message":"Too Many Requests"}}`)
					return
				}
				writeJSON(w, 201, `{"_id":"r1","_status":"OK","_case":"c1"}`)
			},
			requests: 2,
		},
		{
			name: "500 on upload is retried",
			call: "upload",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.WriteHeader(500)
					return
				}
				writeJSON(w, 201, `{"_status":"OK","url":"https://files/x"}`)
			},
			requests: 2,
		},
		{
			name: "403 is permanent",
			call: "get",
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(403)
			},
			class: Permanent, status: 403, requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				tt.handler(t, int(n.Add(1)), w, r)
			})
			c, _ := testClient(t, srv.URL)
			err := runCall(c, tt.call)
			if got := int(n.Load()); got != tt.requests {
				t.Errorf("server got %d requests, want %d", got, tt.requests)
			}
			if tt.class == 0 {
				if err != nil {
					t.Fatalf("got error %v, want success", err)
				}
				return
			}
			e := mustError(t, err)
			if e.Class != tt.class {
				t.Errorf("class = %v, want %v (%v)", e.Class, tt.class, e)
			}
			if e.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", e.StatusCode, tt.status)
			}
			if tt.message != "" && e.Message != tt.message {
				t.Errorf("message = %q, want %q", e.Message, tt.message)
			}
			if tt.fields != nil && !maps.Equal(e.Fields, tt.fields) {
				t.Errorf("fields = %v, want %v", e.Fields, tt.fields)
			}
			if got, want := IsInDoubt(err), tt.class == InDoubt; got != want {
				t.Errorf("IsInDoubt = %v, want %v", got, want)
			}
		})
	}
}

func runCall(c *Client, which string) error {
	ctx := context.Background()
	var err error
	switch which {
	case "register":
		_, err = c.RegisterInvoice(ctx, invoice("INV-1"))
	case "get":
		_, err = c.GetCase(ctx, "c1")
	case "upload":
		_, err = c.UploadOriginalInvoice(ctx, "c1", "inv.pdf", func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("%PDF-1.4 test")), nil
		})
	}
	return err
}

// TestConnectionRefused: nothing was sent, so even a registration is retryable, and it is
// retried up to MaxAttempts.
func TestConnectionRefused(t *testing.T) {
	c, clk := testClient(t, refusedURL(t), func(cfg *Config) { cfg.MaxAttempts = 3 })
	_, err := c.RegisterInvoice(context.Background(), invoice("INV-1"))
	e := mustError(t, err)
	if e.Class != Retryable {
		t.Errorf("class = %v, want retryable (%v)", e.Class, e)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", err)
	}
	if got := len(clk.Sleeps()); got != 2 {
		t.Errorf("backoff sleeps = %d, want 2 (3 attempts)", got)
	}
	if got := c.Stats().Calls["POST /invoice--registrations"][0]; got != 3 {
		t.Errorf("stats count %d attempts without response, want 3", got)
	}
}

// TestErrorMessageNamesFields: the error text carries the API's field messages.
func TestErrorMessageNamesFields(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, `{"_status":"ERR","_error":{"code":422,"message":"Validation failed","details":{"customer.name":"Name is required"}}}`)
	})
	c, _ := testClient(t, srv.URL)
	_, err := c.RegisterInvoice(context.Background(), invoice("INV-9"))
	want := "register invoice INV-9: HTTP 422 Validation failed (customer.name: Name is required)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestRedirectToOtherHostRefused: the token is not carried to another host by a redirect.
func TestRedirectToOtherHostRefused(t *testing.T) {
	var leaked atomic.Value
	other := server(t, func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("X-API-Key"))
		writeJSON(w, 200, `{"_id":"c1"}`)
	})
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	})
	c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.MaxAttempts = 1 })
	_, err := c.GetCase(context.Background(), "c1")
	if err == nil || !strings.Contains(err.Error(), "refusing redirect") {
		t.Errorf("error = %v, want the redirect refused", err)
	}
	if v := leaked.Load(); v != nil {
		t.Errorf("other host received X-API-Key %q", v)
	}
}

// TestErrorWithoutResponseKeepsItsMessage: an error no HTTP answer came with (a token response
// without a token, a configured token refused) still says what went wrong.
func TestErrorWithoutResponseKeepsItsMessage(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"_status":"OK","nothing":"here"}`)
	})
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthConfig{Method: AuthAPICode, APICode: "c"}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Authenticate(context.Background())
	want := "authenticate: no token in authentication response: looked for"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want it to start %q", err, want)
	}
}
