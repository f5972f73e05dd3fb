package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIDNumbersMasksEveryForm(t *testing.T) {
	for _, in := range []string{"191212121212", "19121212-1212", "1212121212", "121212-1212", "121212+1212"} {
		got := IDNumbers("customer " + in + " refused")
		if strings.Contains(got, "1212121212") || strings.Contains(got, "-1212") || strings.Contains(got, "+1212") || !strings.Contains(got, "****") {
			t.Errorf("%s → %q: not masked", in, got)
		}
	}
	if got := IDNumbers("INV-2025-101 costs 845.50"); got != "INV-2025-101 costs 845.50" {
		t.Errorf("changed text without identity numbers: %q", got)
	}
}

func TestBoundCutsAtARune(t *testing.T) {
	s := strings.Repeat("å", 200_000)
	got := Bound(s, 0)
	if len(got) > MaxText || !utf8.ValidString(got) || !strings.HasSuffix(got, "[truncated]") {
		t.Errorf("bounded to %d bytes (valid %v), want at most %d, marked", len(got), utf8.ValidString(got), MaxText)
	}
	if Bound("short", 0) != "short" {
		t.Error("short text changed")
	}
}
