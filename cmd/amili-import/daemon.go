package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/daemon"
	"github.com/amili-import/amili-import/metrics"
)

func init() {
	commands["daemon"] = command{summary: "run every job and report on its schedule until stopped", run: runDaemon}
}

// daemonUsage is the daemon verb's help, printed before its flags.
const daemonUsage = `Usage: amili-import daemon [flags]

Runs every enabled job and report on its schedule (in time_zone) until stopped. A job never
overlaps itself, nor a "run" of it or another daemon (lease in the ledger). At start, a job
whose last successful run is older than one interval runs at once (daemon.catch_up).

Signals: SIGTERM or SIGINT stops scheduling and lets runs in progress finish within
daemon.drain_timeout, then cancels them; a second one cancels them at once. SIGHUP reloads the
config (a broken one is logged and the running one kept).

With daemon.listen set, serves /healthz, /readyz and /metrics.

Exit status: 0 stopped cleanly, 1 stopped with runs cut short (the next start resumes them),
2 could not start.

Flags:`

// daemonFlags are the daemon verb's flags: only the common ones.
type daemonFlags struct {
	common
}

func runDaemon(ctx context.Context, e *env, args []string) error {
	var opts daemonFlags
	if err := opts.parse(e.stderr, args); err != nil {
		return err
	}
	// Signals first, so that one arriving during start-up is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	cfg, log, err := opts.load(e)
	if err != nil {
		return err
	}
	if _, err := daemon.CheckSchedules(cfg); err != nil {
		return err
	}
	m := metrics.New()
	w, err := wire(ctx, cfg, log, m)
	if err != nil {
		return err
	}
	defer w.Close()
	svc, err := newService(e, opts.config, cfg, w, log, m)
	if err != nil {
		return err
	}
	if cfg.Daemon.Listen != "" {
		stop, err := svc.Serve(cfg.Daemon.Listen)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := svc.Run(ctx, sigs); err != nil {
		return someRowsFailed(err)
	}
	return nil
}

// parse reads args into f, printing usage to stderr; errUsage when they are wrong.
func (f *daemonFlags) parse(stderr io.Writer, args []string) error {
	fs := newFlagSet("daemon", daemonUsage, stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return usageError(err)
	}
	return nil
}

// newService is the daemon service over cfg (read from path, reloaded from there on SIGHUP):
// the first config's jobs run on w; a reloaded config's get a new API client on w's ledger.
func newService(e *env, path string, cfg *config.Config, w *wired, log logger, m *metrics.Metrics) (*daemon.Service, error) {
	return daemon.New(cfg, daemon.Options{
		Path: path,
		Load: func() (*config.Config, error) { return loadConfig(path, e.getenv) },
		NewRunner: func(c *config.Config) (daemon.Runner, error) {
			if c == cfg {
				return newRunner(c, w, m, e), nil
			}
			client, err := newClient(c, log, m)
			if err != nil {
				return nil, err
			}
			return newRunner(c, &wired{ledger: w.ledger, client: client, log: log, ownerTTL: leaseTTL(c), creditors: creditorCache(c)}, m, e), nil
		},
		Ledger:       w.ledger,
		Metrics:      m,
		Logger:       log,
		DrainTimeout: drainTimeout,
		StartAttrs: []any{"config", cfg.Path, "time_zone", cfg.TimeZone, "pid", os.Getpid(),
			"drain_timeout", drainTimeout(cfg).String(), "lease_ttl", leaseTTL(cfg).String()},
	})
}
