package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DeliveryState is where a report delivery is.
type DeliveryState string

// The delivery states. A failed delivery is retried; a sent one never is.
const (
	DeliveryPending DeliveryState = "pending"
	DeliverySent    DeliveryState = "sent"
	DeliveryFailed  DeliveryState = "failed"
)

// ReportID is a report delivery's row id.
type ReportID int64

// ReportDelivery is one report for one period: built, then mailed.
type ReportDelivery struct {
	ID        ReportID
	Creditor  string // "" for all creditors
	Since     time.Time
	Until     time.Time
	State     DeliveryState
	Path      string // the built report on disk
	Attempts  int
	LastError string
	Created   time.Time
	Updated   time.Time
}

// RecordReport records a report for a period, pending delivery. A period already recorded for
// the creditor is ErrDuplicate: a period is never delivered twice.
func (l *Ledger) RecordReport(ctx context.Context, creditor string, p Period, path string) (ReportID, error) {
	if p.Since.IsZero() || p.Until.IsZero() || !p.Until.After(p.Since) {
		return 0, fmt.Errorf("record report: %w: period %v – %v", ErrInvalid, p.Since, p.Until)
	}
	var id int64
	err := l.write(ctx, func(tx *writeTx) error {
		now := l.nowText()
		res, err := tx.ExecContext(ctx, `INSERT INTO report_deliveries (creditor, since, until, state, path, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, creditor, fmtTime(p.Since), fmtTime(p.Until), DeliveryPending, path, now, now)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record report %s – %s: %w", p.Since.Format(time.RFC3339), p.Until.Format(time.RFC3339), err)
	}
	return ReportID(id), nil
}

// MarkReportSent records a successful delivery. A report already sent is not sent again:
// marking it a second time is ErrIllegalTransition.
func (l *Ledger) MarkReportSent(ctx context.Context, id ReportID) error {
	return l.markReport(ctx, id, DeliverySent, "")
}

// MarkReportFailed records a failed attempt; the report stays due (PendingReports lists it).
func (l *Ledger) MarkReportFailed(ctx context.Context, id ReportID, reason string) error {
	return l.markReport(ctx, id, DeliveryFailed, reason)
}

func (l *Ledger) markReport(ctx context.Context, id ReportID, st DeliveryState, reason string) error {
	err := l.write(ctx, func(tx *writeTx) error {
		var cur DeliveryState
		err := tx.QueryRowContext(ctx, "SELECT state FROM report_deliveries WHERE id = ?", id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur == DeliverySent {
			return fmt.Errorf("%w: already sent", ErrIllegalTransition)
		}
		_, err = tx.ExecContext(ctx, "UPDATE report_deliveries SET state = ?, attempts = attempts + 1, last_error = ?, updated = ? WHERE id = ?",
			st, storedText(reason), l.nowText(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark report %d %s: %w", id, st, err)
	}
	return nil
}

// PendingReports returns the reports still to deliver (pending or failed), oldest period first.
func (l *Ledger) PendingReports(ctx context.Context) ([]ReportDelivery, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, creditor, since, until, state, path, attempts, last_error, created, updated
		FROM report_deliveries WHERE state IN ('pending', 'failed') ORDER BY since, id`)
	if err != nil {
		return nil, fmt.Errorf("pending reports: %w", err)
	}
	defer rows.Close()
	var out []ReportDelivery
	for rows.Next() {
		var r ReportDelivery
		var since, until, created, updated string
		if err := rows.Scan(&r.ID, &r.Creditor, &since, &until, &r.State, &r.Path, &r.Attempts, &r.LastError, &created, &updated); err != nil {
			return nil, fmt.Errorf("pending reports: %w", err)
		}
		r.Since, r.Until, r.Created, r.Updated = parseTime(since), parseTime(until), parseTime(created), parseTime(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastReportUntil returns the end of the latest period recorded for creditor ("" for all), in
// any state: the next period starts there, and a failed one is retried rather than rebuilt.
func (l *Ledger) LastReportUntil(ctx context.Context, creditor string) (time.Time, bool, error) {
	var until sql.NullString
	if err := l.db.QueryRowContext(ctx, "SELECT max(until) FROM report_deliveries WHERE creditor = ?", creditor).Scan(&until); err != nil {
		return time.Time{}, false, fmt.Errorf("last report: %w", err)
	}
	if !until.Valid {
		return time.Time{}, false, nil
	}
	return parseTime(until.String), true, nil
}

// ReportFor returns the delivery recorded for creditor ("" for all) and exactly the period p,
// if there is one.
func (l *Ledger) ReportFor(ctx context.Context, creditor string, p Period) (ReportDelivery, bool, error) {
	var r ReportDelivery
	var since, until, created, updated string
	err := l.db.QueryRowContext(ctx, `SELECT id, creditor, since, until, state, path, attempts, last_error, created, updated
		FROM report_deliveries WHERE creditor = ? AND since = ? AND until = ?`, creditor, fmtTime(p.Since), fmtTime(p.Until)).
		Scan(&r.ID, &r.Creditor, &since, &until, &r.State, &r.Path, &r.Attempts, &r.LastError, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return ReportDelivery{}, false, nil
	}
	if err != nil {
		return ReportDelivery{}, false, fmt.Errorf("report for period: %w", err)
	}
	r.Since, r.Until, r.Created, r.Updated = parseTime(since), parseTime(until), parseTime(created), parseTime(updated)
	return r, true, nil
}
