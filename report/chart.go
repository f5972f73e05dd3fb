package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strconv"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/amili-import/amili-import/domain"
)

// The chart: per day of the period, three bars in the chart's currency: the amount registered
// that day, the amount rejected that day, and the amount pending at the day's end. It is a PNG
// of ChartWidth × ChartHeight pixels (every mail client shows PNG), with a title, a y axis in
// whole currency units with thousands separators and horizontal grid lines, and a legend, in
// the Go fonts (golang.org/x/image/font/gofont), so it looks the same on every machine. The
// fonts are parsed when the first chart is drawn, not when the program starts.
const (
	ChartWidth  = 760
	ChartHeight = 340
)

// The plot area's margins, in pixels.
const (
	chartLeft   = 84
	chartRight  = 16
	chartTop    = 62
	chartBottom = 34
)

var (
	colRegistered = color.RGBA{R: 46, G: 125, B: 50, A: 255}
	colRejected   = color.RGBA{R: 198, G: 40, B: 40, A: 255}
	colPending    = color.RGBA{R: 239, G: 160, B: 0, A: 255}
	colInk        = color.RGBA{R: 33, G: 33, B: 33, A: 255}
	colGrid       = color.RGBA{R: 224, G: 224, B: 224, A: 255}
)

// chartFaces are the chart's two type faces, made once.
var chartFaces = sync.OnceValues(func() (*faces, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	opts := &opentype.FaceOptions{Size: 10, DPI: 96, Hinting: font.HintingFull}
	text, err := opentype.NewFace(reg, opts)
	if err != nil {
		return nil, err
	}
	opts.Size = 13
	title, err := opentype.NewFace(bold, opts)
	if err != nil {
		return nil, err
	}
	return &faces{text: text, title: title}, nil
})

type faces struct{ text, title font.Face }

// series is one kind of bar.
type series struct {
	name string
	col  color.RGBA
	val  func(Day) domain.Amount
}

var chartSeries = []series{
	{"registered", colRegistered, func(d Day) domain.Amount { return d.Registered }},
	{"rejected", colRejected, func(d Day) domain.Amount { return d.Rejected }},
	{"pending at day's end", colPending, func(d Day) domain.Amount { return d.Pending }},
}

// WriteChart draws the chart as a PNG.
func (r *Report) WriteChart(w io.Writer) error {
	f, err := chartFaces()
	if err != nil {
		return fmt.Errorf("write chart: fonts: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, ChartWidth, ChartHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	c := &canvas{img: img, f: f}
	cur := r.ChartCurrency()
	title := fmt.Sprintf("Registered, rejected and pending per day (%s)", cur)
	c.text(f.title, (ChartWidth-c.width(f.title, title))/2, 22, title, colInk)
	c.text(f.text, 8, chartTop-10, "Amount ("+cur+")", colInk)
	top := r.chartAxis(c)
	r.chartBars(c, top)
	c.legend()
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// chartAxis draws the y axis, its labels and grid lines, and returns the axis's top value in
// whole currency units.
func (r *Report) chartAxis(c *canvas) float64 {
	peak := 0.0
	for _, d := range r.Days {
		for _, s := range chartSeries {
			peak = math.Max(peak, float64(s.val(d))/100)
		}
	}
	top := niceCeil(peak * 1.3) // room for the legend above the bars
	step := niceCeil(top / 6)
	for v := 0.0; v <= top+step/2; v += step {
		y := c.y(v, top)
		c.rect(chartLeft, y, ChartWidth-chartRight, y+1, colGrid)
		label := thousands(int64(math.Round(v)))
		c.text(c.f.text, chartLeft-8-c.width(c.f.text, label), y+4, label, colInk)
	}
	c.rect(chartLeft, chartTop, chartLeft+1, ChartHeight-chartBottom, colInk)
	c.rect(chartLeft, ChartHeight-chartBottom, ChartWidth-chartRight, ChartHeight-chartBottom+1, colInk)
	return top
}

// chartBars draws each day's three bars, centred in the day's slot, and the day's label.
func (r *Report) chartBars(c *canvas, top float64) {
	n := max(len(r.Days), 1)
	slot := float64(ChartWidth-chartLeft-chartRight) / float64(n)
	width := max(min(int(slot)/4, 28), 2)
	labels := r.dayLabels()
	for j := range n {
		mid := chartLeft + int(slot*(float64(j)+0.5))
		if j < len(r.Days) {
			for i, s := range chartSeries {
				x := mid + width*(i-1) - width/2
				c.rect(x, c.y(float64(s.val(r.Days[j]))/100, top), x+width, ChartHeight-chartBottom, s.col)
			}
		}
		if j < len(labels) && labels[j] != "" {
			c.text(c.f.text, mid-c.width(c.f.text, labels[j])/2, ChartHeight-chartBottom+18, labels[j], colInk)
		}
	}
}

// canvas is the image being drawn and the faces to write on it with.
type canvas struct {
	img *image.RGBA
	f   *faces
}

// y is the pixel row of value v on an axis from 0 to top.
func (c *canvas) y(v, top float64) int {
	h := float64(ChartHeight - chartTop - chartBottom)
	return ChartHeight - chartBottom - int(math.Round(v/top*h))
}

// rect fills the rectangle from (x0, y0) to (x1, y1).
func (c *canvas) rect(x0, y0, x1, y1 int, col color.RGBA) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

// text writes s with its baseline at y, starting at x.
func (c *canvas) text(face font.Face, x, y int, s string, col color.RGBA) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// width is how many pixels s takes in face.
func (c *canvas) width(face font.Face, s string) int {
	return font.MeasureString(face, s).Ceil()
}

// legend names the series at the plot area's top right, each beside a square of its colour.
func (c *canvas) legend() {
	x := ChartWidth - chartRight - 8
	for i := len(chartSeries) - 1; i >= 0; i-- {
		s := chartSeries[i]
		x -= c.width(c.f.text, s.name)
		c.text(c.f.text, x, chartTop+14, s.name, colInk)
		x -= 18
		c.rect(x, chartTop+4, x+12, chartTop+16, s.col)
		x -= 16
	}
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
