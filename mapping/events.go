package mapping

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/contenthash"
)

// NextEvent returns the event of the next row of a payment, crediting or cancellation file.
// When the row has errors, ev is nil and errs lists every problem of the row. A row that
// repeats an earlier row's event exactly (same creditor and key, same content) is read past,
// as the file holds that event once; the same key with other content is a row error on the
// later line. At the end it returns io.EOF; a problem that makes the rest of the file
// unreadable returns a *FileError, after which the file must be abandoned. A registration file
// is read with Next: NextEvent on one returns a *FileError.
func (r *Reader) NextEvent() (ev *domain.Event, errs []domain.RowError, err error) {
	if !r.kind.IsEvent() {
		return nil, nil, r.fileError(0, "", fmt.Sprintf("%s file holds registrations, not events: it is read with Next", article(r.kind)))
	}
	if r.fileErr != nil {
		return nil, nil, r.fileErr
	}
	for r.advance() {
		g := r.cur
		g.reset("", r.meta.recLine)
		if r.meta.broken {
			g.errs = append(g.errs, domain.RowError{File: r.file, Line: r.meta.recLine, Rule: bareQuoteRule})
			return nil, g.errs, nil
		}
		ev, repeated := r.event(g)
		if repeated {
			continue
		}
		for i := range g.errs {
			e := &g.errs[i]
			e.InvoiceNumber = shownRunes(clip(e.InvoiceNumber, MaxNumberLen))
			e.Value = shownRunes(clip(e.Value, maxValueQuote))
		}
		if g.failed() {
			return nil, g.errs, nil
		}
		return ev, g.errs, nil
	}
	if r.fileErr != nil {
		return nil, nil, r.fileErr
	}
	r.seen.Free() // the file is done: no key can appear again
	return nil, nil, io.EOF
}

// event reads the current row of an event file into g's errors and an event, and reports
// whether the row repeats an earlier row's event exactly.
func (r *Reader) event(g *group) (*domain.Event, bool) {
	g.itemNumber = r.value(fInvoiceNumber)
	if len(r.rec) != len(r.header) {
		r.fieldCountErr(g)
	}
	r.longFieldErr(g)
	r.charErrs(g)
	inv, caseID := r.target(g)
	creditor := r.creditor(g)
	ev := &domain.Event{Kind: r.kind, File: r.file, Line: r.meta.recLine}
	var keyField field
	var sum [32]byte
	switch r.kind {
	case domain.KindPayment:
		p := &domain.Payment{Account: r.opts.Account, Creditor: creditor, Case: caseID, InvoiceNumber: inv,
			Origin: domain.OriginCreditorSystem}
		p.Amount = r.eventAmount(g)
		p.Currency = r.currency(g)
		p.BankTransactionDate, _ = r.date(g, fBankTransactionDate, &r.row.BankTransactionDate, true)
		if d, ok := r.date(g, fClientRegistrationDate, &r.row.ClientRegDate, false); ok {
			p.ClientRegistrationDate = &d
		}
		p.CreditorPaymentReference = r.reference(g, fCreditorPaymentReference)
		if p.CreditorPaymentReference == "" {
			r.rowErr(g, fCreditorPaymentReference, "", required+" (it names the payment, which is sent once per reference)")
		}
		ev.Payment, ev.Key, keyField = p, p.CreditorPaymentReference, fCreditorPaymentReference
		if !g.failed() {
			sum = contenthash.Payment(&r.jbuf, p)
		}
	case domain.KindCrediting:
		c := &domain.Crediting{Account: r.opts.Account, Creditor: creditor, Case: caseID, InvoiceNumber: inv,
			Origin: domain.OriginCreditorSystem}
		c.Amount = r.eventAmount(g)
		c.Currency = r.currency(g)
		c.CreditorReference = r.reference(g, fCreditorReference)
		c.CreditInvoice = r.reference(g, fCreditInvoice)
		ev.Crediting, ev.Key, keyField = c, c.CreditorReference, fCreditorReference
		if ev.Key == "" {
			ev.Key, keyField = c.CreditInvoice, fCreditInvoice
		}
		if ev.Key == "" {
			r.rowErr(g, fCreditorReference, "", required+" (or a credit_invoice: one of them names the credit, which is sent once)")
		}
		if !g.failed() {
			sum = contenthash.Crediting(&r.jbuf, c)
		}
	default:
		x := &domain.Cancellation{Account: r.opts.Account, Creditor: creditor, Case: caseID, InvoiceNumber: inv,
			Origin: domain.OriginCreditorSystem}
		ev.Cancellation = x
		switch {
		case inv != "":
			ev.Key, keyField = inv, fInvoiceNumber
		case caseID != "":
			ev.Key, keyField = "case:"+caseID, fCase
		}
		if !g.failed() {
			sum = contenthash.Cancellation(&r.jbuf, x)
		}
	}
	ev.ContentHash = hex.EncodeToString(sum[:])
	return ev, r.checkEventSeen(g, ev, keyField, sum)
}

