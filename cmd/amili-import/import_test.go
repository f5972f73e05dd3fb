package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/ledger"
)

// The samples' invoice numbers and the PDF each one names.
var (
	sampleInvoices = []string{"INV-2025-101", "INV-2025-102", "INV-2025-103", "INV-2025-104"}
	sampleDebts    = []string{"INV-2025-003", "INV-2025-010", "INV-2025-011", "INV-2025-020"}
	sampleERP      = []string{"71001", "71002"}
)

func TestImportSamples(t *testing.T) {
	h := newHarness(t, amilitest.Options{})

	code, sum, stderr := h.importFiles(nil, "invoices.csv", "cases.csv")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	code, erp, stderr := h.importFiles([]string{"--mapping", filepath.Join(h.dir, "erp-mapping.yaml")}, "erp-invoices.csv")
	if code != exitOK {
		t.Fatalf("erp: exit %d, want 0; stderr:\n%s", code, stderr)
	}

	calls := h.srv.Calls()
	if got, want := calls["POST /invoice--registrations"], len(sampleInvoices)+len(sampleERP); got != want {
		t.Errorf("invoice registrations: got %d, want %d", got, want)
	}
	if got, want := calls["POST /case--registrations"], 3; got != want {
		t.Errorf("case registrations: got %d, want %d (Tolvan's two debts in one)", got, want)
	}
	if got, want := calls["POST /media--upload/{id}"], len(sampleInvoices)+len(sampleDebts)+len(sampleERP); got != want {
		t.Errorf("uploads: got %d, want %d", got, want)
	}
	if got := calls["GET /cases"]; got != 0 {
		t.Errorf("lookups: got %d, want 0 (nothing was in doubt)", got)
	}
	if sum.Registered != 7 || sum.PDFsAttached != 8 || erp.Registered != 2 || erp.PDFsAttached != 2 {
		t.Errorf("summary: got registered %d/%d, pdfs %d/%d; want 7/2, 8/2", sum.Registered, erp.Registered, sum.PDFsAttached, erp.PDFsAttached)
	}

	// Each invoice number once, each with its own case holding exactly its own PDF.
	cases := h.casesByInvoice()
	for _, num := range append(append(append([]string{}, sampleInvoices...), sampleDebts...), sampleERP...) {
		if n := h.srv.RegistrationCount(h.srv.Creditor, num); n != 1 {
			t.Errorf("%s registered %d times, want 1", num, n)
		}
		if len(cases[num]) != 1 {
			t.Errorf("%s: %d cases, want 1", num, len(cases[num]))
			continue
		}
		ups := h.srv.Uploads(cases[num][0])
		if len(ups) != 1 {
			t.Errorf("%s: %d uploads on its case, want 1", num, len(ups))
			continue
		}
		if want := sha256File(t, filepath.Join(samplesDir, num+".pdf")); ups[0].SHA256 != want {
			t.Errorf("%s: uploaded sha256 %s, want the sample PDF's %s", num, ups[0].SHA256, want)
		}
	}
	if got := h.ledgerStates(); got[ledger.StateUploaded] != 9 || len(got) != 1 {
		t.Errorf("ledger states: got %v, want 9 uploaded", got)
	}
}

func TestImportCostsTwoCallsPerInvoice(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	code, _, stderr := h.importFiles(nil, "invoices.csv")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	c := h.srv.Calls()
	perRow := c["POST /invoice--registrations"] + c["POST /media--upload/{id}"] + c["GET /cases"] + c["GET /cases/{id}"]
	if got, want := perRow, 2*len(sampleInvoices); got != want {
		t.Errorf("row calls: got %d for %d invoices, want exactly 2 each (calls %v)", got, len(sampleInvoices), c)
	}
	// The once-per-run checks: the creditor, looked up once however many rows.
	if got := c["GET /creditors/{id}"]; got != 1 {
		t.Errorf("creditor checks: got %d, want 1 per run", got)
	}
}

