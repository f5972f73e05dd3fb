package main

// Exactly-once when processes overlap, a run outlives its lease, and Amili answers late: real
// processes of the binary against the sandbox in its own process, over HTTP, sharing one
// SQLite ledger. Each scenario ends with the sandbox's own record: every invoice registered
// once, with its own PDF, and the ledger agreeing.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/syncbuf"
)

// bgProc is a process of the binary started in the background.
type bgProc struct {
	cmd       *exec.Cmd
	out, errb syncbuf.Buffer
	done      chan struct{}
}

func startBin(t *testing.T, bin string, args ...string) *bgProc {
	t.Helper()
	p := &bgProc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errb
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGCONT)
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to end (at most limit) and returns its exit code.
func (p *bgProc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%v did not end within %v:\n%s", p.cmd.Args[1:], limit, lastLines(p.errb.String(), 30))
	}
	return p.cmd.ProcessState.ExitCode()
}

// summaryOf reads a --summary json document.
func summaryOf(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	return m
}

// untilDone runs args again until a run exits 0, pausing between runs, and returns how many
// runs it took. Exit 1 (rows pending or not done) means "run again"; anything else fails.
func untilDone(t *testing.T, bin string, limit time.Duration, args ...string) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for n := 1; ; n++ {
		r := runProcess(t, bin, 0, args...)
		switch r.code {
		case 0:
			return n
		case 1:
		default:
			t.Fatalf("run %d exited %d:\n%s\n%s", n, r.code, r.stdout, lastLines(r.stderr, 20))
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after %d runs and %v; last summary:\n%s", n, limit, r.stdout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// jobConfig is a job over dir that leaves its file in place, so one-shot imports can read it too.
func jobConfig(dir string) string {
	return fmt.Sprintf(`jobs:
  - name: inv
    kind: invoice
    concurrency: 4
    source:
      type: local
      dir: %s
      patterns: ["invoices.csv"]
      min_age: 1ms
      after: leave
`, dir)
}

// Situation 1: a one-shot import while another import and the job's run work on the same file
// and the same ledger. Each process waits on its own rate limiter, so each holds rows it has
// claimed but not yet sent while the others reach them.
func TestOverlapImportsAndRunShareALedger(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "OV", 24, 0x0e1, "--api-key", "T", "--latency", "20ms")
	bin, sb, root, in, invoices, want := w.bin, w.sb, w.root, w.in, w.invoices, w.want
	cfg, db := writeProcConfig(t, root, sb, 240, jobConfig(in)+"daemon:\n  lease_ttl: 4s\n")
	file := filepath.Join(in, "invoices.csv")
	started := time.Now()

	procs := []*bgProc{startBin(t, bin, "run", "inv", "--config", cfg, "--summary", "json")}
	time.Sleep(300 * time.Millisecond)
	procs = append(procs, startBin(t, bin, "import", "--config", cfg, "--summary", "json", file))
	time.Sleep(300 * time.Millisecond)
	procs = append(procs, startBin(t, bin, "import", "--config", cfg, "--summary", "json", file))
	pending := 0
	for i, p := range procs {
		code := p.wait(t, 3*time.Minute)
		if code != 0 && code != 1 {
			t.Fatalf("process %d (%v) exited %d:\n%s\n%s", i, p.cmd.Args[1:3], code, p.out.String(), lastLines(p.errb.String(), 20))
		}
		if v, ok := summaryOf(t, p.out.String())["pending"].(float64); ok {
			pending += int(v)
		}
	}
	t.Logf("three overlapping processes: %d registrations at the sandbox, %d rows left to another process", len(sb.state(t).Registrations), pending)
	runs := untilDone(t, bin, time.Minute, "import", "--config", cfg, "--summary", "json", file)
	t.Logf("%d more runs to finish", runs)
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}

// Situation 2: Amili stores a registration only after the client's timeout. The lookup right
// after the timeout finds nothing; the registration must stay in doubt, not be sent again, until
// a later lookup finds it.
func TestLateCommitAfterClientTimeoutIsNotResent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "LC", 40, 0x1a7e, "--api-key", "T", "--seed", seedFlag, "--latency", "5ms",
		"--commit-late", "0.3", "--commit-delay", "3s")
	bin, sb, root, in, invoices, want := w.bin, w.sb, w.root, w.in, w.invoices, w.want
	cfg, db := writeProcConfig(t, root, sb, 3000, "")
	// The client gives up after 1s; the grace period outlasts the 3s commit delay.
	setAmili(t, cfg, "1s", "8s")
	started := time.Now()
	args := []string{"import", "--config", cfg, "--summary", "json", filepath.Join(in, "invoices.csv")}
	first := runProcess(t, bin, 0, args...)
	if first.code != 1 {
		t.Fatalf("first run exited %d, want 1 (registrations in doubt):\n%s\n%s", first.code, first.stdout, lastLines(first.stderr, 20))
	}
	sum := summaryOf(t, first.stdout)
	if sum["all_done"] != false || sum["pending"] == nil || sum["pending"].(float64) == 0 {
		t.Errorf("first run: all_done %v, pending %v; want registrations pending in doubt", sum["all_done"], sum["pending"])
	}
	runs := untilDone(t, bin, time.Minute, args...)
	t.Logf("first run: %v registered, %v pending; %d more runs to finish", sum["registered"], sum["pending"], runs)
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}

