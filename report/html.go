package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// ChartFile is the chart's file name next to report.html, and its Content-ID in the e-mail.
const ChartFile = "chart.png"

//go:embed report.html.tmpl
var htmlTemplate string

// tmpl is parsed when the first report is written, not at every start of the program.
var tmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"money": func(a domain.Amount) string { return groupThousands(a.String()) },
		"maybe": func(a *domain.Amount) string {
			if a == nil {
				return Unknown
			}
			return groupThousands(a.String())
		},
		"when":     func(t time.Time) string { return t.Format("2006-01-02 15:04") },
		"join":     strings.Join,
		"neq0":     func(a domain.Amount) bool { return a != 0 },
		"creditor": func(string) string { return "" }, // replaced per report in WriteHTML
	}).Parse(htmlTemplate))
})

// WriteHTML writes the report as one HTML page for mail clients: tables with inline styles, no
// scripts, no remote images. chartSrc is where the chart is: ChartFile on disk, "cid:"+ChartFile
// in the e-mail.
func (r *Report) WriteHTML(w io.Writer, chartSrc string) error {
	data := struct {
		*Report
		ChartSrc                template.URL
		ChartWidth, ChartHeight int
		Since                   string
		Until                   string
		Creditor                string
	}{r, template.URL(chartSrc), ChartWidth, ChartHeight, r.Period.Since.In(r.Location).Format("2006-01-02 15:04"),
		r.Period.Until.In(r.Location).Format("2006-01-02 15:04 MST"), r.creditorLabel(r.Period.Creditor)}
	t, err := tmpl().Clone()
	if err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	t.Funcs(template.FuncMap{"creditor": r.creditorLabel})
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// creditorLabel names a creditor by its name and id, or by its id alone when Amili gave no name.
func (r *Report) creditorLabel(c string) string {
	if c == "" {
		return "all creditors"
	}
	if n := r.CreditorName(c); n != "" {
		return n + " (" + c + ")"
	}
	return c
}

// groupThousands writes 1234567.89 as 1 234 567.89 (a narrow no-break space), as Swedish
// finance reads it.
func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	out := b.String() + "." + frac
	if neg {
		return "−" + out
	}
	return out
}