func TestRerunSendsNothing(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	if code, _, stderr := h.importFiles(nil, "invoices.csv", "cases.csv"); code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", code, stderr)
	}
	before := h.srv.Calls()

	t.Run("SameFile", func(t *testing.T) {
		code, sum, stderr := h.importFiles(nil, "invoices.csv", "cases.csv")
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if sum.SameFile != 2 || sum.Registered != 0 {
			t.Errorf("got same-file %d, registered %d; want 2, 0", sum.SameFile, sum.Registered)
		}
	})
	t.Run("Renamed", func(t *testing.T) {
		copyFile(t, filepath.Join(h.dir, "invoices.csv"), filepath.Join(h.dir, "invoices-again.csv"))
		code, sum, stderr := h.importFiles(nil, "invoices-again.csv")
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if sum.SameFile != 1 {
			t.Errorf("same-file: got %d, want 1", sum.SameFile)
		}
	})
	t.Run("OtherBytesSameRows", func(t *testing.T) {
		// Same rows, other bytes (a trailing blank line): every row is skipped as already imported.
		b, err := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, "invoices-copy.csv"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		code, sum, stderr := h.importFiles(nil, "invoices-copy.csv")
		if code != exitOK {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		if sum.AlreadyImported != len(sampleInvoices) {
			t.Errorf("already imported: got %d, want %d", sum.AlreadyImported, len(sampleInvoices))
		}
	})
	after := h.srv.Calls()
	for _, k := range []string{"POST /invoice--registrations", "POST /case--registrations", "POST /media--upload/{id}", "GET /cases"} {
		if after[k] != before[k] {
			t.Errorf("%s: %d calls after the first run, want 0", k, after[k]-before[k])
		}
	}
}

func TestEditedRowIsAConflict(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	if code, _, stderr := h.importFiles(nil, "invoices.csv"); code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", code, stderr)
	}
	before := h.registrationCalls()
	b, err := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), "24000.00,24000.00", "24500.00,24500.00", 1)
	if edited == string(b) {
		t.Fatal("sample changed: the edit found nothing to change")
	}
	if err := os.WriteFile(filepath.Join(h.dir, "edited.csv"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	code, sum, _ := h.importFiles(nil, "edited.csv")
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1 (a conflict is not done)", code)
	}
	if sum.Conflicts != 1 || sum.AlreadyImported != 3 || sum.Registered != 0 {
		t.Errorf("got conflicts %d, already %d, registered %d; want 1, 3, 0", sum.Conflicts, sum.AlreadyImported, sum.Registered)
	}
	if got := h.registrationCalls() - before; got != 0 {
		t.Errorf("registrations sent: %d, want 0", got)
	}
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-104"); n != 1 {
		t.Errorf("INV-2025-104 registered %d times, want 1", n)
	}
}

func TestInvalidRowNeverSent(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	b, err := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	bad := strings.ReplaceAll(lines[len(lines)-2], "INV-2025-104", "INV-2025-999")
	bad = strings.Replace(bad, "2025-09-10", "2025-02-30", 1) // no such date
	if err := os.WriteFile(filepath.Join(h.dir, "invoices.csv"), []byte(string(b)+bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, sum, _ := h.importFiles(nil, "invoices.csv")
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1", code)
	}
	if sum.Rejected != 1 || sum.Registered != len(sampleInvoices) {
		t.Errorf("got rejected %d, registered %d; want 1, %d", sum.Rejected, sum.Registered, len(sampleInvoices))
	}
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-999"); n != 0 {
		t.Errorf("the invalid row reached Amili %d times", n)
	}
	for _, num := range sampleInvoices {
		if n := h.srv.RegistrationCount(h.srv.Creditor, num); n != 1 {
			t.Errorf("%s registered %d times, want 1", num, n)
		}
	}
}

func TestMissingPDFRejectsRowBeforeSending(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	if err := os.Remove(filepath.Join(h.dir, "INV-2025-103.pdf")); err != nil {
		t.Fatal(err)
	}
	code, sum, _ := h.importFiles(nil, "invoices.csv")
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1", code)
	}
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-103"); n != 0 {
		t.Errorf("INV-2025-103 without its PDF was registered %d times under pdf: required", n)
	}
	if sum.Rejected != 1 || sum.Registered != 3 {
		t.Errorf("got rejected %d, registered %d; want 1, 3", sum.Rejected, sum.Registered)
	}
	if sum.Reasons[`column "pdf_file": PDF not found`] != 1 {
		t.Errorf("reasons: got %v, want the missing PDF", sum.Reasons)
	}

	t.Run("Optional", func(t *testing.T) {
		// The first file is done (its rejection is final); a new export carries the row again.
		b, err := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, "invoices-2.csv"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		code, sum, _ := h.importFiles([]string{"--pdf", "optional"}, "invoices-2.csv")
		if code != exitOK {
			t.Errorf("exit %d, want 0", code)
		}
		if sum.Registered != 1 || sum.NoPDF != 1 || sum.AlreadyImported != 3 {
			t.Errorf("got registered %d, no_pdf %d, already %d; want 1, 1, 3", sum.Registered, sum.NoPDF, sum.AlreadyImported)
		}
		if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-103"); n != 1 {
			t.Errorf("INV-2025-103 registered %d times, want 1", n)
		}
	})
}

