package mapping

import (
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// TestCloseEndsDecoding holds that a Reader left before the end of its file stops its decoding
// goroutine, whether it is closed or only dropped.
func TestCloseEndsDecoding(t *testing.T) {
	open := func() *Reader {
		rd, err := NewReader(newInvoiceGen(1_000_000), "big.csv", Options{Account: "a", Creditor: "c"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
		return rd
	}
	ended := func(src *rowSource, collect bool) bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if collect {
				runtime.GC()
			}
			select {
			case <-src.exited:
				return true
			case <-time.After(20 * time.Millisecond):
			}
		}
		return false
	}

	rd := open()
	select {
	case <-rd.src.exited:
		t.Fatal("the decoding goroutine ended with most of the file unread")
	default:
	}
	rd.Close()
	rd.Close() // a second Close is harmless
	if !ended(rd.src, false) {
		t.Fatal("the decoding goroutine still runs 10s after Close")
	}
	next := make(chan error, 1)
	go func() { // the rows already decoded come, then an error: never a hang, never io.EOF
		for {
			if _, _, err := rd.Next(); err != nil {
				next <- err
				return
			}
		}
	}()
	select {
	case err := <-next:
		if errors.Is(err, io.EOF) {
			t.Error("Next after Close ended with io.EOF, as if the file had been read to its end")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next after Close blocked")
	}

	src := open().src // the Reader is dropped without Close
	if !ended(src, true) {
		t.Fatal("the decoding goroutine of a dropped Reader still runs 10s later")
	}
}
