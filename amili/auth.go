package amili

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtLifetime is how far ahead the api-code JWT's exp lies (the docs suggest ~10 minutes).
const jwtLifetime = 10 * time.Minute

// tokens obtains and caches the access token. Concurrent callers share one fetch.
type tokens struct {
	c      *Client
	method string
	signer jwt.SigningMethod
	key    crypto.Signer

	mu       sync.Mutex
	token    string
	expires  time.Time // zero: unknown, use until 401
	inflight *fetch
	fetched  int
}

// fetch is one authentication in progress; done is closed when it ends.
type fetch struct {
	done chan struct{}
	err  error
}

func newTokens(c *Client) (*tokens, error) {
	a := c.cfg.Auth
	t := &tokens{c: c, method: a.Method}
	switch a.Method {
	case AuthToken:
		t.token = a.Token
	case AuthJWT:
		key, err := parsePrivateKey(a.PrivateKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("amili: private key: %w", err)
		}
		m, err := signingMethod(a.Algorithm, key)
		if err != nil {
			return nil, fmt.Errorf("amili: private key: %w", err)
		}
		t.key, t.signer = key, m
	}
	return t, nil
}

// get returns a valid token, authenticating when there is none or it is about to expire.
func (t *tokens) get(ctx context.Context) (string, error) {
	for {
		t.mu.Lock()
		if t.token != "" && !t.expiring() {
			tok := t.token
			t.mu.Unlock()
			return tok, nil
		}
		if t.method == AuthToken {
			t.mu.Unlock()
			return "", &Error{Op: "authenticate", Class: Unauthorized, Message: "the configured token was rejected"}
		}
		f := t.inflight
		leader := f == nil
		if leader {
			f = &fetch{done: make(chan struct{})}
			t.inflight = f
		}
		t.mu.Unlock()

		if leader {
			tok, exp, err := t.authenticate(ctx)
			t.mu.Lock()
			if err == nil {
				t.token, t.expires = tok, exp
				t.fetched++
				if t.fetched > 1 {
					t.c.countReauth()
				}
			}
			f.err = err
			t.inflight = nil
			t.mu.Unlock()
			close(f.done)
			if err != nil {
				return "", err
			}
			t.c.log.Info("amili authenticated", "method", t.method, "credential", fingerprint(tok), "expires", exp)
			return tok, nil
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", &Error{Op: "authenticate", Class: Retryable, Err: ctx.Err()}
		}
		if f.err != nil && ctx.Err() == nil && errors.Is(f.err, context.Canceled) {
			continue // the leader gave up on its own context; try again on ours
		}
		if f.err != nil {
			return "", f.err
		}
	}
}

// expiring reports whether the token expires within the refresh margin. Call with mu held.
func (t *tokens) expiring() bool {
	if t.expires.IsZero() {
		return false
	}
	return !t.c.cfg.Now().Add(refreshMargin).Before(t.expires)
}

// refreshMargin is how long before its expiry a token is replaced.
const refreshMargin = 30 * time.Second

// invalidate drops tok after the API refused it, so the next get fetches a new one. A token
// that has already been replaced is left alone: concurrent 401s share one re-authentication.
// It reports whether a new token can be had at all.
func (t *tokens) invalidate(tok string) bool {
	if t.method == AuthToken {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == tok {
		t.token, t.expires = "", time.Time{}
	}
	return true
}

// force drops the cached token (Authenticate uses it to fetch one now).
func (t *tokens) force() {
	if t.method == AuthToken {
		return
	}
	t.mu.Lock()
	t.token, t.expires = "", time.Time{}
	t.mu.Unlock()
}

// authenticate performs one authentication exchange.
func (t *tokens) authenticate(ctx context.Context) (string, time.Time, error) {
	a := t.c.cfg.Auth
	r := &call{
		op:       "authenticate",
		kind:     kindRead,
		template: t.c.cfg.Paths.Authenticate,
		path:     t.c.cfg.Paths.Authenticate,
		noAuth:   true,
		raw:      true,
	}
	switch t.method {
	case AuthJWT:
		now := t.c.cfg.Now()
		signed, err := jwt.NewWithClaims(t.signer, jwt.MapClaims{
			"api_code": a.APICode,
			"exp":      now.Add(jwtLifetime).Unix(),
		}).SignedString(t.key)
		if err != nil {
			return "", time.Time{}, &Error{Op: "authenticate", Class: Permanent, Err: fmt.Errorf("sign jwt: %w", err)}
		}
		r.method = http.MethodGet
		r.header = http.Header{"X-API-Key": {signed}}
	case AuthAPICode:
		body, err := json.Marshal(map[string]string{a.APICodeField: a.APICode})
		if err != nil {
			return "", time.Time{}, &Error{Op: "authenticate", Class: Permanent, Err: err}
		}
		r.method = http.MethodPost
		r.kind = kindRepeatablePost
		r.body = jsonBody(body)
	}
	resp, err := t.c.do(ctx, r)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden) {
			e.Class = Unauthorized
		}
		return "", time.Time{}, err
	}
	tok, exp, err := parseTokenResponse(resp, a.TokenFields, t.c.cfg.Now())
	if err != nil {
		return "", time.Time{}, &Error{Op: "authenticate", Class: Unauthorized, Message: err.Error()}
	}
	if exp.IsZero() && a.TokenTTL > 0 {
		exp = t.c.cfg.Now().Add(a.TokenTTL)
	}
	return tok, exp, nil
}

