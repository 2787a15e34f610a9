package estimate

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/internal/plot"
)

// scatter draws a cost/quality chart as a self-contained SVG: no scripts, no external fonts.
type scatter struct {
	width, height float64
	title         string
	// name is the chart's accessible name, what it plots (the title when empty); it is also
	// the SVG's <title>.
	name           string
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
	name := s.name
	if name == "" {
		name = s.title
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s"><title>%[5]s</title>`,
		s.width, s.height, s.width, s.height, html.EscapeString(name))
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
	var taken []plot.Box // what the points' labels must not cover
	if s.bar != nil {
		y := sy(*s.bar)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="bar"/>`, padLeft, y, padLeft+pw, y)
		l, text := plot.Label{X: padLeft + pw - 4, Y: y - 4, Anchor: "end"}, "bar "+plot.Pct(*s.bar)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="barlabel" text-anchor="%s">%s</text>`, l.X, l.Y, l.Anchor, text)
		taken = append(taken, l.Extent(text))
	}
	// Points last, best on top, each labelled where its label overlaps no other.
	// The recommended point's label is placed first.
	marks, texts := make([]plot.Mark, len(s.points)), make([]string, len(s.points))
	for i, p := range s.points {
		marks[i], texts[i] = plot.Mark{X: sx(p.x), Y: sy(p.y), R: 5}, p.label
		if p.class == "best" {
			marks[i].R = 7
		}
	}
	labels := plot.PlaceLabels(marks, texts, recommendedAt(s.points, true), nil, taken, plot.Box{X0: padLeft, Y0: padTop, X1: padLeft + pw, Y1: padTop + ph})
	for _, i := range recommendedAt(s.points, false) {
		p, m, l := s.points[i], marks[i], labels[i]
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.0f" class="pt %s"><title>%s</title></circle>`, m.X, m.Y, m.R, p.class, html.EscapeString(p.label))
		if l.Text == "" {
			continue
		}
		// A label shortened to fit the plot keeps its whole text as a tooltip.
		full := ""
		if l.Text != p.label {
			full = "<title>" + html.EscapeString(p.label) + "</title>"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lbl %s" text-anchor="%s">%s%s</text>`, l.X, l.Y, p.class, l.Anchor, html.EscapeString(l.Text), full)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// recommendedAt returns the indices of points in order, but for the recommended point's: first
// when first is true (its label is placed first), else last (its mark is drawn on top).
func recommendedAt(points []point, first bool) []int {
	order := make([]int, 0, len(points))
	best := slices.IndexFunc(points, func(p point) bool { return p.class == "best" })
	if first && best >= 0 {
		order = append(order, best)
	}
	for i := range points {
		if i != best {
			order = append(order, i)
		}
	}
	if !first && best >= 0 {
		order = append(order, best)
	}
	return order
}
