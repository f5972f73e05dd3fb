package importer

import (
	"context"

	"github.com/amili-import/amili-import/ledger"
)

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
