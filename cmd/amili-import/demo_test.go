package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDemoSendsNothingTwice(t *testing.T) {
	reportDir := t.TempDir()
	code, out, stderr := (&harness{t: t}).run(context.Background(), "demo", "--samples", samplesDir, "--out", t.TempDir(), "--report-dir", reportDir)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", code, stderr, out)
	}
	counts := regexp.MustCompile(`After run (\d) the sandbox holds (\d+) registrations, (\d+) cases, (\d+) PDFs`).FindAllStringSubmatch(out, -1)
	if len(counts) != 2 {
		t.Fatalf("want two count lines, got %v\n%s", counts, out)
	}
	// 4 invoices + 3 case registrations + 2 ERP invoices; 10 invoice numbers, each with its PDF.
	if got := strings.Join(counts[0][2:], " "); got != "9 10 10" {
		t.Errorf("after run 1: got registrations/cases/PDFs %s, want 9 10 10", got)
	}
	if got := strings.Join(counts[1][2:], " "); got != "9 10 10" {
		t.Errorf("after run 2: got %s, want 9 10 10 (nothing sent twice)", got)
	}
	if n := strings.Count(out, "duplicate"); n != 3 {
		t.Errorf("run 2 should see each of the 3 files as already imported; got %d\n%s", n, out)
	}
	// The report of both runs: every invoice number registered once, balance zero to the öre.
	if !regexp.MustCompile(`SEK  file (\d+\.\d\d)  registered (\d+\.\d\d) .* balance 0\.00`).MatchString(out) {
		t.Errorf("report totals line missing or not balanced:\n%s", out)
	}
	for _, f := range []string{"report.html", "report.csv", "chart.png"} {
		if fi, err := os.Stat(filepath.Join(reportDir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	if !strings.Contains(out, filepath.Join(reportDir, "report.html")) {
		t.Errorf("the report's path is not printed:\n%s", out)
	}
}

func TestDemoNeedsSamples(t *testing.T) {
	code, _, stderr := (&harness{t: t}).run(context.Background(), "demo", "--samples", t.TempDir()+"/none")
	if code != exitNoStart || !strings.Contains(stderr, "samples") {
		t.Errorf("exit %d, stderr %q; want 2 naming the samples directory", code, stderr)
	}
}
