package importer

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// lookupPageSize is Amili's largest page: one GET /cases covers a registration of up to 100
// invoice numbers.
const lookupPageSize = 100

// resolve looks up a registration whose outcome is unknown, with one GET /cases for all its
// invoice numbers. Found in full: its ids are recorded and its PDFs uploaded. Found in part:
// rejected for a person to resolve. Not found: the ledger's in-doubt rule decides (see
// ledger.ResolveNotFound): within the grace period, or once Amili accepted it, it stays in
// doubt for a later run; after the grace it is sent again (once per run).
func (s *sub) resolve() {
	L := s.f.imp.deps.Ledger
	found, err := s.lookup()
	if err != nil {
		s.log.Warn("in-doubt lookup failed; left for the next run", "err", err)
		if amili.ClassOf(err) == amili.Unauthorized {
			s.f.imp.fail(fmt.Errorf("%w: %w", ErrCannotStart, err))
		}
		s.failure("in-doubt lookup: " + err.Error())
		return
	}
	switch {
	case len(found) == len(s.reg.Items):
		s.recover(found)
	case len(found) == 0:
		nf, err := L.ResolveNotFound(s.lctx, s.id, s.f.imp.deps.Owner, s.f.imp.job.InDoubtGrace)
		switch {
		case errors.Is(err, ledger.ErrFenced):
			s.pending("in doubt and taken over by another process", "err", err)
			return
		case err != nil:
			s.ledgerFailed("resolve not found", err)
			return
		case nf.Settled != "":
			s.pending("recorded meanwhile by another process or a late answer", "state", nf.Settled)
			return
		case nf.Accepted:
			s.pending("accepted by Amili but not found there yet; never sent again, looked up again on the next run")
			return
		case !nf.Resend:
			s.pending("not found at Amili, but the request may still land; looked up again by a later run",
				"in_doubt_until", nf.Until.Format(time.RFC3339))
			return
		}
		if s.resends > 0 {
			s.failure("not found at Amili after an unknown outcome") // at most one more send per run
			return
		}
		s.resends++
		s.f.add(func(c *domain.Counts) { c.InDoubtResolved++ })
		s.log.Info("in doubt past its grace period and not found at Amili: sending it again")
		s.send()
	default:
		missing := make([]string, 0, len(s.reg.Items))
		for _, it := range s.reg.Items {
			if _, ok := found[it.InvoiceNumber]; !ok {
				missing = append(missing, it.InvoiceNumber)
			}
		}
		reason := fmt.Sprintf("in doubt and only partly found at Amili (%d of %d invoice numbers; missing %v): resolve by hand",
			len(found), len(s.reg.Items), missing)
		if err := L.MarkRejected(s.lctx, s.id, reason); err != nil {
			s.ledgerFailed("mark rejected", err)
			return
		}
		s.f.reject("in doubt and only partly found at Amili: resolve by hand")
		s.log.Error("in-doubt registration partly found at Amili", "found", len(found), "items", len(s.reg.Items))
	}
}

// recover records a registration found at Amili after an unknown outcome, marks the PDFs Amili
// already holds, and uploads the rest, as the ledger now has them (another process may have
// recorded some of it meanwhile).
func (s *sub) recover(found map[string]amili.Case) {
	L := s.f.imp.deps.Ledger
	if err := L.MarkRegistered(s.lctx, s.id, recovered(s.reg, found)); err != nil {
		s.registeredFailed(err)
		return
	}
	s.f.add(func(c *domain.Counts) { c.Registered++; c.InDoubtResolved++ })
	s.log.Info("in-doubt registration found at Amili", "cases", len(found))
	for i, it := range s.reg.Items {
		if cs, ok := found[it.InvoiceNumber]; ok && cs.OriginalInvoice != nil {
			// Attached before the answer was lost: do not upload it twice.
			if _, err := L.MarkPDF(s.lctx, s.id, i, ledger.PDFUploaded, ""); err == nil {
				s.f.add(func(c *domain.Counts) { c.PDFsAttached++ })
			}
		}
	}
	sub, err := L.Submission(s.lctx, s.id)
	if err != nil {
		s.ledgerFailed("read submission", err)
		return
	}
	if sub.State == ledger.StateRegistered {
		s.upload(sub.Items)
	}
}

// lookup finds the cases Amili holds for the registration's invoice numbers, keyed by invoice
// number. One call for up to 100 invoice numbers.
func (s *sub) lookup() (map[string]amili.Case, error) {
	nums := make([]string, len(s.reg.Items))
	for i, it := range s.reg.Items {
		nums[i] = it.InvoiceNumber
	}
	creditor := s.reg.Creditor()
	found := map[string]amili.Case{}
	for start := 0; start < len(nums); start += lookupPageSize {
		chunk := nums[start:min(start+lookupPageSize, len(nums))]
		list, err := s.f.imp.deps.Client.FindCases(s.lctx, amili.CaseQuery{
			Where: map[string]any{
				"creditor":            creditor,
				"debt.invoice_number": map[string]any{"$in": chunk},
			},
			MaxResults: lookupPageSize,
		})
		if err != nil {
			return nil, err
		}
		for _, cs := range list.Items {
			if cs.Creditor != "" && cs.Creditor != creditor {
				continue
			}
			if slices.Contains(chunk, cs.Debt.InvoiceNumber) {
				found[cs.Debt.InvoiceNumber] = cs
			}
		}
	}
	return found, nil
}

// recovered builds the ids of a registration from the cases found for it. The OCR number is
// left empty: only the registration's answer carries it, and Amili's case view does not (its
// reference_number is another number).
func recovered(reg *domain.Registration, found map[string]amili.Case) ledger.Registered {
	out := ledger.Registered{Recovered: true, Cases: make([]ledger.CaseRef, len(reg.Items))}
	for i, it := range reg.Items {
		cs := found[it.InvoiceNumber]
		out.Cases[i] = ledger.CaseRef{CaseID: cs.ID}
		if out.RegistrationID == "" {
			if reg.Kind == domain.KindInvoice {
				out.RegistrationID = cs.InvoiceRegistration
			} else {
				out.RegistrationID = cs.CaseRegistration
			}
		}
		if out.InvoiceID == "" {
			out.InvoiceID = cs.Invoice
		}
	}
	return out
}
