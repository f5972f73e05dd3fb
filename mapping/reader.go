package mapping

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/seenset"
)

// Options say how to read one file.
type Options struct {
	// Kind is the kind of file; "" detects it from the header (an ambiguous header is a
	// *FileError).
	Kind domain.Kind
	// Layout maps columns to fields; nil is the canonical layout.
	Layout *Layout
	// Account is Amili's account id, from the configuration.
	Account string
	// Creditor is Amili's creditor id, from the configuration; a creditor column overrides it
	// per row (partner platforms feeding several creditors).
	Creditor string
	// Limits bound the file; zero fields take their defaults.
	Limits Limits
	// IDNumbers says what a wrong check digit in an identity number does: IDStrict ("" too)
	// rejects the row, IDWarn keeps it with a warning.
	IDNumbers IDPolicy
}

// maxGroupRows bounds the rows of one registration so that memory stays bounded even when a
// broken export repeats one invoice number on every row.
const maxGroupRows = 10_000

// Reader reads registrations (Next) or events (NextEvent) from one CSV file, one at a time. It is not safe for concurrent
// use; use one Reader per file.
type Reader struct {
	file   string
	opts   Options
	limits Limits
	layout *Layout
	kind   domain.Kind
	src    *rowSource

	// The batch being validated and the next row to take from it.
	batch *batch
	pos   int

	header []string
	col    [numFields]int // column index of each field, -1 when the file has none
	// groupCols are the registration-wide fields the file has columns for.
	groupCols []field

	// The row being processed: its cells as gocsv decoded them, and the record as the file
	// has it.
	row  *row
	bad  uint64 // fields of row holding a character no value may
	rec  []string
	meta *rowMeta
	line int // last physical line read
	rows int // data rows read (blank rows not counted)

	cur, spare *group
	poisonLine int // a row that could not be read, which the next registration may miss
	done       bool
	fileErr    *FileError

	jbuf []byte // scratch for content hashes
	seed maphash.Seed
	// seen maps a 64-bit hash of each invoice number met so far to (content hash<<32 | line),
	// in about 20 bytes per number outside the Go heap; freed at the end of the file, or by a
	// cleanup when the Reader is dropped before. An event file keeps there, per creditor and
	// key, the line of its first row and a fingerprint of its content (checkEventSeen).
	seen *seenset.Set
}

// NewReader reads and checks the header of a CSV file. Problems with the file as a whole (no
// header, unknown or duplicated columns, a missing required column, an unknown or ambiguous
// kind, bytes that do not decode) are returned as a *FileError.
func NewReader(r io.Reader, file string, opts Options) (*Reader, error) {
	l := opts.Layout
	if l == nil {
		l = canonical
	}
	if opts.IDNumbers == "" {
		opts.IDNumbers = IDStrict
	}
	if opts.IDNumbers != IDStrict && opts.IDNumbers != IDWarn {
		return nil, &FileError{File: file, Rule: fmt.Sprintf("identity-number policy %q is not strict or warn", opts.IDNumbers)}
	}
	rd := &Reader{file: file, opts: opts, limits: opts.Limits.withDefaults(), layout: l, seed: maphash.MakeSeed(), seen: &seenset.Set{}}
	runtime.AddCleanup(rd, (*seenset.Set).Free, rd.seen)
	src, isUTF8 := decoded(r, l.Encoding)
	guard := &recordGuard{r: src, limit: int64(rd.limits.RecordBytes)}
	br := bufio.NewReaderSize(guard, 64<<10)
	delim := l.Delimiter
	if delim == 0 {
		head, _ := br.Peek(64 << 10)
		delim = detectDelimiter(head)
	}
	c := csv.NewReader(br)
	c.Comma = delim
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	rd.src = &rowSource{file: file, csv: c, guard: guard, maxColumns: rd.limits.Columns, isUTF8: isUTF8, encoding: l.Encoding}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	rd.src.translate(&rd.col, l)
	rd.src.start()
	runtime.AddCleanup(rd, (*rowSource).stop, rd.src)
	rd.cur, rd.spare = &group{}, &group{}
	return rd, nil
}

// Close stops reading the file. A Reader read to its end (io.EOF or a *FileError) needs no
// Close; one dropped before its end is closed when it is collected, and Close makes that prompt.
func (r *Reader) Close() { r.src.stop() }

// Kind returns the kind of file being read.
func (r *Reader) Kind() domain.Kind { return r.kind }

// Line returns the last physical line read.
func (r *Reader) Line() int { return r.line }

