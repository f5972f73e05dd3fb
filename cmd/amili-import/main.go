// Command amili-import feeds Amili from a creditor's CSV exports: it pulls files from SFTP or a
// local directory, validates and maps every row to an invoice or case registration, submits it
// exactly once, attaches the original PDF, and reports to finance.
//
// Usage:
//
//	amili-import <command> [flags] [args]
//
// Run "amili-import help" for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Exit codes, the contract scripts and systemd rely on.
const (
	exitOK       = 0 // everything done
	exitSomeRows = 1 // the run finished but some rows were rejected or not done
	exitNoStart  = 2 // the run could not start: bad config, unreachable SFTP, inactive creditor, auth refused
)

// exitError carries an exit code other than exitNoStart up to main. Every other error a command
// returns means the run could not start or go on (exit 2), and main prints it once.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// someRowsFailed is returned when a run finished with rows not done (exit 1).
func someRowsFailed(err error) error { return &exitError{code: exitSomeRows, err: err} }

// command is one verb of the CLI.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its streams and the process's environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// commands lists the verbs; each lives in a file of its own name.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: the end-to-end tests call it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitNoStart
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "amili-import: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitNoStart
	}
	err := cmd.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "amili-import %s: %v\n", args[0], ee.err)
		}
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK // -h: the usage was asked for and printed
	}
	if errors.Is(err, errUsage) {
		return exitNoStart
	}
	fmt.Fprintf(stderr, "amili-import %s: %v\n", args[0], err)
	return exitNoStart
}

// errUsage is returned by a command whose flags were wrong; its flag set has printed why.
var errUsage = errors.New("usage")

// usageError is what a command returns when its flags did not parse: flag.ErrHelp for -h
// (exit 0), else errUsage.
func usageError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	return errUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: amili-import <command> [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "amili-import <command> -h" for a command's flags.`)
}
