package sftptest

import (
	"io"
	"sync"
	"time"
)

// delayLine delivers what is written to it after a fixed delay, without limiting
// throughput: writes are queued with their due time and a goroutine forwards them.
type delayLine struct {
	io.ReadWriteCloser
	delay func() time.Duration
	queue chan delayed
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
}

type delayed struct {
	due  time.Time
	data []byte
}

func newDelayLine(rw io.ReadWriteCloser, delay func() time.Duration) *delayLine {
	d := &delayLine{ReadWriteCloser: rw, delay: delay, queue: make(chan delayed, 4096), done: make(chan struct{})}
	go d.forward()
	return d
}

func (d *delayLine) Write(b []byte) (int, error) {
	d.mu.Lock()
	err := d.err
	d.mu.Unlock()
	if err != nil {
		return 0, err
	}
	select {
	case d.queue <- delayed{due: time.Now().Add(d.delay()), data: append([]byte(nil), b...)}:
		return len(b), nil
	case <-d.done:
		return 0, io.ErrClosedPipe
	}
}

func (d *delayLine) forward() {
	for {
		select {
		case <-d.done:
			return
		case item := <-d.queue:
			if wait := time.Until(item.due); wait > 0 {
				time.Sleep(wait)
			}
			if _, err := d.ReadWriteCloser.Write(item.data); err != nil {
				d.mu.Lock()
				d.err = err
				d.mu.Unlock()
				return
			}
		}
	}
}

// Close stops forwarding and closes the underlying stream.
func (d *delayLine) Close() error {
	d.once.Do(func() { close(d.done) })
	return d.ReadWriteCloser.Close()
}
