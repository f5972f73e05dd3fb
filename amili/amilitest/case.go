package amilitest

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
)

// caseRec is one stored case. Amounts are öre.
type caseRec struct {
	ID, Account, Creditor, CreditorName, Currency  string
	Invoice, InvoiceRegistration, CaseRegistration string
	Customer, CustomerName, CustomerIDNumber       string
	CustomerNumber, ReferenceNumber, OCRID, OCR    string
	ETag                                           string
	Created, Updated, LatestState                  time.Time
	Debt                                           debtRec
	Status, State                                  string
	StatusHistory, StateHistory                    []history
	AddCapital, AddCosts, AddInterest              domain.Amount
	RemCapital, RemCosts, RemInterest              domain.Amount
	Transactions                                   []transaction
	OriginalInvoice                                *amili.Media
	Closed                                         *closed

	seq     int            // creation order
	stored  time.Time      // when the sandbox stored it (listings may lag behind, Faults.ListLag)
	generic map[string]any // the rendered document for where-matching; nil after a change
}

type debtRec struct {
	InvoiceNumber   string
	InvoiceDate     time.Time
	DueDays         int
	InitialCapital  domain.Amount
	CapitalToClaim  domain.Amount
	Description     string
	PayoutReference string
}

type history struct {
	Value string
	Date  time.Time
}

type closed struct {
	Date   time.Time
	Reason string
}

type transaction struct {
	BankDate, RegDate   time.Time
	Origin, Type, Tag   string
	Amount              domain.Amount
	PaymentMethod, Link string // creditor_payment and its id, for payments
}

// newCaseRec opens a case in Amili's first status, with the capital as its first transaction.
func (st *store) newCaseRec(cr *creditorRec, currency string, cust customerIn, d debtRec, bankDate time.Time) *caseRec {
	now := st.now().UTC()
	st.refSeq++
	c := &caseRec{
		ID: st.newID(), Account: cr.Account, Creditor: cr.ID, CreditorName: cr.Name, Currency: currency,
		Customer: st.newID(), CustomerName: cust.Name, CustomerIDNumber: cust.IDNumber,
		CustomerNumber: cust.CustomerNumber, ReferenceNumber: strconv.Itoa(st.refSeq),
		OCRID: st.newID(), OCR: st.newOCR(),
		Created: now, Updated: now, LatestState: now, Debt: d,
		Status: "initializing", State: "initializing",
		StatusHistory: []history{{"initializing", now}}, StateHistory: []history{{"initializing", now}},
		AddCapital: d.CapitalToClaim, RemCapital: d.CapitalToClaim,
		Transactions: []transaction{{
			BankDate: bankDate, RegDate: now, Origin: "creditor_system", Type: "capital",
			Tag: "api.transaction.case_registration", Amount: d.CapitalToClaim,
		}},
	}
	if c.Debt.Description == "" {
		c.Debt.Description = cr.DebtDescription
	}
	if c.Debt.PayoutReference == "" {
		c.Debt.PayoutReference = d.InvoiceNumber
	}
	c.ETag = st.etag(c.ID)
	return c
}

// touch records a change: new _updated and _etag, and a fresh rendering next time.
func (st *store) touch(c *caseRec) {
	c.Updated = st.now().UTC()
	c.ETag = st.etag(c.ID)
	c.generic = nil
}

// reduceCapital takes amount off the remaining capital (never below zero) as a transaction.
func (c *caseRec) reduceCapital(amount domain.Amount, bankDate, now time.Time, tag, method, link string) {
	c.Transactions = append(c.Transactions, transaction{
		BankDate: bankDate, RegDate: now, Origin: "creditor_system", Type: "capital",
		Tag: tag, Amount: -amount, PaymentMethod: method, Link: link,
	})
	c.RemCapital -= amount
	if c.RemCapital < 0 {
		c.RemCapital = 0
	}
}

// close depreciates whatever interest and costs remain and closes the case with reason, the
// way case-flow.txt shows a fully paid case.
func (c *caseRec) close(now time.Time, reason string) {
	if c.RemInterest != 0 {
		c.Transactions = append(c.Transactions, transaction{BankDate: now, RegDate: now,
			Origin: "solicitor_system", Type: "interest", Tag: "api.transaction.depreciated", Amount: -c.RemInterest})
	}
	if c.RemCosts != 0 {
		c.Transactions = append(c.Transactions, transaction{BankDate: now, RegDate: now,
			Origin: "solicitor_system", Type: "costs", Tag: "api.transaction.depreciated", Amount: -c.RemCosts})
	}
	if c.RemCapital != 0 {
		c.Transactions = append(c.Transactions, transaction{BankDate: now, RegDate: now,
			Origin: "solicitor_system", Type: "capital", Tag: "api.transaction.depreciated", Amount: -c.RemCapital})
	}
	c.RemCapital, c.RemCosts, c.RemInterest = 0, 0, 0
	c.Status = "closed"
	c.StatusHistory = append(c.StatusHistory, history{"closed", now})
	c.Closed = &closed{Date: now, Reason: reason}
}

