package importer

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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

// hugeLineFile writes an invoice file whose third line is size bytes long: a good row, then
// bytes the file system does not store (a sparse tail of NULs, with no line break), so the
// test costs no disk.
func hugeLineFile(tb testing.TB, dir string, size int64) string {
	tb.Helper()
	p := filepath.Join(dir, "huge.csv")
	head := "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n" +
		"H-1,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,100.00,25\n"
	if err := os.WriteFile(p, []byte(head), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(p, int64(len(head))+size); err != nil {
		tb.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		tb.Fatal(err)
	}
	return p
}

// hugeLineRun imports a file with a line of size bytes into a fresh sandbox and ledger, and
// returns the summary, the ledger's growth in bytes and the sandbox.
func hugeLineRun(tb testing.TB, size int64) (Summary, int64, *amilitest.Server) {
	tb.Helper()
	return hugeRun(tb, func(dir string) { hugeLineFile(tb, dir, size) })
}

// hugeRun imports what write puts in the inbox into a fresh sandbox and ledger, with the
// default limits, and returns the summary, the ledger's growth and the sandbox.
func hugeRun(tb testing.TB, write func(dir string)) (Summary, int64, *amilitest.Server) {
	tb.Helper()
	srv := amilitest.NewServer(amilitest.Options{})
	tb.Cleanup(srv.Close)
	client, err := amili.New(amili.Config{BaseURL: srv.URL, Auth: amili.AuthConfig{Method: amili.AuthToken, Token: "t"}, RateLimit: 60000, Burst: 100, MaxAttempts: 1})
	if err != nil {
		tb.Fatal(err)
	}
	root := tb.TempDir()
	in := filepath.Join(root, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		tb.Fatal(err)
	}
	lpath := filepath.Join(root, "ledger.db")
	lg, err := ledger.Open(context.Background(), lpath, ledger.Options{})
	if err == nil {
		err = lg.Close() // the empty ledger, checkpointed
	}
	if err != nil {
		tb.Fatal(err)
	}
	before := dirBytes(tb, root, "ledger.db")
	if lg, err = ledger.Open(context.Background(), lpath, ledger.Options{}); err != nil {
		tb.Fatal(err)
	}
	write(in)
	src, err := source.NewLocal(source.Options{Dir: in, Patterns: []string{"*.csv"}})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	job := Job{Name: "huge", Move: true, TempDir: spoolDir(tb, root), Mapping: mapping.Options{Kind: domain.KindInvoice, Account: srv.Account, Creditor: srv.Creditor}}
	sum, err := Run(context.Background(), job, Deps{Ledger: lg, Client: client, Source: src})
	if err != nil {
		tb.Fatal(err)
	}
	if err := lg.Close(); err != nil {
		tb.Fatal(err)
	}
	return sum, dirBytes(tb, root, "ledger.db") - before, srv
}

// dirBytes is the size of the files in dir whose names start with prefix (a ledger and its
// WAL).
func dirBytes(tb testing.TB, dir, prefix string) int64 {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// A 200 MB line refuses its file with a short reason naming the limit; nothing is sent, the
// ledger grows by a few pages, not by the line.
func TestHugeLineRefusesTheFileInBoundedSpace(t *testing.T) {
	sum, growth, srv := hugeLineRun(t, 200<<20)
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileFailed {
		t.Fatalf("files %+v, want one failed", sum.Files)
	}
	if e := sum.Files[0].Error; !strings.Contains(e, "longer than "+strconv.Itoa(mapping.MaxRecordBytes)+" bytes") || len(e) > 400 {
		t.Errorf("reason %q (%d bytes), want the limit, briefly", e, len(e))
	}
	if n := len(srv.Registrations()); n != 0 {
		t.Errorf("%d registrations from a refused file", n)
	}
	if growth > 256<<10 {
		t.Errorf("the ledger grew by %d bytes, want a bounded amount (256 KiB)", growth)
	}
}

// BenchmarkHugeLine imports a file whose third line is 200 MB and reports the process's
// peak RSS during the run and the ledger's growth.
func BenchmarkHugeLine(b *testing.B) {
	for range b.N {
		resetPeakRSS(b)
		_, growth, _ := hugeLineRun(b, 200<<20)
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(growth)/1024, "ledger-growth-KB")
	}
}

// resetPeakRSS sets the process's peak RSS (VmHWM) back to its current RSS.
func resetPeakRSS(tb testing.TB) {
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Skipf("cannot reset the peak RSS here: %v", err)
	}
}

// peakRSS is the process's peak RSS in bytes since resetPeakRSS.
func peakRSS(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// spoolDir is an empty directory for the run's spool files.
func spoolDir(tb testing.TB, root string) string {
	tb.Helper()
	d := filepath.Join(root, "spool")
	if err := os.MkdirAll(d, 0o755); err != nil {
		tb.Fatal(err)
	}
	return d
}

// hugeFile writes a sparse invoice file of size bytes: a header, one good row, then holes.
func hugeFile(tb testing.TB, dir string, size int64) {
	tb.Helper()
	p := hugeLineFile(tb, dir, 0)
	if err := os.Truncate(p, size); err != nil {
		tb.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		tb.Fatal(err)
	}
}

// A 10 GB file is refused before it is read: nothing spooled, nothing sent, quarantined with
// the limit named, the ledger not grown.
func TestHugeFileIsRefusedUnread(t *testing.T) {
	var in string
	sum, growth, srv := hugeRun(t, func(dir string) { in = dir; hugeFile(t, dir, 10<<30) })
	if len(sum.Files) != 1 || sum.Files[0].Outcome != ledger.FileFailed {
		t.Fatalf("files %+v, want one failed", sum.Files)
	}
	if e := sum.Files[0].Error; !strings.Contains(e, "more than the limit of 1073741824 (max_file_size)") {
		t.Errorf("reason %q, want the limit named", e)
	}
	if n := len(srv.Registrations()); n != 0 {
		t.Errorf("%d registrations from a refused file", n)
	}
	if entries, _ := os.ReadDir(filepath.Join(filepath.Dir(in), "spool")); len(entries) != 0 {
		t.Errorf("%d files left in the spool", len(entries))
	}
	if _, err := os.Stat(filepath.Join(in, "error", "huge.csv.error.txt")); err != nil {
		t.Errorf("not quarantined with its reason: %v", err)
	}
	if growth > 64<<10 {
		t.Errorf("the ledger grew by %d bytes", growth)
	}
}

// BenchmarkHugeFile imports a sparse 10 GB file and reports the peak RSS during the run and
// the ledger's growth.
func BenchmarkHugeFile(b *testing.B) {
	for range b.N {
		resetPeakRSS(b)
		_, growth, _ := hugeRun(b, func(dir string) { hugeFile(b, dir, 10<<30) })
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(growth)/1024, "ledger-growth-KB")
	}
}
