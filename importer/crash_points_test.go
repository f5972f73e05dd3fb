package importer

// Crash points the importer_test.go pair (before the POST; between the answer and the ledger
// write) does not reach: after registering before the upload, during the upload, during the
// archive move. A "crash" is a dead switch shared by the ledger, the client and the source:
// once it trips, nothing more is recorded, sent or moved, as after kill -9 at that point. The
// next run, with live parts, must finish with no duplicate and the file archived once.

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source"
)

var errCrashed = errors.New("simulated crash: the process is gone")

// deadSwitch is the moment of the crash: tripped once, every part fails without effect.
type deadSwitch struct{ dead atomic.Bool }

func (d *deadSwitch) trip() { d.dead.Store(true) }
func (d *deadSwitch) check() error {
	if d.dead.Load() {
		return errCrashed
	}
	return nil
}

// deadLedger records nothing once the switch has tripped; afterRegistered trips it right after
// one invoice number's MarkRegistered is durable.
type deadLedger struct {
	*ledger.Ledger
	sw              *deadSwitch
	afterRegistered string
}

func (l *deadLedger) FinishRun(ctx context.Context, run ledger.RunID, o string, c domain.Counts) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	return l.Ledger.FinishRun(ctx, run, o, c)
}

func (l *deadLedger) FinishFile(ctx context.Context, id ledger.FileID, o ledger.FileOutcome, c domain.Counts, e string) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	return l.Ledger.FinishFile(ctx, id, o, c, e)
}

func (l *deadLedger) Claim(ctx context.Context, req ledger.ClaimRequest) (ledger.Claim, error) {
	if err := l.sw.check(); err != nil {
		return ledger.Claim{}, err
	}
	return l.Ledger.Claim(ctx, req)
}

func (l *deadLedger) ClaimDone(ctx context.Context, reqs []ledger.ClaimRequest) ([]ledger.State, error) {
	if err := l.sw.check(); err != nil {
		return nil, err
	}
	return l.Ledger.ClaimDone(ctx, reqs)
}

func (l *deadLedger) MarkSending(ctx context.Context, id ledger.SubmissionID, owner string) (ledger.Attempt, error) {
	if err := l.sw.check(); err != nil {
		return ledger.Attempt{}, err
	}
	return l.Ledger.MarkSending(ctx, id, owner)
}

func (l *deadLedger) MarkRegistered(ctx context.Context, id ledger.SubmissionID, r ledger.Registered) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	err := l.Ledger.MarkRegistered(ctx, id, r)
	if sub, serr := l.Submission(ctx, id); err == nil && serr == nil && sub.Items[0].InvoiceNumber == l.afterRegistered {
		l.sw.trip()
	}
	return err
}

func (l *deadLedger) MarkUnsent(ctx context.Context, id ledger.SubmissionID, owner, reason string) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	return l.Ledger.MarkUnsent(ctx, id, owner, reason)
}

func (l *deadLedger) MarkRejected(ctx context.Context, id ledger.SubmissionID, reason string) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	return l.Ledger.MarkRejected(ctx, id, reason)
}

func (l *deadLedger) RecordFailure(ctx context.Context, id ledger.SubmissionID, reason string) error {
	if err := l.sw.check(); err != nil {
		return err
	}
	return l.Ledger.RecordFailure(ctx, id, reason)
}

func (l *deadLedger) MarkPDF(ctx context.Context, id ledger.SubmissionID, item int, st ledger.PDFState, reason string) (ledger.State, error) {
	if err := l.sw.check(); err != nil {
		return "", err
	}
	return l.Ledger.MarkPDF(ctx, id, item, st, reason)
}

// deadClient sends nothing once the switch has tripped; midUpload trips it halfway through the
// body of one PDF's upload, so the request is cut as the process dies; afterUpload trips it
// once one PDF's upload was answered, before its ledger write.
type deadClient struct {
	*amili.Client
	sw          *deadSwitch
	midUpload   string // file name
	afterUpload string // file name
}

func (c *deadClient) RegisterInvoice(ctx context.Context, r *domain.InvoiceRegistration) (*amili.InvoiceRegistered, error) {
	if err := c.sw.check(); err != nil {
		return nil, err
	}
	return c.Client.RegisterInvoice(ctx, r)
}

func (c *deadClient) FindCases(ctx context.Context, q amili.CaseQuery) (*amili.CaseList, error) {
	if err := c.sw.check(); err != nil {
		return nil, err
	}
	return c.Client.FindCases(ctx, q)
}

