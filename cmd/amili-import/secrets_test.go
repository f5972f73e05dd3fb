package main

// Secrets and personal data never reach the output: the real binary runs a job over SFTP with a
// password, authenticates to the sandbox with a JWT signed by an EC key, imports a file with a
// refused personnummer and mails the report through SMTP with a password, all at debug level;
// then everything it printed and logged is searched for each secret and each full personal
// identity number of the files.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/mail/mailtest"
	"github.com/amili-import/amili-import/source/sftptest"
)

func TestSecretsNeverLogged(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	randHex := func(n int) string {
		b := make([]byte, n)
		rand.Read(b)
		return hex.EncodeToString(b)
	}

	// The secrets.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	apiCode := "code-" + randHex(12)
	sftpPassword := "sftp-" + randHex(10)
	smtpPassword := "smtp-" + randHex(10)

	sb := startSandbox(t, bin, "--api-key", "unused-"+randHex(8),
		"--jwt-key", apiCode+"="+write("jwt.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), 0o644))
	sftpRoot := t.TempDir()
	sftpSrv := sftptest.New(t, sftpRoot, sftptest.WithPassword("amili", sftpPassword))
	smtpSrv, err := mailtest.NewServer("reports@example.se", smtpPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpSrv.Close() })

	// The files: one over SFTP, one local with a personnummer whose check digit is wrong.
	rnd := mrand.New(mrand.NewPCG(11, 11))
	stage := filepath.Join(t.TempDir(), "stage")
	invs := genInvoices(t, stage, "invoices.csv", "SEC", 30, rnd)
	if err := os.MkdirAll(filepath.Join(sftpRoot, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	moveAll(t, stage, filepath.Join(sftpRoot, "in"))
	local := filepath.Join(t.TempDir(), "local")
	localInvs := genInvoices(t, local, "local.csv", "LOC", 3, rnd)
	badID := "19121212-1213" // Luhn fails: refused, and its error must not show it whole
	b, _ := os.ReadFile(filepath.Join(local, "local.csv"))
	lines := strings.Split(string(b), "\n")
	lines = append(lines[:len(lines)-1], fmt.Sprintf("BADID-1,2025-09-01,2025-10-01,SEK,Tolvan,%s,true,false,t@example.se,Line,1,100.00,100.00,25%%,BADID-1.pdf", badID), "")
	os.WriteFile(filepath.Join(local, "local.csv"), []byte(strings.Join(lines, "\n")), 0o644)
	os.WriteFile(filepath.Join(local, "BADID-1.pdf"), []byte("%PDF-1.4\n%%EOF\n"), 0o644)

	cfg := write("amili-import.yaml", fmt.Sprintf(`time_zone: UTC
amili:
  base_url: %s
  account: %q
  creditor: %q
  auth:
    method: jwt
    api_code_file: %s
    private_key_file: %s
  rate_limit_per_minute: 60000
  burst: 100
ledger:
  path: %s
log:
  level: debug
  format: json
sftp:
  host: 127.0.0.1
  port: %d
  user: amili
  password_file: %s
  host_key: %q
jobs:
  - name: sftp
    kind: invoice
    source:
      type: sftp
      dir: /in
      min_age: 1s
reports:
  - name: daily
    schedule: "0 6 * * *"
smtp:
  host: 127.0.0.1
  port: %d
  username: reports@example.se
  password_file: %s
  from: reports@example.se
  to: [finance@example.se]
  ca_file: %s
`, sb.URL, sb.Account, sb.Creditor, write("api-code", apiCode+"\n", 0o600), write("jwt.key", privPEM, 0o600),
		filepath.Join(dir, "ledger.db"), sftpSrv.Port(), write("sftp-password", sftpPassword+"\n", 0o600), sftpSrv.HostKeyLine(),
		smtpSrv.Port, write("smtp-password", smtpPassword+"\n", 0o600), write("smtp-ca.pem", string(smtpSrv.CertPEM), 0o600)), 0o600)

	var said strings.Builder
	runBin := func(want int, args ...string) {
		t.Helper()
		r := runProcess(t, bin, 0, args...)
		said.WriteString(r.stdout + "\n" + r.stderr + "\n")
		if r.code != want {
			t.Fatalf("%v: exit %d, want %d\n%s", args[0], r.code, want, lastLines(r.stderr, 20))
		}
	}
	runBin(exitOK, "run", "--config", cfg, "--log-level", "debug", "--summary", "json", "sftp")
	runBin(exitSomeRows, "import", "--config", cfg, "--log-level", "debug", filepath.Join(local, "local.csv"))
	today := time.Now().UTC().Format("2006-01-02")
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	runBin(exitOK, "report", "--config", cfg, "--log-level", "debug", "--since", today, "--until", tomorrow,
		"--out", filepath.Join(dir, "report"), "--send")
	if n := len(smtpSrv.Messages()); n != 1 || smtpSrv.Messages()[0].Auth != "reports@example.se" {
		t.Fatalf("SMTP got %d messages; want 1, authenticated", n)
	}
	st := sb.state(t)
	if len(st.IssuedTokens) == 0 {
		t.Fatal("the sandbox issued no token: the JWT flow was not used")
	}

	secrets := map[string]string{"API code": apiCode, "SFTP password": sftpPassword, "SMTP password": smtpPassword}
	for i, tok := range st.IssuedTokens {
		secrets[fmt.Sprintf("access token %d", i+1)] = tok
	}
	for i, l := range strings.Split(privPEM, "\n") {
		if len(l) >= 16 && !strings.HasPrefix(l, "-----") {
			secrets[fmt.Sprintf("private key line %d", i)] = l
		}
	}
	ids := []string{badID}
	for _, inv := range append(invs, localInvs...) {
		if inv.IDNumber[2] < '2' { // a personnummer (an organisationsnummer has month digits ≥ 20)
			ids = append(ids, inv.IDNumber)
		}
	}
	for _, id := range ids {
		digits := strings.ReplaceAll(id, "-", "")
		if len(digits) == 10 {
			secrets["personnummer "+id] = id
			secrets["personnummer (digits) "+id] = digits
			secrets["personnummer (12 digits) "+id] = "19" + id
		} else {
			secrets["personnummer "+id] = id
			secrets["personnummer (digits) "+id] = digits
			secrets["personnummer (10) "+id] = id[2:]
		}
	}
	out := said.String()
	for what, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the %s appears in the output", what)
		}
	}

	// The output is not empty: a debug line per API call, the SFTP connection, the refused row.
	calls := strings.Count(out, `"msg":"amili call"`)
	refused := `"invoice_number":"BADID-1","column":"customer.id_number"`
	if calls < 2*len(invs) || !strings.Contains(out, `"msg":"sftp connected"`) || !strings.Contains(out, refused) {
		t.Errorf("the logs are too thin to prove anything: %d API call lines for %d invoices, sftp connected %t, refused row %t",
			calls, len(invs), strings.Contains(out, "sftp connected"), strings.Contains(out, refused))
	}
	t.Logf("searched %d bytes of output (%d lines, %d API call lines) for %d secrets and personal identity numbers: none found",
		len(out), strings.Count(out, "\n"), calls, len(secrets))
}
