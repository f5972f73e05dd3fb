package amilitest

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
)

// The seeded ids are the guides' own, so their example bodies work verbatim.
const (
	seedPartner  = "674dbeab08847b9501cc9130"
	seedAccount  = "674dbeaf08847b9501cc9132"
	seedCreditor = "674dbeb208847b9501cc9138"
	seedName     = "Amili Integration Team"
)

// store is the sandbox's state. Every method is called with Server.mu held.
type store struct {
	now       func() time.Time
	machine   [5]byte
	counter   uint32
	ocrSeq    uint64
	refSeq    int
	accounts  map[string]*accountRec
	creditors map[string]*creditorRec
	groups    []accessGroup

	cases     map[string]*caseRec
	order     []*caseRec            // by creation
	byCred    map[string][]*caseRec // creditor → cases
	byInvoice map[string][]*caseRec // debt.invoice_number → cases

	received []Received
	regCount map[string]int // creditor + "\x00" + invoice number
	uploads  map[string][]Upload
	events   []*eventRec // payments, creditings and cancellations, in arrival order
}

type accountRec struct {
	ID, Partner, Name string
}

type accessGroup struct {
	ID      string `json:"_id"`
	Account string `json:"account"`
	Type    string `json:"type"`
	Name    string `json:"name"`
}

type creditorRec struct {
	ID, Account, Name, OrganizationNo, DebtDescription string
	Active                                             bool
	Created, Updated                                   time.Time
	Number                                             int
}

func newStore(now func() time.Time) *store {
	st := &store{
		now:       now,
		accounts:  map[string]*accountRec{},
		creditors: map[string]*creditorRec{},
		cases:     map[string]*caseRec{},
		byCred:    map[string][]*caseRec{},
		byInvoice: map[string][]*caseRec{},
		regCount:  map[string]int{},
		uploads:   map[string][]Upload{},
		refSeq:    48640,
	}
	rand.Read(st.machine[:])
	return st
}

// seed creates the partner, account, active and inactive creditors.
func (st *store) seed() (partner, account, active, inactive string) {
	st.accounts[seedAccount] = &accountRec{ID: seedAccount, Partner: seedPartner, Name: seedName}
	st.addGroups(seedAccount)
	c := st.addCreditorID(seedCreditor, seedAccount, seedName, true)
	c.Created = time.Date(2024, 12, 2, 14, 5, 38, 0, time.UTC)
	in := st.addCreditor(seedAccount, "Inactive Creditor AB", false)
	return seedPartner, seedAccount, c.ID, in.ID
}

func (st *store) addGroups(account string) {
	for _, t := range []string{"account_admin", "account_user"} {
		st.groups = append(st.groups, accessGroup{ID: st.newID(), Account: account, Type: t, Name: t})
	}
}

func (st *store) addCreditor(account, name string, active bool) *creditorRec {
	return st.addCreditorID(st.newID(), account, name, active)
}

func (st *store) addCreditorID(id, account, name string, active bool) *creditorRec {
	now := st.now().UTC()
	c := &creditorRec{
		ID: id, Account: account, Name: name, OrganizationNo: "1122334455",
		DebtDescription: "Standard skuldbeskrivning på Konto", Active: active,
		Created: now, Updated: now, Number: 2000037 + len(st.creditors),
	}
	st.creditors[id] = c
	return c
}

// newID returns an id shaped like Amili's (a MongoDB ObjectId: time, machine, counter).
func (st *store) newID() string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(st.now().Unix()))
	copy(b[4:9], st.machine[:])
	st.counter++
	c := st.counter
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

// etag returns a 40-hex entity tag that changes with every write.
func (st *store) etag(id string) string {
	st.counter++
	h := sha1.Sum([]byte(id + strconv.FormatUint(uint64(st.counter), 10)))
	return hex.EncodeToString(h[:])
}

// newOCR returns a 20-digit OCR reference: year, a running number, a Luhn check digit.
func (st *store) newOCR() string {
	st.ocrSeq++
	body := fmt.Sprintf("%04d%015d", st.now().UTC().Year(), 246347831130107+st.ocrSeq)
	return body + strconv.Itoa(luhnDigit(body))
}

