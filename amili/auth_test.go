package amili

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
	"github.com/golang-jwt/jwt/v5"
)

// authServer is an API that issues tokens at /authenticates/api-code and accepts only its
// latest token elsewhere.
type authServer struct {
	t      *testing.T
	clk    *fakeclock.Clock
	pub    crypto.PublicKey // JWT flow: verify with this
	alg    string
	code   string
	answer func(n int) string // the auth response body for the n-th token

	mu      sync.Mutex
	auths   int
	calls   int
	current string
	refuse  int // answer this many API calls 401 even with the right token
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.URL.Path == "/authenticates/api-code" {
		switch r.Method {
		case http.MethodGet:
			claims := jwt.MapClaims{}
			_, err := jwt.ParseWithClaims(r.Header.Get("X-API-Key"), claims,
				func(*jwt.Token) (any, error) { return s.pub, nil },
				jwt.WithValidMethods([]string{s.alg}), jwt.WithTimeFunc(s.clk.Now), jwt.WithExpirationRequired())
			if err != nil {
				s.t.Errorf("auth JWT rejected: %v", err)
				writeJSON(w, 401, `{"_status":"ERR","_error":{"code":401,"message":"bad jwt"}}`)
				return
			}
			if claims["api_code"] != s.code {
				s.t.Errorf("api_code claim = %v, want %q", claims["api_code"], s.code)
			}
			exp, _ := claims.GetExpirationTime()
			if want := s.clk.Now().Add(10 * time.Minute); !exp.Time.Equal(want.Truncate(time.Second)) {
				s.t.Errorf("exp = %v, want now+10m = %v", exp.Time, want)
			}
		case http.MethodPost:
			var body map[string]string
			json.NewDecoder(r.Body).Decode(&body)
			if body["api_code"] != s.code {
				writeJSON(w, 401, `{"_status":"ERR","_error":{"code":401,"message":"unknown api code"}}`)
				return
			}
		}
		s.auths++
		s.current = fmt.Sprintf("tok-%d", s.auths)
		answer := s.answer
		if answer == nil {
			answer = func(n int) string { return fmt.Sprintf(`{"token":"tok-%d","expires_in":600}`, n) }
		}
		io.WriteString(w, answer(s.auths))
		return
	}
	s.calls++
	if r.Header.Get("X-API-Key") != s.current || s.current == "" || s.refuse > 0 {
		if s.refuse > 0 {
			s.refuse--
		}
		writeJSON(w, 401, `{"_status":"ERR","_error":{"code":401,"message":"Please provide proper credentials"}}`)
		return
	}
	writeJSON(w, 200, `{"_id":"c1","creditor":"cred"}`)
}

func (s *authServer) counts() (auths, calls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths, s.calls
}

func pemOf(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// TestJWTFlow: the client signs {api_code, exp} with the configured key, the server verifies
// the signature and claims, and the issued token is used for the call.
func TestJWTFlow(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecSEC1, _ := x509.MarshalECPrivateKey(ec)
	opensslStyle := append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecSEC1})...)
	tests := []struct {
		name string
		pem  []byte
		pub  crypto.PublicKey
		alg  string // configured; "" = default from key
		want string
	}{
		{"ES256 by default from a P-256 key", pemOf(t, ec), &ec.PublicKey, "", "ES256"},
		{"ES256 from openssl ecparam output", opensslStyle, &ec.PublicKey, "ES256", "ES256"},
		{"RS256 by default from an RSA key", pemOf(t, rs), &rs.PublicKey, "", "RS256"},
		{"RS512 when configured", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rs)}), &rs.PublicKey, "RS512", "RS512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			as := &authServer{t: t, clk: clk, pub: tt.pub, alg: tt.want, code: "code-123"}
			srv := server(t, as.ServeHTTP)
			c, _ := testClient(t, srv.URL, func(cfg *Config) {
				cfg.Auth = AuthConfig{APICode: "code-123", PrivateKeyPEM: tt.pem, Algorithm: tt.alg}
				cfg.Now, cfg.Sleep = clk.Now, clk.Sleep
			})
			if err := c.Authenticate(context.Background()); err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if _, err := c.GetCase(context.Background(), "c1"); err != nil {
				t.Fatalf("GetCase: %v", err)
			}
			if auths, calls := as.counts(); auths != 1 || calls != 1 {
				t.Errorf("auths, calls = %d, %d; want 1, 1", auths, calls)
			}
		})
	}
}

