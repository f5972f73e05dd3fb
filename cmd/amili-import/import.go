package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/importer"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source"
)

func init() {
	commands["import"] = command{summary: "import CSV files now (local paths or sftp:// URLs)", run: runImport}
}

// importFlags are the import verb's flags; each overrides the job taken from the config.
type importFlags struct {
	common
	job         string
	kind        string
	mapping     string
	account     string
	creditor    string
	pdf         string
	dryRun      bool
	format      string
	summary     string
	concurrency int
}

func (f *importFlags) register(fs *flag.FlagSet) {
	f.common.register(fs)
	fs.StringVar(&f.job, "job", "", "take kind, mapping, creditor and PDF policy from this configured job")
	fs.StringVar(&f.kind, "kind", "", "invoice, case, payment, crediting or cancellation (default: detect from the header)")
	fs.StringVar(&f.mapping, "mapping", "", "mapping file for a non-canonical layout")
	fs.StringVar(&f.account, "account", "", "Amili account id (default amili.account)")
	fs.StringVar(&f.creditor, "creditor", "", "Amili creditor id (default amili.creditor)")
	fs.StringVar(&f.pdf, "pdf", "", "PDF policy: required or optional (default required)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "no Amili API, no ledger: print each registration as it would be sent (an sftp:// FILE is read, not moved)")
	fs.StringVar(&f.format, "format", "json", "dry-run output: json (one registration per line) or table")
	fs.StringVar(&f.summary, "summary", "text", "summary format: text or json")
	fs.IntVar(&f.concurrency, "concurrency", 0, "registrations in flight (default jobs[].concurrency, 4)")
}

// importUsage is the import verb's help, printed before its flags.
const importUsage = `Usage: amili-import import [flags] FILE...

Imports CSV files now: each valid row is registered at Amili exactly once and its PDF attached
to its case; the ledger remembers everything, so running it again sends nothing twice. FILE is
a local path or sftp://user@host:port/path/file.csv (connection settings from the config's sftp
block). Files are left where they are.

Exit status: 0 all rows done, 1 some rows rejected or not done, 2 could not start.

Flags:`

func runImport(ctx context.Context, e *env, args []string) error {
	var f importFlags
	files, err := f.parse(e.stderr, args)
	if err != nil {
		return err
	}
	if f.dryRun {
		return dryRun(ctx, e, &f, files)
	}

	cfg, logger, err := f.load(e)
	if err != nil {
		return err
	}
	job, err := importJob(cfg, &f)
	if err != nil {
		return err
	}
	if job.Mapping.Account == "" {
		return errors.New("amili.account is not set")
	}
	if err := checkFiles(files); err != nil {
		return err
	}
	return importFiles(ctx, e, cfg, logger, job, files, f.summary)
}

// parse reads args into f, printing usage to stderr, and returns the files to import;
// errUsage when the flags are wrong or no file is given.
func (f *importFlags) parse(stderr io.Writer, args []string) ([]string, error) {
	fs := newFlagSet("import", importUsage, stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, usageError(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return nil, errUsage
	}
	if f.format != "json" && f.format != "table" {
		return nil, fmt.Errorf("--format %q: want json or table", f.format)
	}
	if f.summary != "text" && f.summary != "json" {
		return nil, fmt.Errorf("--summary %q: want text or json", f.summary)
	}
	return fs.Args(), nil
}

// checkFiles checks every file before anything is sent: a typo must not leave half an import.
// An sftp:// URL must parse; a local path must be a regular file.
func checkFiles(files []string) error {
	for _, arg := range files {
		if isSFTPURL(arg) {
			if _, err := source.ParseURL(arg); err != nil {
				return err
			}
			continue
		}
		if fi, err := os.Stat(arg); err != nil {
			return err
		} else if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", arg)
		}
	}
	return nil
}

// importFiles imports the files one after the other under the job's lease, stopping at the
// first that cannot be read or imported, and writes the summary in the given format.
func importFiles(ctx context.Context, e *env, cfg *config.Config, log logger, job importer.Job, files []string, summary string) error {
	w, err := wire(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx, owner, release, err := w.own(ctx)
	if err != nil {
		return err
	}
	defer release()
	deps := w.deps(e.stderr)
	deps.Owner = owner
	imp, err := importer.Start(ctx, job, deps)
	if err != nil {
		return exitFor(importer.Summary{}, err)
	}
	runErr := importEach(ctx, imp, cfg, files, log)
	sum, err := imp.Close(ctx)
	if runErr == nil {
		runErr = err
	}
	if err := writeSummary(e.stdout, sum, summary); err != nil {
		return err
	}
	return exitFor(sum, runErr)
}

// importEach feeds each file to imp through a one-shot source and returns the first error.
func importEach(ctx context.Context, imp *importer.Importer, cfg *config.Config, files []string, log logger) error {
	for _, arg := range files {
		src, name, err := oneShotSource(ctx, cfg, arg, log)
		if err != nil {
			return fmt.Errorf("%w: %w", importer.ErrCannotStart, err)
		}
		err = imp.ImportFile(ctx, src, name)
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// exitFor maps a run's end to the exit codes: 2 when it could not go on, 1 when rows are not
// done, 0 otherwise.
func exitFor(sum importer.Summary, err error) error {
	switch {
	case err != nil && errors.Is(err, ledger.ErrOwnerLost):
		// Stopped (or starved) for longer than daemon.lease_ttl: it sent nothing more.
		return someRowsFailed(fmt.Errorf("interrupted: %w; nothing more was sent, the next run resumes", err))
	case err != nil && errors.Is(err, importer.ErrCannotStart):
		return err
	case err != nil && errors.Is(err, context.Canceled):
		return someRowsFailed(errors.New("interrupted; the next run resumes"))
	case err != nil:
		return someRowsFailed(err)
	case !sum.AllDone():
		return someRowsFailed(nil)
	}
	return nil
}

func writeSummary(w io.Writer, sum importer.Summary, format string) error {
	if format == "json" {
		return sum.WriteJSON(w)
	}
	return sum.WriteText(w)
}

// importJob is the job an import runs: a configured job (--job), or the amili defaults, with
// the flags on top.
func importJob(cfg *config.Config, f *importFlags) (importer.Job, error) {
	cj := config.Job{Name: "import"}
	if f.job != "" {
		var err error
		if cj, err = findJob(cfg, f.job); err != nil {
			return importer.Job{}, err
		}
	}
	override := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	override(&cj.Kind, f.kind)
	override(&cj.Mapping, f.mapping)
	override(&cj.Account, f.account)
	override(&cj.Creditor, f.creditor)
	override(&cj.PDF, f.pdf)
	if f.concurrency > 0 {
		cj.Concurrency = f.concurrency
	}
	job, err := jobFromConfig(cfg, cj)
	if err != nil {
		return job, err
	}
	job.Move = false // one-shot files belong to the user: leave them in place
	return job, nil
}

func isSFTPURL(s string) bool { return strings.HasPrefix(s, "sftp://") }

// oneShotSource is a source holding just one file given on the command line, and the file's
// name in it.
func oneShotSource(ctx context.Context, cfg *config.Config, arg string, logger logger) (source.Source, string, error) {
	if isSFTPURL(arg) {
		u, err := source.ParseURL(arg)
		if err != nil {
			return nil, "", err
		}
		src, err := dialURL(ctx, cfg, u, logger)
		if err != nil {
			return nil, "", err
		}
		return src, u.File, nil
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, "", err
	}
	src, err := source.NewLocal(source.Options{
		Dir: filepath.ToSlash(filepath.Dir(abs)), Patterns: []string{filepath.Base(abs)},
		After: source.AfterLeave, Logger: logger,
	})
	if err != nil {
		return nil, "", err
	}
	return src, filepath.Base(abs), nil
}
