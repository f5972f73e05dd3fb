package amilitest

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestInspectEndpoint(t *testing.T) {
	body, err := os.ReadFile("testdata/invoice.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, inspect := range []bool{false, true} {
		s := NewServer(Options{Tokens: []string{"t"}, Inspect: inspect})
		defer s.Close()
		var m map[string]any
		json.Unmarshal(body, &m)
		m["account"], m["creditor"] = s.Account, s.Creditor
		b, _ := json.Marshal(m)
		req, _ := http.NewRequest("POST", s.URL+"/invoice--registrations", strings.NewReader(string(b)))
		req.Header.Set("X-API-Key", "t")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
			t.Fatalf("registration: %d", resp.StatusCode)
		}
		resp, err = http.Get(s.URL + InspectPath) // no credentials: a test reads it from outside
		if err != nil {
			t.Fatal(err)
		}
		var st State
		json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if !inspect {
			if resp.StatusCode == http.StatusOK || len(st.Registrations) != 0 {
				t.Errorf("inspection off: %d with %d registrations shown, want a refusal", resp.StatusCode, len(st.Registrations))
			}
			continue
		}
		num := m["invoice_number"].(string)
		if resp.StatusCode != http.StatusOK || len(st.Registrations) != 1 || len(st.Counts) != 1 ||
			st.Counts[0].InvoiceNumber != num || st.Counts[0].Count != 1 || len(st.Cases) != 1 || st.Calls["POST /invoice--registrations"] != 1 {
			t.Errorf("state %d: %+v", resp.StatusCode, st)
		}
		if st.Calls["GET "+InspectPath] != 0 {
			t.Errorf("the inspection counted itself as an API call")
		}
	}
}
