package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/daemon"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/metrics"
)

// TestRunContention starts two real "run" processes of one job against one ledger: one runs,
// the other exits 2 naming the holder's host, pid and since when; nothing is sent twice.
func TestRunContention(t *testing.T) {
	h := newHarness(t, amilitest.Options{Latency: 100 * time.Millisecond})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	numbers := writeInvoices(t, drop, "invoices.csv", "RC", 20)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("slow", "", drop, 1))

	first := startProc(t, "run", "slow", "--config", h.cfg, "--log-level", "info")
	first.waitLog(`"msg":"run started"`, 20*time.Second)
	second := startProc(t, "run", "--config", h.cfg, "slow")
	if code := second.wait(20 * time.Second); code != exitNoStart {
		t.Fatalf("second run exited %d, want %d\nstderr:\n%s", code, exitNoStart, second.stderr.String())
	}
	host, _ := os.Hostname()
	want := fmt.Sprintf("slow is already running on %s pid %d since ", host, first.cmd.Process.Pid)
	if !strings.Contains(second.stderr.String(), want) {
		t.Errorf("second run's stderr does not say %q:\n%s", want, second.stderr.String())
	}
	if code := first.wait(60 * time.Second); code != exitOK {
		t.Fatalf("first run exited %d\nstderr:\n%s", code, first.stderr.String())
	}
	assertRegisteredOnce(t, h.srv, numbers)

	// The lease was released: a third run now starts, finds the file archived, and succeeds.
	if code, _, stderr := h.run(context.Background(), "run", "slow", "--config", h.cfg); code != exitOK {
		t.Errorf("run after release exited %d:\n%s", code, stderr)
	}
}

func TestRunVerb(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	numbers := writeInvoices(t, drop, "invoices.csv", "RV", 3)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("manual", "", drop, 2)+
		"  - name: off\n    enabled: false\n    source:\n      dir: "+drop+"\n")

	t.Run("UnscheduledJobRuns", func(t *testing.T) {
		code, out, stderr := h.run(context.Background(), "run", "manual", "--config", h.cfg, "--summary", "json")
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(out, `"registered": 3`) && !strings.Contains(out, `"registered":3`) {
			t.Errorf("summary does not say 3 registered:\n%s", out)
		}
		assertRegisteredOnce(t, h.srv, numbers)
		if _, err := os.Stat(filepath.Join(drop, "archive")); err != nil {
			t.Errorf("the file was not archived as a scheduled run does: %v", err)
		}
	})
	t.Run("UnknownJob", func(t *testing.T) {
		code, _, stderr := h.run(context.Background(), "run", "nope", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(stderr, `no job "nope"`) {
			t.Errorf("exit %d, stderr %q; want 2 and no job \"nope\"", code, stderr)
		}
	})
	t.Run("DisabledJob", func(t *testing.T) {
		code, _, stderr := h.run(context.Background(), "run", "off", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(stderr, "disabled") {
			t.Errorf("exit %d, stderr %q; want 2 and disabled", code, stderr)
		}
	})
	t.Run("NoJobName", func(t *testing.T) {
		if code, _, _ := h.run(context.Background(), "run", "--config", h.cfg); code != exitNoStart {
			t.Errorf("exit %d, want 2", code)
		}
	})
}

// A run whose ledger ownership lapsed (its process was stopped past daemon.lease_ttl) sent
// nothing more: it was interrupted (exit 1, resumed next time), not unable to start (exit 2).
func TestLostOwnershipIsAnInterruption(t *testing.T) {
	err := fmt.Errorf("%w: creditor c: get creditor c: %w", importer.ErrCannotStart, ledger.ErrOwnerLost)
	var ee *exitError
	if got := exitFor(importer.Summary{}, err); !errors.As(got, &ee) || ee.code != exitSomeRows {
		t.Errorf("exitFor = %v, want exit %d", got, exitSomeRows)
	}
	if got := daemon.Outcome(importer.Summary{}, err); got != metrics.OutcomeCancelled {
		t.Errorf("daemon.Outcome = %q, want %q", got, metrics.OutcomeCancelled)
	}
}
