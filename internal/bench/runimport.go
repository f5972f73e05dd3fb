package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/report"
	"github.com/amili-import/amili-import/source"
)

const benchToken = "bench-token"

// rig is the importer's side of a scenario: a client and a ledger, reaching a World.
type rig struct {
	sc     Scenario
	info   WorldInfo
	conn   source.SFTPConfig
	client *amili.Client
	ledger *ledger.Ledger
	opts   Options
}

func newRig(ctx context.Context, sc Scenario, info WorldInfo, opts Options) (*rig, error) {
	r := &rig{sc: sc, info: info, opts: opts}
	r.conn = source.SFTPConfig{Host: info.SFTPHost, Port: info.SFTPPort, User: info.SFTPUser, PrivateKey: info.SFTPKeyPEM, HostKey: info.SFTPHostKey}
	cc := amili.Config{
		BaseURL: info.URL, Auth: amili.AuthConfig{Method: amili.AuthToken, Token: info.Token},
		RateLimit: 1e7, Burst: 10_000, // no limit: the sandbox has none either
	}
	if sc.RateLimit > 0 {
		cc.RateLimit, cc.Burst = ClientShare*float64(sc.RateLimit), ClientBurst(sc.Burst)
	}
	var err error
	if r.client, err = amili.New(cc); err != nil {
		return nil, err
	}
	if r.ledger, err = ledger.Open(ctx, filepath.Join(info.Dir, "ledger.db"), ledger.Options{}); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rig) close() { r.ledger.Close() }

// calls is what the client has sent so far, by endpoint, and the 429s it received.
func (r *rig) calls() (map[string]int, int) {
	st := r.client.Stats()
	out := map[string]int{}
	for ep, byStatus := range st.Calls {
		for _, n := range byStatus {
			out[ep] += n
		}
	}
	return out, st.TooManyRequests
}

// importFile runs the importer over one inbox file and measures the run.
func (r *rig) importFile(ctx context.Context, name string) (importer.Summary, time.Duration, time.Duration, error) {
	src, err := source.DialSFTP(ctx, r.conn, source.Options{Dir: "/inbox", Patterns: []string{name}, After: source.AfterLeave})
	if err != nil {
		return importer.Summary{}, 0, 0, fmt.Errorf("connect to the SFTP server: %w", err)
	}
	defer src.Close()
	policy := importer.PDFRequired
	if r.sc.PDFSize <= 0 {
		policy = importer.PDFOptional
	}
	job := importer.Job{
		Name: r.sc.Name, Concurrency: r.sc.Concurrency, PDF: policy, PDFMaxSize: 64 << 20,
		Mapping: mapping.Options{Kind: r.sc.Kind, Account: r.info.Account, Creditor: r.info.Creditor},
	}
	// As every sending verb does: the run is an owner in the ledger, so the fencing checks
	// before each POST and upload are in the figures.
	owner, err := r.ledger.Join(ctx, ledger.Hostname(), os.Getpid(), 2*time.Minute, nil)
	if err != nil {
		return importer.Summary{}, 0, 0, err
	}
	defer owner.Leave(context.WithoutCancel(ctx))
	deps := importer.Deps{Owner: owner.ID, Ledger: r.ledger, Client: r.client, Source: src, Logger: r.opts.Logger}
	cpu0, t0 := cpuTime(), time.Now()
	sum, err := importer.Run(ctx, job, deps)
	return sum, time.Since(t0), cpuTime() - cpu0, err
}

// runImport runs the import, rerun and report modes; it returns each result with the
// scenario it is checked against.
func runImport(ctx context.Context, sc Scenario, info WorldInfo, opts Options) ([]Result, []Scenario, error) {
	r, err := newRig(ctx, sc, info, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.close()
	sum, elapsed, cpu, err := r.importFile(ctx, fileFirst)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	if !sum.AllDone() || sum.Counts.Registrations == 0 {
		return nil, nil, fmt.Errorf("import not clean: %d registrations, %d registered, %d rejected, %d failed",
			sum.Counts.Registrations, sum.Counts.Registered, sum.Counts.Rejected, sum.Counts.Failed)
	}
	switch sc.Mode {
	case ModeImport:
		res := newResult(sc)
		calls, n429 := r.calls()
		res.fill(sc, sum, elapsed, cpu, calls, n429)
		return []Result{res}, []Scenario{sc}, nil
	case ModeReport:
		res, err := r.measureReport(ctx, newResult(sc))
		return []Result{res}, []Scenario{sc}, err
	}

	// Rerun: the same bytes under another name, then the same rows plus new invoices.
	var out []Result
	var checked []Scenario
	for _, changed := range []bool{false, true} {
		rs := sc
		rs.Changed, rs.Name, rs.Target = changed, sc.Name+"-same", "0 registrations, >=100k rows/s"
		name, rows := fileSame, sc.Items
		if changed {
			rs.Name, rs.Target = sc.Name+"-changed", fmt.Sprintf("%d registration(s), >=100k rows/s", sc.ExtraItems)
			name, rows = fileChanged, sc.Items+sc.ExtraItems
		}
		calls0, n4290 := r.calls()
		sum, elapsed, cpu, err := r.importFile(ctx, name)
		if err != nil {
			return out, checked, fmt.Errorf("rerun: %w", err)
		}
		if !sum.AllDone() {
			return out, checked, fmt.Errorf("rerun not clean: %+v", sum.Counts)
		}
		calls, n429 := r.calls()
		res := newResult(rs)
		res.fill(rs, sum, elapsed, cpu, diff(calls, calls0), n429-n4290)
		res.Rows = rows
		res.RowsPerSec = float64(res.Rows) / elapsed.Seconds()
		out, checked = append(out, res), append(checked, rs)
	}
	return out, checked, nil
}

// measureReport builds the reconciliation report over everything imported and counts the
// calls it makes to Amili.
func (r *rig) measureReport(ctx context.Context, res Result) (Result, error) {
	before, _ := r.calls()
	cpu0, t0 := cpuTime(), time.Now()
	rep, err := report.Build(ctx, r.ledger, r.client, report.Period{
		Since: time.Now().Add(-24 * time.Hour), Until: time.Now().Add(time.Hour), Creditor: r.info.Creditor,
	}, report.BuildOptions{})
	if err != nil {
		return res, fmt.Errorf("report: %w", err)
	}
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	after, _ := r.calls()
	calls := diff(after, before)
	found := 0
	for _, c := range rep.Cases {
		if c.Found {
			found++
		}
	}
	if found != r.sc.Items {
		return res, fmt.Errorf("report found %d of %d cases at Amili", found, r.sc.Items)
	}
	res.Rows, res.Registrations = r.sc.Items, r.sc.Items
	res.Calls = calls
	res.ElapsedS, res.CPUS = elapsed.Seconds(), cpu.Seconds()
	// Per case: the list queries. The report also names each creditor (one GET /creditors/{id}
	// per creditor, whatever the number of cases), which res.Calls shows.
	res.CallsPerCase = float64(calls["GET /cases"]) / float64(found)
	res.RowsPerSec = float64(found) / elapsed.Seconds()
	return res, nil
}

func diff(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
