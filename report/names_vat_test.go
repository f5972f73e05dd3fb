package report

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// The report names each creditor as Amili does, asking once per creditor, and keeps the name in
// the ledger for a report built when Amili cannot say.
func TestCreditorNamesOncePerCreditor(t *testing.T) {
	f := goldenScenario(t)
	before := f.sb.Calls()["GET /creditors/{id}"]
	r := f.build(f.period(""))
	calls := f.sb.Calls()["GET /creditors/{id}"] - before
	t.Logf("%d creditors named with %d GET /creditors/{id}: %v", len(r.CreditorNames), calls, r.CreditorNames)
	if len(r.CreditorNames) != 2 || calls != 2 {
		t.Errorf("%d names with %d calls, want 2 creditors named with one call each", len(r.CreditorNames), calls)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html, ChartFile); err != nil {
		t.Fatal(err)
	}
	for id, name := range r.CreditorNames {
		if name == "" || !strings.Contains(html.String(), name+" ("+id+")") {
			t.Errorf("creditor %s: name %q not shown beside its id", id, name)
		}
	}
	r2, err := Build(f.ctx, f.led, noCreditors{f.client}, f.period(""), BuildOptions{Location: stockholm})
	if err != nil {
		t.Fatal(err)
	}
	for id, name := range r.CreditorNames {
		if r2.CreditorNames[id] != name {
			t.Errorf("Amili unreachable for creditors: %s named %q, want %q kept in the ledger", id, r2.CreditorNames[id], name)
		}
	}
}

type noCreditors struct{ *amili.Client }

func (noCreditors) GetCreditor(context.Context, string) (*amili.Creditor, error) {
	return nil, errors.New("connection refused")
}

// Registered amounts are split by VAT rate per creditor and currency; a case's debt, which
// carries no rate, counts with its gross only, its net and VAT unknown. The gross column adds up
// to the registered total.
func TestVATPerRate(t *testing.T) {
	f := newFixture(t)
	a := f.file("in/vat.csv")
	withVAT := func(it item, parts ...domain.VATPart) {
		t.Helper()
		f.clock.Advance(time.Second)
		m := it.mapping()
		m.VAT = parts
		c, err := f.led.Claim(f.ctx, ledger.ClaimRequest{Run: f.run, File: a, Line: 2, Kind: domain.KindInvoice,
			Creditor: f.sb.Creditor, Items: []domain.Item{m}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.led.MarkSending(f.ctx, c.Submission.ID, ""); err != nil {
			t.Fatal(err)
		}
		if err := f.led.MarkRegistered(f.ctx, c.Submission.ID, ledger.Registered{RegistrationID: "r-" + it.number,
			Cases: []ledger.CaseRef{{CaseID: "c-" + it.number}}}); err != nil {
			t.Fatal(err)
		}
	}
	withVAT(item{creditor: f.sb.Creditor, number: "V-1", amount: 12_500}, domain.VATPart{Rate: "25%", Net: 10_000, VAT: 2_500})
	withVAT(item{creditor: f.sb.Creditor, number: "V-2", amount: 13_600},
		domain.VATPart{Rate: "25%", Net: 8_000, VAT: 2_000}, domain.VATPart{Rate: "12%", Net: 2_000, VAT: 240},
		domain.VATPart{Rate: "6%", Net: 1_000, VAT: 60}, domain.VATPart{Rate: "0%", Net: 300})
	f.register(a, 3, item{creditor: f.sb.Creditor, number: "V-3", customer: "C", amount: 5_000}, pdfMissing) // a case

	r := f.build(f.period(""))
	type row struct {
		rate            string
		net, vat, gross domain.Amount
		known           bool
	}
	var got []row
	var gross domain.Amount
	for _, v := range r.VAT {
		got = append(got, row{v.Rate, v.Net, v.VAT, v.Gross, v.NetKnown})
		gross += v.Gross
	}
	want := []row{{"25%", 18_000, 4_500, 22_500, true}, {"12%", 2_000, 240, 2_240, true}, {"6%", 1_000, 60, 1_060, true},
		{"0%", 300, 0, 300, true}, {"", 0, 0, 5_000, false}}
	t.Logf("VAT rows %+v", got)
	if len(got) != len(want) {
		t.Fatalf("VAT rows %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("VAT row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(r.Totals) != 1 || gross != r.Totals[0].Registered {
		t.Errorf("VAT gross %s, want the registered total %+v", gross, r.Totals)
	}
}
