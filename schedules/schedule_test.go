package schedules

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func stockholm(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestNextAcrossDST walks each spec through both 2026 changes in Europe/Stockholm:
// 2026-03-29 02:00 CET → 03:00 CEST (01:00Z) and 2026-10-25 03:00 CEST → 02:00 CET (01:00Z).
func TestNextAcrossDST(t *testing.T) {
	loc := stockholm(t)
	tests := []struct {
		name string
		spec string
		from string // UTC
		want []string
	}{
		{"daily 02:30 in the spring gap runs at 03:00 CEST", "30 2 * * *", "2026-03-27T02:00:00Z",
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"daily 02:30 in the repeated autumn hour runs once", "30 2 * * *", "2026-10-23T02:00:00Z",
			[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"@daily is midnight, untouched by either change", "@daily", "2026-03-28T12:00:00Z",
			[]string{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"}},
		{"several times inside the gap collapse into one run", "*/20 2 * * *", "2026-03-28T23:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}},
		{"hourly through spring forward is every real hour", "@hourly", "2026-03-28T23:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"hourly through fall back is every real hour", "0 * * * *", "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"@every counts elapsed time through spring forward", "@every 45m", "2026-03-29T00:30:00Z",
			[]string{"2026-03-29T01:15:00Z", "2026-03-29T02:00:00Z", "2026-03-29T02:45:00Z"}},
		{"@every counts elapsed time through fall back", "@every 45m", "2026-10-25T00:30:00Z",
			[]string{"2026-10-25T01:15:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:45:00Z"}},
		{"CRON_TZ=UTC ignores Stockholm's spring change", "CRON_TZ=UTC 30 2 * * *", "2026-03-28T00:00:00Z",
			[]string{"2026-03-28T02:30:00Z", "2026-03-29T02:30:00Z", "2026-03-30T02:30:00Z"}},
		{"CRON_TZ=UTC ignores Stockholm's autumn change", "CRON_TZ=UTC 30 2 * * *", "2026-10-24T00:00:00Z",
			[]string{"2026-10-24T02:30:00Z", "2026-10-25T02:30:00Z", "2026-10-26T02:30:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sched, err := Parse(tt.spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			got := NextRuns(sched, utc(tt.from), len(tt.want))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d runs, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].Equal(utc(tt.want[i])) {
					t.Errorf("run %d: got %s (%s), want %s", i+1, got[i].UTC().Format(time.RFC3339),
						got[i].In(loc).Format("15:04 MST"), tt.want[i])
				}
			}
		})
	}
}

// TestCronAloneGetsDSTWrong pins the library behaviour the wall-clock wrapper corrects: if a
// robfig/cron release fixes it, this test says so and the wrapper can be reconsidered.
func TestCronAloneGetsDSTWrong(t *testing.T) {
	loc := stockholm(t)
	raw, err := parser.Parse("CRON_TZ=Europe/Stockholm 30 2 * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got := raw.Next(utc("2026-03-28T02:00:00Z")); got.In(loc).Day() != 30 {
		t.Errorf("robfig/cron ran daily 02:30 on %s; it used to skip 2026-03-29", got.In(loc))
	}
	first := raw.Next(utc("2026-10-24T02:00:00Z"))
	if second := raw.Next(first); second.Sub(first) != time.Hour {
		t.Errorf("robfig/cron fired %s then %s; it used to fire 02:30 twice on 2026-10-25", first, second)
	}
}

// TestRepeatedHourAfterFirstOccurrence: a scheduler (re)started inside the repeated hour,
// after the first 02:30, does not fire 02:30 a second time that night.
func TestRepeatedHourAfterFirstOccurrence(t *testing.T) {
	loc := stockholm(t)
	sched, err := Parse("30 2 * * *", loc)
	if err != nil {
		t.Fatal(err)
	}
	from := utc("2026-10-25T01:10:00Z") // 02:10 CET, the second 02:10 of the night
	if got, want := sched.Next(from), utc("2026-10-26T01:30:00Z"); !got.Equal(want) {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParse(t *testing.T) {
	loc := stockholm(t)
	t.Run("DefaultZone", func(t *testing.T) {
		sched, err := Parse("0 6 * * 1-5", loc)
		if err != nil {
			t.Fatal(err)
		}
		got := sched.Next(utc("2026-06-01T00:00:00Z")) // a Monday
		if want := utc("2026-06-01T04:00:00Z"); !got.Equal(want) {
			t.Errorf("got %s, want 06:00 CEST = %s", got, want)
		}
	})
	t.Run("HourlyKeepsRealTime", func(t *testing.T) {
		sched, _ := Parse("@hourly", loc)
		if _, ok := sched.(*cron.SpecSchedule); !ok {
			t.Errorf("@hourly got %T, want cron's own schedule", sched)
		}
	})
	for _, bad := range []struct{ spec, want string }{
		{"", "empty"},
		{"61 * * * *", "61"},
		{"* * * * * *", "expected exactly 5 fields"},
		{"0 0 30 2 *", "never fires"},
		{"CRON_TZ=Mars/Base 0 0 * * *", "Mars/Base"},
		{"@fortnightly", "fortnightly"},
	} {
		_, err := Parse(bad.spec, loc)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", bad.spec, err, bad.want)
		}
	}
}

func TestMissed(t *testing.T) {
	loc := stockholm(t)
	daily, _ := Parse("30 2 * * *", loc)
	every, _ := Parse("@every 15m", loc)
	now := utc("2026-05-10T08:00:00Z") // 10:00 CEST
	tests := []struct {
		name  string
		sched cron.Schedule
		last  string
		ok    bool
		want  bool
	}{
		{"never ran", daily, "", false, true},
		{"ran after today's 02:30", daily, "2026-05-10T00:31:00Z", true, false},
		{"last ran yesterday: today's 02:30 was missed", daily, "2026-05-09T00:31:00Z", true, true},
		{"every 15m, last 10m ago", every, "2026-05-10T07:50:00Z", true, false},
		{"every 15m, last 20m ago", every, "2026-05-10T07:40:00Z", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last time.Time
			if tt.ok {
				last = utc(tt.last)
			}
			if got := Missed(tt.sched, last, tt.ok, now); got != tt.want {
				t.Errorf("Missed = %v, want %v", got, tt.want)
			}
		})
	}
}
