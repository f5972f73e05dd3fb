package schedules

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/amili-import/amili-import/internal/heartbeat"
)

// DefaultLeaseTTL is how long a lease lasts unless renewed, when none is configured: long
// enough that a busy machine renews it in time (every third of it), short enough that a dead
// daemon's job runs again within minutes.
const DefaultLeaseTTL = 2 * time.Minute

// Lease is a held, time-limited right to be the one runner of a name (*ledger.Lease).
type Lease interface {
	Renew(ctx context.Context) error
	Release(ctx context.Context) error
}

// AcquireFunc takes the lease on name for ttl, or fails saying who holds it. The daemon and
// the run command pass the ledger's AcquireLease with this process as owner.
type AcquireFunc func(ctx context.Context, name string, ttl time.Duration) (Lease, error)

// Exclusive runs fn while holding the lease on name, so that no other process (a second
// daemon, a one-shot run) runs the same job at the same time. The lease is renewed every
// ttl/3; if it cannot be renewed before it would expire, fn's context is cancelled, since
// another process may then take it over. The lease is released when fn returns, even when
// ctx was cancelled. An error from acquiring is returned as is (the ledger's
// *LeaseHeldError names the holder).
func Exclusive(ctx context.Context, acquire AcquireFunc, name string, ttl time.Duration, log *slog.Logger, fn func(ctx context.Context) error) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lease, err := acquire(ctx, name, ttl)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenew := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		// Renewal goes on while a cancelled run drains: it does not use runCtx.
		heartbeat.Keep(ttl, stopRenew, lease.Renew, nil,
			func(err error) { log.Warn("cannot renew the lease", "lease", name, "error", err) },
			func(err error) {
				log.Error("lease about to expire: stopping the run", "lease", name)
				cancel(fmt.Errorf("lease %s lost: %w", name, err))
			})
	}()
	runErr := fn(runCtx)
	close(stopRenew)
	<-renewed
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if err := lease.Release(rctx); err != nil {
		log.Warn("cannot release the lease: the next run takes it over once this process has ended (on this host) or the lease has expired (elsewhere)",
			"lease", name, "error", err)
	}
	if runErr == nil {
		if cause := context.Cause(runCtx); cause != nil && cause != context.Canceled && ctx.Err() == nil {
			return cause
		}
	}
	return runErr
}
