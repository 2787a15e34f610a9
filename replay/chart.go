package replay

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/plot"
)

// chart draws the report's cost/quality plane as a self-contained SVG (no scripts, no
// external fonts or styles: the classes are styled by the page, and the SVG reads without
// them): single models, the oracle, the spec's routes and cascades as labelled marks, the
// zero router's envelope as a dashed line, the frontier as a dotted staircase, each router
// curve as a line, the quality bar and the calibrated choice, with a legend of every line and
// every kind of mark drawn.
//
// When no result has a cost (RouteLLM's data has none), the x axis is the share of calls to
// the strong model instead.
type chart struct {
	width, height float64
}

const (
	chartPadLeft, chartPadRight, chartPadTop, chartPadBottom = 64.0, 24.0, 40.0, 48.0
)

// zeroRouterSteps is how many pieces each segment of the zero router's envelope is drawn in
// on a logarithmic cost axis.
const zeroRouterSteps = 24

// curveColors are distinguishable on white and in greyscale print.
var curveColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

func (c chart) svg(rep *Report) string {
	all := rep.All()
	if len(all) == 0 {
		return ""
	}
	byCost := false
	for _, r := range all {
		if r.CostUSD() > 0 {
			byCost = true
			break
		}
	}
	xOf := func(r *Result) float64 { return r.StrongShare }
	xLabel := "share of calls to " + rep.Strong
	formatX := func(x float64) string { return plot.Pct(x) }
	if byCost {
		xOf = func(r *Result) float64 { return r.CostUSD() }
		xLabel = "mean cost per item (USD)"
		formatX = func(x float64) string { return clearbar.MoneyFromUSD(x).String() }
	}

	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, r := range all {
		if r.Items == 0 {
			continue
		}
		x := xOf(r)
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, r.Quality), math.Max(ymax, r.Quality)
	}
	if math.IsInf(xmin, 1) {
		return ""
	}
	if rep.QualityBar != nil {
		ymin, ymax = math.Min(ymin, *rep.QualityBar), math.Max(ymax, *rep.QualityBar)
	}
	legend := chartLegend(rep, byCost)
	rows := legend.layout(chartPadLeft, c.width-chartPadRight)
	top := chartPadTop + legendRowHeight*float64(rows-1)
	f := plot.Frame{Width: c.width, Height: c.height, Left: chartPadLeft, Right: chartPadRight, Top: top, Bottom: chartPadBottom}
	f.Fit(xmin, xmax, ymin, ymax, byCost, plot.Margins{LogX: 1.3, LinX: 0.08, Y: 0.1})
	if byCost && f.LogX {
		xLabel = "mean cost per item (USD, log scale)"
	}
	pw, ph := f.PW(), f.PH()
	sx, sy, clampX := f.X, f.Y, f.ClampX

	var b strings.Builder
	title := "Cost and quality of every policy"
	if !byCost {
		title = "Quality by share of strong calls (the data has no costs)"
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s" font-family="sans-serif" font-size="11">`,
		c.width, c.height, c.width, c.height, html.EscapeString(title))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fafafa" stroke="#ccc"/>`, chartPadLeft, top, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="16" font-size="13" font-weight="bold">%s</text>`, chartPadLeft, html.EscapeString(title))
	for _, t := range f.XTickLabels(formatX, 6.5) {
		x := sx(t.V)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, x, top, x, top+ph)
		if t.Label != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`, x, top+ph+14, html.EscapeString(t.Label))
		}
	}
	for _, t := range f.YTicks() {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, chartPadLeft, y, chartPadLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`, chartPadLeft-6, y+4, plot.Pct(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, chartPadLeft+pw/2, c.height-10, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">quality</text>`, top+ph/2, top+ph/2)
	if rep.QualityBar != nil {
		y := sy(*rep.QualityBar)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#b00" stroke-dasharray="2 3"/>`, chartPadLeft, y, chartPadLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#b00">bar %s</text>`, chartPadLeft+pw-4, y-4, plot.Pct(*rep.QualityBar))
	}
	// The zero router: the single models' envelope, flat after its last vertex. It is linear
	// in cost between vertices, so on a logarithmic cost axis each segment is drawn through
	// points along it, not as the chord, which would lie above the mixes it stands for.
	if byCost && len(rep.ZeroRouter) > 0 {
		var pts []string
		for j, p := range rep.ZeroRouter {
			if j > 0 && f.LogX {
				a := rep.ZeroRouter[j-1]
				for k := 1; k < zeroRouterSteps; k++ {
					s := float64(k) / zeroRouterSteps
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(clampX(a.Cost+s*(p.Cost-a.Cost))), sy(a.Quality+s*(p.Quality-a.Quality))))
				}
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(clampX(p.Cost)), sy(p.Quality)))
		}
		last := rep.ZeroRouter[len(rep.ZeroRouter)-1]
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(f.XMax), sy(last.Quality)))
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#888" stroke-width="1.5" stroke-dasharray="6 4"><title>zero router (random mixes of single models)</title></polyline>`, strings.Join(pts, " "))
	}
	// The frontier: at each cost, the best quality of a policy that costs no more, a step
	// up at each of its points.
	if byCost && len(rep.Frontier) > 1 {
		var pts []string
		for j, p := range rep.Frontier {
			if j > 0 {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(clampX(p.Cost)), sy(rep.Frontier[j-1].Quality)))
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(clampX(p.Cost)), sy(p.Quality)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#111" stroke-width="1" stroke-dasharray="1 2"><title>frontier (no realisable policy is both cheaper and better; bounds such as the oracle are left out)</title></polyline>`, strings.Join(pts, " "))
	}
	// Curves.
	for i, cv := range rep.Curves {
		color := curveColors[i%len(curveColors)]
		// Drawn along the x axis: an N-model router's points are not ordered by strong share.
		drawn := slices.Clone(cv.Points)
		slices.SortStableFunc(drawn, func(a, b *Result) int { return cmp.Compare(xOf(a), xOf(b)) })
		var pts []string
		for _, p := range drawn {
			if p.Items == 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(clampX(xOf(p))), sy(p.Quality)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.8"><title>%s</title></polyline>`, strings.Join(pts, " "), color, html.EscapeString(cv.Name))
		for _, p := range cv.Points {
			if p.Items == 0 {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1.8" fill="%s"><title>%s</title></circle>`, sx(clampX(xOf(p))), sy(p.Quality), color, html.EscapeString(pointTitle(p, byCost)))
		}
	}
	legend.write(&b)
	// Marks, then their labels, each where it covers no other label and no mark: first those
	// of the single models, the oracle and the spec's routes, then of the bounds (a cascade
	// with a perfect validator), then of the other cascades, which are numerous and are
	// labelled only where their label fits (their names are in the table and the tooltips).
	var marks []plot.Mark
	var texts, fills []string
	var optional []bool
	var first, bounds, rest []int
	for _, r := range rep.Results {
		if r.Items == 0 {
			continue
		}
		x, y := sx(clampX(xOf(r))), sy(r.Quality)
		title := html.EscapeString(pointTitle(r, byCost))
		radius, fill, order := 4.5, "#333", &first
		switch markOf(r) {
		case markSingle:
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4.5" fill="#333"><title>%s</title></circle>`, x, y, title)
		case markOracle:
			fmt.Fprintf(&b, `<path d="M%.1f %.1fl6 6l-6 6l-6 -6z" fill="#f2c200" stroke="#333"><title>%s</title></path>`, x, y-6, title)
			radius = 6
		case markSpec:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="9" height="9" fill="#b00"><title>%s</title></rect>`, x-4.5, y-4.5, title)
		default:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="7" height="7" fill="none" stroke="#555"><title>%s</title></rect>`, x-3.5, y-3.5, title)
			radius, fill, order = 3.5, "#555", &rest
			if !r.Realisable {
				order = &bounds
			}
		}
		*order = append(*order, len(marks))
		marks, texts, fills = append(marks, plot.Mark{X: x, Y: y, R: radius}), append(texts, shortName(r)), append(fills, fill)
		optional = append(optional, order == &rest)
	}
	var taken []plot.Box
	if rep.QualityBar != nil {
		y := sy(*rep.QualityBar)
		taken = append(taken, plot.Label{X: chartPadLeft + pw - 4, Y: y - 4, Anchor: "end"}.Extent("bar "+plot.Pct(*rep.QualityBar)))
	}
	area := plot.Box{X0: chartPadLeft, Y0: top, X1: chartPadLeft + pw, Y1: top + ph}
	for i, l := range plot.PlaceLabels(marks, texts, slices.Concat(first, bounds, rest), optional, taken, area) {
		if l.Text == "" {
			continue
		}
		full := ""
		if l.Text != texts[i] {
			full = "<title>" + html.EscapeString(texts[i]) + "</title>"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s">%s%s</text>`, l.X, l.Y, l.Anchor, fills[i], html.EscapeString(l.Text), full)
	}
	if cal := rep.Calibration; cal != nil && cal.Chosen != nil && cal.Chosen.Items > 0 {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="9" fill="none" stroke="#b00" stroke-width="2"><title>calibrated: %s</title></circle>`,
			sx(clampX(xOf(cal.Chosen))), sy(cal.Chosen.Quality), html.EscapeString(cal.Chosen.Name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// pointTitle is a mark's tooltip: the policy's quality and cost per item, or, when the data
// has no costs (byCost false), its share of calls to the strong model, the chart's x.
func pointTitle(r *Result, byCost bool) string {
	t := fmt.Sprintf("%s: quality %s, %s per item", r.Name, plot.Pct(r.Quality), clearbar.MoneyFromUSD(r.CostUSD()))
	if !byCost {
		t = fmt.Sprintf("%s: quality %s, %s of calls to the strong model", r.Name, plot.Pct(r.Quality), plot.Pct(r.StrongShare))
	}
	if r.Narrow {
		t += fmt.Sprintf(" (on %d items only: not comparable)", r.Items)
	}
	return t
}

// maxLabel is the most characters a mark's label has.
const maxLabel = 72

// shortName labels a mark: the policy's name with its models' names without their vendor
// prefixes ("mistralai/"), and without "cascade " (the mark says it is one), shortened to
// maxLabel characters. The settings in parentheses at its end, which tell a spec's route
// with an assumed validator from the same route with its validators, or a bound from a
// cascade, are kept: what is shortened is the part before them.
func shortName(r *Result) string {
	name := r.Name
	for _, m := range r.Models {
		if i := strings.LastIndex(m, "/"); i >= 0 {
			name = strings.ReplaceAll(name, m, m[i+1:])
		}
	}
	if r.Kind == KindCascade {
		name = strings.TrimPrefix(name, "cascade ")
	}
	if utf8.RuneCountInString(name) <= maxLabel {
		return name
	}
	head, settings := name, ""
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		head, settings = name[:i], name[i:]
	}
	keep := maxLabel - 1 - utf8.RuneCountInString(settings)
	if keep < 8 {
		// Settings too long to keep whole: the name is cut at its end instead.
		head, keep = name, maxLabel-1
		settings = ""
	}
	return string([]rune(head)[:keep]) + "…" + settings
}

// The kinds of mark the chart draws for a result.
const (
	markSingle = iota
	markOracle
	markSpec
	markOther
)

func markOf(r *Result) int {
	switch r.Kind {
	case KindSingle:
		return markSingle
	case KindOracle:
		return markOracle
	case KindSpec, "split":
		return markSpec
	}
	return markOther
}

// legendRowHeight is the height of a row of the chart's legend; rows past the first push the
// plot down.
const legendRowHeight = 15.0

// legendItem is an entry of the chart's legend: a line's glyph and name in its colour, or a
// mark drawn before its text.
type legendItem struct {
	text, color string
	// mark draws the mark centred at (x, y); nil for a line, whose glyph is in the text.
	mark func(x, y float64) string
	// x and y are where layout put the item.
	x, y float64
}

type legend []legendItem

// chartLegend lists the chart's lines (router curves, zero router, frontier), then each kind
// of mark it draws, then the calibrated choice's ring.
func chartLegend(rep *Report, byCost bool) legend {
	var l legend
	for i, cv := range rep.Curves {
		l = append(l, legendItem{text: "━ " + cv.Name, color: curveColors[i%len(curveColors)]})
	}
	if byCost && len(rep.ZeroRouter) > 0 {
		l = append(l, legendItem{text: "╌ zero router", color: "#888"})
	}
	if byCost && len(rep.Frontier) > 1 {
		l = append(l, legendItem{text: "┈ frontier (bounds left out)", color: "#111"})
	}
	present := map[int]bool{}
	var others []string
	bound := false
	for _, r := range rep.Results {
		if r.Items == 0 {
			continue
		}
		k := markOf(r)
		present[k] = true
		if k == markOther {
			if !slices.Contains(others, r.Kind) {
				others = append(others, r.Kind)
			}
			bound = bound || !r.Realisable
		}
	}
	if present[markSingle] {
		l = append(l, legendItem{text: "single model", color: "#333", mark: func(x, y float64) string {
			return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4.5" fill="#333"/>`, x, y)
		}})
	}
	if present[markOracle] {
		l = append(l, legendItem{text: "oracle (a bound)", color: "#333", mark: func(x, y float64) string {
			return fmt.Sprintf(`<path d="M%.1f %.1fl6 6l-6 6l-6 -6z" fill="#f2c200" stroke="#333"/>`, x, y-6)
		}})
	}
	if present[markSpec] {
		l = append(l, legendItem{text: "spec's route", color: "#333", mark: func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="9" height="9" fill="#b00"/>`, x-4.5, y-4.5)
		}})
	}
	if present[markOther] {
		text := strings.Join(others, ", ")
		if bound {
			text += " (or a bound, as with a perfect validator)"
		}
		l = append(l, legendItem{text: text, color: "#333", mark: func(x, y float64) string {
			return fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="7" height="7" fill="none" stroke="#555"/>`, x-3.5, y-3.5)
		}})
	}
	if cal := rep.Calibration; cal != nil && cal.Chosen != nil && cal.Chosen.Items > 0 {
		l = append(l, legendItem{text: "calibrated choice", color: "#333", mark: func(x, y float64) string {
			return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="6" fill="none" stroke="#b00" stroke-width="2"/>`, x, y)
		}})
	}
	return l
}

// width is the room the item takes, a gap after it included: its text is taken to be 6
// pixels a character wide, an 11px sans-serif's average with some room to spare.
func (it legendItem) width() float64 {
	w := 6*float64(utf8.RuneCountInString(it.text)) + 16
	if it.mark != nil {
		w += 14
	}
	return w
}

// layout places the items in rows from x0 to x1, the first row's baseline at y 32, and
// returns how many rows there are (at least 1).
func (l legend) layout(x0, x1 float64) int {
	x, y, rows := x0, 32.0, 1
	for i := range l {
		if w := l[i].width(); x > x0 && x+w > x1 {
			x, y, rows = x0, y+legendRowHeight, rows+1
		}
		l[i].x, l[i].y = x, y
		x += l[i].width()
	}
	return rows
}

func (l legend) write(b *strings.Builder) {
	for _, it := range l {
		x := it.x
		if it.mark != nil {
			b.WriteString(it.mark(x+5, it.y-4))
			x += 14
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`, x, it.y, it.color, html.EscapeString(it.text))
	}
}
