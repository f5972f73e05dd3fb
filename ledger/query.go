package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Period is a half-open time range [Since, Until). A zero bound is open.
type Period struct {
	Since, Until time.Time
}

// where adds the period's bounds on column to q.
func (p Period) where(q *query, column string) {
	if !p.Since.IsZero() {
		q.and(column+" >= ?", fmtTime(p.Since))
	}
	if !p.Until.IsZero() {
		q.and(column+" < ?", fmtTime(p.Until))
	}
}

// query builds a WHERE clause from optional conditions.
type query struct {
	conds []string
	args  []any
}

func (q *query) and(cond string, args ...any) {
	q.conds = append(q.conds, cond)
	q.args = append(q.args, args...)
}

func (q *query) String() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}

// SubmissionFilter selects submissions. Zero fields do not filter; all set fields must hold.
type SubmissionFilter struct {
	// Run selects submissions claimed (in any way, including ClaimDone) or changed by a run.
	Run      RunID
	Created  Period
	Updated  Period
	States   []State
	Creditor string
	// InvoiceNumber selects the submission holding it.
	InvoiceNumber string
	// Limit caps the result (newest first when set); 0 means all, oldest first.
	Limit int
}

// Submissions returns the submissions matching f, with their items.
func (l *Ledger) Submissions(ctx context.Context, f SubmissionFilter) ([]Submission, error) {
	var q query
	if f.Run != 0 {
		q.and(`(EXISTS (SELECT 1 FROM claims c WHERE c.submission_id = s.id AND c.run_id = ?)
			OR EXISTS (SELECT 1 FROM events e WHERE e.submission_id = s.id AND e.run_id = ?))`, f.Run, f.Run)
	}
	f.Created.where(&q, "s.created")
	f.Updated.where(&q, "s.updated")
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			q.args = append(q.args, st)
		}
		q.conds = append(q.conds, "s.state IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Creditor != "" {
		q.and("s.creditor = ?", f.Creditor)
	}
	if f.InvoiceNumber != "" {
		q.and("EXISTS (SELECT 1 FROM submission_items x WHERE x.submission_id = s.id AND x.invoice_number = ?)", f.InvoiceNumber)
	}
	inner := "SELECT s.* FROM submissions s" + q.String() + " ORDER BY s.id"
	if f.Limit > 0 {
		inner = fmt.Sprintf("SELECT * FROM (SELECT s.* FROM submissions s%s ORDER BY s.id DESC LIMIT %d) ORDER BY id", q.String(), f.Limit)
	}
	rows, err := l.db.QueryContext(ctx, "SELECT "+submissionColumns+", "+itemColumns+" FROM ("+inner+
		") s JOIN submission_items i ON i.submission_id = s.id ORDER BY s.id, i.position", q.args...)
	if err != nil {
		return nil, fmt.Errorf("submissions: %w", err)
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		s, it, err := scanSubmissionItem(rows)
		if err != nil {
			return nil, fmt.Errorf("submissions: %w", err)
		}
		if n := len(out); n > 0 && out[n-1].ID == s.ID {
			out[n-1].Items = append(out[n-1].Items, it)
			continue
		}
		s.Items = []SubmissionItem{it}
		out = append(out, s)
	}
	return out, rows.Err()
}

// MoneyTotal is a sum of item amounts in öre, computed in SQL with integers.
type MoneyTotal struct {
	Outcome  string // a claim outcome (files) or a report bucket (totals)
	Currency string
	Items    int
	Amount   domain.Amount
}

// FileFilter selects files. Zero fields do not filter.
type FileFilter struct {
	Run       RunID
	FirstSeen Period
	Outcome   FileOutcome
}

