package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// cpuTime is the CPU time this process has used (user + system). On a shared machine,
// throughput per CPU-second is steadier than per wall-clock second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// seedDone fills l with n one-item submissions already uploaded, as a finished import leaves
// them, and returns the requests that claimed them. The rows are written in bulk with SQL: the
// steps that lead there are measured by BenchmarkSubmissionLifecycle; here only the end state
// matters.
func seedDone(b *testing.B, l *Ledger, n int) []ClaimRequest {
	b.Helper()
	reqs := make([]ClaimRequest, n)
	for i := range reqs {
		reqs[i] = invoiceReq(0, 0, fmt.Sprintf("INV-%07d", i), fmt.Sprintf("%064x", i), domain.Amount(i+1))
	}
	now := fmtTime(t0)
	stmts := []string{
		`WITH RECURSIVE n(value) AS (SELECT 0 UNION ALL SELECT value + 1 FROM n WHERE value + 1 < ?2)
		INSERT INTO submissions (id, kind, creditor, state, items, registration_id, attempts, line, created, updated)
			SELECT value + 1, 'invoice', 'cred-1', 'uploaded', 1, 'reg-' || value, 1, 2, ?1, ?1 FROM n`,
		`WITH RECURSIVE n(value) AS (SELECT 0 UNION ALL SELECT value + 1 FROM n WHERE value + 1 < ?2)
		INSERT INTO submission_items (submission_id, position, creditor, invoice_number, content_hash, amount, currency,
			customer_name, pdf_name, case_id, ocr_number, pdf_state)
			SELECT value + 1, 0, 'cred-1', printf('INV-%07d', value), printf('%064x', value), value + 1, 'SEK',
			'Anna', printf('INV-%07d.pdf', value), 'case-' || value, value, 'uploaded' FROM n`,
	}
	for _, q := range stmts {
		if _, err := l.db.Exec(q, now, n); err != nil {
			b.Fatal(err)
		}
	}
	return reqs
}

// BenchmarkClaimDone measures the rerun path one Claim (one transaction, one fsync) at a time.
func BenchmarkClaimDone(b *testing.B) {
	ctx := context.Background()
	l := MustOpen(b)
	reqs := seedDone(b, l, 10_000)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		c, err := l.Claim(ctx, reqs[i%len(reqs)])
		if err != nil || c.Outcome != ClaimDone {
			b.Fatalf("claim: %v %v", c.Outcome, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "claims/cpu-s")
}

// BenchmarkClaimDoneRerun measures the importer's rerun path: 100,000 already imported rows
// claimed with ClaimDone in batches of 1,000 (one transaction, one lookup and one insert each).
func BenchmarkClaimDoneRerun(b *testing.B) {
	benchRerun(b, func(l *Ledger, reqs []ClaimRequest) (bool, error) {
		done, err := l.ClaimDone(context.Background(), reqs)
		return err == nil && done[0] != "" && done[len(done)-1] != "", err
	})
}

// benchRerun claims 100,000 already done rows in batches of 1,000 with claim, which reports
// whether the batch's first and last rows came back done.
func benchRerun(b *testing.B, claim func(*Ledger, []ClaimRequest) (bool, error)) {
	l := MustOpen(b)
	const rows, batch = 100_000, 1_000
	reqs := seedDone(b, l, rows)
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		for start := 0; start < rows; start += batch {
			ok, err := claim(l, reqs[start:start+batch])
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				b.Fatal("a batch of already imported rows did not come back done")
			}
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N*rows)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
}

// BenchmarkSubmissionLifecycle measures a new registration's five durable steps: claim,
// sending, registered, PDF uploaded (which also moves it to uploaded). It runs with
// synchronous=FULL (what Open sets) and NORMAL, to show what FULL costs.
func BenchmarkSubmissionLifecycle(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			ctx := context.Background()
			l, err := Open(ctx, filepath.Join(b.TempDir(), "l.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			// Every write goes through the writer connection, so its setting governs commits.
			if _, err := l.w.conn.ExecContext(ctx, "PRAGMA synchronous = "+sync); err != nil {
				b.Fatal(err)
			}
			reg := Registered{RegistrationID: "r", InvoiceID: "i", Cases: []CaseRef{{CaseID: "c", OCRNumber: "1"}}}
			b.ResetTimer()
			for i := range b.N {
				c, err := l.Claim(ctx, invoiceReq(0, 0, fmt.Sprintf("L-%d", i), "h", 100))
				if err != nil {
					b.Fatal(err)
				}
				id := c.Submission.ID
				if _, err := l.MarkSending(ctx, id, ""); err != nil {
					b.Fatal(err)
				}
				if err := l.MarkRegistered(ctx, id, reg); err != nil {
					b.Fatal(err)
				}
				if st, err := l.MarkPDF(ctx, id, 0, PDFUploaded, ""); err != nil || st != StateUploaded {
					b.Fatal(st, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submissions/s")
		})
	}
}
