package schedules

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser is the one cron parser of the program: five fields, descriptors, CRON_TZ=.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// allHours has a bit for each hour of the day, as in cron.SpecSchedule.Hour.
const allHours = 1<<24 - 1

// Parse reads spec in zone loc (a CRON_TZ= prefix in the spec wins) and returns a schedule
// that applies the package's daylight-saving rule. A schedule that would never fire (30
// February) is an error.
func Parse(spec string, loc *time.Location) (cron.Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, err
	}
	sched := s
	if ss, ok := s.(*cron.SpecSchedule); ok {
		cp := *ss
		if !strings.HasPrefix(spec, "TZ=") && !strings.HasPrefix(spec, "CRON_TZ=") {
			cp.Location = loc
		}
		if cp.Hour&allHours == allHours {
			sched = &cp
		} else {
			sched = &wallClock{spec: cp}
		}
	}
	ref := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
	if sched.Next(ref).IsZero() {
		return nil, fmt.Errorf("schedule %q never fires", spec)
	}
	return sched, nil
}

// NextRuns returns the next n times sched fires after from.
func NextRuns(sched cron.Schedule, from time.Time, n int) []time.Time {
	var out []time.Time
	t := from
	for range n {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// wallClock is a time-of-day schedule evaluated on the wall clock of its zone, with gap times
// moved to the end of the gap and repeated times fired once (see the package doc).
type wallClock struct {
	spec cron.SpecSchedule // Location is the zone; the search itself runs in UTC
}

// Next returns the first firing after t.
func (w *wallClock) Next(t time.Time) time.Time {
	loc := w.spec.Location
	utcSpec := w.spec
	utcSpec.Location = time.UTC
	local := t.In(loc)
	// The wall clock of t, as a UTC time: UTC has no DST, so cron's search is exact there.
	wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(),
		local.Second(), local.Nanosecond(), time.UTC)
	for {
		next := utcSpec.Next(wall)
		if next.IsZero() {
			return time.Time{}
		}
		if at, ok := resolve(next, loc, t); ok {
			return at.In(t.Location())
		}
		wall = next
	}
}

// resolve finds the instant in loc whose wall clock reads w (given as a UTC time) and that is
// after t. In a repeated hour only the first occurrence counts; in a gap the answer is the
// first instant after the gap. ok is false when that instant is not after t.
func resolve(w time.Time, loc *time.Location, t time.Time) (time.Time, bool) {
	var found []time.Time
	offsets := map[int]bool{}
	for _, probe := range []time.Time{w.Add(-36 * time.Hour), w, w.Add(36 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		offsets[off] = true
	}
	var after time.Time // the gap's end, if w falls in a gap
	for off := range offsets {
		at := w.Add(-time.Duration(off) * time.Second)
		lw := at.In(loc)
		if sameWall(lw, w) {
			found = append(found, at)
			continue
		}
		// at reads later than w on the wall: w lies in a gap and at is past its end.
		if wallAfter(lw, w) {
			start, _ := at.In(loc).ZoneBounds()
			if after.IsZero() || start.Before(after) {
				after = start
			}
		}
	}
	if len(found) == 0 && !after.IsZero() {
		found = append(found, after)
	}
	// A repeated wall time fires at its first occurrence only; if that has passed, not at all.
	var first time.Time
	for _, at := range found {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first, !first.IsZero() && first.After(t)
}

func sameWall(local, w time.Time) bool {
	y, m, d := local.Date()
	wy, wm, wd := w.Date()
	return y == wy && m == wm && d == wd && local.Hour() == w.Hour() && local.Minute() == w.Minute() && local.Second() == w.Second()
}

func wallAfter(local, w time.Time) bool {
	asUTC := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC)
	return asUTC.After(w)
}
