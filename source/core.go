package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// fileSystem is what an implementation provides to core: a handful of primitive operations
// on slash-separated paths. The SFTP one adds reconnects and timeouts underneath.
type fileSystem interface {
	readDir(ctx context.Context, dir string) ([]fs.FileInfo, error)
	stat(ctx context.Context, p string) (fs.FileInfo, error)
	// open streams p and fails, rather than ending early, if fewer bytes arrive than the
	// file held when it was opened.
	// stream says the reader is slow (a PDF copied into an upload): the file system may then
	// read ahead less than for a bulk read (a CSV spooled at full speed).
	open(ctx context.Context, p string, stream bool) (io.ReadCloser, error)
	mkdirAll(ctx context.Context, dir string) error
	// renameNoReplace moves from to to and fails with an error matching fs.ErrExist if to
	// exists; it never overwrites.
	renameNoReplace(ctx context.Context, from, to string) error
	writeFile(ctx context.Context, p string, data []byte) error
	close() error
}

// sighting is the first time List saw a file with this size and mtime.
type sighting struct {
	size    int64
	modTime time.Time
	first   time.Time
}

// core implements Source over a fileSystem: the rules for which files are complete, the
// archive layout and collision-free moves live here once for both implementations.
type core struct {
	opts Options
	fs   fileSystem
	desc string

	mu   sync.Mutex
	seen map[string]sighting
}

var _ Source = (*core)(nil)

func newCore(opts Options, fsys fileSystem, desc string) *core {
	return &core{opts: opts, fs: fsys, desc: desc, seen: map[string]sighting{}}
}

