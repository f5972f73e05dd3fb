package amilitest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRegisterInvoice measures invoice registrations per second over real HTTP with
// keep-alive, from parallel clients, at zero latency and no rate limit.
func BenchmarkRegisterInvoice(b *testing.B) {
	s := NewServer(Options{Tokens: []string{"bench"}})
	defer s.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	template := testdata(b, "invoice.json")
	var seq atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := strings.Replace(template, "INV-2025-015", fmt.Sprintf("B-%d", seq.Add(1)), 1)
			req, _ := http.NewRequest("POST", s.URL+"/invoice--registrations", strings.NewReader(body))
			req.Header.Set("X-API-Key", "bench")
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
	if got := len(s.Registrations()); got != b.N {
		b.Errorf("stored %d registrations, want %d", got, b.N)
	}
}

// Concurrent clients: every registration is stored once and indexed.
func TestConcurrentRegistrations(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	template := testdata(t, "invoice.json")
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				n := fmt.Sprintf("C-%d-%d", w, i)
				if code, err := postRaw(s, "/invoice--registrations", strings.Replace(template, "INV-2025-015", n, 1)); err != nil || code != 201 {
					t.Errorf("%s: %d %v", n, code, err)
				}
				resp, err := http.Get(s.URL + `/cases?where={"debt.invoice_number":"` + n + `"}`)
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("find %s: %v %v", n, resp, err)
					continue
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := len(s.Registrations()); n != 200 {
		t.Errorf("stored %d, want 200", n)
	}
	for w := 0; w < 8; w++ {
		if n := s.RegistrationCount(s.Creditor, fmt.Sprintf("C-%d-24", w)); n != 1 {
			t.Errorf("C-%d-24 registered %d times", w, n)
		}
	}
}
