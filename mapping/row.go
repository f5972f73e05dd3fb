package mapping

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/amili-import/amili-import/domain"

	"github.com/gocarina/gocsv"
)

// row is one CSV row as gocsv decodes it: a cell per field, tagged with the field's canonical
// header. A user's layout reaches it through rowSource, which hands gocsv the canonical
// headers, so gocsv only ever sees the canonical layout.
//
// Every cell keeps its trimmed text. Cells whose values read the same in every layout
// (identity numbers, VAT rates, due days) are parsed when gocsv sets them; amounts,
// quantities, dates and booleans are written as the layout says, so their cells parse when
// asked, with the file's layout. A cell never fails the decode: a value that does not parse
// keeps its error for the validation, which reports every problem of a row, not the first.
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
	Case                text      `csv:"case"`
	Amount              moneyCell `csv:"amount"`
	BankTransactionDate dateCell  `csv:"bank_transaction_date"`
	PaymentReference    text      `csv:"creditor_payment_reference"`
	ClientRegDate       dateCell  `csv:"client_registration_date"`
	CreditorReference   text      `csv:"creditor_reference"`
	CreditInvoice       text      `csv:"credit_invoice"`
	PDFFile             fileName  `csv:"pdf_file"`
}

// cells gives the cell of each field of row, in fieldDefs' order, without reflection: gocsv
// calls UnmarshalCSVWithFields for every cell of every row. init holds it to row's tags.
var cells = [numFields]func(*row) cell{
	fInvoiceNumber:            func(r *row) cell { return &r.InvoiceNumber },
	fInvoiceDate:              func(r *row) cell { return &r.InvoiceDate },
	fInvoiceDueDate:           func(r *row) cell { return &r.InvoiceDueDate },
	fInvoiceDeliveryDate:      func(r *row) cell { return &r.InvoiceDeliveryDate },
	fInvoiceType:              func(r *row) cell { return &r.InvoiceType },
	fReferenceNumber:          func(r *row) cell { return &r.ReferenceNumber },
	fPayoutReference:          func(r *row) cell { return &r.PayoutReference },
	fInvoiceHeadline:          func(r *row) cell { return &r.InvoiceHeadline },
	fInvoiceBodyText:          func(r *row) cell { return &r.InvoiceBodyText },
	fYourContact:              func(r *row) cell { return &r.YourContact },
	fYourReference:            func(r *row) cell { return &r.YourReference },
	fOurReference:             func(r *row) cell { return &r.OurReference },
	fDebtDescription:          func(r *row) cell { return &r.DebtDescription },
	fCurrency:                 func(r *row) cell { return &r.Currency },
	fCreditor:                 func(r *row) cell { return &r.Creditor },
	fFirstAction:              func(r *row) cell { return &r.FirstAction },
	fCustName:                 func(r *row) cell { return &r.CustName },
	fCustNumber:               func(r *row) cell { return &r.CustNumber },
	fCustIDNumber:             func(r *row) cell { return &r.CustIDNumber },
	fCustIsPerson:             func(r *row) cell { return &r.CustIsPerson },
	fCustIsCompany:            func(r *row) cell { return &r.CustIsCompany },
	fCustIsForeign:            func(r *row) cell { return &r.CustIsForeign },
	fCustType:                 func(r *row) cell { return &r.CustType },
	fCustAddress1:             func(r *row) cell { return &r.CustAddress1 },
	fCustAddress2:             func(r *row) cell { return &r.CustAddress2 },
	fCustZip:                  func(r *row) cell { return &r.CustZip },
	fCustCity:                 func(r *row) cell { return &r.CustCity },
	fCustCountry:              func(r *row) cell { return &r.CustCountry },
	fCustEmail:                func(r *row) cell { return &r.CustEmail },
	fCustMobile:               func(r *row) cell { return &r.CustMobile },
	fArticleNumber:            func(r *row) cell { return &r.ArticleNumber },
	fArticleDescription:       func(r *row) cell { return &r.ArticleDescription },
	fNumberOfUnits:            func(r *row) cell { return &r.NumberOfUnits },
	fUnitPrice:                func(r *row) cell { return &r.UnitPrice },
	fTotalExclVAT:             func(r *row) cell { return &r.TotalExclVAT },
	fVATPercent:               func(r *row) cell { return &r.VATPercent },
	fDebtInvoiceNumber:        func(r *row) cell { return &r.DebtInvoiceNumber },
	fDebtDescriptionCase:      func(r *row) cell { return &r.DebtDescriptionCase },
	fDebtInvoiceDate:          func(r *row) cell { return &r.DebtInvoiceDate },
	fDebtCapital:              func(r *row) cell { return &r.DebtCapital },
	fDebtDueDays:              func(r *row) cell { return &r.DebtDueDays },
	fDebtDueDate:              func(r *row) cell { return &r.DebtDueDate },
	fDebtInvoiceFee:           func(r *row) cell { return &r.DebtInvoiceFee },
	fDebtReminderAmount:       func(r *row) cell { return &r.DebtReminderAmount },
	fDebtReminderDate:         func(r *row) cell { return &r.DebtReminderDate },
	fCase:                     func(r *row) cell { return &r.Case },
	fAmount:                   func(r *row) cell { return &r.Amount },
	fBankTransactionDate:      func(r *row) cell { return &r.BankTransactionDate },
	fCreditorPaymentReference: func(r *row) cell { return &r.PaymentReference },
	fClientRegistrationDate:   func(r *row) cell { return &r.ClientRegDate },
	fCreditorReference:        func(r *row) cell { return &r.CreditorReference },
	fCreditInvoice:            func(r *row) cell { return &r.CreditInvoice },
	fPDFFile:                  func(r *row) cell { return &r.PDFFile },
}

