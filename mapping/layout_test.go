package mapping

import (
	"strings"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

func TestParseLayoutErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"UnknownKey", "kind: invoice\ndelimeter: \";\"\n", `m.yaml:2: unknown key "delimeter"`},
		{"UnknownField", "columns:\n  invoice_nr: Fakturanr\n", `m.yaml:2: columns: unknown field "invoice_nr"`},
		{"UnknownConstantField", "constants:\n  valuta: SEK\n", `m.yaml:2: constants: unknown field "valuta"`},
		{"BadKind", "kind: bill\n", `m.yaml:1: key "kind": must be invoice, case, payment, crediting or cancellation, not "bill"`},
		{"BadDelimiter", "delimiter: \"|\"\n", `m.yaml:1: key "delimiter"`},
		{"BadDecimal", "decimal_separator: x\n", `m.yaml:1: key "decimal_separator"`},
		{"BadEncoding", "encoding: utf-16\n", `encoding "utf-16" is not one of`},
		{"BadDateFormat", "date_formats: [YYYY-MM]\n", `date format "YYYY-MM" does not describe a full date`},
		{"BadCustomerType", "customer_types: {P: human}\n", `must map to person, company or foreign`},
		{"BadTemplate", "pdf_template: \"{nope}.pdf\"\n", `unknown field {nope}`},
		{"BothBoolean", "true_values: [ja]\nfalse_values: [ja]\n", `"ja" is both a true and a false value`},
		{"SameHeaderTwice", "columns:\n  invoice_number: Nr\n  customer.customer_number: Nr\n", `header "Nr" is given for both`},
		{"KeyTwice", "kind: invoice\nkind: case\n", `m.yaml:2: key "kind": given twice`},
		{"NotAMapping", "- a\n- b\n", `must be a YAML mapping`},
		{"BadYAML", "columns: [\n", `m.yaml: yaml:`},
		{"ThousandsIsDecimal", "decimal_separator: \",\"\nthousands_separators: [\",\"]\n", `thousands separator ","`},
		{"WrongType", "ignore_unknown_columns: maybe\n", `m.yaml:1: key "ignore_unknown_columns"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLayout([]byte(tt.yaml), "m.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseLayout error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseLayoutValues(t *testing.T) {
	l, err := ParseLayout([]byte(`kind: case
encoding: latin1
delimiter: tab
decimal_separator: ","
date_formats: ["DD.MM.YYYY", "2006-01-02"]
true_values: [x]
false_values: [""]
columns:
  customer.name: [Kund, Kundnamn]
  debts.invoice_number: Fakturanr
constants:
  first_action: reminder
ignore: [Säljare]
ignore_unknown_columns: true
customer_types: {P: person}
pdf_template: "{debts.invoice_number}-{customer.customer_number}.pdf"
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != domain.KindCase || l.Encoding != "iso-8859-1" || l.Delimiter != '\t' || !l.DecimalComma || !l.IgnoreUnknown {
		t.Errorf("got kind %q encoding %q delimiter %q comma %v ignoreUnknown %v", l.Kind, l.Encoding, l.Delimiter, l.DecimalComma, l.IgnoreUnknown)
	}
	if got := l.DateFormats[0]; got != "02.01.2006" {
		t.Errorf("DD.MM.YYYY became %q, want 02.01.2006", got)
	}
	if l.headers["kundnamn"] != fCustName || l.headers["kund"] != fCustName || l.headers["fakturanr"] != fDebtInvoiceNumber {
		t.Error("aliases are not all mapped to their field")
	}
	if l.headers["customer.name"] != fCustName {
		t.Error("the canonical header no longer maps when aliases are given")
	}
	if !l.hasConst[fFirstAction] || l.constant[fFirstAction] != "reminder" {
		t.Error("constant first_action not kept")
	}
	if got := strings.Join(l.Thousands, "|"); got != " |\u00a0|." {
		t.Errorf("default thousands separators with decimal comma = %q", got)
	}
	if v, ok := l.parseBool("X"); !v || !ok {
		t.Error("true_values not used")
	}
}

func TestCanonicalDefaults(t *testing.T) {
	l := canonical
	if l.Encoding != "utf-8" || l.Delimiter != 0 || l.DecimalComma || l.PDFTemplate != DefaultPDFTemplate || l.IgnoreUnknown {
		t.Errorf("canonical layout defaults changed: %+v", l)
	}
	for _, v := range []string{"true", "1", "ja", "J", "yes", "Y"} {
		if b, ok := l.parseBool(v); !b || !ok {
			t.Errorf("parseBool(%q) = %v, %v; want true", v, b, ok)
		}
	}
	for _, v := range []string{"false", "0", "nej", "N", "no"} {
		if b, ok := l.parseBool(v); b || !ok {
			t.Errorf("parseBool(%q) = %v, %v; want false", v, b, ok)
		}
	}
}
