package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mail"
)

// The files a report is made of, side by side in its folder.
const (
	HTMLFile = "report.html"
	CSVFile  = "report.csv"
)

// DefaultOutDir is where reports go when reports[].out_dir is not set; each period gets a
// folder of its own below it.
const DefaultOutDir = "reports"

// Mailer sends one message (*mail.Sender).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// Deps are what building, writing and delivering a report need. The daemon, the report verb
// and the demo fill them from the config file.
type Deps struct {
	Store      Store
	Deliveries Deliveries
	Cases      Cases
	// Mailer is nil when no smtp.host is configured: reports are written, not sent.
	Mailer Mailer
	// Subject is the smtp.subject template ("" = mail.DefaultSubject); Name is the report's
	// name it may show ({{.Name}}).
	Subject  string
	Name     string
	CSV      CSVOptions
	Location *time.Location // time_zone; nil = UTC
	Now      func() time.Time
	Logger   *slog.Logger
}

func (d Deps) withDefaults() Deps {
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return d
}

// Paths are the files of one written report.
type Paths struct {
	Dir, HTML, CSV, Chart string
}

func pathsIn(dir string) Paths {
	return Paths{Dir: dir, HTML: filepath.Join(dir, HTMLFile), CSV: filepath.Join(dir, CSVFile),
		Chart: filepath.Join(dir, ChartFile)}
}

// RebuildSuffix is added to a report's folder name, with a number, for each rebuild of its period.
const RebuildSuffix = ".rebuild-"

// place decides the folder the report goes to. A folder that holds a report is never written
// again: the report is a rebuild, written to dir.rebuild-N (the first N free) and saying so. A
// period recorded as delivered is a rebuild too, wherever it is written.
func (r *Report) place(dir string, prior ledger.ReportDelivery, recorded bool) (string, error) {
	holds, err := holdsReport(dir)
	if err != nil {
		return "", err
	}
	if !holds && !recorded {
		return dir, nil
	}
	rb := &Rebuild{Of: dir, N: 1}
	if recorded && prior.State == ledger.DeliverySent {
		rb.SentAt = prior.Updated.In(r.Location)
	}
	if !holds {
		rb.Of = prior.Path
		r.Rebuild = rb
		return dir, nil
	}
	for ; ; rb.N++ {
		next := dir + RebuildSuffix + strconv.Itoa(rb.N)
		if _, err := os.Stat(next); errors.Is(err, fs.ErrNotExist) {
			r.Rebuild = rb
			return next, nil
		} else if err != nil {
			return "", fmt.Errorf("place report: %w", err)
		}
	}
}

func holdsReport(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, HTMLFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("place report: %w", err)
	}
}

// WriteFiles writes the report's three files to dir. Each file is written to a temporary name
// and renamed, so a reader (or a resend) never sees half a file.
func (r *Report) WriteFiles(dir string, csvOpts CSVOptions) (Paths, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Paths{}, fmt.Errorf("write report: %w", err)
	}
	paths := pathsIn(dir)
	var html, csv, chart bytes.Buffer
	if err := r.WriteHTML(&html, ChartFile); err != nil {
		return Paths{}, err
	}
	if err := r.WriteCSV(&csv, csvOpts); err != nil {
		return Paths{}, err
	}
	if err := r.WriteChart(&chart); err != nil {
		return Paths{}, err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{paths.HTML, html.Bytes()}, {paths.CSV, csv.Bytes()}, {paths.Chart, chart.Bytes()}} {
		if err := writeAtomic(f.path, f.data); err != nil {
			return Paths{}, fmt.Errorf("write report: %w", err)
		}
	}
	return paths, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// DuePeriod is the next period to report for creditor at now: whole days in loc, from the end
// of the last recorded report (or the start of the previous day for the first) to the start of
// today. ok is false when nothing is due (the last report already reaches today).
func DuePeriod(ctx context.Context, d Deliveries, creditor string, now time.Time, loc *time.Location) (Period, bool, error) {
	if loc == nil {
		loc = time.UTC
	}
	n := now.In(loc)
	today := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	since := today.AddDate(0, 0, -1)
	if d != nil {
		last, found, err := d.LastReportUntil(ctx, creditor)
		if err != nil {
			return Period{}, false, err
		}
		if found {
			since = last.In(loc)
		}
	}
	p := Period{Since: since, Until: today, Creditor: creditor}
	return p, today.After(since), nil
}

// OutDir is the folder a report for p goes to below base (DefaultOutDir when empty).
func OutDir(base string, p Period, loc *time.Location) string {
	if base == "" {
		base = DefaultOutDir
	}
	if loc == nil {
		loc = time.UTC
	}
	return filepath.Join(base, periodName(p, loc))
}

// RunScheduled is one scheduled report: first resend the reports still pending, then build,
// write, record and send the period now due for rc. The daemon calls it on rc.schedule; the
// report verb takes the same steps (ResendPending, then Deliver) for the period it is given.
func RunScheduled(ctx context.Context, deps Deps, rc config.Report, now time.Time) error {
	deps = deps.withDefaults()
	if deps.CSV == (CSVOptions{}) {
		deps.CSV = CSVOptionsFor(rc)
	}
	if deps.Name == "" {
		deps.Name = rc.Name
	}
	resendErr := ResendPending(ctx, deps)
	p, due, err := DuePeriod(ctx, deps.Deliveries, rc.Creditor, now, deps.Location)
	if err != nil {
		return errors.Join(resendErr, fmt.Errorf("report %s: %w", rc.Name, err))
	}
	if !due {
		deps.Logger.Info("no report due", "report", rc.Name, "creditor", rc.Creditor)
		return resendErr
	}
	_, err = Deliver(ctx, deps, p, OutDir(rc.OutDir, p, deps.Location), ShouldSend(rc, deps.Mailer != nil))
	if err != nil {
		err = fmt.Errorf("report %s: %w", rc.Name, err)
	}
	return errors.Join(resendErr, err)
}