// luhnDigit is the mod-10 check digit for digits (weights 2-1 from the right).
func luhnDigit(digits string) int {
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// LuhnValid reports whether s (digits only) ends in a valid mod-10 check digit, as Amili's OCR
// numbers do.
func LuhnValid(s string) bool {
	if len(s) < 2 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return luhnDigit(s[:len(s)-1]) == int(s[len(s)-1]-'0')
}

// addCase files c under its indexes.
func (st *store) addCase(c *caseRec) {
	c.seq = len(st.order)
	c.stored = st.now()
	st.cases[c.ID] = c
	st.order = append(st.order, c)
	st.byCred[c.Creditor] = append(st.byCred[c.Creditor], c)
	st.byInvoice[c.Debt.InvoiceNumber] = append(st.byInvoice[c.Debt.InvoiceNumber], c)
}

// findCase resolves a case by id, or by creditor and invoice number (the latest open one, else
// the latest).
func (st *store) findCase(creditor, id, invoiceNumber string) *caseRec {
	if id != "" {
		c := st.cases[id]
		if c == nil || (creditor != "" && c.Creditor != creditor) {
			return nil
		}
		return c
	}
	var found *caseRec
	for _, c := range st.byInvoice[invoiceNumber] {
		if c.Creditor != creditor {
			continue
		}
		if found == nil || found.Closed != nil || c.Closed == nil {
			found = c
		}
	}
	return found
}

// fmtDate writes t as Amili does: RFC 1123 in GMT.
func fmtDate(t time.Time) string { return t.UTC().Format(domain.DateLayout) }

// creditorDoc is GET /creditors/{id}, shaped like the creditor guide's example.
func (c *creditorRec) doc() map[string]any {
	addr := map[string]any{"address_line_1": "Redaregatan 50", "zip_code": "25236", "city": "Helsingborg", "country": "SE"}
	d := map[string]any{
		"_id": c.ID, "account": c.Account, "name": c.Name, "organization_no": c.OrganizationNo,
		"is_active": c.Active, "agreement_address": addr,
		"case_config": map[string]any{
			"vat_area": "sweden", "commission_excluded_vat": false, "payout_capital_by_invoice": true,
			"payout_interest_by_invoice": false, "letter_config": map[string]any{},
		},
		"description": "Sandbox creditor", "default_letter_locale": "sv",
		"always_use_standard_debt_description": false, "added_to_erp_system": false,
		"_created": fmtDate(c.Created), "_updated": fmtDate(c.Updated),
		"creditor_number": c.Number, "_etag": hex.EncodeToString([]byte(c.ID))[:40],
	}
	if c.Active {
		d["standard_debt_description"] = c.DebtDescription
		d["payout_details"] = map[string]any{"sek": map[string]any{"bankgiro": "12312312"}}
		d["sender_address"] = addr
		d["invoice_address"] = addr
	}
	return d
}

// toAmiliCase converts a stored case to the client's type.
func (c *caseRec) toAmili() amili.Case {
	out := amili.Case{
		ID: c.ID, Created: fmtDate(c.Created), Updated: fmtDate(c.Updated), Account: c.Account,
		Creditor: c.Creditor, Invoice: c.Invoice, InvoiceRegistration: c.InvoiceRegistration,
		CaseRegistration: c.CaseRegistration, Currency: c.Currency, CustomerName: c.CustomerName,
		CustomerIDNumber: c.CustomerIDNumber, ReferenceNumber: c.ReferenceNumber,
		Debt: amili.CaseDebt{
			InvoiceNumber: c.Debt.InvoiceNumber, InvoiceDate: fmtDate(c.Debt.InvoiceDate),
			InvoiceDueDaysAfterInvoiceDate: c.Debt.DueDays, InitialCapital: c.Debt.InitialCapital,
			CapitalToClaim: c.Debt.CapitalToClaim, DebtDescription: c.Debt.Description,
			PayoutReference: c.Debt.PayoutReference,
		},
		Status: c.Status, State: c.State,
		TotalRemainingCapitalAmount:     ptr(c.RemCapital),
		TotalRemainingCostsAmount:       ptr(c.RemCosts),
		TotalRemainingInterestAmount:    ptr(c.RemInterest),
		TotalRemainingTransactionAmount: ptr(c.RemCapital + c.RemCosts + c.RemInterest),
	}
	if c.Closed != nil {
		out.Closed = &amili.Closed{CloseDate: fmtDate(c.Closed.Date), Reason: c.Closed.Reason}
	}
	if c.OriginalInvoice != nil {
		m := *c.OriginalInvoice
		out.OriginalInvoice = &m
	}
	return out
}

func ptr[T any](v T) *T { return &v }
