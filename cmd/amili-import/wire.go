package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/schedules"

	"golang.org/x/term"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/source"
)

// logger is the one logger type of the binary.
type logger = *slog.Logger

// newLogger builds the logger from the config's log block; level overrides log.level.
func newLogger(e *env, cfg *config.Config, level string) (logger, error) {
	opts := logging.Options{Level: cfg.Log.Level, Format: cfg.Log.Format}
	if level != "" {
		opts.Level = level
	}
	return logging.New(e.stderr, opts)
}

// wired holds what a run talks to: the ledger and the API client.
type wired struct {
	ledger   *ledger.Ledger
	client   *amili.Client
	log      logger
	ownerTTL time.Duration // heartbeat of each sending run's ownership (daemon.lease_ttl)
	// creditors keeps creditor checks across the runs of this process (amili.creditor_check_ttl).
	creditors *importer.CreditorCache
}

// wire opens the ledger and builds the client from cfg. The client does not contact Amili
// until a run has something to send: it authenticates with its first call.
func wire(ctx context.Context, cfg *config.Config, log logger, m *metrics.Metrics) (*wired, error) {
	client, err := newClient(cfg, log, m)
	if err != nil {
		return nil, err
	}
	lg, err := ledger.Open(ctx, cfg.Ledger.Path, ledger.Options{BusyTimeout: cfg.Ledger.BusyTimeout.D(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	return &wired{ledger: lg, client: client, log: log, ownerTTL: leaseTTL(cfg), creditors: creditorCache(cfg)}, nil
}

// own makes one sending run an owner in the ledger and returns its id, a context that is
// cancelled when the ownership lapses (a process stopped for longer than daemon.lease_ttl: the
// run then starts no new request), and release, which ends the ownership when the run is over
// so that what it left unfinished is anyone's at once.
func (w *wired) own(ctx context.Context) (context.Context, string, func(), error) {
	o, err := w.ledger.Join(ctx, ledger.Hostname(), os.Getpid(), w.ownerTTL, w.log)
	if err != nil {
		return nil, "", nil, fmt.Errorf("ledger: %w", err)
	}
	octx, cancel := o.WithContext(ctx)
	return octx, o.ID, func() {
		cancel()
		lctx, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		if err := o.Leave(lctx); err != nil {
			w.log.Warn("cannot record that the run left the ledger; its heartbeat lapses by itself", "error", err)
		}
	}, nil
}

// newClient builds the API client from cfg, counting its calls in m when m is not nil.
func newClient(cfg *config.Config, log logger, m *metrics.Metrics) (*amili.Client, error) {
	cc, err := clientConfig(cfg, nil, log)
	if err != nil {
		return nil, err
	}
	if m != nil {
		cc.OnCall = func(ci amili.CallInfo) { m.ObserveCall(ci.Endpoint, ci.Status, ci.Duration, ci.RateLimitWait) }
	}
	client, err := amili.New(cc)
	if err != nil {
		return nil, fmt.Errorf("amili client: %w", err)
	}
	return client, nil
}

func (w *wired) Close() error { return w.ledger.Close() }

// creditorCache keeps creditor checks for amili.creditor_check_ttl, else the importer's default.
func creditorCache(cfg *config.Config) *importer.CreditorCache {
	return importer.NewCreditorCache(cfg.Amili.CreditorCheckTTL.D(), nil)
}

// deps are the importer's parts; a progress bar is drawn only when stderr is a terminal.
func (w *wired) deps(stderr io.Writer) importer.Deps {
	d := importer.Deps{
		Ledger:    w.ledger,
		Client:    w.client,
		Logger:    w.log,
		APICalls:  func() int64 { return totalCalls(w.client.Stats()) },
		Creditors: w.creditors,
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		d.Progress = stderr
	}
	return d
}

// clientConfig turns the config's amili block into the client's configuration, reading the
// secrets it references. getenv nil means os.Getenv.
func clientConfig(cfg *config.Config, getenv func(string) string, log logger) (amili.Config, error) {
	a := cfg.Amili
	auth := amili.AuthConfig{
		Method:       a.Auth.Method,
		Algorithm:    a.Auth.Algorithm,
		APICodeField: a.Auth.APICodeField,
		TokenFields:  a.Auth.TokenFields,
		TokenTTL:     a.Auth.TokenTTL.D(),
	}
	var err error
	if a.Auth.APICodeEnv != "" || a.Auth.APICodeFile != "" {
		if auth.APICode, err = config.ReadSecret(a.Auth.APICodeEnv, a.Auth.APICodeFile, getenv); err != nil {
			return amili.Config{}, fmt.Errorf("amili.auth api code: %w", err)
		}
	}
	if a.Auth.TokenEnv != "" || a.Auth.TokenFile != "" {
		if auth.Token, err = config.ReadSecret(a.Auth.TokenEnv, a.Auth.TokenFile, getenv); err != nil {
			return amili.Config{}, fmt.Errorf("amili.auth token: %w", err)
		}
	}
	if a.Auth.PrivateKeyFile != "" {
		if auth.PrivateKeyPEM, err = os.ReadFile(a.Auth.PrivateKeyFile); err != nil {
			return amili.Config{}, fmt.Errorf("amili.auth.private_key_file: %w", err)
		}
	}
	if err := checkAuth(cfg, auth); err != nil {
		return amili.Config{}, err
	}
	paths := amili.DefaultPaths()
	for k, v := range a.Paths {
		if err := paths.Set(k, v); err != nil {
			return amili.Config{}, fmt.Errorf("amili.paths: %w", err)
		}
	}
	return amili.Config{
		BaseURL:      a.BaseURL,
		Auth:         auth,
		Paths:        paths,
		Timeout:      a.Timeout.D(),
		RateLimit:    float64(a.RateLimitPerMinute),
		Burst:        a.Burst,
		MaxAttempts:  a.MaxAttempts,
		MaxRetryTime: a.MaxRetryTime.D(),
		UserAgent:    a.UserAgent,
		Logger:       log,
	}, nil
}

// jobFromConfig is the importer's view of a configured job.
func jobFromConfig(cfg *config.Config, cj config.Job) (importer.Job, error) {
	grace, err := inDoubtGrace(cfg)
	if err != nil {
		return importer.Job{}, err
	}
	job := importer.Job{
		Name:        cj.Name,
		Concurrency: cj.Concurrency,
		PDF:         importer.PDFPolicy(cj.PDF),
		PDFMaxSize:  int64(cj.PDFMaxSize),
		MaxFileSize: int64(cj.MaxFileSize),
		Move:        cj.Source.After != string(source.AfterLeave),
		// InDoubtGrace is the Amili connection's, for every job that uses it.
		InDoubtGrace: grace,
		Mapping: mapping.Options{
			Kind:      domain.Kind(cj.Kind),
			Account:   firstOf(cj.Account, cfg.Amili.Account),
			Creditor:  firstOf(cj.Creditor, cfg.Amili.Creditor),
			IDNumbers: mapping.IDPolicy(cj.IDNumbers),
			Limits: mapping.Limits{RecordBytes: int(cj.MaxRecordSize), Columns: cj.MaxColumns,
				CellChars: cj.MaxCellChars},
		},
	}
	if k := job.Mapping.Kind; k != "" && !k.Valid() {
		return job, fmt.Errorf("job %q: kind %q: want invoice, case, payment, crediting or cancellation", cj.Name, cj.Kind)
	}
	switch job.PDF {
	case "", importer.PDFRequired, importer.PDFOptional:
	default:
		return job, fmt.Errorf("job %q: pdf %q: want required or optional", cj.Name, cj.PDF)
	}
	if cj.Mapping != "" {
		l, err := mapping.LoadLayout(cj.Mapping)
		if err != nil {
			return job, fmt.Errorf("job %q: mapping: %w", cj.Name, err)
		}
		job.Mapping.Layout = l
	}
	return job, nil
}

// checkAuth names the missing key when the method (the configured one, else the one the
// client picks from the credentials given) lacks a credential.
func checkAuth(cfg *config.Config, a amili.AuthConfig) error {
	method := cmp.Or(a.Method, amili.PickMethod(a.Token != "", len(a.PrivateKeyPEM) > 0, a.APICode != ""))
	if method == amili.AuthJWT && a.APICode == "" {
		return &config.Error{File: cfg.Path, Key: "amili.auth.api_code_env", Msg: "set api_code_env or api_code_file: method jwt signs the API code with the private key"}
	}
	return nil
}

// inDoubtGrace is amili.in_doubt_grace, else the importer's default. It must be at least
// twice the client's timeout, so that a request the client gave up on has had time to land.
func inDoubtGrace(cfg *config.Config) (time.Duration, error) {
	timeout := cmp.Or(cfg.Amili.Timeout.D(), amili.DefaultTimeout)
	grace := cmp.Or(cfg.Amili.InDoubtGrace.D(), importer.DefaultInDoubtGrace)
	if grace < 2*timeout {
		return 0, &config.Error{File: cfg.Path, Key: "amili.in_doubt_grace", Msg: fmt.Sprintf(
			"%v is too short: at least twice amili.timeout (%v), so that a request the client gave up on has had time to land", grace, timeout)}
	}
	return grace, nil
}

// leaseTTL is daemon.lease_ttl, else the default of job leases.
func leaseTTL(cfg *config.Config) time.Duration {
	return cmp.Or(cfg.Daemon.LeaseTTL.D(), schedules.DefaultLeaseTTL)
}

// drainTimeout is daemon.drain_timeout, else the importer's default.
func drainTimeout(cfg *config.Config) time.Duration {
	return cmp.Or(cfg.Daemon.DrainTimeout.D(), importer.DefaultDrainTimeout)
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// sourceOptions is the source package's view of a job's source block; archive folders and the
// times the source reports are in the config's time_zone.
func sourceOptions(cfg *config.Config, cj config.Job, log logger) source.Options {
	s := cj.Source
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		loc = nil // config.Load has checked it; nil is the source's default
	}
	return source.Options{
		Location:   loc,
		Dir:        s.Dir,
		Patterns:   s.Patterns,
		MinAge:     s.MinAge.D(),
		DoneMarker: s.DoneMarker,
		PDFDir:     s.PDFDir,
		ArchiveDir: s.ArchiveDir,
		ErrorDir:   s.ErrorDir,
		After:      source.After(s.After),
		LeavePDFs:  s.ArchivePDFs != nil && !*s.ArchivePDFs,
		Logger:     log,
		// Only the local source follows links itself; an SFTP server resolves its own.
		AllowSymlinksOutside: s.AllowSymlinksOutside,
	}
}

// jobSource opens a job's source: a local directory or an SFTP connection.
func jobSource(ctx context.Context, cfg *config.Config, cj config.Job, log logger) (source.Source, error) {
	opts := sourceOptions(cfg, cj, log)
	if cj.Source.Type != "sftp" {
		return source.NewLocal(opts)
	}
	sc := cfg.SFTP
	if cj.Source.SFTP != nil {
		sc = *cj.Source.SFTP // config has laid the job's keys over the top-level block
	}
	conn, err := sftpConfig(sc, nil)
	if err != nil {
		return nil, err
	}
	return source.DialSFTP(ctx, conn, opts)
}

// dialURL connects to the SFTP server of a one-shot sftp:// file, with the keys and host-key
// settings of the config's sftp block.
func dialURL(ctx context.Context, cfg *config.Config, u source.URL, log logger) (source.Source, error) {
	sc := cfg.SFTP
	sc.Host, sc.Port = u.Host, u.Port
	if u.User != "" {
		sc.User = u.User
	}
	conn, err := sftpConfig(sc, nil)
	if err != nil {
		return nil, err
	}
	return source.DialSFTP(ctx, conn, source.Options{Dir: u.Dir, Patterns: []string{path.Base(u.File)}, After: source.AfterLeave, Logger: log})
}

// sftpConfig reads the secrets an sftp block references.
func sftpConfig(s config.SFTP, getenv func(string) string) (source.SFTPConfig, error) {
	out := source.SFTPConfig{
		Host: s.Host, Port: s.Port, User: s.User, UseAgent: s.UseAgent,
		KnownHostsFile: s.KnownHosts, HostKey: s.HostKey,
		Keepalive: time.Duration(s.Keepalive), Timeout: time.Duration(s.Timeout),
		LegacyAlgorithms: s.LegacyAlgorithms,
	}
	if out.KnownHostsFile == "" && out.HostKey == "" {
		out.KnownHostsFile = source.DefaultKnownHosts()
	}
	var err error
	if s.PrivateKeyFile != "" {
		if out.PrivateKey, err = os.ReadFile(s.PrivateKeyFile); err != nil {
			return out, fmt.Errorf("sftp.private_key_file: %w", err)
		}
	}
	if s.PrivateKeyPassphraseEnv != "" || s.PrivateKeyPassphraseFile != "" {
		p, err := config.ReadSecret(s.PrivateKeyPassphraseEnv, s.PrivateKeyPassphraseFile, getenv)
		if err != nil {
			return out, fmt.Errorf("sftp private key passphrase: %w", err)
		}
		out.PrivateKeyPassphrase = []byte(p)
	}
	if s.PasswordEnv != "" || s.PasswordFile != "" {
		if out.Password, err = config.ReadSecret(s.PasswordEnv, s.PasswordFile, getenv); err != nil {
			return out, fmt.Errorf("sftp password: %w", err)
		}
	}
	return out, nil
}
