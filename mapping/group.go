package mapping

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/contenthash"
)

// group is one registration being assembled from consecutive rows.
type group struct {
	key        string
	rows       int
	line       int    // physical line of the first row
	itemNumber string // the current row's invoice number, for RowError.InvoiceNumber
	errs       []domain.RowError
	warnings   int
	heads      [numFields]string // the first row's values of the registration-wide fields

	inv     *domain.InvoiceRegistration
	block   *invoiceBlock // inv's memory
	cas     *domain.CaseRegistration
	total   domain.Amount // invoice: lines plus VAT
	pdfs    []string
	numbers []numberAt // every invoice number of the group with its line, for duplicates
}

// invoiceBlock is the memory of one invoice registration, allocated at once.
type invoiceBlock struct {
	inv        domain.InvoiceRegistration
	customer   domain.Customer
	address    domain.Address
	lines      [4]domain.MatrixLine
	quantities [4]domain.Quantity
	nq         int
}

// quantity returns a pointer to a copy of q, from the invoice's block while it has room.
func (g *group) quantity(q domain.Quantity) *domain.Quantity {
	if b := g.block; b != nil && b.nq < len(b.quantities) {
		b.quantities[b.nq] = q
		b.nq++
		return &b.quantities[b.nq-1]
	}
	return &q
}

type numberAt struct {
	number string
	line   int
}

// reset empties g for a new registration, keeping the capacity of its scratch slices. What
// finish handed out (errs, the payload) is never reused.
// heads is left as it is: addRow overwrites every entry that is later compared. A field added
// to group must be cleared here.
func (g *group) reset(key string, line int) {
	g.key, g.rows, g.line, g.itemNumber = key, 1, line, ""
	g.errs, g.warnings = nil, 0
	g.inv, g.block, g.cas, g.total = nil, nil, nil, 0
	g.pdfs, g.numbers = g.pdfs[:0], g.numbers[:0]
}

func (g *group) failed() bool { return len(g.errs) > g.warnings }

// groupKey says which registration the current row belongs to. Invoice rows group by
// invoice_number; case rows by customer (id_number, else customer number and name),
// first_action, currency and creditor, as written.
func (r *Reader) groupKey() string {
	if r.kind == domain.KindInvoice {
		return r.value(fInvoiceNumber)
	}
	id := r.value(fCustIDNumber)
	if id == "" {
		id = "#" + r.value(fCustNumber) + "\x00" + r.value(fCustName)
	}
	return id + "\x00" + r.value(fFirstAction) + "\x00" + r.value(fCurrency) + "\x00" + r.value(fCreditor)
}

// addRow adds the current row to the group being read, or finishes that group and starts a new
// one; it returns the finished group, if any.
func (r *Reader) addRow() *group {
	key := r.groupKey()
	g := r.cur
	if g.rows > 0 && key == g.key {
		g.rows++
		if g.rows > maxGroupRows {
			if g.rows == maxGroupRows+1 {
				g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.meta.recLine, InvoiceNumber: g.itemNumber,
					Rule: fmt.Sprintf("a registration may have at most %d rows", maxGroupRows)})
			}
			return nil
		}
		r.continueGroup(g)
		return nil
	}
	// Two groups take turns: the one just finished is handed to finish before the next row
	// is read, so its struct (not what it points to) can be reused.
	var done *group
	if g.rows > 0 {
		done, g = g, r.spare
		r.spare = done
	}
	g.reset(key, r.meta.recLine)
	r.cur = g
	for _, f := range r.groupCols {
		g.heads[f] = r.value(f)
	}
	// A case's key holds the customer's identity number: messages name the debt instead.
	g.itemNumber = key
	if r.kind == domain.KindCase {
		g.itemNumber = r.value(fDebtInvoiceNumber)
	}
	if r.poisonLine > 0 {
		g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.meta.recLine, InvoiceNumber: g.itemNumber,
			Rule: fmt.Sprintf("the unreadable row at line %d may belong to this registration", r.poisonLine)})
		r.poisonLine = 0
	}
	if len(r.rec) != len(r.header) {
		r.fieldCountErr(g)
	}
	r.longFieldErr(g)
	r.charErrs(g)
	if r.kind == domain.KindInvoice {
		r.startInvoice(g)
	} else {
		r.startCase(g)
	}
	return done
}

// longFieldErr refuses the row for every cell longer than the limit, quoting only its start.
func (r *Reader) longFieldErr(g *group) {
	for i, v := range r.rec {
		if len(v) <= r.limits.CellChars {
			continue
		}
		n := utf8.RuneCountInString(v)
		if n <= r.limits.CellChars {
			continue
		}
		col := ""
		if i < len(r.header) {
			col = r.header[i]
		}
		g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.fieldLine(i), Column: col, InvoiceNumber: g.itemNumber,
			Value: shownRunes(clip(v, 40)), Rule: fmt.Sprintf("value is longer than %d characters (%d)", r.limits.CellChars, n)})
	}
}

func (r *Reader) fieldCountErr(g *group) {
	g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.meta.recLine, InvoiceNumber: g.itemNumber,
		Rule: fmt.Sprintf("row has %d fields but the header has %d", len(r.rec), len(r.header))})
}

