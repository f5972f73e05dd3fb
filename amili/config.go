package amili

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// Authentication methods for AuthConfig.Method.
const (
	// AuthJWT signs {"api_code", "exp"} with the customer's private key and exchanges the JWT
	// for an access token at GET /authenticates/api-code.
	AuthJWT = "jwt"
	// AuthAPICode posts the API code as JSON to POST /authenticates/api-code (only allowed from
	// a static IP registered with Amili).
	AuthAPICode = "api_code"
	// AuthToken uses a pre-issued access token as it is.
	AuthToken = "token"
)

// Defaults of Config, for the zero value of each field. The rate and the burst stay under
// Amili's published limit (PublishedRateLimit requests a minute in bursts of PublishedBurst):
// a client running exactly at the limit meets a 429 whenever its clock and the API's disagree
// by a request.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultRateLimit    = 98
	DefaultBurst        = 9
	DefaultLowRemaining = 2
	DefaultMaxAttempts  = 5
	DefaultMaxRetryTime = 2 * time.Minute
	DefaultBackoffBase  = 500 * time.Millisecond
	DefaultBackoffMax   = 30 * time.Second
	DefaultAPICodeField = "api_code"
)

// Amili's published rate limit per API key.
const (
	PublishedRateLimit = 100
	PublishedBurst     = 10
)

// DefaultTokenFields are the JSON fields of an authentication response that may carry the
// access token, tried in order. Amili's public documentation does not name the field.
var DefaultTokenFields = []string{"token", "access_token", "api_key", "_token", "accessToken", "jwt", "key"}

// Config configures a Client. The zero value of every field but BaseURL and Auth means its
// documented default.
type Config struct {
	// BaseURL is the API root, e.g. https://api-sandbox.amili.se. Required.
	BaseURL string
	// Auth says how to obtain the access token sent in X-API-Key.
	Auth AuthConfig
	// Paths are the endpoint paths; the public docs spell some of them two ways.
	Paths Paths
	// Timeout bounds one HTTP attempt, from sending to reading the whole answer. Default 30s.
	Timeout time.Duration
	// RateLimit is the sustained request rate per minute for this API key. Default 98.
	RateLimit float64
	// Burst is how many requests may go out back to back. Default 9.
	Burst int
	// LowRemaining: when a response says X-RateLimit-Remaining is at most this, new requests
	// wait until X-RateLimit-Reset. Default 2; negative disables the pause.
	LowRemaining int
	// MaxAttempts bounds the attempts of one retryable call. Default 5.
	MaxAttempts int
	// MaxRetryTime bounds the time one call spends retrying. Default 2m.
	MaxRetryTime time.Duration
	// BackoffBase and BackoffMax shape the exponential backoff with full jitter used when the
	// server gives no Retry-After. Defaults 500ms and 30s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// UserAgent is sent with every request. Default "amili-import/<module version>".
	UserAgent string
	// HTTPClient sends the requests. Default: a client with no overall timeout (Timeout is
	// applied per attempt).
	HTTPClient *http.Client
	// Logger receives debug lines per call and warnings per retry. Nil discards. Tokens, API
	// codes and keys are never logged; tokens appear only as a short fingerprint.
	Logger *slog.Logger
	// Now and Sleep are the clock. Tests inject a fake one so backoffs never really sleep.
	// Sleep must return ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnCall, when set, is called after every HTTP attempt (for metrics).
	OnCall func(CallInfo)
}

// AuthConfig says how the client authenticates.
type AuthConfig struct {
	// Method is AuthJWT, AuthAPICode or AuthToken. Empty picks from what is set (PickMethod):
	// PrivateKeyPEM (jwt), then Token, then APICode (api_code).
	Method string
	// APICode is the customer's API code (jwt and api_code methods).
	APICode string
	// PrivateKeyPEM is the PEM private key whose public half is registered with Amili (jwt).
	// PKCS#8, SEC 1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY") are read.
	PrivateKeyPEM []byte
	// Algorithm is ES256, ES384, ES512, RS256, RS384 or RS512. Default: ES256/ES384/ES512 by
	// the EC key's curve (P-256/P-384/P-521), RS256 for an RSA key.
	Algorithm string
	// APICodeField is the JSON field of the simple method's body. Default "api_code".
	APICodeField string
	// Token is a pre-issued access token (token method).
	Token string
	// TokenFields are the response fields that may carry the token. Default DefaultTokenFields.
	TokenFields []string
	// TokenTTL is assumed when the auth response gives no expiry and the token is not a JWT
	// with an exp claim. Zero means: use the token until the API answers 401.
	TokenTTL time.Duration
}

