package daemon

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/metrics"
	"github.com/amili-import/amili-import/schedules"
)

// Job is one run of a configured job, as the daemon and the run command both make it: under
// the job's lease, so that no other process runs it at the same time, counted in the metrics
// and told in a start and an end log line.
type Job struct {
	Name     string
	Acquire  schedules.AcquireFunc
	LeaseTTL time.Duration
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	// StartAttrs are logged with "run started" (the source, for instance).
	StartAttrs []any
	// Import does the run's work while the lease is held.
	Import func(ctx context.Context) (importer.Summary, error)
}

// Run runs the job once. A job held by another process returns the ledger's
// *LeaseHeldError, which names the holder.
func (j Job) Run(ctx context.Context) (importer.Summary, error) {
	log := j.Logger.With("job", j.Name)
	var sum importer.Summary
	start := time.Now()
	err := schedules.Exclusive(ctx, j.Acquire, j.Name, j.LeaseTTL, log, func(ctx context.Context) error {
		done := j.Metrics.RunStarted(j.Name)
		defer done()
		log.Info("run started", j.StartAttrs...)
		var err error
		sum, err = j.Import(ctx)
		if sum.Job == "" {
			sum.Job = j.Name
		}
		return err
	})
	var held *ledger.LeaseHeldError
	if errors.As(err, &held) {
		log.Warn("not started: the job is running elsewhere", "holder", held.Holder.String(),
			"since", held.Since.Format(time.RFC3339), "lease_expires", held.Expires.Format(time.RFC3339))
		j.Metrics.ObserveRun(j.Name, metrics.OutcomeLeaseHeld, domain.Counts{}, 0, time.Now())
		return sum, err
	}
	outcome := Outcome(sum, err)
	j.Metrics.ObserveRun(j.Name, outcome, sum.Counts, time.Since(start), time.Now())
	attrs := append([]any{"outcome", outcome, "files", len(sum.Files), "waiting", len(sum.Waiting)}, sum.Counts.LogAttrs()...)
	attrs = append(attrs, "api_calls", sum.APICalls, "elapsed", time.Since(start).Round(time.Millisecond).String())
	switch outcome {
	case metrics.OutcomeOK, metrics.OutcomeCancelled:
		log.Info("run finished", attrs...)
	case metrics.OutcomeCompletedWithRejections:
		log.Warn("run finished with rejected rows", attrs...)
	case metrics.OutcomeSomeFailed:
		log.Warn("run finished with rows not done", attrs...)
	default:
		log.Error("run failed", append(attrs, "error", err)...)
	}
	return sum, err
}

// Outcome names how a run ended, for metrics and logs: cancelled (stopped, or its ownership
// in the ledger lapsed: the next run resumes it), failed, some_failed (rows left for a later
// run), completed_with_rejections (every row at an end, some rejected or in conflict, or a file
// refused) or ok.
func Outcome(sum importer.Summary, err error) string {
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ledger.ErrOwnerLost)), sum.Cancelled:
		return metrics.OutcomeCancelled
	case err != nil:
		return metrics.OutcomeFailed
	case sum.AllDone():
		return metrics.OutcomeOK
	case sum.Completed():
		return metrics.OutcomeCompletedWithRejections
	}
	return metrics.OutcomeSomeFailed
}
