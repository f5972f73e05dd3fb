package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Attempt is what the ledger recorded for an attempt about to go on the wire.
type Attempt struct {
	// At is the attempt's time as recorded: the grace period of an in-doubt submission runs
	// from it.
	At time.Time
	// OwnerUntil is when the owner's heartbeat lapses as of the mark (zero without an owner):
	// after it, another process may take the owner's work over.
	OwnerUntil time.Time
}

// MarkSending records that the registration's POST is about to go on the wire: claimed →
// sending, attempts + 1, with the attempt's time. Call it after the rate-limit wait,
// immediately before the request is written (a retry of the same POST calls RecordAttempt). It
// is durable (synchronous=FULL) when it returns, so a crash during the POST leaves the
// submission in doubt rather than forgotten.
//
// owner must own the submission and be alive: otherwise nothing changes and the error wraps
// ErrFenced, and the caller must not send.
func (l *Ledger) MarkSending(ctx context.Context, id SubmissionID, owner string) (Attempt, error) {
	var at Attempt
	err := l.write(ctx, func(tx *writeTx) error {
		var err error
		if at, err = l.fence(ctx, tx, id, owner); err != nil {
			return err
		}
		return l.transition(ctx, tx, id, StateSending, "sending", func() error {
			_, err := tx.ExecContext(ctx, "UPDATE submissions SET attempts = attempts + 1, attempt_at = ? WHERE id = ?", fmtTime(at.At), id)
			return err
		})
	})
	return at, err
}

// RecordAttempt records a further attempt of a POST already marked sending, after an answer
// that proved nothing was done (429, connection refused): the state stays sending, attempts + 1,
// and the attempt's time moves on. Fenced like MarkSending.
func (l *Ledger) RecordAttempt(ctx context.Context, id SubmissionID, owner string) (Attempt, error) {
	var at Attempt
	err := l.write(ctx, func(tx *writeTx) error {
		var err error
		if at, err = l.fence(ctx, tx, id, owner); err != nil {
			return err
		}
		var st State
		var accepted string
		if err := tx.QueryRowContext(ctx, "SELECT state, accepted FROM submissions WHERE id = ?", id).Scan(&st, &accepted); err != nil {
			return err
		}
		if st != StateSending || accepted != "" {
			return &TransitionError{Submission: id, From: st, To: StateSending}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE submissions SET attempts = attempts + 1, attempt_at = ? WHERE id = ?", fmtTime(at.At), id); err != nil {
			return err
		}
		return l.note(ctx, tx, id, "sending again")
	})
	return at, err
}

