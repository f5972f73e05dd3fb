package suggest

import (
	"regexp"
	"strings"
	"time"
)

// dateFormat is a date layout in the mapping file's token form and as a Go layout.
type dateFormat struct{ token, layout string }

// dateFormats are the layouts ERPs write dates in, most specific first. DD/MM/YYYY comes before
// MM/DD/YYYY: a column that both read is European unless a day above 12 says otherwise.
var dateFormats = []dateFormat{
	{"YYYY-MM-DD", "2006-01-02"},
	{"YYYYMMDD", "20060102"},
	{"DD.MM.YYYY", "02.01.2006"},
	{"YYYY/MM/DD", "2006/01/02"},
	{"DD/MM/YYYY", "02/01/2006"},
	{"MM/DD/YYYY", "01/02/2006"},
	{"DD-MM-YYYY", "02-01-2006"},
	{"YYYY.MM.DD", "2006.01.02"},
	{"YYYY-MM-DD hh:mm:ss", "2006-01-02 15:04:05"},
	{"YYYY-MM-DDThh:mm:ss", "2006-01-02T15:04:05"},
}

// parseDate reads s with f; years outside 1900-2199 are refused so that 8-digit numbers do not
// pass for YYYYMMDD dates.
func parseDate(f dateFormat, s string) (time.Time, bool) {
	if len(s) != len(f.layout) {
		return time.Time{}, false
	}
	t, err := time.Parse(f.layout, s)
	if err != nil || t.Year() < 1900 || t.Year() > 2199 {
		return time.Time{}, false
	}
	return t, true
}

// dateFormatOf is the first format that reads every value, and whether a later one (MM/DD after
// DD/MM) reads them all too.
func dateFormatOf(values []string) (f dateFormat, ambiguous, ok bool) {
	for i, c := range dateFormats {
		if !all(values, func(v string) bool { _, ok := parseDate(c, v); return ok }) {
			continue
		}
		for _, d := range dateFormats[i+1:] {
			if all(values, func(v string) bool { _, ok := parseDate(d, v); return ok }) {
				return c, true, true
			}
		}
		return c, false, true
	}
	return dateFormat{}, false, false
}

func all(values []string, pred func(string) bool) bool {
	for _, v := range values {
		if !pred(v) {
			return false
		}
	}
	return len(values) > 0
}

// numberShape matches what could be a number in any convention: digits with at most blanks,
// dots, commas or apostrophes between them, a sign in front or behind.
var numberShape = regexp.MustCompile(`^[-+]?\d[\d \x{00a0}.,']*\d?-?$`)

// decimalVote says which decimal separator a number-like value shows: ',' for "12,50" or
// "1.234,5", '.' for "12.50" or "1,234.5", 0 when it cannot tell ("1234", "1.234", "1,234").
func decimalVote(s string) byte {
	if !numberShape.MatchString(s) {
		return 0
	}
	i := strings.LastIndexAny(s, ".,")
	if i < 0 {
		return 0
	}
	frac := strings.TrimRight(s[i+1:], "-")
	other := ","
	if s[i] == ',' {
		other = "."
	}
	if strings.Contains(s[:i], other) || len(frac) != 3 {
		if onlyDigits(frac) && frac != "" {
			return s[i]
		}
	}
	return 0
}

// numberConv is a file's way of writing numbers.
type numberConv struct {
	decimal   byte     // '.' or ','
	thousands []string // separators seen between groups of three digits
}

// parse reports whether s is a number in this convention and how many decimals it has.
func (c numberConv) parse(s string) (decimals int, ok bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"), "-")
	intPart, frac, hasFrac := strings.Cut(s, string(c.decimal))
	if hasFrac && !onlyDigits(frac) {
		return 0, false
	}
	if !c.grouped(intPart) {
		return 0, false
	}
	return len(frac), true
}

