package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
)

func TestCheck(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	job := fmt.Sprintf(`jobs:
  - name: invoices
    kind: invoice
    source:
      dir: %s
`, h.dir)

	t.Run("OK", func(t *testing.T) {
		h.writeConfig(h.srv.Creditor, job)
		code, out, stderr := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
		}
		for _, want := range []string{"ok    authenticate", "ok    creditor " + h.srv.Creditor, "ok    job invoices: source", "ok    ledger"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if n := h.registrationCalls(); n != 0 {
			t.Errorf("check registered %d things", n)
		}
	})
	t.Run("InactiveCreditor", func(t *testing.T) {
		h.writeConfig(h.srv.InactiveCreditor, job)
		code, out, _ := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(out, "FAIL  creditor "+h.srv.InactiveCreditor) {
			t.Errorf("exit %d, want 2 with the creditor named:\n%s", code, out)
		}
	})
	t.Run("MissingSourceDir", func(t *testing.T) {
		h.writeConfig(h.srv.Creditor, strings.Replace(job, h.dir, filepath.Join(h.dir, "nope"), 1))
		code, out, _ := h.run(context.Background(), "check", "--config", h.cfg)
		if code != exitNoStart || !strings.Contains(out, "FAIL  job invoices: source") {
			t.Errorf("exit %d, want 2 with the source named:\n%s", code, out)
		}
	})
	t.Run("BadConfig", func(t *testing.T) {
		code, out, _ := h.run(context.Background(), "check", "--config", filepath.Join(h.dir, "missing.yaml"))
		if code != exitNoStart || !strings.Contains(out, "FAIL  config") {
			t.Errorf("exit %d, want 2:\n%s", code, out)
		}
	})
}
