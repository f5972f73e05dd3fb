package ledger

import (
	"context"
	"encoding/json"
	"fmt"
)

// settledSQL finds the known items of many (creditor, invoice number) keys, passed as a JSON
// array, with their submission's state and size.
const settledSQL = `SELECT j.key, i.position, i.content_hash, s.id, s.state, s.items
	FROM json_each(?) j
	JOIN submission_items i ON i.creditor = j.value ->> 0 AND i.invoice_number = j.value ->> 1
	JOIN submissions s ON s.id = i.submission_id`

// Settled reports, for each request, whether Claim would answer ClaimDone: every item known in
// one submission in a final state, grouped and ordered the same, with the same content hash.
// It is one read and writes nothing, so it is only a hint: the importer uses it on a rerun to
// claim the rows already done in batches (ClaimBatch, which decides again under the write lock
// and records the claims) without first opening each row's PDF.
func (l *Ledger) Settled(ctx context.Context, reqs []ClaimRequest) ([]bool, error) {
	type ref struct{ req, item int }
	var keys [][2]string
	var refs []ref
	for i, r := range reqs {
		for j, it := range r.Items {
			keys = append(keys, [2]string{r.Creditor, it.InvoiceNumber})
			refs = append(refs, ref{i, j})
		}
	}
	out := make([]bool, len(reqs))
	if len(keys) == 0 {
		return out, nil
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("settled: %w", err)
	}
	rows, err := l.db.QueryContext(ctx, settledSQL, string(arg))
	if err != nil {
		return nil, fmt.Errorf("settled: %w", dbError(err))
	}
	defer rows.Close()
	found := make([]int, len(reqs))
	sub := make([]SubmissionID, len(reqs))
	ok := make([]bool, len(reqs))
	for i := range ok {
		ok[i] = true
	}
	for rows.Next() {
		var key, pos, items int
		var hash string
		var id SubmissionID
		var st State
		if err := rows.Scan(&key, &pos, &hash, &id, &st, &items); err != nil {
			return nil, fmt.Errorf("settled: %w", err)
		}
		rf := refs[key]
		r := reqs[rf.req]
		if sub[rf.req] == 0 {
			sub[rf.req] = id
		}
		if id != sub[rf.req] || pos != rf.item || items != len(r.Items) || hash != r.Items[rf.item].ContentHash || !st.Final() {
			ok[rf.req] = false
		}
		found[rf.req]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("settled: %w", err)
	}
	for i, r := range reqs {
		out[i] = ok[i] && found[i] == len(r.Items)
	}
	return out, nil
}
