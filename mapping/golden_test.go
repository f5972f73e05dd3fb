package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestMain(m *testing.M) {
	// Pin the clock that picks the century of 10-digit personnummer.
	now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	os.Exit(m.Run())
}

// goldenOptions is testdata/<case>/options.json.
type goldenOptions struct {
	Kind      domain.Kind `json:"kind"`
	Account   *string     `json:"account"`
	Creditor  *string     `json:"creditor"`
	IDNumbers IDPolicy    `json:"id_numbers"`
}

// runFile reads a whole file and renders what the Reader returned: registrations as JSON
// lines, and every RowError, warning and FileError as lines of text.
func runFile(t testing.TB, input []byte, name string, opts Options) (regs, errs []byte) {
	var rb, eb bytes.Buffer
	r, err := NewReader(bytes.NewReader(input), name, opts)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Fatalf("NewReader returned %T %v, want *FileError", err, err)
		}
		fmt.Fprintf(&eb, "file error: %v\n", err)
		return rb.Bytes(), eb.Bytes()
	}
	if r.Kind().IsEvent() {
		runEvents(t, r, &rb, &eb)
		return rb.Bytes(), eb.Bytes()
	}
	for {
		reg, rowErrs, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Next returned %T %v, want *FileError", err, err)
			}
			fmt.Fprintf(&eb, "file error: %v\n", err)
			break
		}
		rejected := false
		for _, e := range rowErrs {
			rejected = rejected || !e.Warning
		}
		if rejected != (reg == nil) {
			t.Errorf("registration %v returned with errors %v: want a registration exactly when no error rejects it", reg != nil, rowErrs)
		}
		for _, e := range rowErrs {
			if e.Line <= 0 {
				t.Errorf("RowError without a line: %v", e)
			}
			if e.Warning {
				eb.WriteString("warning: ")
			}
			fmt.Fprintf(&eb, "%v [invoice %q]\n", e, e.InvoiceNumber)
		}
		if reg == nil && len(rowErrs) == 0 {
			t.Fatal("Next returned neither a registration nor errors")
		}
		if reg != nil {
			checkHashes(t, reg)
			line, err := json.Marshal(struct {
				Kind    domain.Kind   `json:"kind"`
				File    string        `json:"file"`
				Line    int           `json:"line"`
				Items   []domain.Item `json:"items"`
				Payload any           `json:"payload"`
			}{reg.Kind, reg.File, reg.Line, reg.Items, reg.Payload()})
			if err != nil {
				t.Fatal(err)
			}
			rb.Write(line)
			rb.WriteByte('\n')
		}
	}
	return rb.Bytes(), eb.Bytes()
}

// runEvents renders what NextEvent returns, as runFile does for registrations: events as JSON
// lines, problems as lines of text.
func runEvents(t testing.TB, r *Reader, rb, eb *bytes.Buffer) {
	for {
		ev, rowErrs, err := r.NextEvent()
		if err == io.EOF {
			return
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("NextEvent returned %T %v, want *FileError", err, err)
			}
			fmt.Fprintf(eb, "file error: %v\n", err)
			return
		}
		rejected := false
		for _, e := range rowErrs {
			rejected = rejected || !e.Warning
			if e.Line <= 0 {
				t.Errorf("RowError without a line: %v", e)
			}
			if e.Warning {
				eb.WriteString("warning: ")
			}
			fmt.Fprintf(eb, "%v [invoice %q]\n", e, e.InvoiceNumber)
		}
		if rejected != (ev == nil) {
			t.Errorf("event %v returned with errors %v: want an event exactly when no error rejects it", ev != nil, rowErrs)
		}
		if ev == nil && len(rowErrs) == 0 {
			t.Fatal("NextEvent returned neither an event nor errors")
		}
		if ev == nil {
			continue
		}
		checkEventHash(t, ev)
		line, err := json.Marshal(struct {
			Kind        domain.Kind `json:"kind"`
			File        string      `json:"file"`
			Line        int         `json:"line"`
			Key         string      `json:"key"`
			ContentHash string      `json:"content_hash"`
			Payload     any         `json:"payload"`
		}{ev.Kind, ev.File, ev.Line, ev.Key, ev.ContentHash, ev.Payload("")})
		if err != nil {
			t.Fatal(err)
		}
		rb.Write(line)
		rb.WriteByte('\n')
	}
}

// TestGolden runs every testdata/<case>/input.csv (with its optional mapping.yaml and
// options.json) and compares the registrations with expected.json and the problems with
// errors.txt. `go test ./mapping -update` rewrites them; review the diff before keeping it.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 30 {
		t.Fatalf("found %d golden cases, want at least 30", len(dirs))
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			account, creditor := "acc-1", "cred-1"
			opts := Options{}
			if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
				var o goldenOptions
				if err := json.Unmarshal(b, &o); err != nil {
					t.Fatalf("options.json: %v", err)
				}
				opts.Kind, opts.IDNumbers = o.Kind, o.IDNumbers
				if o.Account != nil {
					account = *o.Account
				}
				if o.Creditor != nil {
					creditor = *o.Creditor
				}
			}
			opts.Account, opts.Creditor = account, creditor
			if _, err := os.Stat(filepath.Join(dir, "mapping.yaml")); err == nil {
				l, err := LoadLayout(filepath.Join(dir, "mapping.yaml"))
				if err != nil {
					t.Fatalf("mapping.yaml: %v", err)
				}
				opts.Layout = l
			}
			regs, errs := runFile(t, input, "input.csv", opts)
			compareGolden(t, filepath.Join(dir, "expected.json"), regs)
			compareGolden(t, filepath.Join(dir, "errors.txt"), errs)
		})
	}
}

// compareGolden compares got with the file at path; a missing file stands for no output.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if len(got) == 0 {
			_ = os.Remove(path)
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./mapping -update and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
