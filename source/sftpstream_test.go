package source_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
)

// TestSFTPPDFStreamWindow reads PDFs through the small stream window (here 4 KiB x 2, so a
// file takes hundreds of rounds) while a CSV is read through the bulk window on the same
// connection, several at once: every byte of each must arrive intact and in order.
func TestSFTPPDFStreamWindow(t *testing.T) {
	srv, key, root := inProcess(t)
	csv := make([]byte, 2<<20)
	_, _ = rand.Read(csv)
	writeFile(t, filepath.Join(root, "in", "big.csv"), string(csv), old)
	pdfs := map[string][]byte{}
	for _, name := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		b := make([]byte, 1<<20+123)
		_, _ = rand.Read(b)
		pdfs[name] = b
		writeFile(t, filepath.Join(root, "in", name), string(b), old)
	}
	cfg := pinned(srv, key)
	cfg.StreamPacket, cfg.StreamConcurrentRequests = 4096, 2
	src, err := dial(t, cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	read := func(open func(context.Context, string) (io.ReadCloser, error), name string, want []byte) {
		rc, err := open(context.Background(), name)
		if err != nil {
			t.Errorf("open %s: %v", name, err)
			return
		}
		defer rc.Close()
		got, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, err %v; want all %d intact", name, len(got), err, len(want))
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { read(src.Open, "big.csv", csv) })
	for name, want := range pdfs {
		wg.Go(func() { read(src.OpenPDF, name, want) })
	}
	wg.Wait()
}

// TestSFTPPDFStreamWindowDefault: by default a PDF is read with 32 requests of 32 KiB in
// flight, so a PDF keeps pace on a link with latency; and never more, so an open PDF holds at
// most 1 MiB.
func TestSFTPPDFStreamWindowDefault(t *testing.T) {
	srv, key, root := inProcess(t, sftptest.WithLatency(5*time.Millisecond))
	want := make([]byte, 8<<20)
	_, _ = rand.Read(want)
	writeFile(t, filepath.Join(root, "in", "a.pdf"), string(want), old)
	src, err := dial(t, pinned(srv, key), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := src.OpenPDF(context.Background(), "a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v; want all %d intact", len(got), err, len(want))
	}
	// pkg/sftp sends the next read before a worker is free to take it: one more than the window.
	if got, want := srv.MaxReadsInFlight(), 32; got < want || got > want+1 {
		t.Errorf("reads in flight: got at most %d, want the window of %d (+1)", got, want)
	}
	if source.DefaultStreamConcurrency*source.DefaultStreamPacket > 1<<20 {
		t.Errorf("stream window %d x %d exceeds 1 MiB per open PDF", source.DefaultStreamConcurrency, source.DefaultStreamPacket)
	}
}
