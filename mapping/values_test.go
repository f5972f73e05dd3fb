package mapping

import (
	"errors"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

func TestParseAmount(t *testing.T) {
	comma := mustCompile(&Layout{DecimalComma: true})
	tests := []struct {
		layout *Layout
		in     string
		want   domain.Amount
		ok     bool
	}{
		{canonical, "1234.50", 123450, true},
		{canonical, "0.07", 7, true},
		{canonical, "-3", -300, true},
		{canonical, "+12", 1200, true},
		{canonical, ".5", 50, true},
		{canonical, "12.500", 1250, true},
		{canonical, "1 234.50", 123450, true},
		{canonical, "1\u00a0234.50", 123450, true},
		{canonical, " 7 ", 700, true},
		{canonical, "12.345", 0, false}, // fractions of an öre
		{canonical, "1e3", 0, false},
		{canonical, "NaN", 0, false},
		{canonical, "Inf", 0, false},
		{canonical, "-Inf", 0, false},
		{canonical, "0x10", 0, false},
		{canonical, "1,234.50", 0, false}, // ',' is not a separator of the canonical layout
		{canonical, "12 34", 0, false},
		{canonical, "1  234", 0, false},
		{canonical, "", 0, false},
		{canonical, "-", 0, false},
		{canonical, ".", 0, false},
		{canonical, "10000000000.00", 1_000_000_000_000, true},
		{canonical, "10000000000.01", 0, false},
		{canonical, "99999999999999999999999", 0, false},
		{comma, "1 234,50", 123450, true},
		{comma, "1.234.567,89", 123456789, true},
		{comma, "1\u00a0234,5", 123450, true},
		{comma, "10,5", 1050, true},
		{comma, "10.5", 0, false}, // a point in a comma file is a thousands separator in the wrong place
		{comma, "1.23,4", 0, false},
		{comma, "1,2,3", 0, false},
	}
	for _, tt := range tests {
		got, err := tt.layout.parseAmount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseAmount(%q, decimal comma %v) = %v, %v; want %v, ok %v", tt.in, tt.layout.DecimalComma, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]domain.Quantity{"1": 1000, "1.5": 1500, "0.125": 125, "2.000": 2000} {
		if got, err := canonical.parseQuantity(in); err != nil || got != want {
			t.Errorf("parseQuantity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := canonical.parseQuantity("0.0001"); err == nil {
		t.Error("parseQuantity(0.0001) accepted a fourth decimal")
	}
}

func TestParseVAT(t *testing.T) {
	tests := []struct {
		in   string
		rate int64
		name string
	}{
		{"25", 2500, "25%"}, {"25%", 2500, "25%"}, {"25,0 %", 2500, "25%"}, {"25.00", 2500, "25%"},
		{"12", 1200, "12%"}, {" 6 %", 600, "6%"}, {"0", 0, "0%"}, {"0%", 0, "0%"},
	}
	for _, tt := range tests {
		rate, name, err := parseVAT(tt.in)
		if err != nil || rate != tt.rate || name != tt.name {
			t.Errorf("parseVAT(%q) = %d, %q, %v; want %d, %q", tt.in, rate, name, err, tt.rate, tt.name)
		}
	}
	for _, in := range []string{"20", "0.25", "25.5", "abc", "", "%", "-25"} {
		if _, _, err := parseVAT(in); err == nil {
			t.Errorf("parseVAT(%q) accepted an invalid rate", in)
		}
	}
}

func TestLineTotalAndVAT(t *testing.T) {
	tests := []struct {
		q     domain.Quantity
		price domain.Amount
		want  domain.Amount
	}{
		{3000, 3333, 9999},
		{1500, 1001, 1502},   // 15.015 rounds half up to 15.02
		{1500, -1001, -1502}, // and half away from zero for credits
		{333, 100, 33},
		{10_000_000 * domain.QuantityScale, 1_000_000_000_000, 0}, // overflow is refused, not wrapped
	}
	for i, tt := range tests {
		got, ok := lineTotal(tt.q, tt.price)
		if i == len(tests)-1 {
			if ok {
				t.Errorf("lineTotal(%v, %v) = %v, want refusal of a too large product", tt.q, tt.price, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("lineTotal(%v, %v) = %v, %v; want %v", tt.q, tt.price, got, ok, tt.want)
		}
	}
	for _, tt := range []struct {
		total domain.Amount
		rate  int64
		want  domain.Amount
	}{{84550, 600, 5073}, {243250, 2500, 60813}, {1, 2500, 0}, {2, 2500, 1}, {-243250, 2500, -60813}, {100, 0, 0}} {
		if got := vatOf(tt.total, tt.rate); got != tt.want {
			t.Errorf("vatOf(%v, %d) = %v, want %v", tt.total, tt.rate, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, in := range []string{"2025-09-01", "20250901", "01.09.2025", "2025-09-01T00:00:00Z", "Mon, 01 Sep 2025 00:00:00 GMT", "2025-09-01 00:00:00"} {
		d, err := canonical.parseDate(in)
		if err != nil || d.Format("2006-01-02") != "2025-09-01" {
			t.Errorf("parseDate(%q) = %v, %v; want 2025-09-01", in, d, err)
		}
	}
	for _, in := range []string{"2025-02-30", "2025-02-29", "20250230", "30.02.2025", "2025-9-1", "yesterday"} {
		if _, err := canonical.parseDate(in); err == nil {
			t.Errorf("parseDate(%q) accepted a date that does not exist or is malformed", in)
		}
	}
	if _, err := canonical.parseDate("2024-02-29"); err != nil {
		t.Errorf("parseDate(2024-02-29) refused a leap day: %v", err)
	}
}

func TestLuhnAndIDNumbers(t *testing.T) {
	valid := map[string]struct {
		norm string
		org  bool
	}{
		"19121212-1212": {"19121212-1212", false},
		"191212121212":  {"19121212-1212", false},
		"121212-1212":   {"20121212-1212", false}, // century from the pinned clock (2026)
		"121212+1212":   {"19121212-1212", false}, // + means 100 years or older
		"19811218-9876": {"19811218-9876", false},
		"19121272-1219": {"19121272-1219", false}, // samordningsnummer: day + 60
		"556026-9986":   {"556026-9986", true},
		"5560269986":    {"556026-9986", true},
		"16556026-9986": {"556026-9986", true},
		"556036-0793":   {"556036-0793", true},
	}
	for in, want := range valid {
		id, err := parseIDNumber(in)
		if err != nil || id.badCheck || id.normalized != want.norm || id.org != want.org {
			t.Errorf("parseIDNumber(%q) = %+v, %v; want %s org=%v", in, id, err, want.norm, want.org)
		}
	}
	for _, in := range []string{"19121212-1213", "556026-9987", "121212-1213"} {
		id, err := parseIDNumber(in)
		if err != nil || !id.badCheck {
			t.Errorf("parseIDNumber(%q) = %+v, %v; want a wrong check digit", in, id, err)
		}
	}
	for in, want := range map[string]error{
		"19130230-1234": errIDDate, // 30 February
		"19121312-1212": errIDDate, // month 13
		"1212121":       errIDShape,
		"1912-12121212": errIDShape,
		"19121212/1212": errIDShape,
		"195560269986":  errIDShape, // a 12-digit organisationsnummer needs the prefix 16
		"abcdefghij":    errIDShape,
	} {
		if _, err := parseIDNumber(in); !errors.Is(err, want) {
			t.Errorf("parseIDNumber(%q) error = %v, want %v", in, err, want)
		}
	}
	if !luhnValid([]byte("8112189876")) || luhnValid([]byte("8112189875")) {
		t.Error("luhnValid disagrees with Skatteverket's test number 811218-9876")
	}
}

func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{"19121212-1212": "19121212-****", "5560269986": "556026****", "12": "****", "": "****"} {
		if got := maskID(in); got != want {
			t.Errorf("maskID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMobileAndEmail(t *testing.T) {
	for in, want := range map[string]string{"070-123 45 67": "+46701234567", "+46 70 123 45 67": "+46701234567",
		"0046701234567": "+46701234567", "+46 (0)70 123 45 67": "+46701234567", "+47 912 34 567": "+4791234567"} {
		if got, err := normalizeMobile(in); err != nil || got != want {
			t.Errorf("normalizeMobile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"08-123 456 78", "+46 8 123 456 78", "0701234", "070 123 45 67 8", "phone", "+1"} {
		if got, err := normalizeMobile(in); err == nil {
			t.Errorf("normalizeMobile(%q) = %q, want an error", in, got)
		}
	}
	for _, in := range []string{"a@b.se", "first.last+tag@sub.example.se"} {
		if err := checkEmail(in); err != nil {
			t.Errorf("checkEmail(%q) = %v", in, err)
		}
	}
	for _, in := range []string{"a@b", "@b.se", "a@@b.se", "a b@c.se", "Name <a@b.se>", "a@.se", "a@b..se", ".a@b.se"} {
		if checkEmail(in) == nil {
			t.Errorf("checkEmail(%q) accepted an impossible address", in)
		}
	}
}

func TestCurrency(t *testing.T) {
	for _, c := range []string{"SEK", "NOK", "EUR", "DKK", "USD", "GBP"} {
		if err := checkCurrency(c); err != nil {
			t.Errorf("checkCurrency(%s) = %v", c, err)
		}
	}
	for _, c := range []string{"JPY", "XYZ", "D A", "sek", ""} {
		if checkCurrency(c) == nil {
			t.Errorf("checkCurrency(%q) accepted it", c)
		}
	}
}
