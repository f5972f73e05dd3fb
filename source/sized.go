package source

import (
	"errors"
	"fmt"
	"io"
)

// ErrShortRead means a stream ended before delivering as many bytes as the file held when it
// was opened: the connection died or the file was truncated. The importer must not treat
// what it got as the whole file.
var ErrShortRead = errors.New("short read")

// sizedReader turns an early EOF into ErrShortRead.
type sizedReader struct {
	r    io.Reader
	c    io.Closer
	name string
	want int64
	got  int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.got += int64(n)
	if err == io.EOF && s.got < s.want {
		return n, fmt.Errorf("read %s: got %d of %d bytes: %w", s.name, s.got, s.want, ErrShortRead)
	}
	return n, err
}

func (s *sizedReader) Close() error { return s.c.Close() }

// Size is the file's size when it was opened, so a caller can refuse an oversized file
// before reading it.
func (s *sizedReader) Size() int64 { return s.want }
