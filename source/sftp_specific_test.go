package source_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

var old = time.Now().Add(-2 * time.Hour).Truncate(time.Second)

func dial(t *testing.T, cfg source.SFTPConfig, opts source.Options) (*source.SFTP, error) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = "/in"
	}
	src, err := source.DialSFTP(context.Background(), cfg, opts)
	if err == nil {
		t.Cleanup(func() { src.Close() })
	}
	return src, err
}

func otherKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	k, err := sftptest.NewClientKey("")
	if err != nil {
		t.Fatal(err)
	}
	return k.Public
}

func TestSFTPHostKeyRefusals(t *testing.T) {
	srv, key, root := inProcess(t)
	if err := mkdir(filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	wrong := otherKey(t)
	writeKH := func(lines ...string) string {
		p := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name        string
		hostKey, kh string
		changed     bool
	}{
		{"PinnedLineMismatch", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(wrong))), "", true},
		{"PinnedFingerprintMismatch", ssh.FingerprintSHA256(wrong), "", true},
		{"UnknownInKnownHosts", "", writeKH(sftptest.KnownHostsLine("127.0.0.1", 1, srv.HostKey())), false},
		{"ChangedInKnownHosts", "", writeKH(sftptest.KnownHostsLine(srv.Host(), srv.Port(), wrong)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pinned(srv, key)
			cfg.HostKey, cfg.KnownHostsFile = tt.hostKey, tt.kh
			_, err := dial(t, cfg, source.Options{})
			if err == nil {
				t.Fatal("connected despite the wrong host key")
			}
			var hk *source.HostKeyError
			if !errors.As(err, &hk) {
				t.Fatalf("err = %v, want a HostKeyError", err)
			}
			if hk.Changed != tt.changed {
				t.Errorf("Changed = %v, want %v", hk.Changed, tt.changed)
			}
			for _, want := range []string{srv.Fingerprint(), "sftp.host_key", "ssh-keyscan -p"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			// The hint names the known_hosts file the config uses, not OpenSSH's default.
			if tt.kh != "" {
				if !strings.HasSuffix(err.Error(), ">> "+tt.kh) {
					t.Errorf("error %q does not end with >> %s", err, tt.kh)
				}
				if strings.Contains(err.Error(), "~/.ssh/known_hosts") {
					t.Errorf("error %q names ~/.ssh/known_hosts, not the configured %s", err, tt.kh)
				}
				if tt.changed && !strings.Contains(err.Error(), "-f "+tt.kh+")") {
					t.Errorf("error %q does not say which file to remove the old entry from", err)
				}
			}
		})
	}
	t.Run("NoHostKeyConfig", func(t *testing.T) {
		cfg := pinned(srv, key)
		cfg.HostKey = ""
		_, err := dial(t, cfg, source.Options{})
		if err == nil || !strings.Contains(err.Error(), "sftp.known_hosts") {
			t.Fatalf("err = %v, want a refusal naming sftp.known_hosts", err)
		}
	})
	t.Run("PinnedFingerprintMatches", func(t *testing.T) {
		cfg := pinned(srv, key)
		cfg.HostKey = srv.Fingerprint()
		if _, err := dial(t, cfg, source.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("KnownHostsMatches", func(t *testing.T) {
		cfg := pinned(srv, key)
		cfg.HostKey, cfg.KnownHostsFile = "", writeKH(srv.KnownHostsLine())
		if _, err := dial(t, cfg, source.Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSFTPOpenSSHHostKeyAlgorithms: sshd offers RSA, ECDSA and Ed25519 host keys; with only
// one of them in known_hosts the client must ask for that one.
func TestSFTPOpenSSHHostKeyAlgorithms(t *testing.T) {
	sshd := sftptest.StartSSHD(t)
	for typ, key := range sshd.HostKeys {
		t.Run(typ, func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(kh, []byte(sftptest.KnownHostsLine(sshd.Host, sshd.Port, key)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := source.SFTPConfig{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
				PrivateKey: sshd.ClientKey.PEM, KnownHostsFile: kh, Timeout: 5 * time.Second}
			if _, err := dial(t, cfg, source.Options{Dir: sshd.Dir}); err != nil {
				t.Fatalf("known_hosts with only %s: %v", typ, err)
			}
		})
	}
	t.Run("ChangedKey", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		line := sftptest.KnownHostsLine(sshd.Host, sshd.Port, otherKey(t))
		if err := os.WriteFile(kh, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := source.SFTPConfig{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
			PrivateKey: sshd.ClientKey.PEM, KnownHostsFile: kh, Timeout: 5 * time.Second}
		_, err := dial(t, cfg, source.Options{Dir: sshd.Dir})
		var hk *source.HostKeyError
		if !errors.As(err, &hk) || !hk.Changed {
			t.Fatalf("err = %v, want a changed-host-key refusal", err)
		}
	})
}

func TestSFTPAuth(t *testing.T) {
	srv, key, root := inProcess(t)
	if err := mkdir(filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	base := pinned(srv, key)
	base.PrivateKey = nil
	t.Run("Password", func(t *testing.T) {
		cfg := base
		cfg.Password = "s3cret-pw"
		src, err := dial(t, cfg, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d := src.Describe(); strings.Contains(d, "s3cret") || d != "sftp://amili@"+srv.Addr()+"/in" {
			t.Errorf("Describe = %q, want sftp://amili@%s/in without the password", d, srv.Addr())
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		cfg := base
		cfg.Password = "wrong"
		if _, err := dial(t, cfg, source.Options{}); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("err = %v, want authentication refused", err)
		}
	})
	t.Run("Key", func(t *testing.T) {
		cfg := base
		cfg.PrivateKey = key.PEM
		if _, err := dial(t, cfg, source.Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("UnknownKey", func(t *testing.T) {
		other, err := sftptest.NewClientKey("")
		if err != nil {
			t.Fatal(err)
		}
		cfg := base
		cfg.PrivateKey = other.PEM
		if _, err := dial(t, cfg, source.Options{}); err == nil {
			t.Fatal("connected with an unauthorized key")
		}
	})
	t.Run("EncryptedKey", func(t *testing.T) {
		enc, err := sftptest.NewClientKey("pass phrase")
		if err != nil {
			t.Fatal(err)
		}
		srv2 := sftptest.New(t, root, sftptest.WithAuthorizedKey(enc.Public))
		cfg := pinned(srv2, enc)
		if _, err := dial(t, cfg, source.Options{}); err == nil || !strings.Contains(err.Error(), "passphrase") {
			t.Fatalf("without passphrase: err = %v, want it to ask for the passphrase", err)
		}
		cfg.PrivateKeyPassphrase = []byte("pass phrase")
		if _, err := dial(t, cfg, source.Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSFTPDropMidDownload(t *testing.T) {
	srv, key, root := inProcess(t)
	want := make([]byte, 4<<20)
	_, _ = rand.Read(want)
	writeFile(t, filepath.Join(root, "in", "big.csv"), string(want), old)
	src, err := dial(t, pinned(srv, key), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.DropAfterReadBytes(1 << 20)
	rc, err := src.Open(context.Background(), "big.csv")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil {
		t.Fatalf("read %d of %d bytes without an error", len(got), len(want))
	}
	if len(got) >= len(want) {
		t.Fatalf("read %d bytes, expected the drop to cut it short", len(got))
	}
	rc, err = src.Open(context.Background(), "big.csv")
	if err != nil {
		t.Fatalf("Open after the drop: %v", err)
	}
	got, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read after reconnect: %d bytes, err %v; want all %d", len(got), err, len(want))
	}
}

func TestSFTPDropMidRename(t *testing.T) {
	srv, key, root := inProcess(t)
	writeFile(t, filepath.Join(root, "in", "inv.csv"), "content", old)
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	src, err := dial(t, pinned(srv, key), source.Options{Now: func() time.Time { return now }, Location: time.UTC,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.DropOnRename()
	got, err := src.Archive(context.Background(), "inv.csv")
	if err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if !strings.Contains(log.String(), "rename completed before the connection was lost") {
		t.Errorf("log = %q, want the lost rename found at its target", log.String())
	}
	if got != "/in/archive/2026-05-04/inv.csv" {
		t.Errorf("Archive = %q, want /in/archive/2026-05-04/inv.csv", got)
	}
	var found []string
	_ = filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			found = append(found, strings.TrimPrefix(p, root))
		}
		return nil
	})
	if len(found) != 1 || found[0] != "/in/archive/2026-05-04/inv.csv" {
		t.Errorf("files after the drop = %q, want exactly /in/archive/2026-05-04/inv.csv", found)
	}
}

func TestSFTPDropMidListing(t *testing.T) {
	srv, key, root := inProcess(t)
	writeFile(t, filepath.Join(root, "in", "a.csv"), "a", old)
	var log bytes.Buffer
	src, err := dial(t, pinned(srv, key), source.Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.DropOnList()
	l, err := src.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if files := l.Files; len(files) != 1 || files[0].Name != "a.csv" {
		t.Errorf("List = %+v, want a.csv", l.Files)
	}
	if !strings.Contains(log.String(), "reconnecting") {
		t.Errorf("log = %q, want the dropped listing retried on a new connection", log.String())
	}
}

func TestSFTPTimeout(t *testing.T) {
	srv, key, root := inProcess(t)
	writeFile(t, filepath.Join(root, "in", "a.csv"), "a", old)
	cfg := pinned(srv, key)
	cfg.Timeout = 300 * time.Millisecond
	source.SetBackoff(10 * time.Millisecond)
	defer source.SetBackoff(500 * time.Millisecond)
	src, err := dial(t, cfg, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetLatency(time.Second) // every answer now arrives after the timeout
	if _, err := src.List(context.Background()); err == nil {
		t.Fatal("List succeeded though every answer came after the timeout")
	}
	if _, err := dial(t, cfg, source.Options{}); err == nil {
		t.Fatal("connected though the SFTP handshake took longer than the timeout")
	}
	srv.SetLatency(0)
	l, err := src.List(context.Background())
	if err != nil || len(l.Files) != 1 {
		t.Fatalf("List once the server is fast again = %v, %v; want a.csv", l.Files, err)
	}
}

func TestSFTPAgentAuth(t *testing.T) {
	srv, key, root := inProcess(t)
	if err := mkdir(filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(key.PEM)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	cfg := pinned(srv, key)
	cfg.PrivateKey, cfg.UseAgent = nil, true
	if _, err := dial(t, cfg, source.Options{}); err != nil {
		t.Fatalf("agent auth: %v", err)
	}
	if err := keyring.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, cfg, source.Options{}); err == nil {
		t.Fatal("connected with an empty agent")
	}
}

func TestSFTPKeepalive(t *testing.T) {
	srv, key, root := inProcess(t)
	if err := mkdir(filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	cfg := pinned(srv, key)
	cfg.Keepalive = 20 * time.Millisecond
	if _, err := dial(t, cfg, source.Options{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Keepalives() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.Keepalives(); got < 3 {
		t.Errorf("server saw %d keepalives, want them sent every interval", got)
	}
}

// A server holding reads to 16 KiB, as it tells in limits@openssh.com, still delivers a
// multi-megabyte file whole, as a bulk file and as a PDF stream.
func TestSFTPServerReadLimit(t *testing.T) {
	srv, key, root := inProcess(t, sftptest.WithLimits(sftptest.Limits{
		MaxPacket: 20 * 1024, MaxRead: 16 * 1024, MaxWrite: 16 * 1024, MaxHandles: 64,
	}))
	want := make([]byte, 5<<20+123)
	_, _ = rand.Read(want)
	writeFile(t, filepath.Join(root, "in", "big.csv"), string(want), old)
	writeFile(t, filepath.Join(root, "in", "big.pdf"), string(want), old)
	src, err := dial(t, pinned(srv, key), source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(context.Context, string) (io.ReadCloser, error){
		"big.csv": src.Open, "big.pdf": src.OpenPDF,
	} {
		rc, err := open(context.Background(), name)
		if err != nil {
			t.Fatalf("Open %s: %v", name, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: read %d bytes, err %v; want all %d, byte-identical", name, len(got), err, len(want))
		}
	}
}

// TestSFTPOpenSSHLegacyAlgorithms: a server offering only what OpenSSH 9's client refuses
// (SHA-1 key exchange, SHA-1 ssh-rsa signatures) is refused with an error naming
// sftp.legacy_algorithms, and accepted with LegacyAlgorithms set.
func TestSFTPOpenSSHLegacyAlgorithms(t *testing.T) {
	tests := []struct {
		name   string
		config string
	}{
		{"KexSHA1", "KexAlgorithms diffie-hellman-group14-sha1\n"},
		{"HostKeySHA1", "HostKeyAlgorithms ssh-rsa\n"},
		{"PubkeySHA1", "PubkeyAcceptedAlgorithms ssh-rsa\n"},
		{"AllSHA1", "KexAlgorithms diffie-hellman-group14-sha1\nHostKeyAlgorithms ssh-rsa\nPubkeyAcceptedAlgorithms ssh-rsa\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sshd := sftptest.StartSSHDWith(t, sftptest.SSHDOptions{Config: tt.config, RSAClientKey: true})
			cfg := source.SFTPConfig{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
				PrivateKey: sshd.ClientKey.PEM, Timeout: 5 * time.Second,
				HostKey: string(ssh.MarshalAuthorizedKey(sshd.HostKeys[ssh.KeyAlgoRSA]))}
			start := time.Now()
			_, err := dial(t, cfg, source.Options{Dir: sshd.Dir})
			if err == nil {
				t.Fatal("connected to a server offering only SHA-1 algorithms; want a refusal")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), "sftp.legacy_algorithms") {
				t.Fatalf("err = %v; want it to name sftp.legacy_algorithms", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("refusal took %v; want no retries", d)
			}
			cfg.LegacyAlgorithms = true
			src, err := dial(t, cfg, source.Options{Dir: sshd.Dir})
			if err != nil {
				t.Fatalf("with LegacyAlgorithms: %v\nsshd log:\n%s", err, sshd.Log())
			}
			if _, err := src.List(context.Background()); err != nil {
				t.Fatalf("List with LegacyAlgorithms: %v", err)
			}
		})
	}
}

// TestSFTPLegacyAlgorithmsInProcess: the same against the in-process server.
func TestSFTPLegacyAlgorithmsInProcess(t *testing.T) {
	srv, key, root := inProcess(t, sftptest.WithLegacySHA1())
	if err := mkdir(filepath.Join(root, "in")); err != nil {
		t.Fatal(err)
	}
	cfg := pinned(srv, key)
	_, err := dial(t, cfg, source.Options{})
	if err == nil || !strings.Contains(err.Error(), "sftp.legacy_algorithms") {
		t.Fatalf("err = %v; want a refusal naming sftp.legacy_algorithms", err)
	}
	cfg.LegacyAlgorithms = true
	if _, err := dial(t, cfg, source.Options{}); err != nil {
		t.Fatalf("with LegacyAlgorithms: %v", err)
	}
}

// TestSFTPOpenSSHNoCBC: CBC and 3DES ciphers are never offered, not even with
// LegacyAlgorithms.
func TestSFTPOpenSSHNoCBC(t *testing.T) {
	sshd := sftptest.StartSSHDWith(t, sftptest.SSHDOptions{Config: "Ciphers aes128-cbc,aes256-cbc,3des-cbc\n"})
	for _, legacy := range []bool{false, true} {
		cfg := source.SFTPConfig{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
			PrivateKey: sshd.ClientKey.PEM, KnownHostsFile: sshd.KnownHostsFile, Timeout: 5 * time.Second,
			LegacyAlgorithms: legacy}
		_, err := dial(t, cfg, source.Options{Dir: sshd.Dir})
		if err == nil || !strings.Contains(err.Error(), "cipher") {
			t.Errorf("legacy %v: err = %v; want a refusal for want of a common cipher", legacy, err)
		}
	}
}
