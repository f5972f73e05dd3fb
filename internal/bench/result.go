package bench

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/amili-import/amili-import/importer"
)

// Result is one scenario's figures; the JSON names are the bench verb's output contract.
type Result struct {
	Scenario      string         `json:"scenario"`
	Target        string         `json:"target"`
	Pass          bool           `json:"pass"`
	Why           string         `json:"why,omitempty"` // what missed the target
	Rows          int            `json:"rows"`
	Registrations int            `json:"registrations"`
	Calls         map[string]int `json:"calls"` // HTTP attempts the client made, retries included, by "METHOD /path-template"
	// CallsPerInvoice counts registration, upload and lookup calls per invoice (per debt for
	// case files); the run's fixed calls (authentication, the creditor check) are left out.
	CallsPerInvoice         float64 `json:"calls_per_invoice"`
	ExpectedCallsPerInvoice float64 `json:"expected_calls_per_invoice"`
	CallsPerCase            float64 `json:"calls_per_case,omitempty"` // report scenarios
	ElapsedS                float64 `json:"elapsed_s"`
	InvoicesPerMin          float64 `json:"invoices_per_min"`
	RowsPerSec              float64 `json:"rows_per_s"`
	RateCeilingPerMin       float64 `json:"rate_ceiling_per_min,omitempty"`
	LatencyCeilingPerMin    float64 `json:"latency_ceiling_per_min,omitempty"`
	Efficiency              float64 `json:"efficiency,omitempty"`
	// SteadyEfficiency leaves the opening burst out: (all calls − burst) / elapsed, over the
	// limit. Efficiency counts the burst as throughput, so it can pass 1.
	SteadyEfficiency float64 `json:"steady_efficiency,omitempty"`
	HTTP429          int     `json:"http_429"`
	PeakRSSMB        float64 `json:"peak_rss_mb"`
	CPUS             float64 `json:"cpu_s"`
	RateLimitPerMin  int     `json:"rate_limit_per_min,omitempty"`
	Burst            int     `json:"burst,omitempty"`
	LatencyMS        float64 `json:"latency_ms,omitempty"`
	SFTPLatencyMS    float64 `json:"sftp_latency_ms,omitempty"`
	Concurrency      int     `json:"concurrency,omitempty"`
}

