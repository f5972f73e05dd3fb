// Package sourcetest is the behaviour every source.Source must show, as one test suite run
// against the local directory, the in-process SFTP server and a real OpenSSH sshd.
package sourcetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
	"github.com/amili-import/amili-import/source"
)

// Factory returns a Source over opts and the local directory the source's root maps to.
// The directories in opts (Dir, PDFDir, ArchiveDir, ErrorDir) are slash paths relative to
// that root; Rebase turns them into the source's own paths.
type Factory func(t *testing.T, opts source.Options) (src source.Source, root string)

// Rebase joins every directory in opts onto remoteRoot.
func Rebase(opts source.Options, remoteRoot string) source.Options {
	join := func(d string) string {
		if d == "" {
			return ""
		}
		return path.Join(remoteRoot, d)
	}
	opts.Dir, opts.PDFDir = join(opts.Dir), join(opts.PDFDir)
	opts.ArchiveDir, opts.ErrorDir = join(opts.ArchiveDir), join(opts.ErrorDir)
	return opts
}

// base is the suite's reference time; whole seconds because SFTP carries seconds only.
var base = time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)

// env is one subtest's source and the local view of its files.
type env struct {
	t     *testing.T
	src   source.Source
	root  string
	clock *fakeclock.Clock
	ctx   context.Context
}

