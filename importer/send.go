package importer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

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
			s.registeredFailed(err)
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
		s.resolve()
	case amili.Permanent:
		if err := L.MarkRejected(s.lctx, s.id, reason); err != nil {
			s.recordFailed("mark rejected", err)
			return
		}
		s.f.reject(apiReason(err))
		s.log.Warn("registration rejected by Amili", "err", err)
		// Perhaps the creditor changed: the next run asks Amili about it again.
		s.f.imp.deps.Creditors.forget(s.reg.Creditor())
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

// register posts the registration with ctx: the draining context with the BeforeSend hook, so
// a POST that has started may finish after a cancel and its answer reaches the ledger.
func (s *sub) register(ctx context.Context) (ledger.Registered, error) {
	c := s.f.imp.deps.Client
	switch {
	case s.reg.Invoice != nil:
		r, err := c.RegisterInvoice(ctx, s.reg.Invoice)
		if err != nil {
			return ledger.Registered{}, err
		}
		return ledger.Registered{
			RegistrationID: r.ID,
			InvoiceID:      r.Invoice,
			Cases:          []ledger.CaseRef{{CaseID: r.Case, OCRNumber: r.OCRNumber}},
		}, nil
	case s.reg.Case != nil:
		r, err := c.RegisterCase(ctx, s.reg.Case)
		if err != nil {
			return ledger.Registered{}, err
		}
		out := ledger.Registered{RegistrationID: r.ID, Cases: make([]ledger.CaseRef, len(s.reg.Items))}
		for i := range out.Cases {
			if i < len(r.Cases) {
				out.Cases[i].CaseID = r.Cases[i]
			}
			if i < len(r.OCRNumbers) {
				out.Cases[i].OCRNumber = r.OCRNumbers[i]
			}
		}
		if len(r.Cases) != len(s.reg.Items) {
			s.log.Warn("Amili returned another number of cases than debts", "cases", len(r.Cases), "debts", len(s.reg.Items))
		}
		return out, nil
	}
	return ledger.Registered{}, errors.New("registration has neither an invoice nor a case")
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

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
