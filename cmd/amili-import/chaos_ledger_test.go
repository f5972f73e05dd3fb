package main

// Ledger faults end to end: a ledger that cannot be written (a full disk, a read-only file
// system) or that is corrupt must stop the run before anything is sent whose intent is not
// recorded; a run after the fault is fixed completes with nothing sent twice. Corruption and
// half-applied migrations at the ledger level are covered by ledger's TestOpenCorrupt and
// TestMigrationFailureLeavesPreviousVersion.

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/ledger"
)

// tmpfs mounts a small tmpfs at dir (root only) and unmounts it when the test ends.
func tmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a full disk is simulated with a tmpfs mount, which needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// fill writes a file on dir's file system that leaves about free bytes available.
func fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for left := avail - free; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			break
		}
	}
	return p
}

// ledgerHarness is a harness whose ledger lives in dbDir, importing n generated invoices.
func ledgerHarness(t *testing.T, dbDir string, n int) (*harness, []genInvoice, string) {
	t.Helper()
	h := newHarness(t, amilitest.Options{})
	h.db = filepath.Join(dbDir, "ledger.db")
	h.writeConfig(h.srv.Creditor, "")
	in := filepath.Join(t.TempDir(), "in")
	invs := genInvoices(t, in, "invoices.csv", "LG", n, rand.New(rand.NewPCG(3, 3)))
	return h, invs, filepath.Join(in, "invoices.csv")
}

// sentAreRecorded checks that every registration the sandbox holds has its intent in the
// ledger: nothing was sent that the ledger does not know of.
func sentAreRecorded(t *testing.T, h *harness) int {
	t.Helper()
	lg, err := ledger.Open(context.Background(), h.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	sent := 0
	for _, r := range h.srv.Registrations() {
		for _, num := range r.InvoiceNumbers {
			sent++
			sub, _, err := lg.History(context.Background(), h.srv.Creditor, num)
			if err != nil {
				t.Errorf("%s was sent but the ledger has no record of it: %v", num, err)
				continue
			}
			switch sub.State {
			case ledger.StateSending, ledger.StateRegistered, ledger.StateUploaded:
			default:
				t.Errorf("%s was sent but the ledger says %s", num, sub.State)
			}
		}
	}
	return sent
}

// importPath runs "import" on one file given by its full path.
func importPath(h *harness, file string) (int, string, string) {
	h.t.Helper()
	return h.run(context.Background(), "import", "--config", h.cfg, "--summary", "json", file)
}

// allOnce checks that every invoice is registered exactly once.
func allOnce(t *testing.T, h *harness, invs []genInvoice) {
	t.Helper()
	for _, inv := range invs {
		if n := h.srv.RegistrationCount(h.srv.Creditor, inv.Number); n != 1 {
			t.Errorf("%s registered %d times, want 1", inv.Number, n)
		}
	}
}

func TestChaosLedgerDiskFull(t *testing.T) {
	disk := t.TempDir()
	tmpfs(t, disk, "32m")
	h, invs, csv := ledgerHarness(t, disk, 300)
	lg, err := ledger.Open(context.Background(), h.db, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lg.Close()
	filler := fill(t, disk, 3<<20)

	code, _, errText := importPath(h, csv)
	sent := sentAreRecorded(t, h)
	t.Logf("disk full: exit %d after %d of %d registrations sent", code, sent, len(invs))
	if code == exitOK || sent == len(invs) {
		t.Fatalf("the import did not run out of disk (exit %d, %d sent); make the free space smaller", code, sent)
	}
	if code != exitNoStart || !strings.Contains(errText, "ledger") {
		t.Errorf("exit %d, want 2 with the ledger named:\n%s", code, lastLines(errText, 10))
	}

	os.Remove(filler)
	if code, out, errText := importPath(h, csv); code != exitOK {
		t.Fatalf("after freeing space: exit %d\n%s\n%s", code, out, lastLines(errText, 20))
	}
	allOnce(t, h, invs)
}

func TestChaosLedgerReadOnly(t *testing.T) {
	disk := t.TempDir()
	root := os.Geteuid() == 0
	if root {
		tmpfs(t, disk, "8m")
	}
	h, invs, csv := ledgerHarness(t, disk, 20)
	if code, _, errText := importPath(h, csv); code != exitOK {
		t.Fatalf("first import: exit %d\n%s", code, errText)
	}
	more := filepath.Join(t.TempDir(), "more")
	moreInvs := genInvoices(t, more, "more.csv", "RO", 20, rand.New(rand.NewPCG(4, 4)))
	before := len(h.srv.Registrations())

	// Read-only: the file system (root ignores file modes), else the file and its directory.
	if root {
		if out, err := exec.Command("mount", "-o", "remount,ro", disk).CombinedOutput(); err != nil {
			t.Fatalf("remount ro: %v %s", err, out)
		}
	} else {
		os.Chmod(h.db, 0o444)
		os.Chmod(disk, 0o555)
	}
	code, _, errText := importPath(h, filepath.Join(more, "more.csv"))
	if code != exitNoStart {
		t.Errorf("read-only ledger: exit %d, want 2:\n%s", code, lastLines(errText, 10))
	}
	if !strings.Contains(errText, h.db) || !strings.Contains(errText, "must be writable") {
		t.Errorf("the error does not say that the ledger is not writable:\n%s", lastLines(errText, 10))
	}
	if n := len(h.srv.Registrations()) - before; n != 0 {
		t.Errorf("%d registrations sent while the ledger could not record them", n)
	}
	t.Logf("read-only ledger: exit %d, %s", code, strings.TrimSpace(lastLines(errText, 1)))

	if root {
		exec.Command("mount", "-o", "remount,rw", disk).Run()
	} else {
		os.Chmod(disk, 0o755)
		os.Chmod(h.db, 0o600)
	}
	if code, _, errText := importPath(h, filepath.Join(more, "more.csv")); code != exitOK {
		t.Fatalf("after making it writable: exit %d\n%s", code, lastLines(errText, 20))
	}
	allOnce(t, h, append(invs, moreInvs...))
}

func TestCorruptLedgerStopsImport(t *testing.T) {
	dir := t.TempDir()
	h, invs, csv := ledgerHarness(t, dir, 5)
	if code, _, errText := importPath(h, csv); code != exitOK {
		t.Fatalf("first import: exit %d\n%s", code, errText)
	}
	b, err := os.ReadFile(h.db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 4096; i < len(b); i++ {
		b[i] = byte(i*7 + 13)
	}
	os.Remove(h.db + "-wal")
	os.Remove(h.db + "-shm")
	if err := os.WriteFile(h.db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := len(h.srv.Registrations())
	code, _, errText := importPath(h, csv)
	if code != exitNoStart || !strings.Contains(errText, h.db) || !strings.Contains(strings.ToLower(errText), "corrupt") {
		t.Errorf("corrupt ledger: exit %d, want 2 with the file named and the word corrupt:\n%s", code, lastLines(errText, 10))
	}
	if len(h.srv.Registrations()) != before {
		t.Errorf("registrations sent with a corrupt ledger")
	}
	t.Logf("corrupt ledger: %s", strings.TrimSpace(lastLines(errText, 1)))
	allOnce(t, h, invs)
}
