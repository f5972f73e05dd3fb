package amilitest

import (
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a sandbox. The zero value is an open sandbox: no auth, no limit, no faults.
type Options struct {
	// Tokens are static access tokens accepted in X-API-Key, as if issued beforehand.
	Tokens []string
	// APICodes maps an api code to the public key registered for it (JWT flow): GET
	// /authenticates/api-code verifies the JWT's signature and exp against it.
	APICodes map[string]crypto.PublicKey
	// SimpleAPICodes are api codes accepted by the simple POST /authenticates/api-code method.
	SimpleAPICodes []string
	// TokenTTL is the lifetime of issued tokens (0 = 1h); an expired token gets 401.
	TokenTTL time.Duration
	// RateLimit is requests per minute per API key (0 = no limit).
	RateLimit int
	// Burst is the bucket size (0 = 10 when RateLimit > 0).
	Burst int
	// Latency is added to every request.
	Latency time.Duration
	// Faults are injected on purpose; SetFaults changes them while running.
	Faults Faults
	// Now is the clock (nil = time.Now); dates, token expiry and rate limits follow it.
	Now func() time.Time
	// Logger gets one debug line per request (nil = discard). Tokens are never logged.
	Logger *slog.Logger
	// Inspect serves GET InspectPath, a read-only view of the sandbox's state for tests that
	// run it in another process. Off by default: it shows issued tokens.
	Inspect bool
}

// Fault names for Faults.ByInvoiceNumber. Each fires on every registration carrying the
// invoice number; add the suffix "_once" (e.g. "commit_then_drop_once") to fire only on the
// first.
const (
	FaultCommitThenFail = "commit_then_fail" // stored, then 500
	FaultCommitThenDrop = "commit_then_drop" // stored, then the connection is closed unanswered
	FaultServerError    = "server_error"     // 500, nothing stored
	FaultReject422      = "reject_422"       // 422, nothing stored
	// FaultReject422QuotingID is a 422 whose message and field detail quote the customer's
	// id_number as the request sent it, as a real validation answer may; nothing is stored.
	FaultReject422QuotingID = "reject_422_quoting_id"
	// FaultReject422Huge is a 422 whose message is 200 KB long; nothing is stored.
	FaultReject422Huge = "reject_422_huge"
	// FaultNoCaseID stores the registration, then answers 201 without its case: no "_case" for
	// an invoice, "_cases" one short for a case registration.
	FaultNoCaseID = "no_case_id"
	// FaultSharedCaseID stores the registration, then answers 201 naming the case of the
	// registration answered before it instead of its own.
	FaultSharedCaseID = "shared_case_id"
	FaultCommitLate   = "commit_late" // stored only after Faults.CommitDelay, then answered if anyone still listens
	FaultBadBody      = "bad_body"    // stored, then answered 201 with a body whose ids do not decode
)

// Faults describe failures to inject. Rates are fractions in [0,1] drawn from a generator
// seeded with Seed, so a run is repeatable for a given order of requests.
type Faults struct {
	Seed            int64
	ServerErrorRate float64 // 500 before doing anything
	CommitThenFail  float64 // registration (or event) stored, then 500
	CommitThenDrop  float64 // registration (or event) stored, then the connection is closed without an answer
	Storm429        float64 // fraction of requests answered 429 with Retry-After
	// CommitLate is the fraction of registrations held for CommitDelay before they are stored,
	// whatever the client does meanwhile: a slow server that finishes a request after the
	// client gave up on it.
	CommitLate  float64
	CommitDelay time.Duration
	// BadBody is the fraction of registrations stored and answered 201 with a body whose ids
	// cannot be read (_case as a number).
	BadBody float64
	// ListLag keeps a stored case out of GET /cases listings for this long, as a search index
	// that lags behind the store would (GET /cases/{id} finds it at once).
	ListLag       time.Duration
	UploadLatency time.Duration
	// ByInvoiceNumber forces a fault for registrations carrying this invoice number, and for
	// payments, creditings and cancellations naming it (or its case) or carrying it as their
	// reference: one of the Fault* names, optionally with the suffix "_once".
	ByInvoiceNumber map[string]string
}

// Server is a running sandbox.
type Server struct {
	URL              string // base URL, e.g. http://127.0.0.1:41234
	Account          string // seeded account id (24 hex)
	Creditor         string // seeded active creditor id
	InactiveCreditor string // seeded inactive creditor id
	Partner          string // seeded partner id

	opts   Options
	log    *slog.Logger
	now    func() time.Time
	hs     *httptest.Server
	plain  *http.Server // NewServerOn
	ln     net.Listener
	closed sync.Once

	mu       sync.Mutex // guards everything below
	st       *store
	faults   Faults
	rnd      *rand.Rand
	fired    map[string]bool // "_once" faults already fired, by invoice number
	lastCase string          // the case id of the last registration answered (FaultSharedCaseID)
	tokens   map[string]time.Time
	limiters map[string]*rate.Limiter
	calls    map[string]int
	statuses map[int]int
}

// NewServer starts the sandbox on 127.0.0.1:0 with seeded data, like httptest.NewServer.
func NewServer(opts Options) *Server {
	s := newServer(opts)
	s.hs = httptest.NewServer(s.handler())
	s.URL = s.hs.URL
	return s
}

// NewServerOn starts the sandbox on addr (host:port; port 0 picks one) for processes that must
// outlive their clients, such as "amili-import sandbox". Close stops it.
func NewServerOn(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s := newServer(opts)
	s.ln = ln
	s.plain = &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go func() {
		if err := s.plain.Serve(ln); err != nil && err != http.ErrServerClosed {
			s.log.Error("sandbox stopped", "err", err)
		}
	}()
	return s, nil
}

func newServer(opts Options) *Server {
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		tokens:   map[string]time.Time{},
		limiters: map[string]*rate.Limiter{},
		calls:    map[string]int{},
		statuses: map[int]int{},
		fired:    map[string]bool{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.TokenTTL <= 0 {
		s.opts.TokenTTL = time.Hour
	}
	if s.opts.RateLimit > 0 && s.opts.Burst <= 0 {
		s.opts.Burst = 10
	}
	s.st = newStore(s.now)
	s.Partner, s.Account, s.Creditor, s.InactiveCreditor = s.st.seed()
	s.setFaultsLocked(opts.Faults)
	return s
}

// Close shuts the server down, closing every connection.
func (s *Server) Close() {
	s.closed.Do(func() {
		if s.hs != nil {
			s.hs.CloseClientConnections()
			s.hs.Close()
		}
		if s.plain != nil {
			s.plain.Close()
		}
	})
}

// SetFaults replaces the injected faults; the random generator restarts from f.Seed.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(f)
}

func (s *Server) setFaultsLocked(f Faults) {
	m := make(map[string]string, len(f.ByInvoiceNumber))
	for k, v := range f.ByInvoiceNumber {
		m[k] = v
	}
	f.ByInvoiceNumber = m
	s.faults = f
	s.rnd = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	s.fired = map[string]bool{}
}

// AddCreditor adds another creditor to the seeded account and returns its id.
func (s *Server) AddCreditor(active bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addCreditor(s.Account, fmt.Sprintf("Creditor %d", len(s.st.creditors)+1), active).ID
}

// Routes: the reference spelling first, then the flow guides' alternates for the same handler.
// The call counters always use the reference spelling.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.wrap(name, h))
	}
	route("GET /authenticates/api-code", "GET /authenticates/api-code", s.handleJWTAuth)
	route("POST /authenticates/api-code", "POST /authenticates/api-code", s.handleSimpleAuth)
	for _, p := range []string{"/invoice--registrations", "/invoice-registration"} {
		route("POST "+p, "POST /invoice--registrations", s.handleInvoiceRegistration)
	}
	route("POST /case--registrations", "POST /case--registrations", s.handleCaseRegistration)
	route("POST /media--upload/{id}", "POST /media--upload/{id}", s.handleUpload)
	route("GET /cases", "GET /cases", s.handleListCases)
	route("GET /cases/{id}", "GET /cases/{id}", s.handleGetCase)
	route("GET /creditors/{id}", "GET /creditors/{id}", s.handleGetCreditor)
	route("POST /creditor--payments", "POST /creditor--payments", s.handlePayment)
	route("GET /creditor--payments", "GET /creditor--payments", s.handleListPayments)
	for _, p := range []string{"/creditor--creditings", "/creditor-crediting"} {
		route("POST "+p, "POST /creditor--creditings", s.handleCrediting)
		route("GET "+p, "GET /creditor--creditings", s.handleListCreditings)
	}
	for _, p := range []string{"/creditor--cancellations", "/creditor-cancellation"} {
		route("POST "+p, "POST /creditor--cancellations", s.handleCancellation)
		route("GET "+p, "GET /creditor--cancellations", s.handleListCancellations)
	}
	route("POST /accounts", "POST /accounts", s.handleCreateAccount)
	route("GET /access--groups", "GET /access--groups", s.handleAccessGroups)
	route("POST /users", "POST /users", s.handleCreateUser)
	if s.opts.Inspect {
		mux.HandleFunc("GET "+InspectPath, s.handleInspect)
	}
	mux.Handle("/", s.wrap("other", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "The requested URL was not found on the server.", nil)
	}))
	return mux
}

