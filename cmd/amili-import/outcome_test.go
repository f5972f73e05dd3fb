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
)

// spoilVAT gives the n-th data row (1-based) of a canonical invoice CSV a VAT rate Amili does
// not know, so that validation refuses that row and only that row.
func spoilVAT(t *testing.T, file string, n int) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if !strings.Contains(lines[n], ",25%,") {
		t.Fatalf("row %d of %s has no 25%% VAT: %s", n, file, lines[n])
	}
	lines[n] = strings.Replace(lines[n], ",25%,", ",30%,", 1)
	st, _ := os.Stat(file)
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(file, st.ModTime(), st.ModTime())
}

// TestRejectedRowIsACompletedRun: a run whose only trouble is a row validation refuses has
// imported everything it could. It ends completed_with_rejections, not some_failed: run exits 1
// (rows were rejected), the run counts as the job's last success, and a daemon started after
// it finds no missed run; a scheduled run of the same kind is counted under that outcome and
// sets the last-success gauge that the documented alert watches.
func TestRejectedRowIsACompletedRun(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	root := filepath.Dir(h.cfg)
	drop, later := filepath.Join(root, "drop"), filepath.Join(root, "later")
	writeInvoices(t, drop, "invoices.csv", "RJ", 3)
	spoilVAT(t, filepath.Join(drop, "invoices.csv"), 2)
	h.writeConfig(h.srv.Creditor, "daemon:\n  listen: 127.0.0.1:0\njobs:\n"+
		jobYAML("invoices", "@every 1h", drop, 2)+jobYAML("later", "@every 1h", later, 1))

	code, out, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg, "--summary", "json")
	if code != exitSomeRows {
		t.Fatalf("run with a rejected row exited %d, want 1:\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `"registered": 2`) || !strings.Contains(out, `"rejected": 1`) {
		t.Fatalf("summary: want 2 registered and 1 rejected:\n%s", out)
	}

	// The second job's file arrives once the daemon runs; its catch-up run is scheduled.
	writeInvoices(t, later, "later.csv", "LT", 2)
	spoilVAT(t, filepath.Join(later, "later.csv"), 1)
	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	addr := d.waitLog(`"msg":"http listener started","addr":"([^"]+)"`, 20*time.Second)[1]
	d.waitLog(`"msg":"daemon started"`, 20*time.Second)
	d.waitLog(`"msg":"run finished with rejected rows","job":"later"`, 20*time.Second)
	log := d.stderr.String()
	if strings.Contains(log, `"msg":"catch-up: no successful run yet; running now","job":"invoices"`) ||
		strings.Contains(log, `"msg":"run started","job":"invoices"`) {
		t.Errorf("the daemon caught up on invoices, whose last run imported all it could:\n%s", log)
	}
	fams := scrapeMetrics(t, "http://"+addr+"/metrics")
	for _, job := range []string{"invoices", "later"} {
		ts := metricValue(fams, "amili_import_last_success_timestamp_seconds", map[string]string{"job": job})
		if time.Since(time.Unix(int64(ts), 0)) > time.Minute {
			t.Errorf("last_success_timestamp{job=%s} = %v, want about now", job, ts)
		}
	}
	for outcome, want := range map[string]float64{"completed_with_rejections": 1, "some_failed": 0, "failed": 0} {
		if got := metricValue(fams, "amili_import_runs_total", map[string]string{"job": "later", "outcome": outcome}); got != want {
			t.Errorf("runs_total{job=later,outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(20 * time.Second); code != exitOK {
		t.Errorf("daemon exit %d", code)
	}
}
