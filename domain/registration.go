package domain

// The types in this file are Amili's registration payloads, field for field as the API
// documents them (see samples/README.md). They marshal to exactly the JSON that is sent, so a
// dry run prints what a real run would post.

// Kind says which Amili registration a file maps to.
type Kind string

// The two kinds of file amili-import reads.
const (
	KindInvoice Kind = "invoice" // one row per invoice line → POST /invoice--registrations
	KindCase    Kind = "case"    // one row per overdue debt → POST /case--registrations
)

// Address is a postal address as Amili nests it under customer.address.
type Address struct {
	AddressLine1 string `json:"address_line_1,omitempty"`
	AddressLine2 string `json:"address_line_2,omitempty"`
	ZipCode      string `json:"zip_code,omitempty"`
	City         string `json:"city,omitempty"`
	Country      string `json:"country,omitempty"`
}

// Customer is the debtor. Exactly one of IsPerson, IsCompany and IsForeign is true.
type Customer struct {
	Name           string   `json:"name,omitempty"`
	CustomerNumber string   `json:"customer_number,omitempty"`
	IDNumber       string   `json:"id_number,omitempty"`
	IsPerson       bool     `json:"is_person,omitempty"`
	IsCompany      bool     `json:"is_company,omitempty"`
	IsForeign      bool     `json:"is_foreign,omitempty"`
	Address        *Address `json:"address,omitempty"`
	MobileNumber   string   `json:"mobile_number,omitempty"`
	Email          string   `json:"email,omitempty"`
}

// MatrixLine is one line of an invoice (Amili calls the lines the matrix).
type MatrixLine struct {
	ArticleNumber          string    `json:"article_number,omitempty"`
	ArticleDescription     string    `json:"article_description,omitempty"`
	NumberOfUnits          *Quantity `json:"number_of_units,omitempty"`
	UnitPrice              Amount    `json:"unit_price"`
	TotalPriceExcludingVAT Amount    `json:"total_price_excluding_vat"`
	// UnitVATPercent is a string with a percent sign, as Amili wants it: "25%".
	UnitVATPercent string `json:"unit_vat_percent"`
}

// InvoiceRegistration is the body of POST /invoice--registrations.
type InvoiceRegistration struct {
	Account             string       `json:"account"`
	Creditor            string       `json:"creditor"`
	InvoiceType         string       `json:"invoice_type"`
	InvoiceNumber       string       `json:"invoice_number"`
	InvoiceDate         Date         `json:"invoice_date"`
	InvoiceDueDate      Date         `json:"invoice_due_date"`
	InvoiceDeliveryDate *Date        `json:"invoice_delivery_date,omitempty"`
	Currency            string       `json:"currency"`
	ReferenceNumber     string       `json:"reference_number,omitempty"`
	PayoutReference     string       `json:"payout_reference,omitempty"`
	InvoiceHeadline     string       `json:"invoice_headline,omitempty"`
	InvoiceBodyText     string       `json:"invoice_body_text,omitempty"`
	YourContact         string       `json:"your_contact,omitempty"`
	YourReference       string       `json:"your_reference,omitempty"`
	OurReference        string       `json:"our_reference,omitempty"`
	DebtDescription     string       `json:"debt_description,omitempty"`
	Customer            *Customer    `json:"customer,omitempty"`
	Matrix              []MatrixLine `json:"matrix"`
}

// InvoiceFee is debts[].fees_included_in_capital_to_claim.
type InvoiceFee struct {
	InvoiceFee Amount `json:"invoice_fee"`
}

// ReminderFee is debts[].fees_already_claimed.reminder.
type ReminderFee struct {
	Amount              Amount `json:"amount"`
	FeeRegistrationDate *Date  `json:"fee_registration_date,omitempty"`
}

// FeesClaimed is debts[].fees_already_claimed.
type FeesClaimed struct {
	Reminder *ReminderFee `json:"reminder,omitempty"`
}

// Debt is one overdue invoice inside a case registration. Amili makes one case per debt.
type Debt struct {
	InvoiceNumber                  string       `json:"invoice_number"`
	DebtDescription                string       `json:"debt_description,omitempty"`
	InvoiceDate                    Date         `json:"invoice_date"`
	CapitalToClaim                 Amount       `json:"capital_to_claim"`
	InvoiceDueDaysAfterInvoiceDate int          `json:"invoice_due_days_after_invoice_date"`
	FeesIncludedInCapitalToClaim   *InvoiceFee  `json:"fees_included_in_capital_to_claim,omitempty"`
	FeesAlreadyClaimed             *FeesClaimed `json:"fees_already_claimed,omitempty"`
}

