package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// ledgerFixture makes a ledger with one uploaded invoice (INV-1), one rejected case
// registration (D-1, D-2) and INV-9 held by two creditors.
func ledgerFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "amili-import.db")
	lg, err := ledger.Open(ctx, path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	run, _ := lg.StartRun(ctx, "main")
	file, _, _ := lg.BeginFile(ctx, run, ledger.FileRecord{Path: "in/invoices.csv", Size: 10, SHA256: "abc"})
	claim := func(kind domain.Kind, creditor string, items ...domain.Item) ledger.SubmissionID {
		c, err := lg.Claim(ctx, ledger.ClaimRequest{Run: run, File: file, Line: 2, Kind: kind, Creditor: creditor, Items: items})
		if err != nil || c.Outcome != ledger.ClaimNew {
			t.Fatalf("claim: %v %v", c.Outcome, err)
		}
		return c.Submission.ID
	}
	inv := claim(domain.KindInvoice, "cred-A", domain.Item{InvoiceNumber: "INV-1", Amount: 125050, Currency: "SEK", CustomerName: "Anna Andersson", PDF: "INV-1.pdf", ContentHash: "h1"})
	lg.MarkSending(ctx, inv, "")
	lg.MarkRegistered(ctx, inv, ledger.Registered{RegistrationID: "reg-77", InvoiceID: "inv-77", Cases: []ledger.CaseRef{{CaseID: "case-77", OCRNumber: "7701"}}})
	lg.MarkPDF(ctx, inv, 0, ledger.PDFUploaded, "")
	cs := claim(domain.KindCase, "cred-A",
		domain.Item{InvoiceNumber: "D-1", Amount: 1000, Currency: "SEK", ContentHash: "d1"},
		domain.Item{InvoiceNumber: "D-2", Amount: 2005, Currency: "SEK", ContentHash: "d2"})
	lg.MarkSending(ctx, cs, "")
	lg.MarkRejected(ctx, cs, "422 customer.id_number: invalid")
	claim(domain.KindInvoice, "cred-A", domain.Item{InvoiceNumber: "INV-9", Amount: 1, Currency: "SEK", ContentHash: "x"})
	claim(domain.KindInvoice, "cred-B", domain.Item{InvoiceNumber: "INV-9", Amount: 1, Currency: "SEK", ContentHash: "y"})
	return path
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestLedgerList(t *testing.T) {
	path := ledgerFixture(t)
	code, out, errOut := runCLI(t, "ledger", "list", "--ledger", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"STATE", "INVOICE NUMBERS", "INV-1", "uploaded", "1250.50 SEK", "D-1,D-2", "30.05 SEK", "rejected",
		"422 customer.id_number: invalid", "4 submissions", "in/invoices.csv:2"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCLI(t, "ledger", "list", "--state", "rejected", "--json", "--ledger", path)
	var subs []submissionJSON
	if err := json.Unmarshal([]byte(out), &subs); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	if len(subs) != 1 || subs[0].State != "rejected" || len(subs[0].Items) != 2 || subs[0].Items[1].AmountOre != 2005 {
		t.Errorf("rejected list = %+v", subs)
	}

	code, out, _ = runCLI(t, "ledger", "list", "--creditor", "cred-B", "--json", "--ledger", path)
	json.Unmarshal([]byte(out), &subs)
	if code != 0 || len(subs) != 1 || subs[0].Items[0].ContentHash != "y" {
		t.Errorf("creditor filter: exit %d, %+v", code, subs)
	}
	code, out, _ = runCLI(t, "ledger", "list", "--since", "2999-01-01", "--ledger", path)
	if code != 0 || !strings.Contains(out, "0 submissions") {
		t.Errorf("--since in the future: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "ledger", "list", "--state", "lost", "--ledger", path); code != 2 || !strings.Contains(errOut, "lost") {
		t.Errorf("bad state: exit %d, %s", code, errOut)
	}
}

func TestLedgerShow(t *testing.T) {
	path := ledgerFixture(t)
	code, out, errOut := runCLI(t, "ledger", "show", "INV-1", "--ledger", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"reg-77", "case-77", "7701", "Anna Andersson", "History:", "claimed from in/invoices.csv line 2",
		"sending", "registered reg-77", "pdf INV-1: uploaded", "every PDF handled"} {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}
	// The file is named by its path and when it was first seen, not by the ledger's row id.
	if !regexp.MustCompile(`File  +in/invoices\.csv, line 2 \(first seen \d{4}-\d\d-\d\dT`).MatchString(out) {
		t.Errorf("show output does not name the file by its path and date:\n%s", out)
	}
	if strings.Contains(out, "#1") {
		t.Errorf("show output names the file by its internal id:\n%s", out)
	}
	// The submission is named by its kind and invoice number, the run by its job and start.
	if !regexp.MustCompile(`Submission +invoice INV-1 \(id \d+\)\n`).MatchString(out) {
		t.Errorf("show output does not name the submission by its invoice number:\n%s", out)
	}
	if !regexp.MustCompile(`main, started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(run \d+\) +- +claimed`).MatchString(out) {
		t.Errorf("show output does not name the run by its job and start time:\n%s", out)
	}
	code, out, _ = runCLI(t, "ledger", "show", "--json", "--ledger", path, "D-2")
	var got struct {
		submissionJSON
		Events []eventJSON `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if got.State != "rejected" || len(got.Events) != 3 || got.Events[2].To != "rejected" || got.Events[0].From != "" {
		t.Errorf("show D-2 = %+v", got)
	}
	if got.File != "in/invoices.csv" || got.Events[0].Job != "main" || got.Events[0].RunStarted == nil {
		t.Errorf("show D-2 --json: file %q, first event job %q started %v; want the path and the run's job and start",
			got.File, got.Events[0].Job, got.Events[0].RunStarted)
	}

	if code, _, errOut := runCLI(t, "ledger", "show", "INV-9", "--ledger", path); code != 2 || !strings.Contains(errOut, "cred-A, cred-B") {
		t.Errorf("number of two creditors: exit %d, %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "ledger", "show", "INV-9", "--creditor", "cred-B", "--ledger", path); code != 0 || !strings.Contains(out, "cred-B") {
		t.Errorf("with --creditor: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "ledger", "show", "NOPE", "--ledger", path); code != 2 || !strings.Contains(errOut, `"NOPE" is not in the ledger`) {
		t.Errorf("unknown number: exit %d, %s", code, errOut)
	}
}

func TestLedgerBackupAndConfig(t *testing.T) {
	path := ledgerFixture(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "amili-import.yaml")
	if err := os.WriteFile(cfg, []byte("ledger:\n  path: "+path+"\n  busy_timeout: 2s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "copy.db")
	code, out, errOut := runCLI(t, "ledger", "backup", dst, "--config", cfg)
	if code != 0 || !strings.Contains(out, dst) {
		t.Fatalf("backup: exit %d, %s %s", code, out, errOut)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	code, out, errOut = runCLI(t, "ledger", "list", "--ledger", dst)
	if code != 0 || !strings.Contains(out, "4 submissions") {
		t.Errorf("list of the copy: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "ledger", "backup", dst, "--ledger", path); code == 0 {
		t.Errorf("backup over an existing file succeeded: %s", errOut)
	}
}

func TestLedgerUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	if code, _, errOut := runCLI(t, "ledger", "list", "--ledger", missing); code != 2 || !strings.Contains(errOut, "no ledger at "+missing) {
		t.Errorf("missing ledger: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("listing a missing ledger created it")
	}
	for _, args := range [][]string{{"ledger"}, {"ledger", "frob"}, {"ledger", "show"}, {"ledger", "list", "extra"}} {
		if code, _, errOut := runCLI(t, args...); code != 2 || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}

// TestLedgerSinceIsMidnightInTimeZone: a date given to ledger --since is midnight in the
// config's time_zone, as the report's --since is, so the two verbs read a date the same way.
func TestLedgerSinceIsMidnightInTimeZone(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	db := filepath.Join(dir, "l.db")
	if err := os.WriteFile(cfg, []byte("time_zone: Pacific/Pago_Pago\nledger:\n  path: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("ledger", flag.ContinueOnError)
	fs.String("config", "", "")
	if err := fs.Parse([]string{"--config", cfg}); err != nil {
		t.Fatal(err)
	}
	_, _, loc, err := ledgerPath(ledgerFlags{config: cfg}, fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseReportTime("2026-03-28", loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 28, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("--since 2026-03-28 in Pacific/Pago_Pago: got %s, want %s", got.UTC(), want)
	}
	if !strings.Contains(ledgerUsage, "midnight in time_zone") || strings.Contains(ledgerUsage, "UTC") {
		t.Errorf("ledger -h does not say dates are midnight in time_zone:\n%s", ledgerUsage)
	}
}

// TestLedgerShowNamesLaterConflictingFiles: when a later file brings the same invoice number
// with other content, show says which file, line and why, beside the history.
func TestLedgerShowNamesLaterConflictingFiles(t *testing.T) {
	path := ledgerFixture(t)
	ctx := context.Background()
	lg, err := ledger.Open(ctx, path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := lg.StartRun(ctx, "main")
	file, _, _ := lg.BeginFile(ctx, run, ledger.FileRecord{Path: "in/invoices-again.csv", Size: 11, SHA256: "def"})
	c, err := lg.Claim(ctx, ledger.ClaimRequest{Run: run, File: file, Line: 7, Kind: domain.KindInvoice, Creditor: "cred-A",
		Items: []domain.Item{{InvoiceNumber: "INV-1", Amount: 99900, Currency: "SEK", ContentHash: "h2"}}})
	if err != nil || c.Outcome != ledger.ClaimConflict {
		t.Fatalf("claim: %v %v, want a conflict", c.Outcome, err)
	}
	lg.Close()
	code, out, errOut := runCLI(t, "ledger", "show", "INV-1", "--ledger", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Conflicts:", "in/invoices-again.csv:7"} {
		if !strings.Contains(out, want) {
			t.Errorf("show output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "ledger", "show", "INV-1", "--json", "--ledger", path)
	var got showJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	if len(got.Conflicts) != 1 || got.Conflicts[0].File != "in/invoices-again.csv" || got.Conflicts[0].Line != 7 || got.Conflicts[0].Reason == "" {
		t.Errorf("show --json conflicts = %+v, want in/invoices-again.csv line 7 with its reason", got.Conflicts)
	}
}

// TestLedgerListRejectedIncludesRowsRefusedByValidation: rows that never reached Amili because
// validation refused them are listed with the rejected state, file and line named; warnings
// (rows kept) are not, and no identity number is printed in full.
func TestLedgerListRejectedIncludesRowsRefusedByValidation(t *testing.T) {
	path := ledgerFixture(t)
	ctx := context.Background()
	lg, err := ledger.Open(ctx, path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	run, _ := lg.StartRun(ctx, "main")
	file, _, _ := lg.BeginFile(ctx, run, ledger.FileRecord{Path: "in/bad.csv", Size: 12, SHA256: "bad"})
	if err := lg.RecordRowErrors(ctx, file, []domain.RowError{
		{File: "in/bad.csv", Line: 3, Column: "customer.id_number", Value: "19121212-1212", Rule: "identity number: check digit is wrong (Luhn)", InvoiceNumber: "INV-3"},
		{File: "in/bad.csv", Line: 4, Column: "customer.id_number", Value: "x", Rule: "kept under warn", InvoiceNumber: "INV-4", Warning: true},
	}); err != nil {
		t.Fatal(err)
	}
	lg.Close()
	code, out, errOut := runCLI(t, "ledger", "list", "--state", "rejected", "--ledger", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"422 customer.id_number: invalid", "in/bad.csv:3", "INV-3", "check digit is wrong", "19121212-****", "1 row refused by validation"} {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"19121212-1212", "INV-4", "kept under warn"} {
		if strings.Contains(out, bad) {
			t.Errorf("list output contains %q:\n%s", bad, out)
		}
	}
	code, out, _ = runCLI(t, "ledger", "list", "--state", "uploaded", "--ledger", path)
	if code != 0 || strings.Contains(out, "in/bad.csv") {
		t.Errorf("--state uploaded lists validation refusals: exit %d\n%s", code, out)
	}

	// --json lists them too, each entry saying where its state comes from.
	code, out, _ = runCLI(t, "ledger", "list", "--state", "rejected", "--json", "--ledger", path)
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	var sources []string
	for _, e := range entries {
		sources = append(sources, e["source"].(string))
	}
	if strings.Join(sources, ",") != "amili,validation" {
		t.Fatalf("--json sources %v, want the rejected submission (amili) then the refused row (validation):\n%s", sources, out)
	}
	got := entries[1]
	want := map[string]any{"state": "rejected", "file": "in/bad.csv", "line": 3.0, "invoice_number": "INV-3",
		"column": "customer.id_number", "value": "19121212-****"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("refused row %s = %v, want %v", k, got[k], v)
		}
	}
	if strings.Contains(out, "19121212-1212") || strings.Contains(out, "INV-4") {
		t.Errorf("--json shows a whole identity number or a warning:\n%s", out)
	}
	if entries[0]["file"] != "in/invoices.csv" {
		t.Errorf("rejected submission file = %v, want in/invoices.csv", entries[0]["file"])
	}

	// show knows a number that validation refused, though no submission holds it.
	code, out, errOut = runCLI(t, "ledger", "show", "INV-3", "--ledger", path)
	if code != 0 || !strings.Contains(out, "never sent") || !strings.Contains(out, "in/bad.csv:3") || !strings.Contains(out, "validation") {
		t.Errorf("show INV-3: exit %d %s\n%s", code, errOut, out)
	}
}

// TestLedgerVerbsNeedOnlyLedgerSettings: the ledger verbs read the config's ledger block only,
// so a ${VAR} of an unrelated key (an SMTP host, an API code set for the service) that is unset
// in an operator's shell does not keep them from opening the ledger; one in ledger.path does.
func TestLedgerVerbsNeedOnlyLedgerSettings(t *testing.T) {
	path := ledgerFixture(t)
	cfg := filepath.Join(t.TempDir(), "amili-import.yaml")
	write := func(ledgerPath string) {
		t.Helper()
		yaml := "amili:\n  base_url: ${AMILI_TEST_UNSET_BASE_URL}\n  auth:\n    api_code_file: ${AMILI_TEST_UNSET_DIR}/code\n" +
			"smtp:\n  host: ${AMILI_TEST_UNSET_SMTP_HOST}\n  from: a@example.se\n  to: [b@example.se]\n" +
			"ledger:\n  path: " + ledgerPath + "\n  busy_timeout: 2s\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(path)
	code, out, errOut := runCLI(t, "ledger", "list", "--config", cfg)
	if code != 0 || !strings.Contains(out, "4 submissions") {
		t.Errorf("ledger list with unrelated ${VAR}s unset: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "ledger", "show", "INV-1", "--config", cfg)
	if code != 0 || !strings.Contains(out, "INV-1") {
		t.Errorf("ledger show with unrelated ${VAR}s unset: exit %d\n%s%s", code, out, errOut)
	}
	write("${AMILI_TEST_UNSET_LEDGER}/ledger.db")
	code, _, errOut = runCLI(t, "ledger", "list", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "${AMILI_TEST_UNSET_LEDGER} is not set") {
		t.Errorf("ledger.path with an unset ${VAR}: exit %d, want 2 naming it:\n%s", code, errOut)
	}
}