// caseDoc is a case as GET /cases renders it, field for field as in the guides.
type caseDoc struct {
	ID                  string         `json:"_id"`
	Invoice             string         `json:"invoice,omitempty"`
	Created             string         `json:"_created"`
	ETag                string         `json:"_etag"`
	Updated             string         `json:"_updated"`
	Account             string         `json:"account"`
	AgreementVersion    string         `json:"agreement_version"`
	CaseSettings        map[string]any `json:"case_settings"`
	Creditor            string         `json:"creditor"`
	CreditorName        string         `json:"creditor_name"`
	Currency            string         `json:"currency"`
	Customer            string         `json:"customer"`
	CustomerIDNumber    string         `json:"customer_id_number,omitempty"`
	CustomerName        string         `json:"customer_name"`
	CustomerNumber      string         `json:"customer_number"`
	CustomerStatus      string         `json:"customer_status"`
	Debtor              string         `json:"debtor"`
	DebtorIDNumber      string         `json:"debtor_id_number,omitempty"`
	DebtorName          string         `json:"debtor_name"`
	Debt                debtDoc        `json:"debt"`
	InvoiceRegistration string         `json:"invoice_registration,omitempty"`
	CaseRegistration    string         `json:"case_registration,omitempty"`
	LatestStateDate     string         `json:"latest_state_date"`

	LocalAddedCapital      domain.Amount    `json:"local_added_capital_amount"`
	LocalAddedCosts        domain.Amount    `json:"local_added_costs_amount"`
	LocalAddedInterest     domain.Amount    `json:"local_added_interest_amount"`
	LocalAddedTransaction  domain.Amount    `json:"local_added_transaction_amount"`
	LocalRemainingCapital  domain.Amount    `json:"local_remaining_capital_amount"`
	LocalRemainingCosts    domain.Amount    `json:"local_remaining_costs_amount"`
	LocalRemainingInterest domain.Amount    `json:"local_remaining_interest_amount"`
	LocalRemainingTransact domain.Amount    `json:"local_remaining_transaction_amount"`
	State                  string           `json:"state"`
	StateHistory           []stateDoc       `json:"state_history"`
	Status                 string           `json:"status"`
	StatusHistory          []statusDoc      `json:"status_history"`
	TotalAddedCapital      domain.Amount    `json:"total_added_capital_amount"`
	TotalAddedCosts        domain.Amount    `json:"total_added_costs_amount"`
	TotalAddedInterest     domain.Amount    `json:"total_added_interest_amount"`
	TotalAddedTransaction  domain.Amount    `json:"total_added_transaction_amount"`
	TotalRemainingCapital  domain.Amount    `json:"total_remaining_capital_amount"`
	TotalRemainingCosts    domain.Amount    `json:"total_remaining_costs_amount"`
	TotalRemainingInterest domain.Amount    `json:"total_remaining_interest_amount"`
	TotalRemainingTransact domain.Amount    `json:"total_remaining_transaction_amount"`
	Transactions           []transactionDoc `json:"transactions"`
	ReferenceNumber        string           `json:"reference_number"`
	OCRNumber              string           `json:"ocr_number,omitempty"`
	OriginalInvoice        *amili.Media     `json:"original_invoice,omitempty"`
	Closed                 *amili.Closed    `json:"closed,omitempty"`
}

type debtDoc struct {
	InvoiceNumber   string        `json:"invoice_number"`
	InvoiceDate     string        `json:"invoice_date"`
	DueDays         int           `json:"invoice_due_days_after_invoice_date"`
	InterestDays    int           `json:"interest_days_after_invoice_date"`
	InitialCapital  domain.Amount `json:"initial_capital"`
	CapitalToClaim  domain.Amount `json:"capital_to_claim"`
	DebtDescription string        `json:"debt_description"`
	PayoutReference string        `json:"payout_reference"`
}

type stateDoc struct {
	State     string `json:"state"`
	StateDate string `json:"state_date"`
}