// statusWriter records the status for StatusCounts and lets Hijack through.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap applies what every request goes through: counting, latency, rate limit, auth and the
// request-level faults, in that order.
func (s *Server) wrap(name string, h http.HandlerFunc) http.Handler {
	isAuth := name == "GET /authenticates/api-code" || name == "POST /authenticates/api-code"
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &statusWriter{ResponseWriter: rw}
		start := s.now()
		defer func() {
			s.mu.Lock()
			s.calls[name]++
			if w.status != 0 {
				s.statuses[w.status]++
			}
			s.mu.Unlock()
			s.log.Debug("sandbox request", "call", name, "status", w.status, "took", time.Since(start))
		}()
		if d := s.opts.Latency; d > 0 {
			if !sleep(r, d) {
				return
			}
		}
		if !s.allowRate(w, r) {
			return
		}
		if !isAuth && !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "Please provide proper credentials", nil)
			return
		}
		s.mu.Lock()
		storm := s.faults.Storm429 > 0 && s.rnd.Float64() < s.faults.Storm429
		fail := !storm && s.faults.ServerErrorRate > 0 && s.rnd.Float64() < s.faults.ServerErrorRate
		s.mu.Unlock()
		if storm {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "Rate limit exceeded", nil)
			return
		}
		if fail {
			writeError(w, http.StatusInternalServerError, "Internal Server Error", nil)
			return
		}
		h(w, r)
	})
}

