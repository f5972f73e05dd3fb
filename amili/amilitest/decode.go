package amilitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Requests are decoded leniently into plain JSON values and read field by field, so that
// every spelling the guides use is accepted: amounts as 500.0 or "500.00", dates in RFC 1123 or
// ISO 8601, id numbers with or without a dash. Problems are collected per dotted field name,
// the way Amili reports them in _error.details.

// fields reads one JSON object and collects per-field problems.
type fields struct {
	m      map[string]any
	prefix string
	errs   map[string]string
}

// decodeObject parses body as a JSON object.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("request body is not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("request body is not a JSON object")
	}
	return m, nil
}

func newFields(m map[string]any) *fields { return &fields{m: m, errs: map[string]string{}} }

// sub reads a nested object (or array element) with the same error map.
func (f *fields) sub(m map[string]any, name string) *fields {
	return &fields{m: m, prefix: f.prefix + name + ".", errs: f.errs}
}

func (f *fields) fail(key, msg string) {
	if _, seen := f.errs[f.prefix+key]; !seen {
		f.errs[f.prefix+key] = msg
	}
}

func (f *fields) has(key string) bool {
	v, ok := f.m[key]
	return ok && v != nil
}

func (f *fields) required(key string) bool {
	if !f.has(key) {
		f.fail(key, "required field")
		return false
	}
	return true
}

// str reads a string; a required one must not be empty.
func (f *fields) str(key string, required bool) string {
	if required && !f.required(key) {
		return ""
	}
	v, ok := f.m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		f.fail(key, "must be of string type")
		return ""
	}
	if required && strings.TrimSpace(s) == "" {
		f.fail(key, "empty values not allowed")
	}
	return s
}

// amount reads a sum of money: a JSON number or a numeric string, at most two decimals.
func (f *fields) amount(key string, required bool) domain.Amount {
	if required && !f.required(key) {
		return 0
	}
	v, ok := f.m[key]
	if !ok || v == nil {
		return 0
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		f.fail(key, "must be of number type")
		return 0
	}
	a, err := domain.ParseDecimalAmount(s)
	if err != nil {
		f.fail(key, "must be a number with at most two decimals")
		return 0
	}
	return a
}

// integer reads a whole number (31 or 31.0).
func (f *fields) integer(key string, required bool) int {
	if required && !f.required(key) {
		return 0
	}
	v, ok := f.m[key]
	if !ok || v == nil {
		return 0
	}
	n, isNum := v.(json.Number)
	if !isNum {
		f.fail(key, "must be of integer type")
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return int(i)
	}
	fl, err := n.Float64()
	if err != nil || fl != float64(int64(fl)) {
		f.fail(key, "must be of integer type")
		return 0
	}
	return int(fl)
}

// boolean reads true/false.
func (f *fields) boolean(key string) bool {
	v, ok := f.m[key]
	if !ok || v == nil {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		f.fail(key, "must be of boolean type")
	}
	return b
}

// date reads a date in RFC 1123 or ISO 8601.
func (f *fields) date(key string, required bool) time.Time {
	s := f.str(key, required)
	if s == "" {
		return time.Time{}
	}
	t, err := parseDate(s)
	if err != nil {
		f.fail(key, err.Error())
	}
	return t
}

// dateLayouts are the spellings accepted for dates, Amili's own first.
var dateLayouts = []string{
	domain.DateLayout, time.RFC1123, time.RFC1123Z, time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02",
}

func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (RFC 1123 or ISO 8601)", s)
}

// object reads a nested object.
func (f *fields) object(key string, required bool) map[string]any {
	if required && !f.required(key) {
		return nil
	}
	v, ok := f.m[key]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		f.fail(key, "must be of dict type")
	}
	return m
}

// list reads an array; a required one must not be empty.
func (f *fields) list(key string, required bool) []any {
	if required && !f.required(key) {
		return nil
	}
	v, ok := f.m[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		f.fail(key, "must be of list type")
		return nil
	}
	if required && len(l) == 0 {
		f.fail(key, "must contain at least one item")
	}
	return l
}

// knownCurrencies are the currencies creditors' payout details can hold.
var knownCurrencies = map[string]bool{"SEK": true, "NOK": true, "EUR": true, "DKK": true, "USD": true, "GBP": true}

func (f *fields) currency(key string, required bool) string {
	c := f.str(key, required)
	if c != "" && !knownCurrencies[strings.ToUpper(c)] {
		f.fail(key, fmt.Sprintf("unallowed value %s", c))
		return ""
	}
	return strings.ToUpper(c)
}

// vatPercent parses "25%" (or "12.5%", "25") into hundredths of a percent.
func vatPercent(s string) (int64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	a, err := domain.ParseDecimalAmount(t)
	if err != nil || a < 0 || a > 10000 {
		return 0, fmt.Errorf("%q is not a VAT percentage such as \"25%%\"", s)
	}
	return int64(a), nil
}

// addVAT returns net plus VAT at pct hundredths of a percent, rounded half up to the öre.
func addVAT(net domain.Amount, pct int64) domain.Amount {
	v := int64(net) * pct
	q := v / 10000
	if r := v % 10000; r*2 >= 10000 {
		q++
	} else if r*2 <= -10000 {
		q--
	}
	return net + domain.Amount(q)
}

// quantity parses number_of_units (a number) for the invoice total.
func quantityOf(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		if s, isStr := v.(string); isStr {
			fl, err := strconv.ParseFloat(s, 64)
			return fl, err == nil
		}
		return 0, false
	}
	fl, err := n.Float64()
	return fl, err == nil
}
