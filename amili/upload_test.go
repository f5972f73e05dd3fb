package amili

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// gatedReader returns head, then blocks until gate is closed before returning tail: a client
// that buffered the whole body before sending would never let the server see head.
type gatedReader struct {
	head, tail []byte
	gate       <-chan struct{}
	state      int
}

func (g *gatedReader) Read(p []byte) (int, error) {
	switch g.state {
	case 0:
		g.state = 1
		return copy(p, g.head), nil
	case 1:
		select {
		case <-g.gate:
		case <-time.After(5 * time.Second):
			return 0, errors.New("server never saw the first part: the body is not streamed")
		}
		g.state = 2
		return copy(p, g.tail), nil
	}
	return 0, io.EOF
}

func (g *gatedReader) Close() error { return nil }

type uploadSeen struct {
	fields        map[string]string
	filename      string
	contentType   string
	data          []byte
	contentLength int64
}

// readUpload parses a media upload the way the API would; onData is called once the first
// bytes of the file part arrive.
func readUpload(t *testing.T, r *http.Request, onData func()) uploadSeen {
	t.Helper()
	seen := uploadSeen{fields: map[string]string{}, contentLength: r.ContentLength}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		t.Errorf("Content-Type = %q, want multipart/form-data", r.Header.Get("Content-Type"))
		return seen
	}
	mr, err := r.MultipartReader()
	if err != nil {
		t.Error(err)
		return seen
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return seen
		}
		if err != nil {
			t.Errorf("next part: %v", err)
			return seen
		}
		if p.FormName() != "file" {
			b, _ := io.ReadAll(p)
			seen.fields[p.FormName()] = string(b)
			continue
		}
		seen.filename, seen.contentType = p.FileName(), p.Header.Get("Content-Type")
		buf := make([]byte, 4)
		n, _ := io.ReadFull(p, buf)
		seen.data = append(seen.data, buf[:n]...)
		if onData != nil {
			onData()
		}
		rest, _ := io.ReadAll(p)
		seen.data = append(seen.data, rest...)
	}
}

// TestUploadStreams: the server receives the start of the file while the client's reader is
// still blocked on the rest, and the form carries domain, dotted_path and the PDF.
func TestUploadStreams(t *testing.T) {
	gate := make(chan struct{})
	var seen uploadSeen
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/media--upload/case-1" || r.Method != http.MethodPost {
			t.Errorf("request %s %s, want POST /media--upload/case-1", r.Method, r.URL.Path)
		}
		seen = readUpload(t, r, func() { close(gate) })
		writeJSON(w, 201, `{"_status":"OK","url":"https://storage/signed"}`)
	})
	c, _ := testClient(t, srv.URL)
	up, err := c.UploadOriginalInvoice(context.Background(), "case-1", "dir/INV-1.pdf", func() (io.ReadCloser, error) {
		return &gatedReader{head: []byte("%PDF-1.4 "), tail: []byte("rest of the file %%EOF"), gate: gate}, nil
	})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if up.URL != "https://storage/signed" {
		t.Errorf("URL = %q", up.URL)
	}
	if seen.fields["domain"] != "cases" || seen.fields["dotted_path"] != "original_invoice" {
		t.Errorf("fields = %v, want domain=cases dotted_path=original_invoice", seen.fields)
	}
	if seen.filename != "INV-1.pdf" || seen.contentType != "application/pdf" {
		t.Errorf("file part = %q %q, want INV-1.pdf application/pdf", seen.filename, seen.contentType)
	}
	if got := string(seen.data); got != "%PDF-1.4 rest of the file %%EOF" {
		t.Errorf("file data = %q", got)
	}
	if seen.contentLength != -1 {
		t.Errorf("Content-Length = %d, want chunked (-1) for a reader of unknown size", seen.contentLength)
	}
}

