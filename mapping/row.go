package mapping

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/amili-import/amili-import/domain"

	"github.com/gocarina/gocsv"
)

// row is one CSV row as gocsv decodes it: a cell per field, tagged with the field's canonical
// header. A user's layout reaches it through rowSource, which hands gocsv the canonical
// headers, so gocsv only ever sees the canonical layout.
//
// Cells parse what does not depend on the layout when gocsv sets them (identity numbers, VAT
// rates, due days) and what the canonical layout fixes (amounts, quantities, dates,
// booleans); a layout with other conventions parses the same text again through the cell's
// in method. A cell never fails the decode: a value that does not parse keeps its error for
// the validation, which reports every problem of a row, not the first.
type row struct {
	InvoiceNumber       text      `csv:"invoice_number"`
	InvoiceDate         dateCell  `csv:"invoice_date"`
	InvoiceDueDate      dateCell  `csv:"invoice_due_date"`
	InvoiceDeliveryDate dateCell  `csv:"invoice_delivery_date"`
	InvoiceType         text      `csv:"invoice_type"`
	ReferenceNumber     text      `csv:"reference_number"`
	PayoutReference     text      `csv:"payout_reference"`
	InvoiceHeadline     text      `csv:"invoice_headline"`
	InvoiceBodyText     text      `csv:"invoice_body_text"`
	YourContact         text      `csv:"your_contact"`
	YourReference       text      `csv:"your_reference"`
	OurReference        text      `csv:"our_reference"`
	DebtDescription     text      `csv:"debt_description"`
	Currency            text      `csv:"currency"`
	Creditor            text      `csv:"creditor"`
	FirstAction         text      `csv:"first_action"`
	CustName            text      `csv:"customer.name"`
	CustNumber          text      `csv:"customer.customer_number"`
	CustIDNumber        idCell    `csv:"customer.id_number"`
	CustIsPerson        boolCell  `csv:"customer.is_person"`
	CustIsCompany       boolCell  `csv:"customer.is_company"`
	CustIsForeign       boolCell  `csv:"customer.is_foreign"`
	CustType            text      `csv:"customer.type"`
	CustAddress1        text      `csv:"customer.address.address_line_1"`
	CustAddress2        text      `csv:"customer.address.address_line_2"`
	CustZip             text      `csv:"customer.address.zip_code"`
	CustCity            text      `csv:"customer.address.city"`
	CustCountry         text      `csv:"customer.address.country"`
	CustEmail           text      `csv:"customer.email"`
	CustMobile          text      `csv:"customer.mobile_number"`
	ArticleNumber       text      `csv:"matrix.article_number"`
	ArticleDescription  text      `csv:"matrix.article_description"`
	NumberOfUnits       qtyCell   `csv:"matrix.number_of_units"`
	UnitPrice           moneyCell `csv:"matrix.unit_price"`
	TotalExclVAT        moneyCell `csv:"matrix.total_price_excluding_vat"`
	VATPercent          vatCell   `csv:"matrix.unit_vat_percent"`
	DebtInvoiceNumber   text      `csv:"debts.invoice_number"`
	DebtDescriptionCase text      `csv:"debts.debt_description"`
	DebtInvoiceDate     dateCell  `csv:"debts.invoice_date"`
	DebtCapital         moneyCell `csv:"debts.capital_to_claim"`
	DebtDueDays         daysCell  `csv:"debts.invoice_due_days_after_invoice_date"`
	DebtDueDate         dateCell  `csv:"debts.invoice_due_date"`
	DebtInvoiceFee      moneyCell `csv:"debts.fees_included_in_capital_to_claim.invoice_fee"`
	DebtReminderAmount  moneyCell `csv:"debts.fees_already_claimed.reminder.amount"`
	DebtReminderDate    dateCell  `csv:"debts.fees_already_claimed.reminder.fee_registration_date"`
	PDFFile             text      `csv:"pdf_file"`
}

