package report

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili"
)

// A case document without the remaining amounts (Amili sends only what it has) is shown with
// those figures unknown, never as 0.00, which would read as fully paid.
func TestFieldsAmiliDidNotSendAreUnknown(t *testing.T) {
	f := newFixture(t)
	caseID := f.register(f.file("a.csv"), 2, item{creditor: f.sb.Creditor, number: "U-1", customer: "A", amount: 12_500}, pdfMissing)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"_items":[{"_id":%q,"creditor":%q,"currency":"SEK","status":"initializing","state":"initializing",
			"debt":{"invoice_number":"U-1","capital_to_claim":125.00}}],"_meta":{"page":1,"max_results":100,"total":1}}`,
			caseID, f.sb.Creditor)
	}))
	t.Cleanup(srv.Close)
	client, err := amili.New(amili.Config{BaseURL: srv.URL, Auth: amili.AuthConfig{Token: "t"}, RateLimit: 1e6, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(f.ctx, f.led, client, f.period(""), BuildOptions{Location: stockholm})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) != 1 || !r.Cases[0].Found {
		t.Fatalf("cases %+v, want U-1 found", r.Cases)
	}
	v := r.Cases[0]
	t.Logf("remaining capital %v, remaining total %v", show(v.RemainingCapital), show(v.RemainingTotal))
	if v.RemainingCapital != nil || v.RemainingTotal != nil {
		t.Errorf("remaining capital %s, remaining total %s; want both unknown", show(v.RemainingCapital), show(v.RemainingTotal))
	}
	var html, csv bytes.Buffer
	if err := r.WriteHTML(&html, ChartFile); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(&csv, CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	row := rowOf(html.String(), caseID)
	if strings.Count(row, ">unknown<") != 2 {
		t.Errorf("Amili's view row %q: want remaining capital and total shown as unknown", row)
	}
	for _, rec := range readCSV(t, csv.Bytes(), ',') {
		if rec["record"] == "registration" && (rec["remaining_capital"] != Unknown || rec["remaining_total"] != Unknown) {
			t.Errorf("CSV remaining_capital %q, remaining_total %q; want %q", rec["remaining_capital"], rec["remaining_total"], Unknown)
		}
	}
}

func show(a interface{ String() string }) string {
	if a == nil || fmt.Sprint(a) == "<nil>" {
		return "unknown"
	}
	return a.String()
}

// rowOf is the last table row of the HTML that mentions s.
func rowOf(html, s string) string {
	i := strings.LastIndex(html, s)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(html[:i], "<tr")
	end := strings.Index(html[i:], "</tr>")
	return html[start : i+end]
}
