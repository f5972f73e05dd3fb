package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
)

func init() {
	commands["sandbox"] = command{summary: "serve an in-memory Amili sandbox for trying imports", run: runSandbox}
}

// sandboxFlags are the sandbox verb's settings.
type sandboxFlags struct {
	addr, apiKey     string
	apiCodes         []string
	jwtKeys          map[string]string
	tokenTTL         time.Duration
	rateLimit, burst int
	latency          time.Duration
	uploadLatency    time.Duration
	serverErrorRate  float64
	commitThenFail   float64
	commitThenDrop   float64
	storm429         float64
	commitLate       float64
	commitDelay      time.Duration
	badBody          float64
	listLag          time.Duration
	seed             int64
	verbose          bool
	inspect          bool
}

// sandboxUsage is the sandbox verb's help, printed before its flags.
const sandboxUsage = `Usage: amili-import sandbox [flags]

Serves an in-memory Amili API that validates registrations as Amili documents them,
keeps cases, uploads and payments in memory, and can inject faults. Point an
import's amili.base_url at the printed URL. Stop it with Ctrl-C; state is lost.

Flags:`

func runSandbox(ctx context.Context, e *env, args []string) error {
	var f sandboxFlags
	if err := f.parse(e.stderr, args); err != nil {
		return err
	}
	generated := f.ensureAPIKey()
	keys, err := f.publicKeys()
	if err != nil {
		return err
	}
	srv, err := f.start(e.stderr, keys)
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer srv.Close()

	w := e.stdout
	f.printBanner(w, srv, generated, len(keys) > 0)

	<-ctx.Done()
	fmt.Fprintln(w, "sandbox stopped")
	return nil
}

// parse reads args into f, printing usage and problems to stderr; errUsage when they are wrong.
func (f *sandboxFlags) parse(stderr io.Writer, args []string) error {
	fs := newFlagSet("sandbox", sandboxUsage, stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sandbox: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return f.validate()
}

// register adds the sandbox's flags to fs.
func (f *sandboxFlags) register(fs *flag.FlagSet) {
	f.jwtKeys = map[string]string{}
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "listen `host:port` (port 0 picks a free one)")
	fs.StringVar(&f.apiKey, "api-key", "", "static access `token` accepted in X-API-Key (empty: generate one and print it)")
	fs.Func("api-code", "api `code` accepted by the simple POST /authenticates/api-code method (repeatable)", func(v string) error {
		f.apiCodes = append(f.apiCodes, v)
		return nil
	})
	fs.Func("jwt-key", "`CODE=FILE`: PEM public key registered for an api code, for the JWT method (repeatable)", func(v string) error {
		code, file, ok := strings.Cut(v, "=")
		if !ok || code == "" || file == "" {
			return errors.New("want CODE=FILE")
		}
		f.jwtKeys[code] = file
		return nil
	})
	fs.DurationVar(&f.tokenTTL, "token-ttl", time.Hour, "lifetime of issued access tokens")
	fs.IntVar(&f.rateLimit, "rate-limit", 0, "requests per minute per API key, Amili's is 100 (0: no limit)")
	fs.IntVar(&f.burst, "burst", 10, "burst size when --rate-limit is set")
	fs.DurationVar(&f.latency, "latency", 0, "delay added to every request, e.g. 50ms")
	fs.DurationVar(&f.uploadLatency, "upload-latency", 0, "extra delay for media uploads")
	fs.Float64Var(&f.serverErrorRate, "server-error-rate", 0, "fraction of requests answered 500 before doing anything")
	fs.Float64Var(&f.commitThenFail, "commit-then-fail", 0, "fraction of registrations stored, then answered 500")
	fs.Float64Var(&f.commitThenDrop, "commit-then-drop", 0, "fraction of registrations stored, then the connection closed unanswered")
	fs.Float64Var(&f.storm429, "storm-429", 0, "fraction of requests answered 429 with Retry-After")
	fs.Float64Var(&f.commitLate, "commit-late", 0, "fraction of registrations stored only after --commit-delay, even when the client has given up")
	fs.DurationVar(&f.commitDelay, "commit-delay", 10*time.Second, "how long a --commit-late registration waits before it is stored")
	fs.Float64Var(&f.badBody, "bad-body", 0, "fraction of registrations stored, then answered 201 with ids that do not decode")
	fs.DurationVar(&f.listLag, "list-lag", 0, "how long a stored case stays out of GET /cases listings (a lagging search index)")
	fs.Int64Var(&f.seed, "seed", 1, "seed for the fault fractions")
	fs.BoolVar(&f.verbose, "v", false, "log every request to stderr")
	fs.BoolVar(&f.inspect, "inspect", false, "serve GET "+amilitest.InspectPath+": what the sandbox received and holds, issued tokens included (for tests)")
}