func (c *deadClient) UploadOriginalInvoice(ctx context.Context, caseID, filename string, open func() (io.ReadCloser, error)) (*amili.Uploaded, error) {
	if err := c.sw.check(); err != nil {
		return nil, err
	}
	if filename == c.midUpload {
		inner := open
		open = func() (io.ReadCloser, error) {
			if err := c.sw.check(); err != nil {
				return nil, err
			}
			rc, err := inner()
			if err != nil {
				return nil, err
			}
			return &dyingReader{rc: rc, left: 10, sw: c.sw}, nil
		}
	}
	up, err := c.Client.UploadOriginalInvoice(ctx, caseID, filename, open)
	if err == nil && filename == c.afterUpload {
		c.sw.trip()
		return nil, errCrashed
	}
	return up, err
}

// dyingReader gives a few bytes of the PDF, then the process dies.
type dyingReader struct {
	rc   io.ReadCloser
	left int
	sw   *deadSwitch
}

func (d *dyingReader) Read(b []byte) (int, error) {
	if d.left <= 0 {
		d.sw.trip()
		return 0, errCrashed
	}
	n, err := d.rc.Read(b[:min(len(b), d.left)])
	d.left -= n
	return n, err
}

func (d *dyingReader) Close() error { return d.rc.Close() }

// dyingSource dies while archiving: with movedFirst the rename has happened when the process
// dies, otherwise it dies before it.
type dyingSource struct {
	source.Source
	sw         *deadSwitch
	movedFirst bool
	panics     bool
}

func (s *dyingSource) Archive(ctx context.Context, name string) (string, error) {
	if s.panics {
		// A panic in the move, recovered as a supervisor would: the file stays, the run ends.
		return func() (to string, err error) {
			defer func() {
				if r := recover(); r != nil {
					s.sw.trip()
					err = errCrashed
				}
			}()
			panic("archive blew up")
		}()
	}
	if s.movedFirst {
		_, err := s.Source.Archive(ctx, name)
		s.sw.trip()
		if err != nil {
			return "", err
		}
		return "", errCrashed
	}
	s.sw.trip()
	return "", errCrashed
}

// crashRun runs the samples' invoices with parts wrapped by wrap, then again with live parts,
// and checks exactly-once and the archive.
func crashRun(t *testing.T, wrapLedger func(*ledger.Ledger, *deadSwitch) Ledger, wrapClient func(*amili.Client, *deadSwitch) Client,
	wrapSource func(Source, *deadSwitch) Source) Summary {
	t.Helper()
	s := newSetup(t, amilitest.Options{})
	job := s.job(domain.KindInvoice)
	job.Concurrency = 1
	sw := &deadSwitch{}
	var l Ledger = s.ledger
	var c Client = s.client
	if wrapLedger != nil {
		l = wrapLedger(s.ledger, sw)
	}
	if wrapClient != nil {
		c = wrapClient(s.client, sw)
	}
	runWith := func(l Ledger, c Client, wrap func(Source, *deadSwitch) Source) (Summary, error) {
		src, err := source.NewLocal(source.Options{Dir: s.dir, Patterns: []string{"invoices.csv"}})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var use Source = src
		if wrap != nil {
			use = wrap(src, sw)
		}
		return Run(context.Background(), job, Deps{Ledger: l, Client: c, Source: use})
	}
	runWith(l, c, wrapSource)
	if !sw.dead.Load() {
		t.Fatal("the crash point was never reached")
	}
	before := len(s.srv.Registrations())

	sum, err := runWith(s.ledger, s.client, nil)
	if err != nil {
		t.Fatalf("run after the crash: %v", err)
	}
	nums := []string{"INV-2025-101", "INV-2025-102", "INV-2025-103", "INV-2025-104"}
	for _, num := range nums {
		if n := s.srv.RegistrationCount(s.srv.Creditor, num); n != 1 {
			t.Errorf("%s registered %d times, want 1", num, n)
		}
		sub, _, err := s.ledger.History(context.Background(), s.srv.Creditor, num)
		if err != nil || sub.State != ledger.StateUploaded {
			t.Errorf("%s: state %q (%v), want uploaded", num, sub.State, err)
		}
	}
	for _, cs := range s.srv.Cases() {
		ups := s.srv.Uploads(cs.ID)
		if len(ups) != 1 || ups[0].Filename != cs.Debt.InvoiceNumber+".pdf" {
			t.Errorf("case of %s: uploads %+v, want its own PDF once", cs.Debt.InvoiceNumber, ups)
		}
	}
	if got := len(s.srv.Registrations()); got != len(nums) {
		t.Errorf("%d registrations in all (%d before the restart), want %d", got, before, len(nums))
	}
	if !sum.AllDone() {
		t.Errorf("run after the crash not all done: %+v", sum.Counts)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "invoices.csv")); !os.IsNotExist(err) {
		t.Errorf("invoices.csv still in the inbox after the run that completed (%v)", err)
	}
	archived, _ := filepath.Glob(filepath.Join(s.dir, "archive", "*", "invoices*.csv"))
	if len(archived) != 1 {
		t.Errorf("archived copies: %v, want exactly one", archived)
	}
	return sum
}

