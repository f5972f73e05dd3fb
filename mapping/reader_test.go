package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

// readAll reads a whole file and returns the registrations and every row error.
func readAll(t *testing.T, path string, opts Options) ([]*domain.Registration, []domain.RowError) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f, filepath.Base(path), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var regs []*domain.Registration
	var errs []domain.RowError
	for {
		reg, e, err := r.Next()
		if err == io.EOF {
			return regs, errs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		errs = append(errs, e...)
		if reg != nil {
			regs = append(regs, reg)
		}
	}
}

// TestSamples checks that every sample file maps without a problem, with the totals the
// samples README quotes, and that each item's PDF is beside the CSV and is a PDF.
func TestSamples(t *testing.T) {
	erp, err := LoadLayout("../samples/erp-mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file      string
		layout    *Layout
		kind      domain.Kind
		regs      int
		items     int
		totalOere domain.Amount
	}{
		{"invoices.csv", nil, domain.KindInvoice, 4, 4, 2017411 + 149625 + 170613 + 3000000},
		{"cases.csv", nil, domain.KindCase, 3, 4, 200000 + 119700 + 119700 + 136490},
		{"erp-invoices.csv", erp, domain.KindInvoice, 2, 2, 1847188 + 236250},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			regs, errs := readAll(t, filepath.Join("../samples", tt.file), Options{Layout: tt.layout, Account: "a", Creditor: "c"})
			if len(errs) != 0 {
				t.Fatalf("sample has problems: %v", errs)
			}
			var items int
			var total domain.Amount
			for _, reg := range regs {
				if reg.Kind != tt.kind {
					t.Errorf("kind %q, want %q", reg.Kind, tt.kind)
				}
				for _, it := range reg.Items {
					items++
					total += it.Amount
					pdf, err := os.ReadFile(filepath.Join("../samples", it.PDF))
					if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) || !bytes.Contains(pdf, []byte("%%EOF")) {
						t.Errorf("item %s: PDF %q missing or not a PDF (%v)", it.InvoiceNumber, it.PDF, err)
					}
					if len(it.ContentHash) != 64 {
						t.Errorf("item %s: content hash %q is not hex SHA-256", it.InvoiceNumber, it.ContentHash)
					}
				}
			}
			if len(regs) != tt.regs || items != tt.items || total != tt.totalOere {
				t.Errorf("got %d registrations, %d items, total %v; want %d, %d, %v", len(regs), items, total, tt.regs, tt.items, tt.totalOere)
			}
		})
	}
}

// TestRegistrationsStayIntact checks that what Next returned is never changed by later reads:
// the Reader reuses its scratch memory, never the registrations or errors it handed out.
func TestRegistrationsStayIntact(t *testing.T) {
	for _, file := range []string{"testdata/invoice-multiline-grouping/input.csv", "testdata/case-grouping/input.csv",
		"testdata/lines-disagree/input.csv", "testdata/bare-quote-row/input.csv", "testdata/amounts-invalid/input.csv",
		"testdata/case-validation/input.csv", "../samples/invoices.csv"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(f, file, Options{Account: "a", Creditor: "c"})
		if err != nil {
			t.Fatal(err)
		}
		type seen struct {
			reg  *domain.Registration
			errs []domain.RowError
			json string
		}
		var all []seen
		for {
			reg, errs, err := r.Next()
			if err != nil {
				break
			}
			b, _ := json.Marshal(struct {
				R *domain.Registration
				E []domain.RowError
			}{reg, errs})
			all = append(all, seen{reg, errs, string(b)})
		}
		f.Close()
		for i, s := range all {
			b, _ := json.Marshal(struct {
				R *domain.Registration
				E []domain.RowError
			}{s.reg, s.errs})
			if string(b) != s.json {
				t.Errorf("%s: result %d changed after later reads:\nthen %s\nnow  %s", file, i, s.json, b)
			}
		}
	}
}

