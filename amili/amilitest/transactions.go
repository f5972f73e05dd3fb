package amilitest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Payments, creditings and cancellations change a case the way case-flow.txt shows: a payment
// of the whole remaining capital closes the case with reason fully_paid_depreciation (what is
// left of interest and costs is written off), a crediting reduces the capital (all of it closes
// the case as fully_credited), a cancellation closes it as cancelled_by_creditor.

// Close reasons the sandbox sets.
const (
	ReasonFullyPaid = "fully_paid_depreciation"
	ReasonCredited  = "fully_credited"
	ReasonCancelled = "cancelled_by_creditor"
)

// txKind is one of the three creditor transactions.
type txKind struct {
	statusField string // _payment_status, ...
	amount      bool   // whether amount is required
	bankDate    bool   // whether bank_transaction_date is required
	currency    bool   // whether currency is required
}

var (
	paymentKind      = txKind{statusField: "_payment_status", amount: true, bankDate: true, currency: true}
	creditingKind    = txKind{statusField: "_crediting_status", amount: true}
	cancellationKind = txKind{statusField: "_cancellation_status"}
)

func (s *Server) handlePayment(w http.ResponseWriter, r *http.Request) {
	s.creditorTx(w, r, paymentKind)
}

func (s *Server) handleCrediting(w http.ResponseWriter, r *http.Request) {
	s.creditorTx(w, r, creditingKind)
}

func (s *Server) handleCancellation(w http.ResponseWriter, r *http.Request) {
	s.creditorTx(w, r, cancellationKind)
}

// txRequest is a creditor transaction's fields as the request gave them.
type txRequest struct {
	account, creditor string
	caseID, number    string // a valid request sets exactly one
	currency          string
	amount            domain.Amount
	bankDate          time.Time
	paymentRef        string // creditor_payment_reference
	creditorRef       string // creditor_reference
	creditInvoice     string // credit_invoice
}

func (s *Server) creditorTx(w http.ResponseWriter, r *http.Request, k txKind) {
	_, m, ok := readObject(w, r)
	if !ok {
		return
	}
	f := newFields(m)
	tx := decodeTx(f, k)

	s.mu.Lock()
	st := s.st
	c := st.txCase(f, k, tx)
	if len(f.errs) > 0 {
		s.mu.Unlock()
		validationFailed(w, f.errs)
		return
	}
	keys := tx.faultKeys(c)
	fault := s.forcedFault(keys)
	if fault == FaultServerError || fault == FaultReject422 || fault == FaultReject422QuotingID || fault == FaultReject422Huge {
		s.mu.Unlock()
		preFault(w, fault, keys, "")
		return
	}
	if fault == "" {
		fault = s.commitFault()
	}
	commit := func() map[string]any {
		now := s.now().UTC()
		id := st.newID()
		result := applyTx(c, k, tx, now, id)
		st.touch(c)
		st.recordEvent(k, tx, c, id, result, now)
		return map[string]any{
			"_updated": fmtDate(now), "_created": fmtDate(now), "_etag": st.etag(id), "_id": id,
			"_status": "OK", k.statusField: result,
		}
	}
	if fault == FaultCommitLate {
		// Queued behind a slow backend: applied after the delay even when the client has gone.
		delay := s.faults.CommitDelay
		s.mu.Unlock()
		time.Sleep(delay)
		s.mu.Lock()
		if c.Closed != nil && k.amount {
			s.mu.Unlock()
			validationFailed(w, map[string]string{"case": "the case is closed"})
			return
		}
		resp := commit()
		s.mu.Unlock()
		writeJSON(w, http.StatusCreated, resp)
		return
	}
	resp := commit()
	s.mu.Unlock()
	answerCommitted(w, fault, resp)
}

