package suggest

import (
	"fmt"
	"slices"
	"strings"
)

// contentRules place a column no name placed, by what all its values are, in this order.
var contentRules = []struct {
	field string
	is    func(p *profile) bool
	what  string
}{
	{"customer.id_number", func(p *profile) bool { return p.ids == p.n() }, "Luhn-valid identity numbers"},
	{"customer.email", func(p *profile) bool { return p.emails == p.n() }, "e-mail addresses"},
	{"customer.mobile_number", func(p *profile) bool { return p.mobiles == p.n() }, "mobile numbers"},
	{"currency", func(p *profile) bool { return p.currs == p.n() }, "currency codes"},
	{"matrix.unit_vat_percent", func(p *profile) bool { return p.vats == p.n() && p.n() > 1 && !p.isDate }, "VAT rates"},
}

// byContent places the columns left over by what their values are, and says of the rest why
// they stay unmapped.
func (p *Proposal) byContent(profiles []*profile) {
	var dates []int
	for i := range p.Columns {
		c, pr := &p.Columns[i], profiles[i]
		if c.Field != "" || c.Reason != "" {
			continue
		}
		if pr.n() == 0 {
			c.Reason = "unknown column, empty in the rows looked at"
			continue
		}
		if pr.isDate {
			dates = append(dates, i)
			continue
		}
		if p.placeByRule(c, pr) {
			continue
		}
		switch {
		case pr.looksLikeAmounts() && pr.maxDecimals > 0:
			c.Reason = fmt.Sprintf(undecided+"holds amounts (%s); map it under columns if it is one of the invoice's amounts", pr.samples())
		default:
			c.Reason = fmt.Sprintf("unknown column (%s)", pr.samples())
		}
	}
	p.placeDates(profiles, dates)
}

func (p *Proposal) placeByRule(c *Column, pr *profile) bool {
	for _, r := range contentRules {
		if !inKind(r.field, p.Kind) || !r.is(pr) {
			continue
		}
		if _, ok := p.taken(r.field); ok {
			continue
		}
		c.Field, c.ByContent, c.Reason = r.field, true, "by content: "+r.what
		return true
	}
	return false
}

// placeDates gives unnamed date columns the document and due dates when their order shows which
// is which: two columns with the second never before the first, or one column beside the other
// date already placed. Anything else is left to the reader.
func (p *Proposal) placeDates(profiles []*profile, dates []int) {
	date, due := "invoice_date", "invoice_due_date"
	if p.Kind == "case" {
		date, due = "debts.invoice_date", "debts.invoice_due_date"
	}
	dateCol, hasDate := p.column(date)
	dueCol, hasDue := p.column(due)
	place := func(i int, f, what string) {
		p.Columns[i].Field, p.Columns[i].ByContent, p.Columns[i].Reason = f, true, "by content: "+what
	}
	switch {
	case len(dates) == 2 && !hasDate && !hasDue && notBefore(profiles[dates[1]], profiles[dates[0]]):
		place(dates[0], date, "dates, the earlier of two")
		place(dates[1], due, "dates, never before the other date column")
		return
	case len(dates) == 1 && hasDate && !hasDue && notBefore(profiles[dates[0]], profiles[dateCol]):
		place(dates[0], due, "dates, never before "+p.Columns[dateCol].Header)
		return
	case len(dates) == 1 && hasDue && !hasDate && notBefore(profiles[dueCol], profiles[dates[0]]):
		place(dates[0], date, "dates, never after "+p.Columns[dueCol].Header)
		return
	}
	for _, i := range dates {
		p.Columns[i].Reason = fmt.Sprintf(undecided+"holds dates (%s) but its name does not say which date", profiles[i].samples())
	}
}

// column is the index of the column mapped to f.
func (p *Proposal) column(f string) (int, bool) {
	for i, c := range p.Columns {
		if c.Field == f {
			return i, true
		}
	}
	return 0, false
}

// notBefore reports whether, in every row with both, later's date is not before earlier's.
func notBefore(later, earlier *profile) bool {
	for r := range later.cells {
		a, okA := parseDate(later.date, later.cells[r])
		b, okB := parseDate(earlier.date, earlier.cells[r])
		if okA && okB && a.Before(b) {
			return false
		}
	}
	return true
}

// dateFormats lists the formats of the mapped date columns, and notes day/month doubt.
func (p *Proposal) dateFormats(profiles []*profile) {
	for i, c := range p.Columns {
		pr := profiles[i]
		if c.Field == "" || fieldWants[c.Field] != wDate || !pr.isDate {
			continue
		}
		if !slices.Contains(p.DateFormats, pr.date.token) {
			p.DateFormats = append(p.DateFormats, pr.date.token)
		}
		if pr.dateAmbiguous {
			p.Columns[i].Reason += fmt.Sprintf("; "+undecided+"no day above 12, so %s or month first (%s)", pr.date.token, pr.samples())
		}
	}
}

// requirements fills in the constants a file without the column needs, and notes each required
// field that has neither.
func (p *Proposal) requirements(profiles []*profile) {
	if _, ok := p.taken("currency"); !ok {
		p.Constants = append(p.Constants, Constant{"currency", "SEK", "no currency column: SEK assumed"})
	}
	if _, ok := p.taken("first_action"); !ok && p.Kind == "case" {
		p.Constants = append(p.Constants, Constant{"first_action", "reminder", undecided + "reminder or debt_collection; reminder assumed"})
	}
	for _, req := range required[p.Kind] {
		if !slices.ContainsFunc(req, func(f string) bool { _, ok := p.taken(f); return ok || p.constant(f) }) {
			p.Notes = append(p.Notes, fmt.Sprintf(undecided+"no column for the required field %s: map one under columns, or the file is refused", strings.Join(req, " or ")))
		}
	}
	_, typ := p.taken("customer.type")
	_, id := p.taken("customer.id_number")
	if !typ && !id && !p.anyTaken("customer.is_person", "customer.is_company", "customer.is_foreign") {
		p.Notes = append(p.Notes, undecided+"no customer type and no identity number column: every row needs one of them")
	}
	if i, ok := p.column(map[string]string{"invoice": "invoice_number", "case": "debts.invoice_number"}[p.Kind]); ok {
		if slices.ContainsFunc(profiles[i].values, func(v string) bool { return strings.ContainsAny(v, `/\:`) }) {
			p.Notes = append(p.Notes, undecided+`invoice numbers hold "/", "\" or ":", which the default PDF name {invoice_number}.pdf cannot: set pdf_template`)
		}
	}
}

func (p *Proposal) constant(f string) bool {
	return slices.ContainsFunc(p.Constants, func(c Constant) bool { return c.Field == f })
}

func (p *Proposal) anyTaken(fields ...string) bool {
	return slices.ContainsFunc(fields, func(f string) bool { _, ok := p.taken(f); return ok })
}

// required lists, per kind, the fields a file must give; an inner list is a choice.
var required = map[string][][]string{
	"invoice": {{"invoice_number"}, {"invoice_date"}, {"invoice_due_date"}, {"currency"}, {"customer.name"},
		{"matrix.total_price_excluding_vat", "matrix.unit_price"}, {"matrix.unit_vat_percent"}},
	"case": {{"first_action"}, {"currency"}, {"customer.name"}, {"debts.invoice_number"}, {"debts.debt_description"},
		{"debts.invoice_date"}, {"debts.capital_to_claim"}, {"debts.invoice_due_days_after_invoice_date", "debts.invoice_due_date"}},
}
