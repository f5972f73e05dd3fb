package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTP is a Source over a directory on an SFTP server. It keeps one SSH connection, sends
// keepalives, bounds every request by a timeout, and reconnects with exponential backoff
// when the connection breaks; operations that are safe to repeat are retried once.
type SFTP struct {
	*core
}

// DialSFTP connects to the server described by cfg and returns a Source over opts.Dir. The
// host key must verify; authentication and host-key failures are returned at once.
func DialSFTP(ctx context.Context, cfg SFTPConfig, opts Options) (*SFTP, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hk, err := newHostKeyCheck(cfg.addr(), cfg.HostKey, cfg.KnownHostsFile)
	if err != nil {
		return nil, err
	}
	fsys := &sftpFS{cfg: cfg, hk: hk, log: opts.Logger}
	if _, err := fsys.get(ctx); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("sftp://%s@%s%s", cfg.User, cfg.addr(), opts.Dir)
	return &SFTP{newCore(opts, fsys, desc)}, nil
}

// sftpFS is fileSystem over a reconnecting SFTP client.
type sftpFS struct {
	cfg SFTPConfig
	hk  *hostKeyCheck
	log *slog.Logger

	mu     sync.Mutex
	cur    *sftpConn
	closed bool
}

// sftpConn is one SSH connection and its SFTP session.
type sftpConn struct {
	ssh        *ssh.Client
	sftp       *sftp.Client
	limits     serverLimits // as the server told them; every read size is held to them
	closeAgent func()
	done       chan struct{}
	once       sync.Once

	// stream is a second SFTP session on the same connection with the small read window for
	// PDFs, started on the first PDF; streamErr is why it could not be (sftp is used then).
	streamMu  sync.Mutex
	stream    *sftp.Client
	streamErr error
}

func (c *sftpConn) close() {
	c.once.Do(func() {
		close(c.done)
		c.streamMu.Lock()
		if c.stream != nil {
			c.stream.Close()
		}
		c.streamMu.Unlock()
		c.sftp.Close()
		c.ssh.Close()
		c.closeAgent()
	})
}

func (c *sftpConn) dead() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// errClosed is returned by operations after Close.
var errClosed = errors.New("sftp: source is closed")

// Reconnect backoff: 4 attempts, waiting 0.5 s, 1 s, 2 s between them.
const dialAttempts = 4

var firstBackoff = 500 * time.Millisecond

