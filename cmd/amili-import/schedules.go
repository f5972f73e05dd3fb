package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/schedules"
)

const schedulesUsage = `Usage: amili-import schedules [flags]

Prints each job's and report's schedule and its next runs in the configured time_zone, with the
daylight-saving rule applied (a run in the spring-forward gap moves to the end of the gap; a
run in the repeated autumn hour runs once). Times show seconds when a schedule has sub-minute
precision (@every 20s). An unscheduled job or report names the command that does it by hand.

Flags:`

func init() {
	commands["schedules"] = command{summary: "print when each job and report runs next", run: runSchedules}
}

func runSchedules(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("schedules", schedulesUsage, e.stderr)
	cfgPath := fs.String("config", config.DefaultPath, "config file")
	count := fs.Int("count", 3, "how many runs to show per job and report")
	from := fs.String("from", "", "show runs after this time (RFC 3339, e.g. 2026-03-28T12:00:00+01:00; default now)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return usageError(err)
	}
	if *count < 1 {
		return fmt.Errorf("--count %d: want at least 1", *count)
	}
	now := time.Now()
	if *from != "" {
		t, err := time.Parse(time.RFC3339, *from)
		if err != nil {
			return fmt.Errorf("--from %q: want RFC 3339, e.g. 2026-03-28T12:00:00+01:00", *from)
		}
		now = t
	}
	cfg, err := config.Load(*cfgPath, e.getenv)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tNAME\tSCHEDULE\tNEXT RUNS (%s)\n", loc)
	line := func(kind, name, spec string, enabled bool) error {
		switch {
		case !enabled:
			fmt.Fprintf(tw, "%s\t%s\t%s\tdisabled\n", kind, name, orDash(spec))
			return nil
		case spec == "":
			fmt.Fprintf(tw, "%s\t%s\t-\tnot scheduled (%s)\n", kind, name, manualCommand(kind, name))
			return nil
		}
		sched, err := schedules.Parse(spec, loc)
		if err != nil {
			return fmt.Errorf("%s %s: schedule: %w", kind, name, err)
		}
		next := schedules.NextRuns(sched, now, *count)
		layout := "2006-01-02 15:04 MST"
		for _, t := range next {
			if t.Second() != 0 {
				// Sub-minute precision: without seconds, runs 20 s apart read as one minute twice.
				layout = "2006-01-02 15:04:05 MST"
			}
		}
		var runs []string
		for _, t := range next {
			runs = append(runs, t.In(loc).Format(layout))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", kind, name, spec, strings.Join(runs, ", "))
		return nil
	}
	for _, j := range cfg.Jobs {
		if err := line("job", j.Name, j.Schedule, j.IsEnabled()); err != nil {
			return err
		}
	}
	for _, r := range cfg.Reports {
		if err := line("report", r.Name, r.Schedule, true); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// manualCommand is the command that does an unscheduled task by hand: run for a job, report
// for a report.
func manualCommand(kind, name string) string {
	if kind == "report" {
		return "amili-import report --report " + name
	}
	return "amili-import run " + name
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
