package suggest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/mapping"
)

// Columns whose values do not say which field they are stay under ignore with a comment saying
// so, and the proposal still loads; the dry run then names what the file lacks.
func TestSuggestMarksWhatItCouldNotDecide(t *testing.T) {
	data := mustRead(t, "testdata/ambiguous.csv")
	p, err := Suggest(data, "ambiguous.csv")
	if err != nil {
		t.Fatal(err)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`- "Datum 1" # could not decide: holds dates ("2025-09-01", "2025-09-02")`,
		`- "Datum 3" # could not decide: holds dates`,
		`- "Extra" # could not decide: holds amounts ("12,50", "7,25")`,
		"# could not decide: no column for the required field invoice_date",
	} {
		if !strings.Contains(string(y), want) {
			t.Errorf("the proposal lacks %q:\n%s", want, y)
		}
	}
	if _, err := mapping.ParseLayout(y, "proposal"); err != nil {
		t.Fatalf("the proposal does not load: %v", err)
	}
	res, err := Check(y, data, "ambiguous.csv", mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.FileError, `missing required column(s) "customer.name", "invoice_date", "invoice_due_date"`) {
		t.Errorf("got file error %q, want the missing columns named", res.FileError)
	}
	if c := res.Comment(); !strings.HasPrefix(c, "# Dry run of this mapping: 0 rows read") || !strings.Contains(c, "# The file is refused: ") {
		t.Errorf("got comment %q", c)
	}
}

// A header name the values contradict is not trusted, day and month that cannot be told apart
// are flagged, and sample values in comments never show a full identity number.
func TestSuggestDoubtsAndMasking(t *testing.T) {
	data := []byte("Fakturanr;Fakturadatum;Förfallodatum;Kundnamn;Kontakt-id;Belopp;Moms;Totalt inkl. moms\n" +
		"1;01/02/2025;03/04/2025;Kund AB;811218-9875;100,00;25,00;125,00\n" +
		"2;05/06/2025;07/08/2025;Kund AB;811218-9875;200,00;50,00;250,00\n")
	p, err := Suggest(data, "doubts.csv")
	if err != nil {
		t.Fatal(err)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(y)
	for _, want := range []string{
		`invoice_date: "Fakturadatum" # by name; could not decide: no day above 12, so DD/MM/YYYY or month first`,
		`- "Moms" # could not decide: named like matrix.unit_vat_percent, but its values are amounts, not VAT rates`,
		`- "Kontakt-id" # unknown column ("811218-****")`,
		`date_formats: ["DD/MM/YYYY"]`,
		`- "Totalt inkl. moms" # an amount including VAT: Amili computes it from the lines`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the proposal lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "9875") {
		t.Errorf("the proposal shows an identity number in full:\n%s", s)
	}
}

// Input that is no CSV export is refused with an error that says so, never a panic.
func TestSuggestRefusesWhatIsNoExport(t *testing.T) {
	for name, tc := range map[string]struct {
		data string
		want error
		msg  string
	}{
		"empty":            {"", ErrEmpty, ""},
		"blank lines":      {"\r\n \n\t\n", ErrEmpty, ""},
		"binary":           {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ErrBinary, ""},
		"control bytes":    {"a;b\n\x01\x02;\x03\n", ErrBinary, ""},
		"no header":        {"1001;2025-09-01;1234,50\n1002;2025-09-02;99,00\n", ErrNoHeader, ""},
		"utf-16":           {"\xff\xfea\x00;\x00b\x00", nil, "UTF-16"},
		"bad bom":          {"\xef\xbb\xbfa;b\n\xff;1\n", nil, "byte-order mark"},
		"broken quoting":   {"a;b\n\"x;1\ny;2\n", nil, "read the file as CSV"},
		"one column":       {"Fakturanr\n1\n", nil, ""},
		"header only":      {"Fakturanr;Kundnamn\n", nil, ""},
		"ragged rows":      {"Fakturanr;Kundnamn;Belopp\n1\n2;x;1;2;3\n", nil, ""},
		"lone cr and html": {"<html>\r<body>\r", nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Suggest([]byte(tc.data), name)
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("got %v, want %v", err, tc.want)
			case tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)):
				t.Errorf("got %v, want an error mentioning %q", err, tc.msg)
			case err == nil:
				if _, err := p.YAML(); err != nil {
					t.Errorf("YAML: %v", err)
				}
			}
		})
	}
}

