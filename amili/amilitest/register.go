package amilitest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Received is one registration the sandbox stored, in arrival order.
type Received struct {
	Kind           string // "invoice" or "case"
	ID             string // the registration's _id
	Body           json.RawMessage
	InvoiceNumbers []string // one for an invoice, one per debt for a case registration
	CaseIDs        []string
	At             time.Time
}

// customerIn is the part of a registration's customer the case keeps.
type customerIn struct {
	Name, IDNumber, CustomerNumber string
}

// readCustomer validates customer: a name and exactly one of is_person, is_company, is_foreign.
func readCustomer(f *fields, m map[string]any) customerIn {
	c := f.sub(m, "customer")
	out := customerIn{Name: c.str("name", true), IDNumber: c.str("id_number", false), CustomerNumber: c.str("customer_number", false)}
	flags := 0
	for _, k := range []string{"is_person", "is_company", "is_foreign"} {
		if c.boolean(k) {
			flags++
		}
	}
	if flags != 1 {
		f.fail("customer", "exactly one of is_person, is_company and is_foreign must be true")
	}
	c.object("address", false)
	return out
}

// checkCreditor validates account and creditor against the seeded state; called with mu held.
func (s *Server) checkCreditor(f *fields, account, creditor string) *creditorRec {
	if account != "" {
		if _, ok := s.st.accounts[account]; !ok {
			f.fail("account", fmt.Sprintf("value '%s' must exist in resource 'accounts', field '_id'", account))
		}
	}
	if creditor == "" {
		return nil
	}
	cr := s.st.creditors[creditor]
	switch {
	case cr == nil:
		f.fail("creditor", fmt.Sprintf("value '%s' must exist in resource 'creditors', field '_id'", creditor))
		return nil
	case account != "" && cr.Account != account:
		f.fail("creditor", fmt.Sprintf("creditor '%s' does not belong to account '%s'", creditor, account))
		return nil
	case !cr.Active:
		f.fail("creditor", fmt.Sprintf("creditor '%s' is not active; complete onboarding before registering invoices or cases", creditor))
		return nil
	}
	return cr
}

// forcedFault returns the ByInvoiceNumber fault for any of numbers; called with mu held.
func (s *Server) forcedFault(numbers []string) string {
	for _, n := range numbers {
		v, ok := s.faults.ByInvoiceNumber[n]
		if !ok {
			continue
		}
		if base, once := strings.CutSuffix(v, "_once"); once {
			if s.fired[n] {
				continue
			}
			s.fired[n] = true
			v = base
		}
		return v
	}
	return ""
}

// commitFault draws the random commit faults; called with mu held.
func (s *Server) commitFault() string {
	f := s.faults
	if f.CommitThenFail > 0 && s.rnd.Float64() < f.CommitThenFail {
		return FaultCommitThenFail
	}
	if f.CommitThenDrop > 0 && s.rnd.Float64() < f.CommitThenDrop {
		return FaultCommitThenDrop
	}
	if f.CommitLate > 0 && s.rnd.Float64() < f.CommitLate {
		return FaultCommitLate
	}
	if f.BadBody > 0 && s.rnd.Float64() < f.BadBody {
		return FaultBadBody
	}
	return ""
}

// customerIDNumber is the request's customer.id_number as sent, or "" when it has none.
func customerIDNumber(f *fields) string {
	c, _ := f.m["customer"].(map[string]any)
	s, _ := c["id_number"].(string)
	return s
}

// preFault answers a fault that strikes before anything is stored.
func preFault(w http.ResponseWriter, fault string, numbers []string, idNumber string) {
	switch fault {
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "Internal Server Error", nil)
	case FaultReject422:
		writeError(w, http.StatusUnprocessableEntity, "Validation failed",
			map[string]string{"invoice_number": fmt.Sprintf("invoice number %s refused by the sandbox's fault injection", strings.Join(numbers, ", "))})
	case FaultReject422Huge:
		writeError(w, http.StatusUnprocessableEntity, "Validation failed:"+strings.Repeat(" the value is not accepted", 200<<10/26), nil)
	case FaultReject422QuotingID:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed for customer %s", idNumber),
			map[string]string{"customer.id_number": fmt.Sprintf("value '%s' is not accepted for this creditor", idNumber)})
	}
}

// answerCommitted sends the registration's answer, or the commit fault instead of it.
func answerCommitted(w http.ResponseWriter, fault string, v any) {
	switch fault {
	case FaultCommitThenFail:
		writeError(w, http.StatusInternalServerError, "Internal Server Error", nil)
	case FaultCommitThenDrop:
		dropConnection(w)
	case FaultBadBody:
		// Committed and acknowledged, but the ids are of the wrong type.
		v := map[string]any{"_status": "OK", "_case": 123456789, "_cases": 42, "_id": 7}
		writeJSON(w, http.StatusCreated, v)
	default:
		writeJSON(w, http.StatusCreated, v)
	}
}

