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

// csvHeader is the one table the CSV holds: every line is a record of the kind in column 1,
// so finance can filter by it in a spreadsheet.
var csvHeader = []string{
	"record", "creditor", "file", "line", "invoice_number", "customer_name", "amount", "currency",
	"state", "amili_invoice_id", "amili_case_id", "ocr_number", "pdf",
	"amili_status", "amili_state", "amili_capital", "remaining_capital", "remaining_total", "closed_reason",
	"flags", "column", "value", "rule", "old_hash", "new_hash",
}

// cell is one CSV value: text from outside (neutralised) or a number written here.
type cell struct {
	s      string
	number bool
}

func text(s string) cell { return cell{s: s} }

// WriteCSV writes the report as one table: a UTF-8 byte order mark (so Excel reads UTF-8), one
// record per file, registration, problem, Amili case and total, and the balance lines. Text
// that a spreadsheet would run as a formula is prefixed with "'"; the amounts and counts
// written here stay numbers.
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
	cw := csv.NewWriter(w)
	cw.Comma = opts.Separator
	cw.UseCRLF = true
	money := func(a domain.Amount) cell {
		s := a.String()
		if opts.DecimalComma {
			s = strings.Replace(s, ".", ",", 1)
		}
		return cell{s: s, number: true}
	}
	num := func(n int) cell { return cell{s: strconv.Itoa(n), number: true} }
	line := func(n int) cell {
		if n == 0 {
			return text("")
		}
		return num(n)
	}
	write := func(cells map[string]cell) error {
		row := make([]string, len(csvHeader))
		for i, h := range csvHeader {
			c := cells[h]
			if c.number {
				row[i] = c.s
			} else {
				row[i] = Neutralise(c.s)
			}
		}
		return cw.Write(row)
	}
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	var err error
	for _, f := range r.Files {
		err = write(map[string]cell{"record": text("file"), "creditor": text(f.Creditor), "file": text(f.Name), "state": text(f.Outcome), "rule": text(f.Error),
			"flags": text(fmt.Sprintf("received=%s rows=%d registered=%d already_imported=%d rejected=%d conflicts=%d pdfs=%d",
				f.Received.Format(time.RFC3339), f.Rows, f.Registered, f.AlreadyImported, f.Rejected, f.Conflicts, f.PDFsAttached))})
		if err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	views := map[string]CaseView{}
	for _, c := range r.Cases {
		views[c.CaseID] = c
	}
	regRows := func(kind string, rows []Registration) error {
		for _, g := range rows {
			cells := map[string]cell{"record": text(kind), "creditor": text(g.Creditor), "file": text(g.File),
				"line": line(g.Line), "invoice_number": text(g.InvoiceNumber), "customer_name": text(g.CustomerName),
				"amount": money(g.Amount), "currency": text(g.Currency), "state": text(g.State),
				"amili_invoice_id": text(g.InvoiceID), "amili_case_id": text(g.CaseID), "ocr_number": text(g.OCRNumber),
				"pdf": text(g.PDF)}
			if v, ok := views[g.CaseID]; ok && g.CaseID != "" {
				if v.Found {
					cells["amili_status"], cells["amili_state"] = text(v.Status), text(v.State)
					cells["amili_capital"] = money(v.AmiliCapital)
					cells["remaining_capital"], cells["remaining_total"] = money(v.RemainingCapital), money(v.RemainingTotal)
					cells["closed_reason"] = text(v.ClosedReason)
				}
				cells["flags"] = text(strings.Join(v.Flags, "; "))
			}
			if err := write(cells); err != nil {
				return err
			}
		}
		return nil
	}
	if err := regRows("registration", r.Registrations); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if err := regRows("carried_over", r.CarriedOver); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, p := range r.Problems {
		cells := map[string]cell{"record": text(p.Kind), "creditor": text(p.Creditor), "file": text(p.File),
			"line": line(p.Line), "invoice_number": text(p.InvoiceNumber), "column": text(p.Column),
			"value": text(p.Value), "rule": text(p.Rule), "old_hash": text(p.OldHash), "new_hash": text(p.NewHash)}
		if p.HasAmount {
			cells["amount"], cells["currency"] = money(p.Amount), text(p.Currency)
		}
		if err := write(cells); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	for _, t := range r.Totals {
		for _, b := range []struct {
			name string
			a    domain.Amount
		}{{"file_total", t.File}, {"registered", t.Registered}, {"already_imported", t.AlreadyImported},
			{"rejected", t.Rejected}, {"conflicts", t.Conflicts}, {"pending", t.Pending}, {"balance", t.Balance()}} {
			if err := write(map[string]cell{"record": text("total"), "creditor": text(t.Creditor), "state": text(b.name),
				"amount": money(b.a), "currency": text(t.Currency)}); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
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
