package main

import (
	"strings"
	"testing"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/mapping"
)

// A job's file limits reach the mapping options; left out, the defaults apply; out of range,
// the config is refused with the key.
func TestJobFileLimits(t *testing.T) {
	base := `amili:
  account: a
  creditor: c
  auth: {method: token, token_env: T}
jobs:
  - name: j
    source: {dir: /srv/in}
`
	env := func(string) string { return "tok" }
	cfg, err := config.Parse([]byte(base+"    max_record_size: 64KiB\n    max_columns: 60\n    max_cell_chars: 500\n    max_file_size: 10MiB\n"), "c.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	job, err := jobFromConfig(cfg, cfg.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := job.Mapping.Limits, (mapping.Limits{RecordBytes: 64 << 10, Columns: 60, CellChars: 500}); got != want {
		t.Errorf("limits %+v, want %+v", got, want)
	}
	if job.MaxFileSize != 10<<20 {
		t.Errorf("max_file_size %d, want 10 MiB", job.MaxFileSize)
	}
	for _, bad := range []string{"    max_record_size: 2GiB\n", "    max_columns: -1\n"} {
		_, err := config.Parse([]byte(base+bad), "c.yaml", env)
		if err == nil || !strings.Contains(err.Error(), "jobs[0] (j).max_") {
			t.Errorf("%q: error %v, want one naming the key", strings.TrimSpace(bad), err)
		}
	}
}
