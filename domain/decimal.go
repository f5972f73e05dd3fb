package domain

import (
	"errors"
	"strings"
)

// DecimalFormat says how a decimal number is written: its decimal separator ("." or ",") and
// the thousands separators allowed between groups of three digits of its whole part.
type DecimalFormat struct {
	Comma     bool
	Thousands []string
}

// The ways a decimal can be refused; each reads after the name of the value ("amount is too
// large"). ErrTooPrecise is the fourth.
var (
	ErrEmpty     = errors.New("is empty")
	ErrNotNumber = errors.New("is not a number")
	ErrTooLarge  = errors.New("is too large")
	ErrBadGroups = errors.New("is not a number: thousands separators must separate groups of three digits")
)

// ParseDecimal reads a decimal written in format f into an integer scaled by 10^scale (2 for
// öre, 3 for quantities), at most max. It never goes through float64, and refuses exponents,
// NaN, Inf and decimals past scale that are not zeros (ErrTooPrecise).
func ParseDecimal(s string, f DecimalFormat, scale int, max int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, ErrEmpty
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	d, err := f.splitDigits(s)
	if err != nil {
		return 0, err
	}
	v, err := d.scaled(scale, max)
	if neg {
		v = -v
	}
	return v, err
}

// digits are the digits of a number's whole part and of its fraction.
type digits struct {
	whole, frac   [24]byte
	nWhole, nFrac int
	// lateNonZero: a digit of the fraction past what frac holds is not zero.
	lateNonZero bool
}

// splitDigits reads the digits of s, checking that thousands separators split the whole part
// into groups of three ("1 234 567") and that nothing else is in it.
func (f DecimalFormat) splitDigits(s string) (digits, error) {
	var d digits
	dec := byte('.')
	if f.Comma {
		dec = ','
	}
	seenDec, seenSep, group := false, false, 0
	badGroups := func() bool { return seenSep && group != 3 }
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' && seenDec:
			if d.nFrac < len(d.frac) {
				d.frac[d.nFrac] = c
			} else if c != '0' {
				d.lateNonZero = true
			}
			d.nFrac++
			i++
			continue
		case c >= '0' && c <= '9':
			if d.nWhole >= 18 {
				return d, ErrTooLarge
			}
			d.whole[d.nWhole] = c
			d.nWhole++
			group++
			i++
			continue
		case c == dec && !seenDec:
			if badGroups() {
				return d, ErrBadGroups
			}
			seenDec = true
			i++
			continue
		}
		// A thousands separator is only allowed between digits of the whole part.
		sep := f.thousandsAt(s[i:])
		if sep == "" || seenDec || group == 0 {
			return d, ErrNotNumber
		}
		if badGroups() || group > 3 {
			return d, ErrBadGroups
		}
		seenSep, group = true, 0
		i += len(sep)
	}
	if !seenDec && badGroups() {
		return d, ErrBadGroups
	}
	if d.nWhole == 0 && d.nFrac == 0 {
		return d, ErrNotNumber
	}
	return d, nil
}

// thousandsAt returns the thousands separator s starts with, or "".
func (f DecimalFormat) thousandsAt(s string) string {
	for _, t := range f.Thousands {
		if strings.HasPrefix(s, t) {
			return t
		}
	}
	return ""
}

// scaled returns the number times 10^scale; decimals past scale must be zeros.
func (d *digits) scaled(scale int, max int64) (int64, error) {
	frac := d.frac[:min(d.nFrac, len(d.frac))]
	if len(frac) > scale {
		for _, c := range frac[scale:] {
			if c != '0' {
				return 0, ErrTooPrecise
			}
		}
		frac = frac[:scale]
	}
	if d.lateNonZero {
		return 0, ErrTooPrecise
	}
	var v int64
	for _, c := range d.whole[:d.nWhole] {
		v = v*10 + int64(c-'0')
		if v > max {
			return 0, ErrTooLarge
		}
	}
	for i := 0; i < scale; i++ {
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	if v > max {
		return 0, ErrTooLarge
	}
	return v, nil
}
