package source

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/ssh"
)

// serverLimits is a server's answer to limits@openssh.com (OpenSSH 8.6+); zero is "no
// limit". A read longer than maxRead comes back short, and pkg/sftp's concurrent reads turn
// short reads into a truncated file, so every read size is held to these.
type serverLimits struct {
	maxPacket, maxRead, maxWrite, maxHandles uint64
}

// capPacket lowers a read/write size n to what the server accepts. The packet limit covers
// the request or reply header as well, hence the room kept below it.
func (l serverLimits) capPacket(n int) int {
	lower := func(limit uint64) {
		if limit > 0 && uint64(n) > limit {
			n = int(limit)
		}
	}
	lower(l.maxRead)
	lower(l.maxWrite)
	if l.maxPacket > 2048 {
		lower(l.maxPacket - 1024)
	}
	return max(n, 1)
}

// SFTP packet types of the limits exchange.
const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpStatus        = 101
	fxpExtended      = 200
	fxpExtendedReply = 201
)

// queryLimits asks the server for its limits over an SFTP session of its own, closed before
// returning: pkg/sftp announces which extensions a server has but cannot send an extended
// request. ok is false when the server does not announce limits@openssh.com.
func queryLimits(client *ssh.Client, timeout time.Duration) (lim serverLimits, ok bool, err error) {
	sess, err := client.NewSession()
	if err != nil {
		return lim, false, err
	}
	defer sess.Close()
	timer := time.AfterFunc(timeout, func() { sess.Close() })
	defer timer.Stop()
	w, err := sess.StdinPipe()
	if err != nil {
		return lim, false, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return lim, false, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return lim, false, err
	}
	if err := writeFxp(w, fxpInit, binary.BigEndian.AppendUint32(nil, 3)); err != nil {
		return lim, false, err
	}
	typ, body, err := readFxp(r)
	if err != nil {
		return lim, false, err
	}
	if typ != fxpVersion || len(body) < 4 {
		return lim, false, fmt.Errorf("sftp limits: unexpected packet %d in place of VERSION", typ)
	}
	if !hasExtension(body[4:], "limits@openssh.com") {
		return lim, false, nil
	}
	const id = 1
	req := binary.BigEndian.AppendUint32(nil, id)
	req = binary.BigEndian.AppendUint32(req, uint32(len("limits@openssh.com")))
	req = append(req, "limits@openssh.com"...)
	if err := writeFxp(w, fxpExtended, req); err != nil {
		return lim, false, err
	}
	typ, body, err = readFxp(r)
	if err != nil {
		return lim, false, err
	}
	if typ == fxpStatus {
		return lim, false, nil
	}
	if typ != fxpExtendedReply || len(body) < 4+32 || binary.BigEndian.Uint32(body) != id {
		return lim, false, fmt.Errorf("sftp limits: malformed reply (type %d, %d bytes)", typ, len(body))
	}
	v := body[4:]
	lim = serverLimits{
		maxPacket:  binary.BigEndian.Uint64(v[0:]),
		maxRead:    binary.BigEndian.Uint64(v[8:]),
		maxWrite:   binary.BigEndian.Uint64(v[16:]),
		maxHandles: binary.BigEndian.Uint64(v[24:]),
	}
	return lim, true, nil
}

// hasExtension looks for name among the extension pairs of a VERSION packet.
func hasExtension(b []byte, name string) bool {
	for len(b) >= 4 {
		var pair [2]string
		for i := range pair {
			if len(b) < 4 {
				return false
			}
			n := binary.BigEndian.Uint32(b)
			if uint64(n) > uint64(len(b)-4) {
				return false
			}
			pair[i], b = string(b[4:4+n]), b[4+n:]
		}
		if pair[0] == name {
			return true
		}
	}
	return false
}

func writeFxp(w io.Writer, typ byte, body []byte) error {
	b := binary.BigEndian.AppendUint32(make([]byte, 0, 5+len(body)), uint32(1+len(body)))
	b = append(append(b, typ), body...)
	_, err := w.Write(b)
	return err
}

// readFxp reads one packet of the limits exchange, which are all small.
func readFxp(r io.Reader) (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 || n > 64*1024 {
		return 0, nil, errors.New("sftp limits: bad packet length")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return 0, nil, err
	}
	return b[0], b[1:], nil
}
