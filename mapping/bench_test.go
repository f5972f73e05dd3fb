package mapping

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"
)

const benchHeader = "invoice_number,invoice_date,invoice_due_date,invoice_delivery_date,currency,invoice_type,reference_number,payout_reference,invoice_headline,invoice_body_text,your_contact,your_reference,our_reference,debt_description,customer.name,customer.customer_number,customer.id_number,customer.is_person,customer.is_company,customer.is_foreign,customer.address.address_line_1,customer.address.zip_code,customer.address.city,customer.address.country,customer.email,customer.mobile_number,matrix.article_number,matrix.article_description,matrix.number_of_units,matrix.unit_price,matrix.total_price_excluding_vat,matrix.unit_vat_percent,pdf_file\n"

// invoiceGen generates a canonical invoice file of n lines on the fly, three lines per
// invoice with every field filled, so that the benchmark's own input takes no memory.
type invoiceGen struct {
	n, i int
	buf  []byte
	head bool
}

func newInvoiceGen(lines int) *invoiceGen { return &invoiceGen{n: lines} }

func (g *invoiceGen) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && (g.i < g.n || !g.head) {
		if !g.head {
			g.buf = append(g.buf, benchHeader...)
			g.head = true
			continue
		}
		inv := g.i / 3
		var nb [16]byte
		num := strconv.AppendInt(append(nb[:0], "INV-"...), int64(100000+inv), 10)
		person := inv%2 == 0
		b := g.buf
		b = append(b, num...)
		b = append(b, ",2025-09-01,2025-10-01,2025-08-31,SEK,invoice,REF-1,PAY-"...)
		b = append(b, num...)
		b = append(b, ",Consulting September,Thank you for your business,Anna,PO-4411,Erik,Services,"...)
		if person {
			b = append(b, "Tolvan Tolvansson,C-"...)
			b = strconv.AppendInt(b, int64(inv), 10)
			b = append(b, ",19121212-1212,true,false,false,"...)
		} else {
			b = append(b, "ACME Aktiebolag,C-"...)
			b = strconv.AppendInt(b, int64(inv), 10)
			b = append(b, ",556026-9986,false,true,false,"...)
		}
		b = append(b, "Storgatan 42,12345,Stockholm,SE,ap@acme.example.se,070-123 45 67,ART-"...)
		b = strconv.AppendInt(b, int64(g.i%3), 10)
		switch g.i % 3 {
		case 0:
			b = append(b, ",Consulting hours,12.5,1200.00,15000.00,25%,"...)
		case 1:
			b = append(b, ",Travel (train),1,845.50,845.50,6%,"...)
		default:
			b = append(b, ",Handbook,2,249.00,498.00,12%,"...)
		}
		b = append(b, num...)
		b = append(b, ".pdf\n"...)
		g.buf = b
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

// readGenerated reads a generated file to the end, failing on any problem, and calls sample
// (when not nil) every 3,000 invoices. It returns the Reader, still holding its state.
func readGenerated(b *testing.B, lines int, sample func()) *Reader {
	r, err := NewReader(newInvoiceGen(lines), "bench.csv", Options{Account: "a", Creditor: "c"})
	if err != nil {
		b.Fatal(err)
	}
	items := 0
	for {
		reg, errs, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil || len(errs) > 0 {
			b.Fatalf("generated file has problems: %v %v", err, errs)
		}
		items += len(reg.Items)
		if sample != nil && items%3000 == 0 {
			sample()
		}
	}
	if items != (lines+2)/3 {
		b.Fatalf("read %d invoices, want %d", items, (lines+2)/3)
	}
	return r
}

// BenchmarkReadInvoices parses, validates and maps a 100,000-line invoice file (three lines
// per invoice, every field filled) and reports lines per second (wall clock and per CPU-second)
// and allocations per line.
func BenchmarkReadInvoices(b *testing.B) {
	const lines = 100_000
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readGenerated(b, lines, nil)
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if cpu > 0 {
		// Throughput per CPU-second (all threads, GC included): what a machine with a free
		// core would see as lines/s, whatever else shares it.
		b.ReportMetric(float64(lines)*float64(b.N)/cpu.Seconds(), "lines/cpu-s")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(lines*b.N), "allocs/line")
}

// BenchmarkReadInvoicesHeap reads files of growing size and reports the peak heap in use,
// sampled every 9,000 lines (garbage not yet collected included), and the live heap at the end
// of the file with the Reader still open. Everything but the duplicate index (16 bytes of
// payload per distinct invoice number) is constant in the file's size.
func BenchmarkReadInvoicesHeap(b *testing.B) {
	for _, lines := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("lines=%d", lines), func(b *testing.B) {
			var peak uint64
			var ms runtime.MemStats
			sample := func() {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak {
					peak = ms.HeapInuse
				}
			}
			runtime.GC()
			var live uint64
			for i := 0; i < b.N; i++ {
				r := readGenerated(b, lines, sample)
				runtime.GC()
				runtime.ReadMemStats(&ms)
				live = ms.HeapAlloc
				runtime.KeepAlive(r)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(live)/(1<<20), "live-heap-MB")
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
