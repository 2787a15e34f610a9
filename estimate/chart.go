package estimate

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar/internal/plot"
)

// scatter draws a cost/quality chart as a self-contained SVG: no scripts, no external fonts.
type scatter struct {
	width, height  float64
	title          string
	xLabel, yLabel string
	points         []point
	// bar, when set, draws a horizontal line at that quality (a category's quality bar).
	bar     *float64
	formatX func(float64) string
}

type point struct {
	x, y  float64
	label string
	class string // "best", "ok" or "miss"
}

const (
	padLeft, padRight, padTop, padBottom = 64.0, 24.0, 28.0, 44.0
)

func (s *scatter) svg() string {
	if len(s.points) == 0 {
		return ""
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, p := range s.points {
		xmin, xmax = math.Min(xmin, p.x), math.Max(xmax, p.x)
		ymin, ymax = math.Min(ymin, p.y), math.Max(ymax, p.y)
	}
	if s.bar != nil {
		ymin, ymax = math.Min(ymin, *s.bar), math.Max(ymax, *s.bar)
	}
	f := plot.Frame{Width: s.width, Height: s.height, Left: padLeft, Right: padRight, Top: padTop, Bottom: padBottom}
	// Margins so points do not sit on the frame.
	f.Fit(xmin, xmax, ymin, ymax, true, plot.Margins{LogX: 1.25, LinX: 0.15, Y: 0.15})
	pw, ph := f.PW(), f.PH()
	sx, sy := f.X, f.Y

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`,
		s.width, s.height, s.width, s.height, html.EscapeString(s.title))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="plot"/>`, padLeft, padTop, pw, ph)
	if s.title != "" {
		fmt.Fprintf(&b, `<text x="%.1f" y="16" class="title">%s</text>`, padLeft, html.EscapeString(s.title))
	}
	// Axes ticks.
	for _, t := range f.XTickLabels(s.formatX, 6.5) {
		x := sx(t.V)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, x, padTop, x, padTop+ph)
		if t.Label != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, x, padTop+ph+14, html.EscapeString(t.Label))
		}
	}
	for _, t := range f.YTicks() {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, padLeft, y, padLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, padLeft-6, y+4, plot.Pct(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">%s</text>`, padLeft+pw/2, s.height-8, html.EscapeString(s.xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" class="axis" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`, padTop+ph/2, padTop+ph/2, html.EscapeString(s.yLabel))
	var taken []box // what the points' labels must not cover
	if s.bar != nil {
		y := sy(*s.bar)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="bar"/>`, padLeft, y, padLeft+pw, y)
		l, text := label{padLeft + pw - 4, y - 4, "end"}, "bar "+plot.Pct(*s.bar)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="barlabel" text-anchor="%s">%s</text>`, l.x, l.y, l.anchor, text)
		taken = append(taken, l.extent(text))
	}
	// Points last, best on top, each labelled where its label overlaps no other.
	marks := make([]mark, len(s.points))
	for i, p := range s.points {
		marks[i] = mark{x: sx(p.x), y: sy(p.y), r: 5}
		if p.class == "best" {
			marks[i].r = 7
		}
	}
	labels := placeLabels(s.points, marks, taken, box{padLeft, padTop, padLeft + pw, padTop + ph})
	for _, i := range recommendedAt(s.points, false) {
		p, m, l := s.points[i], marks[i], labels[i]
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.0f" class="pt %s"><title>%s</title></circle>`, m.x, m.y, m.r, p.class, html.EscapeString(p.label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lbl %s" text-anchor="%s">%s</text>`, l.x, l.y, p.class, l.anchor, html.EscapeString(p.label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// mark is a point's circle on the canvas.
type mark struct{ x, y, r float64 }

// box is a rectangle on the canvas, from (x0, y0) to (x1, y1).
type box struct{ x0, y0, x1, y1 float64 }

// overlap returns the area a and b share.
func (a box) overlap(b box) float64 {
	w := math.Min(a.x1, b.x1) - math.Max(a.x0, b.x0)
	h := math.Min(a.y1, b.y1) - math.Max(a.y0, b.y0)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// outside returns the area of a outside b.
func (a box) outside(b box) float64 { return (a.x1-a.x0)*(a.y1-a.y0) - a.overlap(b) }

// label is where a point's label is written: its baseline's anchor and text-anchor.
type label struct {
	x, y   float64
	anchor string
}

// Label metrics, generously: an 11px label's characters are at most labelCharWidth wide on
// average, its glyphs rise labelAscent above the baseline and fall labelDescent below.
const (
	labelCharWidth            = 6.5
	labelAscent, labelDescent = 9.0, 3.0
)

// extent returns the box a label of text covers at l.
func (l label) extent(text string) box {
	w := labelCharWidth * float64(utf8.RuneCountInString(text))
	x0 := l.x
	switch l.anchor {
	case "end":
		x0 -= w
	case "middle":
		x0 -= w / 2
	}
	return box{x0, l.y - labelAscent, x0 + w, l.y + labelDescent}
}

// placeLabels chooses where each point's label goes: of a few places around its mark (above
// and to the right first, or to the left for a mark near the right edge), the first whose
// label overlaps no label already placed, no mark and nothing taken, inside the plot area;
// when every place overlaps something, the one that overlaps least. The recommended point's
// label is placed first, then the others in order.
func placeLabels(points []point, marks []mark, taken []box, plot box) []label {
	out := make([]label, len(points))
	placed := slices.Clone(taken)
	for _, i := range recommendedAt(points, true) {
		m, text := marks[i], points[i].label
		right := []label{{m.x + 8, m.y - 10, "start"}, {m.x + 8, m.y + 18, "start"}, {m.x + m.r + 4, m.y + 4, "start"}}
		left := []label{{m.x - 8, m.y - 10, "end"}, {m.x - 8, m.y + 18, "end"}, {m.x - m.r - 4, m.y + 4, "end"}}
		centred := []label{{m.x, m.y - m.r - 6, "middle"}, {m.x, m.y + m.r + 14, "middle"}}
		candidates := append(append(right, left...), centred...)
		if m.x > plot.x0+(plot.x1-plot.x0)*0.7 {
			candidates = append(append(left, right...), centred...)
		}
		best, least := 0, math.Inf(1)
		for k, l := range candidates {
			e := l.extent(text)
			cost := e.outside(plot)
			for _, p := range placed {
				cost += e.overlap(p)
			}
			for _, o := range marks {
				cost += e.overlap(box{o.x - o.r, o.y - o.r, o.x + o.r, o.y + o.r})
			}
			if cost < least {
				best, least = k, cost
			}
			if cost == 0 {
				break
			}
		}
		out[i] = candidates[best]
		placed = append(placed, out[i].extent(text))
	}
	return out
}

// recommendedAt returns the indices of points in order, but for the recommended point's: first
// when first is true (its label is placed first), else last (its mark is drawn on top).
func recommendedAt(points []point, first bool) []int {
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		bi, bj := points[i].class == "best", points[j].class == "best"
		switch {
		case bi == bj:
			return 0
		case bi == first:
			return -1
		}
		return 1
	})
	return order
}
