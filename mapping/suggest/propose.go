package suggest

import (
	"fmt"
	"slices"
	"strings"
)

// Column is one header of the file and what the proposal does with it.
type Column struct {
	// Header is the column's name as the file writes it.
	Header string
	// Field is the Amili field the column is mapped to; "" leaves it under ignore.
	Field string
	// ByContent is true when the values, not the header's name, placed the column.
	ByContent bool
	// Reason says how the column was placed, or why it was not ("could not decide: …").
	Reason string
}

// Constant is a field the file has no column for, given one value for every row.
type Constant struct {
	Field, Value, Reason string
}

// Proposal is a mapping file proposed for one export, with the reasons for each decision.
type Proposal struct {
	// Name is the file's name, for the comments.
	Name string
	// Kind is "invoice" or "case".
	Kind string
	// Encoding is utf-8, windows-1252 or iso-8859-1; EncodingNote says what showed it.
	Encoding, EncodingNote string
	// Delimiter is ',', ';' or '\t'.
	Delimiter rune
	// Quoted is true when some fields are in double quotes.
	Quoted bool
	// DecimalComma makes ',' the decimal separator; DecimalNote says what showed it.
	DecimalComma bool
	DecimalNote  string
	// Thousands are the thousands separators to accept.
	Thousands []string
	// DateFormats are the date formats found, in the mapping file's token form.
	DateFormats []string
	// Columns are the file's headers in file order.
	Columns []Column
	// Constants are fields given a fixed value.
	Constants []Constant
	// CustomerTypes maps the customer.type column's values to person, company or foreign.
	CustomerTypes map[string]string
	// Notes are file-wide points the proposal could not settle.
	Notes []string
	// Rows is the number of data rows looked at.
	Rows int
}

// undecided starts every reason and note that leaves a choice to the reader.
const undecided = "could not decide: "

// Suggest proposes a mapping for the CSV export in data. It fails on input that is no CSV
// export: empty, binary, without a header line, or with quoting broken beyond reading.
func Suggest(data []byte, name string) (*Proposal, error) {
	s, err := sniff(data)
	if err != nil {
		return nil, err
	}
	if looksLikeValues(s.header) {
		return nil, ErrNoHeader
	}
	p := &Proposal{Name: name, Encoding: s.encoding, EncodingNote: s.encNote, Delimiter: s.delim, Quoted: s.quoted, Rows: len(s.rows)}
	profiles := make([]*profile, len(s.header))
	for i := range s.header {
		profiles[i] = newProfile(s.rows, i)
	}
	conv := p.decideNumbers(profiles)
	for _, pr := range profiles {
		pr.measure(conv)
	}
	p.setColumns(s.header)
	p.byName(profiles)
	p.decideKind()
	p.byContent(profiles)
	p.dateFormats(profiles)
	p.requirements(profiles)
	return p, nil
}

// setColumns lists the headers; a blank or repeated one cannot be mapped, since a mapping file
// names columns by their header.
func (p *Proposal) setColumns(header []string) {
	seen := map[string]int{}
	for _, h := range header {
		seen[strings.ToLower(h)]++
	}
	p.Columns = make([]Column, len(header))
	for i, h := range header {
		p.Columns[i] = Column{Header: h}
		switch {
		case h == "":
			p.Columns[i].Reason = "a column without a header name"
		case seen[strings.ToLower(h)] > 1:
			p.Columns[i].Reason = undecided + "the header is in the file more than once"
			p.Notes = appendOnce(p.Notes, fmt.Sprintf(undecided+"the header %q is in the file more than once: the file is refused until one is renamed", h))
		}
	}
}

// looksLikeValues reports a first line that is data: most of its cells numbers, dates, identity
// numbers or e-mail addresses, or none of them filled.
func looksLikeValues(header []string) bool {
	values, filled := 0, 0
	for _, h := range header {
		if h == "" {
			continue
		}
		filled++
		_, _, date := dateFormatOf([]string{h})
		if date || numberShape.MatchString(h) || idShape.MatchString(h) || isEmail(h) {
			values++
		}
	}
	return filled == 0 || values*2 >= filled
}