func (c *core) matches(name string) bool {
	if ignored(name) {
		return false
	}
	if c.opts.DoneMarker != "" && len(name) > len(c.opts.DoneMarker) &&
		strings.HasSuffix(name, c.opts.DoneMarker) {
		return false
	}
	for _, p := range c.opts.Patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// List implements Source.
func (c *core) List(ctx context.Context) (Listing, error) {
	infos, err := c.fs.readDir(ctx, c.opts.Dir)
	if err != nil {
		return Listing{}, fmt.Errorf("list %s: %w", c.opts.Dir, err)
	}
	now := c.opts.Now()
	var markers map[string]bool // regular files by name, to find done-markers
	if c.opts.DoneMarker != "" {
		markers = make(map[string]bool, len(infos))
		for _, fi := range infos {
			markers[fi.Name()] = fi.Mode().IsRegular()
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var l Listing
	current := map[string]bool{}
	for _, fi := range infos {
		name := fi.Name()
		if !fi.Mode().IsRegular() || !c.matches(name) {
			continue
		}
		current[name] = true
		f := File{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}
		if c.opts.DoneMarker != "" {
			if markers[name+c.opts.DoneMarker] {
				l.Files = append(l.Files, f)
			} else {
				l.Waiting = append(l.Waiting, Waiting{File: f, Reason: WaitDoneMarker,
					Why: "no done-marker " + name + c.opts.DoneMarker + " yet"})
			}
			continue
		}
		if at := c.eligibleAt(f, now); now.Before(at) {
			l.Waiting = append(l.Waiting, Waiting{File: f, Reason: WaitMinAge, EligibleAt: at.In(c.opts.Location),
				Why: fmt.Sprintf("changed less than min_age %s ago", c.opts.MinAge)})
		} else {
			l.Files = append(l.Files, f)
		}
	}
	for name := range c.seen {
		if !current[name] {
			delete(c.seen, name)
		}
	}
	sort.Slice(l.Files, func(i, j int) bool { return older(l.Files[i], l.Files[j]) })
	sort.Slice(l.Waiting, func(i, j int) bool {
		a, b := l.Waiting[i], l.Waiting[j]
		if !a.EligibleAt.Equal(b.EligibleAt) {
			return a.EligibleAt.Before(b.EligibleAt)
		}
		return older(a.File, b.File)
	})
	return l, nil
}

// older orders files oldest first, then by name.
func older(a, b File) bool {
	if !a.ModTime.Equal(b.ModTime) {
		return a.ModTime.Before(b.ModTime)
	}
	return a.Name < b.Name
}

// eligibleAt remembers f's first sighting with its size and mtime and returns when f counts
// as stable: MinAge after its mtime, or MinAge after List first saw it as it is now, whichever
// comes first (the second holds when the server's clock runs ahead of ours). c.mu is held.
func (c *core) eligibleAt(f File, now time.Time) time.Time {
	byMtime := f.ModTime.Add(c.opts.MinAge)
	if !now.Before(byMtime) {
		return byMtime
	}
	s, ok := c.seen[f.Name]
	if !ok || s.size != f.Size || !s.modTime.Equal(f.ModTime) {
		s = sighting{size: f.Size, modTime: f.ModTime, first: now}
		c.seen[f.Name] = s
	}
	if bySighting := s.first.Add(c.opts.MinAge); bySighting.Before(byMtime) {
		return bySighting
	}
	return byMtime
}

// Open implements Source.
func (c *core) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	base, err := cleanBase(name)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return c.fs.open(ctx, path.Join(c.opts.Dir, base), false)
}

// OpenPDF implements Source.
func (c *core) OpenPDF(ctx context.Context, name string) (io.ReadCloser, error) {
	rel, err := cleanRel(name)
	if err != nil {
		return nil, fmt.Errorf("open pdf: %w", err)
	}
	return c.fs.open(ctx, path.Join(c.opts.PDFDir, rel), true)
}

// Archive implements Source.
func (c *core) Archive(ctx context.Context, name string) (string, error) {
	base, err := cleanBase(name)
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if c.opts.After == AfterLeave {
		return path.Join(c.opts.Dir, base), nil
	}
	to, err := c.move(ctx, base, c.archiveDay(), "")
	if err != nil {
		return "", fmt.Errorf("archive %s: %w", base, err)
	}
	c.opts.Logger.Info("archived", "file", base, "to", to)
	return to, nil
}

// archiveDay is today's archive directory, archive_dir/<yyyy-mm-dd>.
func (c *core) archiveDay() string {
	return path.Join(c.opts.ArchiveDir, c.opts.Now().In(c.opts.Location).Format("2006-01-02"))
}

// ArchivesPDFs implements Source.
func (c *core) ArchivesPDFs() bool { return c.opts.After == AfterArchive && !c.opts.LeavePDFs }

// ArchivePDF implements Source.
func (c *core) ArchivePDF(ctx context.Context, name string) (string, error) {
	rel, err := cleanRel(name)
	if err != nil {
		return "", fmt.Errorf("archive pdf: %w", err)
	}
	from := path.Join(c.opts.PDFDir, rel)
	if !c.ArchivesPDFs() {
		return from, nil
	}
	fi, err := c.fs.stat(ctx, from)
	if err != nil {
		return "", fmt.Errorf("archive pdf %s: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("archive pdf %s: not a regular file", rel)
	}
	to, err := c.moveFile(ctx, from, path.Join(c.archiveDay(), path.Dir(rel)), path.Base(rel), "")
	if err != nil {
		return "", fmt.Errorf("archive pdf %s: %w", rel, err)
	}
	c.opts.Logger.Info("archived PDF", "pdf", rel, "to", to)
	return to, nil
}

// errorSuffix names the reason file written beside a quarantined file.
const errorSuffix = ".error.txt"

// Quarantine implements Source.
func (c *core) Quarantine(ctx context.Context, name, reason string) (string, error) {
	base, err := cleanBase(name)
	if err != nil {
		return "", fmt.Errorf("quarantine: %w", err)
	}
	to := path.Join(c.opts.Dir, base)
	if c.opts.After != AfterLeave {
		to, err = c.move(ctx, base, c.opts.ErrorDir, errorSuffix)
		if err != nil {
			return "", fmt.Errorf("quarantine %s: %w", base, err)
		}
	}
	if err := c.fs.writeFile(ctx, to+errorSuffix, []byte(reason+"\n")); err != nil {
		return "", fmt.Errorf("quarantine %s: write reason: %w", base, err)
	}
	c.opts.Logger.Warn("quarantined", "file", base, "to", to)
	return to, nil
}

// maxCollisions bounds the search for a free name in a target directory.
const maxCollisions = 10000

// move moves base (and its done-marker, if one is configured and present) into dir under
// the first free name among base, base.1, base.2 … (counting before the extension). A name
// is free when neither it nor name+sideSuffix exists. It never overwrites: the rename itself
// refuses an existing target, so a race only costs another number.
func (c *core) move(ctx context.Context, base, dir, sideSuffix string) (string, error) {
	from := path.Join(c.opts.Dir, base)
	to, err := c.moveFile(ctx, from, dir, base, sideSuffix)
	if err != nil {
		return "", err
	}
	c.moveMarker(ctx, from, to)
	return to, nil
}

// moveFile moves from into dir under the first free name among base, base.1, base.2 …, as
// move does, without a done-marker.
func (c *core) moveFile(ctx context.Context, from, dir, base, sideSuffix string) (string, error) {
	if err := c.fs.mkdirAll(ctx, dir); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	for n := 0; n < maxCollisions; n++ {
		to := path.Join(dir, numbered(base, n))
		if taken, err := c.exists(ctx, to); err != nil || taken {
			if err != nil {
				return "", err
			}
			continue
		}
		if sideSuffix != "" {
			if taken, err := c.exists(ctx, to+sideSuffix); err != nil || taken {
				if err != nil {
					return "", err
				}
				continue
			}
		}
		err := c.fs.renameNoReplace(ctx, from, to)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return to, nil
	}
	return "", fmt.Errorf("no free name for %s in %s", base, dir)
}

// moveMarker moves from's done-marker along with it. A marker left behind is harmless (it
// has no file to mark), so failure is only logged.
func (c *core) moveMarker(ctx context.Context, from, to string) {
	if c.opts.DoneMarker == "" {
		return
	}
	m := from + c.opts.DoneMarker
	if ok, err := c.exists(ctx, m); err != nil || !ok {
		return
	}
	if err := c.fs.renameNoReplace(ctx, m, to+c.opts.DoneMarker); err != nil {
		c.opts.Logger.Warn("done-marker not moved", "marker", m, "err", err)
	}
}

func (c *core) exists(ctx context.Context, p string) (bool, error) {
	_, err := c.fs.stat(ctx, p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("stat %s: %w", p, err)
	}
}

// Describe implements Source.
func (c *core) Describe() string { return c.desc }

// Close implements Source.
func (c *core) Close() error { return c.fs.close() }
