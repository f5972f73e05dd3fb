package report

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"strconv"
)

// The chart: two bar panels over the period's days, registrations (top) and registered amount
// in whole currency units (bottom), each with its maximum and zero on the y axis and the day of
// month under every bar. Text is drawn with a 3×5 pixel font of digits, so no font module is
// needed; the legend is in the HTML.
const (
	chartW     = 640
	chartH     = 260
	chartScale = 2 // font pixel size
	marginL    = 70
	marginR    = 10
	panelH     = 90
	panelGap   = 30
	top1       = 10
)

var (
	colBg    = color.RGBA{255, 255, 255, 255}
	colAxis  = color.RGBA{80, 80, 80, 255}
	colCount = color.RGBA{45, 108, 176, 255}
	colMoney = color.RGBA{46, 139, 87, 255}
	colText  = color.RGBA{30, 30, 30, 255}
)

// WriteChart draws the chart as a PNG.
func (r *Report) WriteChart(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	draw.Draw(img, img.Bounds(), &image.Uniform{colBg}, image.Point{}, draw.Src)
	counts := make([]int64, len(r.Days))
	amounts := make([]int64, len(r.Days))
	for i, d := range r.Days {
		counts[i] = int64(d.Count)
		amounts[i] = int64(d.Amount) / 100
	}
	top2 := top1 + panelH + panelGap
	panel(img, top1, counts, colCount)
	panel(img, top2, amounts, colMoney)
	// Day of month under each bar of the lower panel (every nth when crowded).
	n := len(r.Days)
	if n > 0 {
		slot := (chartW - marginL - marginR) / n
		every := 1
		for slot*every < 4*4*chartScale {
			every++
		}
		for i, d := range r.Days {
			if i%every != 0 {
				continue
			}
			label := strconv.Itoa(d.Date.Day())
			x := marginL + i*slot + slot/2 - textWidth(label)/2
			drawText(img, x, top2+panelH+6, label)
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// panel draws one bar series with its y axis labelled 0 and the maximum.
func panel(img *image.RGBA, top int, vals []int64, c color.Color) {
	left, right, bottom := marginL, chartW-marginR, top+panelH
	fill(img, left-1, top, left, bottom+1, colAxis)
	fill(img, left-1, bottom, right, bottom+1, colAxis)
	var maxV int64
	for _, v := range vals {
		maxV = max(maxV, v)
	}
	drawText(img, left-6-textWidth("0"), bottom-5*chartScale, "0")
	top10 := strconv.FormatInt(maxV, 10)
	drawText(img, left-6-textWidth(top10), top, top10)
	fill(img, left-4, top, left-1, top+1, colAxis)
	if len(vals) == 0 || maxV == 0 {
		return
	}
	slot := (right - left) / len(vals)
	bar := max(slot*7/10, 1)
	for i, v := range vals {
		if v <= 0 {
			continue
		}
		h := int(int64(panelH-2) * v / maxV)
		if h == 0 {
			h = 1
		}
		x := left + i*slot + (slot-bar)/2
		fill(img, x, bottom-h, x+bar, bottom, c)
	}
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

// digits is a 3×5 bitmap font: each glyph is five rows of three bits, high bit left.
var digits = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 1, 1},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, '-': {0, 0, 7, 0, 0},
}

func textWidth(s string) int { return len(s) * 4 * chartScale }

func drawText(img *image.RGBA, x, y int, s string) {
	for i, ch := range s {
		g, ok := digits[ch]
		if !ok {
			continue
		}
		for row := 0; row < 5; row++ {
			for col := 0; col < 3; col++ {
				if g[row]&(4>>col) != 0 {
					px := x + i*4*chartScale + col*chartScale
					py := y + row*chartScale
					fill(img, px, py, px+chartScale, py+chartScale, colText)
				}
			}
		}
	}
}
