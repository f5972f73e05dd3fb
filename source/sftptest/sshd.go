package sftptest

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/amili-import/amili-import/internal/syncbuf"
	"golang.org/x/crypto/ssh"
)

// SSHDPath is where StartSSHD looks for OpenSSH's server.
const SSHDPath = "/usr/sbin/sshd"

// SSHD is a running OpenSSH sshd on 127.0.0.1 with its own configuration, host key and one
// authorized client key. Paths on it are the machine's own; Dir is a fresh directory for the
// test's files.
type SSHD struct {
	Host    string
	Port    int
	User    string
	Dir     string        // a temp directory for test data (absolute, also the remote path)
	HostKey ssh.PublicKey // the server's ed25519 host key
	// HostKeys holds all of the server's host keys by type (ssh-ed25519, ecdsa-sha2-nistp256,
	// ssh-rsa): with several on offer, a client must ask for the one it can verify.
	HostKeys       map[string]ssh.PublicKey
	ClientKey      ClientKey
	ClientKeyFile  string // the client's private key, mode 0600, for OpenSSH's own clients
	KnownHostsFile string // a known_hosts file holding HostKey for [Host]:Port

	config string // sshd_config, for Restart
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *syncbuf.Buffer
}

// Addr is host:port.
func (d *SSHD) Addr() string { return net.JoinHostPort(d.Host, portString(d.Port)) }

// SSHDOptions adjusts the sshd that StartSSHDWith starts.
type SSHDOptions struct {
	// Config is extra sshd_config text. It comes first, and sshd keeps the first value of a
	// keyword, so it wins over the defaults (KexAlgorithms, HostKeyAlgorithms, …).
	Config string
	// RSAClientKey makes the authorized client key an RSA key instead of ed25519.
	RSAClientKey bool
}

// StartSSHD starts sshd for the test and stops it on cleanup. Without /usr/sbin/sshd the test
// is skipped, except under CI=true, where it fails.
func StartSSHD(tb TB) *SSHD {
	tb.Helper()
	return StartSSHDWith(tb, SSHDOptions{})
}

// StartSSHDWith is StartSSHD with a configuration of the test's own.
func StartSSHDWith(tb TB, o SSHDOptions) *SSHD {
	tb.Helper()
	if _, err := os.Stat(SSHDPath); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("sftptest: OpenSSH server missing (%v); CI must install openssh-server", err)
		}
		tb.Skipf("sftptest: %s not installed", SSHDPath)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		d, err := startSSHD(tb.TempDir(), o)
		if err == nil {
			tb.Cleanup(d.stop)
			return d
		}
		lastErr = err
	}
	tb.Fatalf("sftptest: start sshd: %v", lastErr)
	return nil
}

func startSSHD(dir string, o SSHDOptions) (*SSHD, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		// sshd insists on its privilege separation directory when run as root.
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	d := &SSHD{Host: "127.0.0.1", User: u.Username, Dir: filepath.Join(dir, "data"), stderr: &syncbuf.Buffer{}}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return nil, err
	}
	d.HostKeys = map[string]ssh.PublicKey{}
	var hostKeyLines string
	for _, kind := range []string{"ecdsa", "rsa", "ed25519"} {
		file := filepath.Join(dir, "ssh_host_"+kind+"_key")
		pub, err := writeKey(file, kind)
		if err != nil {
			return nil, err
		}
		d.HostKeys[pub.Type()] = pub
		hostKeyLines += "HostKey " + file + "\n"
	}
	d.HostKey = d.HostKeys[ssh.KeyAlgoED25519]
	if o.RSAClientKey {
		d.ClientKeyFile = filepath.Join(dir, "id_rsa")
		if d.ClientKey.Public, err = writeKey(d.ClientKeyFile, "rsa"); err != nil {
			return nil, err
		}
		if d.ClientKey.PEM, err = os.ReadFile(d.ClientKeyFile); err != nil {
			return nil, err
		}
	} else {
		if d.ClientKey, err = NewClientKey(""); err != nil {
			return nil, err
		}
		d.ClientKeyFile = filepath.Join(dir, "id_ed25519")
		if err := os.WriteFile(d.ClientKeyFile, d.ClientKey.PEM, 0o600); err != nil {
			return nil, err
		}
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, ssh.MarshalAuthorizedKey(d.ClientKey.Public), 0o600); err != nil {
		return nil, err
	}
	if d.Port, err = freePort(); err != nil {
		return nil, err
	}
	d.KnownHostsFile = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(d.KnownHostsFile, []byte(KnownHostsLine(d.Host, d.Port, d.HostKey)+"\n"), 0o600); err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "sshd_config")
	conf := o.Config + "\n" + fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
%sAuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel ERROR
Subsystem sftp internal-sftp
`, d.Port, hostKeyLines, authKeys, filepath.Join(dir, "sshd.pid"))
	if err := os.WriteFile(config, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	d.config = config
	if err := d.launch(); err != nil {
		return nil, err
	}
	return d, nil
}

// launch starts sshd with d.config and waits until it answers.
func (d *SSHD) launch() error {
	d.cmd = exec.Command(SSHDPath, "-D", "-e", "-f", d.config)
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	d.exited = exited
	cmd := d.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited: %s", strings.TrimSpace(d.stderr.String()))
		default:
		}
		if banner(d.Addr()) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.stop()
	return fmt.Errorf("sshd did not accept connections within 10s: %s", d.stderr.String())
}

// Restart kills sshd, closing every connection, and starts it again on the same port with the
// same keys and files, as a restart of the SFTP host looks to a client.
func (d *SSHD) Restart() error {
	d.stop()
	return d.launch()
}

// banner reports whether addr answers with an SSH version line.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

func (d *SSHD) stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		select {
		case <-d.exited:
		case <-time.After(5 * time.Second):
		}
	}
}

// Log is what sshd wrote to stderr, for failure messages.
func (d *SSHD) Log() string { return d.stderr.String() }

// writeKey writes a new private key of kind (ed25519, ecdsa, rsa) in OpenSSH format and
// returns its public key.
func writeKey(file, kind string) (ssh.PublicKey, error) {
	var priv crypto.Signer
	var err error
	switch kind {
	case "ecdsa":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	return signer.PublicKey(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
