package mapping

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
)

// rowSource is the header-translating reader handed to gocsv (a gocsv.SimpleDecoder). It
// reads the file's records with encoding/csv and gives gocsv, first, the canonical headers of
// the fields the layout found (and of its constants), then each data row rearranged under
// them. Blank rows are skipped here, and a line that a stray quote spoils is passed on as an
// empty row marked broken. Beside each row it queues
// a rowMeta, the record as the file has it and its lines, in the order gocsv sends the rows.
type rowSource struct {
	file     string
	csv      *csv.Reader
	isUTF8   bool
	encoding string
	fileHead []string // the file's header, for messages

	head    []string // the canonical headers gocsv reads
	from    []int    // per canonical column: the file's column, or -1 for a constant
	consts  []string // per canonical column: the layout's constant, if any
	out     []string // the row handed to gocsv, rebuilt for each record
	started bool

	metas chan rowMeta
	stop  atomic.Bool
	last  int // last physical line read

	// recs are the records' slices, reused in turn: encoding/csv reuses its own, and a record
	// is copied here so the validation can hold it while the next ones are read. A slot is
	// written again only after the metas of all the slots after it were queued, and metas
	// holds at most rowsBuffer+2, so recSlots slots are never written while still read.
	recs [recSlots][]string
	next int
}

// recSlots is the number of records in flight: those metas can hold, the one the validation
// reads, and the one being read.
const recSlots = rowsBuffer + 4

// rowMeta is what the validation needs of a row beside its cells.
type rowMeta struct {
	rec     []string // the record as the file has it
	recLine int      // physical line of the record's first byte
	line    int      // physical line of its last byte
	lines   []int    // start line of each field, only when the record spans lines
	broken  bool     // encoding/csv could not split the line; rec is nil
}

// bareQuoteRule is the rule of a line with a stray quote.
const bareQuoteRule = "row cannot be read: a quote (\") may only appear inside a quoted field, doubled"

// rowsBuffer is how many decoded rows may wait between gocsv and the validation: enough to
// keep both cores busy, small enough to stay a few hundred kilobytes.
const rowsBuffer = 64

func (s *rowSource) fileError(line int, column, rule string) *FileError {
	return &FileError{File: s.file, Line: line, Column: column, Rule: rule}
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
	head := make([]string, len(rec))
	for i, h := range rec {
		head[i] = strings.TrimSpace(h)
	}
	line, _ := s.csv.FieldPos(len(rec) - 1)
	if fe := s.checkEncoding(head, func(int) int { return 1 }); fe != nil {
		return nil, 0, fe
	}
	s.fileHead = head
	return head, line, nil
}

// translate sets the canonical header gocsv reads: each field the file has a column for, in
// the file's order of fields, then each constant.
func (s *rowSource) translate(col *[numFields]int, l *Layout) {
	for f := field(0); f < numFields; f++ {
		switch {
		case col[f] >= 0:
			s.head, s.from, s.consts = append(s.head, f.String()), append(s.from, col[f]), append(s.consts, l.constant[f])
		case l.hasConst[f]:
			s.head, s.from, s.consts = append(s.head, f.String()), append(s.from, -1), append(s.consts, l.constant[f])
		}
	}
	s.out = make([]string, len(s.head))
}

// decode starts gocsv on the rows; it sends them on rows, closes rows at the end and then
// sends gocsv's final error (nil at the end of the file) on errc.
func (s *rowSource) decode() (rows chan row, errc chan error) {
	rows, errc = make(chan row, rowsBuffer), make(chan error, 1)
	s.metas = make(chan rowMeta, rowsBuffer+2) // gocsv holds at most one row beyond the buffer
	go func() { errc <- gocsv.UnmarshalDecoderToChan(s, rows) }()
	return rows, errc
}

// halt makes the next GetCSVRow end the file and drains rows, so that gocsv's goroutine ends
// when the Reader is closed or dropped before the end of the file.
func halt(s *rowSource, rows chan row, once *sync.Once) {
	once.Do(func() {
		s.stop.Store(true)
		go func() {
			for range rows {
			}
		}()
	})
}

// GetCSVRow implements gocsv.SimpleDecoder: the canonical header first, then each data row.
func (s *rowSource) GetCSVRow() ([]string, error) {
	if !s.started {
		s.started = true
		return s.head, nil
	}
	for !s.stop.Load() {
		rec, err := s.csv.Read()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrBareQuote) {
				s.last = pe.Line
				s.metas <- rowMeta{recLine: pe.StartLine, line: pe.Line, broken: true}
				clear(s.out)
				return s.out, nil
			}
			return nil, s.csvFileError(err, s.last)
		}
		m := s.meta(rec)
		s.last = m.line
		if blankRow(rec) {
			continue
		}
		s.metas <- m
		for i, j := range s.from {
			switch {
			case j < 0:
				s.out[i] = s.consts[i]
			case j < len(rec):
				s.out[i] = rec[j]
			default: // a short row: as if the column were not there
				s.out[i] = s.consts[i]
			}
		}
		return s.out, nil
	}
	return nil, io.EOF
}

// GetCSVRows implements gocsv.SimpleDecoder; gocsv's streaming path never calls it.
func (s *rowSource) GetCSVRows() ([][]string, error) {
	return nil, errors.New("mapping: rows are read one at a time")
}

// meta records where the record just read lies.
func (s *rowSource) meta(rec []string) rowMeta {
	slot := &s.recs[s.next%recSlots]
	s.next++
	*slot = append((*slot)[:0], rec...)
	m := rowMeta{rec: *slot}
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
