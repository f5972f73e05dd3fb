package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/amili-import/amili-import/domain"
)

// claimOutcomeText is how each outcome is stored in the claims record.
var claimOutcomeText = map[ClaimOutcome]string{
	ClaimNew:      "new",
	ClaimResume:   "resume",
	ClaimInDoubt:  "in_doubt",
	ClaimDone:     "done",
	ClaimConflict: "conflict",
	ClaimBusy:     "busy", // never stored: a busy claim records nothing
}

// String names the outcome as the claims record and reports do.
func (o ClaimOutcome) String() string {
	if s, ok := claimOutcomeText[o]; ok {
		return s
	}
	return fmt.Sprintf("ClaimOutcome(%d)", int(o))
}

// Claim takes one registration for sending, or says why not; see ClaimOutcome. The decision and
// its record are one BEGIN IMMEDIATE transaction, so two processes claiming the same invoice
// number at once get one ClaimNew between them; the UNIQUE (creditor, invoice_number) constraint
// is the last line of defence.
//
// All items unknown → ClaimNew. All known in one submission, grouped and ordered the same, with
// the same hashes → by state: claimed or registered → ClaimResume, sending → ClaimInDoubt,
// uploaded, no_pdf or rejected → ClaimDone. A rejected submission with other hashes is re-claimed
// with the new content → ClaimNew. Any other hash, or another grouping → ClaimConflict, recorded
// in conflicts with both hashes, the submission unchanged.
//
// An unfinished submission (claimed, sending, registered) becomes req.Owner's. One that another
// live owner holds is ClaimBusy, and nothing is recorded; one whose owner is gone is taken over
// (Claim.TakenOver, and an event).
//
// Claim decides item by item, with one lookup each; ClaimDone reaches the same decisions and
// records for the many requests of a rerun that are done, with a few statements.
func (l *Ledger) Claim(ctx context.Context, req ClaimRequest) (Claim, error) {
	if err := validateClaim(req); err != nil {
		return Claim{}, fmt.Errorf("claim: %w", err)
	}
	var out Claim
	err := l.write(ctx, func(tx *writeTx) error {
		c := &claimer{l: l, ctx: ctx, tx: tx}
		cl, err := c.claim(req)
		if err != nil {
			return fmt.Errorf("claim %s line %d: %w", req.Creditor, req.Line, err)
		}
		out = cl
		return nil
	})
	return out, err
}

func validateClaim(r ClaimRequest) error {
	if r.Creditor == "" {
		return fmt.Errorf("%w: no creditor", ErrInvalid)
	}
	if len(r.Items) == 0 {
		return fmt.Errorf("%w: no items", ErrInvalid)
	}
	seen := make(map[string]bool, len(r.Items))
	for _, it := range r.Items {
		if it.InvoiceNumber == "" {
			return fmt.Errorf("%w: an item without invoice number", ErrInvalid)
		}
		if seen[it.InvoiceNumber] {
			return fmt.Errorf("%w: invoice number %q twice in one registration", ErrInvalid, it.InvoiceNumber)
		}
		seen[it.InvoiceNumber] = true
	}
	return nil
}

// claimer decides claims inside one transaction.
type claimer struct {
	l   *Ledger
	ctx context.Context
	tx  *writeTx
}

// known is what the ledger holds of one requested item.
type known struct {
	sub   SubmissionID
	pos   int
	hash  string
	state State
	items int
	head  Submission // the submission without its items
}

