package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	plottext "gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/amili-import/amili-import/domain"
)

// The chart is drawn with gonum.org/v1/plot: per day of the period, three bars in the chart's
// currency: the amount registered that day, the amount rejected that day, and the amount
// pending at the day's end. It is a PNG of ChartWidth × ChartHeight pixels (every mail client
// shows PNG), with a title, a y axis in whole currency units with thousands separators, and the
// plot's embedded Liberation fonts, so it looks the same on every machine.
const (
	ChartWidth  = 760
	ChartHeight = 340
	chartDPI    = 96
)

var (
	colRegistered = color.RGBA{R: 46, G: 125, B: 50, A: 255}
	colRejected   = color.RGBA{R: 198, G: 40, B: 40, A: 255}
	colPending    = color.RGBA{R: 239, G: 160, B: 0, A: 255}
)

// WriteChart draws the chart as a PNG.
func (r *Report) WriteChart(w io.Writer) error {
	p, err := r.chartPlot()
	if err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	c := vgimg.NewWith(vgimg.UseWH(pixels(ChartWidth), pixels(ChartHeight)), vgimg.UseDPI(chartDPI),
		vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// pixels is a length of n pixels at the chart's resolution.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / chartDPI }

func (r *Report) chartPlot() (*plot.Plot, error) {
	cur := r.ChartCurrency()
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Registered, rejected and pending per day (%s)", cur)
	p.Y.Label.Text = "Amount (" + cur + ")"
	p.Y.Min = 0
	p.Y.Tick.Marker = moneyTicks{}
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(14)
	for _, st := range []*plottext.Style{&p.Title.TextStyle, &p.Y.Label.TextStyle, &p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		st.Font.Variant = "Sans" // Liberation Sans: plain and legible at small sizes
		st.Font.Size = vg.Points(10)
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Title.TextStyle.Font.Weight = xfont.WeightBold
	p.Title.Padding = vg.Points(8)
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil // the days are categories: no lines between them
	p.Add(grid)
	series := []struct {
		name string
		col  color.Color
		val  func(Day) domain.Amount
	}{
		{"registered", colRegistered, func(d Day) domain.Amount { return d.Registered }},
		{"rejected", colRejected, func(d Day) domain.Amount { return d.Rejected }},
		{"pending at day's end", colPending, func(d Day) domain.Amount { return d.Pending }},
	}
	n := max(len(r.Days), 1)
	width := pixels(max(min((ChartWidth-120)/(n*4), 28), 2))
	top := 0.0
	for i, s := range series {
		vals := make(plotter.Values, n)
		for j, d := range r.Days {
			vals[j] = float64(s.val(d)) / 100
			top = math.Max(top, vals[j])
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = s.col, 0
		bars.Offset = width * vg.Length(i-1)
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Y.Max = niceCeil(top * 1.3) // room for the legend above the bars
	p.NominalX(r.dayLabels()...)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5 // each day's bars centred in its slot
	return p, nil
}

// dayLabels names the days under the bars ("21 Nov"), every nth one when there are many.
func (r *Report) dayLabels() []string {
	if len(r.Days) == 0 {
		return []string{"no days"}
	}
	every := (len(r.Days) + 13) / 14
	out := make([]string, len(r.Days))
	for i, d := range r.Days {
		if i%every == 0 {
			out[i] = d.Date.Format("2 Jan")
		}
	}
	return out
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// moneyTicks labels the y axis in whole currency units with thin-space thousands separators.
type moneyTicks struct{}

// Ticks implements plot.Ticker.
func (moneyTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = thousands(int64(math.Round(ticks[i].Value)))
		}
	}
	return ticks
}

// thousands writes 1234567 as "1 234 567".
func thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	out := []byte{}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
