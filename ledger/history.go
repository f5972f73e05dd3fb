package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// ClaimRecord is one row of the claims record: one item of one Claim call, with the money it
// carried and what the claim decided. Reports count every amount from these and from the
// transitions, so that a period's figures depend only on what happened before its end.
type ClaimRecord struct {
	ID            int64
	Run           RunID
	File          FileID // 0 when the claim named no file
	Line          int
	Submission    SubmissionID
	Creditor      string
	InvoiceNumber string
	Amount        domain.Amount
	Currency      string
	Outcome       string // new, resume, in_doubt, done, conflict
	State         State  // the submission's state after the claim
	At            time.Time
	// VAT is the split by VAT rate of the content a new claim brought (nil when unknown).
	VAT []domain.VATPart
}

// ClaimRecords returns every claim recorded before until (all of them for a zero until),
// oldest first.
func (l *Ledger) ClaimRecords(ctx context.Context, until time.Time) ([]ClaimRecord, error) {
	var q query
	Period{Until: until}.where(&q, "c.at")
	rows, err := l.db.QueryContext(ctx, `SELECT c.id, coalesce(c.run_id, 0), coalesce(c.file_id, 0), c.line,
		coalesce(c.submission_id, 0), c.creditor, c.invoice_number, c.amount, c.currency, c.outcome, c.state, c.at
		FROM claims c`+q.String()+" ORDER BY c.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("claim records: %w", err)
	}
	defer rows.Close()
	var out []ClaimRecord
	for rows.Next() {
		var c ClaimRecord
		var amount int64
		var at string
		if err := rows.Scan(&c.ID, &c.Run, &c.File, &c.Line, &c.Submission, &c.Creditor, &c.InvoiceNumber, &amount,
			&c.Currency, &c.Outcome, &c.State, &at); err != nil {
			return nil, fmt.Errorf("claim records: %w", err)
		}
		c.Amount, c.At = domain.Amount(amount), parseTime(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim records: %w", err)
	}
	if err := l.claimVAT(ctx, q, out); err != nil {
		return nil, fmt.Errorf("claim records: %w", err)
	}
	return out, nil
}

// claimVAT fills the VAT splits of the claims q selected (out is in id order).
func (l *Ledger) claimVAT(ctx context.Context, q query, out []ClaimRecord) error {
	rows, err := l.db.QueryContext(ctx, `SELECT v.claim_id, v.rate, v.net, v.vat FROM claim_vat v
		JOIN claims c ON c.id = v.claim_id`+q.String()+" ORDER BY v.claim_id", q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	byID := make(map[int64]int, len(out))
	for i, c := range out {
		byID[c.ID] = i
	}
	for rows.Next() {
		var id, net, vat int64
		var rate string
		if err := rows.Scan(&id, &rate, &net, &vat); err != nil {
			return err
		}
		if i, ok := byID[id]; ok {
			out[i].VAT = append(out[i].VAT, domain.VATPart{Rate: rate, Net: domain.Amount(net), VAT: domain.Amount(vat)})
		}
	}
	return rows.Err()
}

// Transition is one change of a submission's state from its append-only history.
type Transition struct {
	ID         int64
	Submission SubmissionID
	At         time.Time
	From, To   State
	Detail     string // e.g. "rejected: <reason>"
}

// Transitions returns every change of state (notes left out) recorded before until (all of
// them for a zero until), oldest first.
func (l *Ledger) Transitions(ctx context.Context, until time.Time) ([]Transition, error) {
	q := query{conds: []string{"e.from_state <> e.to_state"}}
	Period{Until: until}.where(&q, "e.at")
	rows, err := l.db.QueryContext(ctx, `SELECT e.id, e.submission_id, e.at, e.from_state, e.to_state, e.detail
		FROM events e`+q.String()+" ORDER BY e.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("transitions: %w", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		var at string
		if err := rows.Scan(&t.ID, &t.Submission, &at, &t.From, &t.To, &t.Detail); err != nil {
			return nil, fmt.Errorf("transitions: %w", err)
		}
		t.At = parseTime(at)
		out = append(out, t)
	}
	return out, rows.Err()
}
