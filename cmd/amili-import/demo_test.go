package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestDemoSendsNothingTwice(t *testing.T) {
	code, out, stderr := (&harness{t: t}).run(context.Background(), "demo", "--samples", samplesDir, "--out", t.TempDir())
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
}

func TestDemoNeedsSamples(t *testing.T) {
	code, _, stderr := (&harness{t: t}).run(context.Background(), "demo", "--samples", t.TempDir()+"/none")
	if code != exitNoStart || !strings.Contains(stderr, "samples") {
		t.Errorf("exit %d, stderr %q; want 2 naming the samples directory", code, stderr)
	}
}