// fence checks, inside tx, that owner owns submission id and is alive, and returns the
// attempt's time and the owner's reach. An error wraps ErrFenced.
func (l *Ledger) fence(ctx context.Context, tx *writeTx, id SubmissionID, owner string) (Attempt, error) {
	var cur string
	err := tx.QueryRowContext(ctx, "SELECT owner FROM submissions WHERE id = ?", id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return Attempt{}, fmt.Errorf("submission %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Attempt{}, err
	}
	if cur != owner {
		return Attempt{}, fmt.Errorf("submission %d: %w: another process took it over", id, ErrFenced)
	}
	at := Attempt{At: l.now()}
	if owner == "" {
		return at, nil
	}
	info, alive, err := l.ownerState(ctx, tx, owner)
	if err != nil {
		return Attempt{}, err
	}
	if !alive {
		return Attempt{}, fmt.Errorf("submission %d: %w: this process's ownership lapsed", id, ErrFenced)
	}
	at.OwnerUntil = info.Expires
	return at, nil
}

// MarkRegistered stores Amili's ids: sending → registered. r.Cases holds one case per item, in
// item order. An answer is the truth whoever receives it, so it is not fenced; a submission that
// another process already recorded as registered is left as it is.
func (l *Ledger) MarkRegistered(ctx context.Context, id SubmissionID, r Registered) error {
	detail := "registered " + r.RegistrationID
	if r.Recovered {
		detail = "found at Amili after an in-doubt send: " + r.RegistrationID
	}
	return l.write(ctx, func(tx *writeTx) error {
		var st State
		var known string
		if err := tx.QueryRowContext(ctx, "SELECT state, registration_id FROM submissions WHERE id = ?", id).Scan(&st, &known); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("submission %d: %w", id, ErrNotFound)
			}
			return err
		}
		if (st == StateRegistered || st == StateUploaded || st == StateNoPDF) &&
			(r.RegistrationID == known || r.RegistrationID == "" || known == "") {
			return nil // recorded already, by this answer's lookup or by the process that took it over
		}
		return l.transition(ctx, tx, id, StateRegistered, detail, func() error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT items FROM submissions WHERE id = ?", id).Scan(&n); err != nil {
				return err
			}
			if len(r.Cases) != n {
				return fmt.Errorf("%s: %w: %w: %d cases for %d items", subName(ctx, tx, id), ErrInvalid, ErrCasesUnaccounted, len(r.Cases), n)
			}
			if err := casesOwn(ctx, tx, id, r.Cases); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE submissions SET registration_id = ?, invoice_id = ?, last_error = '' WHERE id = ?",
				r.RegistrationID, r.InvoiceID, id); err != nil {
				return err
			}
			for i, c := range r.Cases {
				if _, err := tx.ExecContext(ctx, "UPDATE submission_items SET case_id = ?, ocr_number = ? WHERE submission_id = ? AND position = ?",
					c.CaseID, c.OCRNumber, id, i); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// casesOwn checks that every item of submission id gets a case id, one no other item holds,
// here or in the ledger.
func casesOwn(ctx context.Context, tx *writeTx, id SubmissionID, cases []CaseRef) error {
	seen := map[string]int{}
	numbers := subNumbers(ctx, tx, id)
	item := func(i int) string {
		if i < len(numbers) {
			return numbers[i]
		}
		return fmt.Sprintf("item %d", i+1)
	}
	name := subName(ctx, tx, id)
	for i, c := range cases {
		if c.CaseID == "" {
			return fmt.Errorf("%s: %w: no case id for %s", name, ErrCasesUnaccounted, item(i))
		}
		if j, dup := seen[c.CaseID]; dup {
			return fmt.Errorf("%s: %w: case %s named for %s and %s", name, ErrCasesUnaccounted, c.CaseID, item(j), item(i))
		}
		seen[c.CaseID] = i
		var other string
		err := tx.QueryRowContext(ctx, "SELECT invoice_number FROM submission_items WHERE case_id = ? AND submission_id != ? LIMIT 1",
			c.CaseID, id).Scan(&other)
		switch {
		case err == nil:
			return fmt.Errorf("%s: %w: case %s already belongs to invoice number %s", name, ErrCasesUnaccounted, c.CaseID, other)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	return nil
}

// MarkAccepted records that Amili answered 2xx to the submission's POST but the answer could not
// be read: the registration exists, and the submission is never sent again. It stays sending
// (in doubt) until a lookup finds its ids.
func (l *Ledger) MarkAccepted(ctx context.Context, id SubmissionID, reason string) error {
	reason = storedText(reason)
	return l.write(ctx, func(tx *writeTx) error {
		st, err := stateOf(ctx, tx, id)
		if err != nil {
			return err
		}
		switch st {
		case StateRegistered, StateUploaded, StateNoPDF:
			return nil // another process found it meanwhile: nothing left to say
		case StateSending:
		default:
			return &TransitionError{Submission: id, From: st, To: StateSending}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE submissions SET accepted = ?, last_error = ? WHERE id = ? AND accepted = ''",
			l.nowText(), reason, id); err != nil {
			return err
		}
		return l.note(ctx, tx, id, "accepted by Amili, answer unreadable: "+reason)
	})
}

// NotFound is what ResolveNotFound decided.
type NotFound struct {
	// Resend: the grace period had passed; the submission is claimed again and may be sent.
	Resend bool
	// Until is when the grace period ends, while it is still in doubt.
	Until time.Time
	// Accepted: Amili answered 2xx to it once; it is never sent again, whatever a lookup says.
	Accepted bool
	// Settled is the state another process (or a late answer) moved it to meanwhile; nothing
	// was changed. "" while it was still in doubt.
	Settled State
}

// ResolveNotFound applies the rule for an in-doubt submission that a lookup did not find. Amili
// may still be working on a request the client gave up on, so a "not found" proves nothing
// until grace has passed since the submission's last attempt: until then it stays in doubt
// (sending), and only a lookup after the grace that finds nothing returns it to claimed, to be
// sent once more. A submission Amili accepted is never returned. Fenced like MarkSending.
func (l *Ledger) ResolveNotFound(ctx context.Context, id SubmissionID, owner string, grace time.Duration) (NotFound, error) {
	var out NotFound
	err := l.write(ctx, func(tx *writeTx) error {
		if _, err := l.fence(ctx, tx, id, owner); err != nil {
			return err
		}
		var st State
		var attemptAt, accepted, updated string
		if err := tx.QueryRowContext(ctx, "SELECT state, attempt_at, accepted, updated FROM submissions WHERE id = ?", id).
			Scan(&st, &attemptAt, &accepted, &updated); err != nil {
			return err
		}
		if st != StateSending {
			out.Settled = st
			return nil
		}
		if accepted != "" {
			out.Accepted = true
			return l.note(ctx, tx, id, "not found at Amili yet, though it answered 2xx at "+accepted+": never sent again")
		}
		last := parseTime(attemptAt)
		if attemptAt == "" {
			last = parseTime(updated)
		}
		out.Until = last.Add(grace)
		if l.now().Before(out.Until) {
			return l.note(ctx, tx, id, "not found at Amili; the request may still land: in doubt until "+fmtTime(out.Until))
		}
		out.Resend = true
		return l.transition(ctx, tx, id, StateClaimed, fmt.Sprintf("not sent: not found at Amili %v after the last attempt", grace), nil)
	})
	if err != nil {
		return NotFound{}, fmt.Errorf("resolve not found: %w", err)
	}
	return out, nil
}

// MarkUnsent returns a submission marked sending to claimed when its request provably did not
// reach Amili (the connection was refused, a 429): sending → claimed. Fenced like MarkSending.
func (l *Ledger) MarkUnsent(ctx context.Context, id SubmissionID, owner, reason string) error {
	return l.write(ctx, func(tx *writeTx) error {
		if _, err := l.fence(ctx, tx, id, owner); err != nil {
			return err
		}
		var accepted string
		if err := tx.QueryRowContext(ctx, "SELECT accepted FROM submissions WHERE id = ?", id).Scan(&accepted); err != nil {
			return err
		}
		if accepted != "" {
			return fmt.Errorf("submission %d: %w: Amili accepted it", id, ErrIllegalTransition)
		}
		return l.transition(ctx, tx, id, StateClaimed, "not sent: "+reason, nil)
	})
}

// MarkPDFSending records that item's PDF upload is about to go on the wire, so that after a
// crash the case is checked before the PDF is uploaded again. Fenced like MarkSending; a PDF no
// longer pending is refused.
func (l *Ledger) MarkPDFSending(ctx context.Context, id SubmissionID, item int, owner string) (Attempt, error) {
	var at Attempt
	err := l.write(ctx, func(tx *writeTx) error {
		var err error
		if at, err = l.fence(ctx, tx, id, owner); err != nil {
			return err
		}
		st, err := stateOf(ctx, tx, id)
		if err != nil {
			return err
		}
		if st != StateRegistered {
			return fmt.Errorf("submission %d is %s: %w: a PDF is attached only once registered", id, st, ErrIllegalTransition)
		}
		err = expectOne(tx.ExecContext(ctx, "UPDATE submission_items SET pdf_attempt_at = ? WHERE submission_id = ? AND position = ? AND pdf_state = 'pending'",
			fmtTime(at.At), id, item))
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("submission %d item %d: %w: its PDF was handled meanwhile", id, item, ErrIllegalTransition)
		}
		return err
	})
	return at, err
}

// MarkRejected records a refusal (validation before sending, or an Amili 4xx): claimed or
// sending → rejected, with the reason kept.
func (l *Ledger) MarkRejected(ctx context.Context, id SubmissionID, reason string) error {
	reason = storedText(reason)
	return l.write(ctx, func(tx *writeTx) error {
		return l.transition(ctx, tx, id, StateRejected, "rejected: "+reason, func() error {
			_, err := tx.ExecContext(ctx, "UPDATE submissions SET last_error = ? WHERE id = ?", reason, id)
			return err
		})
	})
}

// RecordFailure keeps a transient failure (timeout, 5xx) without changing the state; a later
// attempt or run takes it up again.
func (l *Ledger) RecordFailure(ctx context.Context, id SubmissionID, reason string) error {
	reason = storedText(reason)
	return l.write(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE submissions SET last_error = ? WHERE id = ?", reason, id); err != nil {
			return err
		}
		return l.note(ctx, tx, id, "failed: "+reason)
	})
}

// MarkPDF sets the PDF state of item (0-based, in item order) of a registered submission. When
// no item is pending any more, the submission moves to uploaded (every PDF attached) or no_pdf
// (some missing). It returns the state afterwards.
func (l *Ledger) MarkPDF(ctx context.Context, id SubmissionID, item int, st PDFState, reason string) (State, error) {
	if st != PDFUploaded && st != PDFMissing {
		return "", fmt.Errorf("mark pdf: %w: state %q", ErrInvalid, st)
	}
	reason = storedText(reason)
	var after State
	err := l.write(ctx, func(tx *writeTx) error {
		var cur State
		var invoiceNumber string
		err := tx.QueryRowContext(ctx, `SELECT s.state, i.invoice_number FROM submissions s
			JOIN submission_items i ON i.submission_id = s.id AND i.position = ? WHERE s.id = ?`, item, id).Scan(&cur, &invoiceNumber)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submission %d item %d: %w", id, item, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur != StateRegistered {
			return fmt.Errorf("submission %d is %s: %w: a PDF is attached only once registered", id, cur, ErrIllegalTransition)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE submission_items SET pdf_state = ?, pdf_error = ? WHERE submission_id = ? AND position = ?",
			st, reason, id, item); err != nil {
			return err
		}
		detail := fmt.Sprintf("pdf %s: %s", invoiceNumber, st)
		if reason != "" {
			detail += ": " + reason
		}
		if err := l.note(ctx, tx, id, detail); err != nil {
			return err
		}
		var pending, missing int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE pdf_state = 'pending'), count(*) FILTER (WHERE pdf_state = 'missing')
			FROM submission_items WHERE submission_id = ?`, id).Scan(&pending, &missing); err != nil {
			return err
		}
		after = StateRegistered
		switch {
		case pending > 0:
			return nil
		case missing > 0:
			after = StateNoPDF
		default:
			after = StateUploaded
		}
		return l.transition(ctx, tx, id, after, "every PDF handled", nil)
	})
	if err != nil {
		return "", fmt.Errorf("mark pdf: %w", err)
	}
	return after, nil
}

// Submission returns one submission with its items.
func (l *Ledger) Submission(ctx context.Context, id SubmissionID) (Submission, error) {
	return l.loadSubmission(ctx, nil, id)
}

// History returns the submission holding a creditor's invoice number and its whole event log,
// oldest first.
func (l *Ledger) History(ctx context.Context, creditor, invoiceNumber string) (Submission, []Event, error) {
	var id SubmissionID
	err := l.db.QueryRowContext(ctx, "SELECT submission_id FROM submission_items WHERE creditor = ? AND invoice_number = ?",
		creditor, invoiceNumber).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Submission{}, nil, fmt.Errorf("invoice number %q of creditor %q: %w", invoiceNumber, creditor, ErrNotFound)
	}
	if err != nil {
		return Submission{}, nil, err
	}
	s, err := l.loadSubmission(ctx, nil, id)
	if err != nil {
		return Submission{}, nil, err
	}
	ev, err := l.Events(ctx, id)
	return s, ev, err
}

// Events returns a submission's history, oldest first.
func (l *Ledger) Events(ctx context.Context, id SubmissionID) ([]Event, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT e.at, coalesce(e.run_id, 0), coalesce(r.job, ''), coalesce(r.started, ''),
		e.from_state, e.to_state, e.detail FROM events e LEFT JOIN runs r ON r.id = e.run_id WHERE e.submission_id = ? ORDER BY e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var at, started string
		if err := rows.Scan(&at, &e.Run, &e.Job, &started, &e.From, &e.To, &e.Detail); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		if started != "" {
			e.RunStarted = parseTime(started)
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// FindCreditors returns the creditors that hold an invoice number, for lookups by number alone.
func (l *Ledger) FindCreditors(ctx context.Context, invoiceNumber string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, "SELECT creditor FROM submission_items WHERE invoice_number = ? ORDER BY creditor", invoiceNumber)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// loadSubmission reads a submission and its items, inside tx when tx is not nil.
func (l *Ledger) loadSubmission(ctx context.Context, tx *writeTx, id SubmissionID) (Submission, error) {
	var row *sql.Row
	if tx != nil {
		row = tx.QueryRowContext(ctx, submissionSQL, id)
	} else {
		row = l.read.submission.QueryRowContext(ctx, id)
	}
	var s Submission
	var created, updated, attemptAt, accepted string
	err := row.Scan(&s.ID, &s.Kind, &s.Creditor, &s.State, &s.RegistrationID, &s.InvoiceID,
		&s.Attempts, &s.LastError, &s.FileID, &s.Line, &created, &updated, &s.Owner, &attemptAt, &accepted)
	if errors.Is(err, sql.ErrNoRows) {
		return Submission{}, fmt.Errorf("submission %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Submission{}, err
	}
	s.Created, s.Updated = parseTime(created), parseTime(updated)
	s.AttemptAt, s.Accepted = parseTime(attemptAt), parseTime(accepted)
	s.Items, err = l.loadItems(ctx, tx, id)
	return s, err
}

// loadItems reads a submission's items in order, inside tx when tx is not nil.
func (l *Ledger) loadItems(ctx context.Context, tx *writeTx, id SubmissionID) ([]SubmissionItem, error) {
	var rows *sql.Rows
	var err error
	if tx != nil {
		rows, err = tx.QueryContext(ctx, itemsSQL, id)
	} else {
		rows, err = l.read.items.QueryContext(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []SubmissionItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, rows.Err()
}

// submissionColumns and itemColumns are what scanSubmissionItem and scanItem read, in order.
const (
	submissionColumns = `s.id, s.kind, s.creditor, s.state, s.registration_id, s.invoice_id, s.attempts, s.last_error,
		coalesce(s.file_id, 0), s.line, s.created, s.updated, s.owner, s.attempt_at, s.accepted`
	itemColumns = `i.invoice_number, i.content_hash, i.amount, i.currency, i.customer_name, i.pdf_name,
		i.case_id, i.ocr_number, i.pdf_state, i.pdf_error, i.pdf_attempt_at`
)

func scanItem(rows *sql.Rows) (SubmissionItem, error) {
	var it SubmissionItem
	var amount int64
	var pdfAt string
	err := rows.Scan(&it.InvoiceNumber, &it.ContentHash, &amount, &it.Currency, &it.CustomerName, &it.PDF,
		&it.CaseID, &it.OCRNumber, &it.PDFState, &it.PDFError, &pdfAt)
	it.Amount = domain.Amount(amount)
	it.PDFAttemptAt = parseTime(pdfAt)
	return it, err
}

// scanSubmissionItem reads one row of submissionColumns followed by itemColumns: the
// submission without its items, and one of them.
func scanSubmissionItem(rows *sql.Rows) (Submission, SubmissionItem, error) {
	var s Submission
	var it SubmissionItem
	var created, updated, attemptAt, accepted, pdfAt string
	var amount int64
	if err := rows.Scan(&s.ID, &s.Kind, &s.Creditor, &s.State, &s.RegistrationID, &s.InvoiceID, &s.Attempts,
		&s.LastError, &s.FileID, &s.Line, &created, &updated, &s.Owner, &attemptAt, &accepted,
		&it.InvoiceNumber, &it.ContentHash, &amount, &it.Currency, &it.CustomerName, &it.PDF,
		&it.CaseID, &it.OCRNumber, &it.PDFState, &it.PDFError, &pdfAt); err != nil {
		return Submission{}, SubmissionItem{}, err
	}
	s.Created, s.Updated = parseTime(created), parseTime(updated)
	s.AttemptAt, s.Accepted, it.PDFAttemptAt = parseTime(attemptAt), parseTime(accepted), parseTime(pdfAt)
	it.Amount = domain.Amount(amount)
	return s, it, nil
}

// subNumbers are a submission's invoice numbers in item order, read inside tx; none when they
// cannot be read (they only name it in an error).
func subNumbers(ctx context.Context, tx *writeTx, id SubmissionID) []string {
	rows, err := tx.QueryContext(ctx, "SELECT invoice_number FROM submission_items WHERE submission_id = ? ORDER BY position", id)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var ns []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) != nil {
			return nil
		}
		ns = append(ns, n)
	}
	return ns
}

// subName names a submission in an error a person reads (it becomes the reason ledger show
// prints): by its invoice numbers, the ledger's id after them.
func subName(ctx context.Context, tx *writeTx, id SubmissionID) string {
	ns := subNumbers(ctx, tx, id)
	switch len(ns) {
	case 0:
		return fmt.Sprintf("submission %d", id)
	case 1:
		return fmt.Sprintf("invoice number %s (submission %d)", ns[0], id)
	}
	if len(ns) > 5 {
		ns = append(ns[:5:5], fmt.Sprintf("%d more", len(ns)-5))
	}
	return fmt.Sprintf("invoice numbers %s (submission %d)", strings.Join(ns, ", "), id)
}