// A file in the canonical layout maps each header to itself.
func TestSuggestCanonicalHeaders(t *testing.T) {
	data := mustRead(t, "../../samples/invoices.csv")
	p, err := Suggest(data, "invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Columns {
		if c.Field != c.Header {
			t.Errorf("header %q: got field %q (%s), want itself", c.Header, c.Field, c.Reason)
		}
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Check(y, data, "invoices.csv", mapping.Options{}); err != nil || !res.OK() || res.Registrations != 4 {
		t.Errorf("Check: got %+v, %v; want 4 registrations, no errors", res, err)
	}
}

// Conventions the values leave open are marked, and the proposal still loads and reads the file.
func TestSuggestConventions(t *testing.T) {
	for name, tc := range map[string]struct {
		data string
		want []string
	}{
		"tab, whole amounts": {
			"Invoice No\tInvoice Date\tDue Date\tCustomer Name\tCorporate ID\tAmount\tVAT %\n" +
				"A-1\t2025-09-01\t2025-10-01\tAcme AB\t556036-0793\t100\t25\n",
			[]string{`delimiter: "tab"`, `decimal_separator: "." # could not decide: no value shows a decimal separator`},
		},
		"apostrophe thousands": {
			"Invoice No,Invoice Date,Due Date,Customer Name,Corporate ID,Net Amount,VAT Rate\n" +
				"A-1,2025-09-01,2025-10-01,Acme AB,556036-0793,1'250.00,25\n",
			[]string{"thousands_separators: [\" \", \"\u00a0\", \"'\"]", `decimal_separator: "." # 1 values with a decimal point`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Suggest([]byte(tc.data), "x.csv")
			if err != nil {
				t.Fatal(err)
			}
			y, err := p.YAML()
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(y), w) {
					t.Errorf("the proposal lacks %q:\n%s", w, y)
				}
			}
			if res, err := Check(y, []byte(tc.data), "x.csv", mapping.Options{}); err != nil || !res.OK() || res.Registrations != 1 {
				t.Errorf("Check: got %+v, %v; want 1 registration\n%s", res, err, y)
			}
		})
	}
}

// A large export is sniffed from its first part, cut inside a quoted cell that spans lines, and
// checked whole.
func TestSuggestLargeFile(t *testing.T) {
	long := strings.Repeat("Lång text ", 200)
	var b strings.Builder
	b.WriteString("Fakturanr;Fakturadatum;Förfallodatum;Kundnamn;Organisationsnummer;Benämning;Belopp;Moms\n")
	for i := 0; b.Len() < maxSampleBytes+1<<20; i++ {
		fmt.Fprintf(&b, "%d;2025-09-01;2025-10-01;Acme AB;556036-0793;\"%s\n%s\";1 250,00;25\n", 100000+i, long, long)
	}
	data := []byte(b.String())
	p, err := Suggest(data, "large.csv")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows == 0 || p.Rows >= maxSampleRows || !p.DecimalComma {
		t.Errorf("got %d rows looked at, decimal comma %v; want the rows of the first %d bytes, true", p.Rows, p.DecimalComma, maxSampleBytes)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(y, data, "large.csv", mapping.Options{})
	if err != nil || !res.OK() || res.Rows <= p.Rows {
		t.Errorf("Check: got %+v, %v; want every row of the file read without errors", res, err)
	}
}
