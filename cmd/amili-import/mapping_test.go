package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/mapping"
)

// "mapping suggest FILE > x.yaml" then "import --dry-run --mapping x.yaml FILE" is the whole
// loop: stdout is a mapping file the loader reads, and the dry run with it passes every row.
func TestMappingSuggestThenDryRun(t *testing.T) {
	h := newHarness(t, amilitest.Options{})
	for _, tc := range []struct{ file, count string }{
		{filepath.Join(h.dir, "erp-invoices.csv"), "2 registrations valid, 0 rows with errors"},
		{"../../mapping/suggest/testdata/visma-invoices.csv", "3 registrations valid, 0 rows with errors"},
		{"../../mapping/suggest/testdata/sap-invoices.csv", "3 registrations valid, 0 rows with errors"},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			code, out, stderr := h.run(context.Background(), "mapping", "suggest", "--config", h.cfg, tc.file)
			if code != exitOK {
				t.Fatalf("suggest: exit %d; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tc.count) {
				t.Errorf("suggest's count line missing:\n%s", stderr)
			}
			if !strings.Contains(out, "\n# Dry run of this mapping: ") || strings.Contains(out, "No creditor is configured") {
				t.Errorf("stdout does not end with the dry run:\n%s", out)
			}
			y := filepath.Join(t.TempDir(), "x.yaml")
			if err := os.WriteFile(y, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := mapping.LoadLayout(y); err != nil {
				t.Fatalf("stdout is not a mapping file: %v\n%s", err, out)
			}
			code, _, stderr = h.run(context.Background(), "import", "--dry-run", "--config", h.cfg, "--mapping", y, tc.file)
			if code != exitOK || !strings.Contains(stderr, tc.count) {
				t.Errorf("dry run with the proposal: exit %d; stderr:\n%s", code, stderr)
			}
		})
	}
}

// The file may be on the SFTP server, read through the config's sftp block.
func TestMappingSuggestSFTP(t *testing.T) {
	j := newSFTPJob(t, amilitest.Options{}, 0, 0, "")
	data, err := os.ReadFile("../../mapping/suggest/testdata/fortnox-invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.root, "in", "fortnox.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	url := "sftp://amili@" + j.sftp.Addr() + "/in/fortnox.csv"
	code, out, stderr := runCLI(t, "mapping", "suggest", "--config", j.cfg, url)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"encoding: windows-1252", `decimal_separator: ","`, `matrix.unit_vat_percent: "Moms %"`,
		"# Dry run of this mapping: 5 rows read, 3 registrations valid, 0 rows with errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("proposal lacks %q:\n%s", want, out)
		}
	}
}

// A dry run reads a file on the SFTP server too, so a mapping can be tried on the server's own
// export, through the config's sftp block; nothing is moved there.
func TestDryRunSFTP(t *testing.T) {
	j := newSFTPJob(t, amilitest.Options{}, 0, 0, "")
	data, err := os.ReadFile("../../samples/invoices.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.root, "in", "remote.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "remote.csv")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, wantOut, wantErr := runCLI(t, "import", "--dry-run", "--config", j.cfg, local)
	url := "sftp://amili@" + j.sftp.Addr() + "/in/remote.csv"
	code, out, stderr := runCLI(t, "import", "--dry-run", "--config", j.cfg, url)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if out == "" || out != wantOut {
		t.Errorf("stdout differs from the local dry run of the same bytes:\n%s\nwant:\n%s", out, wantOut)
	}
	if !strings.Contains(stderr, strings.TrimSpace(wantErr)) {
		t.Errorf("stderr %q lacks the count line %q", stderr, wantErr)
	}
	if _, err := os.Stat(filepath.Join(j.root, "in", "remote.csv")); err != nil {
		t.Errorf("the file on the server was moved: %v", err)
	}
}

// A file that is no CSV export, or a proposal whose dry run fails, says so in the exit code.
func TestMappingSuggestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"Empty":       {[]string{write("empty.csv", "")}, exitNoStart, "the file is empty"},
		"Binary":      {[]string{write("x.csv", "\x00\x01\x02PK")}, exitNoStart, "binary"},
		"Missing":     {[]string{filepath.Join(dir, "nope.csv")}, exitNoStart, "no such file"},
		"BadConfig":   {[]string{"--config", filepath.Join(dir, "none.yaml"), "../../mapping/suggest/testdata/ambiguous.csv"}, exitNoStart, "none.yaml"},
		"RowsRefused": {[]string{"../../mapping/suggest/testdata/ambiguous.csv"}, exitSomeRows, "0 registrations valid"},
		"NoFile":      {nil, exitNoStart, "Usage: amili-import mapping suggest"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"mapping", "suggest"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want it to mention %q", code, tc.code, stderr, tc.want)
			}
		})
	}
	if code, _, _ := runCLI(t, "mapping", "propose", "x.csv"); code != exitNoStart {
		t.Errorf("an unknown mapping subcommand: exit %d, want %d", code, exitNoStart)
	}
}
