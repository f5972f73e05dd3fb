package report

import (
	"time"

	"github.com/amili-import/amili-import/domain"
)

// maxDays is the most days the chart shows bar by bar; a longer period shows weeks.
const maxDays = 62

// days buckets the period's money by calendar day in the report's zone: registered and
// rejected on the day, pending at the day's end (weeks for periods longer than maxDays).
func days(r *Report, bk *book) []Day {
	cur := r.ChartCurrency()
	dayOf := func(t time.Time) time.Time {
		t = t.In(r.Location)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, r.Location)
	}
	step := func(d time.Time) time.Time { return d.AddDate(0, 0, 1) }
	first := dayOf(r.Period.Since)
	if dayOf(r.Period.Until.Add(-time.Nanosecond)).Sub(first) > maxDays*24*time.Hour {
		step = func(d time.Time) time.Time { return d.AddDate(0, 0, 7) }
	}
	var out []Day
	for d := first; d.Before(r.Period.Until); d = step(d) {
		end := step(d)
		if end.After(r.Period.Until) {
			end = r.Period.Until
		}
		day := Day{Date: d}
		for _, g := range r.Registrations {
			if g.Currency == cur && !g.At.Before(d) && g.At.Before(end) {
				day.Count++
				day.Registered += g.Amount
			}
		}
		for _, p := range r.Problems {
			if p.Kind == ProblemRejected && p.Currency == cur && !p.At.Before(d) && p.At.Before(end) {
				day.Rejected += p.Amount
			}
		}
		day.Pending = pendingAt(r, bk, cur, end)
		out = append(out, day)
	}
	return out
}

// pendingAt is what was claimed and neither registered nor rejected at t, in currency cur.
func pendingAt(r *Report, bk *book, cur string, t time.Time) (sum domain.Amount) {
	for _, v := range bk.versions {
		o := v.origin
		if o.Currency != cur || (r.Period.Creditor != "" && o.Creditor != r.Period.Creditor) || !o.At.Before(t) {
			continue
		}
		if v.end == nil || !v.end.At.Before(t) {
			sum += o.Amount
		}
	}
	return sum
}
