// Package schedules runs amili-import's scheduled work: each Task (an import job or a report)
// fires on its cron schedule in the configured time zone, never overlaps itself, survives a
// panic, is caught up at start when a run was missed, and is drained on stop. It knows nothing
// of CSVs or Amili: a Task is a name, a spec and a function.
//
// # Schedules
//
// Specs are robfig/cron/v3 specs: five fields (minute hour day-of-month month day-of-week), the
// descriptors @yearly, @monthly, @weekly, @daily, @hourly and @every <duration>, and an optional
// CRON_TZ=<zone> prefix that overrides the default zone for that spec.
//
// # Daylight-saving time
//
// A spec that names hours of the day (its hour field is not "*", e.g. "30 2 * * *" or @daily)
// follows the wall clock, and each wall-clock time it names fires exactly once a day:
//
//   - A time that does not exist because the clocks spring forward (02:30 on 2026-03-29 in
//     Europe/Stockholm, where 02:00 becomes 03:00) fires at the first instant after the gap
//     (03:00 CEST). robfig/cron alone would skip that day's run.
//   - A time that happens twice because the clocks fall back (02:30 on 2026-10-25, where 03:00
//     becomes 02:00 again) fires at its first occurrence only (02:30 CEST). robfig/cron alone
//     would fire at 02:30 CEST and again at 02:30 CET.
//
// Specs that fire every hour or more often (hour field "*", @hourly, @every) keep real-time
// spacing: @hourly fires 60 minutes apart through both changes, and @every counts elapsed time
// regardless of the zone.
package schedules
