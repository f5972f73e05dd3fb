package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/mapping"
	"github.com/amili-import/amili-import/mapping/suggest"
)

func init() {
	commands["mapping"] = command{summary: "propose a mapping file for a CSV export (mapping suggest FILE)", run: runMapping}
}

const mappingUsage = `Usage: amili-import mapping suggest [flags] FILE

Reads a CSV export and prints a mapping file that reads it: the encoding, delimiter, decimal
and thousands separators and date formats it found, each header mapped to an Amili field by its
name (Swedish, English and SAP-style synonyms) or by its values (identity numbers, e-mail
addresses, mobile numbers, VAT rates, dates), and every other column under ignore. Comments give
the reason for each decision; "could not decide" marks what to check. The file ends with the
dry run of the proposal, as comments, so that

  amili-import mapping suggest export.csv > export.yaml
  amili-import import --dry-run --mapping export.yaml export.csv

is the whole loop. FILE is a local path or sftp://user@host:port/path/file.csv (connection
settings from the config's sftp block; a local file needs no config). The dry run's count line
also goes to stderr.

Exit status: 0 every row reads with the proposal, 1 some rows or the file would be refused,
2 could not start (no such file, not a CSV export).

Flags:`

// maxSuggestBytes bounds the file read into memory.
const maxSuggestBytes = 512 << 20

func runMapping(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mapping", mappingUsage, e.stderr)
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() == 0 || fs.Arg(0) != "suggest" {
		fs.Usage()
		return errUsage
	}
	return runSuggest(ctx, e, fs.Args()[1:])
}

func runSuggest(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mapping suggest", mappingUsage, e.stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	cfg, log, err := suggestConfig(e, &c)
	if err != nil {
		return err
	}
	file := fs.Arg(0)
	if err := checkFiles([]string{file}); err != nil {
		return err
	}
	src, name, err := oneShotSource(ctx, cfg, file, log)
	if err != nil {
		return err
	}
	defer src.Close()
	data, err := readAllLimited(ctx, src, name)
	if err != nil {
		return err
	}
	p, err := suggest.Suggest(data, name)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	y, err := p.YAML()
	if err != nil {
		return err
	}
	res, err := suggest.Check(y, data, name, mapping.Options{Account: cfg.Amili.Account, Creditor: cfg.Amili.Creditor})
	if err != nil {
		return err
	}
	tail := res.Comment()
	if cfg.Amili.Creditor == "" {
		tail += "# No creditor is configured: import needs amili.creditor in the config, or --creditor.\n"
	}
	if _, err := fmt.Fprintf(e.stdout, "%s\n%s", y, tail); err != nil {
		return fmt.Errorf("write the proposal: %w", err)
	}
	fmt.Fprintf(e.stderr, "%s: %d registrations valid, %d rows with errors, %d warnings with the proposed mapping\n",
		file, res.Registrations, res.BadRows, res.Warnings)
	if !res.OK() {
		return someRowsFailed(nil)
	}
	return nil
}

// suggestConfig is the config when there is one; a local file needs none.
func suggestConfig(e *env, c *common) (*config.Config, logger, error) {
	cfg, err := loadConfig(c.config, e.getenv)
	if err != nil {
		if c.config != config.DefaultPath || !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		cfg = config.Default()
	}
	log, err := newLogger(e, cfg, c.logLevel)
	if err != nil {
		return nil, nil, err
	}
	return cfg, log, nil
}

// readAllLimited reads a file of the source into memory, refusing one too large to sniff.
func readAllLimited(ctx context.Context, src interface {
	Open(context.Context, string) (io.ReadCloser, error)
}, name string) ([]byte, error) {
	rc, err := src.Open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxSuggestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxSuggestBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB; suggest a mapping from the first part of the export", name, maxSuggestBytes>>20)
	}
	return data, nil
}