// checkCells holds cells to row's tags: the cell it gives for each field must be the one
// tagged with that field's canonical header. It runs at init, so a mismatch cannot start.
func checkCells() error {
	var probe row
	v := reflect.ValueOf(&probe).Elem()
	t := v.Type()
	if numFields > 64 {
		return fmt.Errorf("%d fields do not fit rowRef.bad", numFields)
	}
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

// rowRef is the element gocsv decodes into: a pointer to the row. gocsv makes each element
// twice (a zero value, and the one it fills and copies into the batch); with a pointer the
// 952-byte row is made once, when its first cell arrives, and the copies are a word each.
// gocsv reads the tags of the row it points to.
type rowRef struct {
	Row *row `csv:"row"`
	// next is the field after the last one set: rowSource hands gocsv the canonical headers
	// in the order of fields, so the next header is almost always found at once.
	next field
	// bad marks the fields whose values hold a character no value may (see badRune), found
	// as the cells are set, on the decoding goroutine.
	bad uint64
}

// rowPool holds the rows of batches that have been validated, cleared, for the next ones:
// a row is as large as a line of the file, and making one per line is most of what the
// garbage collector would otherwise do.
var rowPool = sync.Pool{New: func() any { return new(row) }}

// recycle clears the rows of refs and returns them to rowPool. Nothing may hold them after.
func recycle(refs []rowRef) {
	for i := range refs {
		if p := refs[i].Row; p != nil {
			*p = row{}
			rowPool.Put(p)
		}
		refs[i] = rowRef{}
	}
}

// UnmarshalCSVWithFields implements gocsv's whole-row hook for the row rowRef points to.
func (rr *rowRef) UnmarshalCSVWithFields(key, value string) error {
	if rr.Row == nil {
		rr.Row = rowPool.Get().(*row)
	}
	for f := rr.next; f < numFields; f++ {
		if fieldDefs[f].name == key {
			rr.next = f + 1
			c := cells[f](rr.Row)
			err := c.UnmarshalCSV(value)
			if _, bad := badRune(c.text(), multiline[f]); bad {
				rr.bad |= 1 << f
			}
			return err
		}
	}
	return rr.Row.UnmarshalCSVWithFields(key, value)
}

// text is a cell of plain text, trimmed.
type text struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller. The text is kept in normal form C.
func (c *text) UnmarshalCSV(s string) error { c.s = normalText(strings.TrimSpace(s)); return nil }

// fileName is a cell naming a file, trimmed but otherwise as written: it must match the
// file's own name, whatever form its characters take.
type fileName struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *fileName) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

func (c *fileName) text() string { return c.s }

func (c *text) text() string { return c.s }

func (c *moneyCell) text() string { return c.s }
func (c *qtyCell) text() string   { return c.s }
func (c *dateCell) text() string  { return c.s }
func (c *boolCell) text() string  { return c.s }

// moneyCell is an amount in öre. How it is written depends on the layout (decimal and
// thousands separators), which gocsv's interface cannot carry, so it is parsed when asked for,
// with the file's layout.
type moneyCell struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *moneyCell) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

// amount returns the amount as layout l reads it.
func (c *moneyCell) amount(l *Layout) (domain.Amount, error) { return l.parseAmount(c.s) }

// qtyCell is a number of units in thousandths, written as the layout says.
type qtyCell struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *qtyCell) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

// quantity returns the number of units as layout l reads it.
func (c *qtyCell) quantity(l *Layout) (domain.Quantity, error) { return l.parseQuantity(c.s) }

// dateCell is a calendar date in one of the layout's formats.
type dateCell struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *dateCell) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

// date returns the date as layout l reads it.
func (c *dateCell) date(l *Layout) (domain.Date, error) { return l.parseDate(c.s) }

// boolCell is a yes or no in the layout's words.
type boolCell struct{ s string }

// UnmarshalCSV implements gocsv.TypeUnmarshaller.
func (c *boolCell) UnmarshalCSV(s string) error { c.s = strings.TrimSpace(s); return nil }

// boolean returns the value as layout l reads it; ok is false for a word l does not know.
func (c *boolCell) boolean(l *Layout) (v, ok bool) { return l.parseBool(c.s) }

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

func (c *vatCell) text() string { return c.s }

func (c *idCell) text() string { return c.s }

func (c *daysCell) text() string { return c.s }