// TestKeyAlgorithmMismatch: an algorithm that does not fit the key is refused by New, with a
// message saying why.
func TestKeyAlgorithmMismatch(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, tt := range []struct {
		alg  string
		key  any
		want string
	}{
		{"ES512", ec, "ES512 needs a P-521 key, got P-256"},
		{"RS256", ec, "RS256 needs a RSA key"},
		{"ES256", rs, "does not fit an RSA key"},
		{"HS256", rs, "does not fit an RSA key"},
	} {
		_, err := New(Config{BaseURL: "http://127.0.0.1:1", Auth: AuthConfig{APICode: "c", PrivateKeyPEM: pemOf(t, tt.key), Algorithm: tt.alg}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want it to say %q", tt.alg, err, tt.want)
		}
	}
	if _, err := New(Config{BaseURL: "http://127.0.0.1:1", Auth: AuthConfig{APICode: "c", PrivateKeyPEM: []byte("not pem")}}); err == nil {
		t.Error("a key that is not PEM was accepted")
	}
}

// TestTokenFields: the token is found under each documented field name, as a JSON string or
// bare text, and under a configured field; a response without one is Unauthorized and names
// the fields it had.
func TestTokenFields(t *testing.T) {
	tests := []struct {
		body   string
		fields []string
		ok     bool
	}{
		{`{"token":"tok-1"}`, nil, true},
		{`{"access_token":"tok-1","token_type":"bearer"}`, nil, true},
		{`{"api_key":"tok-1"}`, nil, true},
		{`{"_token":"tok-1"}`, nil, true},
		{`{"accessToken":"tok-1"}`, nil, true},
		{`{"jwt":"tok-1"}`, nil, true},
		{`"tok-1"`, nil, true},
		{"tok-1\n", nil, true},
		{`{"data_token":"tok-1"}`, []string{"data_token"}, true},
		{`{"_status":"OK","session":"tok-1"}`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			as := &authServer{t: t, clk: newFakeClock(), code: "code-1", answer: func(int) string { return tt.body }}
			srv := server(t, as.ServeHTTP)
			c, _ := testClient(t, srv.URL, func(cfg *Config) {
				cfg.Auth = AuthConfig{Method: AuthAPICode, APICode: "code-1", TokenFields: tt.fields}
			})
			_, err := c.GetCase(context.Background(), "c1")
			if tt.ok {
				if err != nil {
					t.Fatalf("GetCase: %v", err)
				}
				return
			}
			e := mustError(t, err)
			if e.Class != Unauthorized || !strings.Contains(e.Message, "got fields _status, session") {
				t.Errorf("error = %v (class %v), want unauthorized naming the fields", e, e.Class)
			}
			if strings.Contains(e.Error(), "tok-1") {
				t.Errorf("error %q shows the response's values", e)
			}
		})
	}
}

// TestSimpleMethodField: the simple method posts the API code under the configured field.
func TestSimpleMethodField(t *testing.T) {
	var got map[string]string
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/authenticates/api-code" {
			t.Errorf("request %s %s, want POST /authenticates/api-code", r.Method, r.URL.Path)
		}
		json.NewDecoder(r.Body).Decode(&got)
		io.WriteString(w, `{"token":"t"}`)
	})
	c, _ := testClient(t, srv.URL, func(cfg *Config) {
		cfg.Auth = AuthConfig{APICode: "code-9", APICodeField: "apiCode"}
	})
	if err := c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got["apiCode"] != "code-9" || len(got) != 1 {
		t.Errorf("body = %v, want {apiCode: code-9}", got)
	}
}

// TestTokenRefreshOnExpiry: each kind of expiry in the response makes the client fetch a new
// token once the clock reaches it, and not before.
func TestTokenRefreshOnExpiry(t *testing.T) {
	jwtTok := func(exp time.Time) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": exp.Unix()}).SignedString([]byte("server secret"))
		return s
	}
	for _, tt := range []struct {
		name   string
		answer func(now time.Time, n int) string
	}{
		{"expires_in", func(now time.Time, n int) string { return fmt.Sprintf(`{"token":"tok-%d","expires_in":600}`, n) }},
		{"exp", func(now time.Time, n int) string {
			return fmt.Sprintf(`{"token":"tok-%d","exp":%d}`, n, now.Add(10*time.Minute).Unix())
		}},
		{"expires_at RFC 3339", func(now time.Time, n int) string {
			return fmt.Sprintf(`{"token":"tok-%d","expires_at":%q}`, n, now.Add(10*time.Minute).Format(time.RFC3339))
		}},
		{"expires HTTP date", func(now time.Time, n int) string {
			return fmt.Sprintf(`{"token":"tok-%d","expires":%q}`, n, now.Add(10*time.Minute).Format(http.TimeFormat))
		}},
		{"the token's own exp claim", func(now time.Time, n int) string {
			return fmt.Sprintf(`{"token":%q}`, jwtTok(now.Add(10*time.Minute)))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var auths, calls atomic.Int32
			var current atomic.Value
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/authenticates/api-code" {
					n := int(auths.Add(1))
					body := tt.answer(clk.Now(), n)
					var m map[string]any
					json.Unmarshal([]byte(body), &m)
					current.Store(m["token"])
					io.WriteString(w, body)
					return
				}
				calls.Add(1)
				if r.Header.Get("X-API-Key") != current.Load() {
					w.WriteHeader(401)
					return
				}
				writeJSON(w, 200, `{"_id":"c1"}`)
			})
			c, _ := testClient(t, srv.URL, func(cfg *Config) {
				cfg.Auth = AuthConfig{APICode: "code"}
				cfg.Now, cfg.Sleep = clk.Now, clk.Sleep
			})
			get := func() {
				t.Helper()
				if _, err := c.GetCase(context.Background(), "c1"); err != nil {
					t.Fatal(err)
				}
			}
			get()
			clk.Advance(9 * time.Minute)
			get()
			if auths.Load() != 1 {
				t.Errorf("after 9 minutes: %d authentications, want 1", auths.Load())
			}
			clk.Advance(time.Minute)
			get()
			if auths.Load() != 2 {
				t.Errorf("after 10 minutes: %d authentications, want 2", auths.Load())
			}
			if calls.Load() != 3 {
				t.Errorf("API calls = %d, want 3 (no 401 needed)", calls.Load())
			}
			if c.Stats().Reauths != 1 {
				t.Errorf("Stats().Reauths = %d, want 1", c.Stats().Reauths)
			}
		})
	}
}