// continueGroup checks that a further row agrees with the first on the registration-wide
// fields (a blank value repeats the first row's) and adds its invoice line or debt.
func (r *Reader) continueGroup(g *group) {
	g.itemNumber = g.key
	if r.kind == domain.KindCase {
		g.itemNumber = r.value(fDebtInvoiceNumber)
	}
	if len(r.rec) != len(r.header) {
		r.fieldCountErr(g)
	}
	r.longFieldErr(g)
	r.charErrs(g)
	for _, f := range r.groupCols {
		if v := r.value(f); v != "" && v != g.heads[f] {
			first := g.heads[f]
			if f == fCustIDNumber {
				first = maskID(first)
			}
			what := "this invoice"
			if r.kind == domain.KindCase {
				what = "this customer's debts"
			}
			r.rowErr(g, f, v, fmt.Sprintf("rows of %s disagree: the first row (line %d) has %q", what, g.line, first))
		}
	}
	if r.kind == domain.KindInvoice {
		r.matrixLine(g)
	} else {
		r.debt(g)
	}
}

// finish turns a complete group into a registration, or into its errors.
func (r *Reader) finish(g *group) (*domain.Registration, []domain.RowError, error) {
	var reg *domain.Registration
	switch {
	case g.failed():
		for _, n := range g.numbers {
			r.checkSeen(g, n, [32]byte{})
		}
	case g.inv != nil:
		reg = r.finishInvoice(g)
	case g.cas != nil:
		reg = r.finishCase(g)
	}
	for i := range g.errs {
		e := &g.errs[i]
		e.InvoiceNumber = shownRunes(clip(e.InvoiceNumber, MaxNumberLen))
		e.Value = shownRunes(clip(e.Value, maxValueQuote))
	}
	if g.failed() {
		return nil, g.errs, nil
	}
	return reg, g.errs, nil
}

func (r *Reader) finishInvoice(g *group) *domain.Registration {
	inv := g.inv
	if g.total <= 0 {
		g.errs = append(g.errs, domain.RowError{File: r.file, Line: g.line, Column: r.column(fTotalExclVAT), InvoiceNumber: inv.InvoiceNumber,
			Value: g.total.String(), Rule: "the invoice's total including VAT must be positive"})
	}
	sum := contenthash.Invoice(&r.jbuf, inv)
	r.checkSeen(g, g.numbers[0], sum)
	// The registration and its single item are allocated together.
	one := &struct {
		reg  domain.Registration
		item [1]domain.Item
	}{}
	one.item[0] = domain.Item{InvoiceNumber: inv.InvoiceNumber, Amount: g.total, Currency: inv.Currency,
		CustomerName: inv.Customer.Name, PDF: g.pdfs[0], ContentHash: hex.EncodeToString(sum[:])}
	one.reg = domain.Registration{Kind: r.kind, Invoice: inv, File: r.file, Line: g.line, Items: one.item[:]}
	return &one.reg
}

func (r *Reader) finishCase(g *group) *domain.Registration {
	c := g.cas
	reg := &domain.Registration{Kind: r.kind, Case: c, File: r.file, Line: g.line, Items: make([]domain.Item, len(c.Debts))}
	for i := range c.Debts {
		sum := contenthash.Case(&r.jbuf, &contenthash.CaseItem{Debt: &c.Debts[i], Customer: c.Customer, FirstAction: c.FirstAction,
			Currency: c.Currency, Creditor: c.Creditor})
		reg.Items[i] = domain.Item{InvoiceNumber: c.Debts[i].InvoiceNumber, Amount: c.Debts[i].CapitalToClaim,
			Currency: c.Currency, CustomerName: c.Customer.Name, PDF: g.pdfs[i], ContentHash: hex.EncodeToString(sum[:])}
		r.checkSeen(g, g.numbers[i], sum)
	}
	return reg
}

// checkSeen reports an invoice number met earlier in the file. A zero sum means the content is
// unknown (the row had errors).
func (r *Reader) checkSeen(g *group, n numberAt, sum [32]byte) {
	if n.number == "" {
		return
	}
	h := maphash.String(r.seed, n.number)
	content := uint64(binary.BigEndian.Uint32(sum[:4]))
	prev, ok := r.seen.LookupOrAdd(h, content<<32|uint64(uint32(n.line)))
	if !ok {
		return
	}
	firstLine := int(uint32(prev))
	what := "invoice " + n.number
	rest := "its lines must be consecutive"
	if r.kind == domain.KindCase {
		what, rest = "debt "+n.number, "each invoice number may be claimed once per file"
	}
	differs := ""
	if content != 0 && prev>>32 != 0 && prev>>32 != content {
		differs = " with different content"
	}
	col := r.column(fInvoiceNumber)
	if r.kind == domain.KindCase {
		col = r.column(fDebtInvoiceNumber)
	}
	g.errs = append(g.errs, domain.RowError{File: r.file, Line: n.line, Column: col, Value: n.number, InvoiceNumber: n.number,
		Rule: fmt.Sprintf("%s appears again%s (first at line %d); %s", what, differs, firstLine, rest)})
}

// pdfName names the PDF of the item numbered num: the pdf_file column, else the layout's
// template. The name must be a plain file name beside the CSV.
func (r *Reader) pdfName(g *group, num string) string {
	name := r.value(fPDFFile)
	if name == "" {
		t := r.layout.PDFTemplate
		if t == "none" {
			return ""
		}
		name = expandTemplate(t, func(f field) string {
			if f == fInvoiceNumber || f == fDebtInvoiceNumber {
				return num
			}
			return r.value(f)
		})
	}
	if strings.Contains(name, "..") || strings.ContainsAny(name, "/\\\x00:") || strings.HasPrefix(name, "~") {
		r.rowErr(g, fPDFFile, name, "PDF file name must be a plain file name beside the CSV (no directories, no .., no absolute path)")
		return ""
	}
	return name
}

func expandTemplate(t string, value func(field) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}')
		b.WriteString(t[:i])
		f, _ := fieldByName(t[i+1 : i+j])
		b.WriteString(value(f))
		t = t[i+j+1:]
	}
}
