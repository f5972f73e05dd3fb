package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mail"
)

const checkUsage = `Usage: amili-import check [--config F]

Checks everything a run needs before it needs it: the config is valid, Amili accepts the
credentials, every configured creditor is active, every SFTP source is reachable with its host
key verified, the SMTP relay (when smtp.host is set) accepts a connection, STARTTLS and AUTH
(nothing is sent), and the ledger opens. Prints one line per check; exits 2 when any fails.

Flags:`

func init() {
	commands["check"] = command{summary: "check the config, credentials, creditors, sources and ledger", run: runCheck}
}

// checker prints one line per check and counts the failures.
type checker struct {
	w      io.Writer
	failed int
}

func (c *checker) result(what string, err error) bool {
	if err != nil {
		c.failed++
		fmt.Fprintf(c.w, "FAIL  %s: %v\n", what, err)
		return false
	}
	fmt.Fprintf(c.w, "ok    %s\n", what)
	return true
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("check", checkUsage, e.stderr)
	cfgPath := fs.String("config", config.DefaultPath, "config file")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	c := &checker{w: e.stdout}
	cfg, err := loadConfig(*cfgPath, e.getenv)
	if !c.result("config "+*cfgPath, err) {
		return fmt.Errorf("%d check failed", c.failed)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(e.stdout, "warn  %s\n", w)
	}
	log := logging.Discard()

	cc, err := clientConfig(cfg, e.getenv, log)
	var client *amili.Client
	if err == nil {
		client, err = amili.New(cc)
	}
	if c.result("amili client configuration", err) {
		if c.result("authenticate at "+cfg.Amili.BaseURL, client.Authenticate(ctx)) {
			for _, id := range configuredCreditors(cfg) {
				cr, err := client.GetCreditor(ctx, id)
				if err == nil && !cr.IsActive {
					err = fmt.Errorf("%s is not active", firstOf(cr.Name, id))
				}
				c.result("creditor "+id, err)
			}
		}
	}

	for _, cj := range cfg.Jobs {
		if !cj.IsEnabled() {
			continue
		}
		_, err := jobFromConfig(cfg, cj)
		c.result(fmt.Sprintf("job %s: mapping", cj.Name), err)
		src, err := jobSource(ctx, cfg, cj, log)
		if err == nil {
			_, err = src.List(ctx)
			src.Close()
		}
		what := fmt.Sprintf("job %s: source %s %s", cj.Name, cj.Source.Type, cj.Source.Dir)
		if err == nil && src != nil {
			what = fmt.Sprintf("job %s: source %s", cj.Name, src.Describe())
		}
		c.result(what, err)
	}

	if cfg.SMTP.Host != "" {
		what := "smtp " + cfg.SMTP.Host
		mc, err := mail.FromConfig(cfg.SMTP, e.getenv)
		var s *mail.Sender
		if err == nil {
			s, err = mail.New(mc)
		}
		if err == nil {
			what = "smtp " + s.Describe()
			err = s.Check(ctx)
		}
		c.result(what, err)
	}

	lg, err := ledger.Open(ctx, cfg.Ledger.Path, ledger.Options{Logger: log})
	if c.result("ledger "+cfg.Ledger.Path, err) {
		lg.Close()
	}
	if c.failed > 0 {
		return fmt.Errorf("%d checks failed", c.failed)
	}
	return nil
}

// configuredCreditors lists the default creditor and every enabled job's, once each.
func configuredCreditors(cfg *config.Config) []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	add(cfg.Amili.Creditor)
	for _, j := range cfg.Jobs {
		if j.IsEnabled() {
			add(j.Creditor)
		}
	}
	return out
}