// dropConnection closes the connection without an answer, as a crash after the commit would.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// admit runs what both registrations check after reading their body: account and creditor,
// then a fault forced for any of numbers. When they pass it stores the registration with commit,
// under s.mu, and answers with commit's response, through the commit fault if one is drawn.
func (s *Server) admit(w http.ResponseWriter, f *fields, account, creditor string, numbers []string,
	commit func(cr *creditorRec) map[string]any) {
	s.mu.Lock()
	cr := s.checkCreditor(f, account, creditor)
	if len(f.errs) > 0 {
		s.mu.Unlock()
		validationFailed(w, f.errs)
		return
	}
	fault := s.forcedFault(numbers)
	if fault == FaultServerError || fault == FaultReject422 || fault == FaultReject422QuotingID || fault == FaultReject422Huge {
		s.mu.Unlock()
		preFault(w, fault, numbers, customerIDNumber(f))
		return
	}
	if fault == "" {
		fault = s.commitFault()
	}
	if fault == FaultCommitLate {
		// The request is queued behind a slow backend: it is stored after the delay even when
		// the client has long given up and closed the connection.
		delay := s.faults.CommitDelay
		s.mu.Unlock()
		time.Sleep(delay)
		s.mu.Lock()
		resp := commit(cr)
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, resp)
		return
	}
	resp := commit(cr)
	s.misanswer(fault, resp)
	s.mu.Unlock()
	answerCommitted(w, fault, resp)
}

// misanswer makes a committed registration's answer wrong as FaultNoCaseID or
// FaultSharedCaseID say, and remembers its case for the next FaultSharedCaseID; called with mu
// held.
func (s *Server) misanswer(fault string, resp map[string]any) {
	own, _ := resp["_case"].(string)
	if cs, ok := resp["_cases"].([]string); ok && len(cs) > 0 {
		own = cs[0]
	}
	switch fault {
	case FaultNoCaseID:
		delete(resp, "_case")
		if cs, ok := resp["_cases"].([]string); ok && len(cs) > 0 {
			resp["_cases"] = cs[:len(cs)-1]
		}
	case FaultSharedCaseID:
		if s.lastCase != "" {
			if _, ok := resp["_case"]; ok {
				resp["_case"] = s.lastCase
			}
			if cs, ok := resp["_cases"].([]string); ok && len(cs) > 0 {
				cs = append([]string(nil), cs...)
				cs[0] = s.lastCase
				resp["_cases"] = cs
			}
		}
	}
	if own != "" {
		s.lastCase = own
	}
}

func validationFailed(w http.ResponseWriter, errs map[string]string) {
	writeError(w, http.StatusUnprocessableEntity, "Validation failed", errs)
}

func (s *Server) handleInvoiceRegistration(w http.ResponseWriter, r *http.Request) {
	body, m, ok := readObject(w, r)
	if !ok {
		return
	}
	f := newFields(m)
	account, creditor := f.str("account", true), f.str("creditor", true)
	if t := f.str("invoice_type", true); t != "" && t != "invoice" {
		f.fail("invoice_type", fmt.Sprintf("unallowed value %s", t))
	}
	number := f.str("invoice_number", true)
	invDate := f.date("invoice_date", true)
	dueDate := f.date("invoice_due_date", true)
	f.date("invoice_delivery_date", false)
	currency := f.currency("currency", true)
	for _, k := range []string{"reference_number", "payout_reference", "invoice_headline", "invoice_body_text",
		"your_contact", "your_reference", "our_reference", "debt_description"} {
		f.str(k, false)
	}
	var cust customerIn
	if cm := f.object("customer", false); cm != nil {
		cust = readCustomer(f, cm)
	}
	total := readMatrix(f)
	numbers := []string{number}

	s.admit(w, f, account, creditor, numbers, func(cr *creditorRec) map[string]any {
		st := s.st
		regID, invoiceID := st.newID(), st.newID()
		due := max(0, int(math.Round(dueDate.Sub(invDate.Truncate(24*time.Hour)).Hours()/24)))
		c := st.newCaseRec(cr, currency, cust, debtRec{
			InvoiceNumber: number, InvoiceDate: invDate, DueDays: due, InitialCapital: total,
			CapitalToClaim: total, Description: f.str("debt_description", false),
			PayoutReference: f.str("payout_reference", false),
		}, invDate.Truncate(24*time.Hour))
		c.Invoice, c.InvoiceRegistration = invoiceID, regID
		if ref := f.str("reference_number", false); ref != "" {
			c.ReferenceNumber = ref
		}
		st.addCase(c)
		now := s.now().UTC()
		st.received = append(st.received, Received{Kind: "invoice", ID: regID, Body: append(json.RawMessage(nil), body...),
			InvoiceNumbers: numbers, CaseIDs: []string{c.ID}, At: now})
		st.regCount[creditor+"\x00"+number]++
		return map[string]any{
			"_updated": fmtDate(now), "_created": fmtDate(now), "_etag": st.etag(regID), "_id": regID,
			"_status": "OK", "_invoice": invoiceID, "_case": c.ID, "_ocr_number": c.OCRID, "ocr_number_ocr": c.OCR,
		}
	})
}