func newEnv(t *testing.T, f Factory, opts source.Options) *env {
	t.Helper()
	clock := fakeclock.New(base)
	if opts.Dir == "" {
		opts.Dir = "in"
	}
	if opts.ArchiveDir == "" {
		opts.ArchiveDir = "archive"
	}
	if opts.ErrorDir == "" {
		opts.ErrorDir = "error"
	}
	opts.Now = clock.Now
	if opts.Location == nil {
		opts.Location = time.FixedZone("CET", 3600)
	}
	src, root := f(t, opts)
	if err := os.MkdirAll(filepath.Join(root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return &env{t: t, src: src, root: root, clock: clock, ctx: context.Background()}
}

// write creates root/rel with content and mtime.
func (e *env) write(rel, content string, mtime time.Time) {
	e.t.Helper()
	p := filepath.Join(e.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(rel string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(e.root, filepath.FromSlash(rel)))
	return string(b), err == nil
}

func (e *env) listing() source.Listing {
	e.t.Helper()
	l, err := e.src.List(e.ctx)
	if err != nil {
		e.t.Fatalf("List: %v", err)
	}
	return l
}

func (e *env) list() []string {
	e.t.Helper()
	return names(e.listing().Files)
}

func names(files []source.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

func (e *env) wantList(want ...string) {
	e.t.Helper()
	if got := e.list(); !slices.Equal(got, want) {
		e.t.Errorf("List = %q, want %q", got, want)
	}
}

// old is a modification time well past any min_age the suite sets.
var old = base.Add(-2 * time.Hour)

// Run runs the suite against sources made by f.
func Run(t *testing.T, f Factory) {
	runListing(t, f)
	runStability(t, f)
	runOpen(t, f)
	runDisposal(t, f)
	runDescribe(t, f)
}

// runListing is what List takes and in what order: the patterns, the names always ignored,
// oldest first.
func runListing(t *testing.T, f Factory) {
	t.Run("ListPatterns", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		e.write("in/a.csv", "a", old)
		e.write("in/b.txt", "b", old)
		e.write("in/c.pdf", "c", old)
		e.write("in/dir.csv/x", "x", old)
		e.wantList("a.csv")

		e2 := newEnv(t, f, source.Options{Patterns: []string{"*.csv", "*.txt"}})
		e2.write("in/a.csv", "a", old)
		e2.write("in/b.txt", "b", old)
		e2.write("in/c.pdf", "c", old)
		e2.wantList("a.csv", "b.txt")
	})
	t.Run("IgnoredNames", func(t *testing.T) {
		e := newEnv(t, f, source.Options{Patterns: []string{"*"}})
		for _, name := range []string{".hidden.csv", "x.csv.tmp", "x.csv.part", "x.csv.filepart",
			"x.csv.swp", "~lock.csv", "y.TMP", "old.csv.error.txt"} {
			e.write("in/"+name, "junk", old)
		}
		e.write("in/ok.csv", "ok", old)
		e.wantList("ok.csv")
	})
	t.Run("OldestFirst", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		e.write("in/newest.csv", "1", base.Add(-1*time.Hour))
		e.write("in/b.csv", "2", base.Add(-2*time.Hour))
		e.write("in/a.csv", "3", base.Add(-2*time.Hour))
		e.write("in/oldest.csv", "4", base.Add(-3*time.Hour))
		e.wantList("oldest.csv", "a.csv", "b.csv", "newest.csv")
	})
}

// runStability is when List takes a file: once it has stopped changing for min_age, or once
// its done-marker is there.
func runStability(t *testing.T, f Factory) {
	t.Run("GrowingFileNotTakenUntilStable", func(t *testing.T) {
		e := newEnv(t, f, source.Options{MinAge: time.Minute})
		e.write("in/grow.csv", "1", base)
		e.wantList()
		e.clock.Advance(30 * time.Second)
		e.write("in/grow.csv", "12", base.Add(30*time.Second))
		e.wantList()
		e.clock.Advance(59 * time.Second) // 59 s since the last change
		e.wantList()
		e.clock.Advance(time.Second) // mtime now a full min_age old
		e.wantList("grow.csv")
	})
	t.Run("StableBySightingDespiteFutureMtime", func(t *testing.T) {
		// A server clock ahead of ours: the mtime never looks old, so the size and mtime
		// staying put across List calls for min_age is what counts.
		e := newEnv(t, f, source.Options{MinAge: time.Minute})
		e.write("in/skew.csv", "1", base.Add(time.Hour))
		e.wantList()
		e.clock.Advance(59 * time.Second)
		e.wantList()
		e.clock.Advance(time.Second)
		e.wantList("skew.csv")
	})
	t.Run("HeldBackFilesSayWhenTheyAreDue", func(t *testing.T) {
		// A file List does not take yet is in the listing's Waiting, with the rule that holds
		// it back and the moment it is taken if it stays as it is.
		e := newEnv(t, f, source.Options{MinAge: time.Minute})
		e.write("in/fresh.csv", "1", base.Add(-20*time.Second))
		e.write("in/ready.csv", "2", old)
		l := e.listing()
		if got := names(l.Files); !slices.Equal(got, []string{"ready.csv"}) {
			t.Errorf("Files = %q, want ready.csv", got)
		}
		if len(l.Waiting) != 1 {
			t.Fatalf("Waiting = %+v, want fresh.csv", l.Waiting)
		}
		w := l.Waiting[0]
		if w.Name != "fresh.csv" || w.Reason != source.WaitMinAge || !w.EligibleAt.Equal(base.Add(40*time.Second)) {
			t.Errorf("Waiting = %+v, want fresh.csv held by %s until %v", w, source.WaitMinAge, base.Add(40*time.Second))
		}
		if !strings.Contains(w.Why, "min_age 1m0s") {
			t.Errorf("Why = %q, want it to name min_age 1m0s", w.Why)
		}
		e.clock.Advance(40 * time.Second)
		if l := e.listing(); len(l.Waiting) != 0 || !slices.Equal(names(l.Files), []string{"ready.csv", "fresh.csv"}) {
			t.Errorf("at its eligible time: Files %q, Waiting %+v; want both taken", names(l.Files), l.Waiting)
		}

		// A server clock ahead of ours: taken a min_age after List first saw it unchanged.
		e2 := newEnv(t, f, source.Options{MinAge: time.Minute})
		e2.write("in/skew.csv", "1", base.Add(time.Hour))
		if l := e2.listing(); len(l.Waiting) != 1 || !l.Waiting[0].EligibleAt.Equal(base.Add(time.Minute)) {
			t.Errorf("Waiting = %+v, want skew.csv eligible at %v", l.Waiting, base.Add(time.Minute))
		}

		e3 := newEnv(t, f, source.Options{DoneMarker: ".done"})
		e3.write("in/unmarked.csv", "u", old)
		l = e3.listing()
		if len(l.Files) != 0 || len(l.Waiting) != 1 {
			t.Fatalf("listing = %+v, want unmarked.csv waiting", l)
		}
		if w := l.Waiting[0]; w.Reason != source.WaitDoneMarker || !w.EligibleAt.IsZero() || !strings.Contains(w.Why, "unmarked.csv.done") {
			t.Errorf("Waiting = %+v, want it held for its done-marker unmarked.csv.done, no time", w)
		}
	})
	t.Run("DoneMarkers", func(t *testing.T) {
		e := newEnv(t, f, source.Options{DoneMarker: ".done", Patterns: []string{"*"}})
		e.write("in/marked.csv", "m", base) // fresh, but marked: taken
		e.write("in/marked.csv.done", "", base)
		e.write("in/unmarked.csv", "u", old) // old, but unmarked: not taken
		e.wantList("marked.csv")
		got, err := e.src.Archive(e.ctx, "marked.csv")
		if err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if !strings.HasSuffix(got, "archive/2026-03-02/marked.csv") {
			t.Errorf("Archive = %q, want …archive/2026-03-02/marked.csv", got)
		}
		if _, ok := e.read("archive/2026-03-02/marked.csv.done"); !ok {
			t.Error("done-marker did not move with its file")
		}
		if _, ok := e.read("in/marked.csv.done"); ok {
			t.Error("done-marker left in the inbox")
		}
	})
}

// runOpen is reading: a file streams unchanged, a PDF opens only inside the PDF directory.
func runOpen(t *testing.T, f Factory) {
	t.Run("OpenStreamsContent", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		want := make([]byte, 3<<20+123)
		_, _ = rand.Read(want)
		e.write("in/big.csv", string(want), old)
		rc, err := e.src.Open(e.ctx, "big.csv")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("read %d bytes, want the file's %d bytes unchanged", len(got), len(want))
		}
		if _, err := e.src.Open(e.ctx, "missing.csv"); err == nil {
			t.Error("Open(missing.csv) succeeded")
		}
		if _, err := e.src.Open(e.ctx, "../in/big.csv"); err == nil {
			t.Error("Open(../in/big.csv) succeeded")
		}
	})
	t.Run("OpenPDF", func(t *testing.T) {
		e := newEnv(t, f, source.Options{PDFDir: "pdf"})
		e.write("pdf/inv1.pdf", "%PDF-1 one", old)
		e.write("pdf/sub/inv2.pdf", "%PDF-1 two", old)
		e.write("secret.pdf", "secret", old)
		e.write("in/a.csv", "a", old)
		for name, want := range map[string]string{"inv1.pdf": "%PDF-1 one", "sub/inv2.pdf": "%PDF-1 two"} {
			rc, err := e.src.OpenPDF(e.ctx, name)
			if err != nil {
				t.Errorf("OpenPDF(%q): %v", name, err)
				continue
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(b) != want {
				t.Errorf("OpenPDF(%q) = %q, %v; want %q", name, b, err, want)
			}
		}
		for _, name := range []string{"../secret.pdf", "/etc/passwd", "../in/a.csv", "sub/../../secret.pdf",
			"inv1.pdf\x00.txt", `..\secret.pdf`, "", "C:/x.pdf"} {
			if rc, err := e.src.OpenPDF(e.ctx, name); err == nil {
				rc.Close()
				t.Errorf("OpenPDF(%q) succeeded, want refused", name)
			}
		}
	})
}

// runDisposal is what happens to a file after its import: archived, quarantined with its
// reason, or left in place.
func runDisposal(t *testing.T, f Factory) {
	t.Run("ArchiveIntoDateDirNeverOverwrites", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		// 23:30 UTC on 1 March is 00:30 on 2 March in the configured zone.
		for i, content := range []string{"first", "second", "third"} {
			e.write("in/inv.csv", content, old)
			got, err := e.src.Archive(e.ctx, "inv.csv")
			if err != nil {
				t.Fatalf("Archive #%d: %v", i, err)
			}
			want := []string{"inv.csv", "inv.1.csv", "inv.2.csv"}[i]
			if !strings.HasSuffix(got, "archive/2026-03-02/"+want) {
				t.Errorf("Archive #%d = %q, want …archive/2026-03-02/%s", i, got, want)
			}
		}
		for rel, want := range map[string]string{"inv.csv": "first", "inv.1.csv": "second", "inv.2.csv": "third"} {
			if got, _ := e.read("archive/2026-03-02/" + rel); got != want {
				t.Errorf("archive/2026-03-02/%s = %q, want %q", rel, got, want)
			}
		}
		if _, ok := e.read("in/inv.csv"); ok {
			t.Error("archived file still in the inbox")
		}
	})
	t.Run("ArchivePDFKeepsRelativeNameNeverOverwrites", func(t *testing.T) {
		e := newEnv(t, f, source.Options{PDFDir: "pdf"})
		for i, content := range []string{"%PDF-1 first", "%PDF-1 second"} {
			e.write("pdf/sub/inv.pdf", content, old)
			got, err := e.src.ArchivePDF(e.ctx, "sub/inv.pdf")
			if err != nil {
				t.Fatalf("ArchivePDF #%d: %v", i, err)
			}
			want := []string{"inv.pdf", "inv.1.pdf"}[i]
			if !strings.HasSuffix(got, "archive/2026-03-02/sub/"+want) {
				t.Errorf("ArchivePDF #%d = %q, want …archive/2026-03-02/sub/%s", i, got, want)
			}
		}
		for rel, want := range map[string]string{"inv.pdf": "%PDF-1 first", "inv.1.pdf": "%PDF-1 second"} {
			if got, _ := e.read("archive/2026-03-02/sub/" + rel); got != want {
				t.Errorf("archive/2026-03-02/sub/%s = %q, want %q", rel, got, want)
			}
		}
		if _, ok := e.read("pdf/sub/inv.pdf"); ok {
			t.Error("archived PDF still in pdf_dir")
		}
		if _, err := e.src.ArchivePDF(e.ctx, "missing.pdf"); err == nil {
			t.Error("ArchivePDF of a missing PDF succeeded")
		}
		if err := os.MkdirAll(filepath.Join(e.root, "pdf", "dir.pdf"), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := e.src.ArchivePDF(e.ctx, "dir.pdf"); err == nil {
			t.Error("ArchivePDF of a directory succeeded")
		}
		for _, name := range []string{"../secret.pdf", "/etc/passwd", ""} {
			if _, err := e.src.ArchivePDF(e.ctx, name); err == nil {
				t.Errorf("ArchivePDF(%q) succeeded, want refused", name)
			}
		}
	})
	t.Run("ArchivePDFLeftWhenTurnedOff", func(t *testing.T) {
		for _, opts := range []source.Options{{LeavePDFs: true}, {After: source.AfterLeave}} {
			e := newEnv(t, f, opts)
			e.write("in/inv.pdf", "%PDF-1", old)
			if e.src.ArchivesPDFs() {
				t.Errorf("ArchivesPDFs() with %+v = true", opts)
			}
			if _, err := e.src.ArchivePDF(e.ctx, "inv.pdf"); err != nil {
				t.Fatalf("ArchivePDF: %v", err)
			}
			if got, _ := e.read("in/inv.pdf"); got != "%PDF-1" {
				t.Errorf("in/inv.pdf = %q, want it left", got)
			}
		}
	})
	t.Run("QuarantineWritesReason", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		for i, want := range []string{"bad.csv", "bad.1.csv"} {
			e.write("in/bad.csv", "bad", old)
			reason := "line 3, column amount: not a number"
			got, err := e.src.Quarantine(e.ctx, "bad.csv", reason)
			if err != nil {
				t.Fatalf("Quarantine #%d: %v", i, err)
			}
			if !strings.HasSuffix(got, "error/"+want) {
				t.Errorf("Quarantine #%d = %q, want …error/%s", i, got, want)
			}
			if txt, _ := e.read("error/" + want + ".error.txt"); !strings.Contains(txt, reason) {
				t.Errorf("error/%s.error.txt = %q, want the reason", want, txt)
			}
			if content, _ := e.read("error/" + want); content != "bad" {
				t.Errorf("error/%s = %q, want the file", want, content)
			}
		}
	})
	t.Run("LeaveInPlace", func(t *testing.T) {
		e := newEnv(t, f, source.Options{After: source.AfterLeave})
		e.write("in/keep.csv", "keep", old)
		if _, err := e.src.Archive(e.ctx, "keep.csv"); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if got, _ := e.read("in/keep.csv"); got != "keep" {
			t.Errorf("in/keep.csv = %q after Archive with after=leave, want it left", got)
		}
		e.write("in/bad.csv", "bad", old)
		if _, err := e.src.Quarantine(e.ctx, "bad.csv", "broken"); err != nil {
			t.Fatalf("Quarantine: %v", err)
		}
		if got, _ := e.read("in/bad.csv"); got != "bad" {
			t.Errorf("in/bad.csv = %q after Quarantine with after=leave, want it left", got)
		}
		if txt, _ := e.read("in/bad.csv.error.txt"); !strings.Contains(txt, "broken") {
			t.Errorf("in/bad.csv.error.txt = %q, want the reason", txt)
		}
		if _, err := os.Stat(filepath.Join(e.root, "archive")); err == nil {
			t.Error("archive directory created with after=leave")
		}
	})
}

// runDescribe is how the source names itself in logs and the ledger.
func runDescribe(t *testing.T, f Factory) {
	t.Run("Describe", func(t *testing.T) {
		e := newEnv(t, f, source.Options{})
		if d := e.src.Describe(); !strings.HasSuffix(d, "/in") {
			t.Errorf("Describe = %q, want it to end in the directory …/in", d)
		}
	})
}
