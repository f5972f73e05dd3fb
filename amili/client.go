package amili

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	errAttemptTimeout = fmt.Errorf("no answer within amili.timeout: %w", context.DeadlineExceeded)
	errLateSend       = errors.New("the request could not go out in time after it was marked as sending")
)

// maxResponse bounds how much of a response is read; Amili's answers are small JSON documents.
const maxResponse = 16 << 20

// Client talks to one Amili API with one set of credentials. It is safe for concurrent use:
// all callers share its token, its rate limiter and its statistics.
type Client struct {
	cfg    Config
	log    *slog.Logger
	tokens *tokens
	pacer  *pacer

	mu    sync.Mutex
	stats Stats
}

// New checks cfg, fills in defaults and reads the private key. It does not contact the API;
// call Authenticate to check the credentials.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, log: cfg.Logger, stats: Stats{Calls: map[string]map[int]int{}}}
	c.pacer = newPacer(cfg)
	if c.tokens, err = newTokens(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Authenticate fetches a fresh access token now, so a bad API code or key shows up before any
// work starts. With a pre-issued token there is nothing to fetch and it returns nil.
func (c *Client) Authenticate(ctx context.Context) error {
	c.tokens.force()
	_, err := c.tokens.get(ctx)
	return err
}

// Stats returns a copy of the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Calls = make(map[string]map[int]int, len(c.stats.Calls))
	for ep, byStatus := range c.stats.Calls {
		m := make(map[int]int, len(byStatus))
		for st, n := range byStatus {
			m[st] = n
		}
		s.Calls[ep] = m
	}
	return s
}

// callKind says what may be done again when an attempt fails.
type callKind int

const (
	// kindRead is a GET: repeating it changes nothing.
	kindRead callKind = iota
	// kindUpload is a media upload: repeating it replaces the same file.
	kindUpload
	// kindOnce is a registration, payment, crediting or cancellation: once written it is never
	// sent again by the client, because a second copy would be a second registration.
	kindOnce
	// kindRepeatablePost is a POST without lasting effect (the simple authentication).
	kindRepeatablePost
)

// call is one logical API call, possibly several HTTP attempts.
type call struct {
	op       string // for errors, e.g. "register invoice INV-1"
	method   string
	template string // path template, for statistics
	path     string // path with ids filled in
	query    url.Values
	header   http.Header
	// body opens the request body for one attempt: reader, content type, length (-1 unknown).
	body   func() (io.ReadCloser, string, int64, error)
	kind   callKind
	noAuth bool // the authentication call itself
	raw    bool // the answer is not checked for _status: "ERR"
}

// attemptResult is the outcome of one HTTP attempt.
type attemptResult struct {
	body   []byte
	header http.Header
	err    *Error
	token  string // the token the attempt was sent with
	final  bool   // do not retry whatever the class
}

// do runs r until it succeeds, fails for good, or runs out of attempts or time, and returns
// the response body of a 2xx answer.
func (c *Client) do(ctx context.Context, r *call) ([]byte, error) {
	start := c.cfg.Now()
	endpoint := r.method + " " + r.template
	reauthed := false
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, &Error{Op: r.op, Class: Retryable, Err: err}
		}
		if attempt > 1 {
			c.count(func(s *Stats) { s.Retries++ })
		}
		res := c.attempt(ctx, r, attempt, endpoint)
		if res.err == nil {
			return res.body, nil
		}
		e := res.err
		if ctx.Err() != nil {
			if e.Class != InDoubt {
				e.Class = Retryable
			}
			if e.Err == nil {
				e.Err = ctx.Err()
			}
			return nil, e
		}
		if res.final {
			return nil, e
		}
		if e.StatusCode == http.StatusUnauthorized && !r.noAuth {
			// A 401 means the request was refused before anything was done, so even a
			// registration may be sent again, once, with a fresh token.
			if !reauthed && c.tokens.invalidate(res.token) {
				reauthed = true
				c.log.Info("amili token refused; authenticating again", "endpoint", endpoint, "credential", fingerprint(res.token))
				continue
			}
			e.Class = Unauthorized
			return nil, e
		}
		if e.Class != Retryable {
			return nil, e
		}
		if attempt >= c.cfg.MaxAttempts {
			return nil, e
		}
		delay := c.retryDelay(e.StatusCode, res.header, attempt)
		if c.cfg.Now().Add(delay).Sub(start) > c.cfg.MaxRetryTime {
			return nil, e
		}
		if e.StatusCode == http.StatusTooManyRequests {
			// Everyone waits, and the wait counts as rate limiting.
			c.pacer.pause(c.cfg.Now().Add(delay))
			c.count(func(s *Stats) { s.RateLimitWait += delay })
		}
		c.log.Warn("amili call failed; retrying", "endpoint", endpoint, "attempt", attempt,
			"status", e.StatusCode, "error", e.Error(), "delay", delay)
		if err := c.cfg.Sleep(ctx, delay); err != nil {
			return nil, &Error{Op: r.op, Class: Retryable, Err: err}
		}
	}
}