func (c *claimer) claim(r ClaimRequest) (Claim, error) {
	found := make([]*known, len(r.Items))
	var first *known
	for i, it := range r.Items {
		var k known
		h := &k.head
		var created, updated, attemptAt, accepted string
		err := c.tx.QueryRowContext(c.ctx, lookupSQL, r.Creditor, it.InvoiceNumber).Scan(&k.pos, &k.hash, &k.items,
			&h.ID, &h.Kind, &h.Creditor, &h.State, &h.RegistrationID, &h.InvoiceID, &h.Attempts, &h.LastError,
			&h.FileID, &h.Line, &created, &updated, &h.Owner, &attemptAt, &accepted)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return Claim{}, err
		}
		h.Created, h.Updated = parseTime(created), parseTime(updated)
		h.AttemptAt, h.Accepted = parseTime(attemptAt), parseTime(accepted)
		k.sub, k.state = h.ID, h.State
		found[i] = &k
		if first == nil {
			first = &k
		}
	}
	if first == nil {
		return c.insertNew(r)
	}

	sameGroup := true
	var differ []int
	for i, k := range found {
		if k == nil || k.sub != first.sub || k.pos != i || k.items != len(r.Items) {
			sameGroup = false
		}
		if k != nil && k.hash != r.Items[i].ContentHash {
			differ = append(differ, i)
		}
	}
	switch {
	case !sameGroup:
		var all []int
		for i, k := range found {
			if k != nil {
				all = append(all, i)
			}
		}
		return c.conflict(r, found, first, all, "grouped differently than when first claimed")
	case len(differ) > 0 && first.state == StateRejected:
		return c.reclaim(r, first.sub)
	case len(differ) > 0:
		return c.conflict(r, found, first, differ, "known with other content")
	}

	var out ClaimOutcome
	switch first.state {
	case StateClaimed, StateRegistered:
		out = ClaimResume
	case StateSending:
		out = ClaimInDoubt
	default: // uploaded, no_pdf, rejected with the same content
		out = ClaimDone
	}
	if out == ClaimDone {
		// The rerun path: nothing changed, so the head read by the lookup is current.
		return c.finishWith(r, out, first.head)
	}
	took, held, err := c.own(r, first.head)
	if err != nil {
		return Claim{}, err
	}
	if held != nil {
		return Claim{Outcome: ClaimBusy, Submission: first.head, Holder: *held}, nil
	}
	cl, err := c.finish(r, out, first.sub, first.state)
	cl.TakenOver = took
	return cl, err
}

// own makes r's owner the owner of an unfinished submission, unless another live owner holds
// it (held). When it takes over from an owner that is gone, took describes that owner and the
// event log records it.
func (c *claimer) own(r ClaimRequest, head Submission) (took string, held *OwnerInfo, err error) {
	if head.Owner != "" && head.Owner != r.Owner {
		info, alive, err := c.l.ownerState(c.ctx, c.tx, head.Owner)
		if err != nil {
			return "", nil, err
		}
		if alive {
			return "", &info, nil
		}
		took = fmt.Sprintf("%s pid %d", info.Host, info.PID)
		if info.Host == "" {
			took = "owner " + head.Owner
		}
		if err := c.l.note(c.ctx, c.tx, head.ID, "taken over from "+took+", no longer alive"); err != nil {
			return "", nil, err
		}
	}
	if _, err := c.tx.ExecContext(c.ctx, "UPDATE submissions SET owner = ?, run_id = coalesce(?, run_id) WHERE id = ?",
		r.Owner, nullID(r.Run), head.ID); err != nil {
		return "", nil, err
	}
	return took, nil, nil
}

// finish records the claim item by item and loads the submission for the answer.
func (c *claimer) finish(r ClaimRequest, out ClaimOutcome, sub SubmissionID, st State) (Claim, error) {
	if err := c.record(r, out, sub, st); err != nil {
		return Claim{}, err
	}
	s, err := c.l.loadSubmission(c.ctx, c.tx, sub)
	if err != nil {
		return Claim{}, err
	}
	return Claim{Outcome: out, Submission: s}, nil
}

// finishWith is finish for a submission whose head is known and unchanged: only its items are
// read.
func (c *claimer) finishWith(r ClaimRequest, out ClaimOutcome, head Submission) (Claim, error) {
	if err := c.record(r, out, head.ID, head.State); err != nil {
		return Claim{}, err
	}
	items, err := c.l.loadItems(c.ctx, c.tx, head.ID)
	if err != nil {
		return Claim{}, err
	}
	head.Items = items
	return Claim{Outcome: out, Submission: head}, nil
}

