package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
)

// rowErrorBatch is how many row errors are written to the ledger at once.
const rowErrorBatch = 500

// fileRun is one file's state while it is imported.
type fileRun struct {
	imp  *Importer
	src  Source
	name string
	id   ledger.FileID
	log  *slog.Logger

	mu         sync.Mutex
	counts     domain.Counts
	reasons    map[string]int
	unfinished bool // something was left for a later run
}

func (f *fileRun) add(fn func(c *domain.Counts)) {
	f.mu.Lock()
	fn(&f.counts)
	f.mu.Unlock()
}

func (f *fileRun) reject(reason string) {
	f.mu.Lock()
	f.counts.Rejected++
	f.reasons[reason]++
	f.mu.Unlock()
}

// countDone counts a registration the ledger already holds in final state st: one that was
// rejected earlier is still rejected (the file is not all done), anything else already imported.
func (f *fileRun) countDone(st ledger.State) {
	if st == ledger.StateRejected {
		f.reject("rejected by an earlier run; see amili-import ledger show")
		return
	}
	f.add(func(c *domain.Counts) { c.AlreadyImported++ })
}

func (f *fileRun) leaveUnfinished() {
	f.mu.Lock()
	f.unfinished = true
	f.mu.Unlock()
}

// ImportFile imports one file of src: the whole flow of the package comment. A file that fails
// on its own is recorded in the summary and does not return an error; the error is for what
// stops the run (it wraps ErrCannotStart) or a cancelled context.
func (imp *Importer) ImportFile(ctx context.Context, src Source, name string) error {
	if err := imp.stopped(); err != nil {
		return err
	}
	f := &fileRun{imp: imp, src: src, name: name, log: imp.log.With("file", name), reasons: map[string]int{}}
	res, err := f.importFile(ctx)
	f.mu.Lock()
	res.Name, res.Counts = name, f.counts
	reasons := f.reasons
	f.mu.Unlock()

	imp.mu.Lock()
	imp.sum.Files = append(imp.sum.Files, res)
	imp.sum.Counts = imp.sum.Counts.Add(res.Counts)
	if res.Outcome == ledger.FileDuplicate {
		imp.sum.SameFile++
	}
	for k, v := range reasons {
		imp.sum.Reasons[k] += v
	}
	imp.mu.Unlock()
	if err != nil {
		return err
	}
	if err := imp.stopped(); err != nil {
		return err
	}
	return ctx.Err()
}

