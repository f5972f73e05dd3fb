package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/source"
)

// PDFPolicy says what a registration needs of its original invoice.
type PDFPolicy string

// The PDF policies.
const (
	// PDFRequired: a missing or invalid PDF rejects the row before it is registered.
	PDFRequired PDFPolicy = "required"
	// PDFOptional: the row is registered anyway and flagged no_pdf.
	PDFOptional PDFPolicy = "optional"
)

// Defaults of a Job's tunables.
const (
	DefaultConcurrency  = 4
	DefaultPDFMaxSize   = 20 << 20
	DefaultMaxFileSize  = 1 << 30
	DefaultDrainTimeout = 30 * time.Second
	// DefaultInDoubtGrace covers Amili's default client timeout (30 s) many times over: a
	// request queued behind a slow server lands well inside it.
	DefaultInDoubtGrace = 10 * time.Minute
)

// Job is what one run imports and how. cmd/amili-import builds it from the config file or from
// flags; the importer does not read configuration itself.
type Job struct {
	Name string
	// Mapping selects the kind, layout, account, creditor and identity-number policy.
	Mapping mapping.Options
	// Concurrency bounds registrations in flight (0 = DefaultConcurrency). The client's rate
	// limit is shared by all of them.
	Concurrency int
	// PDF is the PDF policy ("" = PDFRequired).
	PDF PDFPolicy
	// PDFMaxSize is the largest PDF accepted, in bytes (0 = DefaultPDFMaxSize).
	PDFMaxSize int64
	// MaxFileSize is the largest CSV file taken, in bytes (0 = DefaultMaxFileSize). A larger
	// file is refused before a byte of it is read.
	MaxFileSize int64
	// Move archives files that are done and quarantines files that failed. One-shot imports of
	// a user's own files leave them where they are.
	Move bool
	// DrainTimeout bounds how long calls already started may finish after the run's context is
	// cancelled (0 = DefaultDrainTimeout).
	DrainTimeout time.Duration
	// TempDir is where remote files are spooled ("" = the system's temporary directory).
	TempDir string
	// InDoubtGrace is how long after its last attempt a registration whose outcome is unknown
	// stays in doubt although a lookup does not find it: Amili may still be working on the
	// request (0 = DefaultInDoubtGrace). Only a lookup after the grace that finds nothing lets
	// it be sent again.
	InDoubtGrace time.Duration
}

func (j Job) withDefaults() Job {
	if j.Concurrency <= 0 {
		j.Concurrency = DefaultConcurrency
	}
	if j.PDF == "" {
		j.PDF = PDFRequired
	}
	if j.PDFMaxSize <= 0 {
		j.PDFMaxSize = DefaultPDFMaxSize
	}
	if j.MaxFileSize <= 0 {
		j.MaxFileSize = DefaultMaxFileSize
	}
	if j.DrainTimeout <= 0 {
		j.DrainTimeout = DefaultDrainTimeout
	}
	if j.InDoubtGrace <= 0 {
		j.InDoubtGrace = DefaultInDoubtGrace
	}
	return j
}

// Client is what the importer needs of the Amili API client (*amili.Client).
type Client interface {
	GetCreditor(ctx context.Context, id string) (*amili.Creditor, error)
	RegisterInvoice(ctx context.Context, r *domain.InvoiceRegistration) (*amili.InvoiceRegistered, error)
	RegisterCase(ctx context.Context, r *domain.CaseRegistration) (*amili.CaseRegistered, error)
	UploadOriginalInvoice(ctx context.Context, caseID, filename string, open func() (io.ReadCloser, error)) (*amili.Uploaded, error)
	FindCases(ctx context.Context, q amili.CaseQuery) (*amili.CaseList, error)
	GetCase(ctx context.Context, id string) (*amili.Case, error)
}

// Ledger is what the importer needs of the ledger (*ledger.Ledger).
type Ledger interface {
	StartRun(ctx context.Context, job string) (ledger.RunID, error)
	FinishRun(ctx context.Context, run ledger.RunID, outcome string, counts domain.Counts) error
	BeginFile(ctx context.Context, run ledger.RunID, f ledger.FileRecord) (ledger.FileID, *ledger.FileInfo, error)
	FinishFile(ctx context.Context, id ledger.FileID, outcome ledger.FileOutcome, counts domain.Counts, errText string) error
	RecordRowErrors(ctx context.Context, file ledger.FileID, errs []domain.RowError) error
	Claim(ctx context.Context, req ledger.ClaimRequest) (ledger.Claim, error)
	MarkSending(ctx context.Context, id ledger.SubmissionID, owner string) (ledger.Attempt, error)
	RecordAttempt(ctx context.Context, id ledger.SubmissionID, owner string) (ledger.Attempt, error)
	MarkRegistered(ctx context.Context, id ledger.SubmissionID, r ledger.Registered) error
	MarkAccepted(ctx context.Context, id ledger.SubmissionID, reason string) error
	ResolveNotFound(ctx context.Context, id ledger.SubmissionID, owner string, grace time.Duration) (ledger.NotFound, error)
	MarkUnsent(ctx context.Context, id ledger.SubmissionID, owner, reason string) error
	MarkPDFSending(ctx context.Context, id ledger.SubmissionID, item int, owner string) (ledger.Attempt, error)
	Submission(ctx context.Context, id ledger.SubmissionID) (ledger.Submission, error)
	MarkRejected(ctx context.Context, id ledger.SubmissionID, reason string) error
	RecordFailure(ctx context.Context, id ledger.SubmissionID, reason string) error
	MarkPDF(ctx context.Context, id ledger.SubmissionID, item int, st ledger.PDFState, reason string) (ledger.State, error)
}