// cells gives the cell of each field of row, in fieldDefs' order, without reflection: gocsv
// calls UnmarshalCSVWithFields for every cell of every row. init holds it to row's tags.
var cells = [numFields]func(*row) cell{
	fInvoiceNumber:       func(r *row) cell { return &r.InvoiceNumber },
	fInvoiceDate:         func(r *row) cell { return &r.InvoiceDate },
	fInvoiceDueDate:      func(r *row) cell { return &r.InvoiceDueDate },
	fInvoiceDeliveryDate: func(r *row) cell { return &r.InvoiceDeliveryDate },
	fInvoiceType:         func(r *row) cell { return &r.InvoiceType },
	fReferenceNumber:     func(r *row) cell { return &r.ReferenceNumber },
	fPayoutReference:     func(r *row) cell { return &r.PayoutReference },
	fInvoiceHeadline:     func(r *row) cell { return &r.InvoiceHeadline },
	fInvoiceBodyText:     func(r *row) cell { return &r.InvoiceBodyText },
	fYourContact:         func(r *row) cell { return &r.YourContact },
	fYourReference:       func(r *row) cell { return &r.YourReference },
	fOurReference:        func(r *row) cell { return &r.OurReference },
	fDebtDescription:     func(r *row) cell { return &r.DebtDescription },
	fCurrency:            func(r *row) cell { return &r.Currency },
	fCreditor:            func(r *row) cell { return &r.Creditor },
	fFirstAction:         func(r *row) cell { return &r.FirstAction },
	fCustName:            func(r *row) cell { return &r.CustName },
	fCustNumber:          func(r *row) cell { return &r.CustNumber },
	fCustIDNumber:        func(r *row) cell { return &r.CustIDNumber },
	fCustIsPerson:        func(r *row) cell { return &r.CustIsPerson },
	fCustIsCompany:       func(r *row) cell { return &r.CustIsCompany },
	fCustIsForeign:       func(r *row) cell { return &r.CustIsForeign },
	fCustType:            func(r *row) cell { return &r.CustType },
	fCustAddress1:        func(r *row) cell { return &r.CustAddress1 },
	fCustAddress2:        func(r *row) cell { return &r.CustAddress2 },
	fCustZip:             func(r *row) cell { return &r.CustZip },
	fCustCity:            func(r *row) cell { return &r.CustCity },
	fCustCountry:         func(r *row) cell { return &r.CustCountry },
	fCustEmail:           func(r *row) cell { return &r.CustEmail },
	fCustMobile:          func(r *row) cell { return &r.CustMobile },
	fArticleNumber:       func(r *row) cell { return &r.ArticleNumber },
	fArticleDescription:  func(r *row) cell { return &r.ArticleDescription },
	fNumberOfUnits:       func(r *row) cell { return &r.NumberOfUnits },
	fUnitPrice:           func(r *row) cell { return &r.UnitPrice },
	fTotalExclVAT:        func(r *row) cell { return &r.TotalExclVAT },
	fVATPercent:          func(r *row) cell { return &r.VATPercent },
	fDebtInvoiceNumber:   func(r *row) cell { return &r.DebtInvoiceNumber },
	fDebtDescriptionCase: func(r *row) cell { return &r.DebtDescriptionCase },
	fDebtInvoiceDate:     func(r *row) cell { return &r.DebtInvoiceDate },
	fDebtCapital:         func(r *row) cell { return &r.DebtCapital },
	fDebtDueDays:         func(r *row) cell { return &r.DebtDueDays },
	fDebtDueDate:         func(r *row) cell { return &r.DebtDueDate },
	fDebtInvoiceFee:      func(r *row) cell { return &r.DebtInvoiceFee },
	fDebtReminderAmount:  func(r *row) cell { return &r.DebtReminderAmount },
	fDebtReminderDate:    func(r *row) cell { return &r.DebtReminderDate },
	fPDFFile:             func(r *row) cell { return &r.PDFFile },
}

// checkCells holds cells to row's tags: the cell it gives for each field must be the one
// tagged with that field's canonical header. It runs at init, so a mismatch cannot start.
func checkCells() error {
	var probe row
	v := reflect.ValueOf(&probe).Elem()
	t := v.Type()
	if t.NumField() != int(numFields) {
		return fmt.Errorf("row has %d fields, fieldDefs %d", t.NumField(), numFields)
	}
	for i := range t.NumField() {
		f, ok := fieldByName(t.Field(i).Tag.Get("csv"))
		if !ok {
			return fmt.Errorf("row field %s is tagged %q, which is no field", t.Field(i).Name, t.Field(i).Tag.Get("csv"))
		}
		if reflect.ValueOf(cells[f](&probe)).Pointer() != v.Field(i).Addr().Pointer() {
			return fmt.Errorf("cells[%s] is not row field %s", f, t.Field(i).Name)
		}
	}
	return nil
}

