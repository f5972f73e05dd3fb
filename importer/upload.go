package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// itemsFromRegistered is the items of a just-registered submission, each PDF pending.
func itemsFromRegistered(items []domain.Item, r ledger.Registered) []ledger.SubmissionItem {
	out := make([]ledger.SubmissionItem, len(items))
	for i, it := range items {
		out[i] = ledger.SubmissionItem{Item: it, PDFState: ledger.PDFPending}
		if i < len(r.Cases) {
			out[i].CaseID, out[i].OCRNumber = r.Cases[i].CaseID, r.Cases[i].OCRNumber
		}
	}
	return out
}

// upload attaches each item's PDF still pending to the item's own case. A permanent refusal
// marks the PDF missing with the reason; a transient one leaves it pending for the next run.
func (s *sub) upload(items []ledger.SubmissionItem) {
	imp := s.f.imp
	L := imp.deps.Ledger
	for i, it := range items {
		if it.PDFState != "" && it.PDFState != ledger.PDFPending {
			continue
		}
		if s.ctx.Err() != nil || imp.stopped() != nil {
			s.f.leaveUnfinished() // the PDF stays pending; the next run uploads it
			return
		}
		var p *pdfFile
		var why error
		if i < len(s.pdfs) {
			p, why = s.pdfs[i], s.pdfErrs[i]
		}
		if p == nil && transientPDF(why) {
			// The PDF stays pending: the next run opens it again and uploads it.
			s.log.Warn("PDF cannot be read now; left pending", "err", why)
			s.failure("PDF: " + why.Error())
			continue
		}
		if it.CaseID == "" {
			why, p = errors.New("no case returned by Amili for this invoice number"), nil
		}
		if p == nil {
			if why == nil {
				why = errors.New("no PDF")
			}
			s.missingPDF(i, why.Error())
			continue
		}
		if !it.PDFAttemptAt.IsZero() {
			// An upload may have reached Amili before the process ended: ask the case first.
			if attached, ok := s.attachedBefore(i, it.CaseID); !ok {
				return
			} else if attached {
				continue
			}
		}
		ctx := amili.WithBeforeSend(s.lctx, func(context.Context) (time.Time, error) {
			if s.ctx.Err() != nil {
				return time.Time{}, fmt.Errorf("run stopped: %w", context.Cause(s.ctx))
			}
			at, err := L.MarkPDFSending(s.lctx, s.id, i, imp.deps.Owner)
			switch {
			case errors.Is(err, ledger.ErrFenced), errors.Is(err, ledger.ErrIllegalTransition):
				return time.Time{}, fmt.Errorf("%w: %w", ledger.ErrFenced, err) // someone else's now
			case err != nil:
				return time.Time{}, &ledgerError{op: "mark PDF sending", err: err}
			}
			return sendBy(at, imp.job.InDoubtGrace), nil
		})
		_, err := imp.deps.Client.UploadOriginalInvoice(ctx, it.CaseID, p.filename(), p.opener(s.lctx, s.f.src))
		switch {
		case errors.Is(err, amili.ErrNotSent):
			s.marked = false // an upload's mark needs no undoing: the case is asked before the next one
			s.notSent(err)
			return
		case err == nil:
			if _, err := L.MarkPDF(s.lctx, s.id, i, ledger.PDFUploaded, ""); err != nil {
				s.recordFailed("mark PDF", err)
				return
			}
			s.f.add(func(c *domain.Counts) { c.PDFsAttached++ })
		case errors.Is(err, errPDFTooLarge) || amili.ClassOf(err) == amili.Permanent:
			s.log.Warn("PDF refused", "err", err)
			s.missingPDF(i, fmt.Sprintf("upload refused: %v", err))
		case amili.ClassOf(err) == amili.Unauthorized:
			imp.fail(fmt.Errorf("%w: %w", ErrCannotStart, err))
			s.f.leaveUnfinished()
			return
		default:
			s.log.Warn("PDF upload failed; left pending", "err", err)
			s.failure("upload PDF: " + err.Error())
		}
	}
}

// attachedBefore asks Amili whether item's case already holds its original invoice, after an
// upload whose outcome the ledger does not know (one GET /cases/{id}). ok is false when the
// answer could not be had; the PDF then stays pending.
func (s *sub) attachedBefore(item int, caseID string) (attached, ok bool) {
	cs, err := s.f.imp.deps.Client.GetCase(s.lctx, caseID)
	if err != nil {
		s.log.Warn("cannot check the case before uploading its PDF again; left pending", "case", caseID, "err", err)
		s.failure("check case before uploading again: " + err.Error())
		return false, false
	}
	if cs.OriginalInvoice == nil {
		return false, true
	}
	if _, err := s.f.imp.deps.Ledger.MarkPDF(s.lctx, s.id, item, ledger.PDFUploaded, ""); err != nil {
		s.recordFailed("mark PDF", err)
		return false, false
	}
	s.log.Info("PDF found on its case after an interrupted upload; not uploaded again", "case", caseID)
	s.f.add(func(c *domain.Counts) { c.PDFsAttached++ })
	return true, true
}

func (s *sub) missingPDF(item int, reason string) {
	if _, err := s.f.imp.deps.Ledger.MarkPDF(s.lctx, s.id, item, ledger.PDFMissing, reason); err != nil {
		s.recordFailed("mark PDF", err)
		return
	}
	s.f.add(func(c *domain.Counts) { c.NoPDF++ })
}
