package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A value taken from the environment is one scalar: whatever it holds, it cannot add keys,
// list items or documents to the config.
func TestVariablesCannotChangeTheStructure(t *testing.T) {
	for _, v := range []string{
		"/data\n  - name: evil\n    source: {dir: /}",
		"/data\namili:\n  base_url: http://evil.example",
		"{dir: /}",
		"[/a, /b]",
		"/data # not a comment",
		"/data\n---\njobs: []",
		"*alias",
	} {
		src := strings.Replace(minimal, "/srv/in", "${IN_DIR}", 1)
		c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t", "IN_DIR": v}))
		if err != nil {
			t.Errorf("IN_DIR=%q: %v", v, err)
			continue
		}
		if len(c.Jobs) != 1 || c.Jobs[0].Source.Dir != v {
			t.Errorf("IN_DIR=%q: jobs %d, dir %q; want one job whose dir is the value as given", v, len(c.Jobs), c.Jobs[0].Source.Dir)
		}
		if c.Amili.BaseURL != "http://127.0.0.1:8080" {
			t.Errorf("IN_DIR=%q changed amili.base_url to %q", v, c.Amili.BaseURL)
		}
	}
}

func TestVariablesTakeTheTypeOfTheirKey(t *testing.T) {
	src := minimal + "daemon:\n  lease_ttl: ${TTL}\nsftp:\n  port: ${PORT}\n  host: \"${HOST}\"\n"
	c, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t", "TTL": "90s", "PORT": "2222", "HOST": "1234"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SFTP.Port != 2222 || c.SFTP.Host != "1234" || time.Duration(c.Daemon.LeaseTTL) != 90*time.Second {
		t.Fatalf("port %d host %q lease_ttl %v; want 2222, 1234, 1m30s", c.SFTP.Port, c.SFTP.Host, c.Daemon.LeaseTTL)
	}
	_, err = Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t", "TTL": "90s", "PORT": "22\nx: 1", "HOST": "h"}))
	if err == nil || !strings.Contains(err.Error(), "line ") {
		t.Fatalf("a port holding a newline: got %v, want a type error naming the line", err)
	}
}

func TestUnsetVariableNamesItsKeyAndIgnoresComments(t *testing.T) {
	src := "# set ${NOT_IN_A_VALUE} before starting\n" + strings.Replace(minimal, "/srv/in", "${NOPE}", 1)
	_, err := Parse([]byte(src), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t"}))
	if err == nil || !strings.Contains(err.Error(), "a.yaml:13: jobs[0].source.dir: ${NOPE} is not set") {
		t.Fatalf("got %v, want the key of the unset variable", err)
	}
	if strings.Contains(err.Error(), "NOT_IN_A_VALUE") {
		t.Fatalf("a variable in a comment was looked up: %v", err)
	}
	_, err = Parse([]byte("${KEY}: 1\n"), "a.yaml", env(map[string]string{"KEY": "jobs"}))
	if err == nil || !strings.Contains(err.Error(), "only in values") {
		t.Fatalf("a variable as a key: got %v, want it refused", err)
	}
}

func TestWarnings(t *testing.T) {
	smtp := "smtp:\n  host: mail.example.se\n  from: a@example.se\n  to: [b@example.se]\n  username: u\n  password_env: PW\n"
	tests := []struct {
		name, yaml string
		want       string // "" is no warning
	}{
		{"https off loopback", strings.Replace(minimal, "http://127.0.0.1:8080", "https://api.amili.se", 1), ""},
		{"http on loopback", minimal, ""},
		{"http off loopback", strings.Replace(minimal, "http://127.0.0.1:8080", "http://api.example.se", 1), "amili.base_url: plain http"},
		{"smtp starttls", minimal + smtp, ""},
		{"smtp none with password", minimal + smtp + "  tls: none\n", "smtp.tls: none sends the password"},
		{"smtp none on loopback", minimal + strings.Replace(smtp, "mail.example.se", "127.0.0.1", 1) + "  tls: none\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "a.yaml", env(map[string]string{"AMILI_TOKEN": "t", "PW": "p"}))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(c.Warnings, "\n")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("warnings %q; want %q", got, tt.want)
			}
		})
	}
}

func TestWorldWritableConfigWarns(t *testing.T) {
	p := filepath.Join(t.TempDir(), "amili-import.yaml")
	if err := os.WriteFile(p, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	get := env(map[string]string{"AMILI_TOKEN": "t"})
	c, err := Load(p, get)
	if err != nil || len(c.Warnings) != 0 {
		t.Fatalf("mode 600: %v, warnings %q", err, c.Warnings)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	c, err = Load(p, get)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "writable by every user") {
		t.Fatalf("mode 666: warnings %q, want one about a world-writable config", c.Warnings)
	}
}
