package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
)

// TestRunSaysWhenAFreshFileIsTaken: a file dropped less than min_age ago is not imported, and
// the run says so: an info log line with the reason and the time it becomes eligible (in the
// config's time zone), the text summary's "1 file not yet eligible (min_age), eligible at
// HH:MM:SS", and the JSON summary's waiting list. Nothing is wrong, so the exit status is 0.
func TestRunSaysWhenAFreshFileIsTaken(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	drop := filepath.Join(filepath.Dir(h.cfg), "drop")
	writeInvoices(t, drop, "invoices.csv", "FR", 2)
	mtime := time.Now().Add(-10 * time.Second).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(drop, "invoices.csv"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	job := strings.Replace(jobYAML("invoices", "", drop, 1), "min_age: 1ms", "min_age: 1h", 1)
	h.writeConfig(h.srv.Creditor, "jobs:\n"+job)
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	at := mtime.Add(time.Hour).In(stockholm)

	code, out, stderr := h.run(context.Background(), "run", "invoices", "--config", h.cfg, "--log-level", "info")
	if code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s\n%s", code, out, stderr)
	}
	want := "1 file not yet eligible (min_age), eligible at " + at.Format("15:04:05 MST")
	if !strings.Contains(out, want) {
		t.Errorf("summary lacks %q:\n%s", want, out)
	}
	logWant := `"msg":"file not yet eligible","job":"invoices","file":"invoices.csv","reason":"min_age"`
	if !strings.Contains(stderr, logWant) || !strings.Contains(stderr, `"eligible_at":"`+at.Format(time.RFC3339)+`"`) {
		t.Errorf("log lacks %s with eligible_at %s:\n%s", logWant, at.Format(time.RFC3339), stderr)
	}

	code, out, stderr = h.run(context.Background(), "run", "invoices", "--config", h.cfg, "--summary", "json")
	if code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s\n%s", code, out, stderr)
	}
	var sum struct {
		Files   []any `json:"files"`
		Waiting []struct {
			Name       string    `json:"name"`
			Reason     string    `json:"reason"`
			EligibleAt time.Time `json:"eligible_at"`
		} `json:"waiting"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(sum.Files) != 0 || len(sum.Waiting) != 1 || sum.Waiting[0].Name != "invoices.csv" ||
		sum.Waiting[0].Reason != "min_age" || !sum.Waiting[0].EligibleAt.Equal(at) {
		t.Errorf("JSON summary: files %v, waiting %+v; want invoices.csv waiting for min_age until %v", sum.Files, sum.Waiting, at)
	}
	if n := h.registrationCalls(); n != 0 {
		t.Errorf("%d registrations for a file not yet eligible", n)
	}
}
