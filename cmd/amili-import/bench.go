package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/amili-import/amili-import/internal/bench"
	"github.com/amili-import/amili-import/mapping"
)

func init() {
	commands["bench"] = command{summary: "measure end-to-end throughput, calls and memory against the targets", run: runBench}
}

// benchUsage is the bench verb's help, printed before its flags; %s is the scenarios' names.
const benchUsage = `Usage: amili-import bench [--scenarios list] [--n N] [--json]

Generates each scenario's workload, serves it from an in-process SFTP server, imports it with
the real importer into an in-process Amili sandbox over HTTP on 127.0.0.1, and prints one
table: calls by endpoint, calls per invoice, throughput against the rate-limit and latency
ceilings, 429s, peak RSS and CPU time, with PASS or FAIL against each scenario's target; then
one JSON line per scenario. The sandbox and the SFTP server run in this process; the importer
runs in a child process per scenario, so that the peak RSS and CPU time are the importer's
own. Exits 1 when a scenario misses its target.

Scenarios: %s

Flags:
`

// benchFlags are the bench verb's flags.
type benchFlags struct {
	names      []string // every scenario's name, for the defaults and messages
	scenarios  string
	n          int
	jsonOnly   bool
	one        string
	world      string
	inProcess  bool
	dir        string
	cpuprofile string
}

func runBench(ctx context.Context, e *env, args []string) error {
	var f benchFlags
	if err := f.parse(e.stderr, args); err != nil {
		return err
	}
	opts := bench.Options{Dir: f.dir, DryRun: benchDryRun}
	if f.cpuprofile != "" {
		stop, err := startCPUProfile(f.cpuprofile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if f.one != "" {
		res, err := runOne(ctx, f.one, f.n, f.world, opts)
		if err != nil {
			return err
		}
		return bench.WriteJSON(e.stdout, res)
	}

	results, err := f.runScenarios(ctx, e.stderr, opts)
	if err != nil {
		return err
	}
	return writeBenchResults(e.stdout, results, f.jsonOnly)
}

// parse reads args into f, printing usage to stderr; errUsage when they are wrong.
func (f *benchFlags) parse(stderr io.Writer, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range bench.Scenarios() {
		f.names = append(f.names, s.Name)
	}
	fs.StringVar(&f.scenarios, "scenarios", strings.Join(f.names, ","), "comma-separated scenarios to run")
	fs.IntVar(&f.n, "n", 0, "items per scenario (0 = each scenario's default)")
	fs.BoolVar(&f.jsonOnly, "json", false, "print only the JSON lines, no table")
	fs.StringVar(&f.one, "one", "", "run the importer's side of one scenario and print its JSON lines (the parent runs it in a child process, with --world)")
	fs.StringVar(&f.world, "world", "", "with --one: a JSON file saying how to reach the parent's sandbox and SFTP server")
	fs.BoolVar(&f.inProcess, "in-process", false, "run every scenario in this process instead of one child process each (peak RSS is then the whole run's)")
	fs.StringVar(&f.dir, "dir", defaultBenchDir(), "where scenarios write their files and ledgers")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the scenarios run in this process to this file")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), benchUsage, strings.Join(f.names, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	return nil
}

// startCPUProfile profiles this process's CPU into the file at path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// runScenarios runs the --scenarios in order, each in a child process or, with --in-process,
// in this one, and returns their results.
func (f *benchFlags) runScenarios(ctx context.Context, stderr io.Writer, opts bench.Options) ([]bench.Result, error) {
	var results []bench.Result
	for _, name := range strings.Split(f.scenarios, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := bench.Find(name); !ok {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", name, strings.Join(f.names, ", "))
		}
		var res []bench.Result
		var err error
		if f.inProcess {
			res, err = runScenario(ctx, name, f.n, opts)
		} else {
			res, err = runChild(ctx, name, f.n, f.dir)
		}
		if err != nil {
			return nil, err
		}
		if !f.jsonOnly {
			fmt.Fprintf(stderr, "bench: %s done\n", name)
		}
		results = append(results, res...)
	}
	return results, nil
}

// writeBenchResults prints the table (unless jsonOnly) and the JSON lines; exit 1 when a
// scenario missed its target.
func writeBenchResults(w io.Writer, results []bench.Result, jsonOnly bool) error {
	if !jsonOnly {
		if err := bench.WriteTable(w, results); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if err := bench.WriteJSON(w, results); err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if !r.Pass {
			failed = append(failed, r.Scenario)
		}
	}
	if len(failed) > 0 {
		return someRowsFailed(fmt.Errorf("%d scenario(s) missed the target: %s", len(failed), strings.Join(failed, ", ")))
	}
	return nil
}

// scenario is the named scenario, sized by n when n > 0.
func scenario(name string, n int) (bench.Scenario, error) {
	sc, ok := bench.Find(name)
	if !ok {
		return sc, fmt.Errorf("unknown scenario %q", name)
	}
	if n > 0 {
		sc.Items = n
	}
	return sc, nil
}

// runScenario runs one scenario, world and importer, in this process.
func runScenario(ctx context.Context, name string, n int, opts bench.Options) ([]bench.Result, error) {
	sc, err := scenario(name, n)
	if err != nil {
		return nil, err
	}
	return bench.Run(ctx, sc, opts)
}

// runOne is the child's side: the importer against the world the parent started; without a
// world file, the whole scenario in this process.
func runOne(ctx context.Context, name string, n int, worldFile string, opts bench.Options) ([]bench.Result, error) {
	if worldFile == "" {
		return runScenario(ctx, name, n, opts)
	}
	sc, err := scenario(name, n)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(worldFile)
	if err != nil {
		return nil, err
	}
	var info bench.WorldInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("world file: %w", err)
	}
	return bench.Measure(ctx, sc, info, opts)
}

// runChild starts the scenario's sandbox and SFTP server here and runs the importer's side in
// a child process of this binary, so that the peak RSS and CPU time it reports are the
// importer's alone.
func runChild(ctx context.Context, name string, n int, dir string) ([]bench.Result, error) {
	sc, err := scenario(name, n)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	wdir, err := os.MkdirTemp(dir, "amili-bench-"+name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(wdir)
	w, err := bench.StartWorld(sc, wdir)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	defer w.Close()
	info, err := json.Marshal(w.Info)
	if err != nil {
		return nil, err
	}
	worldFile := filepath.Join(wdir, "world.json")
	if err := os.WriteFile(worldFile, info, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "--one", name, "--n", strconv.Itoa(n), "--world", worldFile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("scenario %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	var out []bench.Result
	scan := bufio.NewScanner(&stdout)
	scan.Buffer(make([]byte, 64<<10), 1<<20)
	for scan.Scan() {
		var res bench.Result
		if err := json.Unmarshal(scan.Bytes(), &res); err == nil && strings.HasPrefix(res.Scenario, name) {
			out = append(out, res)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenario %s: no result line in the child's output", name)
	}
	return out, nil
}

// benchDryRun is the dry-run scenario's mapping: the same code as "import --dry-run", its
// JSON output discarded.
func benchDryRun(r io.Reader, name string, opts mapping.Options) (int, error) {
	n, _, err := dryRunFile(r, name, opts, io.Discard, nil)
	if err == nil && n.bad > 0 {
		err = errors.New("rows with errors")
	}
	return n.regs, err
}

// defaultBenchDir is /dev/shm when there is one: at the bench's scaled rates a disk's fsync per
// ledger commit would weigh far more than at Amili's real 100 calls a minute.
func defaultBenchDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}