func TestCrashAfterRegisteredBeforeUpload(t *testing.T) {
	sum := crashRun(t, func(l *ledger.Ledger, sw *deadSwitch) Ledger {
		return &deadLedger{Ledger: l, sw: sw, afterRegistered: "INV-2025-102"}
	}, func(c *amili.Client, sw *deadSwitch) Client {
		return &deadClient{Client: c, sw: sw}
	}, nil)
	// The run after the crash finished the one whose PDF was pending and counted each of the
	// four invoices once: registered now, resumed, or already imported.
	c := sum.Counts
	if c.Resumed != 1 || c.Registered+c.Resumed+c.AlreadyImported != 4 || c.PDFsAttached != c.Registered+c.Resumed {
		t.Errorf("run after the crash: registered %d, resumed %d, already imported %d, PDFs %d; want 1 resumed, 4 in all, a PDF for each sent",
			c.Registered, c.Resumed, c.AlreadyImported, c.PDFsAttached)
	}
}

func TestCrashDuringUpload(t *testing.T) {
	crashRun(t, func(l *ledger.Ledger, sw *deadSwitch) Ledger {
		return &deadLedger{Ledger: l, sw: sw}
	}, func(c *amili.Client, sw *deadSwitch) Client {
		return &deadClient{Client: c, sw: sw, midUpload: "INV-2025-103.pdf"}
	}, nil)
}

// The upload reached Amili, the process died before the ledger heard of it: the next run asks
// the case (one GET /cases/{id}) and finds the PDF there instead of uploading it again.
func TestCrashAfterUploadBeforeLedgerWrite(t *testing.T) {
	var calls func() map[int]int
	crashRun(t, func(l *ledger.Ledger, sw *deadSwitch) Ledger {
		return &deadLedger{Ledger: l, sw: sw}
	}, func(c *amili.Client, sw *deadSwitch) Client {
		calls = func() map[int]int { return c.Stats().Calls["GET /cases/{id}"] }
		return &deadClient{Client: c, sw: sw, afterUpload: "INV-2025-102.pdf"}
	}, nil)
	if n := calls()[200]; n != 1 {
		t.Errorf("GET /cases/{id} answered %d times, want 1 (the one interrupted upload)", n)
	}
}

func TestCrashDuringArchiveMove(t *testing.T) {
	for name, src := range map[string]dyingSource{
		"BeforeRename": {}, "AfterRename": {movedFirst: true}, "Panic": {panics: true},
	} {
		t.Run(name, func(t *testing.T) {
			crashRun(t, func(l *ledger.Ledger, sw *deadSwitch) Ledger {
				return &deadLedger{Ledger: l, sw: sw}
			}, func(c *amili.Client, sw *deadSwitch) Client {
				return &deadClient{Client: c, sw: sw}
			}, func(s Source, sw *deadSwitch) Source {
				d := src
				d.Source, d.sw = s, sw
				return &d
			})
		})
	}
}

// flakySource fails opening one PDF once with an I/O error, as a dropped SFTP connection does.
type flakySource struct {
	source.Source
	pdf    string
	failed atomic.Bool
}

func (f *flakySource) OpenPDF(ctx context.Context, name string) (io.ReadCloser, error) {
	if name == f.pdf && !f.failed.Swap(true) {
		return nil, errors.New("connection lost")
	}
	return f.Source.OpenPDF(ctx, name)
}

// A PDF that cannot be read for a reason of the moment leaves its row for the next run: it is
// neither refused nor sent, and the file is not archived until it is done.
func TestTransientPDFErrorLeavesRowForNextRun(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	job := s.job(domain.KindInvoice)
	src, err := source.NewLocal(source.Options{Dir: s.dir, Patterns: []string{"invoices.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	flaky := &flakySource{Source: src, pdf: "INV-2025-102.pdf"}
	sum, err := Run(context.Background(), job, Deps{Ledger: s.ledger, Client: s.client, Source: flaky})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Rejected != 0 || sum.Counts.Failed != 1 || sum.Files[0].Outcome != ledger.FilePartial {
		t.Fatalf("first run: %+v, outcome %s; want 1 failed, 0 rejected, partial", sum.Counts, sum.Files[0].Outcome)
	}
	if n := s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-102"); n != 0 {
		t.Fatalf("INV-2025-102 sent %d times without its PDF", n)
	}
	if errs, _ := s.ledger.RowErrors(context.Background(), ledger.Period{}); len(errs) != 0 {
		t.Errorf("row errors recorded for a transient failure: %+v", errs)
	}
	sum, err = Run(context.Background(), job, Deps{Ledger: s.ledger, Client: s.client, Source: flaky})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.AllDone() || s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-102") != 1 {
		t.Errorf("second run: %+v; want all done and INV-2025-102 registered once", sum.Counts)
	}
}
