package mapping

import (
	"errors"
	"strings"
	"time"
)

// now is the clock used to pick the century of a 10-digit personnummer; tests pin it.
var now = time.Now

// IDPolicy says what a personnummer or organisationsnummer with a wrong check digit does.
type IDPolicy string

// The identity-number policies.
const (
	// IDStrict rejects the row (the default).
	IDStrict IDPolicy = "strict"
	// IDWarn keeps the row and reports a RowError with Warning set.
	IDWarn IDPolicy = "warn"
)

// idNumber is a parsed Swedish identity number.
type idNumber struct {
	normalized string // persons: YYYYMMDD-NNNN; organisations: NNNNNN-NNNN
	org        bool   // an organisationsnummer (third and fourth digits ≥ 20)
	badCheck   bool   // the Luhn check digit is wrong; everything else is right
}

var (
	errIDShape = errors.New("is not a personnummer or organisationsnummer (10 or 12 digits, optionally with - or + before the last four)")
	errIDDate  = errors.New("is not a personnummer: the birth date does not exist")
	errIDCheck = errors.New("check digit is wrong (Luhn)")
)

// parseIDNumber reads a personnummer (YYMMDD-NNNC, YYYYMMDDNNNC, samordningsnummer with day+60,
// + from age 100) or an organisationsnummer (NNNNNN-NNNC, optionally prefixed 16). Shape and
// date errors are returned as errors; a wrong check digit only sets badCheck, so the caller
// applies the IDPolicy.
func parseIDNumber(s string) (idNumber, error) {
	d, n, sep, err := idDigits(strings.TrimSpace(s))
	if err != nil {
		return idNumber{}, err
	}
	ten := d[n-10 : n]
	var id idNumber
	id.badCheck = !luhnValid(ten)
	month := int(ten[2]-'0')*10 + int(ten[3]-'0')
	if month >= 20 {
		// An organisationsnummer; a 12-digit form must carry the prefix 16.
		if n == 12 && string(d[:2]) != "16" {
			return idNumber{}, errIDShape
		}
		id.org = true
		var norm [11]byte
		copy(norm[:6], ten[:6])
		norm[6] = '-'
		copy(norm[7:], ten[6:])
		id.normalized = reuse(norm[:], s)
		return id, nil
	}
	if n == 12 && string(d[:2]) == "16" || n == 12 && sep == '+' {
		return idNumber{}, errIDShape
	}
	day := int(ten[4]-'0')*10 + int(ten[5]-'0')
	if day > 60 {
		day -= 60 // samordningsnummer
	}
	year := birthYear(d[:n], sep)
	if month < 1 || day < 1 || day > daysIn(year, month) {
		return idNumber{}, errIDDate
	}
	full := make([]byte, 0, 13)
	full = appendInt4(full, year)
	full = append(full, ten[2:6]...)
	full = append(full, '-')
	full = append(full, ten[6:]...)
	id.normalized = reuse(full, s)
	return id, nil
}

// reuse returns written as a string: s itself when s already reads so, which a number
// written in its normal form does, so that parsing it allocates nothing.
func reuse(written []byte, s string) string {
	if t := strings.TrimSpace(s); string(written) == t {
		return t
	}
	return string(written)
}

// idDigits reads the 10 or 12 digits of an identity number, with at most one separator ("-",
// "+" or a blank), which must stand before the last four.
func idDigits(s string) (d [12]byte, n int, sep byte, err error) {
	sepAt := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' && n < 12:
			d[n] = c
			n++
		case (c == '-' || c == '+') && sep == 0:
			sep, sepAt = c, n
		case c == ' ' && sep == 0:
			sepAt = n
		default:
			return d, 0, 0, errIDShape
		}
	}
	if n != 10 && n != 12 || sepAt >= 0 && sepAt != n-4 {
		return d, 0, 0, errIDShape
	}
	return d, n, sep, nil
}

// birthYear is the year of a personnummer's digits: written out in the 12-digit form, else
// the latest year not after this one that ends in the two digits, a century earlier after "+"
// (aged 100 or more).
func birthYear(d []byte, sep byte) int {
	if len(d) == 12 {
		return atoi(d[:4])
	}
	yy := atoi(d[:2])
	cur := now().Year()
	year := cur - (cur-yy)%100
	if sep == '+' {
		year -= 100
	}
	return year
}