// get returns the live connection, dialling (with backoff) if there is none.
func (s *sftpFS) get(ctx context.Context) (*sftpConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.cur != nil && !s.cur.dead() {
		return s.cur, nil
	}
	s.cur = nil
	wait := firstBackoff
	var err error
	for attempt := 0; attempt < dialAttempts; attempt++ {
		if attempt > 0 {
			s.log.Warn("sftp connect failed, retrying", "addr", s.cfg.addr(), "in", wait, "err", err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
			wait *= 2
		}
		var c *sftpConn
		if c, err = s.dial(ctx); err == nil {
			s.cur = c
			return c, nil
		}
		if permanent(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// permanent reports dial errors that retrying cannot fix.
func permanent(err error) bool {
	var hk *HostKeyError
	var neg *ssh.AlgorithmNegotiationError
	return errors.As(err, &hk) || errors.As(err, &neg) || strings.Contains(err.Error(), "unable to authenticate") ||
		strings.Contains(err.Error(), "private key") || strings.Contains(err.Error(), "ssh-agent")
}

func (s *sftpFS) dial(ctx context.Context) (*sftpConn, error) {
	methods, closeAgent, err := s.cfg.authMethods()
	if err != nil {
		return nil, err
	}
	addr := s.cfg.addr()
	config := &ssh.ClientConfig{
		User:            s.cfg.User,
		Auth:            methods,
		HostKeyCallback: s.hk.callback,
		Timeout:         s.cfg.Timeout,
	}
	applyAlgorithms(config, s.hk.algorithms, s.cfg.LegacyAlgorithms)
	d := net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: s.cfg.Keepalive}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		closeAgent()
		return nil, fmt.Errorf("sftp: connect %s: %w", addr, err)
	}
	_ = nc.SetDeadline(time.Now().Add(s.cfg.Timeout))
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, config)
	if err != nil {
		nc.Close()
		closeAgent()
		return nil, fmt.Errorf("sftp: %s: %w", addr, explainAlgorithms(err, s.cfg.LegacyAlgorithms, s.cfg.mayUseRSA()))
	}
	_ = nc.SetDeadline(time.Time{})
	client := ssh.NewClient(cc, chans, reqs)
	sc, lim, err := s.newClient(client)
	if err != nil {
		client.Close()
		closeAgent()
		return nil, fmt.Errorf("sftp: start sftp subsystem on %s: %w", addr, err)
	}
	c := &sftpConn{ssh: client, sftp: sc, limits: lim, closeAgent: closeAgent, done: make(chan struct{})}
	go func() {
		_ = client.Wait()
		c.close()
	}()
	if s.cfg.Keepalive > 0 {
		go s.keepalive(c)
	}
	s.log.Debug("sftp connected", "addr", addr, "user", s.cfg.User)
	return c, nil
}

// openSSHMaxRead is the largest read OpenSSH's sftp-server answers in full
// (SFTP_MAX_MSG_LENGTH - 1024).
const openSSHMaxRead = 256*1024 - 1024

// newClient starts the SFTP subsystem and returns it with the server's limits. With
// MaxPacket unset, a server that announces limits@openssh.com (OpenSSH 8.6 and later) gets
// 255 KiB reads, which roughly double the throughput of the 32 KiB every server accepts, or
// less if its limits say so; others, and servers whose limits cannot be read, get 32 KiB.
func (s *sftpFS) newClient(client *ssh.Client) (*sftp.Client, serverLimits, error) {
	lim, ok, err := queryLimits(client, s.cfg.Timeout)
	if err != nil {
		s.log.Debug("sftp: server limits unknown, reading 32 KiB a request", "err", err)
		ok = false
	}
	packet := s.cfg.MaxPacket
	switch {
	case packet > 0:
	case ok:
		packet = openSSHMaxRead
	default:
		packet = DefaultMaxPacket
	}
	sc, err := s.startClient(client, lim.capPacket(packet), s.cfg.MaxConcurrentRequests)
	return sc, lim, err
}

// streamClient is the session PDFs are read through: c's small-window session, started on
// first use, or the bulk one when the server refuses a second session.
func (s *sftpFS) streamClient(c *sftpConn) *sftp.Client {
	c.streamMu.Lock()
	defer c.streamMu.Unlock()
	if c.stream == nil && c.streamErr == nil {
		if c.dead() {
			return c.sftp
		}
		c.stream, c.streamErr = s.startClient(c.ssh, c.limits.capPacket(s.cfg.StreamPacket), s.cfg.StreamConcurrentRequests)
		if c.streamErr != nil {
			s.log.Debug("sftp: no second session for PDFs, reading them with the bulk window", "err", c.streamErr)
		}
	}
	if c.stream != nil {
		return c.stream
	}
	return c.sftp
}

// startClient starts an SFTP session reading packet bytes a request with inFlight requests
// per file.
func (s *sftpFS) startClient(client *ssh.Client, packet, inFlight int) (*sftp.Client, error) {
	opt := sftp.MaxPacketChecked(packet)
	if packet > DefaultMaxPacket {
		opt = sftp.MaxPacketUnchecked(packet)
	}
	// Starting the subsystem has no deadline of its own.
	timer := time.AfterFunc(s.cfg.Timeout, func() { client.Close() })
	sc, err := sftp.NewClient(client, opt,
		sftp.UseConcurrentReads(true),
		sftp.UseFstat(true),
		sftp.MaxConcurrentRequestsPerFile(inFlight))
	if !timer.Stop() && err == nil {
		sc.Close()
		err = errTimeout
	}
	return sc, err
}

// keepalive sends keepalive@openssh.com every Keepalive and closes c when the server stops
// answering, so the next operation reconnects instead of hanging.
func (s *sftpFS) keepalive(c *sftpConn) {
	t := time.NewTicker(s.cfg.Keepalive)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		watchdog := time.AfterFunc(s.cfg.Timeout, c.close)
		_, _, err := c.ssh.SendRequest("keepalive@openssh.com", true, nil)
		watchdog.Stop()
		if err != nil {
			s.log.Warn("sftp keepalive failed", "addr", s.cfg.addr(), "err", err)
			c.close()
			return
		}
	}
}

// drop closes c if it is still the current connection.
func (s *sftpFS) drop(c *sftpConn) {
	c.close()
	s.mu.Lock()
	if s.cur == c {
		s.cur = nil
	}
	s.mu.Unlock()
}

// errTimeout marks an operation the per-operation timeout cut short.
var errTimeout = errors.New("timed out")

