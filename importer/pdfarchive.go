package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/mapping"
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

// archivePDFs moves the PDFs named by the files this run finished as done and archived, once
// every file of the run is through. A PDF stays where it is when a CSV still in the inbox (one
// left partial, one not complete yet, one that arrived during the run) names it: each such CSV
// is read with the job's mapping, as an import would read it. A CSV that cannot be read to its
// end, or an inbox that cannot be listed, keeps every PDF in place. A PDF that cannot be moved
// is logged; nothing of it changes a file's outcome.
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
	csvs := listing.Files
	for _, w := range listing.Waiting {
		csvs = append(csvs, w.File)
	}
	kept := 0
	for i, csv := range csvs {
		if len(names) == 0 {
			break
		}
		if csv.Size > imp.job.MaxFileSize {
			continue // refused whole without a row read: it needs no PDF
		}
		n, err := imp.dropNamedIn(ctx, csv.Name, names, i >= len(listing.Files))
		if err != nil {
			imp.log.Warn("PDFs not archived: cannot read a CSV still in the inbox", "csv", csv.Name, "pdfs", len(names)+kept, "err", err)
			return
		}
		kept += n
	}
	left := make([]string, 0, len(names))
	for n := range names {
		left = append(left, n)
	}
	sort.Strings(left)
	for _, n := range left {
		if _, err := src.ArchivePDF(ctx, n); err != nil {
			imp.log.Warn("PDF not archived", "pdf", n, "err", err)
		}
	}
	if kept > 0 {
		imp.log.Info("PDFs left in place: a CSV still in the inbox may name them", "pdfs", kept)
	}
}

// dropNamedIn reads the CSV name of the run's source with the job's mapping and deletes from
// names every PDF one of its registrations names (rows the mapping refuses have none). It
// returns how many it deleted. A file error (a CSV the import would quarantine) is an error
// here too: what follows it is not known. So is a refused row of a file that is not complete
// yet (incomplete): its row may only be half written, and name a PDF once it is whole.
func (imp *Importer) dropNamedIn(ctx context.Context, name string, names map[string]bool, incomplete bool) (int, error) {
	rc, err := imp.deps.Source.Open(ctx, name)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	r, err := mapping.NewReader(rc, name, imp.job.Mapping)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		reg, rowErrs, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if incomplete && len(rowErrs) > 0 {
			return n, fmt.Errorf("not complete yet, and line %d cannot be read as it is: %s", rowErrs[0].Line, rowErrs[0].Rule)
		}
		if reg == nil {
			continue
		}
		for _, it := range reg.Items {
			if k := path.Clean(it.PDF); it.PDF != "" && names[k] {
				delete(names, k)
				n++
			}
		}
	}
}