// attempt sends r once and classifies the outcome.
func (c *Client) attempt(ctx context.Context, r *call, n int, endpoint string) (res attemptResult) {
	sendBy, wait, failed := c.ready(ctx, r, &res)
	if failed != nil {
		return *failed
	}
	actx, cancel := context.WithTimeoutCause(ctx, c.cfg.Timeout, errAttemptTimeout)
	defer cancel()
	var written, late atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		// The request's first write on the connection is refused after sendBy: a process stopped
		// after its mark for so long that another may have taken its work over writes nothing.
		GotConn: func(info httptrace.GotConnInfo) { armConn(info.Conn, sendBy, c.cfg.Now, &late) },
		// Conservative: once any of the request may have left, a registration is in doubt.
		WroteHeaders: func() { written.Store(true) },
		WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) },
	})
	req, failed := c.newRequest(actx, r, res.token)
	if failed != nil {
		return *failed
	}

	t0 := c.cfg.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	defer func() {
		c.record(CallInfo{Endpoint: endpoint, Method: r.method, Status: status, Attempt: n,
			Duration: c.cfg.Now().Sub(t0), RateLimitWait: wait, Err: errOrNil(res.err)}, res.token)
	}()
	if err != nil {
		if cause := context.Cause(actx); cause == errAttemptTimeout && !errors.Is(err, cause) {
			err = fmt.Errorf("%w: %w", cause, err) // says what happened, not only "context canceled"
		}
		err = c.timeoutCause(actx, err)
		res.err = &Error{Op: r.op, Class: Retryable, Err: err}
		switch {
		case late.Load():
			// The connection refused the request's first write: nothing of it left.
			res.err.Err, res.final = fmt.Errorf("%w: %w", ErrNotSent, err), true
		case r.kind == kindOnce && written.Load():
			res.err.Class = InDoubt
		}
		return res
	}
	defer resp.Body.Close()
	res.header = resp.Header
	c.pacer.observe(resp.Header)
	if status == http.StatusTooManyRequests {
		c.count(func(s *Stats) { s.TooManyRequests++ })
	}
	res.body, res.err = readAnswer(r, resp)
	if res.err != nil && res.err.Err != nil {
		res.err.Err = c.timeoutCause(actx, res.err.Err)
	}
	return res
}

// timeoutCause says "timeout after <amili.timeout>" in err when the attempt's own deadline is
// what ended it, rather than a bare "context deadline exceeded".
func (c *Client) timeoutCause(actx context.Context, err error) error {
	if context.Cause(actx) != errAttemptTimeout {
		return err
	}
	return fmt.Errorf("timeout after %s (amili.timeout): %w", c.cfg.Timeout, err)
}

// ready does what comes before an attempt's request: the token (into res), the rate-limit wait,
// and the caller's mark ("this may reach Amili"), the last of them, which may set the time by
// which the request must go out. failed is the attempt's end when one of them failed.
func (c *Client) ready(ctx context.Context, r *call, res *attemptResult) (sendBy time.Time, wait time.Duration, failed *attemptResult) {
	if !r.noAuth {
		tok, err := c.tokens.get(ctx)
		if err != nil {
			return time.Time{}, 0, &attemptResult{err: asError(r.op, err), final: true}
		}
		res.token = tok
	}
	wait, err := c.pacer.wait(ctx)
	if wait > 0 {
		c.count(func(s *Stats) { s.RateLimitWait += wait })
	}
	if err != nil {
		return time.Time{}, wait, &attemptResult{err: &Error{Op: r.op, Class: Retryable, Err: err}, final: true, token: res.token}
	}
	if hook := beforeSendFrom(ctx); hook != nil && (r.kind == kindOnce || r.kind == kindUpload) {
		if sendBy, err = hook(ctx); err != nil {
			return time.Time{}, wait, &attemptResult{err: &Error{Op: r.op, Class: Retryable, Err: fmt.Errorf("%w: %w", ErrNotSent, err)},
				final: true, token: res.token}
		}
	}
	return sendBy, wait, nil
}

