package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/ledger"
)

func init() {
	commands["ledger"] = command{summary: "list, show or back up what the ledger holds", run: runLedger}
}

const ledgerUsage = `Usage:
  amili-import ledger list [--state S[,S]] [--since T] [--creditor C] [--limit N] [--json]
  amili-import ledger show INVOICE_NUMBER [--creditor C] [--json]
  amili-import ledger backup FILE

list    the submissions (one registration each, source amili), oldest first; --since keeps
        those changed since T; then the rows validation refused (never sent, source validation),
        with file and line, unless --state leaves out rejected or --creditor is given (a refused
        row has no creditor yet); --json prints both, each entry with its source
show    one invoice number's submission, its items and its whole history, the later files that
        conflicted with it and the rows with the number that validation refused
backup  a consistent copy of the ledger to FILE (which must not exist), safe while imports run

States: claimed, sending, registered, uploaded, no_pdf, rejected.
T is 2006-01-02 (midnight in time_zone, the config's, as for report) or RFC 3339.
The ledger is ledger.path from the config (default ./amili-import.db); --ledger overrides it.

Flags:`

// ledgerFlags are the flags every ledger subcommand accepts.
type ledgerFlags struct {
	config, ledger  string
	state, creditor string
	since           string
	limit           int
	json            bool
}

func runLedger(ctx context.Context, e *env, args []string) error {
	var f ledgerFlags
	fs := newFlagSet("ledger", ledgerUsage, e.stderr)
	fs.StringVar(&f.config, "config", config.DefaultPath, "config file (its ledger.path and ledger.busy_timeout)")
	fs.StringVar(&f.ledger, "ledger", "", "ledger file (default ledger.path from the config)")
	fs.StringVar(&f.state, "state", "", "list: only these states, comma-separated")
	fs.StringVar(&f.since, "since", "", "list: only submissions changed since T")
	fs.StringVar(&f.creditor, "creditor", "", "only this creditor")
	fs.IntVar(&f.limit, "limit", 0, "list: only the newest N submissions, and N refused rows (0: all)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts instead of a table")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	sub, rest := pos[0], pos[1:]
	want := map[string]int{"list": 0, "show": 1, "backup": 1}
	n, ok := want[sub]
	if !ok || len(rest) != n {
		fs.Usage()
		return errUsage
	}
	path, busy, loc, err := ledgerPath(f, fs, e.getenv)
	if err != nil {
		return err
	}
	lg, err := ledger.Open(ctx, path, ledger.Options{ReadOnly: true, BusyTimeout: busy})
	if err != nil {
		return err
	}
	defer lg.Close()
	switch sub {
	case "list":
		return ledgerList(ctx, e.stdout, lg, f, loc)
	case "show":
		return ledgerShow(ctx, e.stdout, lg, rest[0], f)
	default:
		if err := lg.Backup(ctx, rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "ledger %s backed up to %s\n", lg.Path(), rest[0])
		return nil
	}
}

