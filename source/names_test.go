package source

import "testing"

func TestNumbered(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"inv.csv", 0, "inv.csv"},
		{"inv.csv", 1, "inv.1.csv"},
		{"inv.csv", 12, "inv.12.csv"},
		{"export.tar.gz", 2, "export.tar.2.gz"},
		{"README", 1, "README.1"},
	}
	for _, tt := range tests {
		if got := numbered(tt.name, tt.n); got != tt.want {
			t.Errorf("numbered(%q, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
}

func TestCleanRel(t *testing.T) {
	for in, want := range map[string]string{"a.pdf": "a.pdf", "sub/a.pdf": "sub/a.pdf", "./a.pdf": "a.pdf", "sub//a.pdf": "sub/a.pdf"} {
		if got, err := cleanRel(in); err != nil || got != want {
			t.Errorf("cleanRel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "..", "../a", "a/../../b", "/a", `a\b`, "a\x00b", "C:/a", "sub/.."} {
		if got, err := cleanRel(in); err == nil {
			t.Errorf("cleanRel(%q) = %q, want refused", in, got)
		}
	}
}
