package ledger

import (
	"context"
	"fmt"
)

// OpenIncident records that job is failing, for reason. opened is true when the job was not
// failing before: this failure starts an incident (and is the one to tell a person about); a
// failure while one is open returns false.
func (l *Ledger) OpenIncident(ctx context.Context, job, reason string) (opened bool, err error) {
	err = l.write(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO incidents (job, since, reason) VALUES (?, ?, ?) ON CONFLICT (job) DO NOTHING",
			job, l.nowText(), reason)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		opened = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("open incident of %s: %w", job, err)
	}
	return opened, nil
}

// CloseIncident records that job succeeded again: its next failure opens a new incident.
// closed is true when one was open.
func (l *Ledger) CloseIncident(ctx context.Context, job string) (closed bool, err error) {
	err = l.write(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM incidents WHERE job = ?", job)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		closed = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("close incident of %s: %w", job, err)
	}
	return closed, nil
}
