package main

// SFTP faults end to end: the "run" verb imports a job whose source is an in-process SSH/SFTP
// server that drops every connection mid-listing, mid-download of the CSV, mid-download of the
// PDFs and mid-move to the archive. Each fault may stop a run; none may lose or duplicate an
// invoice, and the run after the faults completes with the file archived once.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/source/sftptest"
)

// sftpJob is a sandbox, an SFTP server over a temp dir holding generated invoices, and a config
// whose one job reads that server with a password.
type sftpJob struct {
	t        *testing.T
	srv      *amilitest.Server
	sftp     *sftptest.Server
	root     string // the SFTP server's root
	cfg, db  string
	invoices []genInvoice
}

func newSFTPJob(t *testing.T, opts amilitest.Options, n int, seed uint64, extraCfg string) *sftpJob {
	t.Helper()
	opts.Tokens = append(opts.Tokens, "sftp-token")
	srv := amilitest.NewServer(opts)
	t.Cleanup(srv.Close)
	j := &sftpJob{t: t, srv: srv, root: t.TempDir()}
	j.sftp = sftptest.New(t, j.root, sftptest.WithPassword("amili", "sftp-Pa55word-9f2c"))
	if err := os.MkdirAll(filepath.Join(j.root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		stage := filepath.Join(t.TempDir(), "stage")
		j.invoices = genInvoices(t, stage, "invoices.csv", "SF", n, rand.New(rand.NewPCG(seed, seed)))
		moveAll(t, stage, filepath.Join(j.root, "in"))
	}
	local := t.TempDir()
	j.cfg, j.db = filepath.Join(local, "amili-import.yaml"), filepath.Join(local, "ledger.db")
	secret := func(name, v string) string {
		p := filepath.Join(local, name)
		if err := os.WriteFile(p, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := tokenConfig(srv.URL, srv.Account, srv.Creditor, secret("token", "sftp-token"), j.db, "info") + fmt.Sprintf(`sftp:
  host: 127.0.0.1
  port: %d
  user: amili
  password_file: %s
  host_key: %q
  timeout: 5s
jobs:
  - name: sftp
    kind: invoice
    source:
      type: sftp
      dir: /in
      min_age: 1s
`, j.sftp.Port(), secret("sftp-password", "sftp-Pa55word-9f2c"), j.sftp.HostKeyLine())
	if err := os.WriteFile(j.cfg, []byte(cfg+extraCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return j
}

// run runs the job once in-process and returns its exit code and output.
func (j *sftpJob) run(extra ...string) (int, string, string) {
	var out, errb strings.Builder
	args := append([]string{"run", "--config", j.cfg, "--summary", "json"}, extra...)
	code := run(context.Background(), append(args, "sftp"), &out, &errb)
	return code, out.String(), errb.String()
}

func (j *sftpJob) registrations() int { return len(j.srv.Registrations()) }

// check asserts exactly-once at the sandbox, the PDFs on their own cases, the ledger final and
// the file archived once.
func (j *sftpJob) check() {
	t := j.t
	t.Helper()
	byNumber := map[string]genInvoice{}
	for _, inv := range j.invoices {
		byNumber[inv.Number] = inv
		if n := j.srv.RegistrationCount(j.srv.Creditor, inv.Number); n != 1 {
			t.Errorf("%s registered %d times, want 1", inv.Number, n)
		}
	}
	if n := j.registrations(); n != len(j.invoices) {
		t.Errorf("%d registrations, want %d", n, len(j.invoices))
	}
	for _, c := range j.srv.Cases() {
		ups := j.srv.Uploads(c.ID)
		if len(ups) == 0 {
			t.Errorf("case of %s has no PDF", c.Debt.InvoiceNumber)
		}
		for _, u := range ups {
			if u.SHA256 != byNumber[c.Debt.InvoiceNumber].PDFHash {
				t.Errorf("case of %s holds %s, not its own PDF", c.Debt.InvoiceNumber, u.Filename)
			}
		}
	}
	lg, err := ledger.Open(context.Background(), j.db, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	subs, err := lg.Submissions(context.Background(), ledger.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.State != ledger.StateUploaded {
			t.Errorf("ledger: %s is %s (%s), want uploaded", s.Items[0].InvoiceNumber, s.State, s.LastError)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(j.root, "in", "*.csv")); len(left) != 0 {
		t.Errorf("files still in the inbox: %v", left)
	}
	archived, _ := filepath.Glob(filepath.Join(j.root, "in", "archive", "*", "*.csv"))
	files := map[string]int{}
	for _, a := range archived {
		files[strings.SplitN(filepath.Base(a), ".", 2)[0]]++
	}
	for name, n := range files {
		if n != 1 {
			t.Errorf("%s archived %d times, want once", name, n)
		}
	}
	if len(files) != len(j.invoices)/20 && len(j.invoices)%20 == 0 {
		t.Errorf("archived files %v, want %d", archived, len(j.invoices)/20)
	}
}

func TestChaosSFTPDrops(t *testing.T) {
	seed := chaosSeed(t)
	j := newSFTPJob(t, amilitest.Options{}, 0, seed, "")
	rnd := rand.New(rand.NewPCG(seed, 7))
	faults := 0
	// Each fault gets a file of its own, put in the inbox just before its run.
	step := func(name string, arm func(csvSize int64)) {
		t.Helper()
		stage := filepath.Join(t.TempDir(), "stage")
		file := fmt.Sprintf("invoices-%d.csv", faults+1)
		invs := genInvoices(t, stage, file, fmt.Sprintf("SF%d", faults+1), 20, rnd)
		j.invoices = append(j.invoices, invs...)
		moveAll(t, stage, filepath.Join(j.root, "in"))
		st, err := os.Stat(filepath.Join(j.root, "in", file))
		if err != nil {
			t.Fatal(err)
		}
		before := j.registrations()
		arm(st.Size())
		faults++
		code, _, errText := j.run()
		t.Logf("%s: exit %d, %d registrations sent", name, code, j.registrations()-before)
		if strings.Contains(errText, "panic") {
			t.Fatalf("%s: panic:\n%s", name, errText)
		}
	}
	step("connection dropped mid-listing", func(int64) { j.sftp.DropOnList() })
	step("connection dropped mid-download of the CSV", func(n int64) { j.sftp.DropAfterReadBytes(n / 2) })
	step("connection dropped while the PDFs stream", func(n int64) { j.sftp.DropAfterReadBytes(n + 20_000) })
	step("connection dropped while the PDFs stream, later", func(n int64) { j.sftp.DropAfterReadBytes(n + 90_000) })
	step("connection dropped mid-move to the archive", func(int64) { j.sftp.DropOnRename() })
	step("every connection dropped between runs", func(int64) { j.sftp.DropConnections() })

	var code int
	var errText string
	for i := 0; i < 6; i++ {
		code, _, errText = j.run()
		t.Logf("run %d after the faults: exit %d", i+1, code)
		if code == exitOK {
			break
		}
	}
	if code != exitOK {
		t.Fatalf("no run completed after the faults; last exit %d:\n%s", code, lastLines(errText, 30))
	}
	before := j.registrations()
	if code, out, _ := j.run(); code != exitOK || j.registrations() != before {
		t.Errorf("the run after completion: exit %d, %d new registrations\n%s", code, j.registrations()-before, out)
	}
	j.check()
	t.Logf("SFTP faults injected: %d; invoices %d, registrations %d", faults, len(j.invoices), j.registrations())
}

// moveAll moves every file of from into to, dated an hour back so the source takes it at once.
func moveAll(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	// PDFs first: the CSV appears last, as an exporter writes it.
	for _, csvLast := range []bool{false, true} {
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".csv") != csvLast {
				continue
			}
			dst := filepath.Join(to, e.Name())
			if err := os.Rename(filepath.Join(from, e.Name()), dst); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(dst, old, old)
		}
	}
}

// The real OpenSSH sshd restarted between runs and in the middle of one: each run dials anew,
// a run cut by the restart leaves its rows for the next, and nothing is sent twice.
func TestChaosRealSSHDRestart(t *testing.T) {
	seed := chaosSeed(t)
	d := sftptest.StartSSHD(t)
	srv := amilitest.NewServer(amilitest.Options{Tokens: []string{"sshd-token"}, Faults: amilitest.Faults{UploadLatency: 60 * time.Millisecond}})
	t.Cleanup(srv.Close)
	local := t.TempDir()
	tok := filepath.Join(local, "token")
	os.WriteFile(tok, []byte("sshd-token\n"), 0o600)
	h := &harness{t: t, srv: srv, cfg: filepath.Join(local, "amili-import.yaml"), db: filepath.Join(local, "ledger.db")}
	inbox := filepath.Join(d.Dir, "in")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := tokenConfig(srv.URL, srv.Account, srv.Creditor, tok, h.db, "info") + fmt.Sprintf(`sftp:
  host: %s
  port: %d
  user: %s
  private_key_file: %s
  known_hosts: %s
  timeout: 5s
jobs:
  - name: sshd
    kind: invoice
    source:
      type: sftp
      dir: %s
      min_age: 1s
`, d.Host, d.Port, d.User, d.ClientKeyFile, d.KnownHostsFile, inbox)
	if err := os.WriteFile(h.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	runJob := func() int {
		code, _, errText := h.run(context.Background(), "run", "--config", h.cfg, "--summary", "json", "sshd")
		if strings.Contains(errText, "panic") {
			t.Fatalf("panic:\n%s", errText)
		}
		return code
	}
	rnd := rand.New(rand.NewPCG(seed, 9))
	var all []genInvoice
	drop := func(prefix string, n int) {
		stage := filepath.Join(t.TempDir(), "stage")
		all = append(all, genInvoices(t, stage, prefix+".csv", prefix, n, rnd)...)
		moveAll(t, stage, inbox)
	}

	drop("SSHA", 20)
	if code := runJob(); code != exitOK {
		t.Fatalf("first run: exit %d", code)
	}
	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	drop("SSHB", 20)
	if code := runJob(); code != exitOK {
		t.Fatalf("run after the restart: exit %d", code)
	}

	// A restart while a run streams 60 PDFs to slow uploads (60 ms each).
	drop("SSHC", 60)
	done := make(chan int)
	go func() { done <- runJob() }()
	time.Sleep(400 * time.Millisecond)
	at := len(srv.Registrations())
	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("sshd restarted with %d of %d registrations made; that run exited %d", at, len(all), <-done)
	code := -1
	for i := 0; i < 4 && code != exitOK; i++ {
		code = runJob()
	}
	if code != exitOK {
		t.Fatalf("no run completed after the restart: exit %d", code)
	}
	for _, inv := range all {
		if n := srv.RegistrationCount(srv.Creditor, inv.Number); n != 1 {
			t.Errorf("%s registered %d times, want 1", inv.Number, n)
		}
	}
	states := h.ledgerStates()
	if states[ledger.StateUploaded] != len(all) {
		t.Errorf("ledger states %v, want %d uploaded", states, len(all))
	}
	if left, _ := filepath.Glob(filepath.Join(inbox, "*.csv")); len(left) != 0 {
		t.Errorf("files still in the inbox: %v", left)
	}
}
