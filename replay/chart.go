package replay

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/plot"
)

// chart draws the report's cost/quality plane as a self-contained SVG (no scripts, no
// external fonts or styles: the classes are styled by the page, and the SVG reads without
// them): single models, the oracle, the spec's routes and cascades as labelled marks, the
// zero router's envelope as a dashed line, the frontier as a dotted staircase, each router
// curve as a line, the quality bar and the calibrated choice.
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
	f := plot.Frame{Width: c.width, Height: c.height, Left: chartPadLeft, Right: chartPadRight, Top: chartPadTop, Bottom: chartPadBottom}
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
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#fafafa" stroke="#ccc"/>`, chartPadLeft, chartPadTop, pw, ph)
	fmt.Fprintf(&b, `<text x="%.1f" y="16" font-size="13" font-weight="bold">%s</text>`, chartPadLeft, html.EscapeString(title))
	for _, t := range f.XTickLabels(formatX, 6.5) {
		x := sx(t.V)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, x, chartPadTop, x, chartPadTop+ph)
		if t.Label != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`, x, chartPadTop+ph+14, html.EscapeString(t.Label))
		}
	}
	for _, t := range f.YTicks() {
		y := sy(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`, chartPadLeft, y, chartPadLeft+pw, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#555">%s</text>`, chartPadLeft-6, y+4, plot.Pct(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, chartPadLeft+pw/2, c.height-10, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">quality</text>`, chartPadTop+ph/2, chartPadTop+ph/2)
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
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#111" stroke-width="1" stroke-dasharray="1 2"><title>frontier (no policy is both cheaper and better)</title></polyline>`, strings.Join(pts, " "))
	}
	// Curves.
	legend := []string{}
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
		legend = append(legend, fmt.Sprintf(`<tspan fill="%s">━ %s</tspan>`, color, html.EscapeString(cv.Name)))
	}
	if byCost && len(rep.ZeroRouter) > 0 {
		legend = append(legend, `<tspan fill="#888">╌ zero router</tspan>`)
	}
	if byCost && len(rep.Frontier) > 1 {
		legend = append(legend, `<tspan fill="#111">┈ frontier</tspan>`)
	}
	if len(legend) > 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="32">%s</text>`, chartPadLeft, strings.Join(legend, "  "))
	}
	// Marks, then the labels of the single models, the oracle and the spec's routes, each where
	// it covers no other label and no mark (cascades are numerous: their names are in the
	// table and the tooltips).
	var marks []plot.Mark
	var texts []string
	for _, r := range rep.Results {
		if r.Items == 0 {
			continue
		}
		x, y := sx(clampX(xOf(r))), sy(r.Quality)
		title := html.EscapeString(pointTitle(r, byCost))
		text, radius := shortName(r), 4.5
		switch r.Kind {
		case KindSingle:
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4.5" fill="#333"><title>%s</title></circle>`, x, y, title)
		case "oracle":
			fmt.Fprintf(&b, `<path d="M%.1f %.1fl6 6l-6 6l-6 -6z" fill="#f2c200" stroke="#333"><title>%s</title></path>`, x, y-6, title)
			radius = 6
		case "spec", "split":
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="9" height="9" fill="#b00"><title>%s</title></rect>`, x-4.5, y-4.5, title)
		default:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="7" height="7" fill="none" stroke="#555"><title>%s</title></rect>`, x-3.5, y-3.5, title)
			text, radius = "", 3.5
		}
		marks, texts = append(marks, plot.Mark{X: x, Y: y, R: radius}), append(texts, text)
	}
	var taken []plot.Box
	if rep.QualityBar != nil {
		y := sy(*rep.QualityBar)
		taken = append(taken, plot.Label{X: chartPadLeft + pw - 4, Y: y - 4, Anchor: "end"}.Extent("bar "+plot.Pct(*rep.QualityBar)))
	}
	area := plot.Box{X0: chartPadLeft, Y0: chartPadTop, X1: chartPadLeft + pw, Y1: chartPadTop + ph}
	for i, l := range plot.PlaceLabels(marks, texts, nil, taken, area) {
		if texts[i] != "" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="#333">%s</text>`, l.X, l.Y, l.Anchor, html.EscapeString(texts[i]))
		}
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

// shortName labels a mark: the model's name without its vendor prefix, or the policy's name
// up to its settings.
func shortName(r *Result) string {
	name := r.Name
	if r.Kind == KindSingle {
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
	}
	if i := strings.Index(name, " ("); i > 0 && r.Kind != KindSingle && len(name) > 40 {
		name = name[:i]
	}
	if len(name) > 40 {
		name = name[:39] + "…"
	}
	return name
}
