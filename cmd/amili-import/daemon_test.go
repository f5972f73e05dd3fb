package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/daemon"
)

// TestDaemonSIGTERMDrains stops a daemon with SIGTERM in the middle of a run against a slow
// sandbox: it stops scheduling, lets the run finish within the drain timeout and exits 0; a
// run afterwards finds nothing to send twice.
func TestDaemonSIGTERMDrains(t *testing.T) {
	h := newHarness(t, amilitest.Options{Latency: 40 * time.Millisecond})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	numbers := writeInvoices(t, drop, "invoices.csv", "DT", 50)
	h.writeConfig(h.srv.Creditor, "daemon:\n  drain_timeout: 20s\njobs:\n"+jobYAML("invoices", "@every 1h", drop, 2))

	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	d.waitLog(`"msg":"catch-up: no successful run yet; running now","job":"invoices"`, 20*time.Second)
	d.waitLog(`"msg":"run started","job":"invoices"`, 20*time.Second)
	waitRegistrations(t, h, 5)
	if n := h.registrationCalls(); n >= len(numbers) {
		t.Fatalf("%d registrations when SIGTERM is sent; want the run to be in the middle", n)
	}
	sent := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := d.wait(25 * time.Second); code != exitOK {
		t.Fatalf("daemon exited %d, want 0\nstderr:\n%s", code, d.stderr.String())
	}
	if took := time.Since(sent); took > 20*time.Second {
		t.Errorf("stopping took %v, more than the drain timeout", took)
	}
	log := d.stderr.String()
	stop, fin := strings.Index(log, `"msg":"stopping`), strings.Index(log, `"msg":"run finished","job":"invoices"`)
	if stop < 0 || fin < stop {
		t.Errorf("want the run to finish after the stop began (stopping at %d, run finished at %d):\n%s", stop, fin, log)
	}
	if strings.Contains(log, "cancelling the runs in progress") {
		t.Error("the run was cancelled, want it drained")
	}

	code, _, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg)
	if code != exitOK {
		t.Fatalf("run after the daemon exited %d:\n%s", code, stderr)
	}
	assertRegisteredOnce(t, h.srv, numbers)
}

// TestDaemonSecondSignalCancels: a second SIGTERM abandons the drain; the run is cancelled,
// records what it did, and a later run completes everything exactly once.
func TestDaemonSecondSignalCancels(t *testing.T) {
	h := newHarness(t, amilitest.Options{Latency: 100 * time.Millisecond})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	numbers := writeInvoices(t, drop, "invoices.csv", "SS", 20)
	h.writeConfig(h.srv.Creditor, "daemon:\n  drain_timeout: 60s\njobs:\n"+jobYAML("invoices", "@every 1h", drop, 1))

	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	d.waitLog(`"msg":"run started","job":"invoices"`, 20*time.Second)
	waitRegistrations(t, h, 2)
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.waitLog(`"msg":"stopping`, 10*time.Second)
	sent := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	code := d.wait(30 * time.Second)
	if took := time.Since(sent); took > 15*time.Second {
		t.Errorf("took %v after the second signal", took)
	}
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1 (runs cut short)\nstderr:\n%s", code, d.stderr.String())
	}
	d.waitLog(`second signal: cancelling the runs in progress now`, time.Second)
	if n := h.registrationCalls(); n >= len(numbers) {
		t.Errorf("%d registrations: the run was not cut short", n)
	}
	if code, _, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg); code != exitOK {
		t.Fatalf("run after the daemon exited %d:\n%s", code, stderr)
	}
	assertRegisteredOnce(t, h.srv, numbers)
}

