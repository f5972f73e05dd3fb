package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/schedules"
)

func init() {
	commands["run"] = command{summary: "run one configured job once, now, exactly as the daemon would", run: runRun}
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var opts common
	opts.register(fs)
	summary := fs.String("summary", "text", "summary format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: amili-import run [flags] JOB

Runs the configured job JOB once, now, through the daemon's code path: the same lease in the
ledger (so it never runs alongside the daemon or another run of the same job), the same import
and the same logging. A job without a schedule can be run this way.

Exit status: 0 all rows done, 1 some rows rejected or not done, 2 could not start (including:
the job is running elsewhere; the message names the host, pid and since when).

Flags:`)
		fs.PrintDefaults()
	}
	// Flags may follow the job name too: "run invoices --config x.yaml".
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return errUsage
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
	r := newRunner(cfg, w, m, e.stderr)
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

// runner runs configured jobs. It is the one code path of the daemon's scheduled runs and the
// run command: lease, source, import, metrics and the start and end log lines.
type runner struct {
	cfg     *config.Config
	w       *wired
	metrics *metrics.Metrics
	owner   ledger.LeaseOwner
	stderr  io.Writer
}

func newRunner(cfg *config.Config, w *wired, m *metrics.Metrics, stderr io.Writer) *runner {
	return &runner{cfg: cfg, w: w, metrics: m, owner: ledger.LeaseOwner{Host: ledger.Hostname(), PID: os.Getpid()}, stderr: stderr}
}

// acquire takes a job's lease in the ledger for this process.
func (r *runner) acquire(ctx context.Context, name string, ttl time.Duration) (schedules.Lease, error) {
	l, err := r.w.ledger.AcquireLease(ctx, name, r.owner, ttl)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// runJob runs cj once under its lease. A job held by another process returns the ledger's
// *LeaseHeldError, which names the holder.
func (r *runner) runJob(ctx context.Context, cj config.Job) (importer.Summary, error) {
	log := r.w.log.With("job", cj.Name)
	job, err := jobFromConfig(r.cfg, cj)
	if err != nil {
		return importer.Summary{}, fmt.Errorf("%w: %w", importer.ErrCannotStart, err)
	}
	job.DrainTimeout = drainTimeout(r.cfg)
	var sum importer.Summary
	start := time.Now()
	err = schedules.Exclusive(ctx, r.acquire, cj.Name, leaseTTL(r.cfg), log, func(ctx context.Context) error {
		done := r.metrics.RunStarted(cj.Name)
		defer done()
		log.Info("run started", "source", cj.Source.Type, "dir", cj.Source.Dir)
		src, err := jobSource(ctx, r.cfg, cj, r.w.log)
		if err != nil {
			sum.Job = cj.Name
			return fmt.Errorf("%w: source: %w", importer.ErrCannotStart, err)
		}
		defer src.Close()
		ctx, owner, release, err := r.w.own(ctx)
		if err != nil {
			sum.Job = cj.Name
			return fmt.Errorf("%w: %w", importer.ErrCannotStart, err)
		}
		defer release()
		deps := r.w.deps(r.stderr)
		deps.Source, deps.Owner = src, owner
		sum, err = importer.Run(ctx, job, deps)
		return err
	})
	var held *ledger.LeaseHeldError
	if errors.As(err, &held) {
		log.Warn("not started: the job is running elsewhere", "holder", held.Holder.String(),
			"since", held.Since.Format(time.RFC3339), "lease_expires", held.Expires.Format(time.RFC3339))
		r.metrics.ObserveRun(cj.Name, metrics.OutcomeLeaseHeld, domain.Counts{}, 0, time.Now())
		return sum, err
	}
	outcome := runOutcome(sum, err)
	r.metrics.ObserveRun(cj.Name, outcome, sum.Counts, time.Since(start), time.Now())
	attrs := append([]any{"outcome", outcome, "files", len(sum.Files)}, sum.Counts.LogAttrs()...)
	attrs = append(attrs, "api_calls", sum.APICalls, "elapsed", time.Since(start).Round(time.Millisecond).String())
	switch outcome {
	case metrics.OutcomeOK, metrics.OutcomeCancelled:
		log.Info("run finished", attrs...)
	case metrics.OutcomeSomeFailed:
		log.Warn("run finished with rows not done", attrs...)
	default:
		log.Error("run failed", append(attrs, "error", err)...)
	}
	return sum, err
}

// runOutcome names how a run ended, for metrics and logs.
func runOutcome(sum importer.Summary, err error) string {
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ledger.ErrOwnerLost)), sum.Cancelled:
		return metrics.OutcomeCancelled
	case err != nil && errors.Is(err, importer.ErrCannotStart):
		return metrics.OutcomeFailed
	case err != nil:
		return metrics.OutcomeFailed
	case !sum.AllDone():
		return metrics.OutcomeSomeFailed
	}
	return metrics.OutcomeOK
}
