package amili

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer keeps a Client within Amili's rate limit: a token bucket at the configured rate, plus
// a pause until X-RateLimit-Reset when the server says few requests remain or answered 429.
// It runs on the Client's clock, so tests with a fake clock never really wait.
type pacer struct {
	lim      *rate.Limiter
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	low      int
	maxPause time.Duration

	mu    sync.Mutex
	until time.Time
}

func newPacer(cfg Config) *pacer {
	return &pacer{
		lim:      rate.NewLimiter(rate.Limit(cfg.RateLimit/60), cfg.Burst),
		now:      cfg.Now,
		sleep:    cfg.Sleep,
		low:      cfg.LowRemaining,
		maxPause: cfg.MaxRetryTime,
	}
}

// wait blocks until one more request may be sent and returns how long it waited.
func (p *pacer) wait(ctx context.Context) (time.Duration, error) {
	var waited time.Duration
	p.mu.Lock()
	until := p.until
	p.mu.Unlock()
	if d := until.Sub(p.now()); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return waited, err
		}
		waited += d
	}
	r := p.lim.ReserveN(p.now(), 1)
	if !r.OK() {
		return waited, errors.New("rate limiter: burst is zero")
	}
	if d := r.DelayFrom(p.now()); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			r.CancelAt(p.now())
			return waited, err
		}
		waited += d
	}
	return waited, nil
}

// pause holds every request until t (bounded by maxPause from now).
func (p *pacer) pause(t time.Time) {
	if limit := p.now().Add(p.maxPause); t.After(limit) {
		t = limit
	}
	p.mu.Lock()
	if t.After(p.until) {
		p.until = t
	}
	p.mu.Unlock()
}

// observe reads the rate-limit headers of a response: when at most low requests remain in
// the window, new requests wait for its reset.
func (p *pacer) observe(h http.Header) {
	if p.low < 0 {
		return
	}
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil || rem > p.low {
		return
	}
	if t, ok := parseReset(h.Get("X-RateLimit-Reset"), p.now()); ok {
		p.pause(t)
	}
}

// parseReset reads X-RateLimit-Reset: a Unix time (Eve's reading), a number of seconds from
// now when the number is too small to be a Unix time, or an HTTP date.
func parseReset(v string, now time.Time) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		if n < 1e9 {
			return now.Add(time.Duration(n * float64(time.Second))), true
		}
		sec := int64(n)
		return time.Unix(sec, int64((n-float64(sec))*1e9)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
