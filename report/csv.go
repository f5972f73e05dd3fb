package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// CSVOptions shape the CSV attachment for the spreadsheet that opens it.
type CSVOptions struct {
	// Separator is the field separator; default "," (";" when DecimalComma is set).
	Separator rune
	// DecimalComma writes amounts as 1234,56, as Swedish Excel expects.
	DecimalComma bool
}

// Unknown is what the report shows for a figure Amili did not send.
const Unknown = "unknown"

// csvHeader is the one table the CSV holds: every line is a record of the kind in column 1,
// so finance can filter by it in a spreadsheet and re-add every total from the lines.
var csvHeader = []string{
	"record", "creditor", "creditor_name", "file", "line", "invoice_number", "customer_name", "amount", "currency",
	"state", "at", "brought_forward", "amili_invoice_id", "amili_case_id", "ocr_number", "pdf",
	"amili_status", "amili_state", "amili_capital", "remaining_capital", "remaining_total", "closed_reason",
	"flags", "column", "value", "rule", "old_hash", "new_hash", "vat_rate", "net", "vat",
}

// cell is one CSV value: text from outside (neutralised) or a number written here.
type cell struct {
	s      string
	number bool
}

func text(s string) cell { return cell{s: s} }

// csvWriter writes the report's records under csvHeader.
type csvWriter struct {
	w     *csv.Writer
	opts  CSVOptions
	r     *Report
	views map[string]CaseView
}

func (c *csvWriter) money(a domain.Amount) cell {
	s := a.String()
	if c.opts.DecimalComma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return cell{s: s, number: true}
}

// maybe is an amount Amili may not have sent.
func (c *csvWriter) maybe(a *domain.Amount) cell {
	if a == nil {
		return text(Unknown)
	}
	return c.money(*a)
}

func num(n int) cell { return cell{s: strconv.Itoa(n), number: true} }

func line(n int) cell {
	if n == 0 {
		return text("")
	}
	return num(n)
}

func yes(b bool) cell {
	if b {
		return text("yes")
	}
	return text("no")
}

func (c *csvWriter) when(t time.Time) cell {
	if t.IsZero() {
		return text("")
	}
	return text(t.In(c.r.Location).Format(time.RFC3339))
}

func (c *csvWriter) write(cells map[string]cell) error {
	row := make([]string, len(csvHeader))
	for i, h := range csvHeader {
		v := cells[h]
		if v.number {
			row[i] = v.s
		} else {
			row[i] = Neutralise(v.s)
		}
	}
	return c.w.Write(row)
}

