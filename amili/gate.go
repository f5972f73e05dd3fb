package amili

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// newTransport is the client's own HTTP/1.1 transport: http.DefaultTransport's settings, with
// every connection wrapped in a gateConn so that a request past its send-by time (see
// BeforeSend) is refused at its first write, before any byte of it leaves. HTTP/2 is off: a
// multiplexed connection cannot hold one request's gate.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &gateConn{Conn: c}, nil
	}
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	return t
}

// gateConn is a connection whose next write can be refused: the request that got the connection
// arms it with its send-by time, and the first write after that (the request's first bytes)
// fails with errLateSend when the time has passed. Later writes of the same request go through.
type gateConn struct {
	net.Conn
	mu     sync.Mutex
	sendBy time.Time
	now    func() time.Time
	late   *atomic.Bool
}

// arm sets the gate for the request about to be written on the connection; a zero sendBy
// clears it.
func (g *gateConn) arm(sendBy time.Time, now func() time.Time, late *atomic.Bool) {
	g.mu.Lock()
	g.sendBy, g.now, g.late = sendBy, now, late
	g.mu.Unlock()
}

func (g *gateConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	by, now, late := g.sendBy, g.now, g.late
	g.sendBy = time.Time{}
	g.mu.Unlock()
	if !by.IsZero() && now().After(by) {
		late.Store(true)
		return 0, errLateSend
	}
	return g.Conn.Write(p)
}

// armConn arms the gate of the connection a request got, through TLS when there is TLS. A
// connection of another transport (a caller's own HTTPClient) has no gate.
func armConn(c net.Conn, sendBy time.Time, now func() time.Time, late *atomic.Bool) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if g, ok := c.(*gateConn); ok {
		g.arm(sendBy, now, late)
	}
}
