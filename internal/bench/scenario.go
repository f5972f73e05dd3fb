package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/mapping"
)

// Targets of the performance section of the README, checked by Result.Check.
const (
	TargetRateEfficiency     = 0.95
	TargetLatencyEfficiency  = 0.90
	TargetRerunRowsPerSec    = 100_000
	TargetPeakRSSMB          = 64
	TargetReportCallsPerCase = 0.01
)

// Scaling is how the bench compresses Amili's real limit (100 requests a minute, bursts of
// 10) into seconds: both are multiplied by it, keeping their ratio; latencies are not scaled.
const Scaling = 60

// The sandbox's limit and burst in the rate-limited scenarios: Amili's 100 a minute with bursts
// of 10, the rate scaled by Scaling and the burst by Scaling/6, so a burst is 1 s of the limit.
const (
	scaledLimit = 100 * Scaling
	scaledBurst = 10 * Scaling / 6
)

// ClientShare is the share of the server's limit the client is configured to use, so that
// timing jitter between the two token buckets never trips the server's.
const ClientShare = 0.98

// ClientBurst is the client's bucket for a server bucket of burst: a tenth smaller (at least
// one less). The server counts a request when it arrives, after the network and its own
// scheduling; requests sent evenly can arrive bunched, and at the bench's scaled rate a few
// milliseconds of bunching is a token or two. The headroom absorbs it, most of all right after
// the opening burst, when the server's bucket is empty and the 2% rate margin has not yet
// built any up.
func ClientBurst(burst int) int { return max(1, burst-max(1, burst/10)) }

// Mode is what a scenario does.
type Mode string

// The scenario modes.
const (
	ModeImport Mode = "import" // import a fresh file
	ModeRerun  Mode = "rerun"  // import a file, then measure importing the same rows again
	ModeDryRun Mode = "dryrun" // map a file without network or ledger (the CLI's --dry-run)
	ModeReport Mode = "report" // import, then build the reconciliation report
)

// Scenario is one row of the table.
type Scenario struct {
	Name   string
	Target string // what it must show, for the table
	Mode   Mode
	Workload
	// RateLimit and Burst are the sandbox's limit per minute and bucket (0 = no limit). The
	// client gets ClientShare of the limit and a burst of ClientBurst(Burst).
	RateLimit, Burst int
	// Latency is added by the sandbox to every request; SFTPLatency to every SFTP round trip.
	Latency, SFTPLatency time.Duration
	Concurrency          int
	// Changed marks the result of a rerun's changed file: the same rows plus ExtraItems new
	// invoices. A rerun measures the same bytes under another name first, then a changed file.
	Changed bool
}

// Scenarios are the standard ones, in table order. N is each one's default size.
func Scenarios() []Scenario {
	limit, burst := scaledLimit, scaledBurst // 6,000/min with a burst of 100: 100/s, 1 s of burst
	return []Scenario{
		{Name: "ratelimited", Target: "eff>=0.95 of rate ceiling, 0 429s, 2 calls/inv", Mode: ModeImport,
			Workload:  Workload{Kind: domain.KindInvoice, Items: 600, PDFSize: 100 << 10},
			RateLimit: limit, Burst: burst, Latency: 50 * time.Millisecond, Concurrency: 16},
		{Name: "ratelimited-sftp20ms", Target: "as ratelimited, SFTP 20 ms RTT", Mode: ModeImport,
			Workload:  Workload{Kind: domain.KindInvoice, Items: 600, PDFSize: 100 << 10},
			RateLimit: limit, Burst: burst, Latency: 50 * time.Millisecond, SFTPLatency: 20 * time.Millisecond, Concurrency: 16},
		{Name: "latency", Target: "eff>=0.90 of latency ceiling, 2 calls/inv", Mode: ModeImport,
			Workload: Workload{Kind: domain.KindInvoice, Items: 400, PDFSize: 100 << 10},
			Latency:  50 * time.Millisecond, Concurrency: 8},
		{Name: "cases", Target: "1+n calls per case of n debts", Mode: ModeImport,
			Workload: Workload{Kind: domain.KindCase, Items: 300, DebtsPerCase: 3, PDFSize: 100 << 10},
			Latency:  50 * time.Millisecond, Concurrency: 8},
		{Name: "rerun", Target: "0 registrations (same file) / 1 (changed), >=100k rows/s", Mode: ModeRerun,
			Workload: Workload{Kind: domain.KindInvoice, Items: 100_000, ExtraItems: 1}, Concurrency: 8},
		{Name: "dryrun-100k", Target: "peak RSS <=64 MB", Mode: ModeDryRun,
			Workload: Workload{Kind: domain.KindInvoice, Items: 100_000}},
		{Name: "dryrun-1m", Target: "peak RSS <=64 MB, flat", Mode: ModeDryRun,
			Workload: Workload{Kind: domain.KindInvoice, Items: 1_000_000}},
		{Name: "pdf-100x5mb", Target: "peak RSS <=64 MB", Mode: ModeImport,
			Workload: Workload{Kind: domain.KindInvoice, Items: 100, PDFSize: 5 << 20}, Concurrency: 4},
		{Name: "pdf-500x5mb", Target: "peak RSS <=64 MB, flat", Mode: ModeImport,
			Workload: Workload{Kind: domain.KindInvoice, Items: 500, PDFSize: 5 << 20}, Concurrency: 4},
		{Name: "report-10k", Target: "<=0.01 API calls per case", Mode: ModeReport,
			Workload: Workload{Kind: domain.KindInvoice, Items: 10_000}, Concurrency: 8},
	}
}

