package amilitest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Authentication follows Amili's two methods. JWT: GET /authenticates/api-code with a JWT in
// X-API-Key whose claims are {"api_code", "exp"}, signed (ES256/384/512 or RS256/384/512) with
// the key registered for the api code. Simple: POST /authenticates/api-code with
// {"api_code": "..."}. Both answer {"_status":"OK","token":...,"expires":<RFC 1123>,
// "expires_in":<seconds>}; the token then goes in X-API-Key until it expires.

// authOpen reports whether no credentials are configured, in which case nothing is checked.
func (s *Server) authOpen() bool {
	return len(s.opts.Tokens) == 0 && len(s.opts.APICodes) == 0 && len(s.opts.SimpleAPICodes) == 0
}

// authorized checks X-API-Key against the static and the issued tokens.
func (s *Server) authorized(r *http.Request) bool {
	if s.authOpen() {
		return true
	}
	tok := r.Header.Get("X-API-Key")
	if tok == "" {
		return false
	}
	if slices.Contains(s.opts.Tokens, tok) {
		return true
	}
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	s.mu.Unlock()
	return ok && s.now().Before(exp)
}

func (s *Server) handleJWTAuth(w http.ResponseWriter, r *http.Request) {
	raw := r.Header.Get("X-API-Key")
	if raw == "" {
		writeError(w, http.StatusUnauthorized, "X-API-Key must carry a signed JWT", nil)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, s.jwtKey,
		jwt.WithValidMethods([]string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512"}),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.now), jwt.WithLeeway(0))
	if err != nil {
		writeError(w, http.StatusUnauthorized, "invalid api-code token: "+err.Error(), nil)
		return
	}
	s.issueToken(w)
}

// jwtKey finds the public key registered for the token's api_code and checks that the
// algorithm fits the key.
func (s *Server) jwtKey(t *jwt.Token) (any, error) {
	claims, _ := t.Claims.(jwt.MapClaims)
	code, _ := claims["api_code"].(string)
	if code == "" {
		return nil, errors.New("claim api_code is missing")
	}
	key, ok := s.opts.APICodes[code]
	if !ok {
		return nil, errors.New("unknown api code")
	}
	switch key.(type) {
	case *ecdsa.PublicKey:
		if _, ok := t.Method.(*jwt.SigningMethodECDSA); !ok {
			return nil, fmt.Errorf("algorithm %s does not fit an EC key", t.Method.Alg())
		}
	case *rsa.PublicKey:
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("algorithm %s does not fit an RSA key", t.Method.Alg())
		}
	default:
		return nil, fmt.Errorf("registered key of type %T is not supported", key)
	}
	return key, nil
}

func (s *Server) handleSimpleAuth(w http.ResponseWriter, r *http.Request) {
	_, m, ok := readObject(w, r)
	if !ok {
		return
	}
	code, _ := m["api_code"].(string)
	if code == "" {
		writeError(w, http.StatusUnprocessableEntity, "Validation failed", map[string]string{"api_code": "required field"})
		return
	}
	if !slices.Contains(s.opts.SimpleAPICodes, code) {
		writeError(w, http.StatusUnauthorized, "Please provide proper credentials", nil)
		return
	}
	s.issueToken(w)
}

// issueToken answers a fresh access token valid for TokenTTL.
func (s *Server) issueToken(w http.ResponseWriter) {
	var b [24]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	exp := s.now().Add(s.opts.TokenTTL)
	s.mu.Lock()
	s.tokens[tok] = exp
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"_status":    "OK",
		"token":      tok,
		"expires":    fmtDate(exp),
		"expires_in": int(s.opts.TokenTTL / time.Second),
	})
}

// allowRate applies the per-key token bucket and sets the rate-limit headers; it answers 429
// and reports false when the bucket is empty.
func (s *Server) allowRate(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	key := r.Header.Get("X-API-Key")
	if key == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		key = "addr:" + host
	}
	now := s.now()
	perSec := rate.Limit(float64(s.opts.RateLimit) / 60)
	s.mu.Lock()
	lim := s.limiters[key]
	if lim == nil {
		lim = rate.NewLimiter(perSec, s.opts.Burst)
		s.limiters[key] = lim
	}
	ok := lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	s.mu.Unlock()

	remaining := int(math.Max(0, math.Floor(tokens)))
	full := time.Duration((float64(s.opts.Burst) - tokens) / float64(perSec) * float64(time.Second))
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(full).Unix(), 10))
	if ok {
		return true
	}
	wait := time.Duration((1 - tokens) / float64(perSec) * float64(time.Second))
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, http.StatusTooManyRequests, "Rate limit exceeded", nil)
	return false
}
