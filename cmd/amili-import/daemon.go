package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/report"
	"github.com/amili-import/amili-import/schedules"
)

func init() {
	commands["daemon"] = command{summary: "run every job and report on its schedule until stopped", run: runDaemon}
}

func runDaemon(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var opts common
	opts.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: amili-import daemon [flags]

Runs every enabled job and report on its schedule (in time_zone) until stopped. A job never
overlaps itself, nor a "run" of it or another daemon (lease in the ledger). At start, a job
whose last successful run is older than one interval runs at once (daemon.catch_up).

Signals: SIGTERM or SIGINT stops scheduling and lets runs in progress finish within
daemon.drain_timeout, then cancels them; a second one cancels them at once. SIGHUP reloads the
config (a broken one is logged and the running one kept).

With daemon.listen set, serves /healthz, /readyz and /metrics.

Exit status: 0 stopped cleanly, 1 stopped with runs cut short (the next start resumes them),
2 could not start.

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return errUsage
	}
	// Signals first, so that one arriving during start-up is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	cfg, log, err := opts.load(e)
	if err != nil {
		return err
	}
	loc, err := checkSchedules(cfg)
	if err != nil {
		return err
	}
	d := &daemon{env: e, path: opts.config, log: log, metrics: metrics.New()}
	d.w, err = wire(ctx, cfg, log, d.metrics)
	if err != nil {
		return err
	}
	defer d.w.Close()
	d.cfg, d.runner = cfg, newRunner(cfg, d.w, d.metrics, e.stderr)
	d.seedLastSuccess(ctx, cfg)

	var lastRuns schedules.LastRuns
	if cfg.Daemon.CatchUp == nil || *cfg.Daemon.CatchUp {
		lastRuns = d.w.ledger
	}
	d.sched = schedules.New(schedules.Options{Location: loc, Logger: log, LastRuns: lastRuns})
	if _, err := d.sched.Set(d.tasks(cfg, d.runner)); err != nil {
		return err
	}
	if cfg.Daemon.Listen != "" {
		stop, err := d.serveHTTP(cfg.Daemon.Listen)
		if err != nil {
			return err
		}
		defer stop()
	}
	d.sched.Start(ctx)
	log.Info("daemon started", "config", cfg.Path, "time_zone", loc.String(), "pid", os.Getpid(),
		"drain_timeout", drainTimeout(cfg).String(), "lease_ttl", leaseTTL(cfg).String())

	stops := 0 // SIGINT/SIGTERM received; every one also arrives on sigs
	for stops == 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case s := <-sigs:
			if s == syscall.SIGHUP {
				d.reload()
				continue
			}
			stops++
		}
	}
	return d.stop(sigs, stops)
}

// daemon is the running service's state.
type daemon struct {
	env     *env
	path    string
	log     logger
	metrics *metrics.Metrics
	w       *wired
	sched   *schedules.Scheduler

	mu     sync.Mutex // guards cfg and runner, swapped by reload
	cfg    *config.Config
	runner *runner
}

// stop drains the scheduler: runs in progress get daemon.drain_timeout to finish; another
// SIGINT/SIGTERM cancels them at once. It waits for cancelled runs to record what they did.
func (d *daemon) stop(sigs <-chan os.Signal, stops int) error {
	d.mu.Lock()
	drain := drainTimeout(d.cfg)
	d.mu.Unlock()
	d.log.Info("stopping: no new runs; waiting for runs in progress", "drain_timeout", drain.String())
	drainCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	drained := make(chan struct{})
	go func() {
		for {
			select {
			case <-drained:
				return
			case s := <-sigs:
				if s == syscall.SIGHUP {
					continue
				}
				if stops++; stops >= 2 {
					d.log.Warn("second signal: cancelling the runs in progress now")
					cancel()
				}
			}
		}
	}()
	err := d.sched.Shutdown(drainCtx)
	close(drained)
	if errors.Is(err, context.DeadlineExceeded) {
		d.log.Warn("drain time was up: runs in progress were cancelled", "drain_timeout", drain.String())
	}
	if err != nil {
		d.log.Warn("stopped; runs cut short are resumed by the next run")
		return someRowsFailed(errors.New("stopped before the runs in progress finished; the next run resumes them"))
	}
	d.log.Info("stopped")
	return nil
}

// checkSchedules checks what the daemon needs beyond config.Load: every schedule fires, and
// there is something to schedule. It returns the time zone.
func checkSchedules(cfg *config.Config) (*time.Location, error) {
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, &config.Error{File: cfg.Path, Key: "time_zone", Msg: err.Error()}
	}
	var errs config.Errors
	if ttl := leaseTTL(cfg); ttl < 3*time.Second {
		errs = append(errs, &config.Error{File: cfg.Path, Key: "daemon.lease_ttl", Msg: fmt.Sprintf("%v is too short: at least 3s (renewed every lease_ttl/3)", ttl)})
	}
	scheduled := 0
	for i, j := range cfg.Jobs {
		if j.Schedule == "" || !j.IsEnabled() {
			continue
		}
		if _, err := schedules.Parse(j.Schedule, loc); err != nil {
			errs = append(errs, &config.Error{File: cfg.Path, Key: fmt.Sprintf("jobs[%d] (%s).schedule", i, j.Name), Msg: err.Error()})
		}
		scheduled++
	}
	for i, r := range cfg.Reports {
		if r.Schedule == "" {
			continue
		}
		if _, err := schedules.Parse(r.Schedule, loc); err != nil {
			errs = append(errs, &config.Error{File: cfg.Path, Key: fmt.Sprintf("reports[%d] (%s).schedule", i, r.Name), Msg: err.Error()})
		}
		scheduled++
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if scheduled == 0 {
		return nil, &config.Error{File: cfg.Path, Key: "jobs", Msg: "no enabled job or report has a schedule: the daemon would have nothing to do"}
	}
	return loc, nil
}

