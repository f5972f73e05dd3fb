package mapping

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// endless is a file of a header, one good row, and then one line of n bytes of "A" that is
// produced as it is read, so that the test itself holds none of it; read counts what was
// taken from it.
type endless struct {
	head string
	n    int64
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.head != "" {
		k := copy(p, e.head)
		e.head = e.head[k:]
		e.read += int64(k)
		return k, nil
	}
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	k = min(k, e.n)
	for i := range p[:k] {
		p[i] = 'A'
	}
	e.n -= k
	e.read += k
	return int(k), nil
}

const limitsHead = "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number,matrix.total_price_excluding_vat,matrix.unit_vat_percent\n"

// A 200 MB line ends the file with an error naming its line and the limit, after the
// registrations before it (the last of which may go on in the unreadable record, so it is not
// returned); reading it takes a bounded part of the file and of memory.
func TestRecordPastTheLimitEndsTheFileInBoundedMemory(t *testing.T) {
	src := &endless{head: limitsHead + "A1,2025-09-01,2025-10-01,SEK,ACME,556026-9986,100.00,25\n" +
		"A2,2025-09-01,2025-10-01,SEK,ACME,556026-9986,100.00,25\n", n: 200 << 20}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(src, "huge.csv", Options{Creditor: "c", Account: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var regs int
	var fe *FileError
	for {
		reg, _, err := r.Next()
		if err == io.EOF {
			t.Fatal("the file was read to its end")
		}
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FileError", err)
			}
			break
		}
		if reg != nil {
			regs++
		}
	}
	runtime.ReadMemStats(&after)
	if regs != 1 {
		t.Errorf("%d registrations before the long line, want 1", regs)
	}
	if fe.Line != 4 || !strings.Contains(fe.Rule, "longer than "+strconv.Itoa(MaxRecordBytes)+" bytes") {
		t.Errorf("file error %+v, want line 4 and the limit", fe)
	}
	if got := src.read; got > 2*MaxRecordBytes {
		t.Errorf("%d bytes were read of the 200 MB line, want at most %d", got, 2*MaxRecordBytes)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*MaxRecordBytes {
		t.Errorf("reading allocated %d bytes, want at most 8 × MaxRecordBytes", alloc)
	}
}

// A record of exactly MaxRecordBytes is read (its cell refused as too long); one byte more
// ends the file.
func TestRecordLimitIsExact(t *testing.T) {
	row := func(name string) string { return "A1,2025-09-01,2025-10-01,SEK," + name + ",556026-9986,100.00,25" }
	fixed := len(row(""))
	for _, tc := range []struct {
		size    int
		fileErr bool
	}{{MaxRecordBytes, false}, {MaxRecordBytes + 1, true}} {
		in := limitsHead + row(strings.Repeat("x", tc.size-fixed)) + "\r\n"
		r, err := NewReader(strings.NewReader(in), "edge.csv", Options{Creditor: "c", Account: "a"})
		if err != nil {
			t.Fatal(err)
		}
		_, errs, err := r.Next()
		var fe *FileError
		if got := errors.As(err, &fe); got != tc.fileErr {
			t.Errorf("record of %d bytes: file error %v, want %v (row errors %d)", tc.size, err, tc.fileErr, len(errs))
		}
		if !tc.fileErr && (len(errs) != 1 || !strings.Contains(errs[0].Rule, "longer than 10000 characters")) {
			t.Errorf("record of %d bytes: row errors %+v, want the long cell", tc.size, errs)
		}
	}
}

// A header of two million columns is refused with a short message; so is one of more than
// MaxColumns columns, and the list of unknown columns is cut.
func TestHeaderLimits(t *testing.T) {
	for name, head := range map[string]string{
		"2M columns":      strings.Repeat("a,", 2_000_000) + "a\n",
		"1001 columns":    strings.Repeat("a,", MaxColumns) + "a\n",
		"unknown columns": "invoice_number," + strings.Repeat("x", 5000) + ",b1,b2,b3,b4,b5,b6,b7,b8,b9,b10,b11,b12\n",
	} {
		_, err := NewReader(strings.NewReader(head), "wide.csv", Options{Creditor: "c", Account: "a"})
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: error %v, want a *FileError", name, err)
		}
		if msg := fe.Error(); len(msg) > 1200 {
			t.Errorf("%s: message of %d bytes, want under 1200: %.200s", name, len(msg), msg)
		}
		if name == "1001 columns" && !strings.Contains(fe.Rule, "more than the 1000") {
			t.Errorf("%s: %v", name, fe)
		}
		if name == "unknown columns" && !strings.Contains(fe.Rule, "and 3 more") {
			t.Errorf("%s: %v", name, fe)
		}
	}
}

func TestClipKeepsCharactersWhole(t *testing.T) {
	if got := clip(strings.Repeat("å", 100), 80); got != strings.Repeat("å", 80)+"..." {
		t.Errorf("clip: %q", got)
	}
	if got := clip("short", 80); got != "short" {
		t.Errorf("clip: %q", got)
	}
}

// Limits set in Options replace the defaults.
func TestLimitsAreSettable(t *testing.T) {
	row := "A1,2025-09-01,2025-10-01,SEK,ACME AB,556026-9986,100.00,25\n"
	read := func(in string, l Limits) ([]string, error) {
		r, err := NewReader(strings.NewReader(in), "set.csv", Options{Creditor: "c", Account: "a", Limits: l})
		if err != nil {
			return nil, err
		}
		var rules []string
		for {
			_, errs, err := r.Next()
			if err == io.EOF {
				return rules, nil
			}
			if err != nil {
				return rules, err
			}
			for _, e := range errs {
				rules = append(rules, e.Rule)
			}
		}
	}
	if _, err := read(limitsHead+row, Limits{Columns: 7}); err == nil || !strings.Contains(err.Error(), "more than the 7") {
		t.Errorf("columns 7: %v", err)
	}
	if _, err := read(limitsHead+row, Limits{RecordBytes: 100}); err == nil || !strings.Contains(err.Error(), "longer than 100 bytes") {
		t.Errorf("record bytes 100: %v", err)
	}
	if rules, err := read(limitsHead+row, Limits{CellChars: 5}); err != nil || len(rules) == 0 || !strings.Contains(rules[0], "longer than 5 characters") {
		t.Errorf("cell chars 5: %v %v", rules, err)
	}
}
