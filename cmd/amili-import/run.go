package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/daemon"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/report"
	"github.com/amili-import/amili-import/schedules"
)

const runUsage = `Usage: amili-import run [flags] JOB

Runs the configured job JOB once, now, through the daemon's code path: the same lease in the
ledger (so it never runs alongside the daemon or another run of the same job), the same import
and the same logging. A job without a schedule can be run this way.

Exit status: 0 all rows done, 1 some rows rejected or not done, 2 could not start (including:
the job is running elsewhere; the message names the host, pid and since when).

Flags:`

func init() {
	commands["run"] = command{summary: "run one configured job once, now, exactly as the daemon would", run: runRun}
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("run", runUsage, e.stderr)
	var opts common
	opts.register(fs)
	summary := fs.String("summary", "text", "summary format: text or json")
	// Flags may follow the job name too: "run invoices --config x.yaml".
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return usageError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return errUsage
	}
	if *summary != "text" && *summary != "json" {
		return fmt.Errorf("--summary %q: want text or json", *summary)
	}
	cfg, log, err := opts.load(e)
	if err != nil {
		return err
	}
	cj, err := findEnabledJob(cfg, rest[0])
	if err != nil {
		return err
	}
	m := metrics.New()
	w, err := wire(ctx, cfg, log, m)
	if err != nil {
		return err
	}
	defer w.Close()
	r := newRunner(cfg, w, m, e)
	sum, err := r.runJob(ctx, cj)
	var held *ledger.LeaseHeldError
	if errors.As(err, &held) {
		return err
	}
	if err == nil || !errors.Is(err, importer.ErrCannotStart) {
		if werr := writeSummary(e.stdout, sum, *summary); werr != nil {
			return werr
		}
	}
	return exitFor(sum, err)
}

// findJob returns the configured job called name, enabled or not.
func findJob(cfg *config.Config, name string) (config.Job, error) {
	for _, j := range cfg.Jobs {
		if j.Name == name {
			return j, nil
		}
	}
	return config.Job{}, fmt.Errorf("no job %q in %s", name, cfg.Path)
}

// findEnabledJob is findJob for a job that is to run: a disabled one is an error.
func findEnabledJob(cfg *config.Config, name string) (config.Job, error) {
	j, err := findJob(cfg, name)
	if err == nil && !j.IsEnabled() {
		return j, fmt.Errorf("job %q is disabled in %s (enabled: false)", name, cfg.Path)
	}
	return j, err
}

// runner runs the jobs and reports of one config: the one code path of the daemon's scheduled
// runs and the run command.
type runner struct {
	cfg     *config.Config
	w       *wired
	metrics *metrics.Metrics
	owner   ledger.LeaseOwner
	env     *env
}

func newRunner(cfg *config.Config, w *wired, m *metrics.Metrics, e *env) *runner {
	return &runner{cfg: cfg, w: w, metrics: m, owner: ledger.LeaseOwner{Host: ledger.Hostname(), PID: os.Getpid()}, env: e}
}

// acquire takes a job's lease in the ledger for this process.
func (r *runner) acquire(ctx context.Context, name string, ttl time.Duration) (schedules.Lease, error) {
	l, err := r.w.ledger.AcquireLease(ctx, name, r.owner, ttl)
	if err != nil {
		return nil, err
	}
	if l.TookOver != "" {
		r.w.log.Warn("lease "+l.TookOver, "lease", name)
	}
	return l, nil
}

// RunJob implements daemon.Runner.
func (r *runner) RunJob(ctx context.Context, cj config.Job) error {
	_, err := r.runJob(ctx, cj)
	return err
}

// runJob runs cj once under its lease. A job held by another process returns the ledger's
// *LeaseHeldError, which names the holder.
func (r *runner) runJob(ctx context.Context, cj config.Job) (importer.Summary, error) {
	job, err := jobFromConfig(r.cfg, cj)
	if err != nil {
		return importer.Summary{}, fmt.Errorf("%w: %w", importer.ErrCannotStart, err)
	}
	job.DrainTimeout = drainTimeout(r.cfg)
	sum, err := daemon.Job{
		Name: cj.Name, Acquire: r.acquire, LeaseTTL: leaseTTL(r.cfg), Metrics: r.metrics, Logger: r.w.log,
		StartAttrs: []any{"source", cj.Source.Type, "dir", cj.Source.Dir},
		Import: func(ctx context.Context) (importer.Summary, error) {
			src, err := jobSource(ctx, r.cfg, cj, r.w.log)
			if err != nil {
				return importer.Summary{}, fmt.Errorf("%w: source: %w", importer.ErrCannotStart, err)
			}
			defer src.Close()
			ctx, owner, release, err := r.w.own(ctx)
			if err != nil {
				return importer.Summary{}, fmt.Errorf("%w: %w", importer.ErrCannotStart, err)
			}
			defer release()
			deps := r.w.deps(r.env.stderr)
			deps.Source, deps.Owner = src, owner
			return importer.Run(ctx, job, deps)
		},
	}.Run(ctx)
	(&notifier{cfg: r.cfg, lg: r.w.ledger, log: r.w.log, getenv: r.env.getenv}).after(ctx, cj, sum, err)
	return sum, err
}

// RunReport implements daemon.Runner: one scheduled report, under a lease of its own.
func (r *runner) RunReport(ctx context.Context, rc config.Report) error {
	log := r.w.log.With("report", rc.Name)
	deps, err := reportDeps(r.cfg, r.w, log, r.env.getenv, r.cfg.SMTP.Host != "")
	if err != nil {
		log.Error("report not started", "error", err)
		return err
	}
	err = schedules.Exclusive(ctx, r.acquire, "report "+rc.Name, leaseTTL(r.cfg), log, func(ctx context.Context) error {
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