// validate checks the fault fractions and the rate limit.
func (f *sandboxFlags) validate() error {
	for name, v := range map[string]float64{"server-error-rate": f.serverErrorRate, "commit-then-fail": f.commitThenFail,
		"commit-then-drop": f.commitThenDrop, "storm-429": f.storm429, "commit-late": f.commitLate, "bad-body": f.badBody} {
		if v < 0 || v > 1 {
			return fmt.Errorf("--%s %v: want a fraction between 0 and 1", name, v)
		}
	}
	if f.rateLimit < 0 || f.burst < 1 {
		return errors.New("--rate-limit must be >= 0 and --burst >= 1")
	}
	return nil
}

// ensureAPIKey generates a random API key when none was given, and reports whether it did.
func (f *sandboxFlags) ensureAPIKey() bool {
	if f.apiKey != "" {
		return false
	}
	var b [16]byte
	rand.Read(b[:])
	f.apiKey = hex.EncodeToString(b[:])
	return true
}

// publicKeys reads the --jwt-key files, by api code.
func (f *sandboxFlags) publicKeys() (map[string]crypto.PublicKey, error) {
	keys := map[string]crypto.PublicKey{}
	for code, file := range f.jwtKeys {
		k, err := readPublicKey(file)
		if err != nil {
			return nil, fmt.Errorf("--jwt-key %s: %w", code, err)
		}
		keys[code] = k
	}
	return keys, nil
}

// start serves the sandbox on f.addr with f's settings; with -v it logs every request to stderr.
func (f *sandboxFlags) start(stderr io.Writer, keys map[string]crypto.PublicKey) (*amilitest.Server, error) {
	var logger *slog.Logger
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return amilitest.NewServerOn(f.addr, amilitest.Options{
		Tokens: []string{f.apiKey}, APICodes: keys, SimpleAPICodes: f.apiCodes, TokenTTL: f.tokenTTL,
		RateLimit: f.rateLimit, Burst: f.burst, Latency: f.latency, Logger: logger, Inspect: f.inspect,
		Faults: amilitest.Faults{
			Seed: f.seed, ServerErrorRate: f.serverErrorRate, CommitThenFail: f.commitThenFail,
			CommitThenDrop: f.commitThenDrop, Storm429: f.storm429, UploadLatency: f.uploadLatency,
			CommitLate: f.commitLate, CommitDelay: f.commitDelay, BadBody: f.badBody, ListLag: f.listLag,
		},
	})
}

// printBanner prints where the sandbox listens, its ids and how to authenticate.
func (f *sandboxFlags) printBanner(w io.Writer, srv *amilitest.Server, generated, jwt bool) {
	fmt.Fprintf(w, "Amili sandbox listening on %s\n", srv.URL)
	fmt.Fprintf(w, "  account:            %s\n", srv.Account)
	fmt.Fprintf(w, "  creditor (active):  %s\n", srv.Creditor)
	fmt.Fprintf(w, "  creditor (inactive): %s\n", srv.InactiveCreditor)
	if generated {
		fmt.Fprintf(w, "  api key (generated): %s\n", f.apiKey)
	}
	fmt.Fprintln(w, "Authenticate with the header \"X-API-Key: <api key>\" on every request")
	if len(f.apiCodes) > 0 {
		fmt.Fprintln(w, "or POST /authenticates/api-code {\"api_code\": \"<code>\"} for a token")
	}
	if jwt {
		fmt.Fprintln(w, "or GET /authenticates/api-code with a signed JWT in X-API-Key for a token")
	}
	if f.rateLimit > 0 {
		fmt.Fprintf(w, "Rate limit: %d requests/minute per key, burst %d\n", f.rateLimit, f.burst)
	}
	if f.inspect {
		fmt.Fprintf(w, "Inspection: GET %s%s\n", srv.URL, amilitest.InspectPath)
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// readPublicKey reads a PEM public key (PKIX "PUBLIC KEY" or "RSA PUBLIC KEY").
func readPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block in the file")
	}
	if blk.Type == "RSA PUBLIC KEY" {
		return x509.ParsePKCS1PublicKey(blk.Bytes)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return k, nil
}
