package mapping

import (
	"sort"
	"strings"

	"github.com/amili-import/amili-import/domain"
)

// field identifies one value a row can carry. Fields are indexes so that a row's values live
// in a fixed-size array and no map is consulted per row.
type field int

// The fields a layout can map a column to. Their canonical header names are in fieldDefs.
const (
	fInvoiceNumber field = iota
	fInvoiceDate
	fInvoiceDueDate
	fInvoiceDeliveryDate
	fInvoiceType
	fReferenceNumber
	fPayoutReference
	fInvoiceHeadline
	fInvoiceBodyText
	fYourContact
	fYourReference
	fOurReference
	fDebtDescription

	fCurrency
	fCreditor
	fFirstAction

	fCustName
	fCustNumber
	fCustIDNumber
	fCustIsPerson
	fCustIsCompany
	fCustIsForeign
	fCustType
	fCustAddress1
	fCustAddress2
	fCustZip
	fCustCity
	fCustCountry
	fCustEmail
	fCustMobile

	fArticleNumber
	fArticleDescription
	fNumberOfUnits
	fUnitPrice
	fTotalExclVAT
	fVATPercent

	fDebtInvoiceNumber
	fDebtDescriptionCase
	fDebtInvoiceDate
	fDebtCapital
	fDebtDueDays
	fDebtDueDate
	fDebtInvoiceFee
	fDebtReminderAmount
	fDebtReminderDate

	fCase
	fAmount
	fBankTransactionDate
	fCreditorPaymentReference
	fClientRegistrationDate
	fCreditorReference
	fCreditInvoice

	fPDFFile

	numFields
)

// scope says which kinds of file a field belongs to: a bit per kind, in the order of
// domain.Kinds.
type scope uint8

const (
	scopeInvoice scope = 1 << iota
	scopeCase
	scopePayment
	scopeCrediting
	scopeCancellation

	// scopeBoth is the fields of both registrations.
	scopeBoth = scopeInvoice | scopeCase
	// scopeMoney is the events that move money.
	scopeMoney = scopePayment | scopeCrediting
	// scopeEvents is every event.
	scopeEvents = scopeMoney | scopeCancellation
	scopeAll    = scopeBoth | scopeEvents
)

// kindScope is the bit of kind k; 0 for a kind that is not one of domain.Kinds.
func kindScope(k domain.Kind) scope {
	for i, v := range domain.Kinds {
		if v == k {
			return 1 << i
		}
	}
	return 0
}

// kinds lists the kinds of s, in the order of domain.Kinds.
func (s scope) kinds() []domain.Kind {
	var ks []domain.Kind
	for i, k := range domain.Kinds {
		if s&(1<<i) != 0 {
			ks = append(ks, k)
		}
	}
	return ks
}

// fieldDef describes a field: its canonical header name (Amili's dotted path) and the kinds
// of file it belongs to.
type fieldDef struct {
	name  string
	scope scope
	// group marks fields that belong to the whole registration (the invoice head, or the
	// case's customer, first action and currency): every row of a group must agree on them.
	group bool
}

