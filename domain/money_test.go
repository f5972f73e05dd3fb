package domain

import (
	"encoding/json"
	"testing"
)

func TestAmountAndQuantityFormat(t *testing.T) {
	for a, want := range map[Amount]string{0: "0.00", 7: "0.07", 123456: "1234.56", -5: "-0.05", -123400: "-1234.00", 100: "1.00"} {
		if got := a.String(); got != want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(a), got, want)
		}
		if b, _ := json.Marshal(a); string(b) != want {
			t.Errorf("json of Amount(%d) = %s, want %s", int64(a), b, want)
		}
		var back Amount
		if err := json.Unmarshal([]byte(want), &back); err != nil || back != a {
			t.Errorf("Amount round trip of %s = %v, %v", want, back, err)
		}
	}
	for q, want := range map[Quantity]string{1000: "1", 1500: "1.5", 125: "0.125", 2010: "2.01", -500: "-0.5", 0: "0"} {
		if got := q.String(); got != want {
			t.Errorf("Quantity(%d).String() = %q, want %q", int64(q), got, want)
		}
	}
	d := NewDate(2025, 7, 7)
	if b, _ := json.Marshal(d); string(b) != `"Mon, 07 Jul 2025 00:00:00 GMT"` {
		t.Errorf("json of a date = %s", b)
	}
}

// Amili's JSON amounts are read strictly: no blanks around them, under 10^15 in the unit.
func TestParseDecimalAmountIsStrict(t *testing.T) {
	for _, in := range []string{" 12", "12 ", "1000000000000000", "1e3", "1.005", ""} {
		if v, err := ParseDecimalAmount(in); err == nil {
			t.Errorf("ParseDecimalAmount(%q) = %v, want an error", in, v)
		}
	}
	for in, want := range map[string]Amount{"999999999999999.99": 99999999999999999, "0000000000000001": 100, "-0.07": -7, "12.500": 1250} {
		if got, err := ParseDecimalAmount(in); err != nil || got != want {
			t.Errorf("ParseDecimalAmount(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