func TestInactiveCreditorCannotStart(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	h.writeConfig(h.srv.InactiveCreditor, "")
	code, _, stderr := h.importFiles(nil, "invoices.csv")
	if code != exitNoStart {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr, "not active") {
		t.Errorf("stderr does not say why:\n%s", stderr)
	}
	if n := h.registrationCalls(); n != 0 {
		t.Errorf("%d registrations sent for an inactive creditor", n)
	}
}

func TestRejected422(t *testing.T) {
	h := newHarness(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultReject422}}})
	code, sum, _ := h.importFiles(nil, "invoices.csv")
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1", code)
	}
	if sum.Rejected != 1 || sum.Registered != 3 {
		t.Errorf("got rejected %d, registered %d; want 1, 3", sum.Rejected, sum.Registered)
	}
	found := false
	for reason := range sum.Reasons {
		found = found || strings.Contains(reason, "HTTP 422")
	}
	if !found {
		t.Errorf("reasons do not carry the API's answer: %v", sum.Reasons)
	}
	if got := h.ledgerStates(); got[ledger.StateRejected] != 1 || got[ledger.StateUploaded] != 3 {
		t.Errorf("ledger states: got %v, want 1 rejected, 3 uploaded", got)
	}
}

func TestCommitThenDropRecoveredOnce(t *testing.T) {
	h := newHarness(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-103": amilitest.FaultCommitThenDrop}}})
	code, sum, stderr := h.importFiles(nil, "invoices.csv")
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if sum.InDoubtResolved != 1 {
		t.Errorf("in doubt resolved: got %d, want 1", sum.InDoubtResolved)
	}
	code, _, stderr = h.importFiles(nil, "invoices.csv")
	if code != exitOK {
		t.Fatalf("rerun: exit %d; stderr:\n%s", code, stderr)
	}
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-103"); n != 1 {
		t.Errorf("INV-2025-103 registered %d times, want 1", n)
	}
	if got := h.srv.Calls()["GET /cases"]; got != 1 {
		t.Errorf("lookups: got %d, want exactly 1", got)
	}
	cases := h.casesByInvoice()["INV-2025-103"]
	if len(cases) != 1 {
		t.Fatalf("cases for INV-2025-103: %v", cases)
	}
	if ups := h.srv.Uploads(cases[0]); len(ups) != 1 {
		t.Errorf("uploads on its case: got %d, want 1", len(ups))
	}
	lg, err := ledger.Open(context.Background(), h.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	sub, _, err := lg.History(context.Background(), h.srv.Creditor, "INV-2025-103")
	if err != nil {
		t.Fatal(err)
	}
	if sub.State != ledger.StateUploaded || len(sub.Items) != 1 || sub.Items[0].CaseID != cases[0] {
		t.Errorf("ledger: state %s, items %+v; want uploaded on case %s", sub.State, sub.Items, cases[0])
	}
}

func TestCancelledRunResumesWithoutDuplicates(t *testing.T) {
	h := newHarness(t, amilitest.Options{Latency: 40 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if len(h.srv.Registrations()) >= 2 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	args := []string{"import", "--config", h.cfg, "--summary", "json", "--concurrency", "2",
		filepath.Join(h.dir, "invoices.csv"), filepath.Join(h.dir, "cases.csv")}
	code, _, _ := h.run(ctx, args...)
	if code != exitSomeRows {
		t.Errorf("cancelled run: exit %d, want 1", code)
	}
	if n := len(h.srv.Registrations()); n >= 7 {
		t.Fatalf("the cancel came too late to test anything: %d registrations", n)
	}
	if got := h.ledgerStates(); got[ledger.StateSending] != 0 {
		t.Errorf("after the cancel %d submissions are left in sending: %v", got[ledger.StateSending], got)
	}

	code, _, stderr := h.importFiles(nil, "invoices.csv", "cases.csv")
	if code != exitOK {
		t.Fatalf("rerun: exit %d; stderr:\n%s", code, stderr)
	}
	for _, num := range append(append([]string{}, sampleInvoices...), sampleDebts...) {
		if n := h.srv.RegistrationCount(h.srv.Creditor, num); n != 1 {
			t.Errorf("%s registered %d times, want 1", num, n)
		}
		if cs := h.casesByInvoice()[num]; len(cs) != 1 || len(h.srv.Uploads(cs[0])) != 1 {
			t.Errorf("%s: cases %v, want one with one upload", num, cs)
		}
	}
}

func TestDryRun(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	code, out, stderr := h.run(context.Background(), "import", "--dry-run", "--config", h.cfg, filepath.Join(h.dir, "invoices.csv"))
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var nums []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var body struct {
			InvoiceNumber string `json:"invoice_number"`
			Account       string `json:"account"`
		}
		if err := json.Unmarshal(sc.Bytes(), &body); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, sc.Text())
		}
		if body.Account != h.srv.Account {
			t.Errorf("account %q, want %q", body.Account, h.srv.Account)
		}
		nums = append(nums, body.InvoiceNumber)
	}
	if strings.Join(nums, ",") != strings.Join(sampleInvoices, ",") {
		t.Errorf("printed %v, want %v", nums, sampleInvoices)
	}
	if !strings.Contains(stderr, "4 registrations valid, 0 rows with errors") {
		t.Errorf("count line missing:\n%s", stderr)
	}
	if len(h.srv.Calls()) != 0 {
		t.Errorf("a dry run called the API: %v", h.srv.Calls())
	}
	if _, err := os.Stat(h.db); !os.IsNotExist(err) {
		t.Errorf("a dry run created the ledger (%v)", err)
	}

	t.Run("InvalidRow", func(t *testing.T) {
		f := filepath.Join(h.dir, "bad.csv")
		b, _ := os.ReadFile(filepath.Join(h.dir, "invoices.csv"))
		if err := os.WriteFile(f, []byte(strings.Replace(string(b), "2025-09-10", "2025-13-10", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, stderr := h.run(context.Background(), "import", "--dry-run", "--config", h.cfg, f)
		if code != exitSomeRows {
			t.Errorf("exit %d, want 1", code)
		}
		if strings.Contains(out, "INV-2025-104") {
			t.Errorf("the invalid registration was printed as if it would be sent")
		}
		if !strings.Contains(stderr, "bad.csv:") || !strings.Contains(stderr, "1 rows with errors") {
			t.Errorf("row error not reported with its file:\n%s", stderr)
		}
	})
	t.Run("Table", func(t *testing.T) {
		code, out, _ := h.run(context.Background(), "import", "--dry-run", "--format", "table", "--config", h.cfg, filepath.Join(h.dir, "cases.csv"))
		if code != exitOK {
			t.Errorf("exit %d", code)
		}
		for _, num := range sampleDebts {
			if !strings.Contains(out, num) {
				t.Errorf("table lacks %s:\n%s", num, out)
			}
		}
	})
}

func TestImportUsage(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	for name, args := range map[string][]string{
		"NoFiles":     {"import", "--config", h.cfg},
		"MissingFile": {"import", "--config", h.cfg, filepath.Join(h.dir, "nope.csv")},
		"BadConfig":   {"import", "--config", filepath.Join(h.dir, "nope.yaml"), filepath.Join(h.dir, "invoices.csv")},
		"BadFormat":   {"import", "--dry-run", "--format", "xml", filepath.Join(h.dir, "invoices.csv")},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, _ := h.run(context.Background(), args...); code != exitNoStart {
				t.Errorf("exit %d, want 2", code)
			}
		})
	}
	if n := len(h.srv.Calls()); n != 0 {
		t.Errorf("calls made: %v", h.srv.Calls())
	}
}

func TestOversizedPDFRejectsRowBeforeSending(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	big := bytes.Repeat([]byte("x"), 4096)
	if err := os.WriteFile(filepath.Join(h.dir, "INV-2025-102.pdf"), append([]byte("%PDF-1.4\n"), big...), 0o644); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(h.srv.Creditor, fmt.Sprintf("jobs:\n  - name: small\n    pdf_max_size: 1KiB\n    source:\n      dir: %s\n", h.dir))
	code, sum, _ := h.importFiles([]string{"--job", "small"}, "invoices.csv")
	if code != exitSomeRows {
		t.Errorf("exit %d, want 1", code)
	}
	if n := h.srv.RegistrationCount(h.srv.Creditor, "INV-2025-102"); n != 0 {
		t.Errorf("INV-2025-102 with a 4 KiB PDF over a 1 KiB limit was registered %d times", n)
	}
	if sum.Rejected != 1 || sum.Registered != 3 {
		t.Errorf("got rejected %d, registered %d; want 1, 3 (reasons %v)", sum.Rejected, sum.Registered, sum.Reasons)
	}
}
