package domain

import "testing"

func TestInvoiceVAT(t *testing.T) {
	inv := &InvoiceRegistration{Matrix: []MatrixLine{
		{TotalPriceExcludingVAT: 2, UnitVATPercent: "25%"}, // 0.005 → 0.01
		{TotalPriceExcludingVAT: 1, UnitVATPercent: "25%"}, // 0.0025 → 0.00
		{TotalPriceExcludingVAT: 10_000, UnitVATPercent: "12%"},
		{TotalPriceExcludingVAT: 999, UnitVATPercent: "0%"},
		{TotalPriceExcludingVAT: -2, UnitVATPercent: "25%"}, // −0.005 → −0.01
	}}
	got := InvoiceVAT(inv)
	want := []VATPart{{"25%", 1, 0}, {"12%", 10_000, 1_200}, {"0%", 999, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if InvoiceVAT(&InvoiceRegistration{Matrix: []MatrixLine{{TotalPriceExcludingVAT: 1, UnitVATPercent: "7%"}}}) != nil {
		t.Error("an unknown rate gave a split, want none")
	}
}