func init() {
	if err := checkCells(); err != nil {
		panic("mapping: " + err.Error())
	}
}

// UnmarshalCSVWithFields is gocsv's hook for a whole row: it hands the value of the column
// headed key, a canonical header, to the cell tagged with it. gocsv's own path boxes each cell
// into an interface by reflection; this one costs a table lookup.
func (r *row) UnmarshalCSVWithFields(key, value string) error {
	if len(key) < len(headerFields) {
		for _, f := range headerFields[len(key)] {
			if fieldDefs[f].name == key {
				return cells[f](r).UnmarshalCSV(value)
			}
		}
	}
	return nil
}

// headerFields lists the fields by the length of their canonical header, so that finding a
// header's field compares a few strings of its length rather than hashing it: this runs for
// every cell of every row.
var headerFields = func() [][]field {
	var byLen [][]field
	for f := field(0); f < numFields; f++ {
		n := len(f.String())
		for len(byLen) <= n {
			byLen = append(byLen, nil)
		}
		byLen[n] = append(byLen[n], f)
	}
	return byLen
}()

// cell is what every field of row is: decoded by gocsv, it keeps the value's trimmed text.
type cell interface {
	gocsv.TypeUnmarshaller
	text() string
}

// text is a cell of plain text, trimmed.
type text struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *text) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

func (c *text) text() string { return c.s }

// moneyCell is an amount in öre.
type moneyCell struct {
	s   string
	v   domain.Amount
	err error
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller, reading the amount as the canonical layout
// writes it.
func (c *moneyCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.v, c.err = canonical.parseAmount(c.s)
	}
	return nil
}

// in returns the amount as layout l reads the cell's text.
func (c *moneyCell) in(l *Layout) (domain.Amount, error) {
	if l.canonicalNumbers {
		return c.v, c.err
	}
	return l.parseAmount(c.s)
}

// qtyCell is a number of units in thousandths.
type qtyCell struct {
	s   string
	v   domain.Quantity
	err error
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *qtyCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.v, c.err = canonical.parseQuantity(c.s)
	}
	return nil
}

// in returns the quantity as layout l reads the cell's text.
func (c *qtyCell) in(l *Layout) (domain.Quantity, error) {
	if l.canonicalNumbers {
		return c.v, c.err
	}
	return l.parseQuantity(c.s)
}

// dateCell is a calendar date.
type dateCell struct {
	s   string
	v   domain.Date
	err error
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *dateCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.v, c.err = canonical.parseDate(c.s)
	}
	return nil
}

// in returns the date as layout l reads the cell's text.
func (c *dateCell) in(l *Layout) (domain.Date, error) {
	if l.canonicalDates {
		return c.v, c.err
	}
	return l.parseDate(c.s)
}

// boolCell is a yes or no.
type boolCell struct {
	s     string
	v, ok bool
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *boolCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.v, c.ok = canonical.parseBool(c.s)
	}
	return nil
}

// in returns the boolean as layout l reads the cell's text; ok is false for a value l does not know.
func (c *boolCell) in(l *Layout) (v, ok bool) {
	if l.canonicalBools {
		return c.v, c.ok
	}
	return l.parseBool(c.s)
}

// vatCell is a VAT rate, which every layout writes the same way.
type vatCell struct {
	s    string
	rate int64 // hundredths of a percent
	name string
	err  error
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *vatCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.rate, c.name, c.err = parseVAT(c.s)
	}
	return nil
}

// idCell is a Swedish identity number, as written and as parsed.
type idCell struct {
	s   string
	id  idNumber
	err error
}

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *idCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.id, c.err = parseIDNumber(c.s)
	}
	return nil
}

// daysCell is a whole number of days, at most ten years.
type daysCell struct {
	s   string
	n   int
	err error
}

// maxDueDays bounds debts.invoice_due_days_after_invoice_date.
const maxDueDays = 3650

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *daysCell) UnmarshalCSV(s string) error {
	c.s = strings.TrimSpace(s)
	if c.s != "" {
		c.n, c.err = parseInt(c.s, maxDueDays)
	}
	return nil
}

func (c *moneyCell) text() string { return c.s }

func (c *qtyCell) text() string { return c.s }

func (c *dateCell) text() string { return c.s }

func (c *boolCell) text() string { return c.s }

func (c *vatCell) text() string { return c.s }

func (c *idCell) text() string { return c.s }

func (c *daysCell) text() string { return c.s }
