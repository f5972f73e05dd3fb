package amili_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/fakeclock"
)

// clock is a fake clock shared by the sandbox and the client: Sleep moves it on at once.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

func sandboxClient(t *testing.T, s *amilitest.Server, clk *fakeclock.Clock, auth amili.AuthConfig) *amili.Client {
	t.Helper()
	c, err := amili.New(amili.Config{BaseURL: s.URL, Auth: auth, Now: clk.Now, Sleep: clk.Sleep, RateLimit: 1e6, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sandboxInvoice(s *amilitest.Server, num string, ore domain.Amount) *domain.InvoiceRegistration {
	return &domain.InvoiceRegistration{
		Account: s.Account, Creditor: s.Creditor, InvoiceType: "invoice", InvoiceNumber: num,
		InvoiceDate: domain.NewDate(2026, 2, 1), InvoiceDueDate: domain.NewDate(2026, 3, 3), Currency: "SEK",
		Customer: &domain.Customer{Name: "Anna Andersson", IsPerson: true, IDNumber: "19811218-9876",
			Address: &domain.Address{AddressLine1: "Storgatan 1", ZipCode: "11122", City: "Stockholm", Country: "SE"}},
		Matrix: []domain.MatrixLine{{ArticleDescription: "Konsult", UnitPrice: ore, TotalPriceExcludingVAT: ore, UnitVATPercent: "25%"}},
	}
}

func pemKey(t *testing.T, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TestSandboxAuth: every authentication method works against the sandbox.
func TestSandboxAuth(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tt := range []struct {
		name string
		auth amili.AuthConfig
	}{
		{"pre-issued token", amili.AuthConfig{Method: amili.AuthToken, Token: "static-tok"}},
		{"jwt ES256", amili.AuthConfig{APICode: "code-ec", PrivateKeyPEM: pemKey(t, ec)}},
		{"jwt RS256", amili.AuthConfig{APICode: "code-rsa", PrivateKeyPEM: pemKey(t, rs)}},
		{"simple api code", amili.AuthConfig{Method: amili.AuthAPICode, APICode: "code-simple"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := amilitest.NewServer(amilitest.Options{
				Now:            clk.Now,
				Tokens:         []string{"static-tok"},
				APICodes:       map[string]crypto.PublicKey{"code-ec": &ec.PublicKey, "code-rsa": &rs.PublicKey},
				SimpleAPICodes: []string{"code-simple"},
			})
			defer s.Close()
			c := sandboxClient(t, s, clk, tt.auth)
			if err := c.Authenticate(context.Background()); err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			cr, err := c.GetCreditor(context.Background(), s.Creditor)
			if err != nil {
				t.Fatalf("GetCreditor: %v", err)
			}
			if cr.ID != s.Creditor || cr.Account != s.Account || !cr.IsActive {
				t.Errorf("creditor = %+v, want active %s on %s", cr, s.Creditor, s.Account)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		clk := newClock()
		s := amilitest.NewServer(amilitest.Options{Now: clk.Now, APICodes: map[string]crypto.PublicKey{"code-ec": &ec.PublicKey}})
		defer s.Close()
		c := sandboxClient(t, s, clk, amili.AuthConfig{APICode: "code-ec", PrivateKeyPEM: pemKey(t, other)})
		if err := c.Authenticate(context.Background()); amili.ClassOf(err) != amili.Unauthorized {
			t.Errorf("error = %v, want unauthorized", err)
		}
	})
}

// TestSandboxTokenExpiry: on a clock shared with the sandbox, the client replaces its token
// before the sandbox would refuse it.
func TestSandboxTokenExpiry(t *testing.T) {
	clk := newClock()
	s := amilitest.NewServer(amilitest.Options{SimpleAPICodes: []string{"c"}, TokenTTL: 5 * time.Minute, Now: clk.Now})
	defer s.Close()
	c := sandboxClient(t, s, clk, amili.AuthConfig{APICode: "c"})
	for range 3 {
		if _, err := c.GetCreditor(context.Background(), s.Creditor); err != nil {
			t.Fatal(err)
		}
		clk.Advance(6 * time.Minute) // past the token's lifetime: a stale token would get 401
	}
	if got := s.Calls()["POST /authenticates/api-code"]; got != 3 {
		t.Errorf("authentications = %d, want 3 (one per 5-minute token)", got)
	}
	if got := s.StatusCounts()[401]; got != 0 {
		t.Errorf("401 answers = %d, want 0", got)
	}
}

// TestSandboxCalls runs every client call against the sandbox, in order, each step using what
// the earlier ones created.
func TestSandboxCalls(t *testing.T) {
	s := amilitest.NewServer(amilitest.Options{Tokens: []string{"tok"}})
	defer s.Close()
	c := sandboxClient(t, s, newClock(), amili.AuthConfig{Token: "tok"})
	ctx := context.Background()
	pdf := bytes.Repeat([]byte("%PDF-1.4 sandbox\n"), 1000)
	var invoiceCase string
	var debtCases []string

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"register invoice", func(t *testing.T) {
			r, err := c.RegisterInvoice(ctx, sandboxInvoice(s, "INV-100", 100000))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != "OK" || r.Case == "" || r.Invoice == "" || r.OCRNumber == "" {
				t.Errorf("response = %+v", r)
			}
			invoiceCase = r.Case
			if n := s.RegistrationCount(s.Creditor, "INV-100"); n != 1 {
				t.Errorf("registrations of INV-100 = %d, want 1", n)
			}
		}},
		{"register case", func(t *testing.T) {
			r, err := c.RegisterCase(ctx, &domain.CaseRegistration{
				Account: s.Account, Creditor: s.Creditor, FirstAction: "debt_collection", Currency: "SEK",
				Customer: &domain.Customer{Name: "Bertil AB", IsCompany: true, IDNumber: "5560360793"},
				Debts: []domain.Debt{
					{InvoiceNumber: "D-1", InvoiceDate: domain.NewDate(2025, 12, 1), CapitalToClaim: 50000, InvoiceDueDaysAfterInvoiceDate: 30},
					{InvoiceNumber: "D-2", InvoiceDate: domain.NewDate(2025, 12, 5), CapitalToClaim: 75050, InvoiceDueDaysAfterInvoiceDate: 30},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Cases) != 2 || len(r.OCRNumbers) != 2 {
				t.Fatalf("response = %+v, want two cases", r)
			}
			debtCases = r.Cases
		}},
		{"upload original invoice", func(t *testing.T) {
			opens := 0
			up, err := c.UploadOriginalInvoice(ctx, invoiceCase, "INV-100.pdf", func() (io.ReadCloser, error) {
				opens++
				return io.NopCloser(bytes.NewReader(pdf)), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if up.URL == "" || opens != 1 {
				t.Errorf("upload = %+v, opens = %d", up, opens)
			}
			ups := s.Uploads(invoiceCase)
			sum := sha256.Sum256(pdf)
			if len(ups) != 1 || ups[0].Filename != "INV-100.pdf" || ups[0].ContentType != "application/pdf" ||
				ups[0].Size != int64(len(pdf)) || ups[0].SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("sandbox uploads = %+v", ups)
			}
		}},
		{"upload to unknown case", func(t *testing.T) {
			_, err := c.UploadOriginalInvoice(ctx, "000000000000000000000000", "x.pdf", func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(pdf)), nil
			})
			if e := asError(t, err); e.Class != amili.Permanent || e.StatusCode != 404 {
				t.Errorf("error = %v, want permanent 404", err)
			}
		}},
		{"get case", func(t *testing.T) {
			cs, err := c.GetCase(ctx, invoiceCase)
			if err != nil {
				t.Fatal(err)
			}
			if cs.ID != invoiceCase || cs.Creditor != s.Creditor || cs.Debt.InvoiceNumber != "INV-100" ||
				cs.Debt.CapitalToClaim != 125000 || cs.OriginalInvoice == nil {
				t.Errorf("case = %+v", cs)
			}
		}},
		{"get creditor inactive", func(t *testing.T) {
			cr, err := c.GetCreditor(ctx, s.InactiveCreditor)
			if err != nil || cr.IsActive {
				t.Errorf("creditor = %+v, %v; want inactive", cr, err)
			}
		}},
		{"find cases by invoice number", func(t *testing.T) {
			l, err := c.FindCases(ctx, amili.CaseQuery{Where: map[string]any{"creditor": s.Creditor, "debt.invoice_number": "D-2"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != 1 || l.Items[0].ID != debtCases[1] || l.Meta.Total != 1 {
				t.Errorf("list = %+v, want case %s", l, debtCases[1])
			}
		}},
		{"payment", func(t *testing.T) {
			r, err := c.RegisterPayment(ctx, &domain.Payment{Account: s.Account, Creditor: s.Creditor, Case: debtCases[0],
				Currency: "SEK", Amount: 50000, BankTransactionDate: domain.NewDate(2026, 3, 1), Origin: domain.OriginCreditorSystem})
			if err != nil || r.Status != "completed" || r.ID == "" {
				t.Fatalf("payment = %+v, %v", r, err)
			}
			cs, _ := c.GetCase(ctx, debtCases[0])
			if cs == nil || cs.Closed == nil {
				t.Errorf("case after full payment = %+v, want closed", cs)
			}
		}},
		{"crediting by invoice number", func(t *testing.T) {
			r, err := c.RegisterCrediting(ctx, &domain.Crediting{Account: s.Account, Creditor: s.Creditor, InvoiceNumber: "D-2",
				Currency: "SEK", Amount: 5000, Origin: domain.OriginCreditorSystem})
			if err != nil || r.Status == "" || r.ID == "" {
				t.Fatalf("crediting = %+v, %v", r, err)
			}
		}},
		{"cancellation", func(t *testing.T) {
			r, err := c.RegisterCancellation(ctx, &domain.Cancellation{Creditor: s.Creditor, Case: invoiceCase, Origin: domain.OriginCreditorSystem})
			if err != nil || (r.Status != "completed" && r.Status != "warning") {
				t.Fatalf("cancellation = %+v, %v", r, err)
			}
		}},
		{"invalid registration is permanent with field messages", func(t *testing.T) {
			inv := sandboxInvoice(s, "INV-BAD", 100)
			inv.Creditor = s.InactiveCreditor
			inv.Currency = ""
			_, err := c.RegisterInvoice(ctx, inv)
			if e := asError(t, err); e.Class != amili.Permanent || e.StatusCode != 422 || len(e.Fields) == 0 {
				t.Errorf("error = %v, want permanent 422 with fields", err)
			}
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.run) {
			break
		}
	}
	stats := c.Stats()
	if stats.Calls["POST /invoice--registrations"][201] != 1 || stats.Calls["POST /media--upload/{id}"][201] != 1 {
		t.Errorf("client stats = %v", stats.Calls)
	}
}

// TestSandboxAllCases: 230 registrations come back through AllCases in three pages.
func TestSandboxAllCases(t *testing.T) {
	s := amilitest.NewServer(amilitest.Options{})
	defer s.Close()
	c := sandboxClient(t, s, newClock(), amili.AuthConfig{Token: "any"})
	ctx := context.Background()
	other := s.AddCreditor(true)
	for i := range 230 {
		if _, err := c.RegisterInvoice(ctx, sandboxInvoice(s, fmt.Sprintf("P-%03d", i), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	inv := sandboxInvoice(s, "OTHER-1", 1000)
	inv.Creditor = other
	if _, err := c.RegisterInvoice(ctx, inv); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for cs, err := range c.AllCases(ctx, amili.CaseQuery{Where: map[string]any{"creditor": s.Creditor}, Sort: "debt.invoice_number"}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[cs.Debt.InvoiceNumber] || cs.Creditor != s.Creditor {
			t.Errorf("case %s (%s) repeated or of another creditor", cs.ID, cs.Debt.InvoiceNumber)
		}
		seen[cs.Debt.InvoiceNumber] = true
	}
	if len(seen) != 230 {
		t.Errorf("AllCases yielded %d invoices, want 230", len(seen))
	}
	if got := s.Calls()["GET /cases"]; got != 3 {
		t.Errorf("GET /cases calls = %d, want 3 pages of 100", got)
	}
}

// TestSandboxFaults: forced faults give the classes the importer relies on; after
// CommitThenDrop and CommitThenFail the registration is stored although the call is in doubt,
// and a lookup by invoice number finds it.
func TestSandboxFaults(t *testing.T) {
	s := amilitest.NewServer(amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{
		"F-DROP": amilitest.FaultCommitThenDrop,
		"F-FAIL": amilitest.FaultCommitThenFail,
		"F-500":  amilitest.FaultServerError,
		"F-422":  amilitest.FaultReject422,
	}}})
	defer s.Close()
	c := sandboxClient(t, s, newClock(), amili.AuthConfig{Token: "any"})
	ctx := context.Background()
	for _, tt := range []struct {
		num    string
		class  amili.Class
		stored int
	}{
		{"F-DROP", amili.InDoubt, 1},
		{"F-FAIL", amili.InDoubt, 1},
		{"F-500", amili.InDoubt, 0}, // a 5xx on a registration is in doubt even when nothing was stored
		{"F-422", amili.Permanent, 0},
	} {
		t.Run(tt.num, func(t *testing.T) {
			_, err := c.RegisterInvoice(ctx, sandboxInvoice(s, tt.num, 1000))
			if e := asError(t, err); e.Class != tt.class {
				t.Errorf("class = %v, want %v (%v)", e.Class, tt.class, err)
			}
			if got := s.RegistrationCount(s.Creditor, tt.num); got != tt.stored {
				t.Errorf("sandbox holds %d registrations of %s, want %d (sent once)", got, tt.num, tt.stored)
			}
			l, err := c.FindCases(ctx, amili.CaseQuery{Where: map[string]any{"creditor": s.Creditor, "debt.invoice_number": tt.num}})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != tt.stored {
				t.Errorf("lookup found %d cases, want %d", len(l.Items), tt.stored)
			}
		})
	}
}

// TestSandboxStorm429: under a storm of 429s every GET still succeeds, waiting the sandbox's
// Retry-After on the fake clock, and the client counts the 429s the sandbox sent.
func TestSandboxStorm429(t *testing.T) {
	s := amilitest.NewServer(amilitest.Options{Faults: amilitest.Faults{Seed: 7, Storm429: 0.4}})
	defer s.Close()
	clk := newClock()
	c, err := amili.New(amili.Config{BaseURL: s.URL, Auth: amili.AuthConfig{Token: "any"}, Now: clk.Now, Sleep: clk.Sleep,
		MaxAttempts: 20, RateLimit: 1e6, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		if _, err := c.GetCreditor(context.Background(), s.Creditor); err != nil {
			t.Fatal(err)
		}
	}
	n429 := s.StatusCounts()[429]
	if n429 == 0 {
		t.Fatal("the storm sent no 429")
	}
	if st := c.Stats(); st.TooManyRequests != n429 {
		t.Errorf("client counted %d 429s, sandbox sent %d", st.TooManyRequests, n429)
	}
	if c.Stats().RateLimitWait != clk.Slept() {
		t.Errorf("Stats().RateLimitWait = %v, want the %v slept", c.Stats().RateLimitWait, clk.Slept())
	}
	if clk.Slept() != time.Duration(n429)*time.Second {
		t.Errorf("slept %v, want %d × Retry-After 1s", clk.Slept(), n429)
	}
}

func asError(t *testing.T, err error) *amili.Error {
	t.Helper()
	e, ok := err.(*amili.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *amili.Error", err, err)
	}
	return e
}
