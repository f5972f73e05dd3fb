// Package heartbeat keeps a time-limited right alive by renewing it: a job's lease and a run's
// ownership in the ledger. It decides, in one place, when a right whose renewals fail must be
// given up: before it could lapse, so that the holder stops before anyone may take over.
package heartbeat

import (
	"context"
	"time"
)

// Keep calls renew every ttl/3 until stop is closed. Each failed renewal goes to failed. Keep
// returns, having called lost once, when final says a renewal's error means the right is gone,
// or when renewals have failed for so long that the right would lapse before the next one.
// final may be nil (no error is final).
func Keep(ttl time.Duration, stop <-chan struct{}, renew func(context.Context) error,
	final func(error) bool, failed, lost func(error)) {
	every := max(ttl/3, time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		err := renew(ctx)
		cancel()
		if err == nil {
			lastOK = time.Now()
			continue
		}
		if final != nil && final(err) {
			lost(err)
			return
		}
		failed(err)
		if time.Since(lastOK)+every >= ttl {
			lost(err)
			return
		}
	}
}
