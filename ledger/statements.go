package ledger

import (
	"context"
	"database/sql"
	"sync"
)

// writer is the one connection every write goes through. SQLite allows one writer at a time
// anyway; holding one connection lets each statement be prepared once for the life of the
// ledger, and lets the hot path run without database/sql's per-query goroutine for
// cancellable contexts (a transaction is short; cancellation is checked before it starts).
type writer struct {
	mu    sync.Mutex
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

// writeTx is an open write transaction (BEGIN IMMEDIATE) on the writer connection.
type writeTx struct{ w *writer }

// stmt returns the statement for query, preparing it on first use.
func (t *writeTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := t.w.stmts[query]; s != nil {
		return s, nil
	}
	s, err := t.w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.w.stmts[query] = s
	return s, nil
}

// ExecContext runs a statement inside the transaction.
func (t *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryRowContext runs a one-row query inside the transaction.
func (t *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	s, err := t.stmt(ctx, query)
	if err != nil {
		// Let database/sql report the preparation error through the Row.
		return t.w.conn.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// QueryContext runs a query inside the transaction.
func (t *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	s, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

func (w *writer) close() {
	for _, s := range w.stmts {
		s.Close()
	}
	w.conn.Close()
}

// readers are the queries reads run outside a transaction, prepared once on the pool.
type readers struct {
	submission *sql.Stmt // a submission's head row
	items      *sql.Stmt // a submission's items in order
}

func prepareReaders(ctx context.Context, db *sql.DB) (*readers, error) {
	r := &readers{}
	var err error
	if r.submission, err = db.PrepareContext(ctx, submissionSQL); err != nil {
		return nil, err
	}
	if r.items, err = db.PrepareContext(ctx, itemsSQL); err != nil {
		r.submission.Close()
		return nil, err
	}
	return r, nil
}

func (r *readers) close() {
	r.submission.Close()
	r.items.Close()
}

// The hot statements.
const (
	submissionSQL = "SELECT " + submissionColumns + " FROM submissions s WHERE s.id = ?"
	itemsSQL      = "SELECT " + itemColumns + " FROM submission_items i WHERE i.submission_id = ? ORDER BY i.position"
	// lookupSQL finds an item by creditor and invoice number, with its submission's head.
	lookupSQL = `SELECT i.position, i.content_hash, s.items, ` + submissionColumns + `
		FROM submission_items i JOIN submissions s ON s.id = i.submission_id
		WHERE i.creditor = ? AND i.invoice_number = ?`
	insertClaimSQL = `INSERT INTO claims (run_id, file_id, line, submission_id, creditor, invoice_number, amount, currency, outcome, state, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// nullID stores a zero id as NULL, so foreign keys hold for "no run" or "no file".
func nullID[T ~int64](id T) any {
	if id == 0 {
		return nil
	}
	return int64(id)
}
