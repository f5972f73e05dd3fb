package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// DefaultBusyTimeout is how long a statement waits for another connection's write lock before
// failing with "database is locked".
const DefaultBusyTimeout = 5 * time.Second

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Logger receives migration and integrity messages; nil discards them.
	Logger *slog.Logger
	// BusyTimeout is how long to wait for a lock held by another process; 0 means
	// DefaultBusyTimeout.
	BusyTimeout time.Duration
	// ReadOnly opens an existing ledger for queries only (the ledger CLI's list and show): no
	// migrations, no writes.
	ReadOnly bool
	// Host is this machine's name as owners and leases record it; "" means os.Hostname.
	Host string
	// ProcessGone reports whether a process of this host is known not to exist, so that what a
	// dead process held is taken over without waiting for its heartbeat to lapse; nil means a
	// kill(pid, 0) check.
	ProcessGone func(pid int) bool
}

// Ledger is an open ledger database. It is safe for concurrent use by many goroutines, and
// several processes may open the same file.
type Ledger struct {
	db     *sql.DB
	path   string
	now    func() time.Time
	log    *slog.Logger
	ro     bool
	read   *readers
	w      *writer // nil when read-only
	closed bool

	host    string
	pidGone func(pid int) bool
}

// Open opens the ledger at path, creating it (mode 0600) and migrating its schema as needed,
// and checks its integrity. A damaged file is an error wrapping ErrCorrupt that says what to do.
func Open(ctx context.Context, path string, opts Options) (*Ledger, error) {
	return open(ctx, path, opts, migrationFS)
}

// open is Open with the migrations given, so tests can inject a broken set.
func open(ctx context.Context, path string, opts Options, migrations fs.FS) (*Ledger, error) {
	if path == "" {
		return nil, errors.New("open ledger: no path given")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Host == "" {
		opts.Host = Hostname()
	}
	if opts.ProcessGone == nil {
		opts.ProcessGone = pidGone
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open ledger %s: %w", path, err)
		}
	} else if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}

	db, err := sql.Open("sqlite3", dsn(path, opts))
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	l := &Ledger{db: db, path: path, now: opts.Now, log: opts.Logger, ro: opts.ReadOnly, host: opts.Host, pidGone: opts.ProcessGone}
	if err := l.setup(ctx, migrations); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

// createPrivate makes an empty file readable by its owner only, before SQLite opens it: SQLite
// gives the -wal and -shm files the database file's permissions.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn builds the connection string. Every connection of the pool gets the same pragmas;
// _txlock=immediate makes every transaction take the write lock at BEGIN, so two writers queue
// on busy_timeout instead of failing on a lock upgrade.
func dsn(path string, opts Options) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=FULL&_cache_size=-32768", opts.BusyTimeout.Milliseconds())
	if opts.ReadOnly {
		q += "&mode=ro"
	} else {
		q += "&_journal_mode=WAL&_txlock=immediate"
	}
	return "file:" + esc + "?" + q
}

// setup checks the file, the journal mode and the schema.
func (l *Ledger) setup(ctx context.Context, migrations fs.FS) error {
	var mode string
	if err := l.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return l.openError(err)
	}
	if !l.ro && !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open ledger %s: journal_mode is %q, not wal (is it on a network file system?)", l.path, mode)
	}
	if err := l.checkIntegrity(ctx); err != nil {
		return err
	}
	if err := migrate(ctx, l.db, migrations, l.ro, l.now, l.log); err != nil {
		return fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	rd, err := prepareReaders(ctx, l.db)
	if err != nil {
		return fmt.Errorf("open ledger %s: %w", l.path, err)
	}
	l.read = rd
	if !l.ro {
		conn, err := l.db.Conn(ctx)
		if err != nil {
			rd.close()
			return fmt.Errorf("open ledger %s: %w", l.path, err)
		}
		l.w = &writer{conn: conn, stmts: map[string]*sql.Stmt{}}
	}
	return nil
}

// checkIntegrity runs PRAGMA quick_check, which reads every page (but skips the slower
// index-content comparison of integrity_check).
func (l *Ledger) checkIntegrity(ctx context.Context) error {
	rows, err := l.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return l.openError(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return l.openError(err)
		}
		if s != "ok" && len(problems) < 5 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return l.openError(err)
	}
	if len(problems) > 0 {
		return l.corrupt(strings.Join(problems, "; "))
	}
	return nil
}

// openError explains a failure at open, turning a damaged file into ErrCorrupt with advice.
func (l *Ledger) openError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return l.corrupt(err.Error())
	}
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCantOpen || se.Code == sqlite3.ErrReadonly) && !l.ro {
		if why := notWritable(l.path); why != nil {
			// SQLite's own words ("no such file or directory") point the wrong way here.
			return fmt.Errorf("open ledger %s: the ledger must be writable, and so must its directory (SQLite keeps "+
				"its -wal and -shm files beside it): %w", l.path, why)
		}
	}
	return fmt.Errorf("open ledger %s: %w", l.path, err)
}

// notWritable says why the ledger file or its directory cannot be written, or nil.
func notWritable(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	f.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ledger-probe-*")
	if err != nil {
		return err
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return nil
}

func (l *Ledger) corrupt(detail string) error {
	return fmt.Errorf("open ledger %s: %w: %s. Stop every amili-import process, move the file aside "+
		"and restore the latest copy made with \"amili-import ledger backup\"; do not simply delete it: "+
		"the ledger is what keeps invoices from being registered twice", l.path, ErrCorrupt, detail)
}

// Close closes the database. Further calls return nil.
func (l *Ledger) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	if l.w != nil {
		l.w.close()
	}
	if l.read != nil {
		l.read.close()
	}
	return l.db.Close()
}

// Hostname is this machine's name as the ledger records it for owners and leases.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown-host"
	}
	return h
}

// Path is the file the ledger lives in.
func (l *Ledger) Path() string { return l.path }

// timeLayout is the stored form of every time: fixed width, so text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// nowText is the ledger clock's current time in stored form.
func (l *Ledger) nowText() string { return fmtTime(l.now()) }

// write runs fn in one write transaction (BEGIN IMMEDIATE, waiting up to busy_timeout for
// another process's write lock) on the writer connection and commits it; an error from fn
// rolls everything back. ctx is checked before the transaction begins; once begun, a
// transaction runs to its end.
func (l *Ledger) write(ctx context.Context, fn func(tx *writeTx) error) error {
	if l.ro {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	bg := context.WithoutCancel(ctx)
	if _, err := l.w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return dbError(err)
	}
	if err := fn(&writeTx{w: l.w}); err != nil {
		l.w.conn.ExecContext(bg, "ROLLBACK")
		return dbError(err)
	}
	if _, err := l.w.conn.ExecContext(bg, "COMMIT"); err != nil {
		l.w.conn.ExecContext(bg, "ROLLBACK")
		return dbError(err)
	}
	return nil
}
