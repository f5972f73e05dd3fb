package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/amili-import/amili-import/source"
)

// pdfMagic is how every PDF begins.
const pdfMagic = "%PDF-"

// errPDFTooLarge is returned while streaming a PDF that grew past the size limit.
var errPDFTooLarge = errors.New("PDF is larger than the limit")

// pdfFile is an original invoice opened and checked before its registration is claimed, so
// that a required PDF that is missing or bad stops the row before anything is sent, and so that
// the first bytes are fetched while the registration POST is in flight. Nothing but bufio's
// small buffer is held in memory; the upload streams the rest.
type pdfFile struct {
	name   string // as the row names it
	rc     io.ReadCloser
	br     *bufio.Reader
	used   bool // the opened stream was handed to an upload
	maxLen int64
}

// pdfProblem is why a PDF cannot be used, phrased without its name so that reasons group.
type pdfProblem struct{ rule string }

func (p *pdfProblem) Error() string { return p.rule }

func problem(format string, a ...any) error { return &pdfProblem{rule: fmt.Sprintf(format, a...)} }

// pdfUnavailable is a PDF that could not be opened or read for a reason of the moment (a
// dropped SFTP connection, a timeout), not a fault of the row: the row is left for the next
// run instead of being refused, so that a network failure never loses a valid row.
type pdfUnavailable struct{ err error }

func (p *pdfUnavailable) Error() string { return "PDF cannot be read now: " + p.err.Error() }
func (p *pdfUnavailable) Unwrap() error { return p.err }

// transientPDF reports whether err is a pdfUnavailable.
func transientPDF(err error) bool {
	var u *pdfUnavailable
	return errors.As(err, &u)
}

// checkPDFName refuses names that could leave the PDF directory or are not names at all.
func checkPDFName(name string) error {
	switch {
	case name == "":
		return problem("no PDF named")
	case strings.ContainsRune(name, 0):
		return problem("PDF name contains a NUL byte")
	case strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) || (len(name) > 1 && name[1] == ':'):
		return problem("PDF name is an absolute path")
	}
	for _, el := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return problem(`PDF name contains ".."`)
		}
	}
	return nil
}

// openPDF opens and checks one PDF: a safe name, present, under the size limit (when the
// source can tell the size up front), starting with %PDF-. The error is the reason, for a
// person.
func openPDF(ctx context.Context, src Source, name string, maxLen int64) (*pdfFile, error) {
	if err := checkPDFName(name); err != nil {
		return nil, err
	}
	rc, err := src.OpenPDF(ctx, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, problem("PDF not found")
		}
		var ue *source.UnusableError
		if errors.As(err, &ue) {
			return nil, problem("PDF %s", ue.Reason) // no retry makes it readable
		}
		return nil, &pdfUnavailable{fmt.Errorf("open %s: %w", name, err)}
	}
	p, err := checkOpened(rc, name, maxLen)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return p, nil
}

func checkOpened(rc io.ReadCloser, name string, maxLen int64) (*pdfFile, error) {
	if size, ok := sizeOf(rc); ok && size > maxLen {
		return nil, problem("PDF is over the size limit of %d bytes", maxLen)
	}
	br := bufio.NewReaderSize(rc, 4096)
	head, err := br.Peek(len(pdfMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, &pdfUnavailable{fmt.Errorf("read %s: %w", name, err)}
	}
	if string(head) != pdfMagic {
		return nil, problem("not a PDF (it does not start with %s)", pdfMagic)
	}
	return &pdfFile{name: name, rc: rc, br: br, maxLen: maxLen}, nil
}

// sizeOf tells a stream's size when the source offers it before reading (os.File and
// sftp.File have Stat). Otherwise the limit is enforced while streaming.
func sizeOf(rc io.Reader) (int64, bool) {
	switch v := rc.(type) {
	case interface{ Size() int64 }:
		return v.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil {
			return fi.Size(), true
		}
	}
	return 0, false
}

// opener returns the function the client calls for each upload attempt: the first attempt
// gets the stream already opened, a retry opens the file again.
func (p *pdfFile) opener(ctx context.Context, src Source) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		if !p.used && p.rc != nil {
			p.used = true
			return &limitedPDF{r: p.br, c: p.rc, left: p.maxLen}, nil
		}
		rc, err := src.OpenPDF(ctx, p.name)
		if err != nil {
			return nil, err
		}
		return &limitedPDF{r: rc, c: rc, left: p.maxLen}, nil
	}
}

// filename is the name the upload gives Amili: the base name.
func (p *pdfFile) filename() string { return path.Base(strings.ReplaceAll(p.name, `\`, "/")) }

// close releases the stream when no upload took it.
func (p *pdfFile) close() {
	if p != nil && !p.used && p.rc != nil {
		p.rc.Close()
		p.used = true
	}
}

// limitedPDF streams a PDF and fails once it passes the size limit, for sources that cannot
// tell the size before reading.
type limitedPDF struct {
	r    io.Reader
	c    io.Closer
	left int64
}

func (l *limitedPDF) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errPDFTooLarge
	}
	return n, err
}

func (l *limitedPDF) Close() error { return l.c.Close() }