// parseInterspersed parses flags that may come before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// ledgerPath finds the ledger: --ledger, else ledger.path of the config, and the time zone
// dates are read in. Only the config's ledger block and time_zone are read
// (config.LoadLedger), so ${VAR}s of other keys may be unset. A missing default config means
// the defaults; a config named with --config must be readable.
func ledgerPath(f ledgerFlags, set *flag.FlagSet, getenv func(string) string) (string, time.Duration, *time.Location, error) {
	explicit := false
	set.Visit(func(fl *flag.Flag) {
		if fl.Name == "config" {
			explicit = true
		}
	})
	path, busy, zone := "", time.Duration(0), config.DefaultTimeZone
	if _, err := os.Stat(f.config); err == nil || explicit {
		lc, lzone, err := config.LoadLedger(f.config, getenv)
		if err != nil {
			if f.ledger == "" {
				return "", 0, nil, err
			}
		} else {
			path, busy, zone = lc.Path, lc.BusyTimeout.D(), lzone
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", 0, nil, fmt.Errorf("time_zone: %w", err)
	}
	if f.ledger != "" {
		path = f.ledger
	}
	if path == "" {
		path = config.DefaultLedgerPath
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil, fmt.Errorf("no ledger at %s (set ledger.path in the config or pass --ledger)", path)
	}
	return path, busy, loc, nil
}

func ledgerList(ctx context.Context, w io.Writer, lg *ledger.Ledger, f ledgerFlags, loc *time.Location) error {
	filter := ledger.SubmissionFilter{Creditor: f.creditor, Limit: f.limit}
	if f.state != "" {
		for _, s := range strings.Split(f.state, ",") {
			st := ledger.State(strings.TrimSpace(s))
			if !knownState(st) {
				return fmt.Errorf("--state %q: not one of claimed, sending, registered, uploaded, no_pdf, rejected", s)
			}
			filter.States = append(filter.States, st)
		}
	}
	if f.since != "" {
		t, err := parseReportTime(f.since, loc)
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		filter.Updated.Since = t
	}
	subs, err := lg.Submissions(ctx, filter)
	if err != nil {
		return err
	}
	var refused []ledger.RowErrorRecord
	// A refused row has no creditor yet, and is rejected by nature.
	if f.creditor == "" && (len(filter.States) == 0 || slices.Contains(filter.States, ledger.StateRejected)) {
		if refused, err = refusedRows(ctx, lg, ledger.Period{Since: filter.Updated.Since}, ""); err != nil {
			return err
		}
		if f.limit > 0 && len(refused) > f.limit {
			refused = refused[len(refused)-f.limit:]
		}
	}
	files := newFileNames(ctx, lg)
	if f.json {
		out := make([]any, 0, len(subs)+len(refused))
		for _, s := range subs {
			out = append(out, toSubmissionJSON(s, files))
		}
		for _, r := range refused {
			out = append(out, toRefusedJSON(r))
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tKIND\tCREDITOR\tINVOICE NUMBERS\tAMOUNT\tATTEMPTS\tUPDATED\tFILE\tLAST ERROR")
	for _, s := range subs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.State, s.Kind, s.Creditor, numbers(s),
			amounts(s), s.Attempts, s.Updated.UTC().Format(time.RFC3339), files.at(s.FileID, s.Line), oneLine(s.LastError, 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d submissions\n", len(subs))
	if len(refused) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nRows refused by validation (never sent):")
	if err := printRefused(w, refused); err != nil {
		return err
	}
	rows := "rows"
	if len(refused) == 1 {
		rows = "row"
	}
	fmt.Fprintf(w, "%d %s refused by validation\n", len(refused), rows)
	return nil
}

// refusedRows are the rows validation refused in p, with invoice number number ("" for any):
// rejected too, though never sent, so they are in the ledger's row errors rather than its
// submissions. Warnings (rows kept under the warn policy) are left out.
func refusedRows(ctx context.Context, lg *ledger.Ledger, p ledger.Period, number string) ([]ledger.RowErrorRecord, error) {
	all, err := lg.RowErrors(ctx, p)
	if err != nil {
		return nil, err
	}
	var refused []ledger.RowErrorRecord
	for _, r := range all {
		if !r.Warning && (number == "" || r.InvoiceNumber == number) {
			refused = append(refused, r)
		}
	}
	return refused, nil
}

// printRefused prints refused rows as a table, identity numbers masked.
func printRefused(w io.Writer, refused []ledger.RowErrorRecord) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSOURCE\tFILE\tINVOICE NUMBER\tCOLUMN\tVALUE\tRULE")
	for _, r := range refused {
		fmt.Fprintf(tw, "%s\t%s\t%s:%d\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.RFC3339), sourceValidation, r.File, r.Line,
			orDash(r.InvoiceNumber), orDash(r.Column), oneLine(logging.MaskIDNumbers(r.Value), 30), oneLine(r.Rule, 80))
	}
	return tw.Flush()
}

func ledgerShow(ctx context.Context, w io.Writer, lg *ledger.Ledger, number string, f ledgerFlags) error {
	refused, err := refusedRows(ctx, lg, ledger.Period{}, number)
	if err != nil {
		return err
	}
	creditor := f.creditor
	if creditor == "" {
		cs, err := lg.FindCreditors(ctx, number)
		if err != nil {
			return err
		}
		switch len(cs) {
		case 0:
			if len(refused) > 0 {
				return showRefusedOnly(w, number, refused, f.json)
			}
			return fmt.Errorf("invoice number %q is not in the ledger %s", number, lg.Path())
		case 1:
			creditor = cs[0]
		default:
			return fmt.Errorf("invoice number %q is held for several creditors (%s): choose one with --creditor",
				number, strings.Join(cs, ", "))
		}
	}
	s, events, err := lg.History(ctx, creditor, number)
	if errors.Is(err, ledger.ErrNotFound) && len(refused) > 0 {
		return showRefusedOnly(w, number, refused, f.json)
	}
	if errors.Is(err, ledger.ErrNotFound) {
		return fmt.Errorf("invoice number %q of creditor %q is not in the ledger %s", number, creditor, lg.Path())
	}
	if err != nil {
		return err
	}
	conflicts, err := conflictsOf(ctx, lg, creditor, number)
	if err != nil {
		return err
	}
	if f.json {
		out := showJSON{submissionJSON: toSubmissionJSON(s, newFileNames(ctx, lg)), Events: []eventJSON{},
			Conflicts: []conflictJSON{}, Refused: []refusedJSON{}}
		for _, ev := range events {
			e := eventJSON{At: ev.At, Run: int64(ev.Run), Job: ev.Job, From: string(ev.From), To: string(ev.To), Detail: ev.Detail}
			if !ev.RunStarted.IsZero() {
				started := ev.RunStarted.UTC()
				e.RunStarted = &started
			}
			out.Events = append(out.Events, e)
		}
		for _, c := range conflicts {
			out.Conflicts = append(out.Conflicts, conflictJSON{At: c.At.UTC(), File: c.FilePath, Line: c.Line, Reason: c.Reason})
		}
		for _, r := range refused {
			out.Refused = append(out.Refused, toRefusedJSON(r))
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Submission\t%s %s (id %d)\n", s.Kind, strings.Join(invoiceNumbers(s), ", "), s.ID)
	fmt.Fprintf(tw, "Creditor\t%s\n", s.Creditor)
	fmt.Fprintf(tw, "State\t%s\n", s.State)
	if s.RegistrationID != "" {
		fmt.Fprintf(tw, "Registration\t%s\n", s.RegistrationID)
	}
	if s.InvoiceID != "" {
		fmt.Fprintf(tw, "Invoice\t%s\n", s.InvoiceID)
	}
	fmt.Fprintf(tw, "Attempts\t%d\n", s.Attempts)
	if s.LastError != "" {
		fmt.Fprintf(tw, "Last error\t%s\n", oneLine(s.LastError, 200))
	}
	fmt.Fprintf(tw, "File\t%s\n", fileLine(ctx, lg, s.FileID, s.Line))
	fmt.Fprintf(tw, "Created\t%s\n", s.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "Updated\t%s\n", s.Updated.UTC().Format(time.RFC3339))
	tw.Flush()
	fmt.Fprintln(w, "\nItems:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INVOICE NUMBER\tAMOUNT\tCUSTOMER\tCASE\tOCR\tPDF\tPDF STATE")
	for _, it := range s.Items {
		pdf := string(it.PDFState)
		if it.PDFError != "" {
			pdf += ": " + oneLine(it.PDFError, 60)
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", it.InvoiceNumber, it.Amount, it.Currency, it.CustomerName,
			it.CaseID, it.OCRNumber, it.PDF, pdf)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nHistory:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tRUN\tFROM\tTO\tDETAIL")
	for _, ev := range events {
		from := string(ev.From)
		if from == "" {
			from = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ev.At.UTC().Format(time.RFC3339), runName(ev), from, ev.To, oneLine(ev.Detail, 100))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(conflicts) > 0 {
		// Never sent: without them here the history would read as if nothing had happened since.
		fmt.Fprintln(w, "\nConflicts: later files with this invoice number and other content (never sent):")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tFILE\tREASON")
		for _, c := range conflicts {
			fmt.Fprintf(tw, "%s\t%s:%d\t%s\n", c.At.UTC().Format(time.RFC3339), c.FilePath, c.Line, oneLine(c.Reason, 100))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(refused) > 0 {
		fmt.Fprintln(w, "\nRows with this invoice number refused by validation (never sent):")
		return printRefused(w, refused)
	}
	return nil
}

// showRefusedOnly prints an invoice number no submission holds: validation refused every row
// that brought it, so the ledger knows it only from its row errors.
func showRefusedOnly(w io.Writer, number string, refused []ledger.RowErrorRecord, asJSON bool) error {
	if asJSON {
		out := struct {
			InvoiceNumber string        `json:"invoice_number"`
			State         string        `json:"state"`
			Refused       []refusedJSON `json:"refused_rows"`
		}{InvoiceNumber: number, State: string(ledger.StateRejected)}
		for _, r := range refused {
			out.Refused = append(out.Refused, toRefusedJSON(r))
		}
		return writeJSON(w, out)
	}
	fmt.Fprintf(w, "Invoice number %s was never sent: validation refused every row that brought it.\n\n", number)
	return printRefused(w, refused)
}

// conflictsOf lists the later files that brought a creditor's number with other content.
func conflictsOf(ctx context.Context, lg *ledger.Ledger, creditor, number string) ([]ledger.Conflict, error) {
	all, err := lg.Conflicts(ctx, ledger.Period{}, creditor)
	if err != nil {
		return nil, err
	}
	var cs []ledger.Conflict
	for _, c := range all {
		if c.InvoiceNumber == number {
			cs = append(cs, c)
		}
	}
	return cs, nil
}

// runName names an event's run for a person: its job and start time, the id after them.
func runName(ev ledger.Event) string {
	switch {
	case ev.Run == 0:
		return "-"
	case ev.Job == "":
		return fmt.Sprintf("run %d", ev.Run)
	}
	return fmt.Sprintf("%s, started %s (run %d)", ev.Job, ev.RunStarted.UTC().Format(time.RFC3339), ev.Run)
}

func knownState(s ledger.State) bool {
	switch s {
	case ledger.StateClaimed, ledger.StateSending, ledger.StateRegistered, ledger.StateUploaded, ledger.StateNoPDF, ledger.StateRejected:
		return true
	}
	return false
}

// numbers lists a submission's invoice numbers, shortened for a table.
func numbers(s ledger.Submission) string {
	return oneLine(strings.Join(invoiceNumbers(s), ","), 40)
}

// invoiceNumbers are a submission's invoice numbers, in item order.
func invoiceNumbers(s ledger.Submission) []string {
	ns := make([]string, len(s.Items))
	for i, it := range s.Items {
		ns[i] = it.InvoiceNumber
	}
	return ns
}

// amounts sums a submission's items per currency, exactly, in öre.
func amounts(s ledger.Submission) string {
	sums := map[string]int64{}
	for _, it := range s.Items {
		sums[it.Currency] += int64(it.Amount)
	}
	curs := make([]string, 0, len(sums))
	for c := range sums {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = fmt.Sprintf("%s %s", amountString(sums[c]), c)
	}
	return strings.Join(parts, " + ")
}

func amountString(ore int64) string {
	sign := ""
	if ore < 0 {
		sign, ore = "-", -ore
	}
	return fmt.Sprintf("%s%d.%02d", sign, ore/100, ore%100)
}

// oneLine keeps a text to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// Sources of a ledger list entry: a submission, on its way to Amili or answered by it, or a
// row validation refused before anything was sent.
const (
	sourceAmili      = "amili"
	sourceValidation = "validation"
)

type submissionJSON struct {
	Source         string     `json:"source"`
	ID             int64      `json:"id"`
	Kind           string     `json:"kind"`
	Creditor       string     `json:"creditor"`
	State          string     `json:"state"`
	RegistrationID string     `json:"registration_id,omitempty"`
	InvoiceID      string     `json:"invoice_id,omitempty"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error,omitempty"`
	File           string     `json:"file,omitempty"` // its path as the ledger records it
	FileID         int64      `json:"file_id,omitempty"`
	Line           int        `json:"line,omitempty"`
	Created        time.Time  `json:"created"`
	Updated        time.Time  `json:"updated"`
	Items          []itemJSON `json:"items"`
}

type itemJSON struct {
	InvoiceNumber string `json:"invoice_number"`
	AmountOre     int64  `json:"amount_ore"`
	Amount        string `json:"amount"`
	Currency      string `json:"currency"`
	CustomerName  string `json:"customer_name,omitempty"`
	PDF           string `json:"pdf,omitempty"`
	ContentHash   string `json:"content_hash"`
	CaseID        string `json:"case_id,omitempty"`
	OCRNumber     string `json:"ocr_number,omitempty"`
	PDFState      string `json:"pdf_state"`
	PDFError      string `json:"pdf_error,omitempty"`
}

type eventJSON struct {
	At         time.Time  `json:"at"`
	Run        int64      `json:"run,omitempty"`
	Job        string     `json:"job,omitempty"`
	RunStarted *time.Time `json:"run_started,omitempty"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	Detail     string     `json:"detail,omitempty"`
}

// showJSON is ledger show --json: the submission, its history, the later files that conflicted
// with it and the rows with its number that validation refused.
type showJSON struct {
	submissionJSON
	Events    []eventJSON    `json:"events"`
	Conflicts []conflictJSON `json:"conflicts"`
	Refused   []refusedJSON  `json:"refused_rows"`
}

type conflictJSON struct {
	At     time.Time `json:"at"`
	File   string    `json:"file"`
	Line   int       `json:"line"`
	Reason string    `json:"reason"`
}

// refusedJSON is a row validation refused: source validation, state rejected, never sent.
type refusedJSON struct {
	Source        string    `json:"source"`
	State         string    `json:"state"`
	File          string    `json:"file"`
	FileID        int64     `json:"file_id"`
	Line          int       `json:"line"`
	InvoiceNumber string    `json:"invoice_number,omitempty"`
	Column        string    `json:"column,omitempty"`
	Value         string    `json:"value,omitempty"`
	Rule          string    `json:"rule"`
	At            time.Time `json:"at"`
}

func toRefusedJSON(r ledger.RowErrorRecord) refusedJSON {
	return refusedJSON{Source: sourceValidation, State: string(ledger.StateRejected), File: r.File, FileID: int64(r.FileID),
		Line: r.Line, InvoiceNumber: r.InvoiceNumber, Column: r.Column, Value: logging.MaskIDNumbers(r.Value), Rule: r.Rule,
		At: r.At.UTC()}
}

func toSubmissionJSON(s ledger.Submission, files *fileNames) submissionJSON {
	out := submissionJSON{Source: sourceAmili, ID: int64(s.ID), Kind: string(s.Kind), Creditor: s.Creditor, State: string(s.State),
		RegistrationID: s.RegistrationID, InvoiceID: s.InvoiceID, Attempts: s.Attempts, LastError: s.LastError,
		File: files.path(s.FileID), FileID: int64(s.FileID), Line: s.Line, Created: s.Created.UTC(), Updated: s.Updated.UTC(),
		Items: []itemJSON{}}
	for _, it := range s.Items {
		out.Items = append(out.Items, itemJSON{InvoiceNumber: it.InvoiceNumber, AmountOre: int64(it.Amount),
			Amount: it.Amount.String(), Currency: it.Currency, CustomerName: it.CustomerName, PDF: it.PDF,
			ContentHash: it.ContentHash, CaseID: it.CaseID, OCRNumber: it.OCRNumber, PDFState: string(it.PDFState), PDFError: it.PDFError})
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// fileLine names a file of the ledger for a person: its path, the line, and when it was first
// seen (the same name may arrive again with other content).
func fileLine(ctx context.Context, lg *ledger.Ledger, id ledger.FileID, line int) string {
	f, err := lg.File(ctx, id)
	if err != nil {
		return fmt.Sprintf("line %d of a file the ledger does not hold", line)
	}
	return fmt.Sprintf("%s, line %d (first seen %s)", f.Path, line, f.FirstSeen.UTC().Format(time.RFC3339))
}

// fileNames names the ledger's files by their recorded paths, each looked up once.
type fileNames struct {
	ctx   context.Context
	lg    *ledger.Ledger
	paths map[ledger.FileID]string
}

func newFileNames(ctx context.Context, lg *ledger.Ledger) *fileNames {
	return &fileNames{ctx: ctx, lg: lg, paths: map[ledger.FileID]string{}}
}

// path is a file's path; "" for no file or one the ledger does not hold.
func (n *fileNames) path(id ledger.FileID) string {
	if id == 0 {
		return ""
	}
	p, ok := n.paths[id]
	if !ok {
		if f, err := n.lg.File(n.ctx, id); err == nil {
			p = f.Path
		}
		n.paths[id] = p
	}
	return p
}

// at is a file's path and line for a table, "-" when there is no file.
func (n *fileNames) at(id ledger.FileID, line int) string {
	p := n.path(id)
	if p == "" {
		return "-"
	}
	return fmt.Sprintf("%s:%d", p, line)
}
