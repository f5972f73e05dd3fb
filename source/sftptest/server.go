// Package sftptest runs SFTP servers for tests, the demo and benchmarks: an in-process SSH
// server (golang.org/x/crypto/ssh with pkg/sftp's request server over a directory) with
// latency and fault injection, and a real OpenSSH sshd on loopback. Like net/http/httptest:
// real protocol, test-controlled backend. Both listen on 127.0.0.1 only.
package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TB is the part of testing.TB the helpers use. It is declared here so that the demo and the
// benchmarks, which start servers with Start, do not link package testing into the binary.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Option configures a Server.
type Option func(*Server)

// WithPassword accepts user/password authentication.
func WithPassword(user, password string) Option {
	return func(s *Server) { s.user, s.password = user, password }
}

// WithAuthorizedKey accepts public-key authentication with key (for any user name set by
// WithUser or WithPassword, default "amili").
func WithAuthorizedKey(key ssh.PublicKey) Option {
	return func(s *Server) { s.authorized = append(s.authorized, key) }
}

// WithUser sets the only user name accepted (default "amili").
func WithUser(user string) Option { return func(s *Server) { s.user = user } }

// WithLatency delays everything the server sends by d, as a network with a round trip of d
// would; requests still pipeline, so throughput is bounded by the client's window.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency.Store(int64(d)) } }

// WithLegacySHA1 makes the server one from before OpenSSH 7.2: its only key exchange is
// diffie-hellman-group14-sha1 and its host key an RSA key signing with SHA-1 (ssh-rsa) only.
func WithLegacySHA1() Option { return func(s *Server) { s.legacy = true } }

// SetLatency changes the delay of WithLatency for everything sent from now on.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Server is an SSH server with an SFTP subsystem serving a directory; its remote path "/"
// is the directory.
type Server struct {
	root       string
	user       string
	password   string
	authorized []ssh.PublicKey
	latency    atomic.Int64 // time.Duration
	limits     *Limits
	peakReads  atomic.Int64
	legacy     bool

	hostKey  ssh.Signer
	listener net.Listener
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[*ssh.ServerConn]bool

	faultMu    sync.Mutex
	readBudget int64 // bytes left before a drop; -1 when disarmed
	dropRename atomic.Bool
	dropList   atomic.Bool
	keepalives atomic.Int64
}

// Start serves root on a fresh 127.0.0.1 port with a newly generated ed25519 host key.
func Start(root string, opts ...Option) (*Server, error) {
	s := &Server{root: root, user: "amili", conns: map[*ssh.ServerConn]bool{}, readBudget: -1}
	for _, o := range opts {
		o(s)
	}
	if err := s.newHostKey(); err != nil {
		return nil, err
	}
	var err error
	if s.listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// newHostKey generates the host key: ed25519, or RSA signing with ssh-rsa for WithLegacySHA1.
func (s *Server) newHostKey() error {
	if !s.legacy {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		s.hostKey, err = ssh.NewSignerFromKey(priv)
		return err
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	s.hostKey, err = ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	return err
}

// New is Start for tests: it fails tb on error and closes the server on cleanup.
func New(tb TB, root string, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(root, opts...)
	if err != nil {
		tb.Fatalf("sftptest: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Host is 127.0.0.1.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listening port.
func (s *Server) Port() int { return s.listener.Addr().(*net.TCPAddr).Port }

// User is the accepted user name.
func (s *Server) User() string { return s.user }

// HostKey is the server's public host key, for clients to pin.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Fingerprint is the host key's SHA256 fingerprint ("SHA256:…").
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.HostKey()) }

// HostKeyLine is the host key in authorized_keys form.
func (s *Server) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey())))
}

// KnownHostsLine is the known_hosts entry for this server.
func (s *Server) KnownHostsLine() string {
	return KnownHostsLine(s.Host(), s.Port(), s.HostKey())
}

