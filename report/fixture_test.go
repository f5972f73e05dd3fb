package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/fakeclock"
	"github.com/amili-import/amili-import/ledger"
)

// stockholm is the zone reports are shown in.
var stockholm = mustZone("Europe/Stockholm")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// The fixed period every fixture reports on: 21 November 2026, Stockholm time.
var (
	periodSince = time.Date(2026, 11, 21, 0, 0, 0, 0, stockholm)
	periodUntil = time.Date(2026, 11, 22, 0, 0, 0, 0, stockholm)
)

// fixture is a ledger in a temp dir and a sandbox, filled through their public APIs.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	clock  *fakeclock.Clock
	led    *ledger.Ledger
	sb     *amilitest.Server
	client *amili.Client
	run    ledger.RunID
	http   *http.Client
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	clock := fakeclock.New(time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC))
	led, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { led.Close() })
	sbClock := fakeclock.New(time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC))
	sb := amilitest.NewServer(amilitest.Options{Tokens: []string{"test-token"}, Now: sbClock.Now})
	t.Cleanup(sb.Close)
	client, err := amili.New(amili.Config{BaseURL: sb.URL, Auth: amili.AuthConfig{Token: "test-token"},
		RateLimit: 1e6, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	run, err := led.StartRun(ctx, "invoices")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, clock: clock, led: led, sb: sb, client: client, run: run, http: &http.Client{}}
}

func (f *fixture) period(creditor string) Period {
	return Period{Since: periodSince, Until: periodUntil, Creditor: creditor}
}

func (f *fixture) deps() Deps {
	return Deps{Store: f.led, Deliveries: f.led, Cases: f.client, Location: stockholm,
		Now: func() time.Time { return time.Date(2026, 11, 22, 6, 0, 0, 0, stockholm) }}
}