// Rows is the number of non-blank data rows read so far, a row whose quoted field spans lines
// counting once.
func (r *Reader) Rows() int { return r.rows }

func (r *Reader) fileError(line int, column, rule string) *FileError {
	column = shownRunes(clip(column, maxValueQuote))
	return &FileError{File: r.file, Line: line, Column: column, Rule: rule}
}

func (r *Reader) readHeader() error {
	header, line, err := r.src.readHeader()
	if err != nil {
		return err
	}
	r.header, r.line = header, line
	if err := r.mapColumns(); err != nil {
		return err
	}
	if err := r.decideKind(); err != nil {
		return err
	}
	for f := field(0); f < numFields; f++ {
		if r.col[f] >= 0 && !f.inKind(r.kind) {
			return r.fileError(1, r.header[r.col[f]], fmt.Sprintf("column maps to %s, which a %s file does not have", f, r.kind))
		}
	}
	for f := field(0); f < numFields; f++ {
		if fieldDefs[f].group && r.col[f] >= 0 {
			r.groupCols = append(r.groupCols, f)
		}
	}
	return r.checkRequired()
}

// mapColumns finds each column's field through the layout, refusing a header given twice,
// two columns of one field, and columns the layout does not know.
func (r *Reader) mapColumns() error {
	for f := range r.col {
		r.col[f] = -1
	}
	l := r.layout
	byName := map[string]int{}
	var unknown []string
	mapped := false
	for i, h := range r.header {
		key := strings.ToLower(h)
		if j, ok := byName[key]; ok {
			return r.fileError(1, h, fmt.Sprintf("header %q appears twice (columns %d and %d)", h, j+1, i+1))
		}
		byName[key] = i
		if l.ignore[key] {
			continue
		}
		f, ok := l.headers[key]
		switch {
		case !ok && !l.IgnoreUnknown && h == "":
			unknown = append(unknown, fmt.Sprintf("(column %d has no header)", i+1))
		case !ok && !l.IgnoreUnknown:
			unknown = append(unknown, h)
		case !ok:
		case r.col[f] >= 0:
			return r.fileError(1, h, fmt.Sprintf("columns %q and %q both map to %s", r.header[r.col[f]], h, f))
		default:
			r.col[f], mapped = i, true
		}
	}
	if !mapped {
		return r.fileError(1, "", fmt.Sprintf("unknown layout: no column of the header (%s) is a known field; use the canonical headers of samples/README.md or a mapping file", quoteList(r.header)))
	}
	if len(unknown) > 0 {
		return r.fileError(1, unknown[0], fmt.Sprintf("unknown column(s) %s: rename them to a field listed in samples/README.md, map them under columns:, or list them under ignore: in the mapping file", quoteList(unknown)))
	}
	return nil
}

// checkRequired refuses a file without a column (or constant) for a field its kind requires.
func (r *Reader) checkRequired() error {
	var missing []string
	for _, req := range requiredColumns(r.kind) {
		if !slices.ContainsFunc(req, r.has) {
			name := req[0].String()
			if r.kind.IsEvent() {
				// Every choice of an event file is between equals (invoice_number or case).
				for _, f := range req[1:] {
					name += " or " + f.String()
				}
			}
			missing = append(missing, name)
		}
	}
	if !r.has(fCreditor) && r.opts.Creditor == "" {
		missing = append(missing, "creditor")
	}
	if len(missing) > 0 {
		return r.fileError(1, "", fmt.Sprintf("missing required column(s) %s for %s file (give a column, or a constant in the mapping file; creditor may come from the configuration)", quoteList(missing), article(r.kind)))
	}
	return nil
}

// has reports whether f has a column or a constant.
func (r *Reader) has(f field) bool { return r.col[f] >= 0 || r.layout.hasConst[f] }

// requiredColumns lists, per kind, the fields a file must provide; an inner list is a choice.
func requiredColumns(k domain.Kind) [][]field {
	switch k {
	case domain.KindInvoice:
		return [][]field{{fInvoiceNumber}, {fInvoiceDate}, {fInvoiceDueDate}, {fCurrency}, {fCustName},
			{fTotalExclVAT, fUnitPrice}, {fVATPercent}}
	case domain.KindCase:
		return [][]field{{fFirstAction}, {fCurrency}, {fCustName}, {fDebtInvoiceNumber}, {fDebtDescriptionCase},
			{fDebtInvoiceDate}, {fDebtCapital}, {fDebtDueDays, fDebtDueDate}}
	case domain.KindPayment:
		return [][]field{{fInvoiceNumber, fCase}, {fAmount}, {fCurrency}, {fBankTransactionDate}, {fCreditorPaymentReference}}
	case domain.KindCrediting:
		return [][]field{{fInvoiceNumber, fCase}, {fAmount}, {fCurrency}, {fCreditorReference, fCreditInvoice}}
	}
	return [][]field{{fInvoiceNumber, fCase}}
}