type statusDoc struct {
	Status     string `json:"status"`
	StatusDate string `json:"status_date"`
}

type transactionDoc struct {
	BankTransactionDate  string        `json:"bank_transaction_date"`
	RegistrationDate     string        `json:"registration_date"`
	Origin               string        `json:"origin"`
	Type                 string        `json:"type"`
	DescriptionLocaleTag string        `json:"description_locale_tag"`
	Amount               domain.Amount `json:"amount"`
	PaymentMethod        string        `json:"payment_method,omitempty"`
	CreditorPayment      string        `json:"creditor_payment,omitempty"`
}

// doc renders c as the guides show a case.
func (c *caseRec) doc() caseDoc {
	remTx := c.RemCapital + c.RemCosts + c.RemInterest
	addTx := c.AddCapital + c.AddCosts + c.AddInterest
	d := caseDoc{
		ID: c.ID, Invoice: c.Invoice, Created: fmtDate(c.Created), ETag: c.ETag, Updated: fmtDate(c.Updated),
		Account: c.Account, AgreementVersion: "6790c2ec38ebf4814061f0b5",
		CaseSettings: map[string]any{"interest_rate": map[string]any{"reference_rate": true}},
		Creditor:     c.Creditor, CreditorName: c.CreditorName, Currency: c.Currency,
		Customer: c.Customer, CustomerIDNumber: c.CustomerIDNumber, CustomerName: c.CustomerName,
		CustomerNumber: c.CustomerNumber, CustomerStatus: "initialized",
		Debtor: c.Customer, DebtorIDNumber: c.CustomerIDNumber, DebtorName: c.CustomerName,
		Debt: debtDoc{
			InvoiceNumber: c.Debt.InvoiceNumber, InvoiceDate: fmtDate(c.Debt.InvoiceDate),
			DueDays: c.Debt.DueDays, InterestDays: c.Debt.DueDays, InitialCapital: c.Debt.InitialCapital,
			CapitalToClaim: c.Debt.CapitalToClaim, DebtDescription: c.Debt.Description,
			PayoutReference: c.Debt.PayoutReference,
		},
		InvoiceRegistration: c.InvoiceRegistration, CaseRegistration: c.CaseRegistration,
		LatestStateDate:   fmtDate(c.LatestState),
		LocalAddedCapital: c.AddCapital, LocalAddedCosts: c.AddCosts, LocalAddedInterest: c.AddInterest,
		LocalAddedTransaction: addTx, LocalRemainingCapital: c.RemCapital, LocalRemainingCosts: c.RemCosts,
		LocalRemainingInterest: c.RemInterest, LocalRemainingTransact: remTx,
		State: c.State, Status: c.Status,
		TotalAddedCapital: c.AddCapital, TotalAddedCosts: c.AddCosts, TotalAddedInterest: c.AddInterest,
		TotalAddedTransaction: addTx, TotalRemainingCapital: c.RemCapital, TotalRemainingCosts: c.RemCosts,
		TotalRemainingInterest: c.RemInterest, TotalRemainingTransact: remTx,
		ReferenceNumber: c.ReferenceNumber, OCRNumber: c.OCR,
	}
	for _, h := range c.StateHistory {
		d.StateHistory = append(d.StateHistory, stateDoc{h.Value, fmtDate(h.Date)})
	}
	for _, h := range c.StatusHistory {
		d.StatusHistory = append(d.StatusHistory, statusDoc{h.Value, fmtDate(h.Date)})
	}
	for _, t := range c.Transactions {
		d.Transactions = append(d.Transactions, transactionDoc{
			BankTransactionDate: fmtDate(t.BankDate), RegistrationDate: fmtDate(t.RegDate),
			Origin: t.Origin, Type: t.Type, DescriptionLocaleTag: t.Tag, Amount: t.Amount,
			PaymentMethod: t.PaymentMethod, CreditorPayment: t.Link,
		})
	}
	if c.OriginalInvoice != nil {
		m := *c.OriginalInvoice
		d.OriginalInvoice = &m
	}
	if c.Closed != nil {
		d.Closed = &amili.Closed{CloseDate: fmtDate(c.Closed.Date), Reason: c.Closed.Reason}
	}
	return d
}

// genericDoc is the rendered case as plain JSON values, for matching where-filters on any
// dotted field. It is cached until the case changes.
func (c *caseRec) genericDoc() map[string]any {
	if c.generic == nil {
		b, _ := json.Marshal(c.doc())
		var m map[string]any
		json.Unmarshal(b, &m)
		c.generic = m
	}
	return c.generic
}
