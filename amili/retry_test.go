package amili

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
)

// TestRetryAfterHonoured: the client sleeps exactly what Retry-After asks, in seconds or as an
// HTTP date, and what X-RateLimit-Reset implies on a 429 without Retry-After.
func TestRetryAfterHonoured(t *testing.T) {
	tests := []struct {
		name   string
		header func(now time.Time) http.Header
		want   time.Duration
	}{
		{"seconds", func(time.Time) http.Header { return http.Header{"Retry-After": {"7"}} }, 7 * time.Second},
		{"http date", func(now time.Time) http.Header {
			return http.Header{"Retry-After": {now.Add(42 * time.Second).UTC().Format(http.TimeFormat)}}
		}, 42 * time.Second},
		{"rate limit reset as unix time", func(now time.Time) http.Header {
			return http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(13*time.Second).Unix(), 10)}, "X-Ratelimit-Remaining": {"0"}}
		}, 13 * time.Second},
		{"rate limit reset as seconds", func(time.Time) http.Header {
			return http.Header{"X-Ratelimit-Reset": {"9"}}
		}, 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			var clk *fakeclock.Clock
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					for k, v := range tt.header(clk.Now()) {
						w.Header()[k] = v
					}
					writeJSON(w, 429, `{"_status":"ERR","_error":{"code":429,"message":"Too Many Requests"}}`)
					return
				}
				writeJSON(w, 200, `{"_id":"cred","is_active":true}`)
			})
			var c *Client
			c, clk = testClient(t, srv.URL)
			cr, err := c.GetCreditor(context.Background(), "cred")
			if err != nil {
				t.Fatalf("GetCreditor: %v", err)
			}
			if !cr.IsActive {
				t.Error("creditor not decoded")
			}
			if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{tt.want}) {
				t.Errorf("sleeps = %v, want [%v]", got, tt.want)
			}
			st := c.Stats()
			if st.RateLimitWait != tt.want {
				t.Errorf("Stats().RateLimitWait = %v, want %v", st.RateLimitWait, tt.want)
			}
			if st.TooManyRequests != 1 || st.Calls["GET /creditors/{id}"][429] != 1 || st.Calls["GET /creditors/{id}"][200] != 1 {
				t.Errorf("stats = %+v, want one 429 and one 200", st)
			}
		})
	}
}

// TestLowRemainingPauses: a 200 saying no requests remain makes the next request wait for
// the reset, counted as rate-limit wait.
func TestLowRemainingPauses(t *testing.T) {
	var clk *fakeclock.Clock
	var calls []CallInfo
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "1")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(clk.Now().Add(20*time.Second).Unix(), 10))
		writeJSON(w, 200, `{"_id":"c1"}`)
	})
	var c *Client
	c, clk = testClient(t, srv.URL, func(cfg *Config) { cfg.OnCall = func(ci CallInfo) { calls = append(calls, ci) } })
	for range 2 {
		if _, err := c.GetCase(context.Background(), "c1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{20 * time.Second}) {
		t.Errorf("sleeps = %v, want [20s]", got)
	}
	if got := c.Stats().RateLimitWait; got != 20*time.Second {
		t.Errorf("Stats().RateLimitWait = %v, want 20s", got)
	}
	if len(calls) != 2 || calls[0].RateLimitWait != 0 || calls[1].RateLimitWait != 20*time.Second {
		t.Errorf("OnCall waits = %+v, want 0 then 20s", calls)
	}
	if calls[1].Endpoint != "GET /cases/{id}" || calls[1].Status != 200 {
		t.Errorf("OnCall = %+v, want endpoint GET /cases/{id} status 200", calls[1])
	}
}

