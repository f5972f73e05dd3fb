package source

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
)

// open opens p and streams it through pkg/sftp's concurrent WriteTo, which keeps
// MaxConcurrentRequests reads of MaxPacket in flight, or for a stream (a PDF) the small
// StreamConcurrentRequests x StreamPacket window; memory stays bounded by that window. Opening is
// retried once after a lost connection; a transfer that breaks ends the stream with an error
// (never a short EOF), and the next operation reconnects.
func (s *sftpFS) open(ctx context.Context, p string, stream bool) (io.ReadCloser, error) {
	var f *sftp.File
	var size int64
	var conn *sftpConn
	err := s.do(ctx, "open", true, func(_ context.Context, c *sftpConn) error {
		conn = c
		client := c.sftp
		if stream {
			client = s.streamClient(c)
		}
		// Stat first: a server opening a FIFO would wait for a writer until the timeout.
		fi, err := client.Stat(p)
		if err == nil {
			err = checkRegular(p, fi)
		}
		if err != nil {
			return err
		}
		if f, err = client.Open(p); err != nil {
			return err
		}
		if fi, err = f.Stat(); err == nil {
			err = checkRegular(p, fi)
		}
		if err != nil {
			f.Close()
			return err
		}
		size = fi.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	pr, pw := io.Pipe()
	t := &transfer{pr: pr, done: make(chan struct{})}
	t.touch()
	go func() {
		defer close(t.done)
		defer f.Close()
		stopWatch := s.watch(conn, t)
		n, err := f.WriteTo(&progressWriter{w: pw, t: t})
		stopWatch()
		if err == nil && n != size {
			err = fmt.Errorf("got %d of %d bytes: %w", n, size, ErrShortRead) // wrapped with the path below
		}
		if err != nil && conn != nil && !answered(err) {
			s.drop(conn)
		}
		if err != nil {
			err = fmt.Errorf("read %s: %w", p, err)
		}
		pw.CloseWithError(err)
	}()
	return &sizedReader{r: pr, c: t, name: p, want: size}, nil
}

// transfer tracks a running download so a stalled one can be cut off.
type transfer struct {
	pr      *io.PipeReader
	done    chan struct{}
	last    atomic.Int64 // unix nanos of the last network progress
	waiting atomic.Bool  // blocked on the reader, not the network
	once    sync.Once
}

func (t *transfer) touch() { t.last.Store(time.Now().UnixNano()) }

// Close stops the download and waits for it to finish.
func (t *transfer) Close() error {
	t.once.Do(func() { t.pr.CloseWithError(io.ErrClosedPipe) })
	<-t.done
	return nil
}

// progressWriter records when data arrives from the network.
type progressWriter struct {
	w io.Writer
	t *transfer
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.t.touch()
	p.t.waiting.Store(true)
	n, err := p.w.Write(b)
	p.t.waiting.Store(false)
	p.t.touch()
	return n, err
}

// watch closes conn when t makes no network progress for the timeout (time spent waiting
// for a slow reader does not count). The returned func stops watching.
func (s *sftpFS) watch(conn *sftpConn, t *transfer) func() {
	stop := make(chan struct{})
	tick := s.cfg.Timeout / 4
	go func() {
		tk := time.NewTicker(tick)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				if t.waiting.Load() {
					continue
				}
				if time.Since(time.Unix(0, t.last.Load())) > s.cfg.Timeout && conn != nil {
					s.log.Warn("sftp transfer stalled, closing connection", "timeout", s.cfg.Timeout)
					conn.close()
					return
				}
			}
		}
	}()
	return func() { close(stop) }
}