// Paths holds every endpoint path. Paths containing {id} get the escaped id substituted.
type Paths struct {
	Authenticate         string // default /authenticates/api-code
	InvoiceRegistrations string // default /invoice--registrations (guides: /invoice-registration)
	CaseRegistrations    string // default /case--registrations
	MediaUpload          string // default /media--upload/{id}
	Cases                string // default /cases
	Case                 string // default /cases/{id}
	Creditor             string // default /creditors/{id}
	Payments             string // default /creditor--payments
	Creditings           string // default /creditor--creditings (guides: /creditor-crediting)
	Cancellations        string // default /creditor--cancellations (guides: /creditor-cancellation)
	// The lookups list past events of each kind with where on their references (Eve exposes a
	// resource's documents at the path it is posted to). Default: the POST path; "none" says
	// the API lists no such events, and an event whose answer was lost is held for a person.
	PaymentsLookup      string
	CreditingsLookup    string
	CancellationsLookup string
}

// NoLookup is the lookup path that says the API cannot list events of a kind.
const NoLookup = "none"

// Set sets the path for a configuration key: authenticate, invoice_registrations,
// case_registrations, media_upload, cases, case, creditors (or creditor), creditor_payments
// (or payments), creditor_creditings (or creditings), creditor_cancellations (or
// cancellations), creditor_payments_lookup, creditor_creditings_lookup,
// creditor_cancellations_lookup (path or "none"). Paths of single resources (media_upload, case, creditors) get "/{id}"
// appended when they do not contain {id}; a cases path without a case path also sets the
// case path to cases + "/{id}".
func (p *Paths) Set(key, path string) error {
	switch key {
	case "authenticate":
		p.Authenticate = path
	case "invoice_registrations":
		p.InvoiceRegistrations = path
	case "case_registrations":
		p.CaseRegistrations = path
	case "media_upload":
		p.MediaUpload = path
	case "cases":
		p.Cases = path
	case "case":
		p.Case = path
	case "creditors", "creditor":
		p.Creditor = path
	case "creditor_payments", "payments":
		p.Payments = path
	case "creditor_creditings", "creditings":
		p.Creditings = path
	case "creditor_cancellations", "cancellations":
		p.Cancellations = path
	case "creditor_payments_lookup":
		p.PaymentsLookup = path
	case "creditor_creditings_lookup":
		p.CreditingsLookup = path
	case "creditor_cancellations_lookup":
		p.CancellationsLookup = path
	default:
		return fmt.Errorf("unknown endpoint %q", key)
	}
	return nil
}

// DefaultPaths returns the reference spelling of every endpoint, the one the API overview
// lists.
func DefaultPaths() Paths {
	return Paths{
		Authenticate:         "/authenticates/api-code",
		InvoiceRegistrations: "/invoice--registrations",
		CaseRegistrations:    "/case--registrations",
		MediaUpload:          "/media--upload/{id}",
		Cases:                "/cases",
		Case:                 "/cases/{id}",
		Creditor:             "/creditors/{id}",
		Payments:             "/creditor--payments",
		Creditings:           "/creditor--creditings",
		Cancellations:        "/creditor--cancellations",
	}
}

// CallInfo describes one HTTP attempt, for metrics.
type CallInfo struct {
	// Endpoint is "METHOD path-template", e.g. "POST /media--upload/{id}".
	Endpoint string
	Method   string
	// Status is the HTTP status, 0 when no response arrived.
	Status   int
	Attempt  int
	Duration time.Duration
	// RateLimitWait is how long this attempt waited for the rate limiter and any
	// X-RateLimit-Reset pause before it was sent.
	RateLimitWait time.Duration
	Err           error
}

// Stats counts what a Client has done since it was made.
type Stats struct {
	// Calls counts HTTP attempts by endpoint ("POST /invoice--registrations") and status
	// (0 when no response arrived).
	Calls map[string]map[int]int
	// TooManyRequests counts 429 answers.
	TooManyRequests int
	// Retries counts attempts after the first of a call.
	Retries int
	// Reauths counts tokens fetched after the first.
	Reauths int
	// RateLimitWait is the total time spent waiting for the rate limiter, rate-limit pauses
	// and the waits 429 answers asked for.
	RateLimitWait time.Duration
}

// DefaultUserAgent is "amili-import/<version>", the version taken from the build info.
func DefaultUserAgent() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "amili-import/" + v
}

