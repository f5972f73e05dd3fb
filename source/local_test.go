package source_test

import (
	"path/filepath"
	"testing"

	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sourcetest"
)

func TestLocal(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, opts source.Options) (source.Source, string) {
		root := t.TempDir()
		opts = sourcetest.Rebase(opts, filepath.ToSlash(root))
		if err := mkdir(opts.Dir); err != nil {
			t.Fatal(err)
		}
		src, err := source.NewLocal(opts)
		if err != nil {
			t.Fatal(err)
		}
		return src, root
	})
}