// TestUploadReopensPerAttempt: a failed attempt opens the file again, and a file whose size is
// known is sent with an exact Content-Length.
func TestUploadReopensPerAttempt(t *testing.T) {
	content := bytes.Repeat([]byte("%PDF-1.7 0123456789\n"), 5000)
	path := filepath.Join(t.TempDir(), "INV-2.pdf")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var seen []uploadSeen
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		s := readUpload(t, r, nil)
		seen = append(seen, s)
		if n.Add(1) == 1 {
			w.WriteHeader(502)
			return
		}
		writeJSON(w, 201, `{"_status":"OK","url":"u"}`)
	})
	c, _ := testClient(t, srv.URL)
	opens := 0
	_, err := c.UploadOriginalInvoice(context.Background(), "case-2", "INV-2.pdf", func() (io.ReadCloser, error) {
		opens++
		return os.Open(path)
	})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if opens != 2 || len(seen) != 2 {
		t.Fatalf("opens = %d, attempts = %d; want 2, 2", opens, len(seen))
	}
	for i, s := range seen {
		if !bytes.Equal(s.data, content) {
			t.Errorf("attempt %d: got %d bytes of file, want all %d", i+1, len(s.data), len(content))
		}
		if s.contentLength <= int64(len(content)) {
			t.Errorf("attempt %d: Content-Length = %d, want the exact multipart length", i+1, s.contentLength)
		}
	}
	if st := c.Stats(); st.Calls["POST /media--upload/{id}"][502] != 1 || st.Calls["POST /media--upload/{id}"][201] != 1 {
		t.Errorf("stats = %v", st.Calls)
	}
}

// TestUploadOpenFails: a missing file is a permanent error and nothing is sent.
func TestUploadOpenFails(t *testing.T) {
	var n atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	c, _ := testClient(t, srv.URL)
	_, err := c.UploadOriginalInvoice(context.Background(), "case-3", "missing.pdf", func() (io.ReadCloser, error) {
		return nil, &fs.PathError{Op: "open", Path: "missing.pdf", Err: fs.ErrNotExist}
	})
	if e := mustError(t, err); e.Class != Permanent || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v (class %v), want permanent not-exist", e, e.Class)
	}
	if n.Load() != 0 {
		t.Errorf("requests = %d, want 0", n.Load())
	}
	if !strings.Contains(err.Error(), "missing.pdf") {
		t.Errorf("error %q does not name the file", err)
	}
}

// patternReader yields n bytes without holding them.
type patternReader struct{ left int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(b))
	if n > p.left {
		n = p.left
	}
	for i := range b[:n] {
		b[i] = byte(i)
	}
	p.left -= n
	return int(n), nil
}

func (p *patternReader) Close() error { return nil }

// TestUploadMemoryFlat: uploading 64 MiB allocates a small fraction of that, on client and
// server together: the body is never held whole.
func TestUploadMemoryFlat(t *testing.T) {
	const size = 64 << 20
	var got atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Store(n)
		writeJSON(w, 201, `{"_status":"OK","url":"u"}`)
	})
	c, _ := testClient(t, srv.URL)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.UploadOriginalInvoice(context.Background(), "case-big", "big.pdf", func() (io.ReadCloser, error) {
		return &patternReader{left: size}, nil
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got.Load() < size {
		t.Fatalf("server received %d bytes, want more than %d", got.Load(), size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Errorf("allocated %d bytes to upload %d, want under %d", alloc, size, size/8)
	}
}

// BenchmarkUpload reports throughput and allocation per uploaded MiB over loopback.
func BenchmarkUpload(b *testing.B) {
	const size = 8 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeJSON(w, 201, `{"_status":"OK","url":"u"}`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthConfig{Token: "t"}, RateLimit: 1e9, Burst: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.SetBytes(size)
	for b.Loop() {
		if _, err := c.UploadOriginalInvoice(context.Background(), "c", "f.pdf", func() (io.ReadCloser, error) {
			return &patternReader{left: size}, nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/(size>>20), "alloc-B/MiB")
}

// BenchmarkRegisterInvoice reports the client's cost per registration against a local server
// (the API's rate limit, not this, bounds real throughput).
func BenchmarkRegisterInvoice(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		writeJSON(w, 201, `{"_id":"r","_status":"OK","_invoice":"i","_case":"c","_ocr_number":"o","ocr_number_ocr":"123"}`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthConfig{Token: "t"}, RateLimit: 1e9, Burst: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	inv := invoice("INV-B")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.RegisterInvoice(context.Background(), inv); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
}
