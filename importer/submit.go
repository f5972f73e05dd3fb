package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amili-import/amili-import/amili"
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
	// Windows are submitted, in order, by one goroutine while the next window is read: the
	// ledger's work for one overlaps with the parsing of the next.
	windows := make(chan []*domain.Registration, 1)
	var stop atomic.Bool
	var fwg sync.WaitGroup
	fwg.Add(1)
	go func() {
		defer fwg.Done()
		for w := range windows {
			if stop.Load() {
				continue
			}
			if !p.flush(w) {
				stop.Store(true)
			}
		}
	}()
	defer fwg.Wait()
	defer close(windows)
	var window []*domain.Registration
	for {
		if ctx.Err() != nil || f.imp.stopped() != nil || stop.Load() {
			f.leaveUnfinished()
			return nil
		}
		reg, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			if len(window) > 0 {
				windows <- window
			}
			return nil
		}
		if err != nil {
			return err
		}
		if reg == nil || len(reg.Items) == 0 {
			continue // refused in the validation pass, already recorded
		}
		window = append(window, reg)
		if len(window) >= claimBatchSize {
			windows <- window
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
		Creditor: reg.Creditor(), Items: reg.Items}
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
		s.resolve(nil)
	case ledger.ClaimResume:
		switch claim.Submission.State {
		case ledger.StateRegistered:
			f.add(func(c *domain.Counts) { c.Resumed++ })
			s.upload(claim.Submission.Items)
		case ledger.StateSending:
			s.resolve(nil)
		default:
			s.send()
		}
	case ledger.ClaimNew:
		s.send()
	default:
		s.ledgerFailed("claim", fmt.Errorf("unknown claim outcome %d", claim.Outcome))
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

// send makes the registration POST. Its intent is recorded by markSending, immediately
// before the request goes on the wire.
func (s *sub) send() {
	L := s.f.imp.deps.Ledger
	if s.ctx.Err() != nil {
		s.f.leaveUnfinished() // cancelled: no new POST; the claim waits for the next run
		return
	}
	s.marked = false
	reg, err := s.register(amili.WithBeforeSend(s.lctx, s.markSending))
	if err == nil {
		if err := L.MarkRegistered(s.lctx, s.id, reg); err != nil {
			s.recordFailed("mark registered", err)
			return
		}
		s.f.add(func(c *domain.Counts) { c.Registered++ })
		s.upload(itemsFromRegistered(s.reg.Items, reg))
		return
	}
	if errors.Is(err, amili.ErrNotSent) {
		s.notSent(err)
		return
	}
	reason := err.Error()
	switch amili.ClassOf(err) {
	case amili.InDoubt:
		var e *amili.Error
		if errors.As(err, &e) && e.Accepted {
			// A 2xx: the registration exists. It is never sent again; a lookup finds its ids.
			if err := L.MarkAccepted(s.lctx, s.id, reason); err != nil {
				s.recordFailed("mark accepted", err)
				return
			}
			s.log.Warn("Amili accepted the registration but its answer could not be read; looking it up", "err", err)
		} else {
			s.log.Warn("registration outcome unknown; looking it up", "err", err)
		}
		s.resolve(err)
	case amili.Permanent:
		if err := L.MarkRejected(s.lctx, s.id, reason); err != nil {
			s.recordFailed("mark rejected", err)
			return
		}
		s.f.reject(apiReason(err))
		s.log.Warn("registration rejected by Amili", "err", err)
	case amili.Unauthorized:
		s.unsent(reason)
		s.f.imp.fail(fmt.Errorf("%w: %w", ErrCannotStart, err))
		s.f.leaveUnfinished()
	case amili.Retryable:
		// Refused before Amili acted (or never sent): safe to send again in a later run.
		s.unsent(reason)
		s.failure(reason)
	default:
		// Not an answer from Amili (the drain timeout, for one): the outcome is unknown, so
		// the submission stays in sending and the next run looks it up first.
		s.failure(reason)
	}
}

