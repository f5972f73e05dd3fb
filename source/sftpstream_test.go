package source_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/amili-import/amili-import/source"
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
