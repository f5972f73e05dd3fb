package main

// The hostile-input corpus: every directory under testdata/hostile is one case, imported end to
// end against the sandbox. A case is files only (see testdata/hostile/README.md), so adding a
// case is adding a directory.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/ledger"
)

const hostileDir = "../../testdata/hostile"

// readLines returns the non-blank lines of a case file; a missing file is no lines.
func readLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestHostileInputs(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(hostileDir, "*", "expect"))
	if err != nil {
		t.Fatal(err)
	}
	csvCases, configCases := 0, 0
	for _, e := range dirs {
		dir := filepath.Dir(e)
		name := filepath.Base(dir)
		if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
			configCases++
			t.Run(name, func(t *testing.T) { hostileConfig(t, dir) })
			continue
		}
		csvCases++
		t.Run(name, func(t *testing.T) { hostileCSV(t, dir) })
	}
	if csvCases == 0 || configCases == 0 {
		t.Fatalf("corpus %s: %d CSV cases, %d config cases; want both", hostileDir, csvCases, configCases)
	}
	t.Logf("hostile inputs tried: %d (%d CSV files imported end to end, %d configs)", csvCases+configCases, csvCases, configCases)
}

// hostileSetup makes what git cannot hold, one line of the case's setup file each:
// "fifo NAME", "dir NAME", or "symlink NAME TARGET", where a TARGET starting with
// ${OUTSIDE}/ is a directory beside the inbox holding outside.pdf.
func hostileSetup(t *testing.T, dir, in string) {
	outside := filepath.Join(filepath.Dir(in), "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "outside.pdf"), []byte("%PDF-1.4\n% not in the inbox\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range readLines(t, filepath.Join(dir, "setup")) {
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 2 && f[0] == "fifo":
			err = syscall.Mkfifo(filepath.Join(in, f[1]), 0o644)
		case len(f) == 2 && f[0] == "dir":
			err = os.Mkdir(filepath.Join(in, f[1]), 0o755)
		case len(f) == 3 && f[0] == "symlink":
			err = os.Symlink(strings.Replace(f[2], "${OUTSIDE}", outside, 1), filepath.Join(in, f[1]))
		default:
			t.Fatalf("%s/setup: cannot read %q", dir, line)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// hostileCSV imports input.csv (with mapping.yaml when present and every other file of the
// case beside it) and checks that each expected message appears, that the numbers in valid are
// registered once each, and that nothing else reached Amili.
func hostileCSV(t *testing.T, dir string) {
	h := newHarness(t, amilitest.Options{})
	in := filepath.Join(t.TempDir(), "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "expect", "valid", "exit", "setup":
			continue
		}
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(in, e.Name()))
	}
	hostileSetup(t, dir, in)
	valid := readLines(t, filepath.Join(dir, "valid"))
	for _, num := range valid {
		pdf := fmt.Sprintf("%%PDF-1.4\n%% %s\n%%%%EOF\n", num)
		if err := os.WriteFile(filepath.Join(in, num+".pdf"), []byte(pdf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"import", "--config", h.cfg, "--summary", "json", "--log-level", "info", "--kind", "invoice"}
	if _, err := os.Stat(filepath.Join(in, "mapping.yaml")); err == nil {
		args = append(args, "--mapping", filepath.Join(in, "mapping.yaml"))
	}
	code, stdout, stderr := h.run(context.Background(), append(args, filepath.Join(in, "input.csv"))...)
	all := stdout + "\n" + stderr + "\n" + ledgerErrors(t, h.db)
	if strings.Contains(all, "panic") {
		t.Fatalf("panic:\n%s", all)
	}
	expect := readLines(t, filepath.Join(dir, "expect"))
	for _, want := range expect {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in what the import said:\n%s", want, all)
		}
	}
	switch want := readLines(t, filepath.Join(dir, "exit")); {
	case len(want) > 0:
		if fmt.Sprint(code) != want[0] {
			t.Errorf("exit %d, want %s:\n%s", code, want[0], all)
		}
	case len(expect) == 0 && code != exitOK:
		t.Errorf("exit %d, want 0 for a file with nothing wrong:\n%s", code, all)
	case len(expect) > 0 && code != exitSomeRows:
		t.Errorf("exit %d, want 1 (rows or the file refused):\n%s", code, all)
	}
	var got []string
	for _, r := range h.srv.Registrations() {
		got = append(got, r.InvoiceNumbers...)
	}
	slices.Sort(got)
	want := slices.Clone(valid)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("registered %v, want exactly %v", got, want)
	}
	for _, c := range h.srv.Cases() {
		if ups := h.srv.Uploads(c.ID); len(ups) != 1 || ups[0].Filename != c.Debt.InvoiceNumber+".pdf" {
			t.Errorf("case of %s: uploads %+v, want its own PDF once", c.Debt.InvoiceNumber, ups)
		}
	}
}

// ledgerErrors is every row error and file error the ledger recorded, in the form users see.
func ledgerErrors(t *testing.T, db string) string {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return ""
	}
	ctx := context.Background()
	lg, err := ledger.Open(ctx, db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	var b strings.Builder
	rows, err := lg.RowErrors(ctx, ledger.Period{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		e := r.RowError
		e.File = filepath.Base(e.File)
		fmt.Fprintln(&b, "ledger row error:", e.Error())
	}
	files, err := lg.Files(ctx, ledger.FileFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Error != "" {
			fmt.Fprintln(&b, "ledger file error:", f.Error)
		}
	}
	subs, err := lg.Submissions(ctx, ledger.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.LastError != "" {
			fmt.Fprintf(&b, "ledger submission %s %s: %s\n", s.Items[0].InvoiceNumber, s.State, s.LastError)
		}
	}
	return b.String()
}

// hostileConfig loads config.yaml with ${CASE_DIR} naming a copy of the case's files (copied
// world-readable, 0644) and $AMILI_CODE set, and checks the expected errors or warnings.
func hostileConfig(t *testing.T, dir string) {
	tmp := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(dir, e.Name()), filepath.Join(tmp, e.Name()))
		if err := os.Chmod(filepath.Join(tmp, e.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		switch k {
		case "CASE_DIR":
			return tmp
		case "AMILI_CODE":
			return "hostile-api-code"
		}
		return ""
	}
	cfg, err := config.Load(filepath.Join(tmp, "config.yaml"), getenv)
	var said string
	if err != nil {
		said = err.Error()
	} else {
		said = strings.Join(cfg.Warnings, "\n")
		// Secrets are read when a run is wired, not when the file is parsed.
		if _, err := clientConfig(cfg, getenv, nil); err != nil {
			said += "\n" + err.Error()
		}
	}
	for _, want := range readLines(t, filepath.Join(dir, "expect")) {
		if !strings.Contains(said, want) {
			t.Errorf("no %q in:\n%s", want, said)
		}
	}
}