// readMatrix validates the invoice lines and returns their total including VAT.
func readMatrix(f *fields) domain.Amount {
	var total domain.Amount
	for i, v := range f.list("matrix", true) {
		lm, ok := v.(map[string]any)
		if !ok {
			f.fail(fmt.Sprintf("matrix.%d", i), "must be of dict type")
			continue
		}
		l := f.sub(lm, fmt.Sprintf("matrix.%d", i))
		l.str("article_description", false)
		l.str("article_number", false)
		unit := l.amount("unit_price", false)
		net := l.amount("total_price_excluding_vat", false)
		if !l.has("total_price_excluding_vat") {
			units := 1.0
			if l.has("number_of_units") {
				q, ok := quantityOf(lm["number_of_units"])
				if !ok {
					l.fail("number_of_units", "must be of number type")
				}
				units = q
			}
			net = domain.Amount(math.Round(float64(unit) * units))
		}
		var pct int64
		if l.has("unit_vat_percent") {
			p, err := vatPercent(l.str("unit_vat_percent", false))
			if err != nil {
				l.fail("unit_vat_percent", err.Error())
			}
			pct = p
		}
		total += addVAT(net, pct)
	}
	return total
}

func (s *Server) handleCaseRegistration(w http.ResponseWriter, r *http.Request) {
	body, m, ok := readObject(w, r)
	if !ok {
		return
	}
	f := newFields(m)
	account, creditor := f.str("account", true), f.str("creditor", true)
	f.str("first_action", true)
	currency := f.currency("currency", true)
	var cust customerIn
	if cm := f.object("customer", true); cm != nil {
		cust = readCustomer(f, cm)
	}
	var debts []debtRec
	var numbers []string
	for i, v := range f.list("debts", true) {
		dm, ok := v.(map[string]any)
		if !ok {
			f.fail(fmt.Sprintf("debts.%d", i), "must be of dict type")
			continue
		}
		d := f.sub(dm, fmt.Sprintf("debts.%d", i))
		rec := debtRec{
			InvoiceNumber: d.str("invoice_number", true),
			Description:   d.str("debt_description", false),
			InvoiceDate:   d.date("invoice_date", true),
			DueDays:       d.integer("invoice_due_days_after_invoice_date", true),
		}
		rec.CapitalToClaim = d.amount("capital_to_claim", true)
		if d.has("capital_to_claim") && rec.CapitalToClaim <= 0 {
			d.fail("capital_to_claim", "must be greater than 0")
		}
		if rec.DueDays < 0 {
			d.fail("invoice_due_days_after_invoice_date", "min value is 0")
		}
		if fm := d.object("fees_included_in_capital_to_claim", false); fm != nil {
			d.sub(fm, "fees_included_in_capital_to_claim").amount("invoice_fee", false)
		}
		if fm := d.object("fees_already_claimed", false); fm != nil {
			fc := d.sub(fm, "fees_already_claimed")
			if rm := fc.object("reminder", false); rm != nil {
				rc := fc.sub(rm, "reminder")
				rc.amount("amount", true)
				rc.date("fee_registration_date", false)
			}
		}
		rec.InitialCapital = rec.CapitalToClaim
		debts = append(debts, rec)
		numbers = append(numbers, rec.InvoiceNumber)
	}

	s.admit(w, f, account, creditor, numbers, func(cr *creditorRec) map[string]any {
		st := s.st
		regID := st.newID()
		var caseIDs, ocrIDs, ocrs []string
		for _, d := range debts {
			c := st.newCaseRec(cr, currency, cust, d, d.InvoiceDate.Truncate(24*time.Hour))
			c.CaseRegistration = regID
			st.addCase(c)
			st.regCount[creditor+"\x00"+d.InvoiceNumber]++
			caseIDs, ocrIDs, ocrs = append(caseIDs, c.ID), append(ocrIDs, c.OCRID), append(ocrs, c.OCR)
		}
		now := s.now().UTC()
		st.received = append(st.received, Received{Kind: "case", ID: regID, Body: append(json.RawMessage(nil), body...),
			InvoiceNumbers: numbers, CaseIDs: caseIDs, At: now})
		return map[string]any{
			"_updated": fmtDate(now), "_created": fmtDate(now), "_etag": st.etag(regID), "_id": regID,
			"_status": "OK", "_cases": caseIDs, "_ocr_numbers": ocrIDs, "_ocr_numbers_ocr": ocrs,
		}
	})
}
