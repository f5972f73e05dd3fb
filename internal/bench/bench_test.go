package bench

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/mapping"
)

// TestWorkloadIsValid reads generated files with the real mapping: every row must be valid,
// grouped as the scenario expects, so that a scenario measures imports, not rejections.
func TestWorkloadIsValid(t *testing.T) {
	for _, tc := range []struct {
		name     string
		w        Workload
		wantRegs int
		wantPDF  bool
	}{
		{"invoices", Workload{Kind: domain.KindInvoice, Items: 50, PDFSize: 1000}, 50, true},
		{"invoices without PDFs plus extra", Workload{Kind: domain.KindInvoice, Items: 50, ExtraItems: 1}, 51, false},
		{"cases of three debts", Workload{Kind: domain.KindCase, Items: 50, DebtsPerCase: 3, PDFSize: 1000}, 17, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "w.csv")
			if _, err := WriteCSV(path, tc.w); err != nil {
				t.Fatal(err)
			}
			if err := WritePDFs(dir, tc.w); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := mapping.NewReader(f, "w.csv", mapping.Options{Kind: tc.w.Kind, Account: "000000000000000000000001", Creditor: "000000000000000000000002"})
			if err != nil {
				t.Fatal(err)
			}
			regs, items := 0, 0
			for {
				reg, errs, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil || reg == nil {
					t.Fatalf("row problem: %v %v", err, errs)
				}
				regs++
				for _, it := range reg.Items {
					items++
					if tc.wantPDF {
						b, err := os.ReadFile(filepath.Join(dir, it.PDF))
						if err != nil || int64(len(b)) != tc.w.PDFSize || string(b[:5]) != "%PDF-" {
							t.Fatalf("PDF %q: %v, %d bytes", it.PDF, err, len(b))
						}
					} else if _, err := os.Stat(filepath.Join(dir, it.PDF)); err == nil {
						t.Fatalf("PDF %q written, want none", it.PDF)
					}
				}
			}
			if regs != tc.wantRegs || items != tc.w.Items+tc.w.ExtraItems {
				t.Errorf("got %d registrations of %d items, want %d of %d", regs, items, tc.wantRegs, tc.w.Items+tc.w.ExtraItems)
			}
		})
	}
}

// TestCheck judges results against the targets.
func TestCheck(t *testing.T) {
	find := func(name string) Scenario {
		sc, ok := Find(name)
		if !ok {
			t.Fatalf("no scenario %q", name)
		}
		return sc
	}
	rl, rerun, dry := find("ratelimited"), find("rerun"), find("dryrun-1m")
	rerun.Changed = true
	for _, tc := range []struct {
		name string
		sc   Scenario
		res  Result
		pass bool
	}{
		{"rate ok", rl, Result{CallsPerInvoice: 2, ExpectedCallsPerInvoice: 2, Efficiency: 0.97}, true},
		{"rate slow", rl, Result{CallsPerInvoice: 2, ExpectedCallsPerInvoice: 2, Efficiency: 0.94}, false},
		{"rate 429", rl, Result{CallsPerInvoice: 2, ExpectedCallsPerInvoice: 2, Efficiency: 0.99, HTTP429: 1}, false},
		{"extra lookup", rl, Result{CallsPerInvoice: 2.01, ExpectedCallsPerInvoice: 2, Efficiency: 0.99}, false},
		{"rerun ok", rerun, Result{Calls: map[string]int{"POST /invoice--registrations": 1}, RowsPerSec: 150_000}, true},
		{"rerun resent", rerun, Result{Calls: map[string]int{"POST /invoice--registrations": 2}, RowsPerSec: 150_000}, false},
		{"rerun slow", rerun, Result{Calls: map[string]int{"POST /invoice--registrations": 1}, RowsPerSec: 60_000}, false},
		{"dry run fat", dry, Result{PeakRSSMB: 65}, false},
		{"dry run lean", dry, Result{PeakRSSMB: 40}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.res.Check(tc.sc)
			if tc.res.Pass != tc.pass {
				t.Errorf("pass = %v (%s), want %v", tc.res.Pass, tc.res.Why, tc.pass)
			}
		})
	}
}

// BenchmarkRerun imports a 10,000-row file, then measures importing it again as the same bytes
// and as a changed file (the same rows plus one invoice): rows per second of each rerun.
func BenchmarkRerun(b *testing.B) {
	sc, _ := Find("rerun")
	sc.Items = 10_000
	for range b.N {
		res, err := Run(b.Context(), sc, Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			name := strings.TrimPrefix(r.Scenario, "rerun-")
			b.ReportMetric(r.RowsPerSec, name+"-rows/s")
			if r.CPUS > 0 {
				b.ReportMetric(float64(r.Rows)/r.CPUS, name+"-rows/cpu-s")
			}
		}
	}
}