// TestReauthOn401: a 401 leads to exactly one new token and one retry; a second 401 is
// Unauthorized. A registration refused with 401 is sent again, since nothing was done.
func TestReauthOn401(t *testing.T) {
	t.Run("one 401 then success", func(t *testing.T) {
		as := &authServer{t: t, clk: newFakeClock(), code: "c", refuse: 1}
		srv := server(t, as.ServeHTTP)
		c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.Auth = AuthConfig{Method: AuthAPICode, APICode: "c"} })
		if _, err := c.GetCase(context.Background(), "c1"); err != nil {
			t.Fatalf("GetCase: %v", err)
		}
		if auths, calls := as.counts(); auths != 2 || calls != 2 {
			t.Errorf("auths, calls = %d, %d; want 2, 2", auths, calls)
		}
	})
	t.Run("two 401s", func(t *testing.T) {
		as := &authServer{t: t, clk: newFakeClock(), code: "c", refuse: 5}
		srv := server(t, as.ServeHTTP)
		c, clk := testClient(t, srv.URL, func(cfg *Config) { cfg.Auth = AuthConfig{Method: AuthAPICode, APICode: "c"} })
		_, err := c.RegisterInvoice(context.Background(), invoice("INV-1"))
		if e := mustError(t, err); e.Class != Unauthorized || e.StatusCode != 401 {
			t.Errorf("error = %v (class %v), want unauthorized 401", e, e.Class)
		}
		if auths, calls := as.counts(); auths != 2 || calls != 2 {
			t.Errorf("auths, calls = %d, %d; want 2, 2", auths, calls)
		}
		if len(clk.Sleeps()) != 0 {
			t.Errorf("slept %v before re-authenticating, want no wait", clk.Sleeps())
		}
	})
	t.Run("pre-issued token refused", func(t *testing.T) {
		var n atomic.Int32
		srv := server(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); w.WriteHeader(401) })
		c, _ := testClient(t, srv.URL)
		_, err := c.GetCase(context.Background(), "c1")
		if e := mustError(t, err); e.Class != Unauthorized {
			t.Errorf("class = %v, want unauthorized", e.Class)
		}
		if n.Load() != 1 {
			t.Errorf("requests = %d, want 1", n.Load())
		}
	})
	t.Run("bad api code", func(t *testing.T) {
		as := &authServer{t: t, clk: newFakeClock(), code: "right"}
		srv := server(t, as.ServeHTTP)
		c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.Auth = AuthConfig{APICode: "wrong"} })
		err := c.Authenticate(context.Background())
		if e := mustError(t, err); e.Class != Unauthorized || e.StatusCode != 401 {
			t.Errorf("error = %v (class %v), want unauthorized 401", e, e.Class)
		}
	})
}

// TestConcurrentRefreshShared: many callers needing a token at once cause one authentication.
func TestConcurrentRefreshShared(t *testing.T) {
	var auths atomic.Int32
	gate := make(chan struct{})
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/authenticates/api-code" {
			auths.Add(1)
			<-gate // hold the first authentication until every caller is waiting
			io.WriteString(w, `{"token":"shared"}`)
			return
		}
		if r.Header.Get("X-API-Key") != "shared" {
			w.WriteHeader(401)
			return
		}
		writeJSON(w, 200, `{"_id":"c1"}`)
	})
	c, _ := testClient(t, srv.URL, func(cfg *Config) { cfg.Auth = AuthConfig{APICode: "c"} })
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.GetCase(context.Background(), "c1")
			errs <- err
		})
	}
	for auths.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the other callers reach the shared wait
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if auths.Load() != 1 {
		t.Errorf("authentications = %d, want 1", auths.Load())
	}
}