// WriteCSV writes the report as one table: a UTF-8 byte order mark (so Excel reads UTF-8), one
// record per file, registration, already imported and pending item, problem, VAT rate and
// total. Text that a spreadsheet would run as a formula is prefixed with "'"; the amounts and
// counts written here stay numbers.
func (r *Report) WriteCSV(w io.Writer, opts CSVOptions) error {
	if opts.Separator == 0 {
		opts.Separator = ','
		if opts.DecimalComma {
			opts.Separator = ';'
		}
	}
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := &csvWriter{w: csv.NewWriter(w), opts: opts, r: r, views: map[string]CaseView{}}
	cw.w.Comma = opts.Separator
	cw.w.UseCRLF = true
	for _, v := range r.Cases {
		cw.views[v.CaseID] = v
	}
	if err := cw.all(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func (c *csvWriter) all() error {
	if err := c.w.Write(csvHeader); err != nil {
		return err
	}
	steps := []func() error{c.files,
		func() error { return c.items("registration", c.r.Registrations) },
		func() error { return c.items("already_imported", c.r.AlreadyImported) },
		func() error { return c.items("pending", c.r.Pending) },
		c.problems, c.vat, c.totals}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) name(creditor string) cell { return text(c.r.CreditorName(creditor)) }

func (c *csvWriter) files() error {
	for _, f := range c.r.Files {
		cells := map[string]cell{"record": text("file"), "creditor": text(f.Creditor), "creditor_name": c.name(f.Creditor),
			"file": text(f.Name), "state": text(f.Outcome), "at": c.when(f.Received), "rule": text(f.Error),
			"flags": text(fmt.Sprintf("runs=%d rows=%d claimed=%d registered=%d already_imported=%d rejected=%d conflicts=%d pending=%d pdfs=%d row_errors=%d",
				f.Runs, f.Rows, f.Claimed, f.Registered, f.AlreadyImported, f.Rejected, f.Conflicts, f.Pending, f.PDFsAttached, f.RowErrors)),
			"value": text(strings.Join(f.Names, "; "))}
		if len(f.Total) == 0 {
			if err := c.write(cells); err != nil {
				return err
			}
		}
		for _, m := range f.Total {
			cells["amount"], cells["currency"] = c.money(m.Amount), text(m.Currency)
			if err := c.write(cells); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *csvWriter) items(kind string, rows []Registration) error {
	for _, g := range rows {
		cells := map[string]cell{"record": text(kind), "creditor": text(g.Creditor), "creditor_name": c.name(g.Creditor),
			"file": text(g.File), "line": line(g.Line), "invoice_number": text(g.InvoiceNumber),
			"customer_name": text(g.CustomerName), "amount": c.money(g.Amount), "currency": text(g.Currency),
			"state": text(g.State), "at": c.when(g.At), "brought_forward": yes(g.BroughtForward),
			"amili_invoice_id": text(g.InvoiceID), "amili_case_id": text(g.CaseID), "ocr_number": text(g.OCRNumber),
			"pdf": text(g.PDF)}
		if v, ok := c.views[g.CaseID]; ok && g.CaseID != "" && kind == "registration" {
			c.caseCells(cells, v)
		}
		if err := c.write(cells); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) caseCells(cells map[string]cell, v CaseView) {
	if v.Found {
		cells["amili_status"], cells["amili_state"] = text(v.Status), text(v.State)
		cells["amili_capital"] = c.maybe(v.AmiliCapital)
		cells["remaining_capital"], cells["remaining_total"] = c.maybe(v.RemainingCapital), c.maybe(v.RemainingTotal)
		cells["closed_reason"] = text(v.ClosedReason)
	}
	cells["flags"] = text(strings.Join(v.Flags, "; "))
}

func (c *csvWriter) problems() error {
	for _, p := range c.r.Problems {
		cells := map[string]cell{"record": text(p.Kind), "creditor": text(p.Creditor), "creditor_name": c.name(p.Creditor),
			"file": text(p.File), "line": line(p.Line), "invoice_number": text(p.InvoiceNumber), "column": text(p.Column),
			"value": text(p.Value), "rule": text(p.Rule), "old_hash": text(p.OldHash), "new_hash": text(p.NewHash),
			"at": c.when(p.At)}
		if p.HasAmount {
			cells["amount"], cells["currency"] = c.money(p.Amount), text(p.Currency)
			cells["brought_forward"] = yes(p.BroughtForward)
		}
		if err := c.write(cells); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) vat() error {
	for _, v := range c.r.VAT {
		cells := map[string]cell{"record": text("vat"), "creditor": text(v.Creditor), "creditor_name": c.name(v.Creditor),
			"currency": text(v.Currency), "amount": c.money(v.Gross), "vat_rate": text(v.Rate), "state": text("registered"),
			"flags": text(fmt.Sprintf("items=%d", v.Items))}
		if v.Rate == "" {
			cells["vat_rate"] = text(Unknown)
		}
		if v.NetKnown {
			cells["net"], cells["vat"] = c.money(v.Net), c.money(v.VAT)
		} else {
			cells["net"], cells["vat"] = text(Unknown), text(Unknown)
		}
		if err := c.write(cells); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) totals() error {
	for _, t := range c.r.Totals {
		for _, b := range []struct {
			name string
			a    domain.Amount
		}{{"file_total", t.File}, {"brought_forward", t.BroughtForward}, {"registered", t.Registered},
			{"already_imported", t.AlreadyImported}, {"rejected", t.Rejected}, {"conflicts", t.Conflicts},
			{"pending", t.Pending}, {"balance", t.Balance()}} {
			if err := c.write(map[string]cell{"record": text("total"), "creditor": text(t.Creditor),
				"creditor_name": c.name(t.Creditor), "state": text(b.name), "amount": c.money(b.a),
				"currency": text(t.Currency)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Neutralise makes a text cell safe from formula injection: a cell a spreadsheet would read as
// a formula (starting with =, +, -, @, tab or carriage return) gets a leading "'", which Excel
// and LibreOffice show as text. Apply it to text from outside only, never to numbers written
// by the report itself.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// periodName is the period as a folder name: 20261121T0000-20261122T0000[-creditor].
func periodName(p Period, loc *time.Location) string {
	const layout = "20060102T1504"
	s := p.Since.In(loc).Format(layout) + "-" + p.Until.In(loc).Format(layout)
	if p.Creditor != "" {
		s += "-" + p.Creditor
	}
	return s
}