// Situation 3: a run stopped (SIGSTOP) for longer than its lease; a second run takes the job
// over; then the first wakes up. Its requests waiting for the rate limiter must not go out.
func TestRunThatOutlivesItsLeaseSendsNothingMore(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "LS", 30, 0x1ea5e, "--api-key", "T", "--latency", "30ms")
	bin, sb, root, in, invoices, want := w.bin, w.sb, w.root, w.in, w.invoices, w.want
	cfg, db := writeProcConfig(t, root, sb, 240, jobConfig(in)+"daemon:\n  lease_ttl: 3s\n")
	setAmili(t, cfg, "2s", "5s")
	started := time.Now()
	args := []string{"run", "inv", "--config", cfg, "--summary", "json"}

	a := startBin(t, bin, args...)
	time.Sleep(2500 * time.Millisecond)
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	before := len(sb.state(t).Registrations)
	time.Sleep(4 * time.Second) // the lease and the heartbeat lapse
	b := startBin(t, bin, args...)
	time.Sleep(2 * time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*bgProc{a, b} {
		if code := p.wait(t, 3*time.Minute); code != 0 && code != 1 {
			t.Fatalf("%v exited %d:\n%s\n%s", p.cmd.Args[1:3], code, p.out.String(), lastLines(p.errb.String(), 20))
		}
	}
	t.Logf("%d registrations when the first run was stopped; %d after both ended", before, len(sb.state(t).Registrations))
	runs := untilDone(t, bin, time.Minute, args...)
	t.Logf("%d more runs to finish", runs)
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}

// Situation 4: Amili answers 2xx with a body whose ids do not decode, and its listings lag
// behind, so the lookup finds nothing at first. A 2xx is committed: it is never POSTed again,
// however many runs look for it.
func TestUndecodableSuccessIsNeverResent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "BB", 20, 0xbad, "--api-key", "T", "--seed", seedFlag, "--bad-body", "0.3", "--list-lag", "8s")
	bin, sb, root, in, invoices, want := w.bin, w.sb, w.root, w.in, w.invoices, w.want
	cfg, db := writeProcConfig(t, root, sb, 3000, "")
	setAmili(t, cfg, "1s", "2s")
	started := time.Now()
	args := []string{"import", "--config", cfg, "--summary", "json", filepath.Join(in, "invoices.csv")}
	for i := range 3 {
		r := runProcess(t, bin, 0, args...)
		if r.code != 1 {
			t.Fatalf("run %d exited %d, want 1 while answers are unread:\n%s\n%s", i+1, r.code, r.stdout, lastLines(r.stderr, 20))
		}
		time.Sleep(time.Second) // past the grace period: an ordinary in-doubt row would be resent now
	}
	if n := len(sb.state(t).Registrations); n != len(invoices) {
		t.Errorf("after three runs the sandbox holds %d registrations for %d invoices", n, len(invoices))
	}
	runs := untilDone(t, bin, time.Minute, args...)
	t.Logf("%d more runs until the listings caught up", runs)
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}

// world is one scenario's parts: the binary, a sandbox process, and a generated invoice file
// under root/in with its PDFs.
type world struct {
	bin, root, in string
	sb            *sandboxProc
	invoices      []genInvoice
	want          int64 // öre, the file's total
	rnd           *rand.Rand
}

// seedFlag in newWorld's sandbox flags stands for the scenario's seed.
const seedFlag = "<seed>"

// newWorld builds a world of n invoices numbered prefix-NNNNN, seeded from the test's seed
// mixed with salt, and starts the sandbox with flags.
func newWorld(t *testing.T, prefix string, n int, salt uint64, flags ...string) *world {
	t.Helper()
	w := &world{bin: buildBinary(t), root: t.TempDir()}
	seed := chaosSeed(t)
	w.rnd = rand.New(rand.NewPCG(seed, seed^salt))
	for i, f := range flags {
		if f == seedFlag {
			flags[i] = fmt.Sprint(seed % 1e9)
		}
	}
	w.sb = startSandbox(t, w.bin, flags...)
	w.in = filepath.Join(w.root, "in")
	w.invoices = genInvoices(t, w.in, "invoices.csv", prefix, n, w.rnd)
	for _, inv := range w.invoices {
		w.want += inv.Amount
	}
	return w
}

