// Package contenthash computes the content hash of an item to register, or of an event to send:
// the SHA-256 of its JSON
// exactly as encoding/json writes it (field order, omitempty, HTML-safe string escaping).
// Reflection-based marshalling of every invoice dominated the read time of a file, so the
// payload types are written here by hand; a test and mapping's fuzzer hold these bytes equal to
// json.Marshal's. The hash decides whether a row seen again is the same registration or event.
package contenthash

import (
	"crypto/sha256"
	"unicode/utf8"

	"github.com/amili-import/amili-import/domain"
)

// CaseItem is what a debt's content hash covers: the debt with its case's customer, first
// action, currency and creditor.
type CaseItem struct {
	Debt        *domain.Debt     `json:"debt"`
	Customer    *domain.Customer `json:"customer"`
	FirstAction string           `json:"first_action"`
	Currency    string           `json:"currency"`
	Creditor    string           `json:"creditor"`
}

// Invoice returns the content hash of an invoice registration, reusing buf for the JSON.
func Invoice(buf *[]byte, v *domain.InvoiceRegistration) [32]byte {
	*buf = appendInvoiceJSON((*buf)[:0], v)
	return sha256.Sum256(*buf)
}

// Case returns the content hash of one debt of a case registration, reusing buf for the JSON.
func Case(buf *[]byte, v *CaseItem) [32]byte {
	*buf = appendCaseItemJSON((*buf)[:0], v)
	return sha256.Sum256(*buf)
}

type jsonWriter struct {
	b     []byte
	first bool
}

func (w *jsonWriter) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jsonWriter) str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) boolean(k string, v bool) {
	if !v {
		return
	}
	w.key(k)
	w.b = append(w.b, "true"...)
}

func (w *jsonWriter) amount(k string, a domain.Amount) {
	w.key(k)
	w.b = a.AppendTo(w.b)
}

func (w *jsonWriter) date(k string, d domain.Date) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = d.UTC().AppendFormat(w.b, domain.DateLayout)
	w.b = append(w.b, '"')
}

func (w *jsonWriter) open() { w.b = append(w.b, '{'); w.first = true }

func (w *jsonWriter) close() { w.b = append(w.b, '}'); w.first = false }

func appendInvoiceJSON(b []byte, v *domain.InvoiceRegistration) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	w := jsonWriter{b: b}
	w.open()
	w.str("account", v.Account, false)
	w.str("creditor", v.Creditor, false)
	w.str("invoice_type", v.InvoiceType, false)
	w.str("invoice_number", v.InvoiceNumber, false)
	w.date("invoice_date", v.InvoiceDate)
	w.date("invoice_due_date", v.InvoiceDueDate)
	if v.InvoiceDeliveryDate != nil {
		w.date("invoice_delivery_date", *v.InvoiceDeliveryDate)
	}
	w.str("currency", v.Currency, false)
	w.str("reference_number", v.ReferenceNumber, true)
	w.str("payout_reference", v.PayoutReference, true)
	w.str("invoice_headline", v.InvoiceHeadline, true)
	w.str("invoice_body_text", v.InvoiceBodyText, true)
	w.str("your_contact", v.YourContact, true)
	w.str("your_reference", v.YourReference, true)
	w.str("our_reference", v.OurReference, true)
	w.str("debt_description", v.DebtDescription, true)
	if v.Customer != nil {
		w.key("customer")
		w.customer(v.Customer)
	}
	w.key("matrix")
	if v.Matrix == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.b = append(w.b, '[')
		for i := range v.Matrix {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			m := &v.Matrix[i]
			w.open()
			w.str("article_number", m.ArticleNumber, true)
			w.str("article_description", m.ArticleDescription, true)
			if m.NumberOfUnits != nil {
				w.key("number_of_units")
				w.b = m.NumberOfUnits.AppendTo(w.b)
			}
			w.amount("unit_price", m.UnitPrice)
			w.amount("total_price_excluding_vat", m.TotalPriceExcludingVAT)
			w.str("unit_vat_percent", m.UnitVATPercent, false)
			w.close()
		}
		w.b = append(w.b, ']')
	}
	w.close()
	return w.b
}

