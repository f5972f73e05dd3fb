package amili

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/logging"
)

// TestFindCasesQuery: where is JSON, max_results is capped at 100, page and sort are passed.
func TestFindCasesQuery(t *testing.T) {
	var q map[string]string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		q = map[string]string{}
		for k := range r.URL.Query() {
			q[k] = r.URL.Query().Get(k)
		}
		writeJSON(w, 200, `{"_items":[{"_id":"c1","debt":{"invoice_number":"INV-1","capital_to_claim":150.5}}],"_meta":{"page":2,"max_results":100,"total":101}}`)
	})
	c, _ := testClient(t, srv.URL)
	l, err := c.FindCases(context.Background(), CaseQuery{
		Where: map[string]any{"creditor": "cred", "debt.invoice_number": "INV-1"}, Page: 2, MaxResults: 500, Sort: "-_created",
	})
	if err != nil {
		t.Fatal(err)
	}
	var where map[string]string
	if err := json.Unmarshal([]byte(q["where"]), &where); err != nil || where["debt.invoice_number"] != "INV-1" || where["creditor"] != "cred" {
		t.Errorf("where = %q (%v)", q["where"], err)
	}
	if q["page"] != "2" || q["max_results"] != "100" || q["sort"] != "-_created" {
		t.Errorf("query = %v, want page 2, max_results 100, sort -_created", q)
	}
	if len(l.Items) != 1 || l.Items[0].Debt.CapitalToClaim != domain.Amount(15050) || l.Meta.Total != 101 {
		t.Errorf("list = %+v", l)
	}
}

// casesServer serves total cases in pages and counts the page requests.
func casesServer(t *testing.T, total int, failPage int) (*Client, *atomic.Int32) {
	var pages atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		pages.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("max_results"))
		if page == failPage {
			writeJSON(w, 400, `{"_status":"ERR","_error":{"code":400,"message":"bad page"}}`)
			return
		}
		var items []string
		for i := (page - 1) * per; i < min(page*per, total); i++ {
			items = append(items, fmt.Sprintf(`{"_id":"case-%d"}`, i))
		}
		writeJSON(w, 200, fmt.Sprintf(`{"_items":[%s],"_meta":{"page":%d,"max_results":%d,"total":%d}}`,
			strings.Join(items, ","), page, per, total))
	})
	c, _ := testClient(t, srv.URL)
	return c, &pages
}

// TestAllCasesPaging: every case is yielded once, in order, with as few page requests as the
// total allows.
func TestAllCasesPaging(t *testing.T) {
	for _, tt := range []struct{ total, pages int }{{0, 1}, {99, 1}, {100, 1}, {250, 3}, {300, 3}} {
		t.Run(strconv.Itoa(tt.total), func(t *testing.T) {
			c, pages := casesServer(t, tt.total, 0)
			i := 0
			for cs, err := range c.AllCases(context.Background(), CaseQuery{Where: map[string]any{"creditor": "x"}}) {
				if err != nil {
					t.Fatal(err)
				}
				if want := fmt.Sprintf("case-%d", i); cs.ID != want {
					t.Fatalf("case %d = %s, want %s", i, cs.ID, want)
				}
				i++
			}
			if i != tt.total || int(pages.Load()) != tt.pages {
				t.Errorf("got %d cases in %d pages, want %d in %d", i, pages.Load(), tt.total, tt.pages)
			}
		})
	}
	t.Run("error on page 2", func(t *testing.T) {
		c, _ := casesServer(t, 250, 2)
		n, errs := 0, 0
		for _, err := range c.AllCases(context.Background(), CaseQuery{}) {
			if err != nil {
				errs++
				continue
			}
			n++
		}
		if n != 100 || errs != 1 {
			t.Errorf("got %d cases and %d errors, want 100 and 1", n, errs)
		}
	})
	t.Run("stop early", func(t *testing.T) {
		c, pages := casesServer(t, 250, 0)
		for range c.AllCases(context.Background(), CaseQuery{}) {
			break
		}
		if pages.Load() != 1 {
			t.Errorf("pages read = %d, want 1", pages.Load())
		}
	})
}