// setAmili replaces the amili.timeout and amili.in_doubt_grace that writeProcConfig sets.
func setAmili(t *testing.T, path, timeout, grace string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const set = "  timeout: 3s\n  in_doubt_grace: 6s\n"
	if !strings.Contains(string(b), set) {
		t.Fatalf("%s does not set amili.timeout and in_doubt_grace as writeProcConfig does", path)
	}
	out := strings.Replace(string(b), set, "  timeout: "+timeout+"\n  in_doubt_grace: "+grace+"\n", 1)
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The four situations at once, at random: rounds of two or three processes (the job's run and
// one-shot imports) on one ledger and one file, each SIGKILLed, stopped for longer than its
// lease, or left alone, against a sandbox that commits some registrations after the client's
// timeout, drops answers after committing, and storms 429s. The end is checked as after the
// single-process crash tests: every invoice once, with its own PDF, and the money to the öre.
func TestChaosOverlapKillsAndStalls(t *testing.T) {
	t.Parallel()
	invoicesN, rounds := 160, 8
	if chaosLong() {
		invoicesN, rounds = 800, 30
	}
	w := newWorld(t, "CH", invoicesN, 0xc4a05, "--api-key", "T", "--seed", seedFlag, "--latency", "10ms",
		"--commit-late", "0.05", "--commit-delay", "2s", "--commit-then-drop", "0.05", "--storm-429", "0.02")
	bin, sb, root, in, invoices, want, rnd := w.bin, w.sb, w.root, w.in, w.invoices, w.want, w.rnd
	cfg, db := writeProcConfig(t, root, sb, 600, jobConfig(in)+"daemon:\n  lease_ttl: 3s\n")
	setAmili(t, cfg, "1s", "4s")
	file := filepath.Join(in, "invoices.csv")
	variants := [][]string{
		{"run", "inv", "--config", cfg, "--summary", "json"},
		{"import", "--config", cfg, "--summary", "json", file},
	}
	started := time.Now()
	kills, stops := 0, 0
	for round := range rounds {
		procs := make([]*bgProc, 2+rnd.IntN(2))
		for i := range procs {
			procs[i] = startBin(t, bin, variants[rnd.IntN(len(variants))]...)
			pid := procs[i].cmd.Process
			if rnd.IntN(2) == 0 {
				kills++
				time.AfterFunc(time.Duration(100+rnd.IntN(1400))*time.Millisecond, func() { pid.Signal(syscall.SIGKILL) })
			} else {
				// Stopped, then continued; most are killed a little later, some run to their end.
				stops++
				stopAt := time.Duration(100+rnd.IntN(700)) * time.Millisecond
				stopFor := time.Duration(1000+rnd.IntN(3000)) * time.Millisecond
				killAfter := time.Duration(500+rnd.IntN(1500)) * time.Millisecond
				kill := rnd.IntN(3) > 0
				if kill {
					kills++
				}
				time.AfterFunc(stopAt, func() {
					pid.Signal(syscall.SIGSTOP)
					time.AfterFunc(stopFor, func() {
						pid.Signal(syscall.SIGCONT)
						if kill {
							time.AfterFunc(killAfter, func() { pid.Signal(syscall.SIGKILL) })
						}
					})
				})
			}
			time.Sleep(time.Duration(rnd.IntN(200)) * time.Millisecond)
		}
		for _, p := range procs {
			code := p.wait(t, 3*time.Minute)
			held := code == 2 && p.cmd.Args[1] == "run" && strings.Contains(p.errb.String(), "running elsewhere")
			if code != 0 && code != 1 && code != -1 && !held {
				t.Fatalf("round %d: %v exited %d:\n%s\n%s", round, p.cmd.Args[1:3], code, p.out.String(), lastLines(p.errb.String(), 20))
			}
		}
		t.Logf("round %d: %d processes, %d invoices registered so far", round+1, len(procs), len(sb.state(t).Counts))
	}
	t.Logf("%d rounds, %d SIGKILLs, %d stops of 1-4 s (lease 3 s); %d of %d invoices registered before the final runs",
		rounds, kills, stops, len(sb.state(t).Counts), len(invoices))
	runs := untilDone(t, bin, 2*time.Minute, variants[1]...)
	t.Logf("%d final runs", runs)
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}
