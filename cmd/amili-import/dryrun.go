package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"text/tabwriter"

	"github.com/amili-import/amili-import/config"
	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/mapping"
)

// dryRun maps files without the Amili API or the ledger and prints what would be sent: each
// registration's or event's JSON body on a line of its own (or a table for people), then the
// row errors and a count line. A file may be local or an sftp:// URL, read through the config's sftp block
// and left where it is, so a mapping can be tried on the server's own export. It returns exit
// 1 when any row is not valid.
func dryRun(ctx context.Context, e *env, f *importFlags, files []string) error {
	cfg := config.Default()
	if loaded, err := config.Load(f.config, e.getenv); err == nil {
		cfg = loaded
	} else if f.config != config.DefaultPath || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	job, err := importJob(cfg, f)
	if err != nil {
		return err
	}
	opts := job.Mapping
	if err := checkFiles(files); err != nil {
		return err
	}
	log, err := newLogger(e, cfg, f.logLevel)
	if err != nil {
		return err
	}

	out := e.stdout
	report := e.stderr // row errors and the count line, so that stdout is JSON only
	var tw *tabwriter.Writer
	if f.format == "table" {
		report = e.stdout
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tLINE\tKIND\tINVOICE NUMBER\tCUSTOMER\tAMOUNT\tCURRENCY\tPDF\tKEY")
	}
	var total dryCounts
	var fileErrs int
	var problems []string
	for _, name := range files {
		fh, base, err := openDryRun(ctx, cfg, name, log)
		if err != nil {
			return err
		}
		n, probs, err := dryRunFile(fh, base, opts, out, tw)
		fh.Close()
		total.regs, total.events, total.bad = total.regs+n.regs, total.events+n.events, total.bad+n.bad
		problems = append(problems, probs...)
		if err != nil {
			fileErrs++
			problems = append(problems, err.Error())
		}
	}
	if tw != nil {
		tw.Flush()
	}
	for _, p := range problems {
		fmt.Fprintln(report, p)
	}
	valid := fmt.Sprintf("%d registrations valid", total.regs)
	if total.events > 0 {
		valid += fmt.Sprintf(", %d events valid", total.events)
	}
	fmt.Fprintf(report, "%s, %d rows with errors, %d files refused\n", valid, total.bad, fileErrs)
	if total.bad > 0 || fileErrs > 0 {
		return someRowsFailed(nil)
	}
	return nil
}

// openDryRun opens a file to dry-run: a local path, or an sftp:// URL through the source that
// import and mapping suggest use; the reader's Close closes the connection too.
func openDryRun(ctx context.Context, cfg *config.Config, name string, log logger) (io.ReadCloser, string, error) {
	if !isSFTPURL(name) {
		fh, err := os.Open(name)
		return fh, filepath.Base(name), err
	}
	src, file, err := oneShotSource(ctx, cfg, name, log)
	if err != nil {
		return nil, "", err
	}
	rc, err := src.Open(ctx, file)
	if err != nil {
		src.Close()
		return nil, "", fmt.Errorf("open %s: %w", name, err)
	}
	return closeBoth{rc, src}, path.Base(file), nil
}

// closeBoth is a file read from a source that is closed with it.
type closeBoth struct {
	io.ReadCloser
	src io.Closer
}

func (c closeBoth) Close() error { return errors.Join(c.ReadCloser.Close(), c.src.Close()) }

// dryCounts counts what a dry run found: valid registrations, valid events, rows with errors.
type dryCounts struct{ regs, events, bad int }

// dryRunFile prints one file's registrations or events; it returns what it counted, the
// problems to print, and the file error that stopped it.
func dryRunFile(r io.Reader, name string, opts mapping.Options, out io.Writer, tw *tabwriter.Writer) (dryCounts, []string, error) {
	var n dryCounts
	rd, err := mapping.NewReader(r, name, opts)
	if err != nil {
		return n, nil, err
	}
	defer rd.Close()
	var problems []string
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		var reg *domain.Registration
		var ev *domain.Event
		var rowErrs []domain.RowError
		if rd.Kind().IsEvent() {
			ev, rowErrs, err = rd.NextEvent()
		} else {
			reg, rowErrs, err = rd.Next()
		}
		if errors.Is(err, io.EOF) {
			return n, problems, nil
		}
		if err != nil {
			return n, problems, err
		}
		lines := map[int]bool{}
		for _, re := range rowErrs {
			prefix := "error: "
			if re.Warning {
				prefix = "warning: "
			} else if !lines[re.Line] {
				lines[re.Line] = true
				n.bad++
			}
			problems = append(problems, prefix+re.Error())
		}
		switch {
		case ev != nil:
			n.events++
			if tw == nil {
				if err := enc.Encode(ev.Payload("")); err != nil {
					return n, problems, err
				}
				continue
			}
			target, caseID := ev.Target()
			if caseID != "" {
				target = "case " + caseID
			}
			amount, currency := "", ""
			if a, c := ev.Amount(); c != "" || a != 0 {
				amount, currency = a.String(), c
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\t%s\t%s\t\t%s\n", name, ev.Line, ev.Kind, target, amount, currency, ev.Key)
		case reg != nil:
			n.regs++
			if tw == nil {
				if err := enc.Encode(reg.Payload()); err != nil {
					return n, problems, err
				}
				continue
			}
			for _, it := range reg.Items {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, reg.Line, reg.Kind, it.InvoiceNumber, it.CustomerName, it.Amount, it.Currency, it.PDF, it.InvoiceNumber)
			}
		}
	}
}
