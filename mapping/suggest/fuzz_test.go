package suggest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/amili-import/amili-import/mapping"
)

// Whatever the bytes, Suggest returns an error or a proposal that the mapping loader reads.
func FuzzSuggest(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.csv")
	more, _ := filepath.Glob("../../samples/*.csv")
	for _, p := range append(seeds, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a;b\n\"1;2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Suggest(data, "fuzz.csv")
		if err != nil {
			return
		}
		y, err := p.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		if _, err := Check(y, data, "fuzz.csv", mapping.Options{}); err != nil {
			t.Fatalf("the proposal does not load: %v\n%s", err, y)
		}
	})
}
