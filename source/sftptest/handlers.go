package sftptest

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
)

// dirHandlers serves a directory through pkg/sftp's request server. Paths are confined to
// the root (the request server cleans them to absolute paths first). A plain rename fails
// when the target exists, as OpenSSH's sftp-server's does; posix-rename replaces.
type dirHandlers struct {
	s *Server
}

func (h dirHandlers) local(p string) string {
	return filepath.Join(h.s.root, filepath.FromSlash(p))
}

func (h dirHandlers) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	f, err := os.Open(h.local(r.Filepath))
	if err != nil {
		return nil, err
	}
	return &faultyReader{File: f, s: h.s}, nil
}

func (h dirHandlers) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	fl := r.Pflags()
	flags := os.O_WRONLY
	if fl.Read {
		flags = os.O_RDWR
	}
	if fl.Creat {
		flags |= os.O_CREATE
	}
	if fl.Trunc {
		flags |= os.O_TRUNC
	}
	if fl.Excl {
		flags |= os.O_EXCL
	}
	return os.OpenFile(h.local(r.Filepath), flags, 0o644)
}

func (h dirHandlers) Filecmd(r *sftp.Request) error {
	p := h.local(r.Filepath)
	switch r.Method {
	case "Setstat":
		attrs, flags := r.Attributes(), r.AttrFlags()
		if flags.Size {
			if err := os.Truncate(p, int64(attrs.Size)); err != nil {
				return err
			}
		}
		if flags.Permissions {
			if err := os.Chmod(p, attrs.FileMode().Perm()); err != nil {
				return err
			}
		}
		if flags.Acmodtime {
			return os.Chtimes(p, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0))
		}
		return nil
	case "Rename":
		target := h.local(r.Target)
		if err := os.Link(p, target); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		if h.s.takeFault(&h.s.dropRename) {
			h.s.DropConnections()
			return errors.New("connection dropped by test hook")
		}
		return nil
	case "Rmdir":
		return os.Remove(p)
	case "Remove":
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return errors.New("is a directory")
		}
		return os.Remove(p)
	case "Mkdir":
		return os.Mkdir(p, 0o755)
	case "Link":
		return os.Link(p, h.local(r.Target))
	case "Symlink":
		return os.Symlink(r.Filepath, h.local(r.Target))
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename replaces the target, like posix-rename@openssh.com.
func (h dirHandlers) PosixRename(r *sftp.Request) error {
	return os.Rename(h.local(r.Filepath), h.local(r.Target))
}

func (h dirHandlers) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	p := h.local(r.Filepath)
	switch r.Method {
	case "List":
		if h.s.takeFault(&h.s.dropList) {
			h.s.DropConnections()
			return nil, errors.New("connection dropped by test hook")
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		infos := make(lister, 0, len(entries))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				infos = append(infos, fi)
			}
		}
		return infos, nil
	case "Stat":
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		return lister{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat does not follow symbolic links.
func (h dirHandlers) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := os.Lstat(h.local(r.Filepath))
	if err != nil {
		return nil, err
	}
	return lister{fi}, nil
}

type lister []fs.FileInfo

func (l lister) ListAt(dst []fs.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// faultyReader serves reads and drops every connection once the armed byte budget of
// DropAfterReadBytes is spent.
type faultyReader struct {
	*os.File
	s *Server
}

func (f *faultyReader) ReadAt(b []byte, off int64) (int, error) {
	if f.s.spendReadBudget(int64(len(b))) {
		f.s.DropConnections()
		return 0, errors.New("connection dropped by test hook")
	}
	return f.File.ReadAt(b, off)
}

// spendReadBudget counts n bytes against an armed DropAfterReadBytes and reports whether
// the budget is exhausted (which disarms it).
func (s *Server) spendReadBudget(n int64) bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.readBudget < 0 {
		return false
	}
	if n > s.readBudget {
		s.readBudget = -1
		return true
	}
	s.readBudget -= n
	return false
}

// takeFault disarms a one-shot fault and reports whether it was armed.
func (s *Server) takeFault(flag *atomic.Bool) bool {
	return flag.CompareAndSwap(true, false)
}
