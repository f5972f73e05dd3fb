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
	ClaimRecords(ctx context.Context, until time.Time) ([]ledger.ClaimRecord, error)
	Transitions(ctx context.Context, until time.Time) ([]ledger.Transition, error)
	Conflicts(ctx context.Context, p ledger.Period, creditor string) ([]ledger.Conflict, error)
	RowErrors(ctx context.Context, p ledger.Period) ([]ledger.RowErrorRecord, error)
	CreditorName(ctx context.Context, creditor string) (string, time.Time, bool, error)
	SaveCreditorName(ctx context.Context, creditor, name string) error
}

// Deliveries is what sending reports needs of the ledger: one row per period, never mailed twice.
type Deliveries interface {
	RecordReport(ctx context.Context, creditor string, p ledger.Period, path string) (ledger.ReportID, error)
	MarkReportSent(ctx context.Context, id ledger.ReportID) error
	MarkReportFailed(ctx context.Context, id ledger.ReportID, reason string) error
	PendingReports(ctx context.Context) ([]ledger.ReportDelivery, error)
	LastReportUntil(ctx context.Context, creditor string) (time.Time, bool, error)
	ReportFor(ctx context.Context, creditor string, p ledger.Period) (ledger.ReportDelivery, bool, error)
}

// Cases is what a report needs of the Amili client (*amili.Client): paged list queries of cases,
// and each creditor once, for its name.
type Cases interface {
	AllCases(ctx context.Context, q amili.CaseQuery) iter.Seq2[amili.Case, error]
	GetCreditor(ctx context.Context, id string) (*amili.Creditor, error)
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

	Files []File
	// Registrations are the items the ledger recorded registered in the period.
	Registrations []Registration
	// AlreadyImported are rows of the period's files whose content an earlier file brought.
	AlreadyImported []Registration
	// Pending are the items claimed and neither registered nor rejected at the period's end,
	// those of earlier periods included (BroughtForward).
	Pending []Registration
	Totals  []Total
	// VAT splits the registered amounts by VAT rate, per creditor and currency.
	VAT      []VATTotal
	Problems []Problem
	Cases    []CaseView
	// CreditorNames are the creditors' names as Amili gave them; a creditor it did not name is
	// missing.
	CreditorNames map[string]string
	// Rebuild is set when the period had been reported before: this report is a rebuild of it.
	Rebuild *Rebuild
	Days    []Day
	// AmiliCalls is how many GET /cases pages were read.
	AmiliCalls int
}

// Money is an amount in a currency.
type Money struct {
	Currency string
	Amount   domain.Amount
}

// File is one file (its content: the same bytes under any name, in any number of runs) with
// rows first claimed in the period, or received in it.
type File struct {
	Name     string
	Names    []string // other names the same bytes came under
	Creditor string   // "" when the ledger does not say
	Received time.Time
	Runs     int // how many runs read it, up to the period's end
	Outcome  string
	Rows     int     // data rows the file holds, as its runs read them
	Claimed  int     // invoice numbers first claimed from it in the period
	Total    []Money // the file total: what those claims carried
	// Where the file's invoice numbers stand in this report.
	Registered      int
	AlreadyImported int
	Rejected        int
	Conflicts       int
	Pending         int
	PDFsAttached    int
	RowErrors       int
	Error           string
}

// Registration is one invoice number on a money line: registered, already imported or pending.
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
	State         string // registered, uploaded, no_pdf; claimed or sending for pending items
	File          string
	Line          int
	At            time.Time // when it was recorded registered (pending: claimed)
	Claimed       time.Time // when its content was first claimed
	// BroughtForward marks an item claimed before the period and still pending at its start:
	// its amount is in the brought-forward total, not in the file total.
	BroughtForward bool
	content        string           // the SHA-256 of the file that brought it
	vat            []domain.VATPart // the split of its content by VAT rate, when known
}

// Total is one creditor's money in one currency. The balance rule:
// File + BroughtForward − Registered − AlreadyImported − Rejected − Conflicts − Pending = 0.
type Total struct {
	Creditor string
	Currency string
	// File is what the period's file rows carried: each row counted once, in the period it
	// was first claimed from its file's content.
	File domain.Amount
	// BroughtForward is what was pending at the period's start.
	BroughtForward  domain.Amount
	Registered      domain.Amount // sum of the Registrations listed
	AlreadyImported domain.Amount // sum of the AlreadyImported lines
	Rejected        domain.Amount // sum of the rejected lines
	Conflicts       domain.Amount // sum of the conflict lines
	Pending         domain.Amount // sum of the Pending lines: pending at the period's end
}

// Balance is File plus BroughtForward minus every bucket; anything but zero means money is
// unaccounted for.
func (t Total) Balance() domain.Amount {
	return t.File + t.BroughtForward - t.Registered - t.AlreadyImported - t.Rejected - t.Conflicts - t.Pending
}

// VATTotal is one VAT rate's share of a creditor's registered amounts in one currency. Case
// registrations carry no VAT rate (their capital to claim is one amount): their rate is
// unknown, and so are their net and VAT (NetKnown false).
type VATTotal struct {
	Creditor string
	Currency string
	Rate     string // "25%", "12%", "6%", "0%"; "" when not given
	Items    int    // registrations with a line at this rate
	NetKnown bool
	Net      domain.Amount
	VAT      domain.Amount
	Gross    domain.Amount
}

// Rebuild says that a period was reported before and where that report is kept.
type Rebuild struct {
	Of     string    // the folder of the report first written for the period
	SentAt time.Time // zero when it was not sent
	N      int       // 1 for the first rebuild, 2 for the next …
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
	At            time.Time
	// BroughtForward marks a rejection of an item claimed before the period (see Registration).
	BroughtForward bool
	content        string
}

// Mismatch flags.
const (
	FlagMissing   = "missing at Amili"
	FlagAmount    = "amount differs"
	FlagNoInvoice = "original_invoice missing"
)

// CaseView is Amili's current view of one of the period's cases, next to what the ledger says.
type CaseView struct {
	InvoiceNumber string
	CaseID        string
	Currency      string
	LedgerAmount  domain.Amount
	// AmiliCapital, RemainingCapital and RemainingTotal are nil when Amili did not send them.
	AmiliCapital     *domain.Amount
	Status           string
	State            string
	RemainingCapital *domain.Amount
	RemainingTotal   *domain.Amount
	ClosedReason     string
	Found            bool
	Flags            []string
}

// Day is one group of bars of the chart, in ChartCurrency: what was registered and rejected on
// one calendar day, and what was pending at its end.
type Day struct {
	Date       time.Time
	Count      int // registrations
	Registered domain.Amount
	Rejected   domain.Amount
	Pending    domain.Amount
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

// CreditorName is the creditor's name as Amili gave it, or "" when it did not.
func (r *Report) CreditorName(id string) string { return r.CreditorNames[id] }

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
