package mapping

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
)

// rowSource is the header-translating reader handed to gocsv (a gocsv.Decoder). It reads the
// file's records with encoding/csv, a batch at a time, and gives gocsv the canonical headers of
// the fields the layout found (and of its constants), then each data row of the batch
// rearranged under them. Blank rows are skipped here, and a line that a stray quote spoils is
// passed on as an empty row marked broken. Beside each row it keeps a rowMeta: the record as
// the file has it and its lines.
type rowSource struct {
	file  string
	csv   *csv.Reader
	guard *recordGuard // bounds each record, told where each begins
	// maxColumns bounds the header.
	maxColumns int
	isUTF8     bool
	encoding   string
	fileHead   []string // the file's header, for messages

	head   []string // the canonical headers gocsv reads
	from   []int    // per canonical column: the file's column, or -1 for a constant
	consts []string // per canonical column: the layout's constant, if any
	last   int      // last physical line read

	// Batches go from the decoding goroutine to the Reader on full, and back on free to be
	// reused; done ends the goroutine early.
	full, free chan *batch
	done       chan struct{}
	stopOnce   sync.Once
	exited     chan struct{} // closed when the goroutine has returned
}

// batch is a run of consecutive rows: what gocsv reads (the canonical header, then the rows),
// the rows it decoded, each row's meta, and the error that ended the file after them, if any.
// A batch with no row and no error is the end of the file.
type batch struct {
	in    [][]string
	rows  []rowRef
	metas []rowMeta
	err   error
}

// GetCSVRows implements gocsv.Decoder: the canonical header, then the batch's rows.
func (b *batch) GetCSVRows() ([][]string, error) { return b.in, nil }

// rowMeta is what the validation needs of a row beside its cells.
type rowMeta struct {
	rec     []string // the record as the file has it
	recLine int      // physical line of the record's first byte
	line    int      // physical line of its last byte
	lines   []int    // start line of each field, only when the record spans lines
	broken  bool     // encoding/csv could not split the line; rec is empty
}

// bareQuoteRule is the rule of a line with a stray quote.
const bareQuoteRule = "row cannot be read: a quote (\") may only appear inside a quoted field, doubled"

// batchRows is how many rows gocsv decodes at a time: enough that its per-call work (mapping
// the header to the row's tags) and the handing over between goroutines do not count, few
// enough that the batches in flight stay under a megabyte.
const batchRows = 128

// batchesInFlight is how many batches exist: one being validated while the next is read and
// decoded, so that reading and validation run side by side on two cores.
const batchesInFlight = 2

func (s *rowSource) fileError(line int, column, rule string) *FileError {
	return &FileError{File: s.file, Line: line, Column: shownRunes(clip(column, maxValueQuote)), Rule: rule}
}

// readHeader reads the file's header record.
func (s *rowSource) readHeader() ([]string, int, error) {
	rec, err := s.csv.Read()
	if err == io.EOF {
		return nil, 0, s.fileError(0, "", "file is empty: no header line")
	}
	if err != nil {
		return nil, 0, s.csvFileError(err, 0)
	}
	s.guard.start = s.csv.InputOffset()
	if len(rec) > s.maxColumns {
		return nil, 0, s.fileError(1, "", fmt.Sprintf("the header has %d columns, more than the %d a file may have", len(rec), s.maxColumns))
	}
	head := make([]string, len(rec))
	for i, h := range rec {
		head[i] = strings.TrimSpace(h)
	}
	line, _ := s.csv.FieldPos(len(rec) - 1)
	if fe := s.checkEncoding(head, func(int) int { return 1 }); fe != nil {
		return nil, 0, fe
	}
	s.fileHead, s.last = head, line
	return head, line, nil
}

// translate sets the canonical header gocsv reads: each field the file has a column for or
// the layout a constant, in the order of fields.
func (s *rowSource) translate(col *[numFields]int, l *Layout) {
	for f := field(0); f < numFields; f++ {
		if col[f] >= 0 || l.hasConst[f] {
			s.head = append(s.head, f.String())
			s.from = append(s.from, col[f])
			s.consts = append(s.consts, l.constant[f])
		}
	}
}

// start runs the reading and decoding of rows in a goroutine of their own, a batch at a time,
// ahead of the validation.
func (s *rowSource) start() {
	s.full = make(chan *batch, batchesInFlight)
	s.free = make(chan *batch, batchesInFlight)
	s.done, s.exited = make(chan struct{}), make(chan struct{})
	for range batchesInFlight {
		b := &batch{in: make([][]string, 1, batchRows+1), rows: make([]rowRef, 0, batchRows)}
		b.in[0] = s.head
		s.free <- b
	}
	go s.run()
}

// stop ends the goroutine of a file that is left before its end.
func (s *rowSource) stop() { s.stopOnce.Do(func() { close(s.done) }) }

