package amili

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The hook runs once per attempt, after the waits; a refusal or a deadline already passed sends
// nothing at all: the server never sees a request.
func TestBeforeSendGatesEveryWrite(t *testing.T) {
	var got atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"_status":"OK","_id":"r1","_case":"c1","_invoice":"i1"}`)
	})
	c, clk := testClient(t, srv.URL)
	t.Run("InTime", func(t *testing.T) {
		calls := 0
		ctx := WithBeforeSend(context.Background(), func(context.Context) (time.Time, error) {
			calls++
			return clk.Now().Add(time.Minute), nil
		})
		if _, err := c.RegisterInvoice(ctx, invoice("INV-1")); err != nil {
			t.Fatal(err)
		}
		if calls != 1 || got.Load() != 1 {
			t.Errorf("hook calls %d, requests %d; want 1 and 1", calls, got.Load())
		}
	})
	t.Run("Refused", func(t *testing.T) {
		before := got.Load()
		refusal := errors.New("fenced")
		ctx := WithBeforeSend(context.Background(), func(context.Context) (time.Time, error) { return time.Time{}, refusal })
		_, err := c.RegisterInvoice(ctx, invoice("INV-2"))
		if !errors.Is(err, ErrNotSent) || !errors.Is(err, refusal) {
			t.Errorf("error %v, want ErrNotSent wrapping the hook's", err)
		}
		if got.Load() != before {
			t.Error("a refused registration reached the server")
		}
	})
	t.Run("TooLate", func(t *testing.T) {
		before := got.Load()
		ctx := WithBeforeSend(context.Background(), func(context.Context) (time.Time, error) {
			return clk.Now().Add(-time.Second), nil // the process was stopped past its deadline
		})
		_, err := c.RegisterInvoice(ctx, invoice("INV-3"))
		if !errors.Is(err, ErrNotSent) || IsInDoubt(err) {
			t.Errorf("error %v (in doubt %v), want ErrNotSent, not in doubt", err, IsInDoubt(err))
		}
		_, err = c.UploadOriginalInvoice(ctx, "c1", "x.pdf", func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader("%PDF-1.4\n")), nil
		})
		if !errors.Is(err, ErrNotSent) {
			t.Errorf("upload error %v, want ErrNotSent", err)
		}
		if got.Load() != before {
			t.Errorf("%d requests too late reached the server", got.Load()-before)
		}
	})
}

// A 2xx whose body is cut off was committed: the error says accepted.
func TestCutOffSuccessIsAccepted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64<<10)
			conn.Read(buf)
			io.WriteString(conn, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"_status\":\"OK\",\"_id\":")
			conn.Close()
		}
	}()
	c, _ := testClient(t, "http://"+ln.Addr().String(), func(cfg *Config) { cfg.MaxAttempts = 1 })
	_, err = c.RegisterInvoice(context.Background(), invoice("INV-C"))
	if e := mustError(t, err); e.Class != InDoubt || !e.Accepted {
		t.Errorf("error %v (class %v, accepted %v), want in doubt and accepted", e, e.Class, e.Accepted)
	}
}
