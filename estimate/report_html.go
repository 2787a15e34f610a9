package estimate

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"

	"github.com/clearbar/clearbar"
)

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":         pct,
	"pct1":        pct1,
	"secs":        secs,
	"yesno":       yesNo,
	"cells":       tableCells,
	"money":       func(m fmt.Stringer) string { return m.String() },
	"signedMoney": signedMoney,
	"group":       groupInt,
	"samples":     func(n int) string { return groupInt(int64(n)) },
	"budget": func(s float64) string {
		if s == 0 {
			return "none"
		}
		return secs(s)
	},
	"flipNote":   (*Sensitivity).flipNote,
	"flipGroups": (*Sensitivity).flipGroups,
	"breakEvs":   (*Sensitivity).breakEvenView,
	"times100":   func(f float64) float64 { return f * 100 },
	"inc":        func(i int) int { return i + 1 },
}).Parse(reportHTML))

type htmlView struct {
	*Report
	Chart     template.HTML
	CatCharts []template.HTML
	CatViews  []catView
	// UserReqs is the section per user request, for a spec with pipelines (pipeline_report.go).
	UserReqs *userRequestsView
	// Findings are the measurements' rows, as the Markdown report's table writes them, and
	// IntervalLegend says which intervals they have.
	Findings       []findingRow
	IntervalLegend string
}

// findingRow is a measurement's row of the HTML report: a Finding's figures written as the
// text and Markdown reports write them.
type findingRow struct {
	Category, Model, What, Assumed, Measured, Interval, Used string
	N                                                        int
	Contradicts, Untested                                    bool
	Note                                                     string
}

func findingRows(m *MeasuredSummary) []findingRow {
	if m == nil {
		return nil
	}
	rows := make([]findingRow, 0, len(m.Findings))
	for _, f := range m.Findings {
		rows = append(rows, findingRow{Category: f.Category, Model: f.Model, What: f.What,
			Assumed: findingValue(f.What, f.Assumed), Measured: findingValue(f.What, f.Measured),
			Interval: f.interval(), Used: yesNo(f.Used), N: f.N, Contradicts: f.Contradicts, Untested: f.Untested, Note: f.Note})
	}
	return rows
}

type catView struct {
	Info CategoryInfo
	Rows []catRow
	// TTFBNote explains the marked TTFB cells, as the Markdown report's footnote does.
	TTFBNote string
}

type catRow struct {
	Policy string
	Result CategoryResult
	Best   bool
	Clears bool
	// Quality is the result's quality, with the digits that tell it from the bar it misses.
	Quality string
	// TTFB is the time to first byte's p95 cell, marked where it is assumed.
	TTFB string
}

// WriteHTML writes the report as one self-contained HTML page (inline CSS and SVG, no scripts
// and no external requests) with a cost/quality chart of the policies and one per category.
func WriteHTML(w io.Writer, r *Report) error {
	v := htmlView{Report: r, UserReqs: newUserRequestsView(r), Findings: findingRows(r.Measured), IntervalLegend: IntervalLegend}
	for i, info := range r.Categories {
		cv := catView{Info: info}
		var assumed []string
		var rows []CategoryResult
		for _, p := range r.Policies {
			if p.SameAs != "" {
				continue
			}
			c := p.Categories[i]
			rows = append(rows, c)
			clears := c.ClearsBar && c.MeetsBudget
			ttfb := c.markTTFB(tableCells(c.Figures, clears).TTFB95, &assumed)
			cv.Rows = append(cv.Rows, catRow{Policy: p.Name, Result: c, Best: p.Name == r.Recommended, Clears: clears, Quality: qualityVs(c.Quality, info.QualityBar), TTFB: ttfb})
		}
		if len(assumed) > 0 {
			unmeasured, measured := r.ttfbSplit(rows, assumed)
			cv.TTFBNote = ttfbFootnote(unmeasured, measured...)
		}
		v.CatViews = append(v.CatViews, cv)
	}
	main := &scatter{width: 760, height: 420, title: "Policies: monthly cost against quality",
		xLabel: "cost per month (USD)", yLabel: "quality (share of good answers)", formatX: monthTick}
	// A policy that fails every request is no point on a chart of what answers cost: the table
	// says it fails.
	for _, p := range r.Policies {
		if p.SameAs != "" || p.Total.failsAll() {
			continue
		}
		main.points = append(main.points, point{x: float64(p.Total.CostPerMonth), y: p.Total.Quality, label: p.Name, class: pointClass(p.Name == r.Recommended, p.Clears)})
	}
	v.Chart = template.HTML(main.svg())
	for i, info := range r.Categories {
		bar := info.QualityBar
		ch := &scatter{width: 370, height: 260, title: info.Name,
			name: "Cost per request against quality of each policy's route, category " + info.Name, xLabel: "cost per request", yLabel: "quality", bar: &bar,
			formatX: func(x float64) string { return clearbar.MoneyFromUSD(x).String() }}
		// One point per distinct route, labelled by its models unless two routes share them
		// ("strong" and "strong, fallback mini"): those keep their fallbacks.
		seen, short := map[string]bool{}, map[string]int{}
		for _, p := range r.Policies {
			c := p.Categories[i]
			if !seen[c.Route] && !c.failsAll() {
				seen[c.Route] = true
				short[c.routeIn(routeModels)]++
			}
		}
		clear(seen)
		for _, p := range r.Policies {
			c := p.Categories[i]
			if seen[c.Route] || c.failsAll() {
				continue
			}
			seen[c.Route] = true
			label := c.routeIn(routeModels)
			if short[label] > 1 {
				label = c.routeIn(routeLabel)
			}
			pt := point{x: c.Cost.USD(), y: c.Quality, label: label,
				class: pointClass(p.Name == r.Recommended, c.ClearsBar && c.MeetsBudget)}
			// A route at the same cost and quality as one already drawn shares its mark and
			// label, unless it is the recommended one.
			if j := slices.IndexFunc(ch.points, func(q point) bool {
				return math.Abs(q.x-pt.x) <= 0.01*q.x && math.Abs(q.y-pt.y) < 0.0005
			}); j >= 0 {
				if pt.class == "best" {
					ch.points[j] = pt
				}
				continue
			}
			ch.points = append(ch.points, pt)
		}
		v.CatCharts = append(v.CatCharts, template.HTML(ch.svg()))
	}
	return htmlTemplate.Execute(w, v)
}

func pointClass(best, clears bool) string {
	switch {
	case best:
		return "best"
	case clears:
		return "ok"
	}
	return "miss"
}

// monthTick writes a tick of cost per month: whole dollars from $100 up ("$1,000", not
// "$1,000.00"), as a month's cost is read; cents below.
func monthTick(x float64) string {
	if x >= 100 && x == math.Trunc(x) {
		return "$" + groupInt(int64(x))
	}
	return clearbar.MoneyFromUSD(x).String()
}
