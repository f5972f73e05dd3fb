package amilitest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signJWT builds the api-code JWT the way Amili's guide describes.
func signJWT(t testing.TB, method jwt.SigningMethod, key crypto.PrivateKey, code string, exp time.Time) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, jwt.MapClaims{"api_code": code, "exp": exp.Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestAuth(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	clock := newClock()
	s := NewServer(Options{
		Tokens:         []string{"static-token"},
		APICodes:       map[string]crypto.PublicKey{"code-ec": &ec.PublicKey, "code-ec521": &ec521.PublicKey, "code-rsa": &rsaKey.PublicKey},
		SimpleAPICodes: []string{"simple-code"},
		TokenTTL:       10 * time.Minute,
		Now:            clock.Now,
	})
	defer s.Close()
	exp := clock.Now().Add(10 * time.Minute)

	authJWT := func(jwtText string) (int, map[string]any) {
		code, m, _ := do(t, "GET", s.URL+"/authenticates/api-code", jwtText, "")
		return code, m
	}
	casesWith := func(token string) int {
		code, _, _ := do(t, "GET", s.URL+"/cases", token, "")
		return code
	}

	for name, tc := range map[string]struct {
		jwt  string
		want int
	}{
		"ES256":        {signJWT(t, jwt.SigningMethodES256, ec, "code-ec", exp), 200},
		"ES512":        {signJWT(t, jwt.SigningMethodES512, ec521, "code-ec521", exp), 200},
		"RS256":        {signJWT(t, jwt.SigningMethodRS256, rsaKey, "code-rsa", exp), 200},
		"RS512":        {signJWT(t, jwt.SigningMethodRS512, rsaKey, "code-rsa", exp), 200},
		"WrongKey":     {signJWT(t, jwt.SigningMethodES256, other, "code-ec", exp), 401},
		"Expired":      {signJWT(t, jwt.SigningMethodES256, ec, "code-ec", clock.Now().Add(-time.Second)), 401},
		"NoExp":        {mustSign(t, jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"api_code": "code-ec"}), ec), 401},
		"UnknownCode":  {signJWT(t, jwt.SigningMethodES256, ec, "nobody", exp), 401},
		"HS256Refused": {mustSign(t, jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"api_code": "code-ec", "exp": exp.Unix()}), []byte("secret")), 401},
		"NotAJWT":      {"static-token", 401},
		"Missing":      {"", 401},
	} {
		t.Run(name, func(t *testing.T) {
			code, m := authJWT(tc.jwt)
			if code != tc.want {
				t.Fatalf("status %d, want %d: %v", code, tc.want, m)
			}
			if code != 200 {
				assertAPIError(t, code, m, 401, "")
				return
			}
			tok, _ := m["token"].(string)
			if tok == "" || m["expires_in"] != 600.0 || m["expires"] != "Tue, 07 Oct 2025 07:51:01 GMT" {
				t.Errorf("token answer %v: want token, expires_in 600, expires in RFC 1123", m)
			}
			if c := casesWith(tok); c != 200 {
				t.Errorf("GET /cases with the issued token: %d", c)
			}
		})
	}

	t.Run("StaticToken", func(t *testing.T) {
		if c := casesWith("static-token"); c != 200 {
			t.Errorf("static token: %d", c)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		code, m, _ := do(t, "POST", s.URL+"/invoice--registrations", "", testdata(t, "invoice.json"))
		assertAPIError(t, code, m, http.StatusUnauthorized, "")
		if len(s.Registrations()) != 0 {
			t.Error("an unauthenticated registration was stored")
		}
	})
	t.Run("Simple", func(t *testing.T) {
		code, m, _ := do(t, "POST", s.URL+"/authenticates/api-code", "", `{"api_code":"simple-code"}`)
		if code != 200 || m["token"] == "" {
			t.Fatalf("simple method: %d %v", code, m)
		}
		tok := m["token"].(string)
		if c := casesWith(tok); c != 200 {
			t.Errorf("simple token: %d", c)
		}
		code, m, _ = do(t, "POST", s.URL+"/authenticates/api-code", "", `{"api_code":"wrong"}`)
		assertAPIError(t, code, m, http.StatusUnauthorized, "")
		// Issued tokens expire with TokenTTL.
		clock.Advance(10*time.Minute + time.Second)
		if c := casesWith(tok); c != 401 {
			t.Errorf("expired issued token: %d, want 401", c)
		}
		if c := casesWith("static-token"); c != 200 {
			t.Errorf("static token after the clock moved: %d", c)
		}
	})
}

func mustSign(t testing.TB, tok *jwt.Token, key any) string {
	t.Helper()
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRateLimit(t *testing.T) {
	clock := newClock()
	s := NewServer(Options{Tokens: []string{"k1", "k2"}, RateLimit: 60, Burst: 3, Now: clock.Now})
	defer s.Close()
	for i := 0; i < 3; i++ {
		code, _, h := do(t, "GET", s.URL+"/cases", "k1", "")
		if code != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, code)
		}
		if h.Get("X-RateLimit-Limit") != "60" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) || h.Get("X-RateLimit-Reset") == "" {
			t.Errorf("request %d headers: limit %q remaining %q reset %q", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset"))
		}
	}
	code, m, h := do(t, "GET", s.URL+"/cases", "k1", "")
	assertAPIError(t, code, m, http.StatusTooManyRequests, "")
	if h.Get("Retry-After") != "1" || h.Get("X-RateLimit-Remaining") != "0" || h.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("429 headers: Retry-After %q remaining %q limit %q", h.Get("Retry-After"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Limit"))
	}
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if want := clock.Now().Add(3 * time.Second).Unix(); reset != want {
		t.Errorf("X-RateLimit-Reset = %d, want %d (bucket full again)", reset, want)
	}
	// Another key has its own bucket.
	if code, _, _ := do(t, "GET", s.URL+"/cases", "k2", ""); code != 200 {
		t.Errorf("second key: %d", code)
	}
	// One token per second at 60/min.
	clock.Advance(time.Second)
	if code, _, _ := do(t, "GET", s.URL+"/cases", "k1", ""); code != 200 {
		t.Errorf("after a second: %d", code)
	}
	if s.StatusCounts()[429] != 1 {
		t.Errorf("StatusCounts = %v", s.StatusCounts())
	}
}

// The default burst is Amili's 10.
func TestRateLimitDefaultBurst(t *testing.T) {
	clock := newClock()
	s := NewServer(Options{RateLimit: 100, Now: clock.Now})
	defer s.Close()
	for i := 0; i < 10; i++ {
		if code, _, _ := do(t, "GET", s.URL+"/cases", "", ""); code != 200 {
			t.Fatalf("request %d: %d", i+1, code)
		}
	}
	if code, _, _ := do(t, "GET", s.URL+"/cases", "", ""); code != 429 {
		t.Errorf("11th request: %d, want 429", code)
	}
}
