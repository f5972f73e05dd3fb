package suggest

import (
	"strings"

	"github.com/amili-import/amili-import/internal/logging"
)

// profile is what one column's values are.
type profile struct {
	cells  []string // one per row, "" when blank or missing
	values []string // the non-blank cells

	date          dateFormat
	isDate        bool
	dateAmbiguous bool

	numbers, maxDecimals                        int
	ids, idShaped, emails, mobiles, vats, currs int
	types                                       map[string]string // value → customer type; nil when a value is not one
}

// newProfile collects column i's cells; the date format is found now, the rest by measure once
// the file's number convention is known.
func newProfile(rows [][]string, i int) *profile {
	p := &profile{cells: make([]string, len(rows))}
	for r, rec := range rows {
		if i < len(rec) {
			p.cells[r] = rec[i]
		}
		if p.cells[r] != "" {
			p.values = append(p.values, p.cells[r])
		}
	}
	p.date, p.dateAmbiguous, p.isDate = dateFormatOf(p.values)
	return p
}

// measure counts the values of each shape.
func (p *profile) measure(conv numberConv) {
	p.types = map[string]string{}
	for _, v := range p.values {
		if d, ok := conv.parse(v); ok {
			p.numbers++
			p.maxDecimals = max(p.maxDecimals, d)
		}
		p.ids += b2i(isIDNumber(v))
		p.idShaped += b2i(idShape.MatchString(v))
		p.emails += b2i(isEmail(v))
		p.mobiles += b2i(isMobile(v))
		p.vats += b2i(isVATRate(v))
		p.currs += b2i(isCurrency(v))
		if p.types != nil {
			if t, ok := customerTypeWords[strings.ToLower(v)]; ok {
				p.types[v] = t
			} else {
				p.types = nil
			}
		}
	}
	if len(p.values) == 0 {
		p.types = nil
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *profile) n() int { return len(p.values) }

// samples are the first three distinct values, identity numbers masked, for comments.
func (p *profile) samples() string {
	var out []string
	seen := map[string]bool{}
	for _, v := range p.values {
		if !seen[v] {
			seen[v] = true
			out = append(out, `"`+logging.MaskIDNumbers(oneLine(v))+`"`)
		}
		if len(out) == 3 {
			break
		}
	}
	if len(out) == 0 {
		return "no values"
	}
	return strings.Join(out, ", ")
}

// looksLikeAmounts says the column is numbers with at most two decimals.
func (p *profile) looksLikeAmounts() bool {
	return p.n() > 0 && p.numbers == p.n() && p.maxDecimals <= 2
}

// want is the shape of value a field takes.
type want int

const (
	wText want = iota
	wDate
	wAmount
	wQuantity
	wVAT
	wID
	wEmail
	wMobile
	wCurrency
	wCustType
)

var fieldWants = map[string]want{
	"invoice_date": wDate, "invoice_due_date": wDate, "invoice_delivery_date": wDate,
	"debts.invoice_date": wDate, "debts.invoice_due_date": wDate, "debts.fees_already_claimed.reminder.fee_registration_date": wDate,
	"matrix.unit_price": wAmount, "matrix.total_price_excluding_vat": wAmount, "debts.capital_to_claim": wAmount,
	"debts.fees_included_in_capital_to_claim.invoice_fee": wAmount, "debts.fees_already_claimed.reminder.amount": wAmount,
	"matrix.number_of_units": wQuantity, "matrix.unit_vat_percent": wVAT, "customer.id_number": wID,
	"customer.email": wEmail, "customer.mobile_number": wMobile, "currency": wCurrency, "customer.type": wCustType,
}

// fits reports whether the column's values suit field f, and if not, why.
func (p *profile) fits(f string) (bool, string) {
	n := p.n()
	if n == 0 {
		return true, ""
	}
	switch fieldWants[f] {
	case wDate:
		return p.isDate, "its values are not dates in one format"
	case wAmount:
		return p.looksLikeAmounts(), "its values are not amounts with at most two decimals"
	case wQuantity:
		return p.numbers == n && p.maxDecimals <= 3, "its values are not quantities"
	case wVAT:
		if p.vats != n && p.looksLikeAmounts() {
			return false, "its values are amounts, not VAT rates (0, 6, 12 or 25 %)"
		}
		return p.vats == n, "its values are not VAT rates (0, 6, 12 or 25 %)"
	case wID:
		return p.idShaped == n, "its values are not personnummer or organisationsnummer"
	case wEmail:
		return p.emails == n, "its values are not all e-mail addresses"
	case wMobile:
		return p.mobiles == n, "its values are not all mobile numbers"
	case wCurrency:
		return p.currs == n, "its values are not all currency codes Amili pays out in"
	case wCustType:
		return p.types != nil, "its values are not customer types the proposal knows (P/F/U, person/company/foreign, privat/företag)"
	}
	return true, ""
}
