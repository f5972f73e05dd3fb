package ledger

import (
	"context"
	"fmt"
	"strconv"
)

// The rerun path. When a file's rows were already imported, nearly every claim in a batch ends
// ClaimDone and changes nothing but the claims record. Instead of a lookup per item, a batch
// reads every known item of the batch in one statement per creditor (the invoice numbers passed
// as a JSON array), and records the claims of all of them in one more statement.

// insertClaimsSQL records many claims of one request group: the run, file, creditor, outcome
// and time are parameters; the rest comes from a JSON array with one
// [line, submission, invoice number, amount, currency, state] array a claim.
const insertClaimsSQL = `INSERT INTO claims (run_id, file_id, line, submission_id, creditor, invoice_number, amount, currency, outcome, state, at)
	SELECT ?1, ?2, r ->> 0, r ->> 1, ?3, r ->> 2, r ->> 3, r ->> 4, ?4, r ->> 5, ?5
	FROM (SELECT j.value AS r FROM json_each(?6) j)`

// ClaimDone claims, in one transaction, those of reqs that Claim would answer ClaimDone, with
// the same claims records Claim writes, and reports which they were. The others are left as
// they are, nothing written for them: the caller claims them one by one (a new registration
// needs its PDFs checked before it is claimed). The answer holds, per request, the final state
// of its submission, or "" for one left alone. This is the rerun path: deciding a done
// registration costs one batched lookup, and recording it one batched insert.
func (l *Ledger) ClaimDone(ctx context.Context, reqs []ClaimRequest) ([]State, error) {
	for i, r := range reqs {
		if err := validateClaim(r); err != nil {
			return nil, fmt.Errorf("claim %d: %w", i, err)
		}
	}
	out := make([]State, len(reqs))
	err := l.write(ctx, func(tx *writeTx) error {
		done, err := settled(ctx, tx, reqs)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var rows claimRows
		rows.begin(l.nowText())
		for i, r := range reqs {
			if done[i].sub != 0 {
				out[i] = done[i].state
				rows.add(r, ClaimDone, done[i].sub, done[i].state)
			}
		}
		return tx.insertClaims(ctx, &rows)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimRows gathers claims records for insertClaims, in order, in groups of consecutive
// records sharing run, file, creditor and outcome (a file's rerun is one group).
type claimRows struct {
	at     string
	groups []claimGroup
}

// claimGroup is one insertClaims statement: the shared columns and the JSON array of the rest.
type claimGroup struct {
	run      RunID
	file     FileID
	creditor string
	outcome  ClaimOutcome
	buf      []byte
	n        int
}

func (w *claimRows) begin(at string) {
	w.at, w.groups = at, w.groups[:0]
}

// add appends the claims records of a request, one per item, with the content Claim records.
func (w *claimRows) add(r ClaimRequest, out ClaimOutcome, sub SubmissionID, st State) {
	var g *claimGroup
	if n := len(w.groups); n > 0 {
		g = &w.groups[n-1]
		if g.run != r.Run || g.file != r.File || g.creditor != r.Creditor || g.outcome != out {
			g = nil
		}
	}
	if g == nil {
		w.groups = append(w.groups, claimGroup{run: r.Run, file: r.File, creditor: r.Creditor, outcome: out,
			buf: make([]byte, 1, 64*len(r.Items)+64)})
		g = &w.groups[len(w.groups)-1]
		g.buf[0] = '['
	}
	b := g.buf
	for _, it := range r.Items {
		if g.n > 0 {
			b = append(b, ',')
		}
		g.n++
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(r.Line), 10)
		b = append(b, ',')
		b = appendJSONID(b, int64(sub))
		b = append(b, ',')
		b = appendJSONString(b, it.InvoiceNumber)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(it.Amount), 10)
		b = append(b, ',')
		b = appendJSONString(b, it.Currency)
		b = append(b, ',')
		b = appendJSONString(b, string(st))
		b = append(b, ']')
	}
	g.buf = b
}

// insertClaims writes the gathered claims records, one statement a group.
func (t *writeTx) insertClaims(ctx context.Context, w *claimRows) error {
	for i := range w.groups {
		g := &w.groups[i]
		g.buf = append(g.buf, ']')
		res, err := t.ExecContext(ctx, insertClaimsSQL, nullID(g.run), nullID(g.file), g.creditor,
			claimOutcomeText[g.outcome], w.at, string(g.buf))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || int(n) != g.n {
			return fmt.Errorf("recorded %d of %d claims: %v", n, g.n, err)
		}
	}
	return nil
}

// appendJSONID appends an id, or null for 0 (as nullID stores it).
func appendJSONID(b []byte, id int64) []byte {
	if id == 0 {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, id, 10)
}

// appendJSONString appends s as a JSON string. Bytes that are not valid UTF-8 are kept as they
// are (SQLite's JSON functions pass them through), so a value reads back byte for byte.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
