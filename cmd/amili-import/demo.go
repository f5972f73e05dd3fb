package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/report"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
)

func init() {
	commands["demo"] = command{summary: "import the samples into an in-process sandbox, twice (no config, no network)", run: runDemo}
}

// demoJob is one of the demo's jobs: which sample file, read how.
type demoJob struct {
	name, pattern, mapping string
	kind                   domain.Kind
}

var demoJobs = []demoJob{
	{name: "invoices", pattern: "invoices.csv", kind: domain.KindInvoice},
	{name: "cases", pattern: "cases.csv", kind: domain.KindCase},
	{name: "erp-invoices", pattern: "erp-invoices.csv", mapping: "erp-mapping.yaml"},
}

// demoUsage is the demo verb's help, printed before its flags.
const demoUsage = `Usage: amili-import demo [--out DIR] [--samples DIR]

Runs the whole product with no config and no network: an in-process Amili sandbox, an
in-process SFTP server holding a copy of the samples, and a fresh ledger. It imports every
sample, prints the summary, then drops the same files again and imports once more to show that
nothing is sent twice.

Flags:`

// demoFlags are the demo verb's flags.
type demoFlags struct {
	reportDir string
	out       string
	samples   string
}

// parse reads args into f, printing usage to stderr; errUsage when they are wrong.
func (f *demoFlags) parse(stderr io.Writer, args []string) error {
	fs := newFlagSet("demo", demoUsage, stderr)
	fs.StringVar(&f.reportDir, "report-dir", "demo-out/report", "where the reconciliation report of the demo's runs is written")
	fs.StringVar(&f.out, "out", "", "keep the demo's SFTP directory and ledger here (default: a temporary directory, removed)")
	fs.StringVar(&f.samples, "samples", "samples", "the samples directory")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	return nil
}

