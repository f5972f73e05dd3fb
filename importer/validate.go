package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/amili-import/amili-import/domain"
)

// rowErrorBatch is how many row errors are written to the ledger at once.
const rowErrorBatch = 500

// validation is what the first pass learns; nothing of the rows is kept.
type validation struct {
	registrations int
}

// validate reads the whole file once without sending anything: a file error stops the file
// before its first row could be sent; row errors are recorded in the ledger.
func (f *fileRun) validate(ctx context.Context, spool string) (validation, error) {
	var v validation
	r, closeFn, err := f.openReader(spool)
	if err != nil {
		return v, err
	}
	defer closeFn()
	var batch []domain.RowError
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := f.imp.deps.Ledger.RecordRowErrors(context.WithoutCancel(ctx), f.id, batch)
		batch = batch[:0]
		return err
	}
	for {
		reg, rowErrs, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return v, err
		}
		batch = append(batch, rowErrs...)
		if reg == nil {
			f.rejectRows(rowErrs)
		} else if c := reg.Creditor(); c != "" {
			rule, err := f.imp.rowCreditor(ctx, c)
			if err != nil {
				return v, err
			}
			if rule != "" {
				// The row's own problem: it is refused, the others go on.
				re := domain.RowError{File: reg.File, Line: reg.Line, Column: "creditor", Value: c, Rule: rule,
					InvoiceNumber: reg.Items[0].InvoiceNumber}
				batch = append(batch, re)
				f.rejectRows([]domain.RowError{re})
			} else {
				v.registrations++
			}
		} else {
			v.registrations++
		}
		if len(batch) >= rowErrorBatch {
			if err := flush(); err != nil {
				return v, fmt.Errorf("record row errors: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return v, fmt.Errorf("record row errors: %w", err)
	}
	f.add(func(c *domain.Counts) {
		c.Rows = r.Rows()
		c.Registrations = v.registrations
	})
	return v, nil
}

// rejectRows counts the rows a registration's errors refused, each under its first reason.
func (f *fileRun) rejectRows(errs []domain.RowError) {
	seen := map[int]bool{}
	for _, e := range errs {
		if e.Warning || seen[e.Line] {
			continue
		}
		seen[e.Line] = true
		f.reject(reasonOf(e))
		f.log.Info("row rejected", "line", e.Line, "invoice_number", e.InvoiceNumber, "column", e.Column, "rule", e.Rule)
	}
}

// reasonOf groups a row error by column and rule, without the value.
func reasonOf(e domain.RowError) string {
	if e.Column == "" {
		return e.Rule
	}
	return fmt.Sprintf("column %q: %s", e.Column, e.Rule)
}
