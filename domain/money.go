package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Amount is a sum of money in öre: hundredths of the currency's unit. Amounts are integers from
// the moment they are parsed, so sums never drift; they become decimals only in JSON.
type Amount int64

// String formats a as a decimal with two places and a point: 123456 → "1234.56".
func (a Amount) String() string { return string(a.AppendTo(nil)) }

// AppendTo appends a's decimal form to b without fmt, since payloads format many amounts.
func (a Amount) AppendTo(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		b = append(b, '-')
		u = uint64(-a)
	}
	b = strconv.AppendUint(b, u/100, 10)
	f := u % 100
	return append(b, '.', byte('0'+f/10), byte('0'+f%10))
}

// MarshalJSON writes a as a JSON number with two decimals, the exact value in öre.
func (a Amount) MarshalJSON() ([]byte, error) { return a.AppendTo(make([]byte, 0, 24)), nil }

// UnmarshalJSON reads a JSON number (or a numeric string). Amili's responses carry amounts
// such as 14.0 or, for computed interest, more decimals; those are rounded half away from zero
// to the öre. (CSV input is parsed strictly by package mapping, never through here.)
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		*a = 0
		return nil
	}
	if whole, frac, ok := strings.Cut(s, "."); ok && len(frac) > 2 {
		up := frac[2] >= '5'
		v, err := ParseDecimalAmount(whole + "." + frac[:2])
		if err != nil {
			return err
		}
		if up {
			if v < 0 || strings.HasPrefix(whole, "-") {
				v--
			} else {
				v++
			}
		}
		*a = v
		return nil
	}
	v, err := ParseDecimalAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ErrTooPrecise is returned for amounts with fractions of an öre.
var ErrTooPrecise = errors.New("more than two decimals")

// maxDecimalAmount bounds what ParseDecimalAmount reads: under 10^15 in the currency's unit.
const maxDecimalAmount = 100_000_000_000_000_000 - 1

// ParseDecimalAmount parses a plain decimal ("1234.5", "-3", "0.07"; "1e3" and surrounding
// blanks are refused) into öre. It never goes through float64.
func ParseDecimalAmount(s string) (Amount, error) {
	if strings.TrimSpace(s) != s {
		return 0, fmt.Errorf("amount %q %w", s, ErrNotNumber)
	}
	v, err := ParseDecimal(s, DecimalFormat{}, 2, maxDecimalAmount)
	if err != nil {
		return 0, fmt.Errorf("amount %q %w", s, err)
	}
	return Amount(v), nil
}

// Quantity is a number of units in thousandths, so that 1.5 hours is exact.
type Quantity int64

// QuantityScale is the number of Quantity steps in one unit.
const QuantityScale = 1000

// String formats q with as few decimals as it needs: 1500 → "1.5", 2000 → "2".
func (q Quantity) String() string { return string(q.AppendTo(nil)) }

// AppendTo appends q's decimal form to b.
func (q Quantity) AppendTo(b []byte) []byte {
	u := uint64(q)
	if q < 0 {
		b = append(b, '-')
		u = uint64(-q)
	}
	b = strconv.AppendUint(b, u/QuantityScale, 10)
	if f := u % QuantityScale; f != 0 {
		d := [3]byte{byte('0' + f/100), byte('0' + f/10%10), byte('0' + f%10)}
		n := 3
		for n > 0 && d[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, d[:n]...)
	}
	return b
}

// MarshalJSON writes q as a JSON number.
func (q Quantity) MarshalJSON() ([]byte, error) { return q.AppendTo(make([]byte, 0, 16)), nil }

// Date is a calendar date (and, where the source gives one, a time) in UTC. It marshals the way
// Amili writes dates, RFC 1123 with GMT: "Mon, 07 Jul 2025 00:00:00 GMT".
type Date struct{ time.Time }

// DateLayout is the layout Amili uses for dates in requests and responses.
const DateLayout = "Mon, 02 Jan 2006 15:04:05 GMT"

// NewDate returns the date y-m-d at midnight UTC.
func NewDate(y int, m time.Month, d int) Date {
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// MarshalJSON writes d in Amili's RFC 1123 form.
func (d Date) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(DateLayout)+2)
	b = append(b, '"')
	b = d.UTC().AppendFormat(b, DateLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON reads RFC 1123 or RFC 3339.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	for _, layout := range []string{DateLayout, time.RFC1123, time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("date %q is neither RFC 1123 nor RFC 3339", s)
}
