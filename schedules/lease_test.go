package schedules

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeLease struct {
	mu       sync.Mutex
	renews   int
	released int
	failFrom int // renewals from this count on fail (0 = never)
}

func (l *fakeLease) Renew(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.renews++
	if l.failFrom > 0 && l.renews >= l.failFrom {
		return errors.New("database is locked")
	}
	return nil
}

func (l *fakeLease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	l.released++
	return nil
}

func acquireOf(l *fakeLease) AcquireFunc {
	return func(context.Context, string, time.Duration) (Lease, error) { return l, nil }
}

func TestExclusive(t *testing.T) {
	t.Run("HeldErrorStopsBeforeWork", func(t *testing.T) {
		held := errors.New("invoices is already running on host-b pid 42")
		called := false
		err := Exclusive(context.Background(), func(context.Context, string, time.Duration) (Lease, error) {
			return nil, held
		}, "invoices", time.Minute, nil, func(context.Context) error { called = true; return nil })
		if !errors.Is(err, held) || called {
			t.Errorf("err = %v, called = %v; want the held error and no run", err, called)
		}
	})
	t.Run("RenewsWhileRunningAndReleases", func(t *testing.T) {
		l := &fakeLease{}
		err := Exclusive(context.Background(), acquireOf(l), "j", 60*time.Millisecond, nil, func(ctx context.Context) error {
			time.Sleep(130 * time.Millisecond)
			return ctx.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		if l.renews < 3 || l.released != 1 {
			t.Errorf("renews=%d released=%d, want ≥3 renewals (every ttl/3) and one release", l.renews, l.released)
		}
	})
	t.Run("ReleasesAfterCancel", func(t *testing.T) {
		l := &fakeLease{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Exclusive(ctx, acquireOf(l), "j", time.Minute, nil, func(ctx context.Context) error { return ctx.Err() })
		if l.released != 1 {
			t.Errorf("released %d times, want 1", l.released)
		}
	})
	t.Run("LostLeaseCancelsRun", func(t *testing.T) {
		l := &fakeLease{failFrom: 1}
		log, buf := newLogger()
		err := Exclusive(context.Background(), acquireOf(l), "j", 60*time.Millisecond, log, func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return nil // a run that stops cleanly on cancel
			case <-time.After(5 * time.Second):
				return errors.New("run was not cancelled")
			}
		})
		if err == nil || !strings.Contains(err.Error(), "lease j lost") {
			t.Errorf("err = %v, want the lease-lost cause", err)
		}
		if !strings.Contains(buf.String(), "cannot renew the lease") {
			t.Errorf("renewal failure not logged:\n%s", buf.String())
		}
	})
}
