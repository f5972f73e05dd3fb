package ledger

import (
	"encoding/json"
	"fmt"

	"github.com/amili-import/amili-import/mapping"
)

// The rerun path. When a file's rows were already imported, nearly every claim in a batch ends
// ClaimDone and changes nothing. Instead of a lookup per item, a batch reads every known item
// of the batch in one statement (the keys passed as a JSON array), then every involved
// submission in a second, and records the claims in a third. Requests that are not plainly done
// go through the item-by-item rules of Claim, in order.

// prefetchSQL finds the known items of many (creditor, invoice number) keys.
const prefetchSQL = `SELECT j.key, i.position, i.content_hash, s.id, s.state, s.items
	FROM json_each(?) j
	JOIN submission_items i ON i.creditor = j.value ->> 0 AND i.invoice_number = j.value ->> 1
	JOIN submissions s ON s.id = i.submission_id`

// submissionsByIDSQL reads many submissions with their items.
const submissionsByIDSQL = `SELECT ` + submissionColumns + `, ` + itemColumns + `
	FROM json_each(?) j JOIN submissions s ON s.id = j.value JOIN submission_items i ON i.submission_id = s.id
	ORDER BY s.id, i.position`

// insertClaimsSQL records many claims from a JSON array of rows.
const insertClaimsSQL = `INSERT INTO claims (run_id, file_id, line, submission_id, creditor, invoice_number, amount, currency, outcome, state, at)
	SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5, j.value ->> 6,
		j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10
	FROM json_each(?) j`

// doneCandidates returns, per request, the submission it is plainly done with (every item
// known in one final submission, same grouping and order, same hashes), or 0.
func (c *claimer) doneCandidates(reqs []ClaimRequest) ([]SubmissionID, error) {
	type ref struct{ req, item int }
	var keys [][2]string
	var refs []ref
	for i, r := range reqs {
		for j, it := range r.Items {
			keys = append(keys, [2]string{r.Creditor, it.InvoiceNumber})
			refs = append(refs, ref{i, j})
		}
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := c.tx.QueryContext(c.ctx, prefetchSQL, string(arg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make([]int, len(reqs)) // items found matching the request's submission
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
			return nil, err
		}
		rf := refs[key]
		r := reqs[rf.req]
		if sub[rf.req] == 0 {
			sub[rf.req] = id
		}
		if id != sub[rf.req] || pos != rf.item || items != len(r.Items) || hash != r.Items[rf.item].ContentHash ||
			!st.Final() {
			ok[rf.req] = false
		}
		found[rf.req]++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if !ok[i] || found[i] != len(r.Items) {
			sub[i] = 0
		}
	}
	return sub, nil
}

// loadSubmissions reads the given submissions with their items, by id.
func (c *claimer) loadSubmissions(ids []SubmissionID) (map[SubmissionID]Submission, error) {
	arg, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := c.tx.QueryContext(c.ctx, submissionsByIDSQL, string(arg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[SubmissionID]Submission, len(ids))
	var cur Submission
	flush := func() {
		if cur.ID != 0 {
			out[cur.ID] = cur
		}
	}
	for rows.Next() {
		var s Submission
		var it SubmissionItem
		var created, updated string
		var amount int64
		if err := rows.Scan(&s.ID, &s.Kind, &s.Creditor, &s.State, &s.RegistrationID, &s.InvoiceID, &s.Attempts,
			&s.LastError, &s.FileID, &s.Line, &created, &updated,
			&it.InvoiceNumber, &it.ContentHash, &amount, &it.Currency, &it.CustomerName, &it.PDF,
			&it.CaseID, &it.OCRNumber, &it.PDFState, &it.PDFError); err != nil {
			return nil, err
		}
		it.Amount = mapping.Amount(amount)
		if s.ID != cur.ID {
			flush()
			s.Created, s.Updated = parseTime(created), parseTime(updated)
			cur = s
		}
		cur.Items = append(cur.Items, it)
	}
	flush()
	return out, rows.Err()
}

// claimRow is one claims record waiting for insertClaims.
type claimRow [11]any

// pendingRows makes the claims records of a request.
func (c *claimer) pendingRows(r ClaimRequest, out ClaimOutcome, sub SubmissionID, st State, at string) []claimRow {
	rows := make([]claimRow, len(r.Items))
	for i, it := range r.Items {
		rows[i] = claimRow{nullID(r.Run), nullID(r.File), r.Line, nullID(sub), r.Creditor, it.InvoiceNumber,
			int64(it.Amount), it.Currency, claimOutcomeText[out], string(st), at}
	}
	return rows
}

// insertClaims writes many claims records in one statement.
func (c *claimer) insertClaims(rows []claimRow) error {
	if len(rows) == 0 {
		return nil
	}
	arg, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	res, err := c.tx.ExecContext(c.ctx, insertClaimsSQL, string(arg))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || int(n) != len(rows) {
		return fmt.Errorf("recorded %d of %d claims: %v", n, len(rows), err)
	}
	return nil
}