func TestReaderKindAndLine(t *testing.T) {
	in := "invoice_number;invoice_date;invoice_due_date;currency;customer.name;customer.id_number;matrix.total_price_excluding_vat;matrix.unit_vat_percent\n" +
		"A1;2025-09-01;2025-10-01;SEK;ACME AB;556026-9986;100.00;25\n" +
		"A2;2025-09-01;2025-10-01;SEK;ACME AB;556026-9986;100.00;25\n"
	r, err := NewReader(strings.NewReader(in), "x.csv", Options{Creditor: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind() != domain.KindInvoice {
		t.Errorf("Kind() = %q, want invoice", r.Kind())
	}
	reg, _, err := r.Next()
	if err != nil || reg == nil || reg.Line != 2 {
		t.Fatalf("first Next = %v, %v", reg, err)
	}
	// The reader reads one row ahead to know that A1 is complete.
	if r.Line() != 3 {
		t.Errorf("Line() = %d after the first invoice, want 3", r.Line())
	}
	reg, _, err = r.Next()
	if err != nil || reg.Invoice.InvoiceNumber != "A2" || reg.Line != 3 {
		t.Fatalf("second Next = %+v, %v", reg, err)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("third Next error = %v, want io.EOF", err)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after the end = %v, want io.EOF again", err)
	}
}

func TestFileErrorStopsTheFile(t *testing.T) {
	in := "invoice_number,invoice_date,invoice_due_date,currency,customer.name,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n" +
		"A1,2025-09-01,2025-10-01,SEK,Björk AB,100.00,25\n" +
		"A2,2025-09-01,2025-10-01,SEK,Bj\xf6rk AB,100.00,25\n" +
		"A3,2025-09-01,2025-10-01,SEK,ACME AB,100.00,25\n"
	r, err := NewReader(strings.NewReader(in), "x.csv", Options{Creditor: "c"})
	if err != nil {
		t.Fatal(err)
	}
	var fe *FileError
	for i := 0; i < 3; i++ {
		_, _, err = r.Next()
		if errors.As(err, &fe) {
			break
		}
	}
	if fe == nil || fe.Line != 3 || fe.Column != "customer.name" {
		t.Fatalf("got %v, want a FileError at line 3, column customer.name", err)
	}
	if _, _, err2 := r.Next(); !errors.As(err2, &fe) {
		t.Fatalf("Next after a FileError = %v, want the FileError again", err2)
	}
}

func TestIdentityNumbersNeverInErrors(t *testing.T) {
	in := "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n" +
		"A1,2025-09-01,2025-10-01,SEK,Tolvan,19121212-1213,100.00,25\n" +
		"A1,2025-09-01,2025-10-01,SEK,Tolvan,19811218-9876,100.00,25\n"
	for _, policy := range []IDPolicy{IDStrict, IDWarn} {
		r, err := NewReader(strings.NewReader(in), "x.csv", Options{Creditor: "c", IDNumbers: policy})
		if err != nil {
			t.Fatal(err)
		}
		_, errs, err := r.Next()
		if err != nil || len(errs) == 0 {
			t.Fatalf("%s: want errors, got %v %v", policy, errs, err)
		}
		for _, e := range errs {
			for _, full := range []string{"1212-1213", "12121213", "1218-9876", "12189876"} {
				if strings.Contains(e.Error(), full) {
					t.Errorf("%s: error %q carries a full identity number", policy, e.Error())
				}
			}
		}
	}
}

// TestRowsCountsRecordsNotLines: a quoted field spanning lines is one row; blank rows are not rows.
func TestRowsCountsRecordsNotLines(t *testing.T) {
	in := "invoice_number,invoice_date,invoice_due_date,currency,invoice_body_text,customer.name,customer.is_company,customer.id_number,matrix.article_description,matrix.unit_price,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n" +
		"A-1,2025-10-01,2025-10-31,SEK,\"two\nlines\",ACME AB,true,556026-9986,Work,100.00,100.00,25\n" +
		"\n" +
		"A-2,2025-10-01,2025-10-31,SEK,one line,ACME AB,true,556026-9986,Work,100.00,100.00,25\n"
	r, err := NewReader(strings.NewReader(in), "rows.csv", Options{Account: "a", Creditor: "c"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, want := r.Rows(), 2; got != want {
		t.Errorf("Rows() = %d, want %d (physical lines %d)", got, want, r.Line())
	}
}

// A case whose rows follow an unreadable line is refused, naming its debt: the group's key,
// which holds the customer's identity number, never reaches a row error.
func TestUnreadableRowBeforeACaseKeepsTheIDNumberOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cases.csv")
	data := "first_action,currency,customer.name,customer.id_number,debts.invoice_number,debts.debt_description,debts.invoice_date,debts.capital_to_claim,debts.invoice_due_days_after_invoice_date\n" +
		"reminder,SEK,Broken \"quote,19121212-1212,D0,Services,2025-07-07,10.00,30\n" +
		"reminder,SEK,Tolvan Tolvansson,19121212-1212,D1,Services,2025-07-07,2000.00,30\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs := readAll(t, path, Options{Account: "a", Creditor: "c"})
	if len(errs) == 0 {
		t.Fatal("no row error for the unreadable line and the case after it")
	}
	named := false
	for _, e := range errs {
		if strings.Contains(e.Error(), "1212-1212") || strings.Contains(e.InvoiceNumber, "121212") {
			t.Errorf("a row error holds the identity number: %+v", e)
		}
		named = named || e.InvoiceNumber == "D1"
	}
	if !named {
		t.Errorf("no row error names debt D1: %+v", errs)
	}
}

// TestRowsDoNotCarryOverBetweenFiles reads a file with an e-mail column and then one without,
// each longer than the batches in flight, so that the second file's rows are made from the
// first's: none of them may keep an e-mail (or any other cell) of the first file.
func TestRowsDoNotCarryOverBetweenFiles(t *testing.T) {
	const n = 3 * batchesInFlight * batchRows
	file := func(email bool) string {
		var b strings.Builder
		b.WriteString("invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.article_description,matrix.number_of_units,matrix.unit_price,matrix.unit_vat_percent")
		if email {
			b.WriteString(",customer.email")
		}
		b.WriteString("\n")
		for i := range n {
			fmt.Fprintf(&b, "INV-%d,2025-09-01,2025-10-01,SEK,Tolvan Tolvansson,19121212-1212,Work,1,100.00,25%%", i)
			if email {
				b.WriteString(",tolvan@example.se")
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	read := func(src string) []*domain.Registration {
		r, err := NewReader(strings.NewReader(src), "f.csv", Options{Account: "a", Creditor: "c"})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var regs []*domain.Registration
		for {
			reg, errs, err := r.Next()
			if err == io.EOF {
				return regs
			}
			if err != nil || len(errs) > 0 {
				t.Fatalf("Next: %v %v", err, errs)
			}
			regs = append(regs, reg)
		}
	}
	if regs := read(file(true)); len(regs) != n || regs[n-1].Invoice.Customer.Email != "tolvan@example.se" {
		t.Fatalf("first file: %d registrations", len(regs))
	}
	regs := read(file(false))
	if len(regs) != n {
		t.Fatalf("second file: %d registrations, want %d", len(regs), n)
	}
	for _, reg := range regs {
		if e := reg.Invoice.Customer.Email; e != "" {
			t.Fatalf("%s has e-mail %q, which only the first file held", reg.Invoice.InvoiceNumber, e)
		}
	}
}