// target reads what the event names: an invoice number or a case id, exactly one of them.
func (r *Reader) target(g *group) (inv, caseID string) {
	inv, caseID = r.value(fInvoiceNumber), r.value(fCase)
	r.checkNumber(g, fInvoiceNumber, inv)
	switch {
	case inv == "" && caseID == "":
		r.rowErr(g, fInvoiceNumber, "", required+" (or a case id)")
	case inv != "" && caseID != "":
		r.rowErr(g, fCase, caseID, "give the invoice_number or the case, not both")
	}
	if r.kind == domain.KindCancellation && strings.HasPrefix(inv, "case:") {
		// The key of a case's cancellation is "case:" and its id: an invoice number of that
		// form would be taken for it.
		r.rowErr(g, fInvoiceNumber, inv, `an invoice number of a cancellation may not begin with "case:" (give the case id in the case column)`)
	}
	if len(caseID) > MaxNumberLen && utf8.RuneCountInString(caseID) > MaxNumberLen {
		r.rowErr(g, fCase, caseID, fmt.Sprintf("case id is longer than %d characters", MaxNumberLen))
	}
	return inv, caseID
}

// eventAmount reads the money a payment or crediting moves: required, positive, exact to the
// öre and within the bounds of every amount.
func (r *Reader) eventAmount(g *group) domain.Amount {
	a, ok := r.amount(g, fAmount, &r.row.Amount, true)
	if ok && a <= 0 {
		r.rowErr(g, fAmount, r.value(fAmount), "amount must be positive (a payment or credit is the sum received or credited, without a sign)")
	}
	return a
}

// reference reads a creditor's reference of an event, bounded as an invoice number is.
func (r *Reader) reference(g *group, f field) string {
	v := r.value(f)
	if len(v) > MaxNumberLen && utf8.RuneCountInString(v) > MaxNumberLen {
		r.rowErr(g, f, v, fmt.Sprintf("%s is longer than %d characters", f, MaxNumberLen))
	}
	return v
}

// refusedBit marks, in the line recorded for an event key, a first row that had errors.
const refusedBit = 1 << 32

// checkEventSeen reports whether the current row repeats, exactly, the event of an earlier row
// with the same creditor and key; the same key with other content, or after a refused row, is
// a row error. A zero sum means the row had errors and its content is unknown. Each key takes
// two entries of the seen set: the first row's line, and a 64-bit fingerprint of its content.
func (r *Reader) checkEventSeen(g *group, ev *domain.Event, keyField field, sum [32]byte) bool {
	if ev.Key == "" {
		return false
	}
	name := ev.Creditor() + "\x00" + ev.Key
	line := uint64(uint32(r.fieldLine(r.col[keyField])))
	refused := sum == [32]byte{}
	rec := line
	if refused {
		rec |= refusedBit
	}
	prev, seen := r.seen.LookupOrAdd(maphash.String(r.seed, name), rec)
	fingerprint := binary.BigEndian.Uint64(sum[:8])
	if !seen {
		if !refused {
			r.seen.LookupOrAdd(maphash.String(r.seed, "\x01"+name), fingerprint)
		}
		return false
	}
	first := int(uint32(prev))
	var rule string
	switch {
	case prev&refusedBit != 0:
		rule = fmt.Sprintf("%s appears again (first at line %d, which has errors); fix that row, the file may hold it once", eventName(ev), first)
	case refused:
		rule = fmt.Sprintf("%s appears again (first at line %d)", eventName(ev), first)
	default:
		was, _ := r.seen.LookupOrAdd(maphash.String(r.seed, "\x01"+name), fingerprint)
		if was == fingerprint {
			return true
		}
		rule = fmt.Sprintf("%s appears again with different content (first at line %d); it is sent once, as the first row has it", eventName(ev), first)
	}
	r.rowErr(g, keyField, r.value(keyField), rule)
	return false
}

// eventName names an event by its key for messages.
func eventName(ev *domain.Event) string {
	switch ev.Kind {
	case domain.KindPayment:
		return fmt.Sprintf("payment %q", ev.Key)
	case domain.KindCrediting:
		return fmt.Sprintf("credit %q", ev.Key)
	}
	if inv, caseID := ev.Target(); inv == "" {
		return fmt.Sprintf("the cancellation of case %q", caseID)
	}
	return fmt.Sprintf("the cancellation of invoice %q", ev.Key)
}