// Source is where files and their PDFs come from (source.Source).
type Source = source.Source

// Deps are the parts a run works with.
type Deps struct {
	// Owner is this process's owner id in the ledger (ledger.Join): what it claims carries it,
	// and no other live process sends it. "" claims without ownership.
	Owner  string
	Ledger Ledger
	Client Client
	// Source is listed by Run; ImportFile takes its source as an argument.
	Source Source
	// Logger receives the run's log; nil discards.
	Logger *slog.Logger
	// Progress receives a progress bar; nil draws none (cmd sets it only on a terminal).
	Progress io.Writer
	// APICalls reports the client's call count so far, for the summary; nil counts none.
	APICalls func() int64
	// Now is the clock (nil = time.Now).
	Now func() time.Time
	// Creditors keeps creditor checks across the runs of a process; nil checks once per run.
	Creditors *CreditorCache
}

// ErrCannotStart marks a failure that stops a run for a reason a person must fix: refused
// credentials, an inactive creditor, a source or ledger that cannot be used. The CLI exits 2.
var ErrCannotStart = errors.New("run cannot go on")

// Importer is one run in progress: Start it, import files, Close it for the summary.
type Importer struct {
	job  Job
	deps Deps
	log  *slog.Logger
	run  ledger.RunID

	startCalls int64
	started    time.Time

	mu        sync.Mutex
	sum       Summary
	creditors map[string]error // creditor id → nil when active, the reason otherwise
	stopErr   error            // set when the run must stop (unauthorized)
	progress  *progress
	pdfs      map[string]bool // PDFs of the files done and archived, moved at the run's end
}

// Run imports every complete file deps.Source lists, oldest first, in one ledger run.
func Run(ctx context.Context, job Job, deps Deps) (Summary, error) {
	imp, err := Start(ctx, job, deps)
	if err != nil {
		return Summary{}, err
	}
	listing, err := deps.Source.List(ctx)
	if err != nil {
		imp.fail(fmt.Errorf("%w: list %s: %w", ErrCannotStart, deps.Source.Describe(), err))
	}
	imp.waiting(listing.Waiting)
	for _, f := range listing.Files {
		if ctx.Err() != nil || imp.stopped() != nil {
			break
		}
		if err := imp.ImportFile(ctx, deps.Source, f.Name); err != nil {
			imp.fail(err)
			break
		}
	}
	if ctx.Err() == nil {
		imp.archivePDFs(ctx)
	}
	return imp.Close(ctx)
}

// Start opens a ledger run. It makes no API call: the credentials and each creditor are checked
// when a file has something to send (checkCreditors). Errors wrap ErrCannotStart.
func Start(ctx context.Context, job Job, deps Deps) (*Importer, error) {
	job = job.withDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	imp := &Importer{
		job:       job,
		deps:      deps,
		log:       deps.Logger.With("job", job.Name),
		creditors: map[string]error{},
		started:   deps.Now(),
	}
	imp.sum.Job = job.Name
	imp.sum.Reasons = map[string]int{}
	if deps.APICalls != nil {
		imp.startCalls = deps.APICalls()
	}
	run, err := deps.Ledger.StartRun(ctx, job.Name)
	if err != nil {
		return nil, fmt.Errorf("%w: start run: %w", ErrCannotStart, err)
	}
	imp.run = run
	if deps.Progress != nil {
		imp.progress = newProgress(deps.Progress)
	}
	return imp, nil
}

// Close records the run's end in the ledger and returns its summary. The error is the one
// that stopped the run early, if any.
func (imp *Importer) Close(ctx context.Context) (Summary, error) {
	imp.mu.Lock()
	sum := imp.sum
	stopErr := imp.stopErr
	imp.mu.Unlock()
	imp.progress.done()
	if imp.deps.APICalls != nil {
		sum.APICalls = imp.deps.APICalls() - imp.startCalls
	}
	sum.Elapsed = imp.deps.Now().Sub(imp.started)
	if stopErr == nil && ctx.Err() != nil {
		sum.Cancelled = true
	}
	outcome := sum.Outcome()
	if stopErr != nil {
		outcome = RunOutcomeFailed
	}
	if err := imp.deps.Ledger.FinishRun(context.WithoutCancel(ctx), imp.run, outcome, sum.Counts); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("finish run: %w", err)
	}
	return sum, stopErr
}

// waiting logs the files the source holds back and keeps them for the summary, so that a file
// dropped a moment ago is not silently absent from the run.
func (imp *Importer) waiting(ws []source.Waiting) {
	for _, w := range ws {
		attrs := []any{"file", w.Name, "reason", w.Reason, "why", w.Why}
		if !w.EligibleAt.IsZero() {
			attrs = append(attrs, "eligible_at", w.EligibleAt.Format(time.RFC3339))
		}
		imp.log.Info("file not yet eligible", attrs...)
	}
	imp.mu.Lock()
	imp.sum.Waiting = append(imp.sum.Waiting, ws...)
	imp.mu.Unlock()
}

// fail stops the run with err (the first error wins).
func (imp *Importer) fail(err error) {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	if imp.stopErr == nil {
		imp.stopErr = err
	}
}

// stopped returns the error that stopped the run, or nil.
func (imp *Importer) stopped() error {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	return imp.stopErr
}

// drainContext returns a context that is not cancelled with ctx, so that a call already started
// and the ledger writes after it complete, but that gives up timeout after ctx is cancelled.
func drainContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(timeout, cancel)
		context.AfterFunc(dctx, func() { t.Stop() })
	})
	return dctx, func() {
		stop()
		cancel()
	}
}
