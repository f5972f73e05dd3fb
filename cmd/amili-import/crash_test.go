package main

// Exactly-once under kill -9: the real binary imports a generated file against a sandbox
// running in its own process, is killed with SIGKILL at random moments and restarted until a
// run completes; then the sandbox's own record, the ledger and the report must agree that
// every invoice was registered once, with its own PDF, and that the money adds up to the öre.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/report"
)

// crashPlan sizes one crash scenario.
type crashPlan struct {
	invoices  int
	kills     int
	maxDelay  time.Duration // kills land uniformly in [minDelay, maxDelay] after each start
	minDelay  time.Duration
	sandbox   []string // extra sandbox flags: latency, faults
	rateLimit int      // the importer's requests per minute
}

func TestCrashKill9(t *testing.T) {
	t.Parallel()
	p := crashPlan{invoices: 300, kills: 24, minDelay: 20 * time.Millisecond, maxDelay: 600 * time.Millisecond,
		sandbox: []string{"--latency", "10ms"}, rateLimit: 3000}
	if chaosLong() {
		p.invoices, p.kills, p.maxDelay = 2000, 120, 1200*time.Millisecond
	}
	crashScenario(t, p)
}

func TestCrashKill9WithFaults(t *testing.T) {
	t.Parallel()
	p := crashPlan{invoices: 300, kills: 24, minDelay: 20 * time.Millisecond, maxDelay: 900 * time.Millisecond,
		sandbox: []string{"--latency", "10ms", "--commit-then-fail", "0.1", "--commit-then-drop", "0.1",
			"--storm-429", "0.03", "--server-error-rate", "0.03", "--upload-latency", "25ms"},
		rateLimit: 3000}
	if chaosLong() {
		p.invoices, p.kills, p.maxDelay = 2000, 120, 1500*time.Millisecond
	}
	crashScenario(t, p)
}

func crashScenario(t *testing.T, p crashPlan) {
	bin := buildBinary(t)
	seed := chaosSeed(t)
	rnd := rand.New(rand.NewPCG(seed, seed^0x5eed))
	sb := startSandbox(t, bin, append([]string{"--api-key", "T", "--seed", fmt.Sprint(seed % 1e9)}, p.sandbox...)...)
	root := t.TempDir()
	in := filepath.Join(root, "in")
	invoices := genInvoices(t, in, "invoices.csv", "CR", p.invoices, rnd)
	var want int64
	for _, inv := range invoices {
		want += inv.Amount
	}
	cfg, db := writeProcConfig(t, root, sb, p.rateLimit, "")
	args := []string{"import", "--config", cfg, "--summary", "json", "--concurrency", "4", filepath.Join(in, "invoices.csv")}

	started := time.Now()
	kills, runs, midFlight, exit1 := 0, 0, 0, 0
	for {
		runs++
		if runs > p.kills+60 {
			t.Fatalf("no complete run after %d runs and %d kills", runs, kills)
		}
		var after time.Duration
		if kills == p.kills {
			t.Logf("%d of %d invoices registered when the uninterrupted run starts", len(sb.state(t).Counts), len(invoices))
		}
		if kills < p.kills {
			after = p.minDelay + time.Duration(rnd.Int64N(int64(p.maxDelay-p.minDelay)))
		}
		before := len(sb.state(t).Registrations)
		r := runProcess(t, bin, after, args...)
		if r.killed {
			kills++
			if len(sb.state(t).Registrations) != before {
				midFlight++ // the kill cut a run that was registering
			}
			continue
		}
		switch r.code {
		case 0:
		case 1:
			exit1++ // some rows left for the next run (faults, or in doubt within the grace): run again
			time.Sleep(300 * time.Millisecond)
			continue
		default:
			t.Fatalf("run %d exited %d:\nstdout:\n%s\nstderr:\n%s", runs, r.code, r.stdout, lastLines(r.stderr, 20))
		}
		if kills < p.kills {
			t.Fatalf("the import completed after %d of %d kills: the work is too short for the kill plan", kills, p.kills)
		}
		break
	}
	t.Logf("%d invoices, %d runs, %d SIGKILLs (%d while registering), %d runs ended 1 and were rerun, %s",
		len(invoices), runs, kills, midFlight, exit1, time.Since(started).Round(time.Millisecond))
	verifyExactlyOnce(t, sb, db, invoices, want, started)
}