// tasks are cfg's enabled jobs and reports as scheduler tasks, run by r. A job without a
// schedule is known but not scheduled.
func (d *daemon) tasks(cfg *config.Config, r *runner) []schedules.Task {
	catchUp := cfg.Daemon.CatchUp == nil || *cfg.Daemon.CatchUp
	var tasks []schedules.Task
	for _, j := range cfg.Jobs {
		if !j.IsEnabled() {
			d.log.Info("job disabled; not scheduled", "job", j.Name)
			continue
		}
		tasks = append(tasks, schedules.Task{Kind: "job", Name: j.Name, Spec: j.Schedule, CatchUp: catchUp,
			Run: func(ctx context.Context) error {
				_, err := r.runJob(ctx, j)
				return err
			}})
	}
	for _, rc := range cfg.Reports {
		if rc.Schedule == "" {
			continue
		}
		tasks = append(tasks, schedules.Task{Kind: "report", Name: rc.Name, Spec: rc.Schedule,
			Run: func(ctx context.Context) error { return d.runReport(ctx, cfg, r, rc) }})
	}
	return tasks
}

// runReport is one scheduled report, under a lease of its own.
func (d *daemon) runReport(ctx context.Context, cfg *config.Config, r *runner, rc config.Report) error {
	log := d.log.With("report", rc.Name)
	deps, err := reportDeps(cfg, r.w, log, d.env.getenv, cfg.SMTP.Host != "")
	if err != nil {
		log.Error("report not started", "error", err)
		return err
	}
	err = schedules.Exclusive(ctx, r.acquire, "report "+rc.Name, leaseTTL(cfg), log, func(ctx context.Context) error {
		log.Info("report started")
		return report.RunScheduled(ctx, deps, rc, time.Now())
	})
	if err != nil {
		log.Error("report failed", "error", err)
		return err
	}
	log.Info("report finished")
	return nil
}

// reload applies the config file anew on SIGHUP. A config that does not load, or whose
// schedules do not parse, is logged and the running one kept.
func (d *daemon) reload() {
	d.log.Info("reloading the config", "config", d.path)
	cfg, err := config.Load(d.path, d.env.getenv)
	if err == nil {
		_, err = checkSchedules(cfg)
	}
	if err != nil {
		d.log.Error("reload refused: keeping the running config", "error", err)
		return
	}
	d.mu.Lock()
	old := d.cfg
	d.mu.Unlock()
	for _, w := range cfg.Warnings {
		d.log.Warn("config: " + w)
	}
	restart := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			d.log.Warn("reload: "+key+" changed; it takes effect after a restart", "key", key)
		}
	}
	restart("ledger", old.Ledger, cfg.Ledger)
	restart("daemon.listen", old.Daemon.Listen, cfg.Daemon.Listen)
	restart("log", old.Log, cfg.Log)
	restart("time_zone", old.TimeZone, cfg.TimeZone)
	client, err := newClient(cfg, d.log, d.metrics)
	if err != nil {
		d.log.Error("reload refused: keeping the running config", "error", err)
		return
	}
	r := newRunner(cfg, &wired{ledger: d.w.ledger, client: client, log: d.log, ownerTTL: leaseTTL(cfg)}, d.metrics, d.env.stderr)
	changes, err := d.sched.Set(d.tasks(cfg, r))
	if err != nil {
		d.log.Error("reload refused: keeping the running config", "error", err)
		return
	}
	d.mu.Lock()
	d.cfg, d.runner = cfg, r
	d.mu.Unlock()
	for _, c := range changes {
		d.log.Info("reload: "+c.String(), c.Kind, c.Name, "change", c.What)
	}
	oldJobs := map[string]config.Job{}
	for _, j := range old.Jobs {
		oldJobs[j.Name] = j
	}
	for _, j := range cfg.Jobs {
		if o, ok := oldJobs[j.Name]; ok && o.Schedule == j.Schedule && !reflect.DeepEqual(o, j) {
			d.log.Info("reload: job "+j.Name+" settings changed", "job", j.Name)
		}
	}
	d.log.Info("config reloaded", "schedule_changes", len(changes))
}

// seedLastSuccess sets the last-success gauge of each job from the ledger, so that a restart
// does not reset what monitoring sees.
func (d *daemon) seedLastSuccess(ctx context.Context, cfg *config.Config) {
	for _, j := range cfg.Jobs {
		if at, ok, err := d.w.ledger.LastSuccessfulRun(ctx, j.Name); err == nil && ok {
			d.metrics.SetLastSuccess(j.Name, at)
		}
	}
}

// serveHTTP starts the /healthz, /readyz and /metrics listener and returns its stop function.
func (d *daemon) serveHTTP(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("daemon.listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := d.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", d.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http listener stopped", "error", err)
		}
	}()
	d.log.Info("http listener started", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// ready reports why the daemon cannot do its work, if it cannot: no config, ledger not
// answering, scheduler not running.
func (d *daemon) ready(ctx context.Context) error {
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	if cfg == nil {
		return errors.New("config not loaded")
	}
	if !d.sched.Running() {
		return errors.New("scheduler not running")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Any read answers "is the ledger open and readable"; this one is cheap and indexed.
	if _, _, err := d.w.ledger.LastSuccessfulRun(ctx, ""); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}
