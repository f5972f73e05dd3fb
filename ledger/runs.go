package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// Run outcomes that count as a success: LastSuccessfulRun looks for them. Other outcomes are
// free text ("some_failed", "failed", "interrupted").
const (
	// RunOutcomeOK is the outcome of a run that finished with every row done.
	RunOutcomeOK = "ok"
	// RunOutcomeCompletedWithRejections is the outcome of a run that did everything it could:
	// every row reached an end, but some were rejected or in conflict, or a file was refused as
	// a whole. A rerun would change nothing; a person must look at those rows.
	RunOutcomeCompletedWithRejections = "completed_with_rejections"
)

// StartRun records the start of a run of job by this host and process.
func (l *Ledger) StartRun(ctx context.Context, job string) (RunID, error) {
	host, _ := os.Hostname()
	var id int64
	err := l.write(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO runs (job, started, host, pid) VALUES (?, ?, ?, ?)",
			job, l.nowText(), host, os.Getpid())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	return RunID(id), nil
}

// FinishRun records how a run ended and its counts.
func (l *Ledger) FinishRun(ctx context.Context, id RunID, outcome string, c domain.Counts) error {
	counts, err := json.Marshal(c)
	if err != nil {
		return err
	}
	err = l.write(ctx, func(tx *writeTx) error {
		return expectOne(tx.ExecContext(ctx, "UPDATE runs SET finished = ?, outcome = ?, counts = ? WHERE id = ?",
			l.nowText(), outcome, string(counts), id))
	})
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// LastSuccessfulRun returns when the latest run of job ("" for any job) that succeeded
// (RunOutcomeOK or RunOutcomeCompletedWithRejections) finished.
func (l *Ledger) LastSuccessfulRun(ctx context.Context, job string) (time.Time, bool, error) {
	var at sql.NullString
	err := l.db.QueryRowContext(ctx, "SELECT max(finished) FROM runs WHERE (? = '' OR job = ?) AND outcome IN (?, ?)",
		job, job, RunOutcomeOK, RunOutcomeCompletedWithRejections).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last successful run: %w", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return parseTime(at.String), true, nil
}

// FileInfo is what the ledger knows of one file record.
type FileInfo struct {
	ID        FileID
	Run       RunID
	Path      string
	Size      int64
	SHA256    string
	FirstSeen time.Time
	Finished  time.Time   // zero while in progress
	Outcome   FileOutcome // "" while in progress
	Counts    domain.Counts
	Error     string
	// Totals are the file's claimed money by claim outcome and currency (filled by Files).
	Totals []MoneyTotal
}

// BeginFile records that run saw a file. prior is non-nil when a file with the same SHA256 has
// already finished as done or duplicate, under any name: the importer then skips it. A file
// that ended partial or failed is not a prior: its rows are claimed again and resume.
func (l *Ledger) BeginFile(ctx context.Context, run RunID, f FileRecord) (FileID, *FileInfo, error) {
	if f.SHA256 == "" {
		return 0, nil, fmt.Errorf("begin file %s: %w: no sha256", f.Path, ErrInvalid)
	}
	var id int64
	var prior *FileInfo
	err := l.write(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+fileColumns+` FROM files f
			WHERE f.sha256 = ? AND f.outcome IN ('done', 'duplicate') ORDER BY f.outcome = 'duplicate', f.id LIMIT 1`, f.SHA256)
		if err != nil {
			return err
		}
		fis, err := scanFiles(rows)
		if err != nil {
			return err
		}
		if len(fis) > 0 {
			prior = &fis[0]
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO files (run_id, path, size, sha256, first_seen) VALUES (?, ?, ?, ?, ?)",
			nullID(run), f.Path, f.Size, f.SHA256, l.nowText())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("begin file %s: %w", f.Path, err)
	}
	return FileID(id), prior, nil
}

// FinishFile records how a file ended, its counts and the file-level error, if any.
func (l *Ledger) FinishFile(ctx context.Context, id FileID, outcome FileOutcome, c domain.Counts, errText string) error {
	counts, err := json.Marshal(c)
	if err != nil {
		return err
	}
	err = l.write(ctx, func(tx *writeTx) error {
		return expectOne(tx.ExecContext(ctx, "UPDATE files SET finished = ?, outcome = ?, counts = ?, error = ? WHERE id = ?",
			l.nowText(), outcome, string(counts), storedText(errText), id))
	})
	if err != nil {
		return fmt.Errorf("finish file %d: %w", id, err)
	}
	return nil
}

// RecordRowErrors keeps a file's row errors (values already masked by the mapping) for the
// report, in one transaction.
func (l *Ledger) RecordRowErrors(ctx context.Context, id FileID, errs []domain.RowError) error {
	if len(errs) == 0 {
		return nil
	}
	err := l.write(ctx, func(tx *writeTx) error {
		at := l.nowText()
		for _, e := range errs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO row_errors (file_id, line, column_name, value, rule, invoice_number, warning, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, e.Line, e.Column, e.Value, e.Rule, e.InvoiceNumber, e.Warning, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record row errors of file %d: %w", id, err)
	}
	return nil
}

// expectOne turns an UPDATE that touched no row into ErrNotFound.
func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

const fileColumns = `f.id, coalesce(f.run_id, 0), f.path, f.size, f.sha256, f.first_seen, coalesce(f.finished, ''),
	coalesce(f.outcome, ''), f.counts, f.error`

func scanFiles(rows *sql.Rows) ([]FileInfo, error) {
	defer rows.Close()
	var out []FileInfo
	for rows.Next() {
		var fi FileInfo
		var seen, finished, counts string
		if err := rows.Scan(&fi.ID, &fi.Run, &fi.Path, &fi.Size, &fi.SHA256, &seen, &finished, &fi.Outcome, &counts, &fi.Error); err != nil {
			return nil, err
		}
		fi.FirstSeen = parseTime(seen)
		if finished != "" {
			fi.Finished = parseTime(finished)
		}
		if err := json.Unmarshal([]byte(counts), &fi.Counts); err != nil {
			return nil, fmt.Errorf("file %d counts: %w", fi.ID, err)
		}
		out = append(out, fi)
	}
	return out, rows.Err()
}