// verifyExactlyOnce checks the sandbox's record, the ledger and the report against the file.
func verifyExactlyOnce(t *testing.T, sb *sandboxProc, db string, invoices []genInvoice, want int64, since time.Time) {
	t.Helper()
	st := sb.state(t)
	byNumber := map[string]genInvoice{}
	for _, inv := range invoices {
		byNumber[inv.Number] = inv
	}
	// Every invoice registered exactly once, nothing else registered.
	dups, lost := 0, 0
	counted := map[string]int{}
	for _, c := range st.Counts {
		if c.Creditor != sb.Creditor {
			t.Errorf("registration for creditor %s", c.Creditor)
		}
		counted[c.InvoiceNumber] = c.Count
		if _, ok := byNumber[c.InvoiceNumber]; !ok {
			t.Errorf("%s registered but not in the file", c.InvoiceNumber)
		}
	}
	for _, inv := range invoices {
		switch n := counted[inv.Number]; {
		case n == 0:
			lost++
			t.Errorf("%s never registered (lost)", inv.Number)
		case n > 1:
			dups++
			t.Errorf("%s registered %d times", inv.Number, n)
		}
	}
	if len(st.Registrations) != len(invoices) {
		t.Errorf("sandbox stored %d registrations, want %d", len(st.Registrations), len(invoices))
	}
	// Every PDF on its own case and on no other.
	caseOf := map[string]string{}
	reuploads := 0
	for _, c := range st.Cases {
		inv, ok := byNumber[c.InvoiceNumber]
		if !ok {
			t.Errorf("case %s for unknown invoice %s", c.ID, c.InvoiceNumber)
			continue
		}
		if prev, dup := caseOf[c.InvoiceNumber]; dup {
			t.Errorf("%s has two cases: %s and %s", c.InvoiceNumber, prev, c.ID)
		}
		caseOf[c.InvoiceNumber] = c.ID
		if len(c.Uploads) == 0 {
			t.Errorf("case of %s has no PDF", c.InvoiceNumber)
		}
		reuploads += max(0, len(c.Uploads)-1)
		for _, u := range c.Uploads {
			if u.SHA256 != inv.PDFHash {
				t.Errorf("case of %s holds %s (sha256 %s), not its own PDF", c.InvoiceNumber, u.Filename, u.SHA256)
			}
		}
	}
	t.Logf("sandbox: %d registrations, %d cases, %d duplicates, %d lost, %d PDFs uploaded again to their own case after a kill",
		len(st.Registrations), len(st.Cases), dups, lost, reuploads)

	// Every ledger row final, with the case the sandbox made, and the money of the file.
	ctx := context.Background()
	lg, err := ledger.Open(ctx, db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	subs, err := lg.Submissions(ctx, ledger.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	items := 0
	for _, s := range subs {
		if s.State != ledger.StateUploaded {
			t.Errorf("ledger: submission %d (%s) is %s, want uploaded", s.ID, s.Items[0].InvoiceNumber, s.State)
		}
		for _, it := range s.Items {
			items++
			sum += int64(it.Amount)
			if it.CaseID != caseOf[it.InvoiceNumber] {
				t.Errorf("ledger: %s on case %q, sandbox made %q", it.InvoiceNumber, it.CaseID, caseOf[it.InvoiceNumber])
			}
			if it.PDFState != ledger.PDFUploaded {
				t.Errorf("ledger: %s PDF %s", it.InvoiceNumber, it.PDFState)
			}
		}
	}
	if items != len(invoices) {
		t.Errorf("ledger holds %d items, want %d", items, len(invoices))
	}
	if sum != want {
		t.Errorf("ledger total %s, file total %s (öre %d vs %d)", ore(sum), ore(want), sum, want)
	}

	// The report's totals balance and equal the file's.
	client, err := amili.New(amili.Config{BaseURL: sb.URL, Auth: amili.AuthConfig{Method: amili.AuthToken, Token: "T"},
		RateLimit: 60000, Burst: 100, MaxAttempts: 10})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Build(ctx, lg, client, report.Period{Since: since.Add(-time.Minute), Until: time.Now().Add(time.Minute)}, report.BuildOptions{})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if len(rep.Totals) != 1 {
		t.Fatalf("report totals: %+v, want one creditor and currency", rep.Totals)
	}
	tot := rep.Totals[0]
	// However many runs read the file, each of its rows counts once on the file side, and none
	// as already imported: nothing but the file itself brought them.
	if int64(tot.File) != want || tot.AlreadyImported != 0 || int64(tot.Registered) != want || tot.Balance() != 0 ||
		tot.Rejected != 0 || tot.Pending != 0 || tot.Conflicts != 0 {
		t.Errorf("report: %+v (balance %s); want file total = registered = %s, nothing else, balance 0", tot, tot.Balance(), ore(want))
	}
	t.Logf("totals: file %s SEK = ledger %s = report registered %s, balance %s", ore(want), ore(sum), tot.Registered, tot.Balance())
}

// writeProcConfig writes a config for a subprocess import against sb with a static token.
func writeProcConfig(t *testing.T, root string, sb *sandboxProc, rateLimit int, extra string) (cfg, db string) {
	t.Helper()
	cfg, db = filepath.Join(root, "amili-import.yaml"), filepath.Join(root, "ledger.db")
	tok := filepath.Join(root, "token")
	if err := os.WriteFile(tok, []byte("T\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`amili:
  base_url: %s
  account: %q
  creditor: %q
  auth:
    method: token
    token_file: %s
  timeout: 3s
  in_doubt_grace: 6s
  max_attempts: 5
  max_retry_time: 30s
  rate_limit_per_minute: %d
  burst: 5
ledger:
  path: %s
log:
  level: info
  format: json
`, sb.URL, sb.Account, sb.Creditor, tok, rateLimit, db)
	if err := os.WriteFile(cfg, []byte(body+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, db
}

// lastLines is the end of a long log, for failure messages.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