func (w *jsonWriter) customer(c *domain.Customer) {
	w.open()
	w.str("name", c.Name, true)
	w.str("customer_number", c.CustomerNumber, true)
	w.str("id_number", c.IDNumber, true)
	w.boolean("is_person", c.IsPerson)
	w.boolean("is_company", c.IsCompany)
	w.boolean("is_foreign", c.IsForeign)
	if a := c.Address; a != nil {
		w.key("address")
		w.open()
		w.str("address_line_1", a.AddressLine1, true)
		w.str("address_line_2", a.AddressLine2, true)
		w.str("zip_code", a.ZipCode, true)
		w.str("city", a.City, true)
		w.str("country", a.Country, true)
		w.close()
	}
	w.str("mobile_number", c.MobileNumber, true)
	w.str("email", c.Email, true)
	w.close()
}

func appendCaseItemJSON(b []byte, v *CaseItem) []byte {
	w := jsonWriter{b: b}
	w.open()
	w.key("debt")
	if d := v.Debt; d == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.open()
		w.str("invoice_number", d.InvoiceNumber, false)
		w.str("debt_description", d.DebtDescription, true)
		w.date("invoice_date", d.InvoiceDate)
		w.amount("capital_to_claim", d.CapitalToClaim)
		w.key("invoice_due_days_after_invoice_date")
		w.b = appendInt(w.b, d.InvoiceDueDaysAfterInvoiceDate)
		if f := d.FeesIncludedInCapitalToClaim; f != nil {
			w.key("fees_included_in_capital_to_claim")
			w.open()
			w.amount("invoice_fee", f.InvoiceFee)
			w.close()
		}
		if f := d.FeesAlreadyClaimed; f != nil {
			w.key("fees_already_claimed")
			w.open()
			if r := f.Reminder; r != nil {
				w.key("reminder")
				w.open()
				w.amount("amount", r.Amount)
				if r.FeeRegistrationDate != nil {
					w.date("fee_registration_date", *r.FeeRegistrationDate)
				}
				w.close()
			}
			w.close()
		}
		w.close()
	}
	w.key("customer")
	if v.Customer == nil {
		w.b = append(w.b, "null"...)
	} else {
		w.customer(v.Customer)
	}
	w.str("first_action", v.FirstAction, false)
	w.str("currency", v.Currency, false)
	w.str("creditor", v.Creditor, false)
	w.close()
	return w.b
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as encoding/json does: HTML-safe, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Payment returns the content hash of a payment, reusing buf for the JSON.
func Payment(buf *[]byte, v *domain.Payment) [32]byte {
	w := jsonWriter{b: (*buf)[:0]}
	w.open()
	w.str("account", v.Account, true)
	w.str("creditor", v.Creditor, false)
	w.str("case", v.Case, true)
	w.str("invoice_number", v.InvoiceNumber, true)
	w.str("currency", v.Currency, false)
	w.amount("amount", v.Amount)
	w.date("bank_transaction_date", v.BankTransactionDate)
	w.str("creditor_payment_reference", v.CreditorPaymentReference, true)
	if v.ClientRegistrationDate != nil {
		w.date("client_registration_date", *v.ClientRegistrationDate)
	}
	w.str("origin", v.Origin, false)
	w.close()
	*buf = w.b
	return sha256.Sum256(*buf)
}

// Crediting returns the content hash of a crediting, reusing buf for the JSON.
func Crediting(buf *[]byte, v *domain.Crediting) [32]byte {
	w := jsonWriter{b: (*buf)[:0]}
	w.open()
	w.str("account", v.Account, true)
	w.str("creditor", v.Creditor, false)
	w.str("case", v.Case, true)
	w.str("invoice_number", v.InvoiceNumber, true)
	w.str("currency", v.Currency, true)
	w.amount("amount", v.Amount)
	w.str("credit_invoice", v.CreditInvoice, true)
	w.str("creditor_reference", v.CreditorReference, true)
	w.str("origin", v.Origin, false)
	w.close()
	*buf = w.b
	return sha256.Sum256(*buf)
}

// Cancellation returns the content hash of a cancellation, reusing buf for the JSON.
func Cancellation(buf *[]byte, v *domain.Cancellation) [32]byte {
	w := jsonWriter{b: (*buf)[:0]}
	w.open()
	w.str("account", v.Account, true)
	w.str("creditor", v.Creditor, false)
	w.str("case", v.Case, true)
	w.str("invoice_number", v.InvoiceNumber, true)
	w.str("origin", v.Origin, false)
	w.close()
	*buf = w.b
	return sha256.Sum256(*buf)
}
