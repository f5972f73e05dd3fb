package report

import (
	"slices"

	"github.com/amili-import/amili-import/domain"

	"github.com/amili-import/amili-import/ledger"
)

// fileGroup is one file content: every record of the same bytes, in the order they were seen.
type fileGroup struct {
	content string
	records []ledger.FileInfo
	claimed int
	total   []Money
	errors  int
}

// files lists each file content once: those received in the period, and those with rows or row
// errors first recorded in it.
func (b *builder) files() {
	groups := map[string]*fileGroup{}
	var order []string
	group := func(content string) *fileGroup {
		g := groups[content]
		if g == nil {
			g = &fileGroup{content: content}
			groups[content] = g
			order = append(order, content)
		}
		return g
	}
	ids := make([]ledger.FileID, 0, len(b.bk.files))
	for id := range b.bk.files {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	listed := map[string]bool{}
	for _, id := range ids {
		f := b.bk.files[id]
		g := group(b.bk.content(id))
		g.records = append(g.records, f)
		if b.inPeriod(f.FirstSeen) {
			listed[g.content] = true
		}
	}
	for _, row := range b.bk.rows {
		if c := row.claim; b.inPeriod(c.At) && b.wanted(c.Creditor) {
			g := group(b.bk.content(c.File))
			g.claimed++
			g.total = addMoney(g.total, c.Currency, c.Amount)
			listed[g.content] = true
		}
	}
	for _, p := range b.r.Problems {
		if p.Kind == ProblemRowError || p.Kind == ProblemWarning {
			group(p.content).errors++
			listed[p.content] = true
		}
	}
	for _, content := range order {
		if g := groups[content]; listed[content] && len(g.records) > 0 {
			b.addFile(g)
		}
	}
}

func addMoney(ms []Money, currency string, a domain.Amount) []Money {
	for i := range ms {
		if ms[i].Currency == currency {
			ms[i].Amount += a
			return ms
		}
	}
	return append(ms, Money{Currency: currency, Amount: a})
}

// addFile lists one file content with where its invoice numbers stand in this report.
func (b *builder) addFile(g *fileGroup) {
	first, last := g.records[0], g.records[len(g.records)-1]
	creditor := b.creditorOf(g.content)
	if creditor != "" && !b.wanted(creditor) {
		return
	}
	f := File{Name: first.Path, Creditor: creditor, Received: first.FirstSeen.In(b.r.Location), Runs: len(g.records),
		Outcome: string(last.Outcome), Claimed: g.claimed, Total: g.total, RowErrors: g.errors, Error: last.Error}
	if f.Outcome == "" {
		f.Outcome = "in progress"
	}
	for _, rec := range g.records {
		f.Rows = max(f.Rows, rec.Counts.Rows)
		if rec.Path != f.Name && !slices.Contains(f.Names, rec.Path) {
			f.Names = append(f.Names, rec.Path)
		}
	}
	for _, l := range b.r.Registrations {
		if l.content == g.content {
			f.Registered++
			if l.PDF == string(ledger.PDFUploaded) {
				f.PDFsAttached++
			}
		}
	}
	f.AlreadyImported = countContent(b.r.AlreadyImported, g.content)
	f.Pending = countContent(b.r.Pending, g.content)
	for _, p := range b.r.Problems {
		switch {
		case p.content != g.content:
		case p.Kind == ProblemRejected:
			f.Rejected++
		case p.Kind == ProblemConflict:
			f.Conflicts++
		}
	}
	b.r.Files = append(b.r.Files, f)
}

func countContent(lines []Registration, content string) int {
	n := 0
	for _, l := range lines {
		if l.content == content {
			n++
		}
	}
	return n
}
