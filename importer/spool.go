package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/amili-import/amili-import/ledger"
)

// spool copies the file to a temporary file while hashing it: a remote file is read once, and
// both passes then read locally.
func (f *fileRun) spool(ctx context.Context) (string, ledger.FileRecord, error) {
	rc, err := f.src.Open(ctx, f.name)
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(f.imp.job.TempDir, "amili-import-*.csv")
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("spool: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", ledger.FileRecord{}, fmt.Errorf("read: %w", err)
	}
	return tmp.Name(), ledger.FileRecord{
		Path:   describePath(f.src.Describe(), f.name),
		Size:   n,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// describePath names a file with its source, for the ledger and the report.
func describePath(src, name string) string {
	if src == "" {
		return name
	}
	return strings.TrimSuffix(src, "/") + "/" + name
}
