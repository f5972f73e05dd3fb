package ledger

import (
	"context"
	"database/sql"
)

// settledSQL finds the known items of one creditor's invoice numbers, passed as a JSON array,
// with their submission's state and size. j.key is the number's index in the array. CROSS JOIN
// keeps json_each the outer loop: the planner would otherwise scan the creditor's items.
const settledSQL = `SELECT j.key, i.position, i.content_hash, i.submission_id, s.state, s.items
	FROM json_each(?2) j
	CROSS JOIN submission_items i ON i.creditor = ?1 AND i.invoice_number = j.value
	JOIN submissions s ON s.id = i.submission_id`

// querier runs a query: a write transaction, or the pool for a plain read.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// settledRef is the final submission a request is plainly done with (sub 0: not done).
type settledRef struct {
	sub   SubmissionID
	state State
}

// settled returns, per request, the submission it is plainly done with: every item known in
// one final submission, same grouping and order, same hashes.
func settled(ctx context.Context, q querier, reqs []ClaimRequest) ([]settledRef, error) {
	out := make([]settledRef, len(reqs))
	found := make([]int, len(reqs)) // items found matching the request's submission
	bad := make([]bool, len(reqs))
	type ref struct{ req, item int }
	var refs []ref
	var keys []byte
	for start := 0; start < len(reqs); {
		// One lookup per run of requests with the same creditor (a file has one, nearly always).
		cred := reqs[start].Creditor
		end := start
		refs, keys = refs[:0], append(keys[:0], '[')
		for ; end < len(reqs) && reqs[end].Creditor == cred; end++ {
			for j, it := range reqs[end].Items {
				if len(refs) > 0 {
					keys = append(keys, ',')
				}
				keys = appendJSONString(keys, it.InvoiceNumber)
				refs = append(refs, ref{end, j})
			}
		}
		keys = append(keys, ']')
		rows, err := q.QueryContext(ctx, settledSQL, cred, string(keys))
		if err != nil {
			return nil, err
		}
		var key, pos, items int
		var hash, st sql.RawBytes
		var id SubmissionID
		for rows.Next() {
			if err := rows.Scan(&key, &pos, &hash, &id, &st, &items); err != nil {
				rows.Close()
				return nil, err
			}
			rf := refs[key]
			r := &reqs[rf.req]
			state, final := finalState(st)
			if out[rf.req].sub == 0 {
				out[rf.req] = settledRef{id, state}
			}
			if id != out[rf.req].sub || pos != rf.item || items != len(r.Items) || !final ||
				string(hash) != r.Items[rf.item].ContentHash {
				bad[rf.req] = true
			}
			found[rf.req]++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		start = end
	}
	for i, r := range reqs {
		if bad[i] || found[i] != len(r.Items) {
			out[i] = settledRef{}
		}
	}
	return out, nil
}

// finalState maps a stored state to its constant, without an allocation, and says whether it
// is final.
func finalState(b []byte) (State, bool) {
	switch string(b) {
	case string(StateUploaded):
		return StateUploaded, true
	case string(StateNoPDF):
		return StateNoPDF, true
	case string(StateRejected):
		return StateRejected, true
	}
	return State(b), false
}