// Files returns the file records matching f, oldest first, each with its money totals by
// claim outcome (new, resume, in_doubt, done, conflict) and currency.
func (l *Ledger) Files(ctx context.Context, f FileFilter) ([]FileInfo, error) {
	var q query
	if f.Run != 0 {
		q.and("f.run_id = ?", f.Run)
	}
	f.FirstSeen.where(&q, "f.first_seen")
	if f.Outcome != "" {
		q.and("f.outcome = ?", f.Outcome)
	}
	rows, err := l.db.QueryContext(ctx, "SELECT "+fileColumns+" FROM files f"+q.String()+" ORDER BY f.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	files, err := scanFiles(rows)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	if len(files) == 0 {
		return files, nil
	}
	byID := make(map[FileID]*FileInfo, len(files))
	for i := range files {
		byID[files[i].ID] = &files[i]
	}
	trows, err := l.db.QueryContext(ctx, `SELECT c.file_id, c.outcome, c.currency, count(*), sum(c.amount)
		FROM claims c JOIN files f ON f.id = c.file_id`+q.String()+`
		GROUP BY c.file_id, c.outcome, c.currency ORDER BY c.file_id, c.outcome, c.currency`, q.args...)
	if err != nil {
		return nil, fmt.Errorf("file totals: %w", err)
	}
	defer trows.Close()
	for trows.Next() {
		var id FileID
		var t MoneyTotal
		var amount int64
		if err := trows.Scan(&id, &t.Outcome, &t.Currency, &t.Items, &amount); err != nil {
			return nil, fmt.Errorf("file totals: %w", err)
		}
		t.Amount = domain.Amount(amount)
		if fi := byID[id]; fi != nil {
			fi.Totals = append(fi.Totals, t)
		}
	}
	return files, trows.Err()
}

// File returns the record of one file, without its totals; ErrNotFound when there is none.
// It is how a submission or a row error, which hold a FileID, is shown by the file's name.
func (l *Ledger) File(ctx context.Context, id FileID) (FileInfo, error) {
	rows, err := l.db.QueryContext(ctx, "SELECT "+fileColumns+" FROM files f WHERE f.id = ?", id)
	if err != nil {
		return FileInfo{}, fmt.Errorf("file %d: %w", id, err)
	}
	files, err := scanFiles(rows)
	if err != nil {
		return FileInfo{}, fmt.Errorf("file %d: %w", id, err)
	}
	if len(files) == 0 {
		return FileInfo{}, fmt.Errorf("file %d: %w", id, ErrNotFound)
	}
	return files[0], nil
}

// Conflict is an invoice number seen again with other content (or grouped otherwise).
type Conflict struct {
	At            time.Time
	Creditor      string
	InvoiceNumber string
	Submission    SubmissionID // the submission that holds the number
	File          FileID
	FilePath      string
	Line          int
	OldHash       string
	NewHash       string
	Reason        string
	Run           RunID
}

// Conflicts returns the conflicts recorded in p, oldest first; creditor "" means all.
func (l *Ledger) Conflicts(ctx context.Context, p Period, creditor string) ([]Conflict, error) {
	var q query
	p.where(&q, "c.at")
	if creditor != "" {
		q.and("c.creditor = ?", creditor)
	}
	rows, err := l.db.QueryContext(ctx, `SELECT c.at, c.creditor, c.invoice_number, coalesce(c.submission_id, 0),
		coalesce(c.file_id, 0), coalesce(f.path, ''), c.line, c.old_hash, c.new_hash, c.reason, coalesce(c.run_id, 0)
		FROM conflicts c LEFT JOIN files f ON f.id = c.file_id`+q.String()+" ORDER BY c.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []Conflict
	for rows.Next() {
		var c Conflict
		var at string
		if err := rows.Scan(&at, &c.Creditor, &c.InvoiceNumber, &c.Submission, &c.File, &c.FilePath, &c.Line,
			&c.OldHash, &c.NewHash, &c.Reason, &c.Run); err != nil {
			return nil, fmt.Errorf("conflicts: %w", err)
		}
		c.At = parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// RowErrorRecord is a stored row error with the file it came from.
type RowErrorRecord struct {
	domain.RowError // File is the file's path as recorded
	FileID          FileID
	At              time.Time
}

// RowErrors returns the row errors recorded in p, in file and line order.
func (l *Ledger) RowErrors(ctx context.Context, p Period) ([]RowErrorRecord, error) {
	var q query
	p.where(&q, "r.at")
	rows, err := l.db.QueryContext(ctx, `SELECT r.file_id, f.path, r.line, r.column_name, r.value, r.rule, r.invoice_number,
		r.warning, r.at FROM row_errors r JOIN files f ON f.id = r.file_id`+q.String()+" ORDER BY r.file_id, r.line, r.id", q.args...)
	if err != nil {
		return nil, fmt.Errorf("row errors: %w", err)
	}
	defer rows.Close()
	var out []RowErrorRecord
	for rows.Next() {
		var r RowErrorRecord
		var at string
		if err := rows.Scan(&r.FileID, &r.File, &r.Line, &r.Column, &r.Value, &r.Rule, &r.InvoiceNumber, &r.Warning, &at); err != nil {
			return nil, fmt.Errorf("row errors: %w", err)
		}
		r.At = parseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
