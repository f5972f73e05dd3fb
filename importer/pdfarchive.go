package importer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/amili-import/amili-import/domain"
)

// notePDFs remembers the PDFs a registration of this file names, for archivePDFs; only when
// the run archives PDFs at all.
func (f *fileRun) notePDFs(reg *domain.Registration) {
	if !f.imp.archivesPDFs() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range reg.Items {
		if it.PDF == "" || checkPDFName(it.PDF) != nil {
			continue
		}
		if f.pdfs == nil {
			f.pdfs = map[string]bool{}
		}
		f.pdfs[path.Clean(it.PDF)] = true
	}
}

// archivesPDFs reports whether this run moves the PDFs of its done files.
func (imp *Importer) archivesPDFs() bool {
	return imp.job.Move && imp.deps.Source != nil && imp.deps.Source.ArchivesPDFs()
}

// donePDFs hands the PDFs of a file that is done and archived to the run, which moves them
// at its end (archivePDFs).
func (f *fileRun) donePDFs() {
	f.mu.Lock()
	names := f.pdfs
	f.pdfs = nil
	f.mu.Unlock()
	if len(names) == 0 {
		return
	}
	f.imp.mu.Lock()
	defer f.imp.mu.Unlock()
	if f.imp.pdfs == nil {
		f.imp.pdfs = map[string]bool{}
	}
	for n := range names {
		f.imp.pdfs[n] = true
	}
}

// scanChunk is how much of a CSV archivePDFs searches at a time.
const scanChunk = 1 << 20

// archivePDFs moves the PDFs named by the files this run finished as done and archived, once
// every file of the run is through. A PDF stays where it is when a CSV still in the inbox
// (one left partial, one not complete yet, one that arrived during the run) might name it:
// when the PDF's base name occurs anywhere in that CSV's bytes (as UTF-8, and as Windows-1252
// and ISO-8859-1 for names that are not ASCII). A CSV that cannot be read, or an inbox that
// cannot be listed, keeps every PDF in place. A PDF that cannot be moved is logged; nothing
// of it changes a file's outcome.
func (imp *Importer) archivePDFs(ctx context.Context) {
	imp.mu.Lock()
	names := imp.pdfs
	imp.pdfs = nil
	imp.mu.Unlock()
	if len(names) == 0 || !imp.archivesPDFs() {
		return
	}
	src := imp.deps.Source
	listing, err := src.List(ctx)
	if err != nil {
		imp.log.Warn("PDFs not archived: cannot list the inbox", "pdfs", len(names), "err", err)
		return
	}
	left := make([]string, 0, len(names))
	for n := range names {
		left = append(left, n)
	}
	sort.Strings(left)
	csvs := listing.Files
	for _, w := range listing.Waiting {
		csvs = append(csvs, w.File)
	}
	for _, csv := range csvs {
		if len(left) == 0 {
			break
		}
		if left, err = notNamedIn(ctx, src, csv.Name, left); err != nil {
			imp.log.Warn("PDFs not archived: cannot read a CSV still in the inbox", "csv", csv.Name, "pdfs", len(names), "err", err)
			return
		}
	}
	kept := len(names) - len(left)
	for _, n := range left {
		if _, err := src.ArchivePDF(ctx, n); err != nil {
			imp.log.Warn("PDF not archived", "pdf", n, "err", err)
		}
	}
	if kept > 0 {
		imp.log.Info("PDFs left in place: a CSV still in the inbox may name them", "pdfs", kept)
	}
}

// notNamedIn returns those of names whose base name does not occur in the CSV name of src.
func notNamedIn(ctx context.Context, src Source, name string, names []string) ([]string, error) {
	needles := make([][][]byte, len(names))
	longest := 0
	for i, n := range names {
		needles[i] = spellings(path.Base(n))
		for _, b := range needles[i] {
			longest = max(longest, len(b))
		}
	}
	rc, err := src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	found := make([]bool, len(names))
	buf := make([]byte, 0, scanChunk+longest)
	for {
		n, err := io.ReadFull(rc, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for i, sp := range needles {
			for _, b := range sp {
				if !found[i] && bytes.Contains(buf, b) {
					found[i] = true
				}
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		// Keep the tail a name may straddle.
		tail := min(len(buf), max(longest-1, 0))
		buf = append(buf[:0], buf[len(buf)-tail:]...)
	}
	var out []string
	for i, n := range names {
		if !found[i] {
			out = append(out, n)
		}
	}
	return out, nil
}

// spellings is how base may appear in a CSV's bytes: as it is and with its quotes doubled
// (a quoted field), in UTF-8 and, when it is not ASCII, in the single-byte encodings the
// mapping reads.
func spellings(base string) [][]byte {
	forms := []string{base}
	if q := strings.ReplaceAll(base, `"`, `""`); q != base {
		forms = append(forms, q)
	}
	var out [][]byte
	for _, s := range forms {
		out = append(out, []byte(s))
		if isASCII(s) || !utf8.ValidString(s) {
			continue
		}
		for _, cm := range []*charmap.Charmap{charmap.Windows1252, charmap.ISO8859_1} {
			if b, err := cm.NewEncoder().Bytes([]byte(s)); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
