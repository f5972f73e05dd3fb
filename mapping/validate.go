package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/amili-import/amili-import/domain"
)

// required is the rule of a missing mandatory value.
const required = "a value is required"

// describe turns a parse error into a rule that names the kind of value.
func describe(noun string, err error) string {
	if errors.Is(err, domain.ErrTooPrecise) {
		return noun + " has more than two decimals"
	}
	return noun + " " + err.Error()
}

// creditor is the row's creditor column, else the configured creditor.
func (r *Reader) creditor(g *group) string {
	if v := r.value(fCreditor); v != "" {
		return v
	}
	if r.opts.Creditor == "" {
		r.rowErr(g, fCreditor, "", required+" (no creditor is configured either)")
	}
	return r.opts.Creditor
}

func (r *Reader) text(g *group, f field, mandatory bool) string {
	v := r.value(f)
	if v == "" && mandatory {
		r.rowErr(g, f, "", required)
	}
	return v
}

func (r *Reader) date(g *group, f field, c *dateCell, mandatory bool) (domain.Date, bool) {
	v := r.value(f)
	if v == "" {
		if mandatory {
			r.rowErr(g, f, "", required)
		}
		return domain.Date{}, false
	}
	d, err := c.date(r.layout)
	if err != nil {
		r.rowErr(g, f, v, describe("date", err))
		return domain.Date{}, false
	}
	return d, true
}

// amount reads an amount in öre; blank gives ok=false without an error unless mandatory.
func (r *Reader) amount(g *group, f field, c *moneyCell, mandatory bool) (domain.Amount, bool) {
	v := r.value(f)
	if v == "" {
		if mandatory {
			r.rowErr(g, f, "", required)
		}
		return 0, false
	}
	a, err := c.amount(r.layout)
	if err != nil {
		r.rowErr(g, f, v, describe("amount", err))
		return 0, false
	}
	return a, true
}

func dayNumber(d domain.Date) int { y, m, dd := d.Date(); return y*10000 + int(m)*100 + dd }

func (r *Reader) currency(g *group) string {
	v := strings.ToUpper(r.value(fCurrency))
	if v == "" {
		r.rowErr(g, fCurrency, "", required)
		return ""
	}
	if err := checkCurrency(v); err != nil {
		r.rowErr(g, fCurrency, v, err.Error())
	} else if r.kind == domain.KindInvoice && v != "SEK" {
		r.rowWarn(g, fCurrency, v, "Amili documents only SEK for invoice registrations; the API may refuse this currency")
	}
	return v
}

// startInvoice reads the invoice head and the first line from the group's first row.
func (r *Reader) startInvoice(g *group) {
	num := r.value(fInvoiceNumber)
	g.itemNumber = num
	r.checkNumber(g, fInvoiceNumber, num)
	g.numbers = append(g.numbers, numberAt{num, r.fieldLine(r.col[fInvoiceNumber])})
	// One allocation holds the invoice, its customer and its first lines: they live and die
	// together.
	block := &invoiceBlock{}
	g.block = block
	inv := &block.inv
	*inv = domain.InvoiceRegistration{Account: r.opts.Account, InvoiceNumber: num, Matrix: block.lines[:0]}
	g.inv = inv
	if num == "" {
		r.rowErr(g, fInvoiceNumber, "", required)
	}
	inv.Creditor = r.creditor(g)
	inv.InvoiceType = r.value(fInvoiceType)
	if inv.InvoiceType == "" {
		inv.InvoiceType = "invoice"
	} else if inv.InvoiceType != "invoice" {
		r.rowWarn(g, fInvoiceType, inv.InvoiceType, `Amili documents only the invoice type "invoice"`)
	}
	date, okDate := r.date(g, fInvoiceDate, &r.row.InvoiceDate, true)
	due, okDue := r.date(g, fInvoiceDueDate, &r.row.InvoiceDueDate, true)
	inv.InvoiceDate, inv.InvoiceDueDate = date, due
	if okDate && okDue && dayNumber(due) < dayNumber(date) {
		r.rowErr(g, fInvoiceDueDate, r.value(fInvoiceDueDate), "due date is before the invoice date")
	}
	if d, ok := r.date(g, fInvoiceDeliveryDate, &r.row.InvoiceDeliveryDate, false); ok {
		inv.InvoiceDeliveryDate = &d
	}
	inv.Currency = r.currency(g)
	inv.ReferenceNumber = r.value(fReferenceNumber)
	inv.PayoutReference = r.value(fPayoutReference)
	inv.InvoiceHeadline = r.value(fInvoiceHeadline)
	inv.InvoiceBodyText = r.value(fInvoiceBodyText)
	inv.YourContact = r.value(fYourContact)
	inv.YourReference = r.value(fYourReference)
	inv.OurReference = r.value(fOurReference)
	inv.DebtDescription = r.value(fDebtDescription)
	inv.Customer = r.customer(g)
	g.pdfs = append(g.pdfs, r.pdfName(g, num))
	r.matrixLine(g)
}

