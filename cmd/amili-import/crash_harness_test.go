package main

// The parts the crash, fault and secrets tests share: the real binary built once per package
// run, a sandbox running as its own process, and generated invoice files with their PDFs.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/internal/syncbuf"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// TestMain removes the binary built for the subprocess tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds amili-import into a temporary directory, once per package run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "amili-import-bin-")
		if binErr != nil {
			return
		}
		// "go test" puts its own GOROOT/bin first on PATH.
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = fmt.Errorf("no go command on PATH: %w", err)
			return
		}
		binPath = filepath.Join(binDir, "amili-import")
		out, err := exec.Command(goTool, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// sandboxProc is "amili-import sandbox" running as its own process: it outlives every import
// the test starts and kills.
type sandboxProc struct {
	URL, Account, Creditor string
	cmd                    *exec.Cmd
	stderr                 *syncbuf.Buffer
}

// startSandbox starts the sandbox verb with --inspect and the given flags and reads its
// printed URL and ids.
func startSandbox(t *testing.T, bin string, flags ...string) *sandboxProc {
	t.Helper()
	args := append([]string{"sandbox", "--addr", "127.0.0.1:0", "--inspect"}, flags...)
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &sandboxProc{cmd: cmd, stderr: &syncbuf.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sandbox ended before it was ready: %s", p.stderr.String())
			}
			f := strings.Fields(l)
			switch {
			case strings.HasPrefix(l, "Amili sandbox listening on "):
				p.URL = f[len(f)-1]
			case strings.Contains(l, "account:"):
				p.Account = f[len(f)-1]
			case strings.Contains(l, "creditor (active)"):
				p.Creditor = f[len(f)-1]
			case strings.HasPrefix(l, "Press Ctrl-C"):
				if p.URL == "" || p.Account == "" || p.Creditor == "" {
					t.Fatalf("sandbox printed no URL or ids")
				}
				go func() {
					for range lines {
					}
				}()
				return p
			}
		case <-timeout:
			t.Fatalf("sandbox not ready after 20s: %s", p.stderr.String())
		}
	}
}

// state reads the sandbox's own record through its inspection endpoint.
func (p *sandboxProc) state(t *testing.T) amilitest.State {
	t.Helper()
	resp, err := http.Get(p.URL + amilitest.InspectPath)
	if err != nil {
		t.Fatalf("sandbox state: %v", err)
	}
	defer resp.Body.Close()
	var st amilitest.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("sandbox state: %v", err)
	}
	return st
}

// genInvoice is one generated invoice: what the sandbox must end up holding for it.
type genInvoice struct {
	Number   string
	IDNumber string // the customer's full identity number, as written in the CSV
	PDF      string // file name beside the CSV
	PDFHash  string // hex sha256 of the PDF
	Amount   int64  // öre, lines plus VAT
}

// invoiceHeader is the canonical invoice layout the generator writes.
const invoiceHeader = "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.id_number," +
	"customer.is_person,customer.is_company,customer.email,matrix.article_description,matrix.number_of_units," +
	"matrix.unit_price,matrix.total_price_excluding_vat,matrix.unit_vat_percent,pdf_file"

// genInvoices writes n invoices of one to three lines each as name in dir, with a distinct
// PDF per invoice, and returns them. Amounts are chosen so that VAT is a whole number of öre.
func genInvoices(t *testing.T, dir, name, prefix string, n int, rnd *rand.Rand) []genInvoice {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString(invoiceHeader + "\n")
	out := make([]genInvoice, n)
	for i := range out {
		inv := genInvoice{Number: fmt.Sprintf("%s-%05d", prefix, i+1)}
		inv.PDF = inv.Number + ".pdf"
		person := rnd.IntN(2) == 0
		name := fmt.Sprintf("Kund %d AB", i+1)
		if person {
			inv.IDNumber, name = personnummer(rnd), fmt.Sprintf("Person %d", i+1)
		} else {
			inv.IDNumber = orgnummer(rnd)
		}
		day := 1 + rnd.IntN(28)
		lines := 1 + rnd.IntN(3)
		for l := 0; l < lines; l++ {
			units := int64(1 + rnd.IntN(5))
			price := int64(4 * (1 + rnd.IntN(500_000))) // öre, a multiple of 4
			vat := []int64{0, 25}[rnd.IntN(2)]
			total := units * price
			inv.Amount += total + total*vat/100
			fmt.Fprintf(&csv, "%s,2025-09-%02d,2025-10-%02d,SEK,%s,%s,%t,%t,kund%d@example.se,Line %d,%d,%s,%s,%d%%,%s\n",
				inv.Number, day, day, name, inv.IDNumber, person, !person, i, l+1, units, ore(price), ore(total), vat, inv.PDF)
		}
		pdf := fmt.Sprintf("%%PDF-1.4\n%% invoice %s\n%s\n%%%%EOF\n", inv.Number, strings.Repeat(strconv.Itoa(rnd.IntN(1e9)), 50+rnd.IntN(400)))
		if err := os.WriteFile(filepath.Join(dir, inv.PDF), []byte(pdf), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(pdf))
		inv.PDFHash = hex.EncodeToString(sum[:])
		out[i] = inv
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// ore writes öre as kronor with two decimals.
func ore(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// personnummer is a valid 10-digit personnummer (YYMMDD-NNNC) born 1950–1999.
func personnummer(rnd *rand.Rand) string {
	d := fmt.Sprintf("%02d%02d%02d%03d", 50+rnd.IntN(50), 1+rnd.IntN(12), 1+rnd.IntN(28), rnd.IntN(1000))
	d += strconv.Itoa(luhnCheck(d))
	return d[:6] + "-" + d[6:]
}

// orgnummer is a valid organisationsnummer (NNNNNN-NNNC, third and fourth digits ≥ 20).
func orgnummer(rnd *rand.Rand) string {
	d := fmt.Sprintf("55%02d%05d", 20+rnd.IntN(80), rnd.IntN(100000))
	d += strconv.Itoa(luhnCheck(d))
	return d[:6] + "-" + d[6:]
}

// luhnCheck is the check digit of nine digits (weights 2-1 from the left).
func luhnCheck(nine string) int {
	sum := 0
	for i := 0; i < 9; i++ {
		v := int(nine[i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return (10 - sum%10) % 10
}

// procRun is one finished (or killed) import process.
type procRun struct {
	code   int // exit code; -1 when killed
	killed bool
	stdout string
	stderr string
}

// startImport starts the binary with args and returns a function that waits for it, killing
// it with SIGKILL after killAfter (0: never).
func runProcess(t *testing.T, bin string, killAfter time.Duration, args ...string) procRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if killAfter > 0 {
		tm := time.NewTimer(killAfter)
		defer tm.Stop()
		timer = tm.C
	}
	hard := time.NewTimer(10 * time.Minute)
	defer hard.Stop()
	r := procRun{}
	select {
	case <-done:
	case <-timer:
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		r.killed = true
	case <-hard.C:
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not end in 10 minutes:\n%s", args, errb.String())
	}
	r.code = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.killed = true
	} else {
		r.killed = false // it ended on its own before the kill landed
	}
	r.stdout, r.stderr = out.String(), errb.String()
	return r
}

// chaosSeed is the seed of a random test: CHAOS_SEED when set, else a fresh one. It is logged
// so that a failure can be replayed.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with CHAOS_SEED=%d)", seed, seed)
	return seed
}

// chaosLong reports whether the long version runs (make chaos).
func chaosLong() bool { return os.Getenv("CHAOS") == "long" }