// TestDaemonMetrics scrapes /metrics after a scheduled run.
func TestDaemonMetrics(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	numbers := writeInvoices(t, drop, "invoices.csv", "MX", 3)
	h.writeConfig(h.srv.Creditor, "daemon:\n  listen: 127.0.0.1:0\njobs:\n"+jobYAML("invoices", "@every 1h", drop, 2))

	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	addr := d.waitLog(`"msg":"http listener started","addr":"([^"]+)"`, 20*time.Second)[1]
	d.waitLog(`"msg":"run finished","job":"invoices"`, 20*time.Second)
	base := "http://" + addr
	if s := httpStatus(t, base+"/healthz"); s != 200 {
		t.Errorf("/healthz = %d", s)
	}
	if s := httpStatus(t, base+"/readyz"); s != 200 {
		t.Errorf("/readyz = %d", s)
	}
	fams := scrapeMetrics(t, base+"/metrics")
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"amili_import_runs_total", map[string]string{"job": "invoices", "outcome": "ok"}, 1},
		{"amili_import_rows_total", map[string]string{"job": "invoices", "outcome": "registered"}, float64(len(numbers))},
		{"amili_import_api_calls_total", map[string]string{"endpoint": "POST /invoice--registrations", "status": "201"}, float64(len(numbers))},
		{"amili_import_runs_in_progress", map[string]string{"job": "invoices"}, 0},
	}
	for _, c := range checks {
		if got := metricValue(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := metricValue(fams, "amili_import_api_calls_total", nil); got <= float64(len(numbers)) {
		t.Errorf("api_calls_total = %v, want the registrations plus the creditor check", got)
	}
	if ts := metricValue(fams, "amili_import_last_success_timestamp_seconds", map[string]string{"job": "invoices"}); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last_success_timestamp = %v, want about now", ts)
	}
	if f := fams["amili_import_api_call_duration_seconds"]; f == nil || f.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
		t.Error("api_call_duration_seconds has no samples")
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(20 * time.Second); code != exitOK {
		t.Errorf("exit %d", code)
	}
}

