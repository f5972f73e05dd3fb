package mapping

import (
	"bufio"
	"bytes"
	"io"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// decoded wraps r so that it yields UTF-8 with "\n" line ends: a UTF-8 BOM is dropped (and
// makes the file UTF-8 whatever the layout says), single-byte encodings are decoded, and lone
// CR line ends (old Mac exports) become LF so encoding/csv counts them as lines. CRLF stays
// as it is; encoding/csv strips the CR.
func decoded(r io.Reader, encoding string) (io.Reader, bool) {
	br := bufio.NewReaderSize(r, 64<<10)
	isUTF8 := encoding == "utf-8"
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(3)
		isUTF8 = true
	}
	var src io.Reader = br
	if !isUTF8 {
		cm := charmap.Windows1252
		if encoding == "iso-8859-1" {
			cm = charmap.ISO8859_1
		}
		src = transform.NewReader(src, cm.NewDecoder())
	}
	return transform.NewReader(src, loneCR{}), isUTF8
}

// loneCR turns a CR that is not followed by LF into LF.
type loneCR struct{ transform.NopResetter }

func (loneCR) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		i := bytes.IndexByte(src[nSrc:], '\r')
		if i < 0 {
			i = len(src) - nSrc
		}
		n := copy(dst[nDst:], src[nSrc:nSrc+i])
		nDst += n
		nSrc += n
		if n < i {
			return nDst, nSrc, transform.ErrShortDst
		}
		if nSrc == len(src) {
			break
		}
		// src[nSrc] is a CR.
		if nSrc+1 == len(src) && !atEOF {
			return nDst, nSrc, transform.ErrShortSrc
		}
		if nDst >= len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		if nSrc+1 < len(src) && src[nSrc+1] == '\n' {
			dst[nDst] = '\r'
		} else {
			dst[nDst] = '\n'
		}
		nDst++
		nSrc++
	}
	return nDst, nSrc, nil
}

// detectDelimiter picks ',', ';' or tab, whichever occurs most often outside quotes in the
// first line; ',' when none does.
func detectDelimiter(head []byte) rune {
	var n [3]int
	inQuote := false
	for _, c := range head {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			break
		}
		switch c {
		case ';':
			n[0]++
		case ',':
			n[1]++
		case '\t':
			n[2]++
		}
	}
	best, delim := 0, ','
	for i, d := range []rune{';', ',', '\t'} {
		if n[i] > best {
			best, delim = n[i], d
		}
	}
	return delim
}
