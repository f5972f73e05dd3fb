package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
)

// runSource imports every file matching pattern from a local source with opts over the inbox.
func (s *setup) runSource(opts source.Options, pattern string) Summary {
	s.t.Helper()
	opts.Dir, opts.Patterns = s.dir, []string{pattern}
	src, err := source.NewLocal(opts)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.runFrom(src)
}

// runFrom imports every complete file src lists, and closes it.
func (s *setup) runFrom(src Source) Summary {
	s.t.Helper()
	defer src.Close()
	sum, err := Run(context.Background(), s.job(domain.KindInvoice), Deps{Ledger: s.ledger, Client: s.client, Source: src})
	if err != nil {
		s.t.Fatal(err)
	}
	return sum
}

// rowsOf writes name into the inbox: the header of samples/invoices.csv and its rows of the
// given invoice numbers.
func (s *setup) rowsOf(name string, invoices ...string) { s.rowsOfWith(name, true, invoices...) }

// rowsOfWith is rowsOf, with or without the pdf_file column (without it, the PDF's name is
// the layout's template, {invoice_number}.pdf).
func (s *setup) rowsOfWith(name string, pdfColumn bool, invoices ...string) {
	s.t.Helper()
	f, err := os.Open("../samples/invoices.csv")
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		s.t.Fatal(err)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for i, r := range recs {
		if !pdfColumn {
			r = r[:len(r)-1] // pdf_file is the last column
		}
		if i == 0 || slices.Contains(invoices, r[0]) {
			_ = w.Write(r)
		}
	}
	w.Flush()
	s.write(name, out.Bytes())
}

// where says whether rel is in the inbox and whether it is in today's archive folder.
func (s *setup) where(rel string) (inbox, archived bool) {
	_, err := os.Stat(filepath.Join(s.dir, rel))
	inbox = err == nil
	_, err = os.Stat(filepath.Join(s.dir, "archive", time.Now().Format("2006-01-02"), rel))
	return inbox, err == nil
}

// A done file's PDFs go to the archive's date folder with it; one that is missing is only
// logged and the file stays done.
func TestDoneFilePDFsAreArchivedWithIt(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	if err := os.Remove(filepath.Join(s.dir, "INV-2025-104.pdf")); err != nil {
		t.Fatal(err)
	}
	sum := s.runSource(source.Options{}, "invoices.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileDone {
		t.Fatalf("files %+v, want one done", sum.Files)
	}
	for _, rel := range []string{"invoices.csv", "INV-2025-101.pdf", "INV-2025-102.pdf", "INV-2025-103.pdf"} {
		if inbox, archived := s.where(rel); inbox || !archived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived", rel, inbox, archived)
		}
	}
	// Named only by cases.csv, which this job does not take.
	if inbox, archived := s.where("71001.pdf"); !inbox || archived {
		t.Errorf("71001.pdf: in the inbox %v, archived %v; want it left", inbox, archived)
	}
}

// A partial file keeps its PDFs in place, and so does a done file's PDF the partial file also
// names; the done file's other PDFs are archived.
func TestPartialFileKeepsItsPDFs(t *testing.T) {
	s := newSetup(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultServerError}}})
	s.rowsOf("a-done.csv", "INV-2025-101", "INV-2025-103")
	s.rowsOf("b-partial.csv", "INV-2025-101", "INV-2025-102")
	sum := s.runSource(source.Options{}, "?-*.csv")
	got := map[string]ledger.FileOutcome{}
	for _, f := range sum.Files {
		got[f.Name] = f.Outcome
	}
	if got["a-done.csv"] != ledger.FileDone || got["b-partial.csv"] != ledger.FilePartial {
		t.Fatalf("outcomes %v, want a-done.csv done and b-partial.csv partial", got)
	}
	for rel, wantArchived := range map[string]bool{
		"a-done.csv": true, "INV-2025-103.pdf": true,
		"b-partial.csv": false, "INV-2025-101.pdf": false, "INV-2025-102.pdf": false,
	} {
		if inbox, archived := s.where(rel); inbox == wantArchived || archived != wantArchived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived %v", rel, inbox, archived, wantArchived)
		}
	}
}

// archive_pdfs: false archives the CSV and leaves its PDFs where they are.
func TestArchivePDFsOffLeavesThem(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	sum := s.runSource(source.Options{LeavePDFs: true}, "invoices.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileDone {
		t.Fatalf("files %+v, want one done", sum.Files)
	}
	if inbox, archived := s.where("invoices.csv"); inbox || !archived {
		t.Errorf("invoices.csv: in the inbox %v, archived %v; want archived", inbox, archived)
	}
	for _, rel := range []string{"INV-2025-101.pdf", "INV-2025-104.pdf"} {
		if inbox, archived := s.where(rel); !inbox || archived {
			t.Errorf("%s: in the inbox %v, archived %v; want it left", rel, inbox, archived)
		}
	}
}

