package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SaveCreditorName keeps the name Amili gave for creditor, replacing the one kept before.
func (l *Ledger) SaveCreditorName(ctx context.Context, creditor, name string) error {
	err := l.write(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO creditor_names (creditor, name, fetched) VALUES (?, ?, ?)
			ON CONFLICT (creditor) DO UPDATE SET name = excluded.name, fetched = excluded.fetched`, creditor, name, l.nowText())
		return err
	})
	if err != nil {
		return fmt.Errorf("save creditor name: %w", err)
	}
	return nil
}

// CreditorName returns the name last kept for creditor and when Amili gave it; ok is false when
// none is kept.
func (l *Ledger) CreditorName(ctx context.Context, creditor string) (name string, fetched time.Time, ok bool, err error) {
	var at string
	err = l.db.QueryRowContext(ctx, "SELECT name, fetched FROM creditor_names WHERE creditor = ?", creditor).Scan(&name, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("creditor name: %w", err)
	}
	return name, parseTime(at), true, nil
}