func newResult(sc Scenario) Result {
	return Result{
		Scenario: sc.Name, Target: sc.Target, Calls: map[string]int{},
		RateLimitPerMin: sc.RateLimit, Burst: sc.Burst, Concurrency: sc.Concurrency,
		LatencyMS: ms(sc.Latency), SFTPLatencyMS: ms(sc.SFTPLatency),
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perRowEndpoints are the calls a registration costs; the rest are per run.
var perRowEndpoints = []string{"POST /invoice--registrations", "POST /case--registrations", "POST /media--upload/{id}", "GET /cases"}

func registrationCalls(calls map[string]int) int {
	return calls["POST /invoice--registrations"] + calls["POST /case--registrations"]
}

// fill sets the figures of an import from its summary and the sandbox's counts.
func (res *Result) fill(sc Scenario, sum importer.Summary, elapsed, cpu time.Duration, calls map[string]int, n429 int) {
	res.Calls = calls
	res.Rows, res.Registrations = sum.Counts.Rows, sum.Counts.Registrations
	res.ElapsedS, res.CPUS = elapsed.Seconds(), cpu.Seconds()
	res.HTTP429 = n429
	res.RowsPerSec = float64(res.Rows) / res.ElapsedS
	items := sum.Counts.Registered + sum.Counts.AlreadyImported
	if sc.Kind == "case" {
		items = sc.Items + sc.ExtraItems
	}
	perRow := 0
	for _, ep := range perRowEndpoints {
		perRow += calls[ep]
	}
	if sc.Mode == ModeRerun {
		items = sc.ExtraItems
		if !sc.Changed {
			items = 0
		}
	}
	if items == 0 {
		return
	}
	res.CallsPerInvoice = float64(perRow) / float64(items)
	res.ExpectedCallsPerInvoice = 1
	if sc.PDFSize > 0 {
		res.ExpectedCallsPerInvoice = 2
	}
	if sc.Kind == "case" {
		per := max(sc.DebtsPerCase, 1)
		cases := (items + per - 1) / per
		res.ExpectedCallsPerInvoice = float64(cases+items) / float64(items)
	}
	if sc.Mode == ModeRerun {
		return
	}
	res.InvoicesPerMin = float64(items) / res.ElapsedS * 60
	if sc.RateLimit > 0 {
		res.RateCeilingPerMin = float64(sc.RateLimit) / res.CallsPerInvoice
		res.SteadyEfficiency = float64(total(calls)-sc.Burst) / res.ElapsedS / (float64(sc.RateLimit) / 60)
	}
	if sc.Latency > 0 && sc.Concurrency > 0 {
		// Each invoice's calls run one after another: a slot finishes an invoice every
		// calls × latency; debts of one case share the registration.
		res.LatencyCeilingPerMin = float64(sc.Concurrency) / (res.CallsPerInvoice * sc.Latency.Seconds()) * 60
	}
	if c := res.ceiling(); c > 0 {
		res.Efficiency = res.InvoicesPerMin / c
	}
}

// ceiling is the lower of the two bounds that apply.
func (res *Result) ceiling() float64 {
	c := math.Inf(1)
	if res.RateCeilingPerMin > 0 {
		c = min(c, res.RateCeilingPerMin)
	}
	if res.LatencyCeilingPerMin > 0 {
		c = min(c, res.LatencyCeilingPerMin)
	}
	if math.IsInf(c, 1) {
		return 0
	}
	return c
}

// Check sets Pass and Why against the scenario's target.
func (res *Result) Check(sc Scenario) {
	var why []string
	fail := func(format string, a ...any) { why = append(why, fmt.Sprintf(format, a...)) }
	if res.ExpectedCallsPerInvoice > 0 && math.Abs(res.CallsPerInvoice-res.ExpectedCallsPerInvoice) > 1e-9 {
		fail("%.3f calls per invoice, want %.3f", res.CallsPerInvoice, res.ExpectedCallsPerInvoice)
	}
	switch {
	case sc.Mode == ModeImport && sc.RateLimit > 0:
		if res.Efficiency < TargetRateEfficiency {
			fail("efficiency %.3f < %.2f", res.Efficiency, TargetRateEfficiency)
		}
		if res.HTTP429 > 0 {
			fail("%d 429s", res.HTTP429)
		}
	case sc.Mode == ModeImport && sc.Latency > 0 && sc.Kind != "case":
		if res.Efficiency < TargetLatencyEfficiency {
			fail("efficiency %.3f < %.2f", res.Efficiency, TargetLatencyEfficiency)
		}
	case sc.Mode == ModeRerun:
		want := 0
		if sc.Changed {
			want = sc.ExtraItems
		}
		if got := registrationCalls(res.Calls); got != want {
			fail("%d registration calls, want %d", got, want)
		}
		if res.RowsPerSec < TargetRerunRowsPerSec {
			fail("%.0f rows/s < %d", res.RowsPerSec, TargetRerunRowsPerSec)
		}
	case sc.Mode == ModeReport:
		if res.CallsPerCase > TargetReportCallsPerCase {
			fail("%.4f calls per case > %.2f", res.CallsPerCase, TargetReportCallsPerCase)
		}
	}
	if (sc.Mode == ModeDryRun || sc.PDFSize >= 1<<20) && res.PeakRSSMB > TargetPeakRSSMB {
		fail("peak RSS %.1f MB > %d MB", res.PeakRSSMB, TargetPeakRSSMB)
	}
	res.Pass = len(why) == 0
	res.Why = strings.Join(why, "; ")
}
