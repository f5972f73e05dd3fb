package amili

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path"
	"strings"
)

// Form fields of an original-invoice upload.
const (
	uploadDomain     = "cases"
	uploadDottedPath = "original_invoice"
)

// UploadOriginalInvoice streams a file (normally the invoice PDF) as multipart/form-data
// (file, domain=cases, dotted_path=original_invoice) to POST /media--upload/{caseID}. open is
// called once per attempt, so a retry reads the file again; the body goes through an io.Pipe
// and is never held in memory whole. When the opened file can tell its size (Stat or Size),
// the request carries an exact Content-Length, otherwise it is sent chunked. Uploads are
// retried on network errors and 5xx: a second upload replaces the same original_invoice.
func (c *Client) UploadOriginalInvoice(ctx context.Context, caseID, filename string, open func() (io.ReadCloser, error)) (*Uploaded, error) {
	op := "upload " + filename + " to case " + caseID
	if caseID == "" {
		return nil, &Error{Op: op, Class: Permanent, Err: errors.New("empty case id")}
	}
	if open == nil {
		return nil, &Error{Op: op, Class: Permanent, Err: errors.New("nothing to upload")}
	}
	name := path.Base(strings.ReplaceAll(filename, `\`, "/"))
	ctype := contentTypeFor(name)
	body := func() (io.ReadCloser, string, int64, error) {
		f, err := open()
		if err != nil {
			class := Retryable
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				class = Permanent
			}
			return nil, "", 0, &Error{Op: op, Class: class, Err: fmt.Errorf("open: %w", err)}
		}
		boundary := newBoundary()
		size := int64(-1)
		if n, ok := sizeOf(f); ok {
			var cw countWriter
			if err := writeForm(&cw, boundary, name, ctype, eofReader{}); err == nil {
				size = cw.n + n
			}
		}
		pr, pw := io.Pipe()
		go func() {
			err := writeForm(pw, boundary, name, ctype, f)
			f.Close()
			pw.CloseWithError(err) // nil closes with io.EOF
		}()
		return pr, "multipart/form-data; boundary=" + boundary, size, nil
	}
	var out Uploaded
	r := &call{op: op, method: http.MethodPost, template: c.cfg.Paths.MediaUpload,
		path: fillID(c.cfg.Paths.MediaUpload, caseID), body: body, kind: kindUpload}
	if err := c.doJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// writeForm writes the whole multipart body to w, copying file into the file part.
func writeForm(w io.Writer, boundary, name, ctype string, file io.Reader) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	if err := mw.WriteField("domain", uploadDomain); err != nil {
		return err
	}
	if err := mw.WriteField("dotted_path", uploadDottedPath); err != nil {
		return err
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(name)))
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, file); err != nil {
		return fmt.Errorf("read file: %w", err)
	}
	return mw.Close()
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

// contentTypeFor names the file types Amili accepts by default; anything else is sent as PDF,
// the type of an original invoice.
func contentTypeFor(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".bmp":
		return "image/bmp"
	}
	return "application/pdf"
}

// sizeOf returns the size of an opened file when it can tell (os.File, sftp.File, bytes.Reader).
func sizeOf(r io.Reader) (int64, bool) {
	switch f := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size(), true
		}
	case interface{ Size() int64 }:
		return f.Size(), true
	}
	return 0, false
}

func newBoundary() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "amili-import-" + hex.EncodeToString(b[:])
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