func (f *fileRun) importFile(ctx context.Context) (FileResult, error) {
	imp := f.imp
	lctx := context.WithoutCancel(ctx)
	spool, rec, err := f.spool(ctx)
	if err != nil {
		f.log.Warn("cannot read file; left for the next run", "err", err)
		return FileResult{Outcome: ledger.FilePartial, Error: err.Error()}, nil
	}
	defer os.Remove(spool)

	id, prior, err := imp.deps.Ledger.BeginFile(lctx, imp.run, rec)
	if err != nil {
		return FileResult{Outcome: ledger.FilePartial, Error: err.Error()}, fmt.Errorf("%w: ledger: %w", ErrCannotStart, err)
	}
	f.id = id
	if prior != nil {
		f.log.Info("same file already imported", "sha256", rec.SHA256, "as", prior.Path)
		res := FileResult{Outcome: ledger.FileDuplicate}
		if n := prior.Counts.Rejected + prior.Counts.Conflicts; n > 0 {
			// Its rows are what they were: what was refused then is still not imported.
			f.mu.Lock()
			f.counts.Rejected += prior.Counts.Rejected
			f.counts.Conflicts += prior.Counts.Conflicts
			f.reasons["refused when the same file was imported as "+prior.Path] += prior.Counts.Rejected
			f.mu.Unlock()
		}
		if err := imp.deps.Ledger.FinishFile(lctx, id, ledger.FileDuplicate, domain.Counts{}, ""); err != nil {
			return res, fmt.Errorf("%w: ledger: %w", ErrCannotStart, err)
		}
		res.MovedTo = f.move(lctx, ledger.FileDone, "")
		return res, nil
	}

	v, err := f.validate(ctx, spool)
	if err != nil {
		var fe *mapping.FileError
		if !errors.As(err, &fe) {
			// Reading the local spool failed; nothing was sent.
			f.finish(lctx, ledger.FilePartial, err.Error())
			return FileResult{Outcome: ledger.FilePartial, Error: err.Error()}, nil
		}
		f.log.Warn("file refused", "err", err)
		f.finish(lctx, ledger.FileFailed, err.Error())
		return FileResult{Outcome: ledger.FileFailed, Error: err.Error(), MovedTo: f.move(lctx, ledger.FileFailed, err.Error())}, nil
	}
	if err := imp.checkCreditors(ctx, v.creditors); err != nil {
		imp.fail(err)
		f.leaveUnfinished()
		f.finish(lctx, ledger.FilePartial, err.Error())
		return FileResult{Outcome: ledger.FilePartial, Error: err.Error()}, err
	}

	imp.progress.start(f.name, v.registrations)
	if err := f.submitAll(ctx, spool); err != nil {
		f.leaveUnfinished()
		f.log.Error("submission pass stopped", "err", err)
	}
	outcome := ledger.FileDone
	f.mu.Lock()
	if f.unfinished || f.counts.Failed > 0 {
		outcome = ledger.FilePartial
	}
	f.mu.Unlock()
	if err := f.finish(lctx, outcome, ""); err != nil {
		return FileResult{Outcome: outcome, Error: err.Error()}, fmt.Errorf("%w: ledger: %w", ErrCannotStart, err)
	}
	return FileResult{Outcome: outcome, MovedTo: f.move(lctx, outcome, "")}, nil
}

// spool copies the file to a temporary file while hashing it: a remote file is read once, and
// both passes then read locally.
func (f *fileRun) spool(ctx context.Context) (string, ledger.FileRecord, error) {
	rc, err := f.src.Open(ctx, f.name)
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(f.imp.job.TempDir, "amili-import-*.csv")
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("spool: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", ledger.FileRecord{}, fmt.Errorf("read: %w", err)
	}
	return tmp.Name(), ledger.FileRecord{
		Path:   describePath(f.src.Describe(), f.name),
		Size:   n,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// describePath names a file with its source, for the ledger and the report.
func describePath(src, name string) string {
	if src == "" {
		return name
	}
	return strings.TrimSuffix(src, "/") + "/" + name
}

// validation is what the first pass learns; nothing of the rows is kept.
type validation struct {
	registrations int
	creditors     []string
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
		} else {
			v.registrations++
			if c := reg.Creditor(); c != "" && !slices.Contains(v.creditors, c) {
				v.creditors = append(v.creditors, c)
			}
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

// finish records the file's outcome; the ledger hears it before the file is moved.
func (f *fileRun) finish(ctx context.Context, outcome ledger.FileOutcome, errText string) error {
	f.mu.Lock()
	c := f.counts
	f.mu.Unlock()
	err := f.imp.deps.Ledger.FinishFile(ctx, f.id, outcome, c, errText)
	if err != nil {
		f.log.Error("record file outcome", "err", err)
	}
	return err
}

// move archives a done file or quarantines a failed one when the job moves files. A partial
// file stays for the next run. A failed move is logged: the ledger already knows the file.
func (f *fileRun) move(ctx context.Context, outcome ledger.FileOutcome, reason string) string {
	if !f.imp.job.Move {
		return ""
	}
	var to string
	var err error
	switch outcome {
	case ledger.FileDone:
		to, err = f.src.Archive(ctx, f.name)
	case ledger.FileFailed:
		to, err = f.src.Quarantine(ctx, f.name, reason)
	default:
		return ""
	}
	if err != nil {
		f.log.Error("move file", "outcome", outcome, "err", err)
		return ""
	}
	return to
}
