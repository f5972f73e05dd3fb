package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/ledger"
)

// samplesDir is the repository's samples, copied before every use so tests never change them.
const samplesDir = "../../samples"

// harness is one end-to-end setup: a sandbox, a config pointing at it, a temp ledger and a
// temp copy of the samples.
type harness struct {
	t   *testing.T
	srv *amilitest.Server
	dir string // the samples' copy
	cfg string // config file
	db  string // ledger file
}

func newHarness(t *testing.T, opts amilitest.Options) *harness {
	t.Helper()
	opts.Tokens = append(opts.Tokens, "e2e-token")
	srv := amilitest.NewServer(opts)
	t.Cleanup(srv.Close)
	root := t.TempDir()
	h := &harness{t: t, srv: srv, dir: filepath.Join(root, "in"), cfg: filepath.Join(root, "amili-import.yaml"), db: filepath.Join(root, "ledger.db")}
	copyDir(t, samplesDir, h.dir)
	if err := os.WriteFile(filepath.Join(root, "token"), []byte("e2e-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.writeConfig(srv.Creditor, "")
	return h
}

// tokenConfig is the amili, ledger and log sections the in-process tests start their config
// with: a static token file, two attempts, and a rate limit high enough never to hold a test up.
func tokenConfig(baseURL, account, creditor, tokenFile, db, logLevel string) string {
	return fmt.Sprintf(`amili:
  base_url: %s
  account: %q
  creditor: %q
  auth:
    method: token
    token_file: %s
  max_attempts: 2
  rate_limit_per_minute: 60000
  burst: 100
ledger:
  path: %s
log:
  level: %s
  format: json
`, baseURL, account, creditor, tokenFile, db, logLevel)
}

// writeConfig writes the config with creditor and extra YAML appended.
func (h *harness) writeConfig(creditor, extra string) {
	h.t.Helper()
	cfg := tokenConfig(h.srv.URL, h.srv.Account, creditor, filepath.Join(filepath.Dir(h.cfg), "token"), h.db, "warn")
	if err := os.WriteFile(h.cfg, []byte(cfg+extra), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// run runs the CLI in-process and returns its exit code, stdout and stderr.
func (h *harness) run(ctx context.Context, args ...string) (int, string, string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// importFiles runs "import --config … --summary json FILE…" and decodes the summary.
func (h *harness) importFiles(extra []string, files ...string) (int, summaryJSON, string) {
	h.t.Helper()
	args := append([]string{"import", "--config", h.cfg, "--summary", "json"}, extra...)
	for _, f := range files {
		args = append(args, filepath.Join(h.dir, f))
	}
	code, out, errText := h.run(context.Background(), args...)
	var s summaryJSON
	if code != exitNoStart {
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			h.t.Fatalf("summary is not JSON: %v\nstdout:\n%s\nstderr:\n%s", err, out, errText)
		}
	}
	return code, s, errText
}

// summaryJSON is the part of the JSON summary the tests read.
type summaryJSON struct {
	Rows            int            `json:"rows"`
	Registrations   int            `json:"registrations"`
	Registered      int            `json:"registered"`
	PDFsAttached    int            `json:"pdfs_attached"`
	NoPDF           int            `json:"no_pdf"`
	AlreadyImported int            `json:"already_imported"`
	SameFile        int            `json:"same_file_already_imported"`
	Conflicts       int            `json:"conflicts"`
	Rejected        int            `json:"rejected"`
	InDoubtResolved int            `json:"in_doubt_resolved"`
	Failed          int            `json:"failed"`
	APICalls        int64          `json:"api_calls"`
	Reasons         map[string]int `json:"rejection_reasons"`
	AllDone         bool           `json:"all_done"`
	Files           []struct {
		Name    string `json:"name"`
		Outcome string `json:"outcome"`
	} `json:"files"`
}

// registrationCalls is how many registration POSTs the sandbox has received.
func (h *harness) registrationCalls() int {
	c := h.srv.Calls()
	return c["POST /invoice--registrations"] + c["POST /case--registrations"]
}

// caseOf returns the sandbox's cases by invoice number.
func (h *harness) casesByInvoice() map[string][]string {
	out := map[string][]string{}
	for _, c := range h.srv.Cases() {
		out[c.Debt.InvoiceNumber] = append(out[c.Debt.InvoiceNumber], c.ID)
	}
	return out
}

// ledgerStates counts the ledger's submissions by state.
func (h *harness) ledgerStates() map[ledger.State]int {
	h.t.Helper()
	lg, err := ledger.Open(context.Background(), h.db, ledger.Options{ReadOnly: true})
	if err != nil {
		h.t.Fatal(err)
	}
	defer lg.Close()
	subs, err := lg.Submissions(context.Background(), ledger.SubmissionFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[ledger.State]int{}
	for _, s := range subs {
		out[s.State]++
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatalf("samples: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func sha256File(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
