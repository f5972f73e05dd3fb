package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches h's /metrics text and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels are exactly labels.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	m := New()
	end := time.Date(2026, 5, 10, 8, 0, 0, 0, time.UTC)
	done := m.RunStarted("invoices")
	m.ObserveCall("POST /invoice--registrations", 201, 120*time.Millisecond, 0)
	m.ObserveCall("POST /invoice--registrations", 201, 80*time.Millisecond, 1500*time.Millisecond)
	m.ObserveCall("POST /media--upload/{id}", 0, time.Second, 0)
	inFlight := scrape(t, m.Handler())
	if v, _ := value(t, inFlight, "amili_import_runs_in_progress", map[string]string{"job": "invoices"}); v != 1 {
		t.Errorf("runs_in_progress during the run = %v, want 1", v)
	}
	done()
	m.ObserveRun("invoices", OutcomeOK, domain.Counts{Rows: 12, Registered: 10, Rejected: 2}, 3*time.Second, end)
	m.ObserveRun("cases", OutcomeLeaseHeld, domain.Counts{}, 0, end)

	fams := scrape(t, m.Handler())
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"amili_import_runs_total", map[string]string{"job": "invoices", "outcome": "ok"}, 1},
		{"amili_import_runs_total", map[string]string{"job": "cases", "outcome": "lease_held"}, 1},
		{"amili_import_rows_total", map[string]string{"job": "invoices", "outcome": "registered"}, 10},
		{"amili_import_rows_total", map[string]string{"job": "invoices", "outcome": "rejected"}, 2},
		{"amili_import_rows_total", map[string]string{"job": "invoices", "outcome": "read"}, 12},
		{"amili_import_api_calls_total", map[string]string{"endpoint": "POST /invoice--registrations", "status": "201"}, 2},
		{"amili_import_api_calls_total", map[string]string{"endpoint": "POST /media--upload/{id}", "status": "0"}, 1},
		{"amili_import_api_call_duration_seconds", map[string]string{"endpoint": "POST /invoice--registrations"}, 2},
		{"amili_import_rate_limit_wait_seconds_total", map[string]string{"endpoint": "POST /invoice--registrations"}, 1.5},
		{"amili_import_last_success_timestamp_seconds", map[string]string{"job": "invoices"}, float64(end.Unix())},
		{"amili_import_run_duration_seconds", map[string]string{"job": "invoices"}, 1},
		{"amili_import_runs_in_progress", map[string]string{"job": "invoices"}, 0},
	}
	for _, c := range checks {
		got, ok := value(t, fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if _, ok := value(t, fams, "amili_import_last_success_timestamp_seconds", map[string]string{"job": "cases"}); ok {
		t.Error("a lease_held run set the last-success time")
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("Go runtime metrics missing")
	}
}
