package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"
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