// Find returns the standard scenario of that name.
func Find(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Options are how a scenario is run.
type Options struct {
	// Dir holds the scenario's files ("" = the system's temporary directory); removed after.
	Dir string
	// DryRun maps one file as the CLI's --dry-run does and returns the valid registrations.
	// Required for ModeDryRun.
	DryRun func(r io.Reader, name string, opts mapping.Options) (int, error)
	// Logger receives the importer's log (nil discards).
	Logger *slog.Logger
}

// Run runs one scenario in this process: its World and the measured importer side by side.
// A rerun gives two results (the same file, then a changed one) from one first import; the
// others give one.
func Run(ctx context.Context, sc Scenario, opts Options) ([]Result, error) {
	dir, err := os.MkdirTemp(opts.Dir, "amili-bench-"+sc.Name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	w, err := StartWorld(sc, dir)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	defer w.Close()
	return Measure(ctx, sc, w.Info, opts)
}

// Measure runs the importer's side of a scenario against a World started elsewhere (by the
// bench's parent process) and measures it; PeakRSSMB is this process's.
func Measure(ctx context.Context, sc Scenario, info WorldInfo, opts Options) ([]Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var res []Result
	var checked []Scenario
	var err error
	switch sc.Mode {
	case ModeDryRun:
		var r Result
		r, err = runDryRun(sc, filepath.Join(info.Dir, "sftp", "inbox", fileFirst), opts)
		res, checked = []Result{r}, []Scenario{sc}
	case ModeImport, ModeRerun, ModeReport:
		res, checked, err = runImport(ctx, sc, info, opts)
	default:
		err = fmt.Errorf("unknown mode %q", sc.Mode)
	}
	if err != nil {
		return res, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	peak := float64(PeakRSS()) / (1 << 20)
	for i := range res {
		res[i].PeakRSSMB = peak
		res[i].Check(checked[i])
	}
	return res, nil
}

// runDryRun maps a generated file through opts.DryRun.
func runDryRun(sc Scenario, path string, opts Options) (Result, error) {
	if opts.DryRun == nil {
		return Result{}, fmt.Errorf("no dry-run function")
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	cpu0, t0 := cpuTime(), time.Now()
	regs, err := opts.DryRun(f, "invoices.csv", mapping.Options{Kind: sc.Kind, Account: "000000000000000000000001", Creditor: "000000000000000000000002"})
	if err != nil {
		return Result{}, err
	}
	res := newResult(sc)
	res.ElapsedS, res.CPUS = time.Since(t0).Seconds(), (cpuTime() - cpu0).Seconds()
	res.Rows, res.Registrations = sc.Items, regs
	res.RowsPerSec = float64(sc.Items) / res.ElapsedS
	if regs != sc.Items {
		return res, fmt.Errorf("dry run found %d valid registrations, want %d", regs, sc.Items)
	}
	return res, nil
}
