package amilitest

import (
	"encoding/json"
	"maps"

	"github.com/amili-import/amili-import/amili"
)

// The methods below let a test see what the sandbox received and holds. Each returns a copy,
// safe to keep while the server goes on.

// Registrations returns every registration stored, in arrival order (including those answered
// with an injected commit fault).
func (s *Server) Registrations() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.st.received))
	for i, r := range s.st.received {
		r.Body = append(json.RawMessage(nil), r.Body...)
		r.InvoiceNumbers = append([]string(nil), r.InvoiceNumbers...)
		r.CaseIDs = append([]string(nil), r.CaseIDs...)
		out[i] = r
	}
	return out
}

// RegistrationCount returns how many times invoiceNumber was registered for creditor, as an
// invoice or as a debt of a case registration. More than one means a duplicate.
func (s *Server) RegistrationCount(creditor, invoiceNumber string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.regCount[creditor+"\x00"+invoiceNumber]
}

// Cases returns every case held, in creation order.
func (s *Server) Cases() []amili.Case {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]amili.Case, len(s.st.order))
	for i, c := range s.st.order {
		out[i] = c.toAmili()
	}
	return out
}

// Uploads returns the files uploaded to one case, in order.
func (s *Server) Uploads(caseID string) []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.st.uploads[caseID]...)
}

// Calls returns requests by "METHOD /path-template", e.g. "POST /invoice--registrations"
// (the guides' alternate spellings count under the reference spelling).
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// StatusCounts returns responses by status code. A dropped connection has no status and is
// not counted.
func (s *Server) StatusCounts() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.statuses)
}
