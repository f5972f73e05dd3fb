package main

import (
	"context"
	"fmt"
	"html"
	"strings"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/daemon"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mail"
	"github.com/amili-import/amili-import/metrics"
)

// notifier e-mails notify.email about failures, once per incident: the first failed run of a
// job opens an incident in the ledger (so that every process sharing it agrees), the runs that
// fail while it is open send nothing, and a successful run closes it. Each file quarantined by
// a job that moves files is its own notice (it leaves the inbox, so it is told once).
type notifier struct {
	cfg *config.Config
	lg  *ledger.Ledger
	log logger
	// getenv resolves the smtp password's *_env reference (nil = os.Getenv).
	getenv func(string) string
}

// after tells about the end of one run of cj, if notices are configured. Failures to send are
// logged; they never change the run's outcome.
func (n *notifier) after(ctx context.Context, cj config.Job, sum importer.Summary, runErr error) {
	if n.cfg.Notify.Email == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	log := n.log.With("job", cj.Name)
	inspect := fmt.Sprintf("amili-import run %s --config %s", cj.Name, n.cfg.Path)
	switch daemon.Outcome(sum, runErr) {
	case metrics.OutcomeFailed:
		opened, err := n.lg.OpenIncident(ctx, cj.Name, runErr.Error())
		if err != nil {
			log.Error("cannot record the failure for its notice", "error", err)
			return
		}
		if opened {
			n.send(ctx, log, fmt.Sprintf("amili-import: job %s failed", cj.Name),
				fmt.Sprintf("The job %s failed: %s", cj.Name, runErr), inspect,
				"You get no other notice while it keeps failing; one more once it has run successfully and fails again.")
		}
	case metrics.OutcomeOK, metrics.OutcomeCompletedWithRejections:
		if closed, err := n.lg.CloseIncident(ctx, cj.Name); err != nil {
			log.Error("cannot record the recovery", "error", err)
		} else if closed {
			log.Info("job recovered from its failure")
		}
	}
	if cj.Source.After == "leave" {
		return
	}
	for _, f := range sum.Files {
		if f.Outcome != ledger.FileFailed || f.MovedTo == "" {
			continue
		}
		n.send(ctx, log, fmt.Sprintf("amili-import: job %s quarantined %s", cj.Name, f.Name),
			fmt.Sprintf("The file %s of job %s was refused as a whole and moved to %s: %s", f.Name, cj.Name, f.MovedTo, f.Error),
			fmt.Sprintf("cat %s.error.txt; amili-import ledger list --config %s --state rejected", f.MovedTo, n.cfg.Path),
			"Nothing of it was sent. Fix the file and drop it in the inbox again.")
	}
}

// send e-mails one notice to notify.email through the smtp relay.
func (n *notifier) send(ctx context.Context, log logger, subject, what, inspect, note string) {
	mc, err := mail.FromConfig(n.cfg.SMTP, n.getenv)
	if err == nil {
		mc.To, mc.Cc, mc.Logger = []string{n.cfg.Notify.Email}, nil, log
		var s *mail.Sender
		if s, err = mail.New(mc); err == nil {
			var b strings.Builder
			fmt.Fprintf(&b, "<p>%s</p>\n<p>To inspect it: <code>%s</code></p>\n<p>%s</p>\n",
				html.EscapeString(what), html.EscapeString(inspect), html.EscapeString(note))
			err = s.Send(ctx, mail.Message{Subject: subject, HTML: b.String()})
		}
	}
	if err != nil {
		log.Error("failure notice not sent", "to", n.cfg.Notify.Email, "subject", subject, "error", err)
		return
	}
	log.Info("failure notice sent", "to", n.cfg.Notify.Email, "subject", subject)
}
