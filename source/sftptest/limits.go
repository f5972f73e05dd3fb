package sftptest

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// Limits is what a server started WithLimits answers to a limits@openssh.com request
// (OpenSSH 8.6+). Zero means "no limit", as in OpenSSH's protocol.
type Limits struct {
	MaxPacket  uint64 // max-packet-length
	MaxRead    uint64 // max-read-length: enforced, a read asking for more gets at most this
	MaxWrite   uint64 // max-write-length
	MaxHandles uint64 // max-open-handles
}

// WithLimits makes the server announce the limits@openssh.com extension, answer it with l
// and truly cap every read at l.MaxRead, as a server with a small packet limit does: a
// client that reads more than that a request gets short reads.
func WithLimits(l Limits) Option { return func(s *Server) { s.limits = &l } }

// SFTP packet types the filter looks at.
const (
	fxpVersion       = 2
	fxpRead          = 5
	fxpStatus        = 101
	fxpData          = 103
	fxpExtended      = 200
	fxpExtendedReply = 201
)

// maxFilteredPacket bounds the packets limitConn buffers; pkg/sftp's own limit is 256 KiB.
const maxFilteredPacket = 1 << 20

// limitConn sits between the SSH channel and pkg/sftp's request server, which knows
// nothing of limits@openssh.com: with limits set it adds the extension to the server's
// VERSION, answers the extended request itself and shortens READ requests to MaxRead. It
// also counts the reads in flight, for Server.MaxReadsInFlight.
type limitConn struct {
	rw     io.ReadWriteCloser
	limits *Limits
	peak   func(int) // called with the number of reads in flight as it grows

	rmu   sync.Mutex
	reads map[uint32]bool // ids of READs not yet answered

	in []byte // client packets, filtered, not yet read by the server

	wmu     sync.Mutex
	out     []byte // server output not yet forming a whole packet
	version bool   // the VERSION packet has gone out
}

func newLimitConn(rw io.ReadWriteCloser, l *Limits, peak func(int)) *limitConn {
	return &limitConn{rw: rw, limits: l, peak: peak, reads: map[uint32]bool{}}
}

// Read hands the request server the client's packets, filtered.
func (c *limitConn) Read(p []byte) (int, error) {
	for len(c.in) == 0 {
		pkt, err := readPacket(c.rw)
		if err != nil {
			return 0, err
		}
		switch pkt[4] {
		case fxpRead:
			c.capRead(pkt)
			c.rmu.Lock()
			c.reads[binary.BigEndian.Uint32(pkt[5:])] = true
			n := len(c.reads)
			c.rmu.Unlock()
			c.peak(n)
		case fxpExtended:
			if id, name, ok := extendedName(pkt); ok && name == "limits@openssh.com" && c.limits != nil {
				if err := c.writePacket(c.limitsReply(id)); err != nil {
					return 0, err
				}
				continue
			}
		}
		c.in = pkt
	}
	n := copy(p, c.in)
	c.in = c.in[n:]
	return n, nil
}

// capRead lowers the length of a READ (id, handle, offset, length) to MaxRead.
func (c *limitConn) capRead(pkt []byte) {
	if c.limits == nil || c.limits.MaxRead == 0 || len(pkt) < 13 {
		return
	}
	hl := int(binary.BigEndian.Uint32(pkt[9:]))
	at := 9 + 4 + hl + 8
	if hl < 0 || at+4 > len(pkt) {
		return
	}
	if uint64(binary.BigEndian.Uint32(pkt[at:])) > c.limits.MaxRead {
		binary.BigEndian.PutUint32(pkt[at:], uint32(c.limits.MaxRead))
	}
}

func (c *limitConn) limitsReply(id uint32) []byte {
	b := make([]byte, 4, 4+1+4+32)
	b = append(b, fxpExtendedReply)
	b = binary.BigEndian.AppendUint32(b, id)
	for _, v := range []uint64{c.limits.MaxPacket, c.limits.MaxRead, c.limits.MaxWrite, c.limits.MaxHandles} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// Write forwards the server's output a whole packet at a time, so that replies written by
// Read never land inside one, adding limits@openssh.com to the VERSION packet.
func (c *limitConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out = append(c.out, b...)
	for len(c.out) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(c.out))
		if len(c.out) < n {
			break
		}
		pkt := c.out[:n:n]
		if n >= 9 && (pkt[4] == fxpData || pkt[4] == fxpStatus) {
			c.rmu.Lock()
			delete(c.reads, binary.BigEndian.Uint32(pkt[5:]))
			c.rmu.Unlock()
		}
		if !c.version && n > 4 && pkt[4] == fxpVersion && c.limits != nil {
			c.version = true
			pkt = appendString(appendString(append([]byte(nil), pkt...), "limits@openssh.com"), "1")
			binary.BigEndian.PutUint32(pkt, uint32(len(pkt)-4))
		}
		if _, err := c.rw.Write(pkt); err != nil {
			return 0, err
		}
		c.out = c.out[n:]
	}
	if len(c.out) == 0 {
		c.out = nil
	}
	return len(b), nil
}

func (c *limitConn) writePacket(pkt []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rw.Write(pkt)
	return err
}

// Close closes the channel.
func (c *limitConn) Close() error { return c.rw.Close() }

// readPacket reads one length-prefixed SFTP packet, the length included.
func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > maxFilteredPacket {
		return nil, errors.New("sftptest: bad packet length")
	}
	pkt := make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, err
	}
	return pkt, nil
}

// extendedName parses the id and request name of an EXTENDED packet.
func extendedName(pkt []byte) (uint32, string, bool) {
	if len(pkt) < 13 {
		return 0, "", false
	}
	id := binary.BigEndian.Uint32(pkt[5:])
	n := int(binary.BigEndian.Uint32(pkt[9:]))
	if n < 0 || 13+n > len(pkt) {
		return 0, "", false
	}
	return id, string(pkt[13 : 13+n]), true
}

func appendString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}