// TestTransactionStatus: the status comes from whichever _*_status field the endpoint sends.
func TestTransactionStatus(t *testing.T) {
	var bodies []map[string]any
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		bodies = append(bodies, b)
		switch r.URL.Path {
		case "/creditor--payments":
			writeJSON(w, 201, `{"_id":"p1","_status":"OK","_payment_status":"completed"}`)
		case "/creditor-crediting":
			writeJSON(w, 201, `{"_id":"k1","_status":"OK","_crediting_status":"completed"}`)
		case "/creditor--cancellations":
			writeJSON(w, 201, `{"_id":"x1","_status":"OK","_cancellation_status":"warning"}`)
		default:
			t.Errorf("unexpected path %s", r.URL.Path)
		}
	})
	c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.Paths.Creditings = "creditor-crediting" })
	ctx := context.Background()
	p, err := c.RegisterPayment(ctx, &domain.Payment{Creditor: "cr", Case: "c1", Currency: "SEK", Amount: 200000,
		BankTransactionDate: domain.Date{}, Origin: domain.OriginCreditorSystem})
	if err != nil || p.ID != "p1" || p.Status != "completed" {
		t.Errorf("payment = %+v, %v", p, err)
	}
	k, err := c.RegisterCrediting(ctx, &domain.Crediting{Creditor: "cr", InvoiceNumber: "INV-1", Amount: 10000, Origin: domain.OriginCreditorSystem})
	if err != nil || k.ID != "k1" || k.Status != "completed" {
		t.Errorf("crediting = %+v, %v", k, err)
	}
	x, err := c.RegisterCancellation(ctx, &domain.Cancellation{Creditor: "cr", Case: "c1", Origin: domain.OriginCreditorSystem})
	if err != nil || x.ID != "x1" || x.Status != "warning" {
		t.Errorf("cancellation = %+v, %v", x, err)
	}
	if len(bodies) != 3 || bodies[0]["amount"] != 2000.0 || bodies[1]["invoice_number"] != "INV-1" || bodies[2]["origin"] != "creditor_system" {
		t.Errorf("bodies = %v", bodies)
	}
}

// TestSecretsNotLogged: with debug logging on, through authentication, a 401 and
// re-authentication, a retry and a 422, no token, API code, JWT or key material is logged.
func TestSecretsNotLogged(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keyPEM := pemOf(t, key)
	const apiCode = "api-code-secret-4711"
	var jwts []string
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authenticates/api-code" {
			jwts = append(jwts, r.Header.Get("X-API-Key"))
			fmt.Fprintf(w, `{"access_token":"access-token-secret-%d","expires_in":3600}`, len(jwts))
			return
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(401)
		case 2:
			w.WriteHeader(503)
		case 3:
			writeJSON(w, 200, `{"_id":"c1"}`)
		default:
			writeJSON(w, 422, `{"_status":"ERR","_error":{"code":422,"message":"Validation failed","details":{"x":"y"}}}`)
		}
	})
	var logs bytes.Buffer
	c, _ := testClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = AuthConfig{APICode: apiCode, PrivateKeyPEM: keyPEM}
		// The program's own logger, redactor included: the fingerprint must survive it.
		l, err := logging.New(&logs, logging.Options{Level: "debug", Format: "json"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Logger = l
	})
	if _, err := c.GetCase(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterInvoice(context.Background(), invoice("INV-1")); !IsPermanent(err) {
		t.Fatalf("RegisterInvoice error = %v, want permanent", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"credential":"sha256:`) || !strings.Contains(out, "retrying") {
		t.Fatalf("log lacks the expected lines:\n%s", out)
	}
	secrets := []string{apiCode, "access-token-secret", "-----BEGIN"}
	secrets = append(secrets, jwts...)
	secrets = append(secrets, strings.Split(string(keyPEM), "\n")[1]) // a line of key material
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("log contains secret %q", s)
		}
	}
	// And nothing in the error chain either.
	_, err := c.RegisterInvoice(context.Background(), invoice("INV-2"))
	for _, s := range secrets {
		if s != "" && strings.Contains(fmt.Sprint(err), s) {
			t.Errorf("error contains secret %q", s)
		}
	}
}

// TestPathsSet: the configuration keys set the paths, single-resource paths get /{id}, and
// the case path follows a configured cases path.
func TestPathsSet(t *testing.T) {
	var got []string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.EscapedPath())
		writeJSON(w, 200, `{"_id":"x","_items":[],"_meta":{"total":0}}`)
	})
	var p Paths
	for k, v := range map[string]string{"creditors": "/v2/creditors", "cases": "/v2/cases", "invoice_registrations": "/invoice-registration"} {
		if err := p.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Set("invoices", "/x"); err == nil {
		t.Error("unknown key accepted")
	}
	c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.Paths = p })
	ctx := context.Background()
	c.GetCreditor(ctx, "cr 1")
	c.GetCase(ctx, "c1")
	c.FindCases(ctx, CaseQuery{})
	c.RegisterInvoice(ctx, invoice("INV-1"))
	want := []string{"GET /v2/creditors/cr%201", "GET /v2/cases/c1", "GET /v2/cases", "POST /invoice-registration"}
	if !slices.Equal(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	if _, ok := c.Stats().Calls["GET /v2/creditors/{id}"]; !ok {
		t.Errorf("stats endpoints = %v, want the configured template", c.Stats().Calls)
	}
}