// A CSV that is not complete yet (changed less than min_age ago) keeps the PDFs it names in
// place, although the done file that used them is archived: here both name their PDFs by the
// layout's template, {invoice_number}.pdf, so the name is nowhere in the CSV's text.
func TestWaitingFileKeepsThePDFsItNames(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	s.rowsOfWith("a-done.csv", false, "INV-2025-101", "INV-2025-103")
	s.rowsOfWith("b-waiting.csv", false, "INV-2025-103")
	now := time.Now()
	if err := os.Chtimes(filepath.Join(s.dir, "b-waiting.csv"), now, now); err != nil {
		t.Fatal(err)
	}
	sum := s.runSource(source.Options{}, "?-*.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileDone || len(sum.Waiting) != 1 {
		t.Fatalf("files %+v, waiting %+v; want a-done.csv done and b-waiting.csv waiting", sum.Files, sum.Waiting)
	}
	for rel, wantArchived := range map[string]bool{"a-done.csv": true, "INV-2025-101.pdf": true, "INV-2025-103.pdf": false} {
		if inbox, archived := s.where(rel); inbox == wantArchived || archived != wantArchived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived %v", rel, inbox, archived, wantArchived)
		}
	}
}

// A quarantined file's PDFs stay where they are.
func TestQuarantinedFileKeepsItsPDFs(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	s.write("broken.csv", []byte("invoice_number,currency,pdf_file\nINV-2025-101,SEK,INV-2025-101.pdf\n"))
	sum := s.runSource(source.Options{}, "broken.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileFailed {
		t.Fatalf("files %+v, want one failed", sum.Files)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "error", "broken.csv")); err != nil {
		t.Errorf("not quarantined: %v", err)
	}
	if inbox, archived := s.where("INV-2025-101.pdf"); !inbox || archived {
		t.Errorf("INV-2025-101.pdf: in the inbox %v, archived %v; want it left", inbox, archived)
	}
}

// A CSV still in the inbox that cannot be read to its end keeps every PDF of the run in place.
func TestUnreadableWaitingFileKeepsEveryPDF(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	s.rowsOf("a-done.csv", "INV-2025-101", "INV-2025-103")
	p := filepath.Join(s.dir, "b-waiting.csv")
	if err := os.WriteFile(p, []byte("invoice_number,currency,pdf_file\n\"X-1,SEK\nX-2\",SEK,\"x\"y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := s.runSource(source.Options{}, "?-*.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileDone || len(sum.Waiting) != 1 {
		t.Fatalf("files %+v, waiting %+v; want a-done.csv done and b-waiting.csv waiting", sum.Files, sum.Waiting)
	}
	for rel, wantArchived := range map[string]bool{"a-done.csv": true, "INV-2025-101.pdf": false, "INV-2025-103.pdf": false} {
		if inbox, archived := s.where(rel); inbox == wantArchived || archived != wantArchived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived %v", rel, inbox, archived, wantArchived)
		}
	}
}

// A row of a CSV that is not complete yet that cannot be read (here: cut short, as while it
// is written) keeps every PDF of the run in place: whole, it may name one.
func TestHalfWrittenRowKeepsEveryPDF(t *testing.T) {
	s := newSetup(t, amilitest.Options{})
	s.rowsOf("a-done.csv", "INV-2025-101", "INV-2025-103")
	s.rowsOf("b-waiting.csv", "INV-2025-104")
	p := filepath.Join(s.dir, "b-waiting.csv")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(b, []byte("\nINV-2025-104,")) + len("\nINV-2025-104,2025-09-10")
	if err := os.WriteFile(p, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	sum := s.runSource(source.Options{}, "?-*.csv")
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileDone || len(sum.Waiting) != 1 {
		t.Fatalf("files %+v, waiting %+v; want a-done.csv done and b-waiting.csv waiting", sum.Files, sum.Waiting)
	}
	for rel, wantArchived := range map[string]bool{"a-done.csv": true, "INV-2025-101.pdf": false, "INV-2025-103.pdf": false} {
		if inbox, archived := s.where(rel); inbox == wantArchived || archived != wantArchived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived %v", rel, inbox, archived, wantArchived)
		}
	}
}

// Over SFTP too, a done file's PDFs follow it into the archive and a partial file's stay.
func TestPDFsAreArchivedOverSFTP(t *testing.T) {
	s := newSetup(t, amilitest.Options{Faults: amilitest.Faults{ByInvoiceNumber: map[string]string{"INV-2025-102": amilitest.FaultServerError}}})
	s.rowsOf("a-done.csv", "INV-2025-101", "INV-2025-103")
	s.rowsOf("b-partial.csv", "INV-2025-101", "INV-2025-102")
	key, err := sftptest.NewClientKey("")
	if err != nil {
		t.Fatal(err)
	}
	srv := sftptest.New(t, filepath.Dir(s.dir), sftptest.WithAuthorizedKey(key.Public))
	src, err := source.DialSFTP(context.Background(), source.SFTPConfig{
		Host: srv.Host(), Port: srv.Port(), User: srv.User(),
		PrivateKey: key.PEM, HostKey: srv.HostKeyLine(), Timeout: 5 * time.Second,
	}, source.Options{Dir: "/in", Patterns: []string{"?-*.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	sum := s.runFrom(src)
	got := map[string]ledger.FileOutcome{}
	for _, f := range sum.Files {
		got[f.Name] = f.Outcome
	}
	if got["a-done.csv"] != ledger.FileDone || got["b-partial.csv"] != ledger.FilePartial {
		t.Fatalf("outcomes %v, want a-done.csv done and b-partial.csv partial", got)
	}
	for rel, wantArchived := range map[string]bool{
		"a-done.csv": true, "INV-2025-103.pdf": true,
		"b-partial.csv": false, "INV-2025-101.pdf": false, "INV-2025-102.pdf": false,
	} {
		if inbox, archived := s.where(rel); inbox == wantArchived || archived != wantArchived {
			t.Errorf("%s: in the inbox %v, archived %v; want archived %v", rel, inbox, archived, wantArchived)
		}
	}
}