// run reads batches until the end of the file, an error, or stop.
func (s *rowSource) run() {
	defer close(s.exited)
	for {
		var b *batch
		select {
		case b = <-s.free:
		case <-s.done:
			return
		}
		recycle(b.rows) // the Reader is done with them
		s.fill(b)
		if n := len(b.metas); n > 0 {
			b.rows = b.rows[:n]
			if err := gocsv.UnmarshalDecoder(b, &b.rows); err != nil {
				// gocsv stops at the error: no row of this batch can be trusted.
				b.in, b.metas, b.rows = b.in[:1], b.metas[:0], b.rows[:0]
				b.err = fmt.Errorf("decode rows: %w", err)
			}
		}
		select {
		case s.full <- b:
		case <-s.done:
			return
		}
		if b.err != nil || len(b.metas) == 0 {
			return
		}
	}
}

// fill reads the records of the next batch.
func (s *rowSource) fill(b *batch) {
	b.in, b.metas, b.err = b.in[:1], b.metas[:0], nil
	for len(b.metas) < batchRows {
		rec, err := s.csv.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) || !errors.Is(pe.Err, csv.ErrBareQuote) {
				b.err = s.csvFileError(err, s.last)
				return
			}
			s.guard.start = s.csv.InputOffset()
			s.last = pe.Line
			b.add(s, rowMeta{recLine: pe.StartLine, line: pe.Line, broken: true}, nil)
			continue
		}
		s.guard.start = s.csv.InputOffset()
		m := s.meta(rec)
		s.last = m.line
		// Bytes that do not decode are checked by the Reader as it takes the row: that work
		// is better spent beside this goroutine's than in it.
		if !blankRow(rec) {
			b.add(s, m, rec)
		}
	}
}

// add appends a row to the batch: its meta (with a copy of the record, as encoding/csv reuses
// its own) and the record rearranged under the canonical headers.
// add appends a row to the batch: its meta (with a copy of the record, as encoding/csv reuses
// its own) and the record rearranged under the canonical headers.
func (b *batch) add(s *rowSource, m rowMeta, rec []string) {
	i := len(b.metas)
	var keep []string
	if i < cap(b.metas) {
		keep = b.metas[:i+1][i].rec[:0]
	}
	m.rec = append(keep, rec...)
	b.metas = append(b.metas[:i], m)
	b.in = b.in[: len(b.in)+1 : cap(b.in)]
	out := b.in[len(b.in)-1]
	if out == nil {
		out = make([]string, len(s.head))
		b.in[len(b.in)-1] = out
	}
	for c, j := range s.from {
		if j >= 0 && j < len(rec) {
			out[c] = rec[j]
		} else { // a constant, or a short row: as if the column were not there
			out[c] = s.consts[c]
		}
	}
}

// meta records where the record just read lies.
func (s *rowSource) meta(rec []string) rowMeta {
	m := rowMeta{}
	m.recLine, _ = s.csv.FieldPos(0)
	endLine, _ := s.csv.FieldPos(len(rec) - 1)
	m.line = endLine + strings.Count(rec[len(rec)-1], "\n")
	if m.line != m.recLine {
		m.lines = make([]int, len(rec))
		for i := range rec {
			m.lines[i], _ = s.csv.FieldPos(i)
		}
	}
	return m
}

// fieldLine is the physical line on which field i of the row starts.
func (m *rowMeta) fieldLine(i int) int {
	if m.lines == nil || i < 0 || i >= len(m.lines) {
		return m.recLine
	}
	return m.lines[i]
}

// csvFileError turns an encoding/csv error that leaves the rest of the file unreadable into a
// *FileError.
func (s *rowSource) csvFileError(err error, line int) *FileError {
	if errors.Is(err, errRecordTooLong) {
		what := fmt.Sprintf("the record that begins on line %d", line+1)
		if line == 0 {
			what = "the header"
		}
		return s.fileError(line+1, "", fmt.Sprintf("%s is longer than %d bytes, the most a record may hold; the rest of the file is not read", what, s.guard.limit))
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return s.fileError(pe.StartLine, "", fmt.Sprintf("broken quoting from line %d to %d: %v; the rest of the file cannot be read reliably", pe.StartLine, pe.Line, pe.Err))
	}
	return s.fileError(line, "", fmt.Sprintf("read: %v", err))
}

// checkEncoding refuses a record whose bytes are not valid in the file's encoding; lineOf
// gives the line of a field.
func (s *rowSource) checkEncoding(rec []string, lineOf func(int) int) *FileError {
	for i, v := range rec {
		bad := false
		if s.isUTF8 {
			bad = !utf8.ValidString(v)
		} else {
			// A single-byte encoding: U+FFFD can only come from a byte it does not define.
			bad = strings.ContainsRune(v, utf8.RuneError)
		}
		if !bad {
			continue
		}
		col := ""
		if i < len(s.fileHead) {
			col = s.fileHead[i]
		}
		if s.isUTF8 {
			return s.fileError(lineOf(i), col, "bytes are not valid UTF-8; if the file is Windows-1252 or ISO-8859-1, set encoding in the mapping file")
		}
		return s.fileError(lineOf(i), col, fmt.Sprintf("bytes are not defined in %s", s.encoding))
	}
	return nil
}

func blankRow(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
