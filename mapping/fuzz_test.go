package mapping

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

var fuzzLayouts = []*Layout{
	canonical,
	mustCompile(&Layout{Name: "comma", DecimalComma: true, Delimiter: ';', Encoding: "windows-1252"}),
	mustCompile(&Layout{Name: "case", Kind: domain.KindCase, Encoding: "iso-8859-1", IgnoreUnknown: true}),
}

// FuzzReader feeds arbitrary bytes to the Reader: it must never panic, must always make
// progress to io.EOF or a *FileError, and every RowError must carry a line.
func FuzzReader(f *testing.F) {
	f.Add([]byte("invoice_number,invoice_date,invoice_due_date,currency,customer.name,matrix.total_price_excluding_vat,matrix.unit_vat_percent\nA1,2025-09-01,2025-10-01,SEK,ACME,100.00,25\n"), byte(0))
	f.Add([]byte("invoice_number,case,amount,currency,bank_transaction_date,creditor_payment_reference\nA1,,10.00,SEK,2025-10-03,P-1\nA1,,10.00,SEK,2025-10-03,P-1\n,x,1,SEK,2025-10-03,P-2\n"), byte(0))
	f.Add([]byte("invoice_number;amount;currency;creditor_reference;credit_invoice\nA1;1 000,50;SEK;;KF-1\nA2;2;SEK;CR;\n"), byte(1))
	f.Add([]byte("invoice_number,case\nA1,\n,c1\nA1,\n"), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, which byte) {
		opts := Options{Layout: fuzzLayouts[int(which)%len(fuzzLayouts)], Creditor: "c", Account: "a"}
		if which&0x80 != 0 {
			opts.IDNumbers = IDWarn
		}
		r, err := NewReader(bytes.NewReader(data), "fuzz.csv", opts)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader error %T %v is not a *FileError", err, err)
			}
			return
		}
		if r.Kind().IsEvent() {
			fuzzEvents(t, r, len(data))
			return
		}
		// Each call consumes at least one row, and a file has at most one row per byte.
		for i := 0; i <= len(data)+2; i++ {
			reg, errs, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FileError
				if !errors.As(err, &fe) {
					t.Fatalf("Next error %T %v is not a *FileError", err, err)
				}
				return
			}
			if reg == nil && len(errs) == 0 {
				t.Fatal("Next returned neither a registration nor errors")
			}
			for _, e := range errs {
				if e.Line <= 0 {
					t.Fatalf("RowError without a line: %+v", e)
				}
				if !e.Warning && reg != nil {
					t.Fatalf("registration returned with a rejecting error %v", e)
				}
			}
			if reg != nil {
				if len(reg.Items) == 0 || reg.Line <= 0 {
					t.Fatalf("registration without items or line: %+v", reg)
				}
				checkHashes(t, reg)
				for _, it := range reg.Items {
					if it.Amount <= 0 || len(it.ContentHash) != 64 {
						t.Fatalf("item %+v: amount must be positive and the hash hex SHA-256", it)
					}
				}
			}
		}
		t.Fatal("Reader did not reach the end of the input")
	})
}

// fuzzEvents reads an event file to its end as FuzzReader does a registration file: every
// event has a line, a key and the hash of its payload, moves a positive amount when it moves
// money, and the same key comes back only for another creditor.
func fuzzEvents(t *testing.T, r *Reader, size int) {
	keys := map[string]bool{}
	for i := 0; i <= size+2; i++ {
		ev, errs, err := r.NextEvent()
		if err == io.EOF {
			return
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NextEvent error %T %v is not a *FileError", err, err)
			}
			return
		}
		if ev == nil && len(errs) == 0 {
			t.Fatal("NextEvent returned neither an event nor errors")
		}
		for _, e := range errs {
			if e.Line <= 0 {
				t.Fatalf("RowError without a line: %+v", e)
			}
			if !e.Warning && ev != nil {
				t.Fatalf("event returned with a rejecting error %v", e)
			}
		}
		if ev == nil {
			continue
		}
		if ev.Line <= 0 || ev.Key == "" || len(ev.ContentHash) != 64 {
			t.Fatalf("event without line, key or hash: %+v", ev)
		}
		checkEventHash(t, ev)
		if a, _ := ev.Amount(); ev.Kind != domain.KindCancellation && a <= 0 {
			t.Fatalf("event %q moves %s, want a positive amount", ev.Key, a)
		}
		if k := ev.Creditor() + "\x00" + ev.Key; keys[k] {
			t.Fatalf("event key %q returned twice", ev.Key)
		} else {
			keys[k] = true
		}
	}
	t.Fatal("Reader did not reach the end of the input")
}

// FuzzLayout feeds arbitrary YAML to ParseLayout: it must never panic, and a layout it accepts
// must be usable by a Reader.
func FuzzLayout(f *testing.F) {
	f.Add([]byte("kind: invoice\ndelimiter: \";\"\ndecimal_separator: \",\"\ncolumns:\n  invoice_number: [Nr, Fakturanr]\nconstants:\n  currency: SEK\n"))
	f.Add([]byte("date_formats: [DD.MM.YYYY]\ncustomer_types: {P: person}\npdf_template: \"{invoice_number}.pdf\"\n"))
	f.Add([]byte("ignore: [a, b]\nignore_unknown_columns: true\ntrue_values: [x]\nfalse_values: [o]\nencoding: cp1252\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLayout(data, "fuzz.yaml")
		if err != nil {
			return
		}
		in := "Nr;Fakturanr;invoice_date;currency\n1;2;2025-01-01;SEK\n"
		r, err := NewReader(bytes.NewReader([]byte(in)), "x.csv", Options{Layout: l, Creditor: "c"})
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader error %T %v is not a *FileError", err, err)
			}
			return
		}
		for i := 0; i < 10; i++ {
			if _, _, err := r.Next(); err != nil {
				return
			}
		}
	})
}
