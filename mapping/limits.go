package mapping

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/amili-import/amili-import/domain"

	"golang.org/x/text/unicode/norm"
)

// Limits bound what one file may hold. Past RecordBytes or Columns the file is refused (the
// rest of it cannot be read in bounded memory, or it is no export); past CellChars the row is.
// A zero field takes its default.
type Limits struct {
	// RecordBytes bounds one record: a row with every line of its quoted fields, or the
	// header. Reading stops at the first byte past it, so a file's memory is bounded by it
	// and not by the file. Default MaxRecordBytes.
	RecordBytes int
	// Columns bounds the header's columns. Default MaxColumns.
	Columns int
	// CellChars bounds one value, in characters. Default MaxFieldLen.
	CellChars int
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.RecordBytes <= 0 {
		l.RecordBytes = MaxRecordBytes
	}
	if l.Columns <= 0 {
		l.Columns = MaxColumns
	}
	if l.CellChars <= 0 {
		l.CellChars = MaxFieldLen
	}
	return l
}

// The default limits, and the ones that are not settable.
const (
	// MaxRecordBytes is the default of Limits.RecordBytes: 4 MiB.
	MaxRecordBytes = 4 << 20
	// MaxColumns is the default of Limits.Columns; the canonical layouts have 53 fields.
	MaxColumns = 1000
	// MaxFieldLen is the default of Limits.CellChars. Amili documents no limits, but a cell
	// of megabytes is a broken export, not a customer name: its row is refused rather than
	// sent.
	MaxFieldLen = 10000
	// MaxNumberLen bounds an invoice number, in characters.
	MaxNumberLen = 100
	// maxValueQuote bounds how much of a refused value a row error quotes, in characters.
	maxValueQuote = 80
	// maxListed bounds the names a file error lists (unknown columns and the like).
	maxListed = 10
)

// The dates a file may hold: an invoice, due or reminder date outside them is refused as a
// typing or export error (0000-01-01, 9999-12-31).
var (
	MinDate = domain.NewDate(1970, time.January, 1)
	MaxDate = domain.NewDate(2099, time.December, 31)
)

// errRecordTooLong ends a file whose record grows past MaxRecordBytes.
var errRecordTooLong = errors.New("record too long")

// recordGuard stops the bytes of a file once the record being read passes MaxRecordBytes.
// rowSource marks where each record begins (encoding/csv's input offset after each record).
type recordGuard struct {
	r     io.Reader
	read  int64 // bytes handed on
	start int64 // where the current record begins
	limit int64
}

// Read implements io.Reader. It hands on at most one byte past the limit of the current
// record, so that a record of up to limit bytes (and its line break) is always read whole and
// a longer one always ends the file.
func (g *recordGuard) Read(p []byte) (int, error) {
	room := g.start + g.limit + 2 - g.read // the limit, a CR LF
	if room <= 0 {
		return 0, errRecordTooLong
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// clip shortens s to at most n characters, on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	if i >= len(s) {
		return s
	}
	return strings.ToValidUTF8(s[:i], "") + "..."
}

// normalText is s in Unicode normal form C, so that "Å" typed as one character or as A and
// a combining ring is one text, for the hash, the duplicate check and what is sent alike.
// ASCII, which most cells are, is returned as is.
func normalText(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.String(s)
		}
	}
	return s
}

// badRune finds a character no value may hold: control characters (other than a line break
// or tab in a field written on several lines), and the invisible format characters that make
// two values look alike or reorder what a terminal shows (zero-width spaces and joiners, bidi
// controls, the byte order mark, soft hyphens), line and paragraph separators and
// non-characters. It returns the character and whether one was found.
func badRune(s string, multiline bool) (rune, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if !multiline {
				return r, true
			}
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r), r == '\u2028', r == '\u2029',
			r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
			return r, true
		}
	}
	return 0, false
}

// badRuneRule is the rule of a value holding r.
func badRuneRule(r rune) string {
	switch r {
	case '\n', '\r', '\t':
		return fmt.Sprintf("value holds a line break or tab (U+%04X), which this field may not have", r)
	}
	return fmt.Sprintf("value holds the invisible or control character U+%04X, which no value may have", r)
}

// shownRunes makes a value safe to quote in a message: invisible and control characters are
// written as \u escapes, so a message cannot forge terminal output or hide what it quotes.
func shownRunes(s string) string {
	if _, bad := badRune(s, false); !bad {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if _, bad := badRune(string(r), false); bad {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// multiline are the fields whose values may run over several lines.
var multiline = [numFields]bool{fInvoiceBodyText: true, fDebtDescription: true, fDebtDescriptionCase: true,
	fArticleDescription: true}

// charErrs refuses the row for each value that holds a character no value may, as marked when
// the row was decoded.
func (r *Reader) charErrs(g *group) {
	for f := field(0); f < numFields && r.bad>>f != 0; f++ {
		if r.bad&(1<<f) == 0 || r.col[f] < 0 {
			continue
		}
		v := r.value(f)
		c, _ := badRune(v, multiline[f])
		r.rowErr(g, f, v, badRuneRule(c))
	}
}

// checkNumber refuses an invoice number longer than MaxNumberLen.
func (r *Reader) checkNumber(g *group, f field, num string) {
	if len(num) > MaxNumberLen && utf8.RuneCountInString(num) > MaxNumberLen {
		r.rowErr(g, f, num, fmt.Sprintf("invoice number is longer than %d characters", MaxNumberLen))
	}
}
