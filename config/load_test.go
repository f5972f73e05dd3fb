package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const minimal = `
amili:
  base_url: http://127.0.0.1:8080
  account: 674dbeaf08847b9501cc9132
  creditor: 674dbeb208847b9501cc9138
  auth:
    token_env: AMILI_TOKEN
jobs:
  - name: invoices
    schedule: "*/15 * * * *"
    source:
      dir: /srv/in
`

func TestParse(t *testing.T) {
	t.Run("OK defaults", func(t *testing.T) {
		c, err := Parse([]byte(minimal), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
		if err != nil {
			t.Fatal(err)
		}
		j := c.Jobs[0]
		checks := []struct {
			name      string
			got, want any
		}{
			{"time zone", c.TimeZone, "Europe/Stockholm"},
			{"ledger", c.Ledger.Path, "./amili-import.db"},
			{"job creditor", j.Creditor, "674dbeb208847b9501cc9138"},
			{"archive", j.Source.ArchiveDir, "/srv/in/archive"},
			{"error", j.Source.ErrorDir, "/srv/in/error"},
			{"enabled", j.IsEnabled(), true},
			// Keys of other packages are left for them to default.
			{"auth method", c.Amili.Auth.Method, ""},
			{"rate", c.Amili.RateLimitPerMinute, 0},
			{"concurrency", j.Concurrency, 0},
			{"min age", j.Source.MinAge.D(), time.Duration(0)},
			{"drain", c.Daemon.DrainTimeout.D(), time.Duration(0)},
		}
		for _, ch := range checks {
			if ch.got != ch.want {
				t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
			}
		}
	})
	t.Run("event kinds", func(t *testing.T) {
		for _, k := range []string{"invoice", "case", "payment", "crediting", "cancellation"} {
			src := strings.Replace(minimal, "name: invoices", "name: invoices\n    kind: "+k, 1)
			c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
			if err != nil {
				t.Fatalf("kind %s: %v", k, err)
			}
			if c.Jobs[0].Kind != k {
				t.Errorf("kind: got %q, want %q", c.Jobs[0].Kind, k)
			}
		}
	})
	t.Run("expands variables", func(t *testing.T) {
		src := strings.Replace(minimal, "/srv/in", "${IN_DIR}/x$$y", 1)
		c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t", "IN_DIR": "/data"}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Jobs[0].Source.Dir, "/data/x$y"; got != want {
			t.Errorf("dir: got %q, want %q", got, want)
		}
	})
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string // substring of the error
	}{
		{"unknown key", minimal + "\nlog:\n  levle: debug\n", map[string]string{"AMILI_TOKEN": "t"}, "log.levle: unknown key; did you mean level?"},
		{"unknown nested key", strings.Replace(minimal, "dir: /srv/in", "dir: /srv/in\n      dri: x", 1), map[string]string{"AMILI_TOKEN": "t"}, "jobs[0] (invoices).source.dri: unknown key; did you mean dir?"},
		{"plain secret refused", strings.Replace(minimal, "token_env: AMILI_TOKEN", "token: abc", 1), nil, "amili.auth.token: unknown key; a secret is never written in the file: use token_env or token_file"},
		{"wrong type", strings.Replace(minimal, "name: invoices", "name: invoices\n    concurrency: many", 1), map[string]string{"AMILI_TOKEN": "t"}, "cannot unmarshal"},
		{"bad duration", minimal + "\ndaemon:\n  drain_timeout: 30\n", map[string]string{"AMILI_TOKEN": "t"}, `"30" is not a duration`},
		{"missing env secret", minimal, nil, "amili.auth.token: environment variable AMILI_TOKEN is not set"},
		{"missing secret file", strings.Replace(minimal, "token_env: AMILI_TOKEN", "token_file: /nonexistent/token", 1), nil, "secret file /nonexistent/token does not exist"},
		{"unset variable", strings.Replace(minimal, "/srv/in", "${NOPE}", 1), map[string]string{"AMILI_TOKEN": "t"}, "${NOPE} is not set"},
		{"bad schedule", strings.Replace(minimal, "*/15 * * * *", "every day", 1), map[string]string{"AMILI_TOKEN": "t"}, "jobs[0] (invoices).schedule"},
		{"missing dir", strings.Replace(minimal, "dir: /srv/in", "patterns: ['*.csv']", 1), map[string]string{"AMILI_TOKEN": "t"}, "jobs[0] (invoices).source.dir: required"},
		{"duplicate job", minimal + "  - name: invoices\n    source: {dir: /x}\n", map[string]string{"AMILI_TOKEN": "t"}, `"invoices" is used by another job`},
		{"remote listen", minimal + "\ndaemon:\n  listen: 0.0.0.0:9090\n", map[string]string{"AMILI_TOKEN": "t"}, "daemon.listen"},
		{"sftp without host", strings.Replace(minimal, "dir: /srv/in", "dir: /srv/in\n      type: sftp", 1), map[string]string{"AMILI_TOKEN": "t"}, ".host: required"},
		{"bad kind", strings.Replace(minimal, "name: invoices", "name: invoices\n    kind: refund", 1), map[string]string{"AMILI_TOKEN": "t"}, `.kind: must be invoice, case, payment, crediting, cancellation or empty (detect), not "refund"`},
		{"bad pdf policy", strings.Replace(minimal, "name: invoices", "name: invoices\n    pdf: maybe", 1), map[string]string{"AMILI_TOKEN": "t"}, `.pdf: must be required or optional, not "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "cfg.yaml", env(tt.env))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "cfg.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestWorldReadableKeyWarns(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, []byte("-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(minimal, "token_env: AMILI_TOKEN", "private_key_file: "+key+"\n    api_code_env: CODE", 1)
	c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"CODE": "c"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "readable by others") {
		t.Fatalf("warnings: got %q, want one about a readable key", c.Warnings)
	}
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Parse([]byte(src), "a.yaml", env(map[string]string{"CODE": "c"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 {
		t.Fatalf("warnings after chmod 600: %q", c.Warnings)
	}
}

func TestReadSecretTrimsNewline(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(f, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSecret("", f, nil)
	if err != nil || got != "hunter2" {
		t.Fatalf("got %q, %v; want hunter2", got, err)
	}
}

func TestErrorsAreTyped(t *testing.T) {
	_, err := Parse([]byte("jobs:\n  - source: {dir: /x}\n"), "c.yaml", nil)
	var es Errors
	if !errors.As(err, &es) || len(es) == 0 || es[0].Key != "jobs[0].name" {
		t.Fatalf("got %v, want Errors with key jobs[0].name first", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"20MiB": 20 << 20, "512KiB": 512 << 10, "5MB": 5e6, "1048576": 1 << 20, "7 B": 7} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseSize("lots"); err == nil {
		t.Error("ParseSize(lots): no error")
	}
}

// FuzzParse: any bytes give a config or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte("jobs: [{name: a, source: {dir: ${X}}}]"))
	f.Add([]byte("amili: {rate_limit_per_minute: -1}\nsmtp: {host: h}"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.yaml", env(map[string]string{"AMILI_TOKEN": "t", "X": "/x"}))
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}

// TestUnknownKeyNamesPathLineAndNearestKey: a typo anywhere, inside lists too, is reported with
// its whole key path, its line, and the valid key it is nearest to.
func TestUnknownKeyNamesPathLineAndNearestKey(t *testing.T) {
	const src = `amili:
  account: a
  auth:
    token_env: AMILI_TOKEN
sftp:
  host: h
  knwon_hosts: /etc/kh
jobs:
  - name: invoices
    source: {dir: /srv/in}
  - name: cases
    shedule: "@hourly"
    source:
      dir: /srv/cases
      sftp:
        prot: 2222
reports:
  - name: monthly
    zzzzzzzz: 1
`
	_, err := Parse([]byte(src), "cfg.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v, want Errors", err)
	}
	want := []string{
		"cfg.yaml:7: sftp.knwon_hosts: unknown key; did you mean known_hosts?",
		"cfg.yaml:12: jobs[1] (cases).shedule: unknown key; did you mean schedule?",
		"cfg.yaml:16: jobs[1] (cases).source.sftp.prot: unknown key; did you mean port?",
		"cfg.yaml:19: reports[0] (monthly).zzzzzzzz: unknown key",
	}
	if len(es) != len(want) {
		t.Fatalf("got %d errors:\n%v\nwant %d:\n%s", len(es), err, len(want), strings.Join(want, "\n"))
	}
	for i, w := range want {
		if got := es[i].Error(); got != w {
			t.Errorf("error %d: got %q, want %q", i, got, w)
		}
	}
	if es[0].Key != "sftp.knwon_hosts" || es[0].Line != 7 {
		t.Errorf("first error: key %q line %d, want sftp.knwon_hosts line 7", es[0].Key, es[0].Line)
	}
}

func TestSFTPLegacyAlgorithms(t *testing.T) {
	sftpJob := strings.Replace(minimal, "dir: /srv/in", "dir: /srv/in\n      type: sftp", 1) +
		"sftp:\n  host: h\n  user: u\n  use_agent: true\n"
	parse := func(t *testing.T, src string) *Config {
		t.Helper()
		c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("default off", func(t *testing.T) {
		if parse(t, sftpJob).Jobs[0].Source.SFTP.LegacyAlgorithms {
			t.Error("legacy_algorithms is on by default")
		}
	})
	t.Run("top level reaches the job", func(t *testing.T) {
		if !parse(t, sftpJob+"  legacy_algorithms: true\n").Jobs[0].Source.SFTP.LegacyAlgorithms {
			t.Error("sftp.legacy_algorithms: true did not reach the job")
		}
	})
	t.Run("a job turns it on", func(t *testing.T) {
		src := strings.Replace(sftpJob, "type: sftp", "type: sftp\n      sftp:\n        legacy_algorithms: true", 1)
		c := parse(t, src)
		if !c.Jobs[0].Source.SFTP.LegacyAlgorithms || c.SFTP.LegacyAlgorithms {
			t.Errorf("job %v, top level %v; want on for the job only", c.Jobs[0].Source.SFTP.LegacyAlgorithms, c.SFTP.LegacyAlgorithms)
		}
	})
	t.Run("not a boolean", func(t *testing.T) {
		_, err := Parse([]byte(sftpJob+"  legacy_algorithms: sometimes\n"), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
		if err == nil || !strings.Contains(err.Error(), "into bool") {
			t.Errorf("err = %v; want a refusal of the value", err)
		}
	})
}