// matrixLine reads one invoice line. Money rule: a line's total excluding VAT must equal
// number_of_units × unit_price rounded half away from zero to the öre (exactly, after
// rounding); its VAT is total × rate rounded the same way; the invoice's amount is the sum of
// totals plus VAT over its lines.
func (r *Reader) matrixLine(g *group) {
	ml := domain.MatrixLine{ArticleNumber: r.value(fArticleNumber), ArticleDescription: r.value(fArticleDescription)}
	units, okUnits := domain.Quantity(domain.QuantityScale), true
	if v := r.value(fNumberOfUnits); v != "" {
		q, err := r.row.NumberOfUnits.quantity(r.layout)
		switch {
		case err != nil:
			r.rowErr(g, fNumberOfUnits, v, describe("number of units", err))
			okUnits = false
		case q == 0:
			r.rowErr(g, fNumberOfUnits, v, "number of units must not be zero")
			okUnits = false
		default:
			units = q
			ml.NumberOfUnits = g.quantity(q)
		}
	}
	price, okPrice := r.amount(g, fUnitPrice, &r.row.UnitPrice, false)
	total, okTotal := r.amount(g, fTotalExclVAT, &r.row.TotalExclVAT, false)
	priceGiven, totalGiven := r.value(fUnitPrice) != "", r.value(fTotalExclVAT) != ""
	switch {
	case !priceGiven && !totalGiven:
		r.rowErr(g, fTotalExclVAT, "", required+" (or a unit price)")
	case !priceGiven && okTotal && okUnits:
		if units != domain.QuantityScale {
			r.rowErr(g, fUnitPrice, "", required+" when number_of_units is not 1")
		}
		price = total
	case !totalGiven && okPrice && okUnits:
		t, ok := lineTotal(units, price)
		if !ok {
			r.rowErr(g, fUnitPrice, r.value(fUnitPrice), "number_of_units × unit_price is too large")
		}
		total = t
	case okPrice && okTotal && okUnits:
		want, ok := lineTotal(units, price)
		if !ok {
			r.rowErr(g, fUnitPrice, r.value(fUnitPrice), "number_of_units × unit_price is too large")
		} else if want != total {
			r.rowErr(g, fTotalExclVAT, r.value(fTotalExclVAT),
				fmt.Sprintf("total excluding VAT must equal number_of_units × unit_price rounded to the öre: %s × %s = %s", units, price, want))
		}
	}
	ml.UnitPrice, ml.TotalPriceExcludingVAT = price, total
	if v := r.value(fVATPercent); v == "" {
		r.rowErr(g, fVATPercent, "", required)
	} else if c := (&r.row.VATPercent); c.err != nil {
		r.rowErr(g, fVATPercent, v, c.err.Error())
	} else {
		ml.UnitVATPercent = c.name
		g.total += total + vatOf(total, c.rate)
	}
	g.inv.Matrix = append(g.inv.Matrix, ml)
}

// customer reads the customer from the group's first row.
func (r *Reader) customer(g *group) *domain.Customer {
	var c *domain.Customer
	if g.block != nil {
		c = &g.block.customer
	} else {
		c = new(domain.Customer)
	}
	*c = domain.Customer{Name: r.text(g, fCustName, true), CustomerNumber: r.value(fCustNumber)}
	n := r.customerType(g, c)
	raw := r.value(fCustIDNumber)
	switch {
	case raw == "" && r.kind == domain.KindCase && !c.IsForeign:
		r.rowErr(g, fCustIDNumber, "", required+" for a Swedish customer in a case file")
	case raw != "" && c.IsForeign:
		c.IDNumber = raw
	case raw != "":
		if r.idNumber(g, c, raw, n) && n == 0 {
			n = 1
		}
	}
	if n == 0 && raw == "" {
		r.rowErr(g, fCustIsPerson, "", "customer type unknown: give customer.is_person, customer.is_company or customer.is_foreign, or an id_number")
	}
	r.contact(g, c)
	return c
}

