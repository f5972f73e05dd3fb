package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/mail"
	"github.com/amili-import/amili-import/report"
)

func init() {
	commands["report"] = command{summary: "write (and e-mail) the reconciliation report for a period", run: runReport}
}

// reportFlags are the report verb's flags.
type reportFlags struct {
	common
	name     string
	since    string
	until    string
	creditor string
	out      string
	send     bool
	ledger   string
}

// reportUsage is the report verb's help, printed before its flags.
const reportUsage = `Usage: amili-import report [flags]

Writes the reconciliation report for a period to a folder and prints its path: report.html
(the e-mail body), report.csv (every line, for a spreadsheet) and chart.png. It covers the files
received in the period, every registration with its Amili ids, the rejected rows and conflicts
with their reasons, the totals per creditor and currency with a balance line that must be 0.00,
and Amili's current view of the cases. With --send it is e-mailed and recorded in the ledger.

Exit status: 0 written (and sent), 1 written but not sent (kept and recorded for the next run),
2 could not be built.

Flags:`

func runReport(ctx context.Context, e *env, args []string) error {
	var f reportFlags
	if err := f.parse(e.stderr, args); err != nil {
		return err
	}
	cfg, log, err := f.load(e)
	if err != nil {
		return err
	}
	if f.ledger != "" {
		cfg.Ledger.Path = f.ledger
	}
	rc, err := pickReport(cfg, f.name, f.creditor)
	if err != nil {
		return err
	}
	if f.creditor != "" {
		rc.Creditor = f.creditor
	}
	w, err := wire(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer w.Close()
	deps, err := reportDeps(cfg, w, log, e.getenv, f.send)
	if err != nil {
		return err
	}
	deps.CSV = report.CSVOptionsFor(rc)
	deps.Name = rc.Name
	return f.deliver(ctx, e.stdout, deps, rc)
}

// parse reads args into f, printing usage to stderr; errUsage when they are wrong.
func (f *reportFlags) parse(stderr io.Writer, args []string) error {
	fs := newFlagSet("report", reportUsage, stderr)
	f.common.register(fs)
	fs.StringVar(&f.name, "report", "", "take creditor, out_dir and CSV format from this configured report (default: the one for --creditor, else the first)")
	fs.StringVar(&f.since, "since", "", "start of the period: 2006-01-02 (midnight in time_zone) or RFC 3339 (default: the end of the last recorded report, or the start of yesterday)")
	fs.StringVar(&f.until, "until", "", "end of the period, exclusive; same forms (default: the start of today, or now when that is empty)")
	fs.StringVar(&f.creditor, "creditor", "", "Amili creditor id (default reports[].creditor; empty: all creditors)")
	fs.StringVar(&f.out, "out", "", "folder for report.html, report.csv and chart.png (default <reports[].out_dir>/<period>)")
	fs.BoolVar(&f.send, "send", false, "e-mail the report through smtp, after resending reports still pending; a period already recorded is not sent again")
	fs.StringVar(&f.ledger, "ledger", "", "ledger file (default ledger.path)")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	return nil
}

// deliver writes the report of rc for the period asked for, or the one due, and prints its
// folder; with --send it first resends the reports still pending, then e-mails this one.
// Exit 1 when it was written but not sent.
func (f *reportFlags) deliver(ctx context.Context, w io.Writer, deps report.Deps, rc config.Report) error {
	now := time.Now()
	p, err := reportPeriod(ctx, deps, rc.Creditor, f.since, f.until, now)
	if err != nil {
		return err
	}
	dir := f.out
	if dir == "" {
		dir = report.OutDir(rc.OutDir, p, deps.Location)
	}
	var resendErr error
	if f.send {
		resendErr = report.ResendPending(ctx, deps)
	}
	paths, err := report.Deliver(ctx, deps, p, dir, f.send)
	if paths.Dir != "" {
		fmt.Fprintln(w, paths.Dir)
	}
	if err != nil && paths.Dir == "" {
		return err
	}
	if err := errors.Join(resendErr, err); err != nil {
		return someRowsFailed(err)
	}
	return nil
}

// pickReport finds the configured report by name, else the first for creditor, else the first;
// with no reports configured it is an unnamed one with the defaults.
func pickReport(cfg *config.Config, name, creditor string) (config.Report, error) {
	if name != "" {
		for _, rc := range cfg.Reports {
			if rc.Name == name {
				return rc, nil
			}
		}
		return config.Report{}, fmt.Errorf("--report %q: no such report in the config", name)
	}
	for _, rc := range cfg.Reports {
		if creditor != "" && rc.Creditor == creditor {
			return rc, nil
		}
	}
	if len(cfg.Reports) > 0 {
		return cfg.Reports[0], nil
	}
	return config.Report{Name: "report"}, nil
}

// reportDeps fills report.Deps from the config: the ledger, the API client and, when sending,
// the mail server.
func reportDeps(cfg *config.Config, w *wired, log logger, getenv func(string) string, send bool) (report.Deps, error) {
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return report.Deps{}, fmt.Errorf("time_zone: %w", err)
	}
	deps := report.Deps{Store: w.ledger, Deliveries: w.ledger, Cases: w.client, Subject: cfg.SMTP.Subject,
		Location: loc, Logger: log}
	if !send {
		return deps, nil
	}
	if cfg.SMTP.Host == "" {
		return deps, errors.New("--send: smtp.host is not set in the config")
	}
	mc, err := mail.FromConfig(cfg.SMTP, getenv)
	if err != nil {
		return deps, err
	}
	mc.Logger = log
	sender, err := mail.New(mc)
	if err != nil {
		return deps, err
	}
	deps.Mailer = sender
	return deps, nil
}

// reportPeriod is the period asked for, or the one due: from the end of the last recorded
// report (or the start of yesterday) to the start of today, or to now when that is empty.
func reportPeriod(ctx context.Context, deps report.Deps, creditor, since, until string, now time.Time) (report.Period, error) {
	loc := deps.Location
	p, due, err := report.DuePeriod(ctx, deps.Deliveries, creditor, now, loc)
	if err != nil {
		return report.Period{}, err
	}
	if since != "" {
		if p.Since, err = parseReportTime(since, loc); err != nil {
			return report.Period{}, fmt.Errorf("--since: %w", err)
		}
	}
	switch {
	case until != "":
		if p.Until, err = parseReportTime(until, loc); err != nil {
			return report.Period{}, fmt.Errorf("--until: %w", err)
		}
	case since != "" || !due:
		p.Until = now.In(loc).Truncate(time.Minute)
	}
	if !p.Until.After(p.Since) {
		return report.Period{}, fmt.Errorf("nothing to report: the period %s – %s is empty", p.Since.Format(time.RFC3339), p.Until.Format(time.RFC3339))
	}
	return p, nil
}

// parseReportTime reads 2006-01-02 (midnight in loc) or RFC 3339.
func parseReportTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither 2006-01-02 nor RFC 3339 (2006-01-02T15:04:05+01:00)", s)
}