// KnownHostsLine formats a known_hosts entry ("[host]:port keytype base64").
func KnownHostsLine(host string, port int, key ssh.PublicKey) string {
	return fmt.Sprintf("[%s]:%d %s", host, port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
}

// DropAfterReadBytes arms a one-shot fault: once n more bytes of file data have been read,
// every connection is closed mid-transfer.
func (s *Server) DropAfterReadBytes(n int64) {
	s.faultMu.Lock()
	s.readBudget = n
	s.faultMu.Unlock()
}

// DropOnRename arms a one-shot fault: the next plain rename is carried out and then every
// connection is closed before the client hears the result.
func (s *Server) DropOnRename() { s.dropRename.Store(true) }

// DropOnList arms a one-shot fault: the next directory listing closes every connection.
func (s *Server) DropOnList() { s.dropList.Store(true) }

// MaxReadsInFlight is the most reads one SFTP session has had waiting for an answer at once:
// the client's read window, which bounds its memory per file.
func (s *Server) MaxReadsInFlight() int { return int(s.peakReads.Load()) }

func (s *Server) notePeak(n int) {
	for {
		cur := s.peakReads.Load()
		if int64(n) <= cur || s.peakReads.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// Keepalives is how many keepalive@openssh.com requests clients have sent.
func (s *Server) Keepalives() int64 { return s.keepalives.Load() }

// DropConnections closes every client connection (the listener stays open).
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops listening, closes every connection and waits for them to end.
func (s *Server) Close() error {
	err := s.listener.Close()
	s.DropConnections()
	s.wg.Wait()
	return err
}

func (s *Server) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{}
	if s.legacy {
		cfg.KeyExchanges = []string{ssh.InsecureKeyExchangeDH14SHA1}
	}
	if s.password != "" {
		cfg.PasswordCallback = func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == s.user && subtle.ConstantTimeCompare(pw, []byte(s.password)) == 1 {
				return nil, nil
			}
			return nil, errors.New("password rejected")
		}
	}
	if len(s.authorized) > 0 {
		cfg.PublicKeyCallback = func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range s.authorized {
				if c.User() == s.user && subtle.ConstantTimeCompare(k.Marshal(), key.Marshal()) == 1 {
					return nil, nil
				}
			}
			return nil, errors.New("key rejected")
		}
	}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

func (s *Server) accept() {
	defer s.wg.Done()
	cfg := s.config()
	for {
		nc, err := s.listener.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(nc, cfg)
		}()
	}
}

func (s *Server) serveConn(nc net.Conn, cfg *ssh.ServerConfig) {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	conn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		nc.Close()
		return
	}
	_ = nc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.conns[conn] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	go func() {
		for req := range reqs {
			if req.Type == "keepalive@openssh.com" {
				s.keepalives.Add(1)
			}
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}()
	var wg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
	wg.Wait()
}

func (s *Server) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "subsystem" || len(req.Payload) < 4 || string(req.Payload[4:]) != "sftp" {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		// The filter sits on the channel side of the delay, so a read counts as in flight
		// until its answer has crossed the simulated network.
		lc := newLimitConn(ch, s.limits, s.notePeak)
		d := newDelayLine(lc, func() time.Duration { return time.Duration(s.latency.Load()) })
		defer d.Close()
		var rw io.ReadWriteCloser = d
		srv := sftp.NewRequestServer(rw, sftp.Handlers{
			FileGet: dirHandlers{s}, FilePut: dirHandlers{s}, FileCmd: dirHandlers{s}, FileList: dirHandlers{s},
		}, sftp.WithStartDirectory("/"))
		_ = srv.Serve()
		srv.Close()
		return
	}
}

// ClientKey is a generated ed25519 client key pair.
type ClientKey struct {
	PEM    []byte // OpenSSH private key, unencrypted
	Public ssh.PublicKey
}

// NewClientKey generates a client key; with a passphrase the PEM is encrypted.
func NewClientKey(passphrase string) (ClientKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return ClientKey{}, err
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		return ClientKey{}, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return ClientKey{}, err
	}
	return ClientKey{PEM: pem.EncodeToMemory(block), Public: signer.PublicKey()}, nil
}

// portString is strconv.Itoa for ports.
func portString(p int) string { return strconv.Itoa(p) }