// customerType reads whether the customer is a person, a company or foreign, from the
// booleans and the customer.type column, and returns how many of the three are set.
func (r *Reader) customerType(g *group, c *domain.Customer) int {
	for _, fc := range []struct {
		f   field
		c   *boolCell
		dst *bool
	}{{fCustIsPerson, &r.row.CustIsPerson, &c.IsPerson}, {fCustIsCompany, &r.row.CustIsCompany, &c.IsCompany},
		{fCustIsForeign, &r.row.CustIsForeign, &c.IsForeign}} {
		v := r.value(fc.f)
		if v == "" {
			continue
		}
		b, ok := fc.c.boolean(r.layout)
		if !ok {
			r.rowErr(g, fc.f, v, "not a boolean ("+strings.Join(r.layout.TrueValues, ", ")+" or "+strings.Join(r.layout.FalseValues, ", ")+")")
			continue
		}
		*fc.dst = b
	}
	if v := r.value(fCustType); v != "" {
		switch r.layout.custTypes[strings.ToLower(v)] {
		case "person":
			c.IsPerson = true
		case "company":
			c.IsCompany = true
		case "foreign":
			c.IsForeign = true
		default:
			r.rowErr(g, fCustType, v, "not a customer type ("+custTypeList(r.layout)+")")
		}
	}
	n := 0
	for _, b := range []bool{c.IsPerson, c.IsCompany, c.IsForeign} {
		if b {
			n++
		}
	}
	if n > 1 {
		r.rowErr(g, fCustIsPerson, "", "customer is marked as more than one of person, company and foreign")
	}
	return n
}

// idNumber checks a Swedish customer's identity number raw, whose customer has n of person,
// company and foreign set; with none, the number decides between person and company. It
// reports whether the number could be read.
func (r *Reader) idNumber(g *group, c *domain.Customer, raw string, n int) bool {
	id, err := r.row.CustIDNumber.id, r.row.CustIDNumber.err
	if err != nil {
		r.rowErr(g, fCustIDNumber, raw, "identity number "+err.Error())
		return false
	}
	c.IDNumber = id.normalized
	if id.badCheck {
		if r.opts.IDNumbers == IDWarn {
			r.rowWarn(g, fCustIDNumber, raw, "identity number: "+errIDCheck.Error()+"; kept under the warn policy")
		} else {
			r.rowErr(g, fCustIDNumber, raw, "identity number: "+errIDCheck.Error())
		}
	}
	if c.IsPerson && id.org {
		r.rowErr(g, fCustIDNumber, raw, "is an organisationsnummer but the customer is marked as a person")
	}
	if n == 0 {
		c.IsCompany, c.IsPerson = id.org, !id.org
	}
	return true
}

// contact reads the customer's address, e-mail and mobile number.
func (r *Reader) contact(g *group, c *domain.Customer) {
	a := domain.Address{AddressLine1: r.value(fCustAddress1), AddressLine2: r.value(fCustAddress2),
		ZipCode: r.value(fCustZip), City: r.value(fCustCity), Country: r.value(fCustCountry)}
	if a != (domain.Address{}) {
		if g.block != nil {
			g.block.address = a
			c.Address = &g.block.address
		} else {
			c.Address = &a
		}
	}
	if v := r.value(fCustEmail); v != "" {
		if err := checkEmail(v); err != nil {
			r.rowErr(g, fCustEmail, v, "e-mail address is not valid")
		}
		c.Email = v
	}
	if v := r.value(fCustMobile); v != "" {
		m, err := normalizeMobile(v)
		if err != nil {
			r.rowErr(g, fCustMobile, v, err.Error())
		}
		c.MobileNumber = m
	}
}

func custTypeList(l *Layout) string {
	var keys []string
	for k := range l.CustomerTypes {
		keys = append(keys, k)
	}
	return strings.Join(sortedCopy(keys), ", ")
}

// firstActions are the values Amili's guides document; others are passed on with a warning.
var firstActions = map[string]bool{"reminder": true, "debt_collection": true}

