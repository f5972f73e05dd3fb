package importer

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress draws a one-line bar of a file's registrations on a terminal.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	file     string
	n, total int
	drawn    bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

// start begins a file with total registrations.
func (p *progress) start(file string, total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.file, p.n, p.total = file, 0, total
	p.draw()
}

// step counts one registration handled.
func (p *progress) step() { p.advance(1) }

// advance counts n registrations handled at once, with one redraw.
func (p *progress) advance(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	p.draw()
}

// done ends the bar's line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

func (p *progress) draw() {
	const width = 30
	filled := width
	if p.total > 0 {
		filled = min(width, p.n*width/p.total)
	}
	name := p.file
	if len(name) > 30 {
		name = "…" + name[len(name)-29:]
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s\x1b[K", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, name)
	p.drawn = true
}