// file begins a file record in the fixture's run.
func (f *fixture) file(name string) ledger.FileID {
	f.t.Helper()
	f.clock.Advance(time.Minute)
	sum := sha256.Sum256([]byte(name))
	id, _, err := f.led.BeginFile(f.ctx, f.run, ledger.FileRecord{Path: name, Size: 1000, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) finish(id ledger.FileID, c domain.Counts) {
	f.t.Helper()
	if err := f.led.FinishFile(f.ctx, id, ledger.FileDone, c, ""); err != nil {
		f.t.Fatal(err)
	}
}

// item is one row to put through the ledger.
type item struct {
	creditor, number, customer, currency string
	amount                               domain.Amount
	// amiliAmount, when set, is registered at Amili instead of amount (an amount mismatch).
	amiliAmount domain.Amount
	contentTag  string // changes the content hash (a conflict)
	vat         []domain.VATPart
}

func (it item) mapping() domain.Item {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%s|%d|%s", it.number, it.customer, it.currency, it.amount, it.contentTag)))
	cur := it.currency
	if cur == "" {
		cur = "SEK"
	}
	return domain.Item{InvoiceNumber: it.number, Amount: it.amount, Currency: cur, CustomerName: it.customer,
		PDF: it.number + ".pdf", ContentHash: hex.EncodeToString(h[:]), VAT: it.vat}
}

func (f *fixture) claim(file ledger.FileID, line int, it item) ledger.Claim {
	f.t.Helper()
	f.clock.Advance(time.Second)
	c, err := f.led.Claim(f.ctx, ledger.ClaimRequest{Run: f.run, File: file, Line: line, Kind: domain.KindCase,
		Creditor: it.creditor, Items: []domain.Item{it.mapping()}})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// pdf says what happens to an item's PDF after registration.
type pdf int

const (
	pdfUpload     pdf = iota // uploaded to Amili and marked uploaded
	pdfMissing               // no PDF: no_pdf
	pdfLedgerOnly            // marked uploaded in the ledger, never uploaded (a mismatch)
)

// register claims, registers at the sandbox and records it; it returns the case id.
func (f *fixture) register(file ledger.FileID, line int, it item, p pdf) string {
	f.t.Helper()
	c := f.claim(file, line, it)
	if c.Outcome != ledger.ClaimNew {
		f.t.Fatalf("claim %s: outcome %v, want new", it.number, c.Outcome)
	}
	id := c.Submission.ID
	if _, err := f.led.MarkSending(f.ctx, id, ""); err != nil {
		f.t.Fatal(err)
	}
	amount := it.amount
	if it.amiliAmount != 0 {
		amount = it.amiliAmount
	}
	regID, caseID, ocr := f.sandboxCase(it, amount)
	if err := f.led.MarkRegistered(f.ctx, id, ledger.Registered{RegistrationID: regID,
		Cases: []ledger.CaseRef{{CaseID: caseID, OCRNumber: ocr}}}); err != nil {
		f.t.Fatal(err)
	}
	f.pdf(id, caseID, p)
	return caseID
}

func (f *fixture) pdf(id ledger.SubmissionID, caseID string, p pdf) {
	f.t.Helper()
	state := ledger.PDFUploaded
	switch p {
	case pdfUpload:
		_, err := f.client.UploadOriginalInvoice(f.ctx, caseID, "invoice.pdf", func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("%PDF-1.4\n%%EOF\n")), nil
		})
		if err != nil {
			f.t.Fatal(err)
		}
	case pdfMissing:
		state = ledger.PDFMissing
	}
	if _, err := f.led.MarkPDF(f.ctx, id, 0, state, ""); err != nil {
		f.t.Fatal(err)
	}
}

// registerFake records a registration whose case Amili has never heard of.
func (f *fixture) registerFake(file ledger.FileID, line int, it item, caseID string) {
	f.t.Helper()
	c := f.claim(file, line, it)
	if _, err := f.led.MarkSending(f.ctx, c.Submission.ID, ""); err != nil {
		f.t.Fatal(err)
	}
	if err := f.led.MarkRegistered(f.ctx, c.Submission.ID, ledger.Registered{RegistrationID: "reg-" + caseID,
		Cases: []ledger.CaseRef{{CaseID: caseID, OCRNumber: "0"}}}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.led.MarkPDF(f.ctx, c.Submission.ID, 0, ledger.PDFMissing, ""); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) reject(file ledger.FileID, line int, it item, reason string) {
	f.t.Helper()
	c := f.claim(file, line, it)
	if _, err := f.led.MarkSending(f.ctx, c.Submission.ID, ""); err != nil {
		f.t.Fatal(err)
	}
	if err := f.led.MarkRejected(f.ctx, c.Submission.ID, reason); err != nil {
		f.t.Fatal(err)
	}
}

// sandboxCase posts a case registration straight to the sandbox.
func (f *fixture) sandboxCase(it item, amount domain.Amount) (regID, caseID, ocr string) {
	f.t.Helper()
	cur := it.currency
	if cur == "" {
		cur = "SEK"
	}
	body, _ := json.Marshal(map[string]any{
		"account": f.sb.Account, "creditor": it.creditor, "first_action": "reminder", "currency": cur,
		"customer": map[string]any{"name": it.customer, "is_person": true},
		"debts": []any{map[string]any{"invoice_number": it.number, "invoice_date": "2026-11-01",
			"invoice_due_days_after_invoice_date": 30, "capital_to_claim": amount}},
	})
	req, _ := http.NewRequest("POST", f.sb.URL+"/case--registrations", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "test-token")
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out amili.CaseRegistered
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		f.t.Fatalf("sandbox registration %s: %d %s", it.number, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, &out); err != nil || len(out.Cases) != 1 {
		f.t.Fatalf("sandbox registration %s: %v %s", it.number, err, data)
	}
	return out.ID, out.Cases[0], out.OCRNumbers[0]
}

// pay reports a payment the debtor made to the creditor directly.
func (f *fixture) pay(creditor, caseID string, amount domain.Amount) {
	f.t.Helper()
	_, err := f.client.RegisterPayment(f.ctx, &domain.Payment{Creditor: creditor, Case: caseID, Currency: "SEK",
		Amount: amount, BankTransactionDate: domain.Date{Time: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		Origin: domain.OriginCreditorSystem})
	if err != nil {
		f.t.Fatal(err)
	}
}

// goldenScenario is the fixed ledger and sandbox state of the golden tests.
func goldenScenario(t testing.TB) *fixture {
	f := newFixture(t)
	cred := f.sb.Creditor
	a := f.file("in/invoices-20261121.csv")
	reg := []item{
		{number: "INV-1001", customer: "Åsa Öberg", amount: 125000, vat: []domain.VATPart{{Rate: "25%", Net: 100000, VAT: 25000}}},
		{number: "INV-1002", customer: "Bertil Ek AB", amount: 9950},
		{number: "INV-1003", customer: "Cecilia Lind", amount: 100},
		{number: "INV-1004", customer: "Dag Ström", amount: 1234567},
	}
	cases := make([]string, len(reg))
	for i, it := range reg {
		it.creditor = cred
		cases[i] = f.register(a, i+2, it, pdfUpload)
	}
	// Amili's side moves on: INV-1003 is paid in full (closed), INV-1004 in part.
	f.pay(cred, cases[2], 100)
	f.pay(cred, cases[3], 34567)
	f.register(a, 6, item{creditor: cred, number: "INV-1005", customer: "Erik Nyström", amount: 50000,
		vat: []domain.VATPart{{Rate: "12%", Net: 20000, VAT: 2400}, {Rate: "6%", Net: 25100, VAT: 1506}, {Rate: "0%", Net: 994}}}, pdfMissing)
	f.register(a, 7, item{creditor: cred, number: "INV-1006", customer: `=HYPERLINK("http://x","y")`, amount: 7700,
		vat: []domain.VATPart{{Rate: "0%", Net: 7700}}}, pdfUpload)
	f.register(a, 8, item{creditor: cred, number: "INV-1007", customer: "Fia Holm", amount: 30000, amiliAmount: 31000}, pdfUpload)
	f.register(a, 9, item{creditor: cred, number: "INV-1008", customer: "Gustav Berg", amount: 45000}, pdfLedgerOnly)
	f.registerFake(a, 10, item{creditor: cred, number: "INV-1009", customer: "Hanna Sjö", amount: 2000}, "ffffffffffffffffffffffff")
	f.reject(a, 11, item{creditor: cred, number: "INV-1010", customer: "Ivar Lund", amount: 1200},
		"amili 422: debts.0.invoice_date: must not be in the future")
	f.claim(a, 12, item{creditor: cred, number: "INV-1011", customer: "Jonna Ek", amount: 8800})
	if err := f.led.RecordRowErrors(f.ctx, a, []domain.RowError{
		{File: "in/invoices-20261121.csv", Line: 13, Column: "amount", Value: "12,3x", Rule: "not a decimal amount", InvoiceNumber: "INV-1012"},
		{File: "in/invoices-20261121.csv", Line: 14, Column: "customer_id_number", Value: "19121212****", Rule: "check digit is wrong", InvoiceNumber: "INV-1013", Warning: true},
	}); err != nil {
		t.Fatal(err)
	}
	f.finish(a, domain.Counts{Rows: 13, Registrations: 11, Registered: 9, PDFsAttached: 6, NoPDF: 2, Rejected: 2, Failed: 1})

	b := f.file("in/invoices-20261121-again.csv")
	if c := f.claim(b, 2, item{creditor: cred, number: "INV-1001", customer: "Åsa Öberg", amount: 125000}); c.Outcome != ledger.ClaimDone {
		t.Fatalf("again: outcome %v, want done", c.Outcome)
	}
	if c := f.claim(b, 3, item{creditor: cred, number: "INV-1002", customer: "Bertil Ek AB", amount: 9990, contentTag: "changed"}); c.Outcome != ledger.ClaimConflict {
		t.Fatalf("changed: outcome %v, want conflict", c.Outcome)
	}
	f.finish(b, domain.Counts{Rows: 2, Registrations: 2, AlreadyImported: 1, Conflicts: 1})

	other := f.sb.AddCreditor(true)
	var err error
	if f.run, err = f.led.StartRun(f.ctx, "eur"); err != nil {
		t.Fatal(err)
	}
	c := f.file("in/eur-20261121.csv")
	f.register(c, 2, item{creditor: other, number: "EU-1", customer: "Klaus Weber GmbH", currency: "EUR", amount: 99999}, pdfUpload)
	f.finish(c, domain.Counts{Rows: 1, Registrations: 1, Registered: 1, PDFsAttached: 1})
	return f
}
