package domain

// The types in this file are the events a creditor's billing system reports on an invoice or a
// case that already exists at Amili: a payment the debtor made to the creditor directly, a
// crediting (credit note) and a cancellation. Their payloads marshal to exactly the JSON that is
// sent to POST /creditor--payments, /creditor--creditings and /creditor--cancellations.

// The three kinds of event file amili-import reads, beside the two registrations.
const (
	KindPayment      Kind = "payment"      // one row per payment → POST /creditor--payments
	KindCrediting    Kind = "crediting"    // one row per credit note → POST /creditor--creditings
	KindCancellation Kind = "cancellation" // one row per cancelled invoice → POST /creditor--cancellations
)

// Kinds lists every kind of file, registrations first, in the order documentation shows them.
var Kinds = []Kind{KindInvoice, KindCase, KindPayment, KindCrediting, KindCancellation}

// IsEvent says whether k is an event on an existing invoice or case rather than a registration.
func (k Kind) IsEvent() bool {
	return k == KindPayment || k == KindCrediting || k == KindCancellation
}

// Valid says whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// OriginCreditorSystem is the origin amili-import states on every event.
const OriginCreditorSystem = "creditor_system"

// Payment is the body of POST /creditor--payments. Case or InvoiceNumber is set, not both.
type Payment struct {
	Account                  string `json:"account,omitempty"`
	Creditor                 string `json:"creditor"`
	Case                     string `json:"case,omitempty"`
	InvoiceNumber            string `json:"invoice_number,omitempty"`
	Currency                 string `json:"currency"`
	Amount                   Amount `json:"amount"`
	BankTransactionDate      Date   `json:"bank_transaction_date"`
	CreditorPaymentReference string `json:"creditor_payment_reference,omitempty"`
	ClientRegistrationDate   *Date  `json:"client_registration_date,omitempty"`
	Origin                   string `json:"origin"`
}

// Crediting is the body of POST /creditor--creditings. Case or InvoiceNumber is set, not both.
type Crediting struct {
	Account           string `json:"account,omitempty"`
	Creditor          string `json:"creditor"`
	Case              string `json:"case,omitempty"`
	InvoiceNumber     string `json:"invoice_number,omitempty"`
	Currency          string `json:"currency,omitempty"`
	Amount            Amount `json:"amount"`
	CreditInvoice     string `json:"credit_invoice,omitempty"`
	CreditorReference string `json:"creditor_reference,omitempty"`
	Origin            string `json:"origin"`
}

// Cancellation is the body of POST /creditor--cancellations. Case or InvoiceNumber is set.
type Cancellation struct {
	Account       string `json:"account,omitempty"`
	Creditor      string `json:"creditor"`
	Case          string `json:"case,omitempty"`
	InvoiceNumber string `json:"invoice_number,omitempty"`
	Origin        string `json:"origin"`
}

// Event is one payment, crediting or cancellation read from a file. Exactly one of Payment,
// Crediting and Cancellation is set, as Kind says.
type Event struct {
	Kind         Kind
	Payment      *Payment
	Crediting    *Crediting
	Cancellation *Cancellation

	// File is the source file's name; Line the physical line of the event's row.
	File string
	Line int
	// Key names the event among the creditor's events of its kind, the unit the ledger sends
	// exactly once: a payment's creditor_payment_reference; a crediting's creditor_reference, or
	// its credit_invoice when it has no reference; a cancellation's target (the invoice number,
	// or "case:" and the case id), since an invoice is cancelled once.
	Key string
	// ContentHash is a hex SHA-256 over the event's canonical content. The same key seen again
	// with another hash is a conflict, never sent.
	ContentHash string
}

// Creditor returns the creditor id the event is for.
func (e *Event) Creditor() string {
	switch {
	case e.Payment != nil:
		return e.Payment.Creditor
	case e.Crediting != nil:
		return e.Crediting.Creditor
	case e.Cancellation != nil:
		return e.Cancellation.Creditor
	}
	return ""
}

// Target returns what the event names: an invoice number, or a case id when the file named
// the case itself. One of the two is "".
func (e *Event) Target() (invoiceNumber, caseID string) {
	switch {
	case e.Payment != nil:
		return e.Payment.InvoiceNumber, e.Payment.Case
	case e.Crediting != nil:
		return e.Crediting.InvoiceNumber, e.Crediting.Case
	case e.Cancellation != nil:
		return e.Cancellation.InvoiceNumber, e.Cancellation.Case
	}
	return "", ""
}

// Amount returns the money the event moves, in öre, with its currency: 0 and "" for a
// cancellation.
func (e *Event) Amount() (Amount, string) {
	switch {
	case e.Payment != nil:
		return e.Payment.Amount, e.Payment.Currency
	case e.Crediting != nil:
		return e.Crediting.Amount, e.Crediting.Currency
	}
	return 0, ""
}

// Reference returns the creditor's own reference of the event, as reports show it: the payment
// reference, the crediting's reference or credit invoice, "" for a cancellation.
func (e *Event) Reference() string {
	switch {
	case e.Payment != nil:
		return e.Payment.CreditorPaymentReference
	case e.Crediting != nil:
		if e.Crediting.CreditorReference != "" {
			return e.Crediting.CreditorReference
		}
		return e.Crediting.CreditInvoice
	}
	return ""
}

// Payload returns a copy of the body to POST. When caseID is not "", the copy names that case
// instead of the invoice number (the ledger knows the case the invoice became).
func (e *Event) Payload(caseID string) any {
	switch {
	case e.Payment != nil:
		p := *e.Payment
		if caseID != "" {
			p.Case, p.InvoiceNumber = caseID, ""
		}
		return &p
	case e.Crediting != nil:
		p := *e.Crediting
		if caseID != "" {
			p.Case, p.InvoiceNumber = caseID, ""
		}
		return &p
	case e.Cancellation != nil:
		p := *e.Cancellation
		if caseID != "" {
			p.Case, p.InvoiceNumber = caseID, ""
		}
		return &p
	}
	return nil
}
