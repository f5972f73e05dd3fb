package mapping

import (
	"runtime"
	"testing"
	"time"
)

// TestCloseEndsDecoding holds that a Reader left before the end of its file stops gocsv's
// goroutine, whether it is closed or only dropped.
func TestCloseEndsDecoding(t *testing.T) {
	base := runtime.NumGoroutine()
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
	waitFor := func(what string, collect bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d goroutines, %d before", what, runtime.NumGoroutine(), base)
			}
			if collect {
				runtime.GC()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	rd := open()
	if runtime.NumGoroutine() <= base {
		t.Fatal("no decoding goroutine while the file is read")
	}
	rd.Close()
	rd.Close() // a second Close is harmless
	waitFor("after Close", false)
	runtime.KeepAlive(rd)

	open() // dropped without Close
	waitFor("after the Reader was dropped", true)
}
