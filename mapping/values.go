package mapping

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// maxAmount bounds every amount: 10 000 000 000.00 in the currency's unit. Larger values are
// far beyond any invoice and would only come from a broken export.
const maxAmount domain.Amount = 1_000_000_000_000

// maxQuantity bounds number_of_units: ten million units.
const maxQuantity domain.Quantity = 10_000_000 * domain.QuantityScale

// parseNumber reads a decimal written with the layout's decimal and thousands separators into
// an integer scaled by 10^scale (2 for öre, 3 for quantities).
func (l *Layout) parseNumber(s string, scale int, max int64) (int64, error) {
	return domain.ParseDecimal(s, domain.DecimalFormat{Comma: l.DecimalComma, Thousands: l.Thousands}, scale, max)
}

// parseAmount reads an amount in öre.
func (l *Layout) parseAmount(s string) (domain.Amount, error) {
	v, err := l.parseNumber(s, 2, int64(maxAmount))
	return domain.Amount(v), err
}

// parseQuantity reads a number of units in thousandths.
func (l *Layout) parseQuantity(s string) (domain.Quantity, error) {
	v, err := l.parseNumber(s, 3, int64(maxQuantity))
	return domain.Quantity(v), err
}

// vatRates are the Swedish VAT rates Amili's invoices know.
var vatRates = map[int64]string{0: "0%", 600: "6%", 1200: "12%", 2500: "25%"}

// parseVAT reads a VAT rate in percent ("25", "25%", "25,0 %", "25.00") whatever the layout's
// decimal separator. It returns the rate in hundredths of a percent and Amili's spelling ("25%").
// A fraction such as "0.25" is a quarter of a percent and therefore refused.
func parseVAT(s string) (int64, string, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	// A rate may use either decimal separator whatever the layout says: "25.0" and "25,0".
	t = strings.Replace(t, ",", ".", 1)
	v, err := canonical.parseNumber(t, 2, 100_00)
	if err != nil {
		return 0, "", errors.New("is not a VAT rate")
	}
	name, ok := vatRates[v]
	if !ok {
		return 0, "", errors.New("VAT rate must be 0, 6, 12 or 25 %")
	}
	return v, name, nil
}

// parseDate tries the layout's date formats in order. time.Parse refuses days that do not exist
// in their month (2025-02-30).
func (l *Layout) parseDate(s string) (domain.Date, error) {
	s = strings.TrimSpace(s)
	var firstErr error
	for _, f := range l.DateFormats {
		if f == "2006-01-02" && len(s) != 10 {
			continue
		}
		t, err := time.Parse(f, s)
		if err == nil {
			// The calendar day as written, whatever the offset beside it.
			y, m, d := t.Date()
			day := domain.NewDate(y, m, d)
			if day.Before(MinDate.Time) || day.After(MaxDate.Time) {
				return domain.Date{}, fmt.Errorf("is outside the dates a file may hold (%s to %s)", MinDate.Format("2006-01-02"), MaxDate.Format("2006-01-02"))
			}
			return day, nil
		}
		if firstErr == nil || strings.Contains(err.Error(), "out of range") {
			firstErr = err
		}
	}
	if firstErr != nil && strings.Contains(firstErr.Error(), "out of range") {
		return domain.Date{}, errors.New("is not a real calendar date")
	}
	return domain.Date{}, errors.New("is not a date in any accepted format (" + strings.Join(l.DateFormats, ", ") + ")")
}

// parseBool reads one of the layout's true or false values; ok is false for anything else.
func (l *Layout) parseBool(s string) (v, ok bool) {
	s = strings.TrimSpace(s)
	if l.trueSet[s] || l.trueSet[strings.ToLower(s)] {
		return true, true
	}
	if l.falseSet[s] || l.falseSet[strings.ToLower(s)] {
		return false, true
	}
	return false, false
}

// parseInt reads a plain non-negative whole number such as a number of days.
func parseInt(s string, max int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, errors.New("is not a whole number of days")
	}
	if n > max {
		return 0, errors.New("is too large")
	}
	return n, nil
}

// lineTotal returns units × unit price rounded half away from zero to the öre, in 128-bit
// arithmetic so no product overflows.
func lineTotal(q domain.Quantity, price domain.Amount) (domain.Amount, bool) {
	neg := (q < 0) != (price < 0)
	uq, up := abs64(int64(q)), abs64(int64(price))
	hi, lo := bits.Mul64(uq, up)
	if hi >= domain.QuantityScale {
		return 0, false
	}
	quo, rem := bits.Div64(hi, lo, domain.QuantityScale)
	if rem*2 >= domain.QuantityScale {
		quo++
	}
	if quo > uint64(maxAmount) {
		return 0, false
	}
	if neg {
		return -domain.Amount(quo), true
	}
	return domain.Amount(quo), true
}

// vatOf returns total × rate (in hundredths of a percent) rounded half away from zero to the öre.
func vatOf(total domain.Amount, rate int64) domain.Amount {
	neg := total < 0
	p := abs64(int64(total)) * uint64(rate) // total ≤ 1e12, rate ≤ 2500: fits
	v := p / 10000
	if (p%10000)*2 >= 10000 {
		v++
	}
	if neg {
		return -domain.Amount(v)
	}
	return domain.Amount(v)
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}
