package source_test

import (
	"testing"

	"github.com/amili-import/amili-import/source"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want source.URL
	}{
		{"sftp://user@host:2222/path/file.csv", source.URL{User: "user", Host: "host", Port: 2222, Dir: "/path", File: "file.csv"}},
		{"sftp://host/file.csv", source.URL{Host: "host", Port: 22, Dir: "/", File: "file.csv"}},
		{"sftp://u@[::1]:22/a/b/c.csv", source.URL{User: "u", Host: "::1", Port: 22, Dir: "/a/b", File: "c.csv"}},
	}
	for _, tt := range tests {
		got, err := source.ParseURL(tt.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	if got, want := (source.URL{User: "u", Host: "h", Port: 2222, Dir: "/in", File: "x.csv"}).String(), "sftp://u@h:2222/in/x.csv"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	for _, bad := range []string{"http://host/file.csv", "sftp://user:pw@host/file.csv", "sftp:///file.csv",
		"sftp://host/", "sftp://host", "sftp://host:99999/f.csv", "::"} {
		if _, err := source.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error", bad)
		}
	}
}
