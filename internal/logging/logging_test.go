package logging

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRedacts(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, Options{Level: "debug", Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	log = log.With("customer", "Tolvan 19121212-1212")
	log.Info("row 12: id 121212-1212 bad", "api_code", "CODE-123", "X-API-Key", "tok-456",
		"err", errors.New("customer 5560269986 refused"), "password", "hunter2", "amount", "1212.00")
	out := buf.String()
	for _, leak := range []string{"1212-1212", "121212-1212", "5560269986", "CODE-123", "tok-456", "hunter2"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q: %s", leak, out)
		}
	}
	for _, keep := range []string{"19121212-****", "121212-****", "556026-****", "1212.00"} {
		if !strings.Contains(out, keep) {
			t.Errorf("log lacks %q: %s", keep, out)
		}
	}
}

func TestMaskIDNumbers(t *testing.T) {
	tests := map[string]string{
		"19121212-1212":  "19121212-****",
		"121212+1212":    "121212-****",
		"556026-9986":    "556026-****",
		"INV-2025-015":   "INV-2025-015",
		"amount 1234.50": "amount 1234.50",
	}
	for in, want := range tests {
		if got := MaskIDNumbers(in); got != want {
			t.Errorf("MaskIDNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Options{Level: "loud"}); err == nil {
		t.Error("level loud: no error")
	}
	if _, err := New(&bytes.Buffer{}, Options{Format: "xml"}); err == nil {
		t.Error("format xml: no error")
	}
}

// TestTextToAFileHasNoColour: format text asked for explicitly but written to a file or a pipe
// carries no terminal escape codes; colour is for a terminal only.
func TestTextToAFileHasNoColour(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []io.Writer{&buf, f} {
		log, err := New(w, Options{Format: "text"})
		if err != nil {
			t.Fatal(err)
		}
		log.Warn("run finished", "job", "invoices", "error", errors.New("boom"))
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"buffer": buf.String(), "file": string(b)} {
		if strings.Contains(out, "\x1b[") {
			t.Errorf("%s: text log has colour codes: %q", name, out)
		}
		if !strings.Contains(out, "run finished") || !strings.Contains(out, "job=invoices") {
			t.Errorf("%s: text log lacks the message: %q", name, out)
		}
	}
}

// TestDurationsAndTimesReadAsAPersonWouldWriteThem: a duration is "1.2s", not 1234567891
// nanoseconds, in both formats; a zero time (none known) is left out rather than printed as
// the year 1.
func TestDurationsAndTimesReadAsAPersonWouldWriteThem(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log, err := New(&buf, Options{Format: format})
		if err != nil {
			t.Fatal(err)
		}
		log.Info("amili authenticated", "took", 1234567891*time.Nanosecond, "wait", 340*time.Millisecond+12345,
			"expires", time.Time{}, "at", time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC))
		out := buf.String()
		for _, want := range []string{"1.2s", "340ms", "2026-12-03"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q lacks %q", format, out, want)
			}
		}
		for _, bad := range []string{"1234567891", "1.234567891s", "0001-01-01", "expires"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: %q contains %q", format, out, bad)
			}
		}
	}
}

func TestHumanDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                                     "0s",
		1500 * time.Nanosecond:                "2µs",
		340*time.Millisecond + 12345:          "340ms",
		1234567891:                            "1.2s",
		2*time.Minute + 3400*time.Millisecond: "2m3s",
		-1500 * time.Millisecond:              "-1.5s",
	}
	for d, want := range tests {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%d) = %q, want %q", d, got, want)
		}
	}
}
