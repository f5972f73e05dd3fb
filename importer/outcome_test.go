package importer

import (
	"testing"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// TestSummaryOutcome: a run whose rows all reached an end, some refused, completed; one that
// left rows for a later run did not.
func TestSummaryOutcome(t *testing.T) {
	file := func(o ledger.FileOutcome) []FileResult { return []FileResult{{Name: "a.csv", Outcome: o}} }
	tests := []struct {
		name string
		sum  Summary
		want string
	}{
		{"AllDone", Summary{Counts: domain.Counts{Rows: 2, Registered: 2}, Files: file(ledger.FileDone)}, ledger.RunOutcomeOK},
		{"NoFiles", Summary{}, ledger.RunOutcomeOK},
		{"RejectedRow", Summary{Counts: domain.Counts{Rows: 2, Registered: 1, Rejected: 1}, Files: file(ledger.FileDone)}, ledger.RunOutcomeCompletedWithRejections},
		{"Conflict", Summary{Counts: domain.Counts{Rows: 2, Registered: 1, Conflicts: 1}, Files: file(ledger.FileDone)}, ledger.RunOutcomeCompletedWithRejections},
		{"FileRefused", Summary{Files: file(ledger.FileFailed)}, ledger.RunOutcomeCompletedWithRejections},
		{"FailedTransiently", Summary{Counts: domain.Counts{Rows: 2, Registered: 1, Failed: 1}, Files: file(ledger.FilePartial)}, RunOutcomeSomeFailed},
		{"RejectedAndFailed", Summary{Counts: domain.Counts{Rows: 2, Rejected: 1, Failed: 1}, Files: file(ledger.FilePartial)}, RunOutcomeSomeFailed},
		{"Pending", Summary{Counts: domain.Counts{Rows: 1, Pending: 1}, Files: file(ledger.FileDone)}, RunOutcomeSomeFailed},
		{"FileUnreadable", Summary{Files: file(ledger.FilePartial)}, RunOutcomeSomeFailed},
		{"Cancelled", Summary{Counts: domain.Counts{Rows: 1, Rejected: 1}, Cancelled: true}, RunOutcomeInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sum.Outcome(); got != tt.want {
				t.Errorf("Outcome() = %q, want %q", got, tt.want)
			}
		})
	}
}
