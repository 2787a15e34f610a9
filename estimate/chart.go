package estimate

import (
	"fmt"
	"html"
	"math"
	"strings"

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
	if s.bar != nil {
		y := sy(*s.bar)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="bar"/>`, padLeft, y, padLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="barlabel" text-anchor="end">bar %s</text>`, padLeft+pw-4, y-4, plot.Pct(*s.bar))
	}
	// Points last, best on top; labels alternate above and below to limit overlaps.
	order := make([]int, 0, len(s.points))
	for i, p := range s.points {
		if p.class != "best" {
			order = append(order, i)
		}
	}
	for i, p := range s.points {
		if p.class == "best" {
			order = append(order, i)
		}
	}
	for n, i := range order {
		p := s.points[i]
		x, y := sx(p.x), sy(p.y)
		r := 5.0
		if p.class == "best" {
			r = 7
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.0f" class="pt %s"><title>%s</title></circle>`, x, y, r, p.class, html.EscapeString(p.label))
		dy := -10.0
		if n%2 == 1 {
			dy = 18
		}
		anchor := "start"
		lx := x + 8
		if x > padLeft+pw*0.7 {
			anchor, lx = "end", x-8
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lbl %s" text-anchor="%s">%s</text>`, lx, y+dy, p.class, anchor, html.EscapeString(p.label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
