package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source"
)

// spool copies the file to a temporary file while hashing it: a remote file is read once, and
// both passes then read locally.
func (f *fileRun) spool(ctx context.Context) (string, ledger.FileRecord, error) {
	rc, err := f.src.Open(ctx, f.name)
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("open: %w", err)
	}
	defer rc.Close()
	limit := f.imp.job.MaxFileSize
	if size, ok := sizeOf(rc); ok && size > limit {
		return "", ledger.FileRecord{}, &fileTooLarge{size: size, limit: limit}
	}
	tmp, err := os.CreateTemp(f.imp.job.TempDir, "amili-import-*.csv")
	if err != nil {
		return "", ledger.FileRecord{}, fmt.Errorf("spool: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, limit+1))
	if err == nil && n > limit {
		err = &fileTooLarge{size: n, limit: limit} // it grew after it was opened
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		if errors.Is(err, errRefusedUnread) {
			return "", ledger.FileRecord{}, err
		}
		return "", ledger.FileRecord{}, fmt.Errorf("read: %w", err)
	}
	return tmp.Name(), ledger.FileRecord{
		Path:   describePath(f.src.Describe(), f.name),
		Size:   n,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// errRefusedUnread marks a file refused as a whole before it was read: no retry changes it.
var errRefusedUnread = errors.New("refused unread")

// fileTooLarge is a file over Job.MaxFileSize.
type fileTooLarge struct{ size, limit int64 }

func (e *fileTooLarge) Error() string {
	return fmt.Sprintf("the file holds %d bytes, more than the limit of %d (max_file_size); split the export or raise the limit", e.size, e.limit)
}

func (e *fileTooLarge) Is(target error) bool { return target == errRefusedUnread }

// refusedUnread reports whether a spool error refuses the file for good: too large, or not a
// file the source can ever read (a FIFO, a directory, a link out of the inbox).
func refusedUnread(err error) bool {
	return errors.Is(err, errRefusedUnread) || errors.Is(err, source.ErrNotUsable)
}

// describePath names a file with its source, for the ledger and the report.
func describePath(src, name string) string {
	if src == "" {
		return name
	}
	return strings.TrimSuffix(src, "/") + "/" + name
}
