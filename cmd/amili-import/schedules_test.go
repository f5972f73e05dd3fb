package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
)

func TestSchedulesVerb(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	dir := filepath.Dir(h.cfg)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("nightly", "30 2 * * *", dir, 1)+jobYAML("utc", "CRON_TZ=UTC 30 2 * * *", dir, 1)+
		"  - name: off\n    enabled: false\n    schedule: \"@hourly\"\n    source: {dir: "+dir+"}\n")
	tests := []struct {
		name, from string
		want       []string
	}{
		{"SpringForward", "2026-03-28T12:00:00+01:00", []string{
			"job nightly 30 2 * * * 2026-03-29 03:00 CEST, 2026-03-30 02:30 CEST",
			"job utc CRON_TZ=UTC 30 2 * * * 2026-03-29 04:30 CEST, 2026-03-30 04:30 CEST",
			"job off @hourly disabled",
		}},
		{"FallBack", "2026-10-24T12:00:00+02:00", []string{
			"job nightly 30 2 * * * 2026-10-25 02:30 CEST, 2026-10-26 02:30 CET",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := h.run(context.Background(), "schedules", "--config", h.cfg, "--count", "2", "--from", tt.from)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out = squeeze(out)
			if !strings.HasPrefix(out, "KIND NAME SCHEDULE NEXT RUNS (Europe/Stockholm)") {
				t.Errorf("header:\n%s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("DefaultCountIsThree", func(t *testing.T) {
		_, out, _ := h.run(context.Background(), "schedules", "--config", h.cfg)
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(squeeze(line), "job nightly") && strings.Count(line, ", ") != 2 {
				t.Errorf("want three runs: %q", line)
			}
		}
	})
	t.Run("BadFlags", func(t *testing.T) {
		for _, args := range [][]string{{"--count", "0"}, {"--from", "tomorrow"}, {"extra"}} {
			code, _, _ := h.run(context.Background(), append([]string{"schedules", "--config", h.cfg}, args...)...)
			if code != exitNoStart {
				t.Errorf("%v: exit %d, want 2", args, code)
			}
		}
	})
}

// TestSchedulesSecondsAndReportCommand: a schedule with sub-minute precision shows seconds (so
// runs 20 s apart do not read "12:00, 12:00, 12:01"), and an unscheduled report suggests the
// command that builds it, not "run NAME", which only runs jobs.
func TestSchedulesSecondsAndReportCommand(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	dir := filepath.Dir(h.cfg)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+jobYAML("fast", "@every 20s", dir, 1)+jobYAML("manual", "", dir, 1)+
		"reports:\n  - name: period\n    send: false\n")
	code, out, stderr := h.run(context.Background(), "schedules", "--config", h.cfg, "--count", "3", "--from", "2026-03-28T12:00:00+01:00")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out = squeeze(out)
	for _, w := range []string{
		"job fast @every 20s 2026-03-28 12:00:20 CET, 2026-03-28 12:00:40 CET, 2026-03-28 12:01:00 CET",
		"job manual - not scheduled (amili-import run manual)",
		"report period - not scheduled (amili-import report --report period)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "run period") {
		t.Errorf("output suggests running the report as a job:\n%s", out)
	}
}
