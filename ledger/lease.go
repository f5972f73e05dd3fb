package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LeaseOwner identifies a process holding a lease.
type LeaseOwner struct {
	Host string
	PID  int
}

func (o LeaseOwner) String() string { return fmt.Sprintf("%s pid %d", o.Host, o.PID) }

// Lease is a held, time-limited right to be the one runner of a job. Renew it well before it
// expires; Release it when done. A holder that dies leaves it to expire, and then anyone may
// take it over.
type Lease struct {
	l       *Ledger
	Name    string
	Owner   LeaseOwner
	TTL     time.Duration
	Expires time.Time
	// TookOver says whose lease this one replaced and why (its holder no longer runs, or its
	// lease expired); "" when nobody held it.
	TookOver string
}

// LeaseHeldError says who holds a lease that was asked for.
type LeaseHeldError struct {
	Name    string
	Holder  LeaseOwner
	Since   time.Time
	Expires time.Time
	// OtherHost: the holder runs on another host, so this one cannot tell whether it is alive.
	OtherHost bool
}

func (e *LeaseHeldError) Error() string {
	s := fmt.Sprintf("%s is already running on %s since %s (lease until %s", e.Name, e.Holder,
		e.Since.Format(time.RFC3339), e.Expires.Format(time.RFC3339))
	if e.OtherHost {
		s += "; the holder is on another host, so whether it still runs cannot be checked from here: if it is gone, its lease is taken over once it expires, or stop it and run again there"
	}
	return s + ")"
}

// AcquireLease takes the lease name for owner for ttl. It fails with *LeaseHeldError when another
// owner holds an unexpired lease; an expired one is taken over, and so is one whose holder ran
// on this host and is no longer alive. The same owner acquiring again
// renews it.
func (l *Ledger) AcquireLease(ctx context.Context, name string, owner LeaseOwner, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("acquire lease %s: %w: ttl %v", name, ErrInvalid, ttl)
	}
	now := l.now()
	expires := now.Add(ttl)
	var tookOver string
	err := l.write(ctx, func(tx *writeTx) error {
		tookOver = ""
		var h LeaseOwner
		var acquired, exp string
		err := tx.QueryRowContext(ctx, "SELECT host, pid, acquired, expires FROM leases WHERE name = ?", name).
			Scan(&h.Host, &h.PID, &acquired, &exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case h == owner:
			_, err := tx.ExecContext(ctx, "UPDATE leases SET expires = ? WHERE name = ?", fmtTime(expires), name)
			return err
		case !parseTime(exp).After(now):
			tookOver = fmt.Sprintf("taken over from %s, whose lease expired at %s", h, exp)
		case l.processGone(h.Host, h.PID):
			tookOver = fmt.Sprintf("taken over from %s, which is no longer running (lease until %s, left behind when it ended without releasing it)", h, exp)
		default:
			return &LeaseHeldError{Name: name, Holder: h, Since: parseTime(acquired), Expires: parseTime(exp), OtherHost: h.Host != l.host}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO leases (name, host, pid, acquired, expires) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, acquired = excluded.acquired,
			expires = excluded.expires`, name, owner.Host, owner.PID, fmtTime(now), fmtTime(expires))
		return err
	})
	if err != nil {
		var held *LeaseHeldError
		if errors.As(err, &held) {
			return nil, held
		}
		return nil, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return &Lease{l: l, Name: name, Owner: owner, TTL: ttl, Expires: expires, TookOver: tookOver}, nil
}

// Renew extends the lease by its TTL from now. It fails with ErrLeaseLost when the lease has
// expired and been taken over, or was released.
func (ls *Lease) Renew(ctx context.Context) error {
	expires := ls.l.now().Add(ls.TTL)
	err := ls.l.write(ctx, func(tx *writeTx) error {
		return expectOne(tx.ExecContext(ctx, "UPDATE leases SET expires = ? WHERE name = ? AND host = ? AND pid = ?",
			fmtTime(expires), ls.Name, ls.Owner.Host, ls.Owner.PID))
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("renew lease %s: %w", ls.Name, ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("renew lease %s: %w", ls.Name, err)
	}
	ls.Expires = expires
	return nil
}

// Release gives the lease up. Releasing a lease another owner has taken over changes nothing.
func (ls *Lease) Release(ctx context.Context) error {
	err := ls.l.write(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM leases WHERE name = ? AND host = ? AND pid = ?", ls.Name, ls.Owner.Host, ls.Owner.PID)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", ls.Name, err)
	}
	return nil
}