// withDefaults fills in defaults and checks what cannot be defaulted.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.BaseURL == "" {
		return cfg, errors.New("amili: base URL is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("amili: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.Paths = cfg.Paths.withDefaults()
	positive(&cfg.Timeout, DefaultTimeout)
	positive(&cfg.RateLimit, DefaultRateLimit)
	positive(&cfg.Burst, DefaultBurst)
	if cfg.LowRemaining == 0 {
		cfg.LowRemaining = DefaultLowRemaining
	}
	positive(&cfg.MaxAttempts, DefaultMaxAttempts)
	positive(&cfg.MaxRetryTime, DefaultMaxRetryTime)
	positive(&cfg.BackoffBase, DefaultBackoffBase)
	positive(&cfg.BackoffMax, DefaultBackoffMax)
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: newTransport()}
	}
	if cfg.HTTPClient.CheckRedirect == nil {
		hc := *cfg.HTTPClient
		hc.CheckRedirect = sameHostRedirect
		cfg.HTTPClient = &hc
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	cfg.Auth, err = cfg.Auth.withDefaults()
	return cfg, err
}

// positive sets *v to d unless it is above zero.
func positive[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// withDefaults fills in every path left empty and puts each in its canonical form: a leading
// slash, and {id} in the paths of single resources.
func (p Paths) withDefaults() Paths {
	d := DefaultPaths()
	if p.Case == "" && p.Cases != "" {
		p.Case = p.Cases // one case lives under the collection: /cases/{id}
	}
	for _, f := range []struct {
		v   *string
		def string
		id  bool
	}{
		{&p.Authenticate, d.Authenticate, false},
		{&p.InvoiceRegistrations, d.InvoiceRegistrations, false},
		{&p.CaseRegistrations, d.CaseRegistrations, false},
		{&p.MediaUpload, d.MediaUpload, true},
		{&p.Cases, d.Cases, false},
		{&p.Case, d.Case, true},
		{&p.Creditor, d.Creditor, true},
		{&p.Payments, d.Payments, false},
		{&p.Creditings, d.Creditings, false},
		{&p.Cancellations, d.Cancellations, false},
	} {
		if *f.v == "" {
			*f.v = f.def
		}
		if !strings.HasPrefix(*f.v, "/") {
			*f.v = "/" + *f.v
		}
		if f.id && !strings.Contains(*f.v, "{id}") {
			*f.v = strings.TrimRight(*f.v, "/") + "/{id}"
		}
	}
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&p.PaymentsLookup, p.Payments},
		{&p.CreditingsLookup, p.Creditings},
		{&p.CancellationsLookup, p.Cancellations},
	} {
		switch {
		case *f.v == "":
			*f.v = f.def
		case *f.v != NoLookup && !strings.HasPrefix(*f.v, "/"):
			*f.v = "/" + *f.v
		}
	}
	return p
}

// PickMethod is the authentication method for credentials given without one: a private key
// (jwt), else a token, else an API code alone (api_code); "" when none is given. It is the one
// rule, for the client and for the configuration's checks.
func PickMethod(token, privateKey, apiCode bool) string {
	switch {
	case privateKey:
		return AuthJWT
	case token:
		return AuthToken
	case apiCode:
		return AuthAPICode
	}
	return ""
}

// withDefaults picks the method when none is set and checks that it has what it needs.
func (a AuthConfig) withDefaults() (AuthConfig, error) {
	if a.Method == "" {
		a.Method = PickMethod(a.Token != "", len(a.PrivateKeyPEM) > 0, a.APICode != "")
	}
	switch a.Method {
	case AuthToken:
		if a.Token == "" {
			return a, errors.New("amili: auth method token needs a token")
		}
	case AuthJWT:
		if a.APICode == "" || len(a.PrivateKeyPEM) == 0 {
			return a, errors.New("amili: auth method jwt needs an API code and a private key")
		}
	case AuthAPICode:
		if a.APICode == "" {
			return a, errors.New("amili: auth method api_code needs an API code")
		}
	case "":
		return a, errors.New("amili: no credentials: set a token, a private key and API code, or an API code")
	default:
		return a, fmt.Errorf("amili: unknown auth method %q (want jwt, api_code or token)", a.Method)
	}
	if a.APICodeField == "" {
		a.APICodeField = DefaultAPICodeField
	}
	if len(a.TokenFields) == 0 {
		a.TokenFields = DefaultTokenFields
	}
	return a, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sameHostRedirect refuses redirects to another host: net/http would carry X-API-Key, and
// with it the access token, along.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing redirect to another host %s", req.URL.Host)
	}
	return nil
}
