package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A file the ledger recorded after the period's end, by a clock that was ahead and then set
// back, while its rows were claimed inside the period: every line of the report names it by
// its path, never by the ledger's row id.
func TestReportNamesFilesRecordedAfterThePeriod(t *testing.T) {
	f := newFixture(t)
	f.clock.Advance(24 * time.Hour) // the host's clock a day ahead
	ahead := f.file("in/ahead.csv")
	f.clock.Advance(-24 * time.Hour) // set right again, inside the period
	f.register(ahead, 2, item{creditor: f.sb.Creditor, number: "A-1", customer: "Anna", amount: 10_000}, pdfUpload)
	f.reject(ahead, 3, item{creditor: f.sb.Creditor, number: "A-2", customer: "Bo", amount: 20_000}, "422 amount: too large")
	f.claim(ahead, 4, item{creditor: f.sb.Creditor, number: "A-3", customer: "Cecilia", amount: 30_000})

	r := f.build(f.period(""))
	var lines []string
	for _, g := range append(r.Registrations, r.Pending...) {
		lines = append(lines, g.InvoiceNumber+" "+g.File)
	}
	for _, p := range r.Problems {
		lines = append(lines, p.InvoiceNumber+" "+p.File)
	}
	want := []string{"A-1 in/ahead.csv", "A-3 in/ahead.csv", "A-2 in/ahead.csv"}
	if strings.Join(lines, "; ") != strings.Join(want, "; ") {
		t.Errorf("report lines name their file as %q, want %q", lines, want)
	}
	var html, csv bytes.Buffer
	if err := r.WriteHTML(&html, ChartFile); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(&csv, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"report.html": html.String(), "report.csv": csv.String()} {
		if strings.Contains(out, "file #") || !strings.Contains(out, "in/ahead.csv") {
			t.Errorf("%s does not name the file by its path:\n%s", name, out)
		}
	}
}
