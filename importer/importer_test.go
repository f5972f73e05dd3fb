package importer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/source"
)

// setup is a real run's parts: the sandbox, a ledger in a temp dir, a local inbox holding a
// copy of the samples.
type setup struct {
	t      *testing.T
	srv    *amilitest.Server
	client *amili.Client
	ledger *ledger.Ledger
	dir    string
}

func newSetup(t *testing.T, opts amilitest.Options) *setup {
	t.Helper()
	srv := amilitest.NewServer(opts)
	t.Cleanup(srv.Close)
	client, err := amili.New(amili.Config{BaseURL: srv.URL, Auth: amili.AuthConfig{Method: amili.AuthToken, Token: "t"}, RateLimit: 60000, Burst: 100, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	lg, err := ledger.Open(context.Background(), filepath.Join(root, "ledger.db"), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	s := &setup{t: t, srv: srv, client: client, ledger: lg, dir: filepath.Join(root, "in")}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("../samples")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			b, err := os.ReadFile(filepath.Join("../samples", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			s.write(e.Name(), b)
		}
	}
	return s
}

// write puts a file in the inbox, dated back so the source takes it at once.
func (s *setup) write(name string, b []byte) {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		s.t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		s.t.Fatal(err)
	}
}

func (s *setup) job(kind domain.Kind) Job {
	return Job{Name: "test", Move: true, Mapping: mapping.Options{Kind: kind, Account: s.srv.Account, Creditor: s.srv.Creditor}}
}

// run imports every file matching pattern with the given ledger and client.
func (s *setup) run(job Job, pattern string, l Ledger, c Client) (Summary, error) {
	s.t.Helper()
	src, err := source.NewLocal(source.Options{Dir: s.dir, Patterns: []string{pattern}})
	if err != nil {
		s.t.Fatal(err)
	}
	defer src.Close()
	return Run(context.Background(), job, Deps{Ledger: l, Client: c, Source: src})
}

// crashingLedger fails MarkRegistered for one invoice number, as a kill -9 between Amili's
// answer and the ledger write would leave it.
type crashingLedger struct {
	*ledger.Ledger
	invoice string
}

func (c *crashingLedger) MarkRegistered(ctx context.Context, id ledger.SubmissionID, r ledger.Registered) error {
	sub, err := c.Submission(ctx, id)
	if err == nil && sub.Items[0].InvoiceNumber == c.invoice {
		return errors.New("simulated crash")
	}
	return c.Ledger.MarkRegistered(ctx, id, r)
}

func TestCrashAfterRegistrationIsRecovered(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	job := s.job(domain.KindInvoice)
	job.Concurrency = 1
	_, err := s.run(job, "invoices.csv", &crashingLedger{s.ledger, "INV-2025-102"}, s.client)
	if !errors.Is(err, ErrCannotStart) {
		t.Fatalf("a failed ledger write must stop the run; got %v", err)
	}
	sub, _, err := s.ledger.History(context.Background(), s.srv.Creditor, "INV-2025-102")
	if err != nil || sub.State != ledger.StateSending {
		t.Fatalf("after the crash: state %q (%v), want sending", sub.State, err)
	}

	sum, err := s.run(job, "invoices.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-102"); n != 1 {
		t.Errorf("INV-2025-102 registered %d times, want 1", n)
	}
	if sum.Counts.InDoubtResolved != 1 || s.srv.Calls()["GET /cases"] != 1 {
		t.Errorf("in doubt resolved %d with %d lookups; want 1 with 1", sum.Counts.InDoubtResolved, s.srv.Calls()["GET /cases"])
	}
	for _, num := range []string{"INV-2025-101", "INV-2025-102", "INV-2025-103", "INV-2025-104"} {
		if n := s.srv.RegistrationCount(s.srv.Creditor, num); n != 1 {
			t.Errorf("%s registered %d times, want 1", num, n)
		}
		sub, _, err := s.ledger.History(context.Background(), s.srv.Creditor, num)
		if err != nil || sub.State != ledger.StateUploaded {
			t.Errorf("%s: state %q (%v), want uploaded", num, sub.State, err)
		}
	}
	if !sum.AllDone() {
		t.Errorf("rerun not all done: %+v", sum.Counts)
	}
}

// lostClient loses the registration POST for one invoice number without sending it, as a
// crash between MarkSending and the POST would.
type lostClient struct {
	*amili.Client
	invoice string
	lost    int
}

func (c *lostClient) RegisterInvoice(ctx context.Context, r *domain.InvoiceRegistration) (*amili.InvoiceRegistered, error) {
	if r.InvoiceNumber == c.invoice && c.lost == 0 {
		c.lost++
		return nil, errors.New("simulated crash before the request")
	}
	return c.Client.RegisterInvoice(ctx, r)
}

func TestCrashBeforePostIsSentOnce(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	job := s.job(domain.KindInvoice)
	job.Concurrency = 1
	c := &lostClient{Client: s.client, invoice: "INV-2025-103"}
	sum, err := s.run(job, "invoices.csv", s.ledger, c)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Failed != 1 || sum.Files[0].Outcome != ledger.FilePartial {
		t.Fatalf("first run: failed %d, outcome %s; want 1, partial", sum.Counts.Failed, sum.Files[0].Outcome)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "invoices.csv")); err != nil {
		t.Fatalf("a partial file must stay for the next run: %v", err)
	}
	sum, err = s.run(job, "invoices.csv", s.ledger, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-103"); n != 1 {
		t.Errorf("INV-2025-103 registered %d times, want 1", n)
	}
	if sum.Counts.Registered != 1 || sum.Counts.AlreadyImported != 3 || !sum.AllDone() {
		t.Errorf("rerun: %+v, want 1 registered, 3 already imported", sum.Counts)
	}
	if sum.Files[0].MovedTo == "" {
		t.Errorf("the finished file was not archived")
	}
}

// partialFinder hides one invoice number's case from the in-doubt lookup.
type partialFinder struct {
	*amili.Client
	hide string
}

func (p *partialFinder) FindCases(ctx context.Context, q amili.CaseQuery) (*amili.CaseList, error) {
	l, err := p.Client.FindCases(ctx, q)
	if err != nil {
		return nil, err
	}
	out := *l
	out.Items = nil
	for _, c := range l.Items {
		if c.Debt.InvoiceNumber != p.hide {
			out.Items = append(out.Items, c)
		}
	}
	return &out, nil
}

func TestInDoubtPartlyFoundIsRejectedForAPerson(t *testing.T) {
	s := newSetup(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-010": amilitest.FaultCommitThenDrop}}})
	sum, err := s.run(s.job(domain.KindCase), "cases.csv", s.ledger, &partialFinder{s.client, "INV-2025-011"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Rejected != 1 || sum.Counts.Registered != 2 {
		t.Errorf("got %+v, want 1 rejected, 2 registered", sum.Counts)
	}
	sub, _, err := s.ledger.History(context.Background(), s.srv.Creditor, "INV-2025-010")
	if err != nil || sub.State != ledger.StateRejected || !strings.Contains(sub.LastError, "resolve by hand") {
		t.Errorf("state %q, last error %q (%v); want rejected for a person", sub.State, sub.LastError, err)
	}
	if n := s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-010"); n != 1 {
		t.Errorf("sent %d times, want 1 (never again while in doubt)", n)
	}
}

func TestFileErrorQuarantinesBeforeSending(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	s.write("broken.csv", []byte("invoice_number,currency\nX-1,SEK\n"))
	sum, err := s.run(s.job(domain.KindInvoice), "broken.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileFailed || sum.Files[0].Error == "" {
		t.Fatalf("files: %+v, want one failed with its reason", sum.Files)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "error", "broken.csv")); err != nil {
		t.Errorf("not quarantined: %v", err)
	}
	if n := len(s.srv.Registrations()); n != 0 {
		t.Errorf("%d registrations from a refused file", n)
	}
}

func TestCaseDebtsEachGetTheirOwnPDF(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	sum, err := s.run(s.job(domain.KindCase), "cases.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Registered != 3 || sum.Counts.PDFsAttached != 4 {
		t.Fatalf("got %+v, want 3 registrations, 4 PDFs", sum.Counts)
	}
	for _, c := range s.srv.Cases() {
		ups := s.srv.Uploads(c.ID)
		if len(ups) != 1 || ups[0].Filename != c.Debt.InvoiceNumber+".pdf" {
			t.Errorf("case of %s: uploads %+v, want its own PDF once", c.Debt.InvoiceNumber, ups)
		}
	}
	if got := s.srv.Calls()["POST /case--registrations"] + s.srv.Calls()["POST /media--upload/{id}"]; got != 3+4 {
		t.Errorf("calls: %d, want 1 + n per case registration (7)", got)
	}
}

func TestCheckPDFName(t *testing.T) {
	for name, ok := range map[string]bool{
		"INV-1.pdf": true, "sub/INV-1.pdf": true, "a..b.pdf": true,
		"": false, "../x.pdf": false, "sub/../../x.pdf": false, `..\x.pdf`: false,
		"/etc/passwd": false, `\\server\x.pdf`: false, "C:x.pdf": false, "x\x00.pdf": false,
	} {
		if err := checkPDFName(name); (err == nil) != ok {
			t.Errorf("checkPDFName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestCheckOpenedPDF(t *testing.T) {
	open := func(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
	if _, err := checkOpened(open("%PDF-1.7\n..."), "a.pdf", 100); err != nil {
		t.Errorf("a PDF: %v", err)
	}
	for name, body := range map[string]string{"NotPDF": "<html>", "Empty": "", "Short": "%PD"} {
		if _, err := checkOpened(open(body), "a.pdf", 100); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A source that cannot tell the size first: the limit holds while streaming.
	p, err := checkOpened(open("%PDF-"+strings.Repeat("x", 200)), "big.pdf", 100)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := p.opener(context.Background(), nil)()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, errPDFTooLarge) {
		t.Errorf("streaming past the limit: got %v, want errPDFTooLarge", err)
	}
	// A file that can tell its size is refused before anything is read.
	big := filepath.Join(t.TempDir(), "big.pdf")
	if err := os.WriteFile(big, []byte("%PDF-"+strings.Repeat("x", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := checkOpened(f, "big.pdf", 100); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("oversized file: got %v", err)
	}
}

func TestDrainContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, stop := drainContext(ctx, 50*time.Millisecond)
	defer stop()
	cancel()
	if d.Err() != nil {
		t.Fatal("the drain context ended with its parent; in-flight calls would be cut")
	}
	select {
	case <-d.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the drain context never ended after the parent's cancel")
	}
}

// A rerun of a file that had a row refused by Amili is not all done, whether the same bytes come
// again (recognised as the same file) or the file was re-exported with other bytes.
func TestRerunOfAFileWithRefusalsIsNotAllDone(t *testing.T) {
	s := newSetup(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultReject422}}})
	job := s.job(domain.KindInvoice)
	job.Move = false
	first, err := s.run(job, "invoices.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if first.Counts.Rejected != 1 || first.AllDone() {
		t.Fatalf("first run: rejected %d, all done %v; want 1 and false", first.Counts.Rejected, first.AllDone())
	}
	same, err := s.run(job, "invoices.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if same.SameFile != 1 || same.Counts.Rejected != 1 || same.AllDone() {
		t.Errorf("same bytes again: same file %d, rejected %d, all done %v; want 1, 1, false", same.SameFile, same.Counts.Rejected, same.AllDone())
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "invoices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	s.write("invoices-again.csv", append(b, '\n'))
	again, err := s.run(job, "invoices-again.csv", s.ledger, s.client)
	if err != nil {
		t.Fatal(err)
	}
	if again.Counts.Rejected != 1 || again.Counts.AlreadyImported != 3 || again.AllDone() {
		t.Errorf("re-exported file: rejected %d, already imported %d, all done %v; want 1, 3, false",
			again.Counts.Rejected, again.Counts.AlreadyImported, again.AllDone())
	}
	if n := s.srv.RegistrationCount(s.srv.Creditor, "INV-2025-101"); n != 1 {
		t.Errorf("INV-2025-101 registered %d times", n)
	}
}

// TestRefusedCredentialsSayAuthenticateOnce: the error of a run whose credentials are refused
// names the step once, not "authenticate: authenticate: …".
func TestRefusedCredentialsSayAuthenticateOnce(t *testing.T) {
	s := newSetup(t, amilitest.Options{SimpleAPICodes: []string{"right"}})
	client, err := amili.New(amili.Config{BaseURL: s.srv.URL, Auth: amili.AuthConfig{Method: amili.AuthAPICode, APICode: "wrong"}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.run(s.job(domain.KindInvoice), "invoices.csv", s.ledger, client)
	if !errors.Is(err, ErrCannotStart) {
		t.Fatalf("got %v, want ErrCannotStart", err)
	}
	if got := strings.Count(err.Error(), "authenticate"); got != 1 {
		t.Errorf("error %q names authenticate %d times, want once", err, got)
	}
	if !strings.Contains(err.Error(), "authenticate: HTTP 401") {
		t.Errorf("error %q does not say the credentials were refused", err)
	}
}