// TestRetryBounds: attempts stop at MaxAttempts, and before a wait would pass MaxRetryTime.
func TestRetryBounds(t *testing.T) {
	t.Run("attempts", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); w.WriteHeader(502) })
		c, clk := testClient(t, srv.URL, func(cfg *Config) {
			cfg.MaxAttempts = 4
			cfg.BackoffBase = time.Second
			cfg.BackoffMax = 3 * time.Second
		})
		_, err := c.GetCase(context.Background(), "c1")
		if e := mustError(t, err); e.Class != Retryable || e.StatusCode != 502 {
			t.Errorf("error = %v, want retryable 502", e)
		}
		if n.Load() != 4 {
			t.Errorf("requests = %d, want 4", n.Load())
		}
		sleeps := clk.Sleeps()
		if len(sleeps) != 3 {
			t.Fatalf("sleeps = %v, want 3", sleeps)
		}
		// Full jitter: each backoff lies in [0, min(max, base·2^(n-1))].
		for i, d := range sleeps {
			ceil := min(time.Second<<i, 3*time.Second)
			if d < 0 || d > ceil {
				t.Errorf("sleep %d = %v, want within [0, %v]", i+1, d, ceil)
			}
		}
		if got := c.Stats().Retries; got != 3 {
			t.Errorf("Stats().Retries = %d, want 3", got)
		}
	})
	t.Run("total time", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Retry-After", "50")
			w.WriteHeader(503)
		})
		c, clk := testClient(t, srv.URL, func(cfg *Config) { cfg.MaxAttempts = 10; cfg.MaxRetryTime = 2 * time.Minute })
		_, err := c.GetCase(context.Background(), "c1")
		if e := mustError(t, err); e.Class != Retryable {
			t.Errorf("class = %v, want retryable", e.Class)
		}
		// 0s, 50s, 100s sent; a third wait would end at 150s > 2m.
		if n.Load() != 3 {
			t.Errorf("requests = %d, want 3", n.Load())
		}
		if got := clk.Sleeps(); !slices.Equal(got, []time.Duration{50 * time.Second, 50 * time.Second}) {
			t.Errorf("sleeps = %v, want [50s 50s]", got)
		}
	})
}

// TestCancelStopsAtOnce: cancelling the context ends a call that is waiting to retry, with the
// real clock and a Retry-After of an hour.
func TestCancelStopsAtOnce(t *testing.T) {
	first := make(chan struct{}, 1)
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(503)
		select {
		case first <- struct{}{}:
		default:
		}
	})
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthConfig{Token: "t"}, MaxRetryTime: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.GetCase(ctx, "c1"); done <- err }()
	<-first
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if e := mustError(t, err); e.Class != Retryable {
			t.Errorf("class = %v, want retryable", e.Class)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("call still waiting an hour after cancel")
	}
	if n.Load() != 1 {
		t.Errorf("requests = %d, want 1", n.Load())
	}

	// An already cancelled context sends nothing.
	if _, err := c.GetCase(ctx, "c1"); !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n.Load() != 1 {
		t.Errorf("requests after cancelled call = %d, want 1", n.Load())
	}
}

// TestTimeoutAfterSendIsInDoubt: a registration whose answer does not come within Timeout is in
// doubt; a GET in the same situation is retried.
func TestTimeoutAfterSendIsInDoubt(t *testing.T) {
	release := make(chan struct{})
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	c, clk := testClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond; cfg.MaxAttempts = 2 })
	_, err := c.RegisterInvoice(context.Background(), invoice("INV-T"))
	if e := mustError(t, err); e.Class != InDoubt || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v (class %v), want in doubt after deadline", e, e.Class)
	}
	if n.Load() != 1 {
		t.Errorf("registration requests = %d, want 1", n.Load())
	}
	_, err = c.GetCase(context.Background(), "c1")
	if e := mustError(t, err); e.Class != Retryable {
		t.Errorf("GET class = %v, want retryable", e.Class)
	}
	if n.Load() != 3 {
		t.Errorf("requests = %d, want 1 + 2 GET attempts", n.Load())
	}
	if len(clk.Sleeps()) != 1 {
		t.Errorf("sleeps = %v, want one backoff", clk.Sleeps())
	}
}