// grouped accepts "1234" and "1 234 567" (groups of three after a thousands separator).
func (c numberConv) grouped(s string) bool {
	if onlyDigits(s) {
		return true
	}
	for _, t := range c.thousands {
		parts := strings.Split(s, t)
		if len(parts) < 2 || len(parts[0]) == 0 || len(parts[0]) > 3 || !onlyDigits(parts[0]) {
			continue
		}
		good := true
		for _, p := range parts[1:] {
			good = good && len(p) == 3 && onlyDigits(p)
		}
		if good {
			return true
		}
	}
	return false
}

func onlyDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// thousandsSeen lists the separators s uses between groups of three digits, given the decimal
// separator.
func thousandsSeen(s string, decimal byte) []string {
	if !numberShape.MatchString(s) {
		return nil
	}
	var seen []string
	for _, t := range []string{" ", "\u00a0", ".", ",", "'"} {
		if t[0] == decimal && len(t) == 1 {
			continue
		}
		if (numberConv{decimal: decimal, thousands: []string{t}}).grouped(intPartOf(s, decimal)) && strings.Contains(s, t) {
			seen = append(seen, t)
		}
	}
	return seen
}

func intPartOf(s string, decimal byte) string {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+"), "-")
	i, _, _ := strings.Cut(s, string(decimal))
	return i
}

var vatRate = regexp.MustCompile(`^(0|6|12|25)([.,]0+)? ?%?$`)

func isVATRate(s string) bool { return vatRate.MatchString(s) }

var email = regexp.MustCompile(`^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$`)

func isEmail(s string) bool { return email.MatchString(s) }

// isMobile accepts Swedish mobiles (07x, +46 7x, 0046 7x) and international + numbers, as the
// Reader does.
func isMobile(s string) bool {
	d := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(s)
	switch {
	case strings.HasPrefix(d, "07"):
		return len(d) == 10 && onlyDigits(d)
	case strings.HasPrefix(d, "+467"), strings.HasPrefix(d, "00467"):
		return onlyDigits(strings.TrimLeft(d, "+")) && len(strings.TrimLeft(d, "+0")) == 11
	}
	return false
}

var currencies = map[string]bool{"SEK": true, "NOK": true, "EUR": true, "DKK": true, "USD": true, "GBP": true}

func isCurrency(s string) bool { return currencies[strings.ToUpper(s)] }

// idShape matches a personnummer or organisationsnummer with 10 or 12 digits.
var idShape = regexp.MustCompile(`^(\d{6}|\d{8})[-+]?\d{4}$`)

// isIDNumber reports whether s is a Swedish personnummer, samordningsnummer or
// organisationsnummer with a valid Luhn check digit.
func isIDNumber(s string) bool {
	if !idShape.MatchString(s) {
		return false
	}
	d := strings.NewReplacer("-", "", "+", "").Replace(s)
	if len(d) == 12 {
		if d[:2] != "16" && d[:2] != "18" && d[:2] != "19" && d[:2] != "20" {
			return false
		}
		d = d[2:]
	}
	month := int(d[2]-'0')*10 + int(d[3]-'0')
	day := int(d[4]-'0')*10 + int(d[5]-'0')
	person := month >= 1 && month <= 12 && ((day >= 1 && day <= 31) || (day >= 61 && day <= 91))
	if !person && month < 20 {
		return false
	}
	return luhn(d)
}

// luhn checks the tenth digit of ten (mod 10, weights 2-1 from the left).
func luhn(ten string) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		v := int(ten[i]-'0') * (2 - i%2)
		sum += v/10 + v%10
	}
	return (10-sum%10)%10 == int(ten[9]-'0')
}

// customerTypeWords are the values ERPs write for a customer's type.
var customerTypeWords = map[string]string{
	"p": "person", "person": "person", "privat": "person", "privatperson": "person", "private": "person", "konsument": "person",
	"f": "company", "c": "company", "company": "company", "företag": "company", "foretag": "company", "org": "company", "b": "company", "business": "company",
	"u": "foreign", "foreign": "foreign", "utländsk": "foreign", "utland": "foreign", "utlandsk": "foreign",
}
