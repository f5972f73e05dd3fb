package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/internal/syncbuf"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// mainEnv makes the test binary act as amili-import: the end-to-end tests that need real
// processes (signals, leases held by another pid) start os.Args[0] with it set.
const mainEnv = "AMILI_IMPORT_TEST_AS_MAIN"

func init() {
	if os.Getenv(mainEnv) == "1" {
		main()
	}
}

// proc is amili-import running as a child process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *syncbuf.Buffer
	stderr *syncbuf.Buffer
	done   chan struct{}
	code   int
}

// startProc starts amili-import args as a child process; it is killed at the end of the test
// if still running.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), mainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		_ = err
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		p.t.Fatalf("%v still running after %v\nstderr:\n%s", p.cmd.Args[1:], d, p.stderr.String())
	}
	return -1
}

// waitLog waits up to d for the process's stderr to match re and returns the first match.
func (p *proc) waitLog(re string, d time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(d)
	for {
		if m := rx.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := rx.FindStringSubmatch(p.stderr.String()); m != nil {
				return m
			}
			p.t.Fatalf("exited (%d) before logging %q\nstderr:\n%s", p.code, re, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no log line matching %q within %v\nstderr:\n%s", re, d, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countLog counts stderr lines containing s.
func (p *proc) countLog(s string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// writeInvoices writes a canonical invoice CSV of n one-line invoices, numbered prefix-001 …,
// with no PDFs, into dir, dated two minutes ago so that min_age never holds it back.
func writeInvoices(t *testing.T, dir, name, prefix string, n int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, "invoices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header, tmpl := lines[0], strings.Split(lines[1], ",")
	var out strings.Builder
	out.WriteString(header + "\n")
	var numbers []string
	for i := 1; i <= n; i++ {
		row := append([]string(nil), tmpl...)
		row[0] = fmt.Sprintf("%s-%03d", prefix, i)
		row[len(row)-1] = "" // pdf_file: none (jobs here use pdf: optional)
		numbers = append(numbers, row[0])
		out.WriteString(strings.Join(row, ",") + "\n")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(f, old, old)
	return numbers
}

// jobYAML is a config jobs entry reading a local directory, PDFs optional.
func jobYAML(name, schedule, dir string, concurrency int) string {
	s := fmt.Sprintf("  - name: %s\n    kind: invoice\n    pdf: optional\n    concurrency: %d\n", name, concurrency)
	if schedule != "" {
		s += fmt.Sprintf("    schedule: %q\n", schedule)
	}
	return s + fmt.Sprintf("    source:\n      dir: %s\n      min_age: 1ms\n", dir)
}

// assertRegisteredOnce checks that each invoice number reached the sandbox exactly once.
func assertRegisteredOnce(t *testing.T, srv *amilitest.Server, numbers []string) {
	t.Helper()
	bad := 0
	for _, n := range numbers {
		if c := srv.RegistrationCount(srv.Creditor, n); c != 1 {
			bad++
			if bad <= 5 {
				t.Errorf("%s registered %d times, want 1", n, c)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d invoices not registered exactly once", bad, len(numbers))
	}
}

// scrapeMetrics fetches and parses a /metrics page.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// metricValue sums the samples of family name whose labels include labels.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	var sum float64
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
