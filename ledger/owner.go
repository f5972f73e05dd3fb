package ledger

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/amili-import/amili-import/internal/heartbeat"
)

// Owner is one sending process's right to work on submissions. Join records it with a
// heartbeat; every submission it claims carries its id, and no other process takes such a
// submission over while the owner is alive: its heartbeat has not lapsed, it has not left, and
// (on the same host) its process exists. An owner whose heartbeat lapsed is gone for good:
// MarkSending refuses it (fencing), and the context of WithContext is cancelled, so the run
// starts nothing new.
type Owner struct {
	l    *Ledger
	ID   string
	Host string
	PID  int
	TTL  time.Duration

	stop chan struct{}
	done chan struct{}
	// alive is cancelled, with the reason as its cause, when the owner is lost.
	alive context.Context
	lose  context.CancelCauseFunc
}

// OwnerInfo describes an owner, for messages about who holds a submission.
type OwnerInfo struct {
	ID      string
	Host    string
	PID     int
	Expires time.Time
}

func (o OwnerInfo) String() string {
	return fmt.Sprintf("%s pid %d (heartbeat until %s)", o.Host, o.PID, o.Expires.Format(time.RFC3339))
}

// Join records a new owner for host and pid whose heartbeat lasts ttl, and keeps it alive:
// a goroutine renews it every ttl/3 until Leave. When a renewal finds the heartbeat lapsed, or
// renewals fail until it would lapse, the owner is lost: WithContext's contexts are cancelled.
func (l *Ledger) Join(ctx context.Context, host string, pid int, ttl time.Duration, log *slog.Logger) (*Owner, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("join: %w: ttl %v", ErrInvalid, ttl)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	o := &Owner{l: l, ID: hex.EncodeToString(b[:]), Host: host, PID: pid, TTL: ttl,
		stop: make(chan struct{}), done: make(chan struct{})}
	o.alive, o.lose = context.WithCancelCause(context.Background())
	now := l.now()
	err := l.write(ctx, func(tx *writeTx) error {
		// Owners that left or lapsed more than a day ago are of no use to anyone.
		if _, err := tx.ExecContext(ctx, "DELETE FROM owners WHERE expires < ? AND id NOT IN (SELECT owner FROM submissions WHERE state IN ('claimed', 'sending', 'registered'))",
			fmtTime(now.Add(-24*time.Hour))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO owners (id, host, pid, started, expires) VALUES (?, ?, ?, ?, ?)",
			o.ID, host, pid, fmtTime(now), fmtTime(now.Add(ttl)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	live.add(o.ID)
	go o.keep(log)
	return o, nil
}

// live is the set of owners of this process whose runs go on: for an owner recorded with this
// host and pid, it, not the heartbeat, says whether the owner is alive, so that a run that ended
// without being able to record it (a full disk) does not hold its rows in this process.
var live = liveOwners{ids: map[string]bool{}}

type liveOwners struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (s *liveOwners) add(id string)  { s.mu.Lock(); s.ids[id] = true; s.mu.Unlock() }
func (s *liveOwners) drop(id string) { s.mu.Lock(); delete(s.ids, id); s.mu.Unlock() }
func (s *liveOwners) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

// keep renews the heartbeat until Leave, and loses the owner when it lapsed or would lapse.
func (o *Owner) keep(log *slog.Logger) {
	defer close(o.done)
	heartbeat.Keep(o.TTL, o.stop, o.Beat, func(err error) bool { return errors.Is(err, ErrOwnerLost) },
		func(err error) { log.Warn("cannot renew the ledger heartbeat", "owner", o.ID, "error", err) },
		func(err error) {
			if !errors.Is(err, ErrOwnerLost) {
				err = fmt.Errorf("%w: heartbeat not renewed in time: %w", ErrOwnerLost, err)
			}
			live.drop(o.ID)
			o.lose(err)
			log.Error("ledger ownership lapsed: this run starts no new request", "owner", o.ID, "error", err)
		})
}

// Beat renews the heartbeat by TTL from now. It fails with ErrOwnerLost when the heartbeat had
// already lapsed (another process may have taken the owner's submissions over) or the owner left.
func (o *Owner) Beat(ctx context.Context) error {
	now := o.l.now()
	err := o.l.write(ctx, func(tx *writeTx) error {
		return expectOne(tx.ExecContext(ctx, "UPDATE owners SET expires = ? WHERE id = ? AND gone = 0 AND expires > ?",
			fmtTime(now.Add(o.TTL)), o.ID, fmtTime(now)))
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("owner %s: %w", o.ID, ErrOwnerLost)
	}
	return err
}

// WithContext returns a context that is cancelled when the owner is lost, with the reason as
// its cause, so a run started under it stops starting new work.
func (o *Owner) WithContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(o.alive, func() { cancel(context.Cause(o.alive)) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// Leave stops the heartbeat and records that the owner is gone, so that what it still holds
// may be taken over at once. Call it when every request of the process has ended.
func (o *Owner) Leave(ctx context.Context) error {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	<-o.done
	live.drop(o.ID) // gone for this process even if the ledger cannot be told
	err := o.l.write(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, "UPDATE owners SET gone = 1 WHERE id = ?", o.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// ownerState reads owner id inside tx. alive is false when the owner is unknown, left, its
// heartbeat lapsed, or its process is known to be gone (same host, no such pid).
func (l *Ledger) ownerState(ctx context.Context, tx *writeTx, id string) (info OwnerInfo, alive bool, err error) {
	var expires string
	var gone int
	err = tx.QueryRowContext(ctx, "SELECT host, pid, expires, gone FROM owners WHERE id = ?", id).
		Scan(&info.Host, &info.PID, &expires, &gone)
	if errors.Is(err, sql.ErrNoRows) {
		return OwnerInfo{ID: id}, false, nil
	}
	if err != nil {
		return OwnerInfo{}, false, err
	}
	info.ID, info.Expires = id, parseTime(expires)
	alive = gone == 0 && info.Expires.After(l.now()) && !l.processGone(info.Host, info.PID)
	if alive && info.Host == l.host && info.PID == os.Getpid() {
		alive = live.has(id)
	}
	return info, alive, nil
}

// processGone reports whether a process of this host with pid is known not to exist. On another
// host nothing is known, and the heartbeat decides.
func (l *Ledger) processGone(host string, pid int) bool {
	if host != l.host || pid <= 0 {
		return false
	}
	return l.pidGone(pid)
}

// pidGone is the default process check: kill(pid, 0) fails with ESRCH only when no such
// process exists (EPERM means it exists under another user).
func pidGone(pid int) bool {
	if pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
