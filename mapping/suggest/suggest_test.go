package suggest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/mapping"
)

// layoutCase is an export as an ERP writes it and the decisions its proposal must make.
type layoutCase struct {
	file         string
	kind         string // "" is invoice
	encoding     string
	delimiter    rune
	decimalComma bool
	dateFormats  []string
	columns      map[string]string // field → header
	byContent    []string          // fields placed by their values
	ignored      []string
	amounts      map[string]string // invoice number → amount including VAT
}

var layoutCases = map[string]layoutCase{
	"erp-sample": {
		file: "../../samples/erp-invoices.csv", encoding: "windows-1252", delimiter: ';', decimalComma: true,
		dateFormats: []string{"YYYYMMDD"},
		columns: map[string]string{"invoice_number": "Fakturanr", "invoice_due_date": "Förfallodatum", "customer.id_number": "Person-/orgnr",
			"customer.type": "Kundtyp", "matrix.unit_price": "À-pris", "matrix.total_price_excluding_vat": "Belopp", "matrix.unit_vat_percent": "Moms",
			"matrix.number_of_units": "Antal", "our_reference": "Vår referens"},
		ignored: []string{"Säljare", "Projekt"},
	},
	"fortnox": {
		file: "testdata/fortnox-invoices.csv", encoding: "windows-1252", delimiter: ';', decimalComma: true,
		dateFormats: []string{"YYYY-MM-DD"},
		columns: map[string]string{"invoice_number": "Fakturanummer", "customer.name": "Namn", "customer.id_number": "Organisationsnummer",
			"currency": "Valuta", "reference_number": "OCR", "matrix.unit_price": "À-pris", "matrix.total_price_excluding_vat": "Summa",
			"matrix.unit_vat_percent": "Moms %", "matrix.article_description": "Benämning"},
		ignored: []string{"Enhet"},
		amounts: map[string]string{"1001": "9637.50", "1002": "1984.38", "1003": "2750.00"},
	},
	"visma": {
		file: "testdata/visma-invoices.csv", encoding: "utf-8", delimiter: ',', decimalComma: true,
		dateFormats: []string{"YYYY-MM-DD"},
		columns: map[string]string{"invoice_number": "Fakturanr", "invoice_due_date": "Förfallodag", "invoice_delivery_date": "Leveransdatum",
			"customer.id_number": "Org.nr/Pers.nr", "customer.type": "Kundtyp", "customer.mobile_number": "Mobiltelefon",
			"matrix.unit_price": "Pris/st", "matrix.total_price_excluding_vat": "Belopp exkl. moms", "matrix.unit_vat_percent": "Momssats"},
		amounts: map[string]string{"5001": "36156.25", "5002": "1543.13", "5003": "15562.50"},
	},
	"reskontra": {
		file: "testdata/reskontra-cases.csv", kind: "case", encoding: "utf-8", delimiter: ';', decimalComma: true,
		dateFormats: []string{"YYYY-MM-DD"},
		columns: map[string]string{"debts.invoice_number": "Fakturanr", "debts.invoice_date": "Fakturadatum", "debts.invoice_due_date": "Förfallodatum",
			"customer.id_number": "Personnummer", "debts.capital_to_claim": "Restbelopp", "debts.debt_description": "Beskrivning"},
		ignored: []string{""},
		amounts: map[string]string{"9001": "1250.00", "9002": "12000.50", "9003": "399.00"},
	},
	"sap": {
		file: "testdata/sap-invoices.csv", encoding: "utf-8", delimiter: ',', decimalComma: false,
		dateFormats: []string{"DD.MM.YYYY", "YYYYMMDD"},
		columns: map[string]string{"invoice_number": "BELNR", "invoice_date": "BLDAT", "invoice_due_date": "FAEDT", "customer.name": "NAME1",
			"customer.id_number": "ZZ_PARTNER_ID", "currency": "WAERS", "matrix.number_of_units": "FKIMG", "matrix.unit_price": "NETPR",
			"matrix.total_price_excluding_vat": "NETWR", "matrix.unit_vat_percent": "MWSTSATZ"},
		byContent: []string{"customer.id_number"},
		ignored:   []string{"BUKRS", "GJAHR", "VBELN"},
		amounts:   map[string]string{"1400000123": "21812.50", "1400000124": "451.56", "1400000125": "18750.00"},
	},
}

// Each export's proposal, loaded by the mapping package's own loader, reads every row of the
// file without an error, with the conventions and columns a person would have chosen.
func TestSuggestReadsRealExports(t *testing.T) {
	for name, tc := range layoutCases {
		t.Run(name, func(t *testing.T) {
			data := mustRead(t, tc.file)
			p, err := Suggest(data, filepath.Base(tc.file))
			if err != nil {
				t.Fatalf("Suggest: %v", err)
			}
			checkDecisions(t, p, tc)
			y, err := p.YAML()
			if err != nil {
				t.Fatalf("YAML: %v", err)
			}
			regs := readAll(t, y, data)
			if tc.amounts != nil {
				if len(regs) != len(tc.amounts) {
					t.Errorf("got %d registrations, want %d", len(regs), len(tc.amounts))
				}
				for inv, want := range tc.amounts {
					if got := regs[inv]; got != want {
						t.Errorf("invoice %s: got amount %q, want %q", inv, got, want)
					}
				}
			}
			res, err := Check(y, data, filepath.Base(tc.file), mapping.Options{})
			if err != nil || !res.OK() || res.Registrations != len(regs) {
				t.Errorf("Check: got %+v, %v; want %d registrations and no errors", res, err, len(regs))
			}
		})
	}
}

