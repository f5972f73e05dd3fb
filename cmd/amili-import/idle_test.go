package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
)

// TestIdleRunsMakeNoAPICall counts, at the sandbox, the calls of one daemon whose job runs every
// second: runs with nothing to send make none (no authentication, no creditor check); a file
// costs its registrations and one creditor check, which later runs take from the cache
// (amili.creditor_check_ttl) instead of asking again.
func TestIdleRunsMakeNoAPICall(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	writeInvoices(t, drop, "seed.csv", "ID", 0) // creates the inbox: a header, no rows
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("idle", "@every 1s", drop, 1))
	total := func() int {
		n := 0
		for _, c := range h.srv.Calls() {
			n += c
		}
		return n
	}
	d := startProc(t, "daemon", "--config", h.cfg, "--log-level", "info")
	waitRuns := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for d.countLog(`"msg":"run finished","job":"idle"`) < n {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d runs:\n%s", n, d.stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitRuns(3)
	if n := total(); n != 0 {
		t.Errorf("%d API calls in 3 idle runs, want 0: %v", n, h.srv.Calls())
	}
	numbers := writeInvoices(t, drop, "invoices.csv", "ID", 2)
	before := d.countLog(`"msg":"run finished","job":"idle"`)
	waitRegistrations(t, h, len(numbers))
	waitRuns(before + 4)
	calls := h.srv.Calls()
	creditorChecks := 0
	for ep, n := range calls {
		if strings.HasPrefix(ep, "GET /creditors") {
			creditorChecks += n
		}
	}
	if creditorChecks != 1 || total() != len(numbers)+1 {
		t.Errorf("calls %v: want the %d registrations and one creditor check in all", calls, len(numbers))
	}
	assertRegisteredOnce(t, h.srv, numbers)
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(20 * time.Second); code != exitOK {
		t.Errorf("daemon exit %d", code)
	}
}
