package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// Local is a Source over a directory of the machine amili-import runs on.
type Local struct {
	*core
}

// NewLocal returns a Source over opts.Dir, which must exist.
func NewLocal(opts Options) (*Local, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(filepath.FromSlash(opts.Dir))
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source: %s is not a directory", opts.Dir)
	}
	return &Local{newCore(opts, localFS{bounds: newBoundary(opts)}, opts.Dir)}, nil
}

// localFS is fileSystem over the os package, kept inside its boundary.
type localFS struct {
	bounds boundary
}

func (localFS) readDir(_ context.Context, dir string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(filepath.FromSlash(dir))
	if err != nil {
		return nil, err
	}
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, err
		}
		infos = append(infos, fi)
	}
	return infos, nil
}

func (localFS) stat(_ context.Context, p string) (fs.FileInfo, error) {
	return os.Lstat(filepath.FromSlash(p))
}

// open opens without blocking (a FIFO would otherwise wait for a writer forever), then checks
// on the descriptor that it is a regular file inside the boundary.
func (l localFS) open(_ context.Context, p string, _ bool) (io.ReadCloser, error) {
	f, err := os.OpenFile(filepath.FromSlash(p), os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, classifyOpen(p, err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkRegular(p, fi)
	}
	if err == nil {
		err = l.bounds.checkOpened(p, f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sizedReader{r: f, c: f, name: p, want: fi.Size()}, nil
}

func (l localFS) mkdirAll(_ context.Context, dir string) error {
	if err := l.bounds.checkPath(dir); err != nil {
		return err
	}
	return os.MkdirAll(filepath.FromSlash(dir), 0o755)
}

// renameNoReplace links then unlinks, as OpenSSH's sftp-server does for a plain rename, so
// an existing target makes it fail with EEXIST instead of being replaced.
func (l localFS) renameNoReplace(_ context.Context, from, to string) error {
	if err := l.bounds.checkPath(path.Dir(to)); err != nil {
		return err
	}
	if err := l.bounds.checkPath(path.Dir(from)); err != nil {
		return err
	}
	from, to = filepath.FromSlash(from), filepath.FromSlash(to)
	err := os.Link(from, to)
	if err == nil {
		return os.Remove(from)
	}
	var le *os.LinkError
	if errors.As(err, &le) && (errors.Is(le.Err, syscall.EPERM) || errors.Is(le.Err, syscall.ENOTSUP) ||
		errors.Is(le.Err, syscall.EXDEV)) {
		// No hard links here: check, then rename (a narrow race, but no silent loss of
		// the moved file itself).
		if _, err := os.Lstat(to); err == nil {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
		}
		return os.Rename(from, to)
	}
	return err
}

// writeFile never writes through a symbolic link, nor into a directory outside the boundary.
func (l localFS) writeFile(_ context.Context, p string, data []byte) error {
	if err := l.bounds.checkPath(path.Dir(p)); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.FromSlash(p), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return classifyOpen(p, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (localFS) close() error { return nil }
