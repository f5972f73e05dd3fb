package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/amili-import/amili-import/domain"
)

// Workload describes the files a scenario imports.
type Workload struct {
	Kind domain.Kind
	// Items is the number of invoices (invoice files) or debts (case files).
	Items int
	// DebtsPerCase groups this many consecutive debts under one customer: one case
	// registration per group (case files only; 0 = 1).
	DebtsPerCase int
	// PDFSize is the size of each PDF in bytes; 0 writes rows without a PDF.
	PDFSize int64
	// ExtraItems adds invoices after the first Items (a changed file for a rerun).
	ExtraItems int
}

const invoiceHeader = "invoice_number,invoice_date,invoice_due_date,currency,customer.name,customer.customer_number," +
	"customer.id_number,customer.is_person,customer.is_company,customer.address.address_line_1," +
	"customer.address.zip_code,customer.address.city,customer.address.country,matrix.article_description," +
	"matrix.number_of_units,matrix.unit_price,matrix.total_price_excluding_vat,matrix.unit_vat_percent,pdf_file\n"

const caseHeader = "first_action,currency,customer.name,customer.customer_number,customer.id_number," +
	"customer.is_person,customer.is_company,customer.address.address_line_1,customer.address.zip_code," +
	"customer.address.city,customer.address.country,debts.invoice_number,debts.debt_description," +
	"debts.invoice_date,debts.capital_to_claim,debts.invoice_due_days_after_invoice_date,pdf_file\n"

// InvoiceNumber is the invoice number of item i of a generated workload.
func InvoiceNumber(i int) string { return "B-" + strconv.Itoa(1_000_000+i) }

// WriteCSV writes the workload's CSV to path, streaming (memory stays flat for any size), and
// returns its size in bytes.
func WriteCSV(path string, w Workload) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n := w.Items + w.ExtraItems
	if w.Kind == domain.KindCase {
		bw.WriteString(caseHeader)
		per := max(w.DebtsPerCase, 1)
		for i := range n {
			num := InvoiceNumber(i)
			fmt.Fprintf(bw, "debt_collection,SEK,Debtor %d,C-%d,%s,true,false,Testvägen 12,11122,Göteborg,SE,%s,Services,2025-07-07,%d.00,30,%s\n",
				i/per, i/per, personnummer(i/per), num, 100+i%900, pdfName(w, num))
		}
	} else {
		bw.WriteString(invoiceHeader)
		for i := range n {
			num := InvoiceNumber(i)
			fmt.Fprintf(bw, "%s,2025-09-01,2025-10-01,SEK,ACME Aktiebolag,C-%d,556026-9986,false,true,Storgatan 42,12345,Stockholm,SE,Consulting hours,1,%d.00,%d.00,25%%,%s\n",
				num, i, 100+i%900, 100+i%900, pdfName(w, num))
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return fi.Size(), f.Close()
}

func pdfName(w Workload, num string) string {
	if w.PDFSize <= 0 {
		return ""
	}
	return num + ".pdf"
}

// WritePDFs writes one PDF of w.PDFSize bytes per item into dir. Every PDF has the same bytes,
// so one file is written and the others are hard links to it: 500 PDFs of 5 MB cost 5 MB of
// disk, while the importer still opens, streams and uploads each one by its own name.
func WritePDFs(dir string, w Workload) error {
	if w.PDFSize <= 0 {
		return nil
	}
	first := filepath.Join(dir, ".bench-original.pdf")
	if err := writePDF(first, w.PDFSize); err != nil {
		return err
	}
	defer os.Remove(first)
	for i := range w.Items + w.ExtraItems {
		name := filepath.Join(dir, InvoiceNumber(i)+".pdf")
		if err := os.Link(first, name); err != nil {
			return fmt.Errorf("pdf: %w", err)
		}
	}
	return nil
}

// writePDF writes a file of size bytes that starts like a PDF.
func writePDF(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	head := "%PDF-1.4\n% amili-import bench\n"
	bw.WriteString(head)
	line := []byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\n")
	for left := size - int64(len(head)); left > 0; left -= int64(len(line)) {
		bw.Write(line[:min(int64(len(line)), left)])
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// personnummer is a valid 12-digit Swedish personal identity number for customer i (born
// 1950–1999, a check digit by the Luhn rule), so that every case gets a customer of its own.
func personnummer(i int) string {
	yy := 50 + i%50
	mm := 1 + (i/50)%12
	dd := 1 + (i/600)%28
	serial := (i / 16800) % 1000
	base := fmt.Sprintf("%02d%02d%02d%03d", yy, mm, dd, serial)
	sum := 0
	for k, c := range base {
		d := int(c - '0')
		if k%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprintf("19%s-%s%d", base[:6], base[6:], (10-sum%10)%10)
}