// markSending is the registration's BeforeSend hook: it runs after every wait, right before
// the POST is written, and records that the POST may reach Amili. A run that was stopped (a
// lost lease, Ctrl-C) or a process that no longer owns the submission sends nothing.
func (s *sub) markSending(context.Context) (time.Time, error) {
	if s.ctx.Err() != nil {
		return time.Time{}, fmt.Errorf("run stopped: %w", context.Cause(s.ctx))
	}
	imp := s.f.imp
	var at ledger.Attempt
	var err error
	if s.marked {
		at, err = imp.deps.Ledger.RecordAttempt(s.lctx, s.id, imp.deps.Owner)
	} else {
		at, err = imp.deps.Ledger.MarkSending(s.lctx, s.id, imp.deps.Owner)
	}
	if err != nil {
		if errors.Is(err, ledger.ErrFenced) {
			return time.Time{}, err
		}
		return time.Time{}, &ledgerError{op: "mark sending", err: err}
	}
	s.marked = true
	return sendBy(at, imp.job.InDoubtGrace), nil
}

// sendBy is when a marked request must have started going out: within half the grace period
// of its recorded attempt, so that no lookup after the grace can miss a request still on its
// way, and before the owner's heartbeat lapses, after which another process may take the work
// over.
func sendBy(at ledger.Attempt, grace time.Duration) time.Time {
	by := at.At.Add(grace / 2)
	if !at.OwnerUntil.IsZero() && at.OwnerUntil.Before(by) {
		by = at.OwnerUntil
	}
	return by
}

// ledgerError is a ledger write that failed inside a BeforeSend hook.
type ledgerError struct {
	op  string
	err error
}

func (e *ledgerError) Error() string { return e.op + ": " + e.err.Error() }
func (e *ledgerError) Unwrap() error { return e.err }

// notSent handles a call abandoned before its request was written (see amili.ErrNotSent).
func (s *sub) notSent(err error) {
	if s.marked {
		// Marked, but provably not written: back to claimed while it is still ours.
		if uerr := s.f.imp.deps.Ledger.MarkUnsent(s.lctx, s.id, s.f.imp.deps.Owner, err.Error()); uerr != nil && !errors.Is(uerr, ledger.ErrFenced) {
			s.log.Warn("mark unsent", "err", uerr)
		}
	}
	var le *ledgerError
	switch {
	case errors.Is(err, ledger.ErrFenced):
		s.pending("not sent: another process took this registration over, or this process's ledger ownership lapsed", "err", err)
	case errors.As(err, &le):
		s.ledgerFailed(le.op, le.err)
	case s.ctx.Err() != nil:
		s.f.leaveUnfinished()
	default:
		s.failure(err.Error())
	}
}

// resolve looks up a registration whose outcome is unknown, with one GET /cases for all its
// invoice numbers. Found in full: its ids are recorded and its PDFs uploaded. Found in part:
// rejected for a person to resolve. Not found: the ledger's in-doubt rule decides (see
// ledger.ResolveNotFound): within the grace period, or once Amili accepted it, it stays in
// doubt for a later run; after the grace it is sent again (once per run).
func (s *sub) resolve(cause error) {
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
		s.recordFailed("mark registered", err)
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

// unsent returns a submission this send marked to claimed; one never marked (the call failed
// before its request was due, e.g. fetching a token) is still claimed and needs nothing.
func (s *sub) unsent(reason string) {
	if !s.marked {
		return
	}
	err := s.f.imp.deps.Ledger.MarkUnsent(s.lctx, s.id, s.f.imp.deps.Owner, reason)
	switch {
	case errors.Is(err, ledger.ErrFenced):
		s.pending("not returned to claimed: another process took this registration over", "err", err)
	case err != nil:
		s.ledgerFailed("mark unsent", err)
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

// apiReason groups Amili's refusals by message and fields, without values.
func apiReason(err error) string {
	var e *amili.Error
	if errors.As(err, &e) {
		r := fmt.Sprintf("Amili refused (HTTP %d)", e.StatusCode)
		if e.Message != "" {
			r += ": " + e.Message
		}
		for _, k := range sortedKeys(e.Fields) {
			r += fmt.Sprintf("; %s: %s", k, e.Fields[k])
		}
		return r
	}
	return err.Error()
}
