// Package metrics holds amili-import's Prometheus collectors on a registry of their own: runs
// and rows by outcome, Amili API calls and their latency, rate-limit waits, and the time of each
// job's last successful run. The daemon serves them on /metrics; the run command feeds them too
// so a one-shot run and a scheduled one are counted the same way.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Run outcomes for ObserveRun.
const (
	OutcomeOK = "ok" // every row done
	// OutcomeCompletedWithRejections: every row reached an end, some rejected or in conflict,
	// or a file refused as a whole; a success (the last-success gauge is set).
	OutcomeCompletedWithRejections = "completed_with_rejections"
	OutcomeSomeFailed              = "some_failed" // finished, rows left for a later run (failed transiently, pending)
	OutcomeFailed                  = "failed"      // could not start or stopped on an error
	OutcomeCancelled               = "cancelled"   // stopped by a signal; the next run resumes
	OutcomeLeaseHeld               = "lease_held"  // another process was running the job
)

// Metrics is the set of collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	runs         *prometheus.CounterVec
	runDuration  *prometheus.HistogramVec
	rows         *prometheus.CounterVec
	calls        *prometheus.CounterVec
	callDuration *prometheus.HistogramVec
	waitSeconds  *prometheus.CounterVec
	lastSuccess  *prometheus.GaugeVec
	inProgress   *prometheus.GaugeVec
}

// New registers the collectors, plus the Go runtime's and the process's, on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amili_import_runs_total", Help: "Runs of a job, by outcome.",
		}, []string{"job", "outcome"}),
		runDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "amili_import_run_duration_seconds", Help: "How long a run of a job took.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"job"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amili_import_rows_total", Help: "Rows and registrations handled, by outcome.",
		}, []string{"job", "outcome"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amili_import_api_calls_total", Help: "HTTP attempts to the Amili API, by endpoint and status (0: no response).",
		}, []string{"endpoint", "status"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "amili_import_api_call_duration_seconds", Help: "Latency of Amili API attempts, without rate-limit waits.",
			Buckets: prometheus.ExponentialBuckets(0.025, 2, 10), // 25ms … 12.8s
		}, []string{"endpoint"}),
		waitSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amili_import_rate_limit_wait_seconds_total", Help: "Time spent waiting for the API rate limit before sending.",
		}, []string{"endpoint"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "amili_import_last_success_timestamp_seconds", Help: "Unix time when a job last finished with every row at an end (done, rejected or in conflict).",
		}, []string{"job"}),
		inProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "amili_import_runs_in_progress", Help: "Runs of a job going on now in this process.",
		}, []string{"job"}),
	}
	m.reg.MustRegister(m.runs, m.runDuration, m.rows, m.calls, m.callDuration, m.waitSeconds, m.lastSuccess, m.inProgress,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// RunStarted marks a run of job as going on; call the returned function when it ends.
func (m *Metrics) RunStarted(job string) (done func()) {
	g := m.inProgress.WithLabelValues(job)
	g.Inc()
	return g.Dec
}

// ObserveRun counts one finished run of job: its outcome, duration and row counts. A
// successful outcome (ok, completed_with_rejections) also sets the job's last-success time to
// end.
func (m *Metrics) ObserveRun(job, outcome string, c domain.Counts, took time.Duration, end time.Time) {
	m.runs.WithLabelValues(job, outcome).Inc()
	if outcome == OutcomeLeaseHeld {
		return
	}
	m.runDuration.WithLabelValues(job).Observe(took.Seconds())
	for _, r := range []struct {
		outcome string
		n       int
	}{
		{"read", c.Rows}, {"registered", c.Registered}, {"already_imported", c.AlreadyImported},
		{"rejected", c.Rejected}, {"conflict", c.Conflicts}, {"failed", c.Failed},
		{"pdf_attached", c.PDFsAttached}, {"no_pdf", c.NoPDF}, {"pending", c.Pending},
	} {
		m.rows.WithLabelValues(job, r.outcome).Add(float64(r.n))
	}
	if outcome == OutcomeOK || outcome == OutcomeCompletedWithRejections {
		m.lastSuccess.WithLabelValues(job).Set(float64(end.Unix()))
	}
}

// SetLastSuccess seeds a job's last-success time from the ledger at start.
func (m *Metrics) SetLastSuccess(job string, at time.Time) {
	m.lastSuccess.WithLabelValues(job).Set(float64(at.Unix()))
}

// ObserveCall counts one API attempt; it fits the amili client's OnCall hook:
//
//	OnCall: func(ci amili.CallInfo) { m.ObserveCall(ci.Endpoint, ci.Status, ci.Duration, ci.RateLimitWait) }
func (m *Metrics) ObserveCall(endpoint string, status int, took, wait time.Duration) {
	m.calls.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.callDuration.WithLabelValues(endpoint).Observe(took.Seconds())
	if wait > 0 {
		m.waitSeconds.WithLabelValues(endpoint).Add(wait.Seconds())
	}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