// CaseRegistration is the body of POST /case--registrations.
type CaseRegistration struct {
	Account     string    `json:"account"`
	Creditor    string    `json:"creditor"`
	FirstAction string    `json:"first_action"`
	Currency    string    `json:"currency"`
	Customer    *Customer `json:"customer"`
	Debts       []Debt    `json:"debts"`
}

// Registration is one unit of submission read from a file: one invoice (all its lines) or one
// case registration (all its debts). Exactly one of Invoice and Case is set.
type Registration struct {
	Kind    Kind
	Invoice *InvoiceRegistration
	Case    *CaseRegistration

	// File is the source file's name; Line the physical line of the registration's first row.
	File string
	Line int
	// Items are the registration's invoice numbers with what the ledger keeps of each: one for an
	// invoice, one per debt (in debt order) for a case registration.
	Items []Item
}

// Item is one invoice number inside a registration, the unit the ledger deduplicates on.
type Item struct {
	InvoiceNumber string
	// Amount is what the item claims, in öre: an invoice's lines including VAT, or a debt's
	// capital_to_claim. Report totals are sums of these.
	Amount Amount
	// Currency is the ISO 4217 code of Amount.
	Currency string
	// CustomerName is for reports.
	CustomerName string
	// PDF is the original invoice's file name relative to the CSV's directory, or "" when none.
	PDF string
	// ContentHash is a hex SHA-256 over the item's canonical content (the whole registration
	// payload for an invoice; the debt plus customer, first action and currency for a case). The
	// same invoice number with another hash is a conflict.
	ContentHash string
	// VAT splits an invoice's Amount by VAT rate (see ClaimItems); nil when unknown, as for a
	// case's debt, whose capital to claim carries no rate. Left out of JSON when nil, so a
	// registration printed before it is claimed reads as it did.
	VAT []VATPart `json:"VAT,omitempty"`
}

// Creditor returns the creditor id the registration is for.
func (r *Registration) Creditor() string {
	if r.Invoice != nil {
		return r.Invoice.Creditor
	}
	if r.Case != nil {
		return r.Case.Creditor
	}
	return ""
}

// Payload returns the JSON body to send: the invoice or the case registration.
func (r *Registration) Payload() any {
	if r.Invoice != nil {
		return r.Invoice
	}
	return r.Case
}

// VATPart is the share of an item's amount at one VAT rate: its net and its VAT, in öre.
type VATPart struct {
	Rate string // as Amili spells it: "25%", "12%", "6%", "0%"
	Net  Amount
	VAT  Amount
}

// vatBasisPoints are the VAT rates Amili's invoices know, in hundredths of a percent.
var vatBasisPoints = map[string]int64{"25%": 2500, "12%": 1200, "6%": 600, "0%": 0}

// VATRates are the rates in the order reports list them.
var VATRates = []string{"25%", "12%", "6%", "0%"}

// InvoiceVAT splits an invoice by VAT rate: each line's total excluding VAT and its VAT,
// rounded half away from zero to the öre per line as the invoice's total is, summed per rate
// in VATRates order. A line with a rate outside VATRates makes the split unknown (nil).
func InvoiceVAT(inv *InvoiceRegistration) []VATPart {
	sums := map[string]*VATPart{}
	for _, l := range inv.Matrix {
		bp, ok := vatBasisPoints[l.UnitVATPercent]
		if !ok {
			return nil
		}
		p := sums[l.UnitVATPercent]
		if p == nil {
			p = &VATPart{Rate: l.UnitVATPercent}
			sums[l.UnitVATPercent] = p
		}
		p.Net += l.TotalPriceExcludingVAT
		p.VAT += vatOf(l.TotalPriceExcludingVAT, bp)
	}
	var out []VATPart
	for _, r := range VATRates {
		if p := sums[r]; p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// vatOf is net × rate (hundredths of a percent) rounded half away from zero to the öre.
func vatOf(net Amount, bp int64) Amount {
	v := int64(net) * bp
	q, r := v/10000, v%10000
	if r >= 5000 {
		q++
	} else if r <= -5000 {
		q--
	}
	return Amount(q)
}

// ClaimItems are the registration's items as the ledger claims them: for an invoice, with its
// VAT split (a case's debts carry none).
func (r *Registration) ClaimItems() []Item {
	if r.Invoice == nil || len(r.Items) != 1 {
		return r.Items
	}
	it := r.Items[0]
	it.VAT = InvoiceVAT(r.Invoice)
	return []Item{it}
}
