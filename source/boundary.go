package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotUsable marks a file that can never be read or written as named: a directory, a FIFO
// or another file that is not a regular file, a name too long for the file system, or a
// symbolic link that leads out of the inbox. Trying again does not help, so the importer
// refuses the row (a PDF) or the file (a CSV) instead of leaving it for the next run.
var ErrNotUsable = errors.New("not usable")

// UnusableError is an ErrNotUsable with its reason.
type UnusableError struct {
	Path   string
	Reason string // e.g. "is a directory, not a file"
}

func (e *UnusableError) Error() string { return e.Path + " " + e.Reason }

// Is makes errors.Is(err, ErrNotUsable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrNotUsable }

func unusable(p, format string, args ...any) error {
	return &UnusableError{Path: p, Reason: fmt.Sprintf(format, args...)}
}

// classifyOpen turns the errors of opening a name that no retry can cure into UnusableErrors.
func classifyOpen(p string, err error) error {
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		return unusable(p, "has a name too long for the file system")
	case errors.Is(err, syscall.ELOOP):
		return unusable(p, "is a symbolic link where none may be")
	case errors.Is(err, syscall.EISDIR):
		return unusable(p, "is a directory, not a file")
	case errors.Is(err, syscall.ENOTDIR):
		return unusable(p, "has a part of its path that is not a directory")
	}
	return err
}

// checkRegular refuses anything but a regular file.
func checkRegular(p string, fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return unusable(p, "is a directory, not a file")
	default:
		return unusable(p, "is not a regular file (%s)", fileKind(m))
	}
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "type " + m.Type().String()
}

// boundary keeps a local source's reads and writes inside its directories: the inbox, and
// the PDF, archive and error directories the config names outside it. A path whose real
// location (every symbolic link resolved) is inside none of them is refused, so a link
// dropped into the inbox cannot make the import read, move or write a file elsewhere.
type boundary struct {
	off   bool     // allow_symlinks_outside: links are followed wherever they lead
	dirs  []string // the configured directories, as configured (slash-separated)
	inbox string
}

func newBoundary(o Options) boundary {
	b := boundary{off: o.AllowSymlinksOutside, inbox: o.Dir, dirs: []string{o.Dir}}
	for _, d := range []string{o.PDFDir, o.ArchiveDir, o.ErrorDir} {
		if !within(d, o.Dir) {
			b.dirs = append(b.dirs, d) // named by the operator: trusted as configured
		}
	}
	return b
}

// within reports whether p is dir or lies under it (both clean).
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// check refuses p when its real location is outside every root.
func (b boundary) check(p, real string) error {
	if b.off {
		return nil
	}
	for _, d := range b.dirs {
		root, err := realPath(d)
		if err != nil {
			continue
		}
		if within(real, root) {
			return nil
		}
	}
	return unusable(p, "leads out of the inbox (to %s) through a symbolic link; set source.allow_symlinks_outside to allow it", real)
}

// checkPath resolves p (as far as it exists) and checks it.
func (b boundary) checkPath(p string) error {
	if b.off {
		return nil
	}
	real, err := realPath(p)
	if err != nil {
		return err
	}
	return b.check(p, real)
}

// checkOpened checks where an open file really is, read from the descriptor itself, so that
// a link swapped after the open makes no difference.
func (b boundary) checkOpened(p string, f *os.File) error {
	if b.off {
		return nil
	}
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil { // no /proc: resolve the name instead
		return b.checkPath(p)
	}
	return b.check(p, filepath.ToSlash(real))
}

// realPath resolves every symbolic link of p; the part of p that does not exist yet is
// appended as written.
func realPath(p string) (string, error) {
	rest := ""
	for cur := p; ; cur = path.Dir(cur) {
		real, err := filepath.EvalSymlinks(filepath.FromSlash(cur))
		if err == nil {
			abs, err := filepath.Abs(real)
			if err != nil {
				return "", err
			}
			return path.Join(filepath.ToSlash(abs), rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || cur == path.Dir(cur) {
			return "", err
		}
		if _, lerr := os.Lstat(filepath.FromSlash(cur)); lerr == nil {
			return "", unusable(cur, "is a symbolic link to nothing")
		}
		rest = path.Join(path.Base(cur), rest)
	}
}
