package report

import (
	"cmp"
	"slices"

	"github.com/amili-import/amili-import/domain"
)

// vatTotals splits the registered amounts by VAT rate per creditor and currency. An item whose
// split is unknown (a case's debt, or a content recorded without one) counts under the unknown
// rate with its gross only.
func (r *Report) vatTotals() {
	type vkey struct{ creditor, currency, rate string }
	m := map[vkey]*VATTotal{}
	get := func(k vkey) *VATTotal {
		t := m[k]
		if t == nil {
			t = &VATTotal{Creditor: k.creditor, Currency: k.currency, Rate: k.rate, NetKnown: k.rate != ""}
			m[k] = t
		}
		return t
	}
	for _, g := range r.Registrations {
		if !vatAddsUp(g.vat, g.Amount) {
			t := get(vkey{g.Creditor, g.Currency, ""})
			t.Items++
			t.Gross += g.Amount
			continue
		}
		for _, p := range g.vat {
			t := get(vkey{g.Creditor, g.Currency, p.Rate})
			t.Items++
			t.Net += p.Net
			t.VAT += p.VAT
			t.Gross += p.Net + p.VAT
		}
	}
	rank := func(rate string) int {
		if i := slices.Index(domain.VATRates, rate); i >= 0 {
			return i
		}
		return len(domain.VATRates)
	}
	r.VAT = r.VAT[:0]
	for _, t := range m {
		r.VAT = append(r.VAT, *t)
	}
	slices.SortFunc(r.VAT, func(a, c VATTotal) int {
		return cmp.Or(cmp.Compare(a.Creditor, c.Creditor), cmp.Compare(a.Currency, c.Currency), cmp.Compare(rank(a.Rate), rank(c.Rate)))
	})
}

// vatAddsUp reports whether a split is known and adds up to the item's amount.
func vatAddsUp(parts []domain.VATPart, gross domain.Amount) bool {
	if len(parts) == 0 {
		return false
	}
	var sum domain.Amount
	for _, p := range parts {
		sum += p.Net + p.VAT
	}
	return sum == gross
}
