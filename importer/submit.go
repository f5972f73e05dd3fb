package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// submitAll is the second pass: it streams the registrations again and submits each valid one,
// at most job.Concurrency at a time calling Amili. After cancellation it starts nothing new and
// waits for the registrations in flight.
//
// Registrations are read in windows. The ledger claims those of a window already done (a
// rerun) together, in one transaction, without a goroutine or a PDF open of their own. The
// others open their PDFs first and are claimed one by one, as a required PDF that is missing
// must stop a row before it is claimed.
func (f *fileRun) submitAll(ctx context.Context, spool string) error {
	r, closeFn, err := f.openReader(spool)
	if err != nil {
		return err
	}
	defer closeFn()
	// Two bounds: slots is the registrations calling Amili at once (the job's concurrency);
	// sem also counts the ones being prepared (PDFs opened, claimed), so that SFTP round trips
	// and ledger writes overlap with the API calls of the registrations in flight.
	p := &pass{f: f, ctx: ctx,
		slots: make(chan struct{}, f.imp.job.Concurrency),
		sem:   make(chan struct{}, 2*f.imp.job.Concurrency),
	}
	defer p.wg.Wait()
	// Windows are flushed in order as they fill; the Reader decodes the next rows ahead in a
	// goroutine of its own meanwhile.
	var window []*domain.Registration
	for {
		if ctx.Err() != nil || f.imp.stopped() != nil {
			f.leaveUnfinished()
			return nil
		}
		reg, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			p.flush(window)
			return nil
		}
		if err != nil {
			return err
		}
		if reg == nil || len(reg.Items) == 0 || f.imp.creditorRefused(reg.Creditor()) {
			continue // refused in the validation pass, already recorded
		}
		f.notePDFs(reg)
		window = append(window, reg)
		if len(window) >= claimBatchSize {
			if !p.flush(window) {
				f.leaveUnfinished()
				return nil
			}
			window = nil
		}
	}
}

// sub is one registration on its way: the registration, its ledger row, its PDFs.
type sub struct {
	f    *fileRun
	reg  *domain.Registration
	log  *slog.Logger
	ctx  context.Context // the run's context: cancelled on Ctrl-C
	lctx context.Context // for ledger writes and calls already started: drains after a cancel
	id   ledger.SubmissionID

	pdfs    []*pdfFile
	pdfErrs []error
	settled bool // counted as Failed or Pending once
	resends int  // sends after a lookup found nothing; at most one per run
	marked  bool // this send's POST was marked sending (see markSending)
}

// acquire takes one of the slots that bound the registrations calling Amili at once. It
// reports false when the run was cancelled first: nothing is sent, the claim waits for the
// next run.
func acquire(ctx context.Context, slots chan struct{}) bool {
	if slots == nil {
		return true
	}
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func release(slots chan struct{}) {
	if slots != nil {
		<-slots
	}
}

// newSub makes the state of one registration; done releases it.
func (f *fileRun) newSub(ctx context.Context, reg *domain.Registration) (*sub, func()) {
	lctx, cancel := drainContext(ctx, f.imp.job.DrainTimeout)
	s := &sub{
		f: f, reg: reg, ctx: ctx, lctx: lctx,
		log:     f.log.With("invoice_number", reg.Items[0].InvoiceNumber, "line", reg.Line),
		pdfs:    make([]*pdfFile, len(reg.Items)),
		pdfErrs: make([]error, len(reg.Items)),
	}
	for i, it := range reg.Items {
		if it.PDF == "" && f.imp.job.PDF == PDFOptional {
			s.pdfErrs[i] = errors.New("no PDF named")
		}
	}
	return s, func() {
		for _, p := range s.pdfs {
			p.close()
		}
		cancel()
	}
}

// pending leaves the registration for later without calling it a failure (in doubt within its
// grace period, or another process's), counted once.
func (s *sub) pending(msg string, attrs ...any) {
	if !s.settled {
		s.settled = true
		s.f.add(func(c *domain.Counts) { c.Pending++ })
	}
	s.log.Info(msg, attrs...)
	s.f.leaveUnfinished()
}

// failure records a transient failure: the state stays, a later run resumes, the file is partial.
func (s *sub) failure(reason string) {
	if err := s.f.imp.deps.Ledger.RecordFailure(s.lctx, s.id, reason); err != nil {
		s.log.Error("record failure", "err", err)
	}
	if !s.settled {
		s.settled = true
		s.f.add(func(c *domain.Counts) { c.Failed++ })
	}
	s.f.leaveUnfinished()
}

// registeredFailed handles a MarkRegistered that failed. An answer that does not give every
// item a case of its own (ledger.ErrCasesUnaccounted) was nevertheless a 2xx: Amili holds the
// registration, so it is never sent again, and nothing is attached to a case it may not belong
// to. It is held (sending, accepted) with the reason, counted as failed and shown in the summary;
// only a later lookup at Amili, whose case list says which case holds which invoice number, can
// give it its ids.
func (s *sub) registeredFailed(err error) {
	if !errors.Is(err, ledger.ErrCasesUnaccounted) {
		s.recordFailed("mark registered", err)
		return
	}
	reason := "held, never sent again: " + err.Error()
	if aerr := s.f.imp.deps.Ledger.MarkAccepted(s.lctx, s.id, reason); aerr != nil && !errors.Is(aerr, ledger.ErrIllegalTransition) {
		s.ledgerFailed("mark accepted", aerr)
		return
	}
	s.log.Error("Amili's answer does not account for every invoice's case; nothing attached", "err", err)
	s.f.mu.Lock()
	s.f.reasons[HeldReason]++
	s.f.mu.Unlock()
	if !s.settled {
		s.settled = true
		s.f.add(func(c *domain.Counts) { c.Failed++ })
	}
	s.f.leaveUnfinished()
}

// HeldReason is the summary's reason for a registration Amili accepted whose answer did not
// give every invoice number a case of its own.
const HeldReason = "held: Amili accepted the registration, but its answer does not give every invoice number a case of its own; nothing attached, never sent again (see amili-import ledger show)"

// recordFailed handles a ledger write of an answer that failed. A submission that another
// process (or a late answer to an earlier attempt) moved on meanwhile refuses the move: that is
// no ledger failure, and the row is left as pending for whoever holds it now.
func (s *sub) recordFailed(op string, err error) {
	if errors.Is(err, ledger.ErrIllegalTransition) {
		s.pending("not recorded: the registration was recorded meanwhile by another process", "op", op, "err", err)
		return
	}
	s.ledgerFailed(op, err)
}

// ledgerFailed stops the run: without the ledger nothing can be sent safely.
func (s *sub) ledgerFailed(op string, err error) {
	s.log.Error("ledger write failed", "op", op, "err", err)
	s.f.imp.fail(fmt.Errorf("%w: ledger: %s: %w", ErrCannotStart, op, err))
	if !s.settled {
		s.settled = true
		s.f.add(func(c *domain.Counts) { c.Failed++ })
	}
	s.f.leaveUnfinished()
}
