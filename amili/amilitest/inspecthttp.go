package amilitest

import (
	"net/http"
	"slices"
	"strings"
)

// InspectPath is the read-only debug endpoint a sandbox serves when Options.Inspect is set: what
// the sandbox received and holds, for tests whose sandbox runs in another process (the
// "sandbox" verb's --inspect flag). It bypasses latency, rate limits, faults and auth.
const InspectPath = "/_sandbox/state"

// State is the body of GET InspectPath: the inspection methods' answers in one document.
type State struct {
	// Registrations are every registration stored, in arrival order, without their bodies.
	Registrations []StateRegistration `json:"registrations"`
	// Counts are how many times each invoice number was registered, per creditor.
	Counts []StateCount `json:"registration_counts"`
	// Cases are every case held, with the files uploaded to it.
	Cases []StateCase `json:"cases"`
	// IssuedTokens are the access tokens the auth endpoints handed out, so that a test can
	// check that none of them reached a log.
	IssuedTokens []string `json:"issued_tokens"`
	// Calls are requests by "METHOD /path-template"; Statuses responses by status code.
	Calls    map[string]int `json:"calls"`
	Statuses map[int]int    `json:"statuses"`
}

// StateRegistration is one stored registration.
type StateRegistration struct {
	Kind           string   `json:"kind"`
	ID             string   `json:"id"`
	InvoiceNumbers []string `json:"invoice_numbers"`
	CaseIDs        []string `json:"case_ids"`
}

// StateCount is how often one creditor's invoice number was registered.
type StateCount struct {
	Creditor      string `json:"creditor"`
	InvoiceNumber string `json:"invoice_number"`
	Count         int    `json:"count"`
}

// StateCase is one case and its uploads.
type StateCase struct {
	ID            string   `json:"id"`
	Creditor      string   `json:"creditor"`
	InvoiceNumber string   `json:"invoice_number"`
	Uploads       []Upload `json:"uploads"`
}

// State returns what GET InspectPath serves.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Calls: map[string]int{}, Statuses: map[int]int{}}
	for _, r := range s.st.received {
		st.Registrations = append(st.Registrations, StateRegistration{
			Kind: r.Kind, ID: r.ID,
			InvoiceNumbers: append([]string(nil), r.InvoiceNumbers...),
			CaseIDs:        append([]string(nil), r.CaseIDs...),
		})
	}
	for k, n := range s.st.regCount {
		cred, num, _ := strings.Cut(k, "\x00")
		st.Counts = append(st.Counts, StateCount{Creditor: cred, InvoiceNumber: num, Count: n})
	}
	slices.SortFunc(st.Counts, func(a, b StateCount) int {
		return strings.Compare(a.Creditor+"\x00"+a.InvoiceNumber, b.Creditor+"\x00"+b.InvoiceNumber)
	})
	for _, c := range s.st.order {
		ac := c.toAmili()
		st.Cases = append(st.Cases, StateCase{ID: ac.ID, Creditor: ac.Creditor, InvoiceNumber: ac.Debt.InvoiceNumber,
			Uploads: append([]Upload(nil), s.st.uploads[ac.ID]...)})
	}
	for tok := range s.tokens {
		st.IssuedTokens = append(st.IssuedTokens, tok)
	}
	slices.Sort(st.IssuedTokens)
	for k, v := range s.calls {
		st.Calls[k] = v
	}
	for k, v := range s.statuses {
		st.Statuses[k] = v
	}
	return st
}

func (s *Server) handleInspect(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.State())
}