func runDemo(ctx context.Context, e *env, args []string) error {
	var f demoFlags
	if err := f.parse(e.stderr, args); err != nil {
		return err
	}
	if fi, err := os.Stat(f.samples); err != nil || !fi.IsDir() {
		return fmt.Errorf("samples directory %q not found (run from the repository root or pass --samples)", f.samples)
	}
	dir := f.out
	if dir == "" {
		tmp, err := os.MkdirTemp("", "amili-import-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	log, err := logging.New(e.stderr, logging.Options{Level: "warn"})
	if err != nil {
		return err
	}

	sandbox := amilitest.NewServer(amilitest.Options{Tokens: []string{"demo-token"}})
	defer sandbox.Close()
	root := filepath.Join(dir, "sftp")
	inbox := filepath.Join(root, "inbox")
	if err := dropSamples(f.samples, inbox); err != nil {
		return err
	}
	sftpSrv, conn, err := startDemoSFTP(root)
	if err != nil {
		return err
	}
	defer sftpSrv.Close()
	// The sandbox is in-process, so the client may go faster than Amili's 100 calls a minute.
	client, err := amili.New(amili.Config{
		BaseURL: sandbox.URL, Auth: amili.AuthConfig{Method: amili.AuthToken, Token: "demo-token"},
		RateLimit: 1200, Burst: 20, Logger: log,
	})
	if err != nil {
		return err
	}
	lg, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"), ledger.Options{Logger: log})
	if err != nil {
		return err
	}
	defer lg.Close()

	fmt.Fprintf(e.stdout, "Amili sandbox at %s, SFTP server at %s (host key %s), ledger %s\n\n",
		sandbox.URL, sftpSrv.Addr(), sftpSrv.Fingerprint(), filepath.Join(dir, "ledger.db"))
	deps := importer.Deps{Ledger: lg, Client: client, Logger: log, APICalls: func() int64 { return totalCalls(client.Stats()) }}

	start := time.Now().Add(-time.Second)
	if err := demoPasses(ctx, e.stdout, f.samples, inbox, sandbox, conn, deps); err != nil {
		return err
	}
	return demoReport(ctx, e.stdout, lg, client, report.Period{Since: start, Until: time.Now().Add(time.Second)}, f.reportDir)
}

// startDemoSFTP serves root over SFTP to the user "demo" with a fresh key, and returns the
// server and the settings to connect to it.
func startDemoSFTP(root string) (*sftptest.Server, source.SFTPConfig, error) {
	key, err := sftptest.NewClientKey("")
	if err != nil {
		return nil, source.SFTPConfig{}, err
	}
	srv, err := sftptest.Start(root, sftptest.WithAuthorizedKey(key.Public), sftptest.WithUser("demo"))
	if err != nil {
		return nil, source.SFTPConfig{}, fmt.Errorf("start SFTP server: %w", err)
	}
	conn := source.SFTPConfig{Host: srv.Host(), Port: srv.Port(), User: "demo", PrivateKey: key.PEM, HostKey: srv.HostKeyLine()}
	return srv, conn, nil
}

// demoPasses runs every demo job twice, dropping the samples into the inbox again before the
// second pass, and prints what the sandbox holds after each.
func demoPasses(ctx context.Context, w io.Writer, samples, inbox string, sandbox *amilitest.Server, conn source.SFTPConfig, deps importer.Deps) error {
	for pass := 1; pass <= 2; pass++ {
		if pass == 2 {
			fmt.Fprintln(w, "The same exports are dropped on the SFTP server again; importing once more:")
			if err := dropSamples(samples, inbox); err != nil {
				return err
			}
		}
		for _, dj := range demoJobs {
			if err := demoRun(ctx, w, dj, samples, sandbox, conn, deps); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "After run %d the sandbox holds %d registrations, %d cases, %d PDFs.\n\n",
			pass, len(sandbox.Registrations()), len(sandbox.Cases()), countUploads(sandbox))
	}
	return nil
}

// demoReport writes the reconciliation report of the demo's runs and prints where it is, with
// each creditor's and currency's totals and balance.
func demoReport(ctx context.Context, w io.Writer, lg *ledger.Ledger, client *amili.Client, p report.Period, dir string) error {
	r, err := report.Build(ctx, lg, client, p, report.BuildOptions{Location: time.Local})
	if err != nil {
		return fmt.Errorf("build report: %w", err)
	}
	paths, err := r.WriteFiles(dir, report.CSVOptions{})
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintln(w, "Reconciliation report (what the files held, what Amili registered, to the öre):")
	for _, t := range r.Totals {
		fmt.Fprintf(w, "  %s  file %s  registered %s  already imported %s  rejected %s  conflicts %s  pending %s  balance %s\n",
			t.Currency, t.File, t.Registered, t.AlreadyImported, t.Rejected, t.Conflicts, t.Pending, t.Balance())
	}
	fmt.Fprintf(w, "  Amili's view read in %d GET /cases call(s); mismatches: %d\n", r.AmiliCalls, r.Mismatches())
	abs, err := filepath.Abs(paths.HTML)
	if err != nil {
		abs = paths.HTML
	}
	fmt.Fprintf(w, "Report written to %s (with report.csv and chart.png beside it).\n", abs)
	return nil
}

// demoRun runs one job against the SFTP inbox and prints its summary.
func demoRun(ctx context.Context, w io.Writer, dj demoJob, samples string, sandbox *amilitest.Server, conn source.SFTPConfig, deps importer.Deps) error {
	job := importer.Job{
		Name: dj.name,
		Move: true,
		Mapping: mapping.Options{
			Kind: dj.kind, Account: sandbox.Account, Creditor: sandbox.Creditor,
		},
	}
	if dj.mapping != "" {
		l, err := mapping.LoadLayout(filepath.Join(samples, dj.mapping))
		if err != nil {
			return err
		}
		job.Mapping.Layout = l
	}
	src, err := source.DialSFTP(ctx, conn, source.Options{Dir: "/inbox", Patterns: []string{dj.pattern}, Logger: deps.Logger})
	if err != nil {
		return fmt.Errorf("connect to the SFTP server: %w", err)
	}
	defer src.Close()
	deps.Source = src
	sum, err := importer.Run(ctx, job, deps)
	if werr := sum.WriteText(w); werr != nil {
		return werr
	}
	fmt.Fprintln(w)
	if err != nil {
		if errors.Is(err, importer.ErrCannotStart) {
			return err
		}
		return someRowsFailed(err)
	}
	return nil
}

// dropSamples copies the sample exports and PDFs into the inbox, dated an hour back so that
// they count as complete at once.
func dropSamples(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	old := time.Now().Add(-time.Hour)
	for _, ent := range entries {
		if ent.IsDir() {
			continue
		}
		ext := filepath.Ext(ent.Name())
		if ext != ".csv" && ext != ".pdf" {
			continue
		}
		dst := filepath.Join(to, ent.Name())
		if err := copyPlain(filepath.Join(from, ent.Name()), dst); err != nil {
			return err
		}
		if err := os.Chtimes(dst, old, old); err != nil {
			return err
		}
	}
	return nil
}

func copyPlain(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func countUploads(s *amilitest.Server) int {
	n := 0
	for _, c := range s.Cases() {
		n += len(s.Uploads(c.ID))
	}
	return n
}

// totalCalls sums a client's HTTP attempts.
func totalCalls(st amili.Stats) int64 {
	var n int64
	for _, byStatus := range st.Calls {
		for _, c := range byStatus {
			n += int64(c)
		}
	}
	return n
}
