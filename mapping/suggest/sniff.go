package suggest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// maxSampleRows and maxSampleBytes bound what is looked at; conventions show in the first rows.
const (
	maxSampleRows  = 5000
	maxSampleBytes = 8 << 20
)

// sniffed is what the bytes of a file say about its conventions, with its first records.
type sniffed struct {
	encoding string // utf-8, windows-1252 or iso-8859-1
	bom      bool
	encNote  string
	delim    rune
	quoted   bool
	header   []string
	rows     [][]string
}

// Errors for files that are not a CSV export at all.
var (
	ErrEmpty    = errors.New("the file is empty")
	ErrBinary   = errors.New("the file is binary, not a CSV text export")
	ErrNoHeader = errors.New("the first line holds values, not column names: the file needs a header line")
)

func sniff(data []byte) (*sniffed, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return nil, errors.New("the file is UTF-16: export it as UTF-8 or Windows-1252")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, ErrBinary
	}
	s := &sniffed{}
	cut := false
	if len(data) > maxSampleBytes {
		if i := bytes.LastIndexByte(data[:maxSampleBytes], '\n'); i > 0 {
			data, cut = data[:i+1], true
		}
	}
	text, err := s.decode(data)
	if err != nil {
		return nil, err
	}
	if controlChars(text) {
		return nil, ErrBinary
	}
	s.delim = sniffDelimiter(text)
	s.quoted = hasQuotedField(text, s.delim)
	if err := s.readRecords(text, cut); err != nil {
		return nil, err
	}
	return s, nil
}

// decode picks the encoding: UTF-8 (with or without BOM) when the bytes are valid UTF-8, else
// Windows-1252, or ISO-8859-1 when bytes Windows-1252 leaves undefined occur.
func (s *sniffed) decode(data []byte) (string, error) {
	if rest, ok := bytes.CutPrefix(data, []byte{0xEF, 0xBB, 0xBF}); ok {
		s.encoding, s.bom, s.encNote = "utf-8", true, "UTF-8 with a byte-order mark"
		if !utf8.Valid(rest) {
			return "", errors.New("the file starts with a UTF-8 byte-order mark but is not valid UTF-8")
		}
		return string(rest), nil
	}
	if utf8.Valid(data) {
		s.encoding, s.encNote = "utf-8", "valid UTF-8"
		return string(data), nil
	}
	cm, c1 := charmap.Windows1252, false
	s.encoding, s.encNote = "windows-1252", "not UTF-8; no byte 0x80-0x9F, so ISO-8859-1 reads it the same"
	for _, b := range data {
		switch {
		case b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D:
			cm, s.encoding, s.encNote = charmap.ISO8859_1, "iso-8859-1", "not UTF-8; bytes undefined in Windows-1252"
		case b >= 0x80 && b <= 0x9F:
			c1 = true
		}
		if s.encoding == "iso-8859-1" {
			break
		}
	}
	if c1 && s.encoding == "windows-1252" {
		s.encNote = "not UTF-8; bytes 0x80-0x9F are Windows-1252 letters and signs"
	}
	out, err := cm.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decode as %s: %w", s.encoding, err)
	}
	return string(out), nil
}

// controlChars reports control characters other than tab and line ends, which no text export
// holds. C1 controls are left alone: they are what ISO-8859-1 makes of bytes 0x80-0x9F.
func controlChars(text string) bool {
	for _, r := range text {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7F {
			return true
		}
	}
	return false
}

// head is the start of text, cut at a line end, that the delimiter is guessed from.
func head(text string) string {
	const n = 64 << 10
	if len(text) <= n {
		return text
	}
	h := text[:n]
	if i := strings.LastIndexByte(h, '\n'); i > 0 {
		h = h[:i]
	}
	return h
}

// sniffDelimiter picks the candidate that splits the header into most columns and the first
// rows into as many as the header: a decimal comma in unquoted amounts then does not pass for
// the delimiter of a ";" file.
func sniffDelimiter(text string) rune {
	h := head(text)
	best, bestScore := ',', -1
	for _, d := range []rune{';', ',', '\t'} {
		r := csv.NewReader(strings.NewReader(h))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = d, -1, true
		first, err := r.Read()
		if err != nil || len(first) < 2 {
			continue
		}
		same, rows := 0, 0
		for rows < 50 {
			rec, err := r.Read()
			if err != nil {
				break
			}
			rows++
			if len(rec) == len(first) {
				same++
			}
		}
		score := (same+1)*1000/(rows+1)*1000 + len(first)
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// hasQuotedField reports whether some field starts with a double quote.
func hasQuotedField(text string, delim rune) bool {
	h := head(text)
	return strings.HasPrefix(h, `"`) || strings.Contains(h, string(delim)+`"`) || strings.Contains(h, "\n\"")
}

// readRecords reads the header and the first rows, as encoding/csv (the Reader's splitter) does.
// When text is the first part of a longer file, a record cut at its end is dropped.
func (s *sniffed) readRecords(text string, cut bool) error {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma, r.FieldsPerRecord = s.delim, -1
	for len(s.rows) < maxSampleRows {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && cut && s.header != nil {
			break
		}
		if err != nil {
			return fmt.Errorf("read the file as CSV: %w", err)
		}
		if s.header == nil {
			s.header = trimAll(rec)
			continue
		}
		if !blank(rec) {
			s.rows = append(s.rows, trimAll(rec))
		}
	}
	if s.header == nil {
		return ErrEmpty
	}
	return nil
}

func trimAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = strings.TrimSpace(v)
	}
	return out
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}