// TestDaemonReload: SIGHUP with a broken config keeps the running one (logged; /healthz
// still 200; jobs still run); a valid change is applied and logged.
func TestDaemonReload(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	root := filepath.Dir(h.cfg)
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	h.writeConfig(h.srv.Creditor, "daemon:\n  listen: 127.0.0.1:0\njobs:\n"+jobYAML("ticker", "@every 1s", empty, 1))

	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	addr := d.waitLog(`"msg":"http listener started","addr":"([^"]+)"`, 20*time.Second)[1]
	base := "http://" + addr
	d.waitLog(`"msg":"run finished","job":"ticker"`, 20*time.Second)

	good, err := os.ReadFile(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.cfg, append(append([]byte(nil), good...), "  - name: broken\n    schedule: \"every tuesday\"\n    source: {dir: /x}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(`"msg":"reload refused: keeping the running config".*jobs\[1\] \(broken\)\.schedule`, 10*time.Second)
	if s := httpStatus(t, base+"/healthz"); s != 200 {
		t.Errorf("/healthz after a refused reload = %d", s)
	}
	if s := httpStatus(t, base+"/readyz"); s != 200 {
		t.Errorf("/readyz after a refused reload = %d", s)
	}
	before := d.countLog(`"msg":"run finished","job":"ticker"`)
	deadline := time.Now().Add(10 * time.Second)
	for d.countLog(`"msg":"run finished","job":"ticker"`) < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("ticker stopped running after a refused reload:\n%s", d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	changed := strings.Replace(string(good), `schedule: "@every 1s"`, `schedule: "@every 1h"`, 1) +
		jobYAML("added", "@every 1s", empty, 1)
	if err := os.WriteFile(h.cfg, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(`"msg":"config reloaded","schedule_changes":2`, 10*time.Second)
	for _, want := range []string{
		`"msg":"reload: job added added (schedule \"@every 1s\")"`,
		`"msg":"reload: job ticker rescheduled from \"@every 1s\" to \"@every 1h\""`,
	} {
		if !strings.Contains(d.stderr.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	d.waitLog(`"msg":"run finished","job":"added"`, 10*time.Second)
	fams := scrapeMetrics(t, base+"/metrics")
	ticks := metricValue(fams, "amili_import_runs_total", map[string]string{"job": "ticker"})
	time.Sleep(1500 * time.Millisecond)
	fams = scrapeMetrics(t, base+"/metrics")
	if after := metricValue(fams, "amili_import_runs_total", map[string]string{"job": "ticker"}); after != ticks {
		t.Errorf("ticker ran %v more times after moving to @every 1h", after-ticks)
	}

	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(20 * time.Second); code != exitOK {
		t.Errorf("exit %d", code)
	}
}

func TestDaemonStartErrors(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	dir := filepath.Dir(h.cfg)
	tests := []struct {
		name, jobs, want string
	}{
		{"ScheduleNeverFires", jobYAML("feb30", "0 0 30 2 *", dir, 1), "jobs[0] (feb30).schedule: schedule \"0 0 30 2 *\" never fires"},
		{"NothingScheduled", jobYAML("manual", "", dir, 1), "jobs: no enabled job or report has a schedule"},
		{"BadSpec", jobYAML("bad", "@every fortnight", dir, 1), "jobs[0] (bad).schedule"},
		{"LeaseTTLTooShort", jobYAML("ok", "@hourly", dir, 1) + "daemon:\n  lease_ttl: 1s\n", "daemon.lease_ttl: 1s is too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.writeConfig(h.srv.Creditor, "jobs:\n"+tt.jobs)
			code, _, stderr := h.run(context.Background(), "daemon", "--config", h.cfg)
			if code != exitNoStart || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

// TestSampleConfigLoads loads samples/amili-import.yaml with the credentials it names, and
// checks what the daemon would schedule from it.
func TestSampleConfigLoads(t *testing.T) {
	creds := t.TempDir()
	for _, f := range []string{"amili_api_code", "amili_private_key.pem", "sftp_key", "smtp_password"} {
		if err := os.WriteFile(filepath.Join(creds, f), []byte("secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		if k == "CREDENTIALS_DIRECTORY" {
			return creds
		}
		return ""
	}
	cfg, err := config.Load(filepath.Join(samplesDir, "amili-import.yaml"), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.CheckSchedules(cfg); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range cfg.Jobs {
		names = append(names, j.Name+"/"+j.Source.Type)
	}
	if got := strings.Join(names, " "); got != "invoices/sftp cases/local backfill/local" {
		t.Errorf("jobs = %s", got)
	}
	if len(cfg.Reports) != 1 || cfg.Reports[0].Schedule == "" {
		t.Errorf("reports = %+v, want one scheduled report", cfg.Reports)
	}
	if cfg.Daemon.Listen != "127.0.0.1:9464" || cfg.Daemon.DrainTimeout.D() != 30*time.Second {
		t.Errorf("daemon = %+v", cfg.Daemon)
	}

	var out, errb strings.Builder
	e := &env{stdout: &out, stderr: &errb, getenv: getenv}
	if err := runSchedules(context.Background(), e, []string{"--config", filepath.Join(samplesDir, "amili-import.yaml"),
		"--from", "2026-03-27T12:00:00+01:00", "--count", "2"}); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, want := range []string{
		"job invoices */15 * * * * 2026-03-27 12:15 CET, 2026-03-27 12:30 CET",
		"job cases 30 6 * * 1-5 2026-03-30 06:30 CEST, 2026-03-31 06:30 CEST",
		"job backfill - not scheduled (amili-import run backfill)",
		"report monthly 0 7 1 * * 2026-04-01 07:00 CEST, 2026-05-01 07:00 CEST",
	} {
		if !strings.Contains(squeeze(out.String()), want) {
			t.Errorf("schedules output lacks %q:\n%s", want, out.String())
		}
	}
}

// squeeze collapses runs of spaces in each line, so column widths do not matter.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// waitRegistrations waits until the sandbox has received at least n registrations.
func waitRegistrations(t *testing.T, h *harness, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for h.registrationCalls() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d registrations after 20s", h.registrationCalls())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDaemonReport: a scheduled report runs through the daemon and is written to out_dir.
func TestDaemonReport(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	root := filepath.Dir(h.cfg)
	drop, out := filepath.Join(root, "drop"), filepath.Join(root, "reports")
	writeInvoices(t, drop, "invoices.csv", "RP", 2)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("invoices", "", drop, 1)+
		"reports:\n  - name: daily\n    schedule: \"@every 1s\"\n    send: false\n    out_dir: "+out+"\n")
	if code, _, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	d.waitLog(`"msg":"report (finished|failed)","report":"daily"`, 20*time.Second)
	if strings.Contains(d.stderr.String(), `"msg":"report failed"`) {
		t.Fatalf("report failed:\n%s", d.stderr.String())
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(20 * time.Second); code != exitOK {
		t.Errorf("exit %d", code)
	}
	htmls, _ := filepath.Glob(filepath.Join(out, "*", "report.html"))
	if len(htmls) == 0 && !strings.Contains(d.stderr.String(), `"msg":"no report due"`) {
		t.Errorf("no report written to %s and none said to be not due:\n%s", out, d.stderr.String())
	}
}
