package source

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// SFTPConfig is how to reach and authenticate to an SFTP server. Secrets arrive as values:
// the config package reads them from the *_file / *_env references.
type SFTPConfig struct {
	Host string
	Port int // default 22
	User string

	PrivateKey           []byte // PEM (OpenSSH or PKCS#1/8); optional
	PrivateKeyPassphrase []byte // for an encrypted PrivateKey
	Password             string
	UseAgent             bool // authenticate with the keys of the ssh-agent at $SSH_AUTH_SOCK

	KnownHostsFile string // verify the host key against this known_hosts file
	HostKey        string // or against this pin: an authorized_keys line or "SHA256:…"; wins over KnownHostsFile

	// LegacyAlgorithms also offers what OpenSSH 9's client refuses by default, for a server
	// that offers nothing else: the SHA-1 key exchanges (diffie-hellman-group14-sha1,
	// diffie-hellman-group-exchange-sha1, diffie-hellman-group1-sha1) and SHA-1 ssh-rsa
	// host-key and client-key signatures. CBC and 3DES ciphers stay refused. Default false.
	LegacyAlgorithms bool

	Keepalive time.Duration // keepalive@openssh.com interval; default 30s, negative disables
	Timeout   time.Duration // per operation (connect, each request, stalled transfer); default 30s

	// MaxPacket is the SFTP read/write size. Zero picks 255 KiB for servers announcing
	// limits@openssh.com (OpenSSH 8.6+) and 32 KiB, which every server accepts, otherwise.
	// Whatever it is, a server's announced max-read-length and max-write-length cap it.
	MaxPacket int
	// MaxConcurrentRequests is the number of reads in flight per file; default 64.
	MaxConcurrentRequests int

	// StreamPacket and StreamConcurrentRequests are the read size and reads in flight for
	// PDFs, which are copied into an upload slower than SFTP delivers them and several at a
	// time. The default, 32 KiB x 32 = 1 MiB per open PDF, fetched PDFs as fast as 32 KiB x 64
	// (OpenSSH sftp's window) in BenchmarkFetch, at 4 to 9 MB less peak RSS with four uploads at
	// once; the bulk window (up to 255 KiB x 64 = 16 MB per file) would only fill buffers.
	StreamPacket             int
	StreamConcurrentRequests int
}

// Defaults for SFTPConfig.
const (
	DefaultSFTPPort       = 22
	DefaultKeepalive      = 30 * time.Second
	DefaultTimeout        = 30 * time.Second
	DefaultMaxPacket      = 32 * 1024
	DefaultMaxConcurrency = 64

	DefaultStreamPacket      = 32 * 1024
	DefaultStreamConcurrency = 32
)

func (c SFTPConfig) withDefaults() (SFTPConfig, error) {
	if c.Host == "" {
		return c, errors.New("sftp: host is required")
	}
	if c.User == "" {
		return c, errors.New("sftp: user is required")
	}
	if c.Port == 0 {
		c.Port = DefaultSFTPPort
	}
	if c.Keepalive == 0 {
		c.Keepalive = DefaultKeepalive
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxConcurrentRequests <= 0 {
		c.MaxConcurrentRequests = DefaultMaxConcurrency
	}
	if c.StreamPacket <= 0 {
		c.StreamPacket = DefaultStreamPacket
	}
	if c.StreamConcurrentRequests <= 0 {
		c.StreamConcurrentRequests = DefaultStreamConcurrency
	}
	if len(c.PrivateKey) == 0 && c.Password == "" && !c.UseAgent {
		return c, errors.New("sftp: no authentication configured: set sftp.private_key_file, sftp.password_env/_file or sftp.use_agent")
	}
	return c, nil
}

// addr is host:port.
func (c SFTPConfig) addr() string { return joinHostPort(c.Host, c.Port) }

// authMethods returns the configured methods, key first, then agent, then password, and a
// closer for the agent connection.
func (c SFTPConfig) authMethods() ([]ssh.AuthMethod, func(), error) {
	var methods []ssh.AuthMethod
	closer := func() {}
	if len(c.PrivateKey) > 0 {
		var signer ssh.Signer
		var err error
		if len(c.PrivateKeyPassphrase) > 0 {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(c.PrivateKey, c.PrivateKeyPassphrase)
		} else {
			signer, err = ssh.ParsePrivateKey(c.PrivateKey)
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, closer, errors.New("sftp: private key is encrypted: set sftp.private_key_passphrase_env or _file")
		}
		if err != nil {
			// The parse error never quotes key material.
			return nil, closer, fmt.Errorf("sftp: private key: %w", err)
		}
		methods = append(methods, ssh.PublicKeys(signersFor(signer, c.LegacyAlgorithms)...))
	}
	if c.UseAgent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, closer, errors.New("sftp: use_agent is set but SSH_AUTH_SOCK is empty")
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, closer, fmt.Errorf("sftp: ssh-agent: %w", err)
		}
		closer = func() { conn.Close() }
		signers := agent.NewClient(conn).Signers
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			ss, err := signers()
			var out []ssh.Signer
			for _, s := range ss {
				out = append(out, signersFor(s, c.LegacyAlgorithms)...)
			}
			return out, err
		}))
	}
	if c.Password != "" {
		pw := c.Password
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return methods, closer, nil
}

// DefaultKnownHosts is the known_hosts file used when the config names none:
// ~/.ssh/known_hosts of the user running amili-import.
func DefaultKnownHosts() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return home + "/.ssh/known_hosts"
}
