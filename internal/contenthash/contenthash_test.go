package contenthash

import (
	"crypto/sha256"
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
	for _, s := range strs {
		var buf []byte
		p := &domain.Payment{Account: s, Creditor: s, InvoiceNumber: s, Currency: "SEK", Amount: 12345, BankTransactionDate: d,
			CreditorPaymentReference: s, ClientRegistrationDate: &d, Origin: domain.OriginCreditorSystem}
		checkSum(t, "payment", Payment(&buf, p), p)
		p = &domain.Payment{Creditor: s, Case: s, Amount: -1}
		checkSum(t, "bare payment", Payment(&buf, p), p)
		c := &domain.Crediting{Account: s, Creditor: s, Case: s, Currency: "SEK", Amount: 7, CreditInvoice: s, CreditorReference: s, Origin: s}
		checkSum(t, "crediting", Crediting(&buf, c), c)
		c = &domain.Crediting{Creditor: s}
		checkSum(t, "bare crediting", Crediting(&buf, c), c)
		x := &domain.Cancellation{Account: s, Creditor: s, InvoiceNumber: s, Case: s, Origin: s}
		checkSum(t, "cancellation", Cancellation(&buf, x), x)
		x = &domain.Cancellation{}
		checkSum(t, "bare cancellation", Cancellation(&buf, x), x)
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

// checkSum fails when sum is not the SHA-256 of json.Marshal(v).
func checkSum(t *testing.T, what string, sum [32]byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if sum != sha256.Sum256(want) {
		t.Errorf("%s: hash differs from the hash of %s", what, want)
	}
}
