package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/source/sftptest"
)

// TestCheckLegacySSHD: against an sshd offering only SHA-1 key exchange and ssh-rsa host-key
// signatures, check fails naming sftp.legacy_algorithms; with legacy_algorithms: true in a
// job's sftp block it reaches the source.
func TestCheckLegacySSHD(t *testing.T) {
	d := sftptest.StartSSHDWith(t, sftptest.SSHDOptions{
		Config: "KexAlgorithms diffie-hellman-group14-sha1\nHostKeyAlgorithms ssh-rsa\n",
	})
	srv := amilitest.NewServer(amilitest.Options{Tokens: []string{"sshd-token"}})
	t.Cleanup(srv.Close)
	local := t.TempDir()
	tok := filepath.Join(local, "token")
	if err := os.WriteFile(tok, []byte("sshd-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(local, "known_hosts")
	if err := os.WriteFile(kh, []byte(sftptest.KnownHostsLine(d.Host, d.Port, d.HostKeys["ssh-rsa"])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, cfg: filepath.Join(local, "amili-import.yaml"), db: filepath.Join(local, "ledger.db")}
	write := func(jobSFTP string) {
		cfg := tokenConfig(srv.URL, srv.Account, srv.Creditor, tok, h.db, "warn") + fmt.Sprintf(`sftp:
  host: %s
  port: %d
  user: %s
  private_key_file: %s
  known_hosts: %s
jobs:
  - name: invoices
    source:
      type: sftp
      dir: %s
%s`, d.Host, d.Port, d.User, d.ClientKeyFile, kh, d.Dir, jobSFTP)
		if err := os.WriteFile(h.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	code, out, errText := h.run(context.Background(), "check", "--config", h.cfg)
	if code == exitOK || !strings.Contains(out+errText, "sftp.legacy_algorithms") {
		t.Fatalf("check against a SHA-1-only server: exit %d, want a failure naming sftp.legacy_algorithms\nstdout:\n%s\nstderr:\n%s", code, out, errText)
	}
	write("      sftp:\n        legacy_algorithms: true\n")
	if code, out, errText := h.run(context.Background(), "check", "--config", h.cfg); code != exitOK {
		t.Fatalf("check with legacy_algorithms: exit %d\nstdout:\n%s\nstderr:\n%s\nsshd log:\n%s", code, out, errText, d.Log())
	}
}