// CSVOptionsFor reads reports[].csv_separator and reports[].decimal_comma.
func CSVOptionsFor(rc config.Report) CSVOptions {
	o := CSVOptions{DecimalComma: rc.DecimalComma}
	switch rc.CSVSeparator {
	case "":
	case `\t`, "tab":
		o.Separator = '\t'
	default:
		o.Separator = []rune(rc.CSVSeparator)[0]
	}
	return o
}

// ShouldSend applies reports[].send: default true when a mail server is configured.
func ShouldSend(rc config.Report, haveMailer bool) bool {
	if rc.Send == nil {
		return haveMailer
	}
	return *rc.Send
}

// Deliver builds the report for p, writes it to dir (or to a rebuild folder: see place) and,
// when send is set, records it in the ledger as pending and e-mails it. A folder once written is
// never written again, so what was mailed stays on disk as it was. A period already recorded is
// not e-mailed again (a pending one is ResendPending's to send); its rebuild is written and
// kept. A failed send leaves the report on disk and recorded as failed, so the next run sends it.
//
// The one accepted risk: if the process dies after the mail server accepted the message and
// before the ledger recorded it as sent, the next run sends it a second time.
func Deliver(ctx context.Context, deps Deps, p Period, dir string, send bool) (Paths, error) {
	deps = deps.withDefaults()
	r, err := Build(ctx, deps.Store, deps.Cases, p, BuildOptions{Location: deps.Location, Now: deps.Now})
	if err != nil {
		return Paths{}, err
	}
	var prior ledger.ReportDelivery
	var recorded bool
	if deps.Deliveries != nil {
		if prior, recorded, err = deps.Deliveries.ReportFor(ctx, p.Creditor, p.ledger()); err != nil {
			return Paths{}, err
		}
	}
	target, err := r.place(dir, prior, recorded)
	if err != nil {
		return Paths{}, err
	}
	paths, err := r.WriteFiles(target, deps.CSV)
	if err != nil || !send {
		return paths, err
	}
	if deps.Mailer == nil {
		return paths, errors.New("report written but not sent: smtp.host is not configured")
	}
	var id ledger.ReportID
	if !recorded {
		id, err = deps.Deliveries.RecordReport(ctx, p.Creditor, p.ledger(), target)
	}
	if recorded || errors.Is(err, ledger.ErrDuplicate) {
		deps.Logger.Info("report period already recorded; rebuild written, not e-mailed", "since", p.Since, "until", p.Until,
			"creditor", p.Creditor, "rebuild", target, "of", prior.Path)
		return paths, nil
	}
	if err != nil {
		return paths, err
	}
	return paths, sendRecorded(ctx, deps, id, p, target)
}

// ResendPending e-mails every report recorded pending or failed, from its files on disk.
func ResendPending(ctx context.Context, deps Deps) error {
	deps = deps.withDefaults()
	if deps.Mailer == nil || deps.Deliveries == nil {
		return nil
	}
	pending, err := deps.Deliveries.PendingReports(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range pending {
		p := Period{Since: d.Since, Until: d.Until, Creditor: d.Creditor}
		deps.Logger.Info("resending report", "since", d.Since, "until", d.Until, "creditor", d.Creditor, "attempts", d.Attempts)
		if err := sendRecorded(ctx, deps, d.ID, p, d.Path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sendRecorded sends the report in dir and records the outcome.
func sendRecorded(ctx context.Context, deps Deps, id ledger.ReportID, p Period, dir string) error {
	msg, err := message(deps, p, dir)
	if err == nil {
		err = deps.Mailer.Send(ctx, msg)
	}
	if err != nil {
		if merr := deps.Deliveries.MarkReportFailed(context.WithoutCancel(ctx), id, err.Error()); merr != nil {
			err = errors.Join(err, merr)
		}
		return fmt.Errorf("report %s kept for the next run: %w", dir, err)
	}
	if err := deps.Deliveries.MarkReportSent(context.WithoutCancel(ctx), id); err != nil {
		return fmt.Errorf("report %s sent, but recording it failed (it may be sent again): %w", dir, err)
	}
	return nil
}

// message builds the e-mail from the files on disk: the HTML body with the chart inline (its
// src turned into cid:chart.png) and the CSV attached.
func message(deps Deps, p Period, dir string) (mail.Message, error) {
	paths := pathsIn(dir)
	html, err := os.ReadFile(paths.HTML)
	if err != nil {
		return mail.Message{}, fmt.Errorf("read report: %w", err)
	}
	csv, err := os.ReadFile(paths.CSV)
	if err != nil {
		return mail.Message{}, fmt.Errorf("read report: %w", err)
	}
	chart, err := os.ReadFile(paths.Chart)
	if err != nil {
		return mail.Message{}, fmt.Errorf("read report: %w", err)
	}
	const layout = "2006-01-02 15:04"
	subject, err := mail.Subject(deps.Subject, mail.SubjectData{
		Since: p.Since.In(deps.Location).Format(layout), Until: p.Until.In(deps.Location).Format(layout),
		Creditor: p.Creditor, Name: deps.Name})
	if err != nil {
		return mail.Message{}, err
	}
	body := strings.Replace(string(html), `src="`+ChartFile+`"`, `src="cid:`+ChartFile+`"`, 1)
	return mail.Message{
		Subject:     subject,
		HTML:        body,
		Inline:      []mail.Part{{Name: ChartFile, ContentType: "image/png", Data: chart}},
		Attachments: []mail.Part{{Name: CSVFile, ContentType: "text/csv; charset=utf-8", Data: csv}},
	}, nil
}
