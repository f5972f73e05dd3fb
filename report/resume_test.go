package report

import (
	"testing"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// A file read again by the runs after a crash claims its items again (resume, in doubt, done);
// each item still counts once on the file side, none as already imported, and the report
// balances.
func TestBalanceAfterCrashAndResume(t *testing.T) {
	f := newFixture(t)
	done := item{creditor: f.sb.Creditor, number: "R-1", customer: "A", amount: 10_000}
	inDoubt := item{creditor: f.sb.Creditor, number: "R-2", customer: "B", amount: 20_000}
	claimed := item{creditor: f.sb.Creditor, number: "R-3", customer: "C", amount: 40_000}

	// The first run registers R-1, dies while sending R-2 and before sending R-3.
	first := f.file("a.csv")
	f.register(first, 2, done, pdfUpload)
	if _, err := f.led.MarkSending(f.ctx, f.claim(first, 3, inDoubt).Submission.ID, ""); err != nil {
		t.Fatal(err)
	}
	f.claim(first, 4, claimed)

	// Two more runs read the same file; the last one finishes it.
	for run := 0; run < 2; run++ {
		var err error
		if f.run, err = f.led.StartRun(f.ctx, "invoices"); err != nil {
			t.Fatal(err)
		}
		again := f.file("a.csv")
		f.claim(again, 2, done)
		c2, c3 := f.claim(again, 3, inDoubt), f.claim(again, 4, claimed)
		if run == 1 {
			for _, c := range []struct {
				claim ledger.Claim
				it    item
			}{{c2, inDoubt}, {c3, claimed}} {
				if c.claim.Submission.State == ledger.StateClaimed {
					if _, err := f.led.MarkSending(f.ctx, c.claim.Submission.ID, ""); err != nil {
						t.Fatal(err)
					}
				}
				regID, caseID, ocr := f.sandboxCase(c.it, c.it.amount)
				if err := f.led.MarkRegistered(f.ctx, c.claim.Submission.ID, ledger.Registered{RegistrationID: regID,
					Cases: []ledger.CaseRef{{CaseID: caseID, OCRNumber: ocr}}}); err != nil {
					t.Fatal(err)
				}
				f.pdf(c.claim.Submission.ID, caseID, pdfUpload)
			}
		}
		f.finish(again, domain.Counts{})
	}
	r, err := Build(f.ctx, f.led, f.client, f.period(""), BuildOptions{Location: stockholm})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Totals) != 1 {
		t.Fatalf("totals %+v, want one", r.Totals)
	}
	tot := r.Totals[0]
	if tot.Registered != 70_000 || tot.Balance() != 0 || tot.File != 70_000 || tot.AlreadyImported != 0 {
		t.Errorf("totals %+v (balance %s); want 700.00 registered, the file's 700.00 once, nothing already imported, balance 0", tot, tot.Balance())
	}
}

// A row Amili refused, corrected in a later file of the same period and registered: the refused
// version counts as rejected and the corrected one as registered, and the report balances.
func TestBalanceAfterRejectionCorrected(t *testing.T) {
	f := newFixture(t)
	wrong := item{creditor: f.sb.Creditor, number: "C-1", customer: "A", amount: 12_345}
	fixed := wrong
	fixed.amount, fixed.contentTag = 12_000, "corrected"
	other := item{creditor: f.sb.Creditor, number: "C-2", customer: "B", amount: 50_000}

	first := f.file("a.csv")
	f.reject(first, 2, wrong, "422 customer.address.zip_code: invalid")
	f.register(first, 3, other, pdfUpload)
	f.finish(first, domain.Counts{})
	second := f.file("a-corrected.csv")
	f.register(second, 2, fixed, pdfUpload) // claimed anew: the corrected content replaces the refused one
	f.finish(second, domain.Counts{})

	r, err := Build(f.ctx, f.led, f.client, f.period(""), BuildOptions{Location: stockholm})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Totals) != 1 {
		t.Fatalf("totals %+v, want one", r.Totals)
	}
	tot := r.Totals[0]
	if tot.File != 74_345 || tot.Registered != 62_000 || tot.Rejected != 12_345 || tot.Balance() != 0 {
		t.Errorf("totals %+v (balance %s); want file 743.45, registered 620.00, rejected 123.45, balance 0", tot, tot.Balance())
	}
}
