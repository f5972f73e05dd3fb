package report

import (
	"context"
	"fmt"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/internal/redact"
	"github.com/amili-import/amili-import/ledger"
)

// ChunkSize is how many case ids go into one GET /cases query: Amili's page size, so each
// chunk is answered by exactly one call.
const ChunkSize = 100

// readCases asks Amili for the period's cases by id, 100 per call, and flags where Amili and
// the ledger disagree: a case Amili does not return, another capital, no original_invoice
// although the ledger says the PDF was uploaded.
func (r *Report) readCases(ctx context.Context, cases Cases) error {
	var ids []string
	byID := map[string]int{}
	pdfUploaded := map[string]bool{}
	for _, g := range r.Registrations {
		if g.CaseID == "" {
			continue
		}
		if g.PDF == string(ledger.PDFUploaded) {
			pdfUploaded[g.CaseID] = true
		}
		if _, dup := byID[g.CaseID]; dup {
			continue
		}
		byID[g.CaseID] = len(r.Cases)
		ids = append(ids, g.CaseID)
		r.Cases = append(r.Cases, CaseView{InvoiceNumber: g.InvoiceNumber, CaseID: g.CaseID, Currency: g.Currency,
			LedgerAmount: g.Amount})
	}
	for start := 0; start < len(ids); start += ChunkSize {
		chunk := ids[start:min(start+ChunkSize, len(ids))]
		in := make([]any, len(chunk))
		for i, id := range chunk {
			in[i] = id
		}
		where := map[string]any{"_id": map[string]any{"$in": in}}
		if r.Period.Creditor != "" {
			where["creditor"] = r.Period.Creditor
		}
		r.AmiliCalls++
		for c, err := range cases.AllCases(ctx, amili.CaseQuery{Where: where, MaxResults: ChunkSize}) {
			if err != nil {
				return fmt.Errorf("read cases from amili: %w", err)
			}
			i, ok := byID[c.ID]
			if !ok {
				continue
			}
			v := &r.Cases[i]
			v.Found = true
			capital := c.Debt.CapitalToClaim
			v.AmiliCapital, v.RemainingCapital, v.RemainingTotal = &capital, c.TotalRemainingCapitalAmount, c.TotalRemainingTransactionAmount
			v.Status, v.State = c.Status, c.State
			if c.Closed != nil {
				v.ClosedReason = redact.Text(c.Closed.Reason)
			}
			if v.AmiliCapital != nil && *v.AmiliCapital != v.LedgerAmount {
				v.Flags = append(v.Flags, FlagAmount)
			}
			if pdfUploaded[c.ID] && c.OriginalInvoice == nil {
				v.Flags = append(v.Flags, FlagNoInvoice)
			}
		}
	}
	for i := range r.Cases {
		if !r.Cases[i].Found {
			r.Cases[i].Flags = append(r.Cases[i].Flags, FlagMissing)
		}
	}
	return nil
}