// run calls fn on c, closing the connection if fn outlives the timeout or ctx.
func (s *sftpFS) run(ctx context.Context, c *sftpConn, fn func(context.Context, *sftpConn) error) error {
	opCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	stop := context.AfterFunc(opCtx, c.close)
	err := fn(opCtx, c)
	if !stop() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("sftp: after %s: %w", s.cfg.Timeout, errTimeout)
	}
	return err
}

// answered reports whether err is the server's answer (the connection works).
func answered(err error) bool {
	var st *sftp.StatusError
	return errors.As(err, &st) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, fs.ErrExist) || errors.Is(err, ErrNotUsable)
}

// do runs fn on a live connection. If the connection breaks under it, the connection is
// dropped and, when retry is set (the operation is safe to repeat), fn runs once more on a
// new connection.
func (s *sftpFS) do(ctx context.Context, op string, retry bool, fn func(context.Context, *sftpConn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := s.get(ctx)
		if err != nil {
			return err
		}
		err = s.run(ctx, c, fn)
		if err == nil || ctx.Err() != nil || (answered(err) && !c.dead()) {
			return err
		}
		s.drop(c)
		if !retry || attempt > 0 {
			return fmt.Errorf("%s: connection lost: %w", op, err)
		}
		s.log.Warn("sftp connection lost, reconnecting", "op", op, "err", err)
	}
}

func (s *sftpFS) readDir(ctx context.Context, dir string) ([]fs.FileInfo, error) {
	var infos []fs.FileInfo
	err := s.do(ctx, "list", true, func(ctx context.Context, conn *sftpConn) (err error) {
		infos, err = conn.sftp.ReadDirContext(ctx, dir)
		return err
	})
	return infos, err
}

func (s *sftpFS) stat(ctx context.Context, p string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := s.do(ctx, "stat", true, func(_ context.Context, conn *sftpConn) (err error) {
		fi, err = conn.sftp.Lstat(p)
		return err
	})
	return fi, err
}

func (s *sftpFS) mkdirAll(ctx context.Context, dir string) error {
	return s.do(ctx, "mkdir", true, func(_ context.Context, conn *sftpConn) error {
		return conn.sftp.MkdirAll(dir)
	})
}

func (s *sftpFS) writeFile(ctx context.Context, p string, data []byte) error {
	return s.do(ctx, "write", true, func(_ context.Context, conn *sftpConn) error {
		f, err := conn.sftp.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

// renameNoReplace uses the plain SFTP rename, which OpenSSH refuses when the target exists
// (POSIX rename, which replaces, is never used). A connection lost mid-rename leaves it
// unknown whether the rename happened; after reconnecting, source and target are looked up
// to decide, and the rename is repeated only if the file is still at the source.
func (s *sftpFS) renameNoReplace(ctx context.Context, from, to string) error {
	err := s.do(ctx, "rename", false, func(_ context.Context, conn *sftpConn) error {
		return conn.sftp.Rename(from, to)
	})
	if err == nil {
		if _, serr := s.stat(ctx, to); serr != nil {
			return fmt.Errorf("rename %s to %s: target missing afterwards: %w", from, to, serr)
		}
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	fromFI, ferr := s.stat(ctx, from)
	_, terr := s.stat(ctx, to)
	fromThere, toThere := ferr == nil, terr == nil
	if !answered(ferr) && ferr != nil || !answered(terr) && terr != nil {
		return fmt.Errorf("rename %s to %s: %w (and cannot tell where the file is: %v)", from, to, err, errors.Join(ferr, terr))
	}
	switch {
	case !fromThere && toThere:
		s.log.Info("sftp rename completed before the connection was lost", "from", from, "to", to)
		return nil
	case fromThere && toThere:
		return fmt.Errorf("rename %s to %s: %w", from, to, fs.ErrExist)
	case fromThere && answered(err):
		return fmt.Errorf("rename %s to %s: %w", from, to, err)
	case fromThere:
		s.log.Warn("sftp rename retried after reconnect", "from", from, "to", to, "size", fromFI.Size())
		return s.do(ctx, "rename", false, func(_ context.Context, conn *sftpConn) error {
			return conn.sftp.Rename(from, to)
		})
	default:
		return fmt.Errorf("rename %s to %s: %w (file is at neither place)", from, to, err)
	}
}

func (s *sftpFS) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.cur != nil {
		s.cur.close()
		s.cur = nil
	}
	return nil
}
