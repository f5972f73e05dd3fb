package schedules

import (
	"log/slog"

	"github.com/robfig/cron/v3"
)

// CronLogger adapts l to cron's Logger. cron's chatter (schedule, wake, run) goes to debug; a
// tick skipped by SkipIfStillRunning is a warning, a recovered panic an error.
func CronLogger(l *slog.Logger) cron.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return cronLogger{l}
}

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Warn("run skipped: the previous run is still going", kv...)
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", err)...)
}
