package heartbeat

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeepRenewsUntilStopped(t *testing.T) {
	var n atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		Keep(30*time.Millisecond, stop, func(context.Context) error { n.Add(1); return nil }, nil,
			func(error) { t.Error("failed called") }, func(error) { t.Error("lost called") })
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	<-done
	if n.Load() < 2 {
		t.Errorf("%d renewals in 100ms at a 10ms interval", n.Load())
	}
}

func TestKeepGivesUpBeforeTheRightLapses(t *testing.T) {
	boom := errors.New("disk full")
	var fails atomic.Int32
	var lostErr error
	Keep(60*time.Millisecond, make(chan struct{}), func(context.Context) error { return boom }, nil,
		func(error) { fails.Add(1) }, func(err error) { lostErr = err })
	if !errors.Is(lostErr, boom) {
		t.Errorf("lost %v, want the renewal error", lostErr)
	}
	// Renewals every 20ms of a 60ms right: given up at the second failure at the latest, while
	// the right still holds.
	if n := fails.Load(); n < 1 || n > 2 {
		t.Errorf("%d failed renewals reported, want 1 or 2", n)
	}
}

func TestKeepStopsAtAFinalError(t *testing.T) {
	gone := errors.New("taken over")
	var lostErr error
	Keep(30*time.Millisecond, make(chan struct{}), func(context.Context) error { return gone },
		func(err error) bool { return errors.Is(err, gone) },
		func(error) { t.Error("a final error reported as a failure") }, func(err error) { lostErr = err })
	if lostErr != gone {
		t.Errorf("lost %v, want %v", lostErr, gone)
	}
}
