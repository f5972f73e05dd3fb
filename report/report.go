package report

import (
	"context"
	"iter"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// Store is what a report needs of the ledger (*ledger.Ledger has every method).
type Store interface {
	Files(ctx context.Context, f ledger.FileFilter) ([]ledger.FileInfo, error)
	Submissions(ctx context.Context, f ledger.SubmissionFilter) ([]ledger.Submission, error)
	Totals(ctx context.Context, p ledger.Period, creditor string) ([]ledger.Total, error)
	Conflicts(ctx context.Context, p ledger.Period, creditor string) ([]ledger.Conflict, error)
	RowErrors(ctx context.Context, p ledger.Period) ([]ledger.RowErrorRecord, error)
}

// Deliveries is what sending reports needs of the ledger: one row per period, never mailed twice.
type Deliveries interface {
	RecordReport(ctx context.Context, creditor string, p ledger.Period, path string) (ledger.ReportID, error)
	MarkReportSent(ctx context.Context, id ledger.ReportID) error
	MarkReportFailed(ctx context.Context, id ledger.ReportID, reason string) error
	PendingReports(ctx context.Context) ([]ledger.ReportDelivery, error)
	LastReportUntil(ctx context.Context, creditor string) (time.Time, bool, error)
}

// Cases is what a report needs of the Amili client (*amili.Client): paged list queries only.
type Cases interface {
	AllCases(ctx context.Context, q amili.CaseQuery) iter.Seq2[amili.Case, error]
}

// Period is the half-open time range [Since, Until) a report covers, for one creditor or, with
// Creditor "", for all.
type Period struct {
	Since, Until time.Time
	Creditor     string
}

func (p Period) ledger() ledger.Period { return ledger.Period{Since: p.Since, Until: p.Until} }

// Report is everything one report shows. Amounts are öre throughout.
type Report struct {
	Period    Period
	Location  *time.Location // the zone times are shown in
	Generated time.Time

	Files         []File
	Registrations []Registration
	Totals        []Total
	Problems      []Problem
	Cases         []CaseView
	// CarriedOver are items claimed in earlier periods and still pending now: not part of this
	// period's balance, listed so that nothing waits unseen.
	CarriedOver []Registration
	Days        []Day
	// AmiliCalls is how many GET /cases pages were read.
	AmiliCalls int
}

// File is one CSV file first seen in the period.
type File struct {
	Name            string
	Creditor        string // "" when the ledger does not say
	Received        time.Time
	Outcome         string
	Rows            int
	Registered      int
	AlreadyImported int
	Rejected        int
	Conflicts       int
	PDFsAttached    int
	Error           string
}

// Registration is one invoice number registered (or pending) at Amili.
type Registration struct {
	Creditor      string
	InvoiceNumber string
	CustomerName  string
	Amount        domain.Amount
	Currency      string
	InvoiceID     string // Amili invoice id (invoice registrations)
	CaseID        string
	OCRNumber     string
	PDF           string // uploaded, pending, missing
	State         string // the submission's state
	File          string
	Line          int
	At            time.Time // when the ledger last changed it
}

// Total is one creditor's money in one currency. The balance rule:
// File − Registered − AlreadyImported − Rejected − Conflicts − Pending = 0.
type Total struct {
	Creditor        string
	Currency        string
	File            domain.Amount // every item claimed from the period's files
	Registered      domain.Amount // sum of the Registrations listed
	AlreadyImported domain.Amount
	Rejected        domain.Amount
	Conflicts       domain.Amount
	Pending         domain.Amount
	// LedgerRegistered is the ledger's own registered total, shown when it differs from the list.
	LedgerRegistered domain.Amount
}

// Balance is File minus every bucket; anything but zero means money is unaccounted for.
func (t Total) Balance() domain.Amount {
	return t.File - t.Registered - t.AlreadyImported - t.Rejected - t.Conflicts - t.Pending
}

// Problem kinds.
const (
	ProblemRowError = "row_error" // refused by validation before anything was sent
	ProblemRejected = "rejected"  // refused by Amili (or the PDF rule)
	ProblemConflict = "conflict"  // invoice number known with other content; never sent
	ProblemWarning  = "warning"   // reported but not refused
)

// Problem is one row that needs a person: where it is and which rule it broke.
type Problem struct {
	Kind          string
	Creditor      string // "" when the ledger does not say (a file with no valid row)
	File          string
	Line          int
	Column        string
	Value         string
	Rule          string
	InvoiceNumber string
	Amount        domain.Amount
	Currency      string
	HasAmount     bool
	OldHash       string // conflicts: the content first claimed
	NewHash       string // conflicts: the content seen now
}

// Mismatch flags.
const (
	FlagMissing   = "missing at Amili"
	FlagAmount    = "amount differs"
	FlagNoInvoice = "original_invoice missing"
)

// CaseView is Amili's current view of one of the period's cases, next to what the ledger says.
type CaseView struct {
	InvoiceNumber    string
	CaseID           string
	Currency         string
	LedgerAmount     domain.Amount
	AmiliCapital     domain.Amount
	Status           string
	State            string
	RemainingCapital domain.Amount
	RemainingTotal   domain.Amount
	ClosedReason     string
	Found            bool
	Flags            []string
}

// Day is one bar of the chart: registrations and their amount on one calendar day.
type Day struct {
	Date   time.Time
	Count  int
	Amount domain.Amount // in ChartCurrency
}

// ChartCurrency is the currency of the chart's amount bars (the period's most used one).
func (r *Report) ChartCurrency() string {
	best, n := "SEK", -1
	counts := map[string]int{}
	for _, g := range r.Registrations {
		counts[g.Currency]++
	}
	for c, k := range counts {
		if k > n || (k == n && c < best) {
			best, n = c, k
		}
	}
	return best
}

// Mismatches counts the cases with at least one flag.
func (r *Report) Mismatches() int {
	n := 0
	for _, c := range r.Cases {
		if len(c.Flags) > 0 {
			n++
		}
	}
	return n
}

// Balanced reports whether every total's balance is zero.
func (r *Report) Balanced() bool {
	for _, t := range r.Totals {
		if t.Balance() != 0 {
			return false
		}
	}
	return true
}
