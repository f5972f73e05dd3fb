package ledger

import (
	"context"
	"testing"
)

// TestIncidents: the first failure of a job opens an incident, later ones do not until a
// success closes it; jobs are apart.
func TestIncidents(t *testing.T) {
	ctx := context.Background()
	l, _ := mustOpenClock(t)
	steps := []struct {
		job    string
		fail   bool
		want   bool
		reason string
	}{
		{"a", true, true, "first failure opens"},
		{"a", true, false, "still failing"},
		{"b", true, true, "another job's own incident"},
		{"a", false, true, "success closes"},
		{"a", false, false, "nothing open"},
		{"a", true, true, "failing anew opens again"},
	}
	for _, s := range steps {
		var got bool
		var err error
		if s.fail {
			got, err = l.OpenIncident(ctx, s.job, "boom")
		} else {
			got, err = l.CloseIncident(ctx, s.job)
		}
		if err != nil || got != s.want {
			t.Errorf("%s (%s): got %v, %v; want %v", s.reason, s.job, got, err, s.want)
		}
	}
}
