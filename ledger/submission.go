package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/amili-import/amili-import/mapping"
)

// MarkSending records the intent to POST: claimed → sending, attempts + 1. It is durable
// (synchronous=FULL) when it returns, so a crash during the POST leaves the submission in doubt
// rather than forgotten.
func (l *Ledger) MarkSending(ctx context.Context, id SubmissionID) error {
	return l.write(ctx, func(tx *writeTx) error {
		return l.transition(ctx, tx, id, StateSending, "sending", func() error {
			_, err := tx.ExecContext(ctx, "UPDATE submissions SET attempts = attempts + 1 WHERE id = ?", id)
			return err
		})
	})
}

// MarkRegistered stores Amili's ids: sending → registered. r.Cases holds one case per item, in
// item order.
func (l *Ledger) MarkRegistered(ctx context.Context, id SubmissionID, r Registered) error {
	detail := "registered " + r.RegistrationID
	if r.Recovered {
		detail = "found at Amili after an in-doubt send: " + r.RegistrationID
	}
	return l.write(ctx, func(tx *writeTx) error {
		return l.transition(ctx, tx, id, StateRegistered, detail, func() error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT items FROM submissions WHERE id = ?", id).Scan(&n); err != nil {
				return err
			}
			if len(r.Cases) != n {
				return fmt.Errorf("submission %d: %w: %d cases for %d items", id, ErrInvalid, len(r.Cases), n)
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

// MarkUnsent returns an in-doubt submission to claimed: sending → claimed, when Amili has no
// trace of it or it provably never left (the connection was refused). The next attempt sends it.
func (l *Ledger) MarkUnsent(ctx context.Context, id SubmissionID, reason string) error {
	return l.write(ctx, func(tx *writeTx) error {
		return l.transition(ctx, tx, id, StateClaimed, "not sent: "+reason, nil)
	})
}

// MarkRejected records a refusal (validation before sending, or an Amili 4xx): claimed or
// sending → rejected, with the reason kept.
func (l *Ledger) MarkRejected(ctx context.Context, id SubmissionID, reason string) error {
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
	rows, err := l.db.QueryContext(ctx, "SELECT at, coalesce(run_id, 0), from_state, to_state, detail FROM events WHERE submission_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&at, &e.Run, &e.From, &e.To, &e.Detail); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
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
	var created, updated string
	err := row.Scan(&s.ID, &s.Kind, &s.Creditor, &s.State, &s.RegistrationID, &s.InvoiceID,
		&s.Attempts, &s.LastError, &s.FileID, &s.Line, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Submission{}, fmt.Errorf("submission %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Submission{}, err
	}
	s.Created, s.Updated = parseTime(created), parseTime(updated)
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
		coalesce(s.file_id, 0), s.line, s.created, s.updated`
	itemColumns = `i.invoice_number, i.content_hash, i.amount, i.currency, i.customer_name, i.pdf_name,
		i.case_id, i.ocr_number, i.pdf_state, i.pdf_error`
)

func scanItem(rows *sql.Rows) (SubmissionItem, error) {
	var it SubmissionItem
	var amount int64
	err := rows.Scan(&it.InvoiceNumber, &it.ContentHash, &amount, &it.Currency, &it.CustomerName, &it.PDF,
		&it.CaseID, &it.OCRNumber, &it.PDFState, &it.PDFError)
	it.Amount = mapping.Amount(amount)
	return it, err
}

// scanSubmissionItem reads one row of submissionColumns followed by itemColumns: the
// submission without its items, and one of them.
func scanSubmissionItem(rows *sql.Rows) (Submission, SubmissionItem, error) {
	var s Submission
	var it SubmissionItem
	var created, updated string
	var amount int64
	if err := rows.Scan(&s.ID, &s.Kind, &s.Creditor, &s.State, &s.RegistrationID, &s.InvoiceID, &s.Attempts,
		&s.LastError, &s.FileID, &s.Line, &created, &updated,
		&it.InvoiceNumber, &it.ContentHash, &amount, &it.Currency, &it.CustomerName, &it.PDF,
		&it.CaseID, &it.OCRNumber, &it.PDFState, &it.PDFError); err != nil {
		return Submission{}, SubmissionItem{}, err
	}
	s.Created, s.Updated = parseTime(created), parseTime(updated)
	it.Amount = mapping.Amount(amount)
	return s, it, nil
}