// parseTokenResponse finds the token and its expiry in an authentication response: a JSON
// object with the token under one of fields, a JSON string, or the bare token as text.
func parseTokenResponse(body []byte, fields []string, now time.Time) (string, time.Time, error) {
	body = bytes.TrimSpace(body)
	var tok string
	var exp time.Time
	var obj map[string]any
	switch {
	case len(body) == 0:
		return "", time.Time{}, errors.New("empty authentication response")
	case body[0] == '{':
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			return "", time.Time{}, fmt.Errorf("authentication response is not JSON: %w", err)
		}
		for _, f := range fields {
			if s, ok := obj[f].(string); ok && s != "" {
				tok = s
				break
			}
		}
		if tok == "" {
			names := make([]string, 0, len(obj))
			for k := range obj {
				names = append(names, k)
			}
			slices.Sort(names)
			return "", time.Time{}, fmt.Errorf("no token in authentication response: looked for %s, got fields %s",
				strings.Join(fields, ", "), strings.Join(names, ", "))
		}
		exp = expiryOf(obj, now)
	case body[0] == '"':
		if err := json.Unmarshal(body, &tok); err != nil || tok == "" {
			return "", time.Time{}, errors.New("authentication response is not a token")
		}
	default:
		if bytes.ContainsAny(body, " \t\r\n<") {
			return "", time.Time{}, errors.New("authentication response is not a token")
		}
		tok = string(body)
	}
	if exp.IsZero() {
		exp = jwtExpiry(tok)
	}
	return tok, exp, nil
}

// expiryOf reads exp, expires, expires_in or expires_at: seconds from now (expires_in, or any
// small number), a Unix time, or an RFC 3339 / HTTP date.
func expiryOf(obj map[string]any, now time.Time) time.Time {
	for _, f := range []string{"expires_in", "exp", "expires", "expires_at"} {
		switch v := obj[f].(type) {
		case json.Number:
			n, err := v.Float64()
			if err != nil || n <= 0 {
				continue
			}
			if f == "expires_in" || n < 1e9 {
				return now.Add(time.Duration(n * float64(time.Second)))
			}
			return time.Unix(int64(n), 0)
		case string:
			if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
				if f == "expires_in" || n < 1e9 {
					return now.Add(time.Duration(n * float64(time.Second)))
				}
				return time.Unix(int64(n), 0)
			}
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return t
			}
			if t, err := http.ParseTime(v); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// jwtExpiry returns the exp claim of tok when tok is a JWT, without verifying it: the token is
// the server's, we only want to know when to replace it.
func jwtExpiry(tok string) time.Time {
	if strings.Count(tok, ".") != 2 {
		return time.Time{}
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
		return time.Time{}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return time.Time{}
	}
	return exp.Time
}

// fingerprint identifies a secret in logs without revealing it: the first 8 hex digits of its
// SHA-256.
func fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// jsonBody returns a body factory for a fixed JSON document.
func jsonBody(b []byte) func() (io.ReadCloser, string, int64, error) {
	return func() (io.ReadCloser, string, int64, error) {
		return io.NopCloser(bytes.NewReader(b)), "application/json", int64(len(b)), nil
	}
}
