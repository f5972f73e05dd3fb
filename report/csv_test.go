package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

func TestNeutralise(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://x","y")`, `'=HYPERLINK("http://x","y")`},
		{"+46701234567", "'+46701234567"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"Åsa Öberg", "Åsa Öberg"},
		{"a=b", "a=b"},
		{"", ""},
	} {
		if got := Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// readCSV parses what WriteCSV wrote (after the byte order mark) into records keyed by header.
func readCSV(t *testing.T, data []byte, sep rune) []map[string]string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 byte order mark")
	}
	cr := csv.NewReader(bytes.NewReader(data[3:]))
	cr.Comma = sep
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = row[i]
		}
		out = append(out, m)
	}
	return out
}

func TestCSVFormulaInjection(t *testing.T) {
	names := []string{`=HYPERLINK("http://x","y")`, "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1"}
	r := &Report{Location: time.UTC, Period: Period{Since: time.Unix(0, 0), Until: time.Unix(86400, 0)}}
	for i, n := range names {
		r.Registrations = append(r.Registrations, Registration{InvoiceNumber: "=" + n, CustomerName: n,
			Amount: domain.Amount(-1250 - i), Currency: "SEK", State: "registered", Line: 2 + i})
	}
	r.Problems = []Problem{{Kind: ProblemRowError, File: "-x.csv", Line: 3, Column: "name", Value: "=cmd|' /C calc'!A0", Rule: "bad"}}
	r.Totals = []Total{{Creditor: "c", Currency: "SEK", File: -500, Registered: -500}}

	for _, opts := range []CSVOptions{{}, {DecimalComma: true}} {
		var b bytes.Buffer
		if err := r.WriteCSV(&b, opts); err != nil {
			t.Fatal(err)
		}
		sep := ','
		if opts.DecimalComma {
			sep = ';'
		}
		recs := readCSV(t, b.Bytes(), sep)
		for i, n := range names {
			rec := recs[i]
			// With CRLF line ends, encoding/csv drops a lone CR inside a field; the prefix stays.
			if rec["customer_name"] != strings.ReplaceAll("'"+n, "\r", "") {
				t.Errorf("customer %q written as %q, want it prefixed with '", n, rec["customer_name"])
			}
			if rec["invoice_number"] != strings.ReplaceAll("'="+n, "\r", "") {
				t.Errorf("invoice number written as %q", rec["invoice_number"])
			}
			want := domain.Amount(-1250 - i).String()
			if opts.DecimalComma {
				want = want[:len(want)-3] + "," + want[len(want)-2:]
			}
			if rec["amount"] != want {
				t.Errorf("negative amount written as %q, want the number %q", rec["amount"], want)
			}
		}
		p := recs[len(names)]
		if p["value"] != "'=cmd|' /C calc'!A0" || p["file"] != "'-x.csv" {
			t.Errorf("problem row not neutralised: %q %q", p["value"], p["file"])
		}
		var file string
		for _, rec := range recs {
			if rec["record"] == "total" && rec["state"] == "file_total" {
				file = rec["amount"]
			}
		}
		if want := map[bool]string{false: "-5.00", true: "-5,00"}[opts.DecimalComma]; file != want {
			t.Errorf("negative total written as %q, want %q", file, want)
		}
	}
}