func checkDecisions(t *testing.T, p *Proposal, tc layoutCase) {
	t.Helper()
	if p.Encoding != tc.encoding || p.Delimiter != tc.delimiter || p.DecimalComma != tc.decimalComma {
		t.Errorf("got encoding %s, delimiter %q, decimal comma %v; want %s, %q, %v",
			p.Encoding, p.Delimiter, p.DecimalComma, tc.encoding, tc.delimiter, tc.decimalComma)
	}
	if want := map[string]string{"": "invoice"}[tc.kind] + tc.kind; p.Kind != want {
		t.Errorf("got kind %s, want %s", p.Kind, want)
	}
	if strings.Join(p.DateFormats, " ") != strings.Join(tc.dateFormats, " ") {
		t.Errorf("got date formats %q, want %q", p.DateFormats, tc.dateFormats)
	}
	got := map[string]Column{}
	var ignored []string
	for _, c := range p.Columns {
		if c.Field == "" {
			ignored = append(ignored, c.Header)
			continue
		}
		got[c.Field] = c
	}
	for f, h := range tc.columns {
		if got[f].Header != h {
			t.Errorf("%s: got column %q, want %q", f, got[f].Header, h)
		}
	}
	for _, f := range tc.byContent {
		if !got[f].ByContent || !strings.HasPrefix(got[f].Reason, "by content") {
			t.Errorf("%s: got %+v, want it placed by content", f, got[f])
		}
	}
	if strings.Join(ignored, ",") != strings.Join(tc.ignored, ",") {
		t.Errorf("got ignored %q, want %q", ignored, tc.ignored)
	}
}

// readAll reads data through the proposed mapping, failing on any row or file error, and
// returns each invoice's amount.
func readAll(t *testing.T, y, data []byte) map[string]string {
	t.Helper()
	layout, err := mapping.ParseLayout(y, "proposal.yaml")
	if err != nil {
		t.Fatalf("the proposal does not load: %v\n%s", err, y)
	}
	rd, err := mapping.NewReader(bytes.NewReader(data), "f.csv", mapping.Options{Layout: layout, Creditor: "c"})
	if err != nil {
		t.Fatalf("the proposal refuses the file: %v\n%s", err, y)
	}
	amounts := map[string]string{}
	for {
		reg, rowErrs, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return amounts
		}
		if err != nil {
			t.Fatalf("file error: %v", err)
		}
		for _, re := range rowErrs {
			t.Errorf("row error: %v\n%s", re, y)
		}
		if reg != nil {
			for _, it := range reg.Items {
				amounts[it.InvoiceNumber] = it.Amount.String()
			}
		}
	}
}

// The ERP sample's proposal sends exactly what the maintained samples/erp-mapping.yaml sends.
func TestSuggestERPSampleMatchesHandWrittenMapping(t *testing.T) {
	data := mustRead(t, "../../samples/erp-invoices.csv")
	p, err := Suggest(data, "erp-invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	y, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	proposed, err := mapping.ParseLayout(y, "proposal")
	if err != nil {
		t.Fatal(err)
	}
	written, err := mapping.LoadLayout("../../samples/erp-mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, want := payloads(t, proposed, data), payloads(t, written, data)
	if got != want || want == "" {
		t.Errorf("payloads differ:\ngot  %s\nwant %s", got, want)
	}
}

func payloads(t *testing.T, l *mapping.Layout, data []byte) string {
	t.Helper()
	rd, err := mapping.NewReader(bytes.NewReader(data), "erp-invoices.csv", mapping.Options{Layout: l, Account: "a", Creditor: "c"})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for {
		reg, _, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		if reg != nil {
			b, _ := json.Marshal(reg.Payload())
			out.Write(b)
			out.WriteByte('\n')
		}
	}
}

// The encoding is read from the bytes: UTF-8 with or without BOM, Windows-1252 for Swedish
// letters and its signs (– “ ” €), ISO-8859-1 when bytes Windows-1252 does not define occur.
func TestSuggestEncoding(t *testing.T) {
	for name, tc := range map[string]struct {
		data, want, note string
	}{
		"utf-8":        {"Kundnamn;Belopp\nÅsa;1,00\n", "utf-8", "valid UTF-8"},
		"utf-8 bom":    {"\xef\xbb\xbfKundnamn;Belopp\nÅsa;1,00\n", "utf-8", "byte-order mark"},
		"windows-1252": {"Kundnamn;Ben\xe4mning\n\xc5sa;R\xf6r \x96 20 mm\n", "windows-1252", "0x80-0x9F are Windows-1252"},
		"latin only":   {"Kundnamn;Ben\xe4mning\n\xc5sa;R\xf6r\n", "windows-1252", "ISO-8859-1 reads it the same"},
		"iso-8859-1":   {"Kundnamn;Ben\xe4mning\n\xc5sa;R\xf6r\x81\n", "iso-8859-1", "undefined in Windows-1252"},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Suggest([]byte(tc.data), name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Encoding != tc.want || !strings.Contains(p.EncodingNote, tc.note) {
				t.Errorf("got %s (%s), want %s (%s)", p.Encoding, p.EncodingNote, tc.want, tc.note)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