// luhnValid checks the last digit of ten digits with the mod-10 algorithm, weights 2-1 from
// the left, as Skatteverket and Bolagsverket define it.
func luhnValid(ten []byte) bool {
	sum := 0
	for i := 0; i < 9; i++ {
		v := int(ten[i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10-sum%10)%10 == int(ten[9]-'0')
}

func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

func appendInt4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

func daysIn(year, month int) int {
	if month > 12 {
		return 0
	}
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// maskID hides the last four digits of an identity number, so that errors and logs never
// carry a full personnummer: "19121212-1212" → "19121212-****".
func maskID(s string) string {
	b := []byte(s)
	left := 4
	for i := len(b) - 1; i >= 0 && left > 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			b[i] = '*'
			left--
		}
	}
	if left > 0 {
		return "****"
	}
	return string(b)
}

var errEmail = errors.New("is not an e-mail address")

// checkEmail accepts one plausible address: local@domain.tld, no blanks, no display name.
func checkEmail(s string) error {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || len(s) > 254 {
		return errEmail
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(s, " \t<>(),;:\"[]\\") || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		return errEmail
	}
	labels := 0
	for domain != "" {
		label, rest, _ := strings.Cut(domain, ".")
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return errEmail
		}
		labels++
		domain = rest
		if rest == "" && strings.HasSuffix(s, ".") {
			return errEmail
		}
	}
	if labels < 2 {
		return errEmail
	}
	return nil
}

// normalizeMobile accepts a Swedish mobile number (07x xxx xx xx, +46 7x…, 0046 7x…) or, for
// customers abroad, any international number (+ and 8 to 15 digits), and returns it in E.164
// form: "070-123 45 67" → "+46701234567".
func normalizeMobile(s string) (string, error) {
	var buf [32]byte
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case (c >= '0' && c <= '9') || (c == '+' && len(b) == 0):
			if len(b) == len(buf) {
				return "", errors.New("is not a mobile number")
			}
			b = append(b, c)
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		default:
			return "", errors.New("is not a mobile number")
		}
	}
	if len(b) > 2 && b[0] == '0' && b[1] == '0' {
		b[1] = '+'
		b = b[1:]
	}
	return mobileE164(b)
}

// mobileE164 writes the digits of a phone number (with a leading + when international) as
// E.164: +46 and the nine digits of a Swedish mobile number, or an international number as
// it is.
func mobileE164(b []byte) (string, error) {
	switch {
	case len(b) > 3 && string(b[:3]) == "+46":
		rest := b[3:]
		if len(rest) > 0 && rest[0] == '0' {
			rest = rest[1:]
		}
		if len(rest) != 9 || rest[0] != '7' {
			return "", errors.New("is not a Swedish mobile number (+46 7x xxx xx xx)")
		}
		return "+46" + string(rest), nil
	case len(b) > 0 && b[0] == '+':
		if len(b)-1 < 8 || len(b)-1 > 15 {
			return "", errors.New("is not an international phone number (+ and 8 to 15 digits)")
		}
		return string(b), nil
	case len(b) == 10 && b[0] == '0' && b[1] == '7':
		return "+46" + string(b[1:]), nil
	}
	return "", errors.New("is not a mobile number (07x xxx xx xx or +46 7x xxx xx xx)")
}

// payoutCurrencies are the currencies Amili's creditor payout settings list.
var payoutCurrencies = map[string]bool{"SEK": true, "NOK": true, "EUR": true, "DKK": true, "USD": true, "GBP": true}

// iso4217 holds the other active ISO 4217 codes, so a real but unsupported currency gets a
// clearer message than a typo.
const iso4217 = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DOP DZD EGP ERN ETB FJD FKP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SGD SHP SLE SOS SRD SSP STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"

// checkCurrency accepts the payout currencies; any other code is refused with a reason.
func checkCurrency(c string) error {
	if payoutCurrencies[c] {
		return nil
	}
	if len(c) == 3 && isUpperAlpha(c) && strings.Contains(iso4217, c) {
		return errors.New("currency is not one Amili pays out in (SEK, NOK, EUR, DKK, USD, GBP)")
	}
	return errors.New("is not an ISO 4217 currency code (SEK, NOK, EUR, DKK, USD, GBP)")
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
