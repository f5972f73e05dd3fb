package amili

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
)

// newFakeClock is the client's clock in tests: Sleep records the duration asked for and moves
// time forward instead of waiting.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
}

// server starts an httptest server on 127.0.0.1 that is closed when the test ends.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// testClient makes a client with a pre-issued token, a fake clock and a generous rate limit;
// mod adjusts the config first.
func testClient(t *testing.T, url string, mod ...func(*Config)) (*Client, *fakeclock.Clock) {
	t.Helper()
	clk := newFakeClock()
	cfg := Config{
		BaseURL:   url,
		Auth:      AuthConfig{Token: "static-token"},
		RateLimit: 600000,
		Burst:     1000,
		Now:       clk.Now,
		Sleep:     clk.Sleep,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clk
}

// writeJSON answers with status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hangUp reads the request, then closes the connection without an answer.
func hangUp(t *testing.T, w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

// refusedURL returns an http URL on 127.0.0.1 where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// classOf fails the test unless err is an *Error, and returns it.
func mustError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want one")
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *amili.Error", err, err)
	}
	return e
}
