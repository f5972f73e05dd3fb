package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
)

// A file's way through a run, a file per stage: spool.go (read once, hashed), validate.go (every
// row, nothing sent), submit.go and claim.go (the ledger's decision), send.go, resolve.go (in
// doubt), upload.go (the PDFs), finish.go (outcome and move), pdfarchive.go (the PDFs of the
// done files, once the run is through).

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
	// pdfs are the PDFs this file's registrations name (cleaned), when the run archives them.
	pdfs map[string]bool
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
	if err != nil && refusedUnread(err) {
		f.log.Warn("file refused", "err", err)
		return FileResult{Outcome: ledger.FileFailed, Error: err.Error(), MovedTo: f.move(lctx, ledger.FileFailed, err.Error())}, nil
	}
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
	if errors.Is(err, ErrCannotStart) {
		// Asking Amili about a creditor the file names failed (not a refusal of the creditor,
		// which only refuses its rows): the file waits for the next run.
		imp.fail(err)
		f.leaveUnfinished()
		f.finish(lctx, ledger.FilePartial, err.Error())
		return FileResult{Outcome: ledger.FilePartial, Error: err.Error()}, err
	}
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
	res := FileResult{Outcome: outcome, MovedTo: f.move(lctx, outcome, "")}
	if outcome == ledger.FileDone && res.MovedTo != "" {
		f.donePDFs()
	}
	return res, nil
}