func (c *claimer) record(r ClaimRequest, out ClaimOutcome, sub SubmissionID, st State) error {
	at := c.l.nowText()
	for _, it := range r.Items {
		res, err := c.tx.ExecContext(c.ctx, insertClaimSQL, nullID(r.Run), nullID(r.File), r.Line, nullID(sub), r.Creditor,
			it.InvoiceNumber, int64(it.Amount), it.Currency, claimOutcomeText[out], st, at)
		if err != nil {
			return err
		}
		if out == ClaimNew && len(it.VAT) > 0 {
			if err := c.recordVAT(res, it.VAT); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordVAT keeps the VAT split of the content a new claim brought.
func (c *claimer) recordVAT(res sql.Result, parts []domain.VATPart) error {
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := c.tx.ExecContext(c.ctx, "INSERT INTO claim_vat (claim_id, rate, net, vat) VALUES (?, ?, ?, ?)",
			id, p.Rate, int64(p.Net), int64(p.VAT)); err != nil {
			return err
		}
	}
	return nil
}

// insertNew creates a claimed submission for a registration never seen before.
func (c *claimer) insertNew(r ClaimRequest) (Claim, error) {
	if !Legal("", StateClaimed) {
		return Claim{}, &TransitionError{From: "", To: StateClaimed}
	}
	now := c.l.nowText()
	res, err := c.tx.ExecContext(c.ctx, `INSERT INTO submissions (kind, creditor, state, items, file_id, line, run_id, owner, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Kind, r.Creditor, StateClaimed, len(r.Items), nullID(r.File), r.Line, nullID(r.Run), r.Owner, now, now)
	if err != nil {
		return Claim{}, err
	}
	id64, err := res.LastInsertId()
	if err != nil {
		return Claim{}, err
	}
	id := SubmissionID(id64)
	for i, it := range r.Items {
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO submission_items
			(submission_id, position, creditor, invoice_number, content_hash, amount, currency, customer_name, pdf_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i, r.Creditor, it.InvoiceNumber, it.ContentHash, int64(it.Amount),
			it.Currency, it.CustomerName, it.PDF); err != nil {
			return Claim{}, err
		}
	}
	if err := c.l.appendEvent(c.ctx, c.tx, id, "", StateClaimed, c.origin(r), now); err != nil {
		return Claim{}, err
	}
	return c.finish(r, ClaimNew, id, StateClaimed)
}

// reclaim replaces a rejected submission's content with a corrected version: rejected → claimed.
func (c *claimer) reclaim(r ClaimRequest, id SubmissionID) (Claim, error) {
	detail := "corrected content, " + c.origin(r)
	err := c.l.transition(c.ctx, c.tx, id, StateClaimed, detail, func() error {
		if _, err := c.tx.ExecContext(c.ctx, `UPDATE submissions SET kind = ?, file_id = ?, line = ?, run_id = ?, owner = ?,
			registration_id = '', invoice_id = '', last_error = '', attempt_at = '', accepted = '' WHERE id = ?`,
			r.Kind, nullID(r.File), r.Line, nullID(r.Run), r.Owner, id); err != nil {
			return err
		}
		for i, it := range r.Items {
			if _, err := c.tx.ExecContext(c.ctx, `UPDATE submission_items SET content_hash = ?, amount = ?, currency = ?,
				customer_name = ?, pdf_name = ?, case_id = '', ocr_number = '', pdf_state = 'pending', pdf_error = '',
				pdf_attempt_at = '' WHERE submission_id = ? AND position = ?`, it.ContentHash, int64(it.Amount), it.Currency, it.CustomerName,
				it.PDF, id, i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Claim{}, err
	}
	return c.finish(r, ClaimNew, id, StateClaimed)
}

// conflict records items known with other content (or grouped otherwise) and leaves the
// submission as it is.
func (c *claimer) conflict(r ClaimRequest, found []*known, first *known, idx []int, reason string) (Claim, error) {
	at := c.l.nowText()
	for _, i := range idx {
		k := found[i]
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO conflicts
			(creditor, invoice_number, submission_id, file_id, line, old_hash, new_hash, reason, run_id, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Creditor, r.Items[i].InvoiceNumber, k.sub, nullID(r.File), r.Line,
			k.hash, r.Items[i].ContentHash, storedText(reason), nullID(r.Run), at); err != nil {
			return Claim{}, err
		}
	}
	cl, err := c.finish(r, ClaimConflict, first.sub, first.state)
	if err != nil {
		return Claim{}, err
	}
	i := idx[0]
	cl.ConflictItem, cl.OldHash, cl.NewHash = r.Items[i].InvoiceNumber, found[i].hash, r.Items[i].ContentHash
	return cl, nil
}

// origin describes where a claim came from, for the event log.
func (c *claimer) origin(r ClaimRequest) string {
	var path string
	if r.File != 0 {
		_ = c.tx.QueryRowContext(c.ctx, "SELECT path FROM files WHERE id = ?", r.File).Scan(&path)
	}
	var b strings.Builder
	b.WriteString("claimed")
	if path != "" {
		fmt.Fprintf(&b, " from %s", path)
	}
	if r.Line > 0 {
		fmt.Fprintf(&b, " line %d", r.Line)
	}
	return b.String()
}