// decideNumbers picks the decimal separator from the values that show one ("12,50", "1.234,5"
// against "12.50"), and the thousands separators the numbers use with it.
func (p *Proposal) decideNumbers(profiles []*profile) numberConv {
	var comma, dot int
	for _, pr := range profiles {
		if pr.isDate {
			continue
		}
		for _, v := range pr.values {
			switch decimalVote(v) {
			case ',':
				comma++
			case '.':
				dot++
			}
		}
	}
	conv := numberConv{decimal: '.'}
	switch {
	case comma > 0 && dot == 0:
		conv.decimal, p.DecimalNote = ',', fmt.Sprintf("%d values with a decimal comma", comma)
	case dot > 0 && comma == 0:
		p.DecimalNote = fmt.Sprintf("%d values with a decimal point", dot)
	case comma == 0:
		p.DecimalNote = undecided + `no value shows a decimal separator; "." assumed`
	case comma > dot:
		conv.decimal, p.DecimalNote = ',', fmt.Sprintf(undecided+"%d values with a decimal comma, %d with a point", comma, dot)
	default:
		p.DecimalNote = fmt.Sprintf(undecided+"%d values with a decimal point, %d with a comma", dot, comma)
	}
	p.DecimalComma = conv.decimal == ','
	p.Thousands = []string{" ", "\u00a0"}
	for _, pr := range profiles {
		if pr.isDate {
			continue
		}
		for _, v := range pr.values {
			for _, t := range thousandsSeen(v, conv.decimal) {
				if t == "," {
					p.Notes = appendOnce(p.Notes, undecided+`numbers like "`+v+`" use "," between thousands with a decimal point, which a mapping file cannot read: export them without thousands separators`)
					continue
				}
				if !slices.Contains(p.Thousands, t) {
					p.Thousands = append(p.Thousands, t)
				}
			}
		}
	}
	conv.thousands = p.Thousands
	return conv
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// taken reports whether some column is already mapped to f, and which.
func (p *Proposal) taken(f string) (string, bool) {
	for _, c := range p.Columns {
		if c.Field == f {
			return c.Header, true
		}
	}
	return "", false
}

// byName maps each header whose name is a known synonym, when its values suit the field.
func (p *Proposal) byName(profiles []*profile) {
	for i := range p.Columns {
		c := &p.Columns[i]
		f := fieldByName(c.Header)
		if why, ok := tables().notSent[normHeader(c.Header)]; ok && c.Reason == "" {
			c.Reason = why
		}
		if f == "" || c.Reason != "" {
			continue
		}
		if other, ok := p.taken(f); ok {
			c.Reason = fmt.Sprintf(undecided+"named like %s, which %q already is", f, other)
			continue
		}
		if ok, why := profiles[i].fits(f); !ok {
			c.Reason = fmt.Sprintf(undecided+"named like %s, but %s (%s)", f, why, profiles[i].samples())
			continue
		}
		c.Field, c.Reason = f, "by name"
		if f == "customer.id_number" && profiles[i].ids < profiles[i].idShaped {
			c.Reason = fmt.Sprintf("by name; %d of %d values fail the Luhn check", profiles[i].idShaped-profiles[i].ids, profiles[i].n())
		}
		if f == "customer.type" {
			p.CustomerTypes = profiles[i].types
		}
	}
}

// decideKind makes the file a case file when it has an outstanding amount and no invoice lines,
// and moves the fields named for the other kind out of the mapping.
func (p *Proposal) decideKind() {
	_, capital := p.taken("debts.capital_to_claim")
	_, price := p.taken("matrix.unit_price")
	_, total := p.taken("matrix.total_price_excluding_vat")
	p.Kind = "invoice"
	if capital && !price && !total {
		p.Kind = "case"
	}
	for i := range p.Columns {
		c := &p.Columns[i]
		if c.Field == "" {
			continue
		}
		if p.Kind == "case" {
			if cf, ok := caseFields[c.Field]; ok {
				if _, dup := p.taken(cf); !dup {
					c.Field = cf
				}
			}
		}
		if !inKind(c.Field, p.Kind) {
			c.Reason = fmt.Sprintf(undecided+"named like %s, which %s files do not have", c.Field, p.Kind)
			c.Field = ""
		}
	}
}

// inKind reports whether field f belongs in a file of kind k.
func inKind(f, k string) bool {
	caseOnly := strings.HasPrefix(f, "debts.") || f == "first_action"
	invoiceOnly := strings.HasPrefix(f, "matrix.") || (!strings.Contains(f, ".") && f != "currency" && f != "creditor" && f != "pdf_file" && f != "first_action")
	if k == "case" {
		return !invoiceOnly
	}
	return !caseOnly
}