// faultKeys are the names Faults.ByInvoiceNumber may use for a transaction: its references
// and the invoice number of its case.
func (tx txRequest) faultKeys(c *caseRec) []string {
	var keys []string
	for _, k := range []string{tx.paymentRef, tx.creditorRef, tx.creditInvoice, tx.number} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	if c != nil && c.Debt.InvoiceNumber != "" && c.Debt.InvoiceNumber != tx.number {
		keys = append(keys, c.Debt.InvoiceNumber)
	}
	return keys
}

// decodeTx reads the fields of a transaction of kind k, recording in f what is missing or
// malformed.
func decodeTx(f *fields, k txKind) txRequest {
	var tx txRequest
	tx.account = f.str("account", false)
	tx.creditor = f.str("creditor", true)
	tx.caseID, tx.number = f.str("case", false), f.str("invoice_number", false)
	if (tx.caseID == "") == (tx.number == "") {
		f.fail("case", "give exactly one of case and invoice_number")
	}
	tx.currency = f.currency("currency", k.currency)
	if k.amount {
		tx.amount = f.amount("amount", true)
		if f.has("amount") && tx.amount <= 0 {
			f.fail("amount", "must be greater than 0")
		}
	}
	tx.bankDate = f.date("bank_transaction_date", k.bankDate)
	f.date("client_registration_date", false)
	if o := f.str("origin", false); o != "" && o != "creditor_system" {
		f.fail("origin", fmt.Sprintf("unallowed value %s", o))
	}
	tx.paymentRef = f.str("creditor_payment_reference", false)
	tx.creditInvoice = f.str("credit_invoice", false)
	tx.creditorRef = f.str("creditor_reference", false)
	return tx
}

// txCase checks the transaction's account and creditor exist and, when the request is valid so
// far, finds its case and checks the transaction may apply to it; what is wrong is recorded in
// f. The caller holds s.mu.
func (st *store) txCase(f *fields, k txKind, tx txRequest) *caseRec {
	if tx.account != "" {
		if _, ok := st.accounts[tx.account]; !ok {
			f.fail("account", fmt.Sprintf("value '%s' must exist in resource 'accounts', field '_id'", tx.account))
		}
	}
	if tx.creditor != "" && st.creditors[tx.creditor] == nil {
		f.fail("creditor", fmt.Sprintf("value '%s' must exist in resource 'creditors', field '_id'", tx.creditor))
	}
	if len(f.errs) > 0 {
		return nil
	}
	c := st.findCase(tx.creditor, tx.caseID, tx.number)
	switch {
	case c == nil && tx.caseID != "":
		f.fail("case", fmt.Sprintf("value '%s' must exist in resource 'cases' for this creditor", tx.caseID))
	case c == nil:
		f.fail("invoice_number", fmt.Sprintf("no case with invoice number '%s' for this creditor", tx.number))
	case tx.currency != "" && tx.currency != c.Currency:
		f.fail("currency", fmt.Sprintf("the case is in %s", c.Currency))
	case k.amount && c.Closed != nil:
		f.fail("case", "the case is closed")
	case k.amount && tx.amount > c.RemCapital:
		f.fail("amount", fmt.Sprintf("%s is more than the %s capital that remains on the case", tx.amount, c.RemCapital))
	}
	return c
}

// applyTx changes c by the transaction as case-flow.txt shows and returns the result for the
// kind's status field: "completed", or "warning" for cancelling a case already closed.
func applyTx(c *caseRec, k txKind, tx txRequest, now time.Time, id string) string {
	result := "completed"
	switch k {
	case paymentKind:
		c.reduceCapital(tx.amount, tx.bankDate, now, "creditor_payment.payment_settled", "creditor_payment", id)
		if c.RemCapital == 0 {
			c.close(now, ReasonFullyPaid)
		}
	case creditingKind:
		c.reduceCapital(tx.amount, now.Truncate(24*time.Hour), now, "creditor_crediting.crediting_settled", "", "")
		if c.RemCapital == 0 {
			c.close(now, ReasonCredited)
		}
	case cancellationKind:
		if c.Closed != nil {
			result = "warning"
		} else {
			c.close(now, ReasonCancelled)
		}
	}
	return result
}
