package importer

import (
	"context"
	"fmt"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// submit takes one registration through the ledger's state machine. Its PDFs are opened and
// it is claimed before it takes one of slots; the calls to Amili happen while it holds it.
func (f *fileRun) submit(ctx context.Context, reg *domain.Registration, slots chan struct{}) {
	imp := f.imp
	s, done := f.newSub(ctx, reg)
	defer done()

	// PDFs are opened and checked before the claim: under pdf: required a row whose PDF is
	// missing or bad is refused before anything is recorded as sent.
	s.openPDFs()
	if imp.job.PDF == PDFRequired && s.refusePDFs() {
		return
	}
	if ctx.Err() != nil {
		f.leaveUnfinished()
		return
	}

	claim, err := imp.deps.Ledger.Claim(s.lctx, f.claimRequest(reg))
	if err != nil {
		s.ledgerFailed("claim", err)
		return
	}
	s.handle(claim, slots)
}

// claimRequest is the ledger's claim for one registration of this file in this run.
func (f *fileRun) claimRequest(reg *domain.Registration) ledger.ClaimRequest {
	return ledger.ClaimRequest{Owner: f.imp.deps.Owner, Run: f.imp.run, File: f.id, Line: reg.Line, Kind: reg.Kind,
		Creditor: reg.Creditor(), Items: reg.ClaimItems()}
}

// openPDFs opens and checks each item's PDF; the problems are kept per item.
func (s *sub) openPDFs() {
	for i, it := range s.reg.Items {
		if s.pdfErrs[i] != nil || s.pdfs[i] != nil {
			continue
		}
		s.pdfs[i], s.pdfErrs[i] = openPDF(s.ctx, s.f.src, it.PDF, s.f.imp.job.PDFMaxSize)
	}
}

// refusePDFs records the PDF problems of a registration as row errors and reports whether
// there were any: under pdf: required such a row is never sent.
func (s *sub) refusePDFs() bool {
	for _, err := range s.pdfErrs {
		if transientPDF(err) {
			// Not the row's fault: nothing is claimed, the file stays for the next run.
			s.log.Warn("PDF cannot be read now; row left for the next run", "err", err)
			s.f.add(func(c *domain.Counts) { c.Failed++ })
			s.f.leaveUnfinished()
			return true
		}
	}
	var errs []domain.RowError
	for i, err := range s.pdfErrs {
		if err == nil {
			continue
		}
		errs = append(errs, domain.RowError{
			File: s.reg.File, Line: s.reg.Line, Column: "pdf_file", Value: s.reg.Items[i].PDF,
			Rule: err.Error(), InvoiceNumber: s.reg.Items[i].InvoiceNumber,
		})
	}
	if len(errs) == 0 {
		return false
	}
	if err := s.f.imp.deps.Ledger.RecordRowErrors(s.lctx, s.f.id, errs); err != nil {
		s.ledgerFailed("record row errors", err)
		return true
	}
	s.f.reject(reasonOf(errs[0]))
	s.log.Info("row rejected: PDF", "reason", errs[0].Rule)
	return true
}

// handle does what the claim says, holding one of slots while it calls Amili.
func (s *sub) handle(claim ledger.Claim, slots chan struct{}) {
	f := s.f
	s.id = claim.Submission.ID
	if claim.TakenOver != "" {
		s.log.Warn("taking over a registration from a process that is gone", "from", claim.TakenOver, "state", claim.Submission.State)
	}
	if claim.Outcome != ledger.ClaimDone && claim.Outcome != ledger.ClaimConflict && claim.Outcome != ledger.ClaimBusy {
		if !acquire(s.ctx, slots) {
			f.leaveUnfinished()
			return
		}
		defer release(slots)
	}
	switch claim.Outcome {
	case ledger.ClaimDone:
		f.countDone(claim.Submission.State)
	case ledger.ClaimBusy:
		s.pending("being sent by another process; left to it", "holder", claim.Holder.String())
	case ledger.ClaimConflict:
		f.add(func(c *domain.Counts) { c.Conflicts++ })
		s.log.Warn("invoice number already imported with other content; not sent",
			"conflict_invoice_number", claim.ConflictItem, "old_hash", claim.OldHash, "new_hash", claim.NewHash)
	case ledger.ClaimInDoubt:
		s.resolve()
	case ledger.ClaimResume:
		switch claim.Submission.State {
		case ledger.StateRegistered:
			f.add(func(c *domain.Counts) { c.Resumed++ })
			s.upload(claim.Submission.Items)
		case ledger.StateSending:
			s.resolve()
		default:
			s.send()
		}
	case ledger.ClaimNew:
		s.send()
	default:
		s.ledgerFailed("claim", fmt.Errorf("unknown claim outcome %d", claim.Outcome))
	}
}