// startCase reads the case head and the first debt from the group's first row.
func (r *Reader) startCase(g *group) {
	c := &domain.CaseRegistration{Account: r.opts.Account}
	g.cas = c
	g.itemNumber = r.value(fDebtInvoiceNumber)
	c.Creditor = r.creditor(g)
	c.FirstAction = strings.ToLower(r.text(g, fFirstAction, true))
	if c.FirstAction != "" && !firstActions[c.FirstAction] {
		r.rowWarn(g, fFirstAction, c.FirstAction, "first_action is neither reminder nor debt_collection, the values Amili documents")
	}
	c.Currency = r.currency(g)
	c.Customer = r.customer(g)
	r.debt(g)
}

// debt reads one debt of a case registration.
func (r *Reader) debt(g *group) {
	num := r.value(fDebtInvoiceNumber)
	g.itemNumber = num
	r.checkNumber(g, fDebtInvoiceNumber, num)
	g.numbers = append(g.numbers, numberAt{num, r.fieldLine(r.col[fDebtInvoiceNumber])})
	if num == "" {
		r.rowErr(g, fDebtInvoiceNumber, "", required)
	}
	d := domain.Debt{InvoiceNumber: num, DebtDescription: r.text(g, fDebtDescriptionCase, true)}
	date, okDate := r.date(g, fDebtInvoiceDate, &r.row.DebtInvoiceDate, true)
	d.InvoiceDate = date
	if c, ok := r.amount(g, fDebtCapital, &r.row.DebtCapital, true); ok {
		if c <= 0 {
			r.rowErr(g, fDebtCapital, r.value(fDebtCapital), "capital to claim must be positive")
		}
		d.CapitalToClaim = c
	}
	switch {
	case r.value(fDebtDueDays) != "":
		v := r.value(fDebtDueDays)
		c := (&r.row.DebtDueDays)
		n, err := c.n, c.err
		if err != nil {
			r.rowErr(g, fDebtDueDays, v, "due days "+err.Error())
		}
		d.InvoiceDueDaysAfterInvoiceDate = n
	case r.value(fDebtDueDate) != "":
		due, ok := r.date(g, fDebtDueDate, &r.row.DebtDueDate, true)
		if ok && okDate {
			days := int(due.Sub(date.Time).Hours()+12) / 24
			if dayNumber(due) < dayNumber(date) {
				r.rowErr(g, fDebtDueDate, r.value(fDebtDueDate), "due date is before the invoice date")
			}
			d.InvoiceDueDaysAfterInvoiceDate = days
		}
	default:
		r.rowErr(g, fDebtDueDays, "", required+" (or debts.invoice_due_date)")
	}
	if fee, ok := r.amount(g, fDebtInvoiceFee, &r.row.DebtInvoiceFee, false); ok {
		if fee < 0 || fee > d.CapitalToClaim {
			r.rowErr(g, fDebtInvoiceFee, r.value(fDebtInvoiceFee), "invoice fee must be between zero and the capital to claim")
		}
		d.FeesIncludedInCapitalToClaim = &domain.InvoiceFee{InvoiceFee: fee}
	}
	if amt, ok := r.amount(g, fDebtReminderAmount, &r.row.DebtReminderAmount, false); ok {
		if amt < 0 {
			r.rowErr(g, fDebtReminderAmount, r.value(fDebtReminderAmount), "reminder fee must not be negative")
		}
		rem := &domain.ReminderFee{Amount: amt}
		if rd, ok := r.date(g, fDebtReminderDate, &r.row.DebtReminderDate, false); ok {
			rem.FeeRegistrationDate = &rd
			if okDate && dayNumber(rd) < dayNumber(date) {
				r.rowErr(g, fDebtReminderDate, r.value(fDebtReminderDate), "reminder fee date is before the invoice date")
			}
		}
		d.FeesAlreadyClaimed = &domain.FeesClaimed{Reminder: rem}
	} else if r.value(fDebtReminderDate) != "" && r.value(fDebtReminderAmount) == "" {
		r.rowErr(g, fDebtReminderAmount, "", required+" when a reminder fee date is given")
	}
	g.cas.Debts = append(g.cas.Debts, d)
	g.pdfs = append(g.pdfs, r.pdfName(g, num))
}
