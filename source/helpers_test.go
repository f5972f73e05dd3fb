package source_test

import (
	"os"
	"path/filepath"
)

func mkdir(dir string) error { return os.MkdirAll(filepath.FromSlash(dir), 0o755) }