// newRequest builds r's HTTP request with its body, headers and token.
func (c *Client) newRequest(ctx context.Context, r *call, token string) (*http.Request, *attemptResult) {
	u := c.cfg.BaseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var (
		body  io.ReadCloser
		ctype string
		size  int64
		err   error
	)
	if r.body != nil {
		if body, ctype, size, err = r.body(); err != nil {
			return nil, &attemptResult{err: asError(r.op, err), final: true, token: token}
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, &attemptResult{err: &Error{Op: r.op, Class: Permanent, Err: err}, final: true, token: token}
	}
	if body != nil {
		req.ContentLength = size
		if size >= 0 && r.kind != kindUpload {
			// Lets the transport resend on a stale keep-alive connection when nothing was
			// written; everything else is decided here.
			req.GetBody = func() (io.ReadCloser, error) {
				b, _, _, err := r.body()
				return b, err
			}
		}
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("X-API-Key", token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	return req, nil
}

// readAnswer reads and classifies an answer: the body of a success, or the error it means.
func readAnswer(r *call, resp *http.Response) ([]byte, *Error) {
	status := resp.StatusCode
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	class := classify(r.kind, status)
	if rerr != nil {
		// The answer was cut off: for a registration whose status said anything but "refused",
		// nobody knows what happened.
		switch {
		case class == Permanent || class == Unauthorized || status == http.StatusTooManyRequests:
			// Refused: what the body said does not change that.
		case r.kind == kindOnce:
			class = InDoubt
		default:
			class = Retryable
		}
		// A 2xx was committed whatever became of its body.
		return nil, &Error{Op: r.op, Class: class, StatusCode: status, Err: fmt.Errorf("read response: %w", rerr),
			Accepted: r.kind == kindOnce && status >= 200 && status < 300}
	}
	if class != 0 {
		e := &Error{Op: r.op, Class: class, StatusCode: status}
		parseErrorBody(data, e)
		return nil, e
	}
	if !r.raw {
		if e := statusErr(data); e != nil {
			e.Op, e.StatusCode = r.op, status
			e.Class = Permanent
			if e.Code >= 500 && r.kind == kindOnce {
				e.Class, e.Accepted = InDoubt, true // a 2xx whatever the body says
			}
			return nil, e
		}
	}
	return data, nil
}

// classify maps an HTTP status to an error class; 0 means success.
func classify(kind callKind, status int) Class {
	switch {
	case status >= 200 && status < 300:
		return 0
	case status == http.StatusUnauthorized:
		return Unauthorized
	case status == http.StatusTooManyRequests:
		return Retryable // refused before anything was done
	case status >= 400 && status < 500:
		return Permanent
	case kind == kindOnce:
		// A 5xx (or anything unexpected) after a registration was received: it may have been
		// stored. Even 502/503/504 can come from a proxy after the backend acted.
		return InDoubt
	case status >= 500:
		return Retryable
	}
	return Permanent
}

// retryDelay is how long to wait before attempt+1: Retry-After when given, else the rate-limit
// reset on a 429, else exponential backoff with full jitter.
func (c *Client) retryDelay(status int, h http.Header, attempt int) time.Duration {
	now := c.cfg.Now()
	if h != nil {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
			return d
		}
		if status == http.StatusTooManyRequests {
			if t, ok := parseReset(h.Get("X-RateLimit-Reset"), now); ok {
				return max(t.Sub(now), 0)
			}
		}
	}
	ceil := c.cfg.BackoffBase << min(attempt-1, 30)
	if ceil <= 0 || ceil > c.cfg.BackoffMax {
		ceil = c.cfg.BackoffMax
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// record counts one attempt, logs it at debug level and calls OnCall.
func (c *Client) record(ci CallInfo, token string) {
	c.count(func(s *Stats) {
		m := s.Calls[ci.Endpoint]
		if m == nil {
			m = map[int]int{}
			s.Calls[ci.Endpoint] = m
		}
		m[ci.Status]++
	})
	c.log.Debug("amili call", "endpoint", ci.Endpoint, "status", ci.Status, "attempt", ci.Attempt,
		"duration", ci.Duration, "rate_limit_wait", ci.RateLimitWait, "credential", fingerprint(token))
	if c.cfg.OnCall != nil {
		c.cfg.OnCall(ci)
	}
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

func (c *Client) countReauth() { c.count(func(s *Stats) { s.Reauths++ }) }

// asError returns err as an *Error, wrapping anything else as a permanent failure of op.
func asError(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Op: op, Class: Permanent, Err: err}
}

func errOrNil(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}
