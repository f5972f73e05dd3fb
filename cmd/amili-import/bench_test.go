package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchVerbTinyScenario runs one tiny scenario through the real verb, in-process, and
// checks the JSON line a script would read.
func TestBenchVerbTinyScenario(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--scenarios", "ratelimited", "--n", "20", "--in-process", "--json", "--dir", t.TempDir()}, &out, &errb)
	// Twenty invoices are too few for the throughput target; the run itself must work.
	if code != exitOK && code != exitSomeRows {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d output lines, want 1 JSON line:\n%s", len(lines), out.String())
	}
	var res struct {
		Scenario        string         `json:"scenario"`
		Rows            int            `json:"rows"`
		CallsPerInvoice float64        `json:"calls_per_invoice"`
		HTTP429         *int           `json:"http_429"`
		PeakRSSMB       float64        `json:"peak_rss_mb"`
		CPUS            float64        `json:"cpu_s"`
		Calls           map[string]int `json:"calls"`
		Why             string         `json:"why"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil {
		t.Fatalf("JSON line does not parse: %v\n%s", err, lines[0])
	}
	if res.Scenario != "ratelimited" || res.Rows != 20 {
		t.Errorf("scenario %q rows %d, want ratelimited 20", res.Scenario, res.Rows)
	}
	if res.CallsPerInvoice != 2 {
		t.Errorf("calls_per_invoice = %v, want 2 (calls %v)", res.CallsPerInvoice, res.Calls)
	}
	if got := res.Calls["POST /invoice--registrations"]; got != 20 {
		t.Errorf("registrations = %d, want 20", got)
	}
	if res.HTTP429 == nil || *res.HTTP429 != 0 {
		t.Errorf("http_429 = %v, want 0", res.HTTP429)
	}
	if res.PeakRSSMB <= 0 || res.CPUS <= 0 {
		t.Errorf("peak_rss_mb %v cpu_s %v, want both measured", res.PeakRSSMB, res.CPUS)
	}
	if strings.Contains(res.Why, "calls per invoice") {
		t.Errorf("calls judged wrong: %s", res.Why)
	}
}

func TestBenchVerbUnknownScenario(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"bench", "--scenarios", "nope"}, &out, &errb); code != exitNoStart {
		t.Fatalf("exit %d, want %d", code, exitNoStart)
	}
	if !strings.Contains(errb.String(), `unknown scenario "nope"`) {
		t.Errorf("stderr %q does not name the scenario", errb.String())
	}
}