var fieldDefs = [numFields]fieldDef{
	fInvoiceNumber:       {"invoice_number", scopeInvoice | scopeEvents, true},
	fInvoiceDate:         {"invoice_date", scopeInvoice, true},
	fInvoiceDueDate:      {"invoice_due_date", scopeInvoice, true},
	fInvoiceDeliveryDate: {"invoice_delivery_date", scopeInvoice, true},
	fInvoiceType:         {"invoice_type", scopeInvoice, true},
	fReferenceNumber:     {"reference_number", scopeInvoice, true},
	fPayoutReference:     {"payout_reference", scopeInvoice, true},
	fInvoiceHeadline:     {"invoice_headline", scopeInvoice, true},
	fInvoiceBodyText:     {"invoice_body_text", scopeInvoice, true},
	fYourContact:         {"your_contact", scopeInvoice, true},
	fYourReference:       {"your_reference", scopeInvoice, true},
	fOurReference:        {"our_reference", scopeInvoice, true},
	fDebtDescription:     {"debt_description", scopeInvoice, true},

	fCurrency:    {"currency", scopeBoth | scopeMoney, true},
	fCreditor:    {"creditor", scopeAll, true},
	fFirstAction: {"first_action", scopeCase, true},

	fCustName:      {"customer.name", scopeBoth, true},
	fCustNumber:    {"customer.customer_number", scopeBoth, true},
	fCustIDNumber:  {"customer.id_number", scopeBoth, true},
	fCustIsPerson:  {"customer.is_person", scopeBoth, true},
	fCustIsCompany: {"customer.is_company", scopeBoth, true},
	fCustIsForeign: {"customer.is_foreign", scopeBoth, true},
	fCustType:      {"customer.type", scopeBoth, true},
	fCustAddress1:  {"customer.address.address_line_1", scopeBoth, true},
	fCustAddress2:  {"customer.address.address_line_2", scopeBoth, true},
	fCustZip:       {"customer.address.zip_code", scopeBoth, true},
	fCustCity:      {"customer.address.city", scopeBoth, true},
	fCustCountry:   {"customer.address.country", scopeBoth, true},
	fCustEmail:     {"customer.email", scopeBoth, true},
	fCustMobile:    {"customer.mobile_number", scopeBoth, true},

	fArticleNumber:      {"matrix.article_number", scopeInvoice, false},
	fArticleDescription: {"matrix.article_description", scopeInvoice, false},
	fNumberOfUnits:      {"matrix.number_of_units", scopeInvoice, false},
	fUnitPrice:          {"matrix.unit_price", scopeInvoice, false},
	fTotalExclVAT:       {"matrix.total_price_excluding_vat", scopeInvoice, false},
	fVATPercent:         {"matrix.unit_vat_percent", scopeInvoice, false},

	fDebtInvoiceNumber:   {"debts.invoice_number", scopeCase, false},
	fDebtDescriptionCase: {"debts.debt_description", scopeCase, false},
	fDebtInvoiceDate:     {"debts.invoice_date", scopeCase, false},
	fDebtCapital:         {"debts.capital_to_claim", scopeCase, false},
	fDebtDueDays:         {"debts.invoice_due_days_after_invoice_date", scopeCase, false},
	fDebtDueDate:         {"debts.invoice_due_date", scopeCase, false},
	fDebtInvoiceFee:      {"debts.fees_included_in_capital_to_claim.invoice_fee", scopeCase, false},
	fDebtReminderAmount:  {"debts.fees_already_claimed.reminder.amount", scopeCase, false},
	fDebtReminderDate:    {"debts.fees_already_claimed.reminder.fee_registration_date", scopeCase, false},

	fCase:                     {"case", scopeEvents, false},
	fAmount:                   {"amount", scopeMoney, false},
	fBankTransactionDate:      {"bank_transaction_date", scopePayment, false},
	fCreditorPaymentReference: {"creditor_payment_reference", scopePayment, false},
	fClientRegistrationDate:   {"client_registration_date", scopePayment, false},
	fCreditorReference:        {"creditor_reference", scopeCrediting, false},
	fCreditInvoice:            {"credit_invoice", scopeCrediting, false},

	fPDFFile: {"pdf_file", scopeBoth, false},
}

// fieldByName finds a field by its canonical name, ignoring case and surrounding blanks.
func fieldByName(name string) (field, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for f := field(0); f < numFields; f++ {
		if fieldDefs[f].name == name {
			return f, true
		}
	}
	return 0, false
}

func (f field) String() string { return fieldDefs[f].name }

// inKind reports whether f can appear in a file of kind k.
func (f field) inKind(k domain.Kind) bool { return fieldDefs[f].scope&kindScope(k) != 0 }

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
