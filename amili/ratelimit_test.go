package amili

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
)

// maxInWindow returns the largest number of times within any window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	times = slices.Clone(times)
	slices.SortFunc(times, time.Time.Compare)
	best := 0
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// TestLimiterFakeClock: with the default rate and burst, 60 sequential calls on the fake clock
// never put more than burst + rate·window requests into any window, and the first burst goes
// out without waiting.
func TestLimiterFakeClock(t *testing.T) {
	var clk *fakeclock.Clock
	var mu sync.Mutex
	var times []time.Time
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, clk.Now())
		mu.Unlock()
		writeJSON(w, 200, `{"_id":"c1"}`)
	})
	var c *Client
	c, clk = testClient(t, srv.URL, func(cfg *Config) { cfg.RateLimit, cfg.Burst = 0, 0 }) // defaults
	const n = 60
	for range n {
		if _, err := c.GetCase(context.Background(), "c1"); err != nil {
			t.Fatal(err)
		}
	}
	burst, rate := DefaultBurst, float64(DefaultRateLimit)
	if got, max := maxInWindow(times, time.Minute), burst+int(rate); got > max {
		t.Errorf("%d requests in one minute, want at most %d", got, max)
	}
	if got, max := maxInWindow(times, 6*time.Second), burst+int(rate/10); got > max {
		t.Errorf("%d requests in 6s, want at most %d", got, max)
	}
	if !times[burst-1].Equal(times[0]) {
		t.Errorf("the first %d requests were not sent at once: %v .. %v", burst, times[0], times[burst-1])
	}
	// The requests beyond the burst wait for the rate: (60 − burst) / rate minutes.
	want := time.Duration(float64(n-burst) / rate * float64(time.Minute))
	if got := c.Stats().RateLimitWait; got < want-time.Second || got > want+time.Second {
		t.Errorf("RateLimitWait = %v, want about %v", got, want)
	}
}

// TestLimiterRealClockConcurrent: eight goroutines sharing one client at a scaled-up rate
// (6000/min = 100/s, burst 5). The limiter grants a request before the server sees it, so the
// last of 64 requests cannot arrive earlier than (64-5)/100 s after the start; and no window
// holds much more than burst + rate·window (the slack absorbs scheduling delays on a loaded
// machine, which bunch arrivals but never advance them).
func TestLimiterRealClockConcurrent(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		writeJSON(w, 200, `{"_id":"c1"}`)
	})
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthConfig{Token: "t"}, RateLimit: 6000, Burst: 5})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 8 {
				if _, err := c.GetCase(context.Background(), "c1"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(times) != 64 {
		t.Fatalf("server saw %d requests, want 64", len(times))
	}
	last := slices.MaxFunc(times, time.Time.Compare)
	if got, want := last.Sub(start), 590*time.Millisecond; got < want-5*time.Millisecond {
		t.Errorf("64 requests done in %v, the limit allows no less than %v", got, want)
	}
	const w = 300 * time.Millisecond
	if got, limit := maxInWindow(times, w), 5+30+15; got > limit {
		t.Errorf("%d requests within %v, want at most %d", got, w, limit)
	}
	if st := c.Stats(); st.RateLimitWait == 0 {
		t.Error("Stats().RateLimitWait = 0, want the time callers waited")
	}
}

// The default rate and burst leave headroom under Amili's published limit: at exactly the limit
// every run of a few hundred invoices met a 429 on a real network.
func TestDefaultRateStaysUnderThePublishedLimit(t *testing.T) {
	if DefaultRateLimit > 0.98*PublishedRateLimit || DefaultBurst >= PublishedBurst {
		t.Errorf("defaults %v/min, burst %d: want at most 98%% of %d/min and a burst under %d",
			DefaultRateLimit, DefaultBurst, PublishedRateLimit, PublishedBurst)
	}
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", Auth: AuthConfig{Token: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.cfg.RateLimit; got != DefaultRateLimit {
		t.Errorf("a client without a rate runs at %v/min, want %v", got, DefaultRateLimit)
	}
}
