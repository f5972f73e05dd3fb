package source_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source"
)

// inbox makes in/ and outside/ under one temp dir, each with a regular file.
func inbox(t *testing.T) (in, outside string) {
	t.Helper()
	root := t.TempDir()
	in, outside = filepath.Join(root, "in"), filepath.Join(root, "outside")
	for _, d := range []string{in, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.pdf"), []byte("%PDF-1.4 secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "a.csv"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return in, outside
}

func local(t *testing.T, in string, allow bool) source.Source {
	t.Helper()
	src, err := source.NewLocal(source.Options{Dir: filepath.ToSlash(in), AllowSymlinksOutside: allow})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// openWithin opens a PDF and fails the test if that takes longer than a few seconds.
func openWithin(t *testing.T, src source.Source, name string) (io.ReadCloser, error) {
	t.Helper()
	type res struct {
		rc  io.ReadCloser
		err error
	}
	ch := make(chan res, 1)
	go func() {
		rc, err := src.OpenPDF(context.Background(), name)
		ch <- res{rc, err}
	}()
	select {
	case r := <-ch:
		return r.rc, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("OpenPDF(%q) still blocked after 5 s", name)
		return nil, nil
	}
}

func TestOnlyRegularFilesAreOpened(t *testing.T) {
	in, _ := inbox(t)
	if err := syscall.Mkfifo(filepath.Join(in, "fifo.pdf"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(in, "dir.pdf"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := local(t, in, false)
	for name, want := range map[string]string{
		"fifo.pdf":                        "is not a regular file (a named pipe)",
		"dir.pdf":                         "is a directory, not a file",
		strings.Repeat("n", 300) + ".pdf": "has a name too long for the file system",
		"a.csv/x.pdf":                     "has a part of its path that is not a directory",
	} {
		rc, err := openWithin(t, src, name)
		if err == nil {
			rc.Close()
			t.Errorf("%.20s: opened; want refused", name)
			continue
		}
		if !errors.Is(err, source.ErrNotUsable) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20s: got %v; want ErrNotUsable saying %q", name, err, want)
		}
	}
	if _, err := src.OpenPDF(context.Background(), "missing.pdf"); !errors.Is(err, os.ErrNotExist) || errors.Is(err, source.ErrNotUsable) {
		t.Errorf("missing.pdf: got %v; want not-exist, which may still appear", err)
	}
}

func TestSymlinksOutOfTheInboxAreRefused(t *testing.T) {
	in, outside := inbox(t)
	if err := os.Symlink(filepath.Join(outside, "secret.pdf"), filepath.Join(in, "out.pdf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside), filepath.Join(in, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "real.pdf"), []byte("%PDF-1.4"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.pdf", filepath.Join(in, "alias.pdf")); err != nil {
		t.Fatal(err)
	}
	src := local(t, in, false)
	for _, name := range []string{"out.pdf", "sub/secret.pdf"} {
		rc, err := openWithin(t, src, name)
		if err == nil {
			rc.Close()
			t.Errorf("%s: the file outside the inbox was opened", name)
		} else if !errors.Is(err, source.ErrNotUsable) || !strings.Contains(err.Error(), "allow_symlinks_outside") {
			t.Errorf("%s: got %v; want refused naming the setting", name, err)
		}
	}
	rc, err := openWithin(t, src, "alias.pdf")
	if err != nil {
		t.Fatalf("a link inside the inbox: %v", err)
	}
	rc.Close()

	allowed := local(t, in, true)
	rc, err = openWithin(t, allowed, "out.pdf")
	if err != nil {
		t.Fatalf("with allow_symlinks_outside: %v", err)
	}
	rc.Close()
}

func TestSymlinkedErrorAndArchiveDirsAreRefused(t *testing.T) {
	for _, dir := range []string{"error", "archive"} {
		t.Run(dir, func(t *testing.T) {
			in, outside := inbox(t)
			if err := os.Symlink(outside, filepath.Join(in, dir)); err != nil {
				t.Fatal(err)
			}
			move := func(src source.Source) error {
				if dir == "error" {
					_, err := src.Quarantine(context.Background(), "a.csv", "bad")
					return err
				}
				_, err := src.Archive(context.Background(), "a.csv")
				return err
			}
			err := move(local(t, in, false))
			if !errors.Is(err, source.ErrNotUsable) {
				t.Fatalf("got %v; want the move refused", err)
			}
			if _, err := os.Stat(filepath.Join(in, "a.csv")); err != nil {
				t.Fatalf("the file left the inbox: %v", err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Fatalf("%d entries outside; want only secret.pdf", len(entries))
			}
			if err := move(local(t, in, true)); err != nil {
				t.Fatalf("with allow_symlinks_outside: %v", err)
			}
		})
	}
}

func TestQuarantineNeverWritesThroughALink(t *testing.T) {
	in, outside := inbox(t)
	target := filepath.Join(outside, "secret.pdf")
	if err := os.Symlink(target, filepath.Join(in, "a.csv.error.txt")); err != nil {
		t.Fatal(err)
	}
	src, err := source.NewLocal(source.Options{Dir: filepath.ToSlash(in), After: source.AfterLeave})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Quarantine(context.Background(), "a.csv", "bad"); err == nil {
		t.Fatal("quarantine wrote its reason through a link")
	}
	if b, _ := os.ReadFile(target); string(b) != "%PDF-1.4 secret" {
		t.Fatalf("the file outside now holds %q", b)
	}
}
