package contenthash

import (
	"encoding/json"
	"testing"

	"github.com/amili-import/amili-import/domain"
)

func TestCanonicalJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quote " backslash \ slash /`, "<b>&amp;</b>", "tab\tnl\ncr\rbs\bff\f\x01\x1f\x7f",
		"åäö ÅÄÖ é €", "bad \xff utf8 \xc3", "line\u2028para\u2029", "emoji 😀"}
	q := domain.Quantity(1500)
	d := domain.NewDate(2025, 2, 28)
	for _, s := range strs {
		inv := &domain.InvoiceRegistration{Account: s, Creditor: "c", InvoiceType: "invoice", InvoiceNumber: s, InvoiceDate: d, InvoiceDueDate: d,
			InvoiceDeliveryDate: &d, Currency: "SEK", InvoiceHeadline: s, InvoiceBodyText: s,
			Customer: &domain.Customer{Name: s, IsPerson: true, Address: &domain.Address{City: s}, Email: s},
			Matrix:   []domain.MatrixLine{{ArticleDescription: s, NumberOfUnits: &q, UnitPrice: -150, TotalPriceExcludingVAT: 12345, UnitVATPercent: "25%"}, {}}}
		want, _ := json.Marshal(inv)
		if got := appendInvoiceJSON(nil, inv); string(got) != string(want) {
			t.Errorf("invoice JSON differs\n got %s\nwant %s", got, want)
		}
		ci := &CaseItem{Debt: &domain.Debt{InvoiceNumber: s, DebtDescription: s, InvoiceDate: d, CapitalToClaim: 1, InvoiceDueDaysAfterInvoiceDate: 31,
			FeesIncludedInCapitalToClaim: &domain.InvoiceFee{InvoiceFee: 2900},
			FeesAlreadyClaimed:           &domain.FeesClaimed{Reminder: &domain.ReminderFee{Amount: 6000, FeeRegistrationDate: &d}}},
			Customer: &domain.Customer{Name: s, IDNumber: "19121212-1212", IsCompany: true}, FirstAction: "reminder", Currency: "SEK", Creditor: s}
		want, _ = json.Marshal(ci)
		if got := appendCaseItemJSON(nil, ci); string(got) != string(want) {
			t.Errorf("case JSON differs\n got %s\nwant %s", got, want)
		}
	}
	empty := &domain.InvoiceRegistration{}
	want, _ := json.Marshal(empty)
	if got := appendInvoiceJSON(nil, empty); string(got) != string(want) {
		t.Errorf("empty invoice JSON differs\n got %s\nwant %s", got, want)
	}
	bare := &CaseItem{Debt: &domain.Debt{}}
	want, _ = json.Marshal(bare)
	if got := appendCaseItemJSON(nil, bare); string(got) != string(want) {
		t.Errorf("bare case JSON differs\n got %s\nwant %s", got, want)
	}
}