// sleep waits d or until the request is cancelled; it reports whether to go on.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"_status":"ERR","_error":{"code":500,"message":"encode response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// apiError is Amili's error body, with Eve's _issues beside details.
type apiError struct {
	Status string            `json:"_status"`
	Error  errorBody         `json:"_error"`
	Issues map[string]string `json:"_issues,omitempty"`
}

type errorBody struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// writeError answers Amili's error shape; details are per-field messages.
func writeError(w http.ResponseWriter, status int, msg string, details map[string]string) {
	writeJSON(w, status, apiError{
		Status: "ERR",
		Error:  errorBody{Code: status, Message: msg, Details: details},
		Issues: details,
	})
}

// readObject reads a request body that must be one JSON object, answering 400 in Amili's error
// shape when it cannot be read or parsed; handlers return at once when ok is false. The raw
// body is returned too, for handlers that record what they received.
func readObject(w http.ResponseWriter, r *http.Request) (body []byte, m map[string]any, ok bool) {
	body, ok = readBody(w, r)
	if !ok {
		return nil, nil, false
	}
	m, err := decodeObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return nil, nil, false
	}
	return body, m, true
}

// readBody reads a JSON request body (at most 10 MiB).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read request body: "+err.Error(), nil)
		return nil, false
	}
	return b, true
}