// complete reports whether the file has every column (or constant) a file of kind k requires.
func (r *Reader) complete(k domain.Kind) bool {
	for _, req := range requiredColumns(k) {
		if !slices.ContainsFunc(req, r.has) {
			return false
		}
	}
	return true
}

// decideKind takes the kind from the options or the layout, or else from the header: the one
// kind whose files have every field of the header, or, when several do, the one of those whose
// required columns are all there. A header no kind has all fields of, or one that fits several
// kinds equally, is a *FileError naming them.
func (r *Reader) decideKind() error {
	switch {
	case r.opts.Kind != "":
		r.kind = r.opts.Kind
	case r.layout.Kind != "":
		r.kind = r.layout.Kind
	default:
		if err := r.detectKind(); err != nil {
			return err
		}
	}
	if !r.kind.Valid() {
		return r.fileError(0, "", fmt.Sprintf("kind %q is not %s", r.kind, kindList(domain.Kinds, "or")))
	}
	return nil
}

func (r *Reader) detectKind() error {
	fits := scopeAll
	var present []field
	for f := field(0); f < numFields; f++ {
		if r.has(f) {
			fits &= fieldDefs[f].scope
			present = append(present, f)
		}
	}
	candidates := fits.kinds()
	if len(candidates) == 0 {
		return r.fileError(1, "", fmt.Sprintf("ambiguous layout: no kind of file has all of the header's fields: %s; set kind in the mapping file or the job", conflictingFields(present)))
	}
	if len(candidates) > 1 {
		var full []domain.Kind
		for _, k := range candidates {
			if r.complete(k) {
				full = append(full, k)
			}
		}
		if len(full) != 1 {
			return r.fileError(1, "", fmt.Sprintf("ambiguous layout: the header fits %s files; set kind in the mapping file or the job", kindList(candidates, "and")))
		}
		candidates = full
	}
	r.kind = candidates[0]
	return nil
}

// conflictingFields describes the fields of a header that no kind has all of: the fields of
// each scope no other present scope narrows, by kind ("invoice fields (…) and case fields (…)").
func conflictingFields(present []field) string {
	byScope := map[scope][]string{}
	var scopes []scope
	for _, f := range present {
		s := fieldDefs[f].scope
		if _, ok := byScope[s]; !ok {
			scopes = append(scopes, s)
		}
		byScope[s] = append(byScope[s], f.String())
	}
	var parts []string
	for _, s := range scopes {
		narrowest := true
		for _, t := range scopes {
			if t != s && t&s == t {
				narrowest = false
			}
		}
		if narrowest {
			parts = append(parts, fmt.Sprintf("%s fields (%s)", kindList(s.kinds(), "or"), strings.Join(byScope[s], ", ")))
		}
	}
	return strings.Join(parts, " and ")
}

// kindList joins kinds for a message: "invoice, case or payment".
func kindList(ks []domain.Kind, conj string) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// quoteList quotes names for a message: sorted, each clipped, at most maxListed of them.
func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", clip(v, maxValueQuote))
	}
	sort.Strings(q)
	if len(q) > maxListed {
		return strings.Join(q[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(q)-maxListed)
	}
	return strings.Join(q, ", ")
}

// Next returns the next registration. When its rows have errors, reg is nil and errs lists
// every problem of every row in the group. Warnings come with a non-nil reg. At the end it
// returns io.EOF; a problem that makes the rest of the file unreadable returns a *FileError,
// after which the file must be abandoned. An event file (payment, crediting, cancellation) is
// read with NextEvent: Next on one returns a *FileError.
func (r *Reader) Next() (reg *domain.Registration, errs []domain.RowError, err error) {
	if r.kind.IsEvent() {
		return nil, nil, r.fileError(0, "", fmt.Sprintf("%s file holds events, not registrations: it is read with NextEvent", article(r.kind)))
	}
	if r.fileErr != nil {
		return nil, nil, r.fileErr
	}
	for r.advance() {
		if r.meta.broken {
			// A stray quote inside an unquoted field spoils only its own line.
			r.brokenRow(r.meta.recLine, bareQuoteRule)
			continue
		}
		if g := r.addRow(); g != nil {
			return r.finish(g)
		}
	}
	if r.fileErr != nil {
		return nil, nil, r.fileErr
	}
	if r.cur.rows > 0 {
		g := r.cur
		r.cur, r.spare = r.spare, g
		r.cur.rows = 0
		return r.finish(g)
	}
	r.seen.Free() // the file is done: no number can appear again
	return nil, nil, io.EOF
}

