package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// quotingStore is a Store whose stored texts quote a whole personnummer, as a ledger written
// before texts were masked at the ledger's write may.
type quotingStore struct {
	Store
	quote string
}

func (q quotingStore) Transitions(ctx context.Context, until time.Time) ([]ledger.Transition, error) {
	ts, err := q.Store.Transitions(ctx, until)
	for i := range ts {
		if strings.HasPrefix(ts[i].Detail, "rejected: ") {
			ts[i].Detail = "rejected: " + q.quote
		}
	}
	return ts, err
}

func (q quotingStore) Files(ctx context.Context, f ledger.FileFilter) ([]ledger.FileInfo, error) {
	fs, err := q.Store.Files(ctx, f)
	for i := range fs {
		fs[i].Error = q.quote
	}
	return fs, err
}

// TestReportMasksStoredTexts: report.html and report.csv show no whole identity number even
// when the ledger's texts hold one, and no text longer than the bound.
func TestReportMasksStoredTexts(t *testing.T) {
	f := newFixture(t)
	file := f.file("invoices.csv")
	f.reject(file, 2, item{creditor: f.sb.Creditor, number: "INV-R", customer: "Anna", amount: 10000}, "HTTP 422")
	f.finish(file, domain.Counts{Rows: 1, Rejected: 1})
	for _, id := range []string{"19811218-9876", "198112189876", "8112189876", "811218-9876"} {
		t.Run(id, func(t *testing.T) {
			quote := "Amili refused (HTTP 422): Validation failed for customer " + id + strings.Repeat(" more", 50_000)
			r, err := Build(f.ctx, quotingStore{f.led, quote}, f.client, f.period(""), BuildOptions{Location: stockholm,
				Now: func() time.Time { return time.Date(2026, 11, 22, 6, 0, 0, 0, stockholm) }})
			if err != nil {
				t.Fatal(err)
			}
			var html, csv bytes.Buffer
			if err := r.WriteHTML(&html, ChartFile); err != nil {
				t.Fatal(err)
			}
			if err := r.WriteCSV(&csv, CSVOptions{}); err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"report.html": html.String(), "report.csv": csv.String()} {
				if !strings.Contains(out, "Validation failed for customer") {
					t.Errorf("%s does not show the reason at all", name)
				}
				if strings.Contains(out, "9876") {
					t.Errorf("%s shows the whole identity number", name)
				}
				if strings.Count(out, " more") > 2*2000/5 {
					t.Errorf("%s shows the 250 KB reason unbounded", name)
				}
			}
		})
	}
}
