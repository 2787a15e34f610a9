package eval

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a one-line progress bar that rewrites itself with a carriage return: pairs
// done out of the total, a bar, the rate, the time left and the failed calls so far. It is
// meant for a terminal: give it a writer only when stderr is one. It redraws at most ten
// times a second. It is safe for concurrent use.
type Progress struct {
	w     io.Writer
	total int
	now   func() time.Time
	start time.Time

	mu     sync.Mutex
	done   int
	failed int
	drawn  time.Time
	width  int
}

// NewProgress returns a progress bar for total pairs, drawn on w. now is the clock; nil
// means time.Now.
func NewProgress(w io.Writer, total int, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{w: w, total: total, now: now, start: now()}
}

// redrawEvery is the least time between two redraws.
const redrawEvery = 100 * time.Millisecond

// Add counts one finished pair, failed or not, and redraws when it is time.
func (p *Progress) Add(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	if t := p.now(); t.Sub(p.drawn) >= redrawEvery || p.done == p.total {
		p.draw(t)
	}
}

// Finish draws the final state and ends the line.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(p.now())
	fmt.Fprintln(p.w)
}

func (p *Progress) draw(t time.Time) {
	p.drawn = t
	s := p.line(t)
	pad := max(p.width-len(s), 0)
	p.width = len(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", pad))
}

// line renders the bar: "  120/1500 [##......]   8%  12.3/s  ETA 1m52s  errors 2".
func (p *Progress) line(t time.Time) string {
	const barWidth = 24
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.done) / float64(p.total)
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled)
	elapsed := t.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	eta := "--"
	switch {
	case p.done == p.total:
		eta = "0s"
	case rate > 0:
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("%*d/%d [%s] %3.0f%%  %.1f/s  ETA %s  errors %d", len(fmt.Sprint(p.total)), p.done, p.total, bar, frac*100, rate, eta, p.failed)
}
