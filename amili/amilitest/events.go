package amilitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Payments, creditings and cancellations are documents of their own resource, as Eve keeps
// every POSTed document: GET on the resource's path lists them, filtered by where (equality on
// top-level fields: creditor, case, invoice_number, creditor_payment_reference,
// creditor_reference, credit_invoice, _id), paged like GET /cases. The case field is the case
// the event applied to, also when the request named the invoice number. Faults.ListLag keeps a
// new event out of the listing for as long as it keeps a new case out of GET /cases.

// ReceivedEvent is one payment, crediting or cancellation the sandbox applied, in arrival order.
type ReceivedEvent struct {
	Kind          domain.Kind
	ID            string
	Creditor      string
	Case          string // the case it applied to
	InvoiceNumber string // as the request named it ("" when it named the case)
	Amount        domain.Amount
	Currency      string
	// Reference is creditor_payment_reference, or creditor_reference, else credit_invoice.
	Reference string
	Status    string // completed or warning
	At        time.Time
}

type eventRec struct {
	ReceivedEvent
	paymentRef, creditorRef, creditInvoice string
}

func (k txKind) domainKind() domain.Kind {
	switch k {
	case paymentKind:
		return domain.KindPayment
	case creditingKind:
		return domain.KindCrediting
	}
	return domain.KindCancellation
}

// recordEvent keeps an applied transaction for listings and Events; called with s.mu held.
func (st *store) recordEvent(k txKind, tx txRequest, c *caseRec, id, status string, now time.Time) {
	ref := tx.paymentRef
	if k == creditingKind {
		ref = tx.creditorRef
		if ref == "" {
			ref = tx.creditInvoice
		}
	}
	st.events = append(st.events, &eventRec{
		ReceivedEvent: ReceivedEvent{Kind: k.domainKind(), ID: id, Creditor: tx.creditor, Case: c.ID,
			InvoiceNumber: tx.number, Amount: tx.amount, Currency: tx.currency, Reference: ref, Status: status, At: now},
		paymentRef: tx.paymentRef, creditorRef: tx.creditorRef, creditInvoice: tx.creditInvoice,
	})
}

// Events returns every payment, crediting and cancellation applied so far, in arrival order.
func (s *Server) Events() []ReceivedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ReceivedEvent, len(s.st.events))
	for i, e := range s.st.events {
		out[i] = e.ReceivedEvent
	}
	return out
}

// doc is the event as its resource lists it.
func (e *eventRec) doc() map[string]any {
	d := map[string]any{
		"_id": e.ID, "_created": fmtDate(e.At), "_updated": fmtDate(e.At),
		"creditor": e.Creditor, "case": e.Case, "origin": domain.OriginCreditorSystem,
	}
	if e.InvoiceNumber != "" {
		d["invoice_number"] = e.InvoiceNumber
	}
	if e.Kind != domain.KindCancellation {
		d["amount"] = e.Amount
		d["currency"] = e.Currency
	}
	for k, v := range map[string]string{"creditor_payment_reference": e.paymentRef,
		"creditor_reference": e.creditorRef, "credit_invoice": e.creditInvoice} {
		if v != "" {
			d[k] = v
		}
	}
	switch e.Kind {
	case domain.KindPayment:
		d["_payment_status"] = e.Status
	case domain.KindCrediting:
		d["_crediting_status"] = e.Status
	default:
		d["_cancellation_status"] = e.Status
	}
	return d
}

func (s *Server) handleListPayments(w http.ResponseWriter, r *http.Request) {
	s.listEvents(w, r, domain.KindPayment)
}

func (s *Server) handleListCreditings(w http.ResponseWriter, r *http.Request) {
	s.listEvents(w, r, domain.KindCrediting)
}

func (s *Server) handleListCancellations(w http.ResponseWriter, r *http.Request) {
	s.listEvents(w, r, domain.KindCancellation)
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, kind domain.Kind) {
	q := r.URL.Query()
	where := map[string]any{}
	if ws := q.Get("where"); ws != "" {
		dec := json.NewDecoder(strings.NewReader(ws))
		dec.UseNumber()
		if err := dec.Decode(&where); err != nil {
			writeError(w, http.StatusBadRequest, "Unable to parse `where` clause: "+err.Error(), nil)
			return
		}
	}
	want := make(map[string]string, len(where))
	for k, v := range where {
		sv, ok := v.(string)
		if !ok || strings.HasPrefix(k, "$") {
			writeError(w, http.StatusBadRequest, "Unable to parse `where` clause: only equality on a string field is supported here", nil)
			return
		}
		want[k] = sv
	}
	page, err := positiveParam(q.Get("page"), 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad page: "+err.Error(), nil)
		return
	}
	maxResults, err := positiveParam(q.Get("max_results"), defaultMaxResults)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad max_results: "+err.Error(), nil)
		return
	}
	maxResults = min(maxResults, maxMaxResults)

	s.mu.Lock()
	lagged := s.now().Add(-s.faults.ListLag)
	var matched []map[string]any
	for _, e := range s.st.events {
		if e.Kind != kind || (s.faults.ListLag > 0 && e.At.After(lagged)) {
			continue
		}
		d := e.doc()
		ok := true
		for k, v := range want {
			if got, _ := d[k].(string); got != v {
				ok = false
				break
			}
		}
		if ok {
			matched = append(matched, d)
		}
	}
	s.mu.Unlock()
	items := []map[string]any{}
	if from := (page - 1) * maxResults; from < len(matched) {
		items = matched[from:min(from+maxResults, len(matched))]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_items": items,
		"_meta":  map[string]int{"page": page, "max_results": maxResults, "total": len(matched)},
	})
}