// advance makes the next data row the current one. It returns false at the end of the file,
// and when the file ended with an error, which is then in fileErr.
func (r *Reader) advance() bool {
	for !r.done {
		if r.batch == nil || r.pos == len(r.batch.metas) {
			if !r.nextBatch() {
				return false
			}
			continue
		}
		r.row, r.bad, r.meta = r.batch.rows[r.pos].Row, r.batch.rows[r.pos].bad, &r.batch.metas[r.pos]
		if r.row == nil { // gocsv met no cell of it: every cell empty
			r.row = new(row)
		}
		r.pos++
		r.rec, r.line = r.meta.rec, r.meta.line
		if !r.meta.broken {
			if fe := r.src.checkEncoding(r.rec, r.meta.fieldLine); fe != nil {
				r.fileErr = fe
				r.src.stop()
				return false
			}
		}
		r.rows++
		return true
	}
	return false
}

// fieldLine is the physical line on which column i of the current row starts.
func (r *Reader) fieldLine(i int) int { return r.meta.fieldLine(i) }

// nextBatch takes the next batch of rows, handing the one read back for reuse; at the end of
// the file it sets done. It returns false when the file ended with an error, now in fileErr.
func (r *Reader) nextBatch() bool {
	if b := r.batch; b != nil {
		r.batch, r.row = nil, nil // its rows go back to the pool
		if b.err != nil {
			r.fileErr = r.asFileError(b.err)
			return false
		}
		r.src.free <- b
	}
	select {
	case r.batch = <-r.src.full:
		r.pos = 0
	case <-r.src.exited:
		select { // the goroutine may have sent its last batch just before it returned
		case r.batch = <-r.src.full:
			r.pos = 0
		default:
			r.fileErr = r.fileError(r.line, "", "read: the file was closed")
			return false
		}
	}
	if len(r.batch.metas) == 0 && r.batch.err == nil {
		r.done = true
	}
	return true
}

// asFileError makes gocsv's final error a *FileError: rowSource's own errors already are.
func (r *Reader) asFileError(err error) *FileError {
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return r.fileError(r.line, "", fmt.Sprintf("read: %v", err))
}

// value returns f's value in the current row: the column's trimmed text, else the constant.
func (r *Reader) value(f field) string { return cells[f](r.row).text() }

// column names f's source for messages: its header as written in the file, or the constant.
func (r *Reader) column(f field) string {
	if i := r.col[f]; i >= 0 {
		return r.header[i]
	}
	if r.layout.hasConst[f] {
		return "constants." + f.String()
	}
	return f.String()
}

// rowErr records a problem with field f of the current row in group g.
func (r *Reader) rowErr(g *group, f field, value, rule string) {
	if f == fCustIDNumber && value != "" {
		value = maskID(value)
	}
	value = shownRunes(clip(value, maxValueQuote))
	g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.fieldLine(r.col[f]), Column: r.column(f),
		Value: value, Rule: rule, InvoiceNumber: g.itemNumber})
}

// rowWarn records a warning for field f of the current row.
func (r *Reader) rowWarn(g *group, f field, value, rule string) {
	r.rowErr(g, f, value, rule)
	g.errs[len(g.errs)-1].Warning = true
	g.warnings++
}

// brokenRow records a row that encoding/csv could not split into fields. Its invoice number
// is unknown, so it may belong to the registration being read or to the next one: both are
// rejected rather than sent without it.
func (r *Reader) brokenRow(line int, rule string) {
	e := domain.RowError{File: r.file, Line: line, Rule: rule}
	if r.cur.rows > 0 {
		e.InvoiceNumber = r.cur.itemNumber
		r.cur.errs = append(r.cur.errs, e)
	} else {
		r.cur.reset("\x00broken", line)
		r.cur.errs = append(r.cur.errs, e)
	}
	r.poisonLine = line
}

// article puts "a" or "an" before a kind for messages.
func article(k domain.Kind) string {
	if k == domain.KindInvoice {
		return "an invoice"
	}
	return "a " + string(k)
}
