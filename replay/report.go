package replay

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/clearbar/clearbar"
)

// WriteJSON writes the report as indented JSON: every result, every curve point, the
// frontier and the derived measures.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as aligned plain text for a terminal: the policies, the curves'
// APGR and AIQ, the frontier, the cost of reaching the best model's quality, the calibration
// and the notes. Narrow policies and curves are marked *, with a footnote; what a policy
// evaluated on no item did not measure is "-". The column of the share of items sent to the
// reference pair's strong model is headed by its name ("TO gpt-4"). Curve points are
// summarised; WriteJSON has them all.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Clearbar replay%s\n", r.heading())
	fmt.Fprintf(ew, "%s items · %d models · grade %s%s%s\n\n",
		groupInt(r.Items), len(r.Models), r.Grade, r.pairText(), r.bestText())

	// The policy's name comes last: names run long (a cascade with its validator strength), and
	// the numbers stay in columns a terminal can show.
	costed := r.CostRange[1] > 0
	money := func(m clearbar.Money) string {
		if !costed {
			return "-"
		}
		return m.String()
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	header := []string{"QUALITY", "COST/ITEM", "TOTAL", "MEAN", "P95", "ESCALATED"}
	if r.Strong != "" {
		header = append(header, r.toStrong("TO"))
	}
	fmt.Fprintln(tw, "  "+strings.Join(append(header, "ITEMS", "KIND", "POLICY"), "\t"))
	for _, x := range r.Results {
		mark := " "
		if r.Calibration != nil && r.Calibration.Chosen == x {
			mark = "▶"
		}
		// A policy evaluated on no item measured nothing: its zeros are no figures.
		measured := func(v string) string {
			if x.Items == 0 {
				return "-"
			}
			return v
		}
		cells := []string{measured(pct(x.Quality)), measured(money(x.CostPerItem)), measured(money(x.Cost)),
			ms(x.LatencyMeanMS, x.LatencyItems), ms(x.LatencyP95MS, x.LatencyItems), measured(pct1(x.Escalation))}
		if r.Strong != "" {
			cells = append(cells, measured(pct1(x.StrongShare)))
		}
		fmt.Fprintf(tw, "%s %s\n", mark, strings.Join(append(cells, itemsCell(x), x.Kind, x.Name), "\t"))
	}
	tw.Flush()
	if f := r.narrowFootnote(); f != "" {
		fmt.Fprintf(ew, "  %s\n", f)
	}

	if len(r.Curves) > 0 {
		aiq := func(v float64) string {
			if !costed {
				return "-"
			}
			return strconv.FormatFloat(v, 'f', 4, 64)
		}
		fmt.Fprintf(ew, "\nCurves (APGR: RouteLLM's average performance gap recovered, 0 = weak, 0.5 = random, 1 = strong; AIQ: RouterBench's, zero router %s):\n", aiq(r.ZeroRouterAIQ))
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  CURVE\tPOINTS\tAPGR\tAIQ\tAIQ − ZERO\tCALLS %s FOR 50%% / 80%% OF THE GAP\t\n", r.toStrong("TO"))
		for _, c := range r.Curves {
			apgr := "-"
			if c.APGR != nil {
				apgr = strconv.FormatFloat(*c.APGR, 'f', 3, 64)
			}
			cpt := []string{}
			for _, p := range c.CPT {
				if p.Gap == 0.5 || p.Gap == 0.8 {
					if p.Reached {
						cpt = append(cpt, pct1(p.StrongShare))
					} else {
						cpt = append(cpt, "never")
					}
				}
			}
			caiq, diff, name := aiq(c.AIQ), "-", c.Name
			if costed && !c.Narrow {
				diff = strconv.FormatFloat(c.AIQ-r.ZeroRouterAIQ, 'f', 4, 64)
				if c.AIQ >= r.ZeroRouterAIQ {
					diff = "+" + diff
				}
			}
			if c.Narrow {
				// Measured on other items than the zero router: APGR and CPT, against the
				// pair on the curve's own items, stand.
				caiq, name = "-", name+" *"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t\n", name, len(c.Points), apgr, caiq, diff, strings.Join(cpt, " / "))
		}
		tw.Flush()
	}

	if len(r.Frontier) > 0 {
		fmt.Fprintf(ew, "\nFrontier (no policy, nor a random mix of two, is both cheaper and better; AIQ %.4f):\n", r.FrontierAIQ)
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  COST/ITEM\tQUALITY\tPOLICY\t")
		shown := sample(len(r.Frontier), 20)
		for _, i := range shown {
			p := r.Frontier[i]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t\n", clearbar.MoneyFromUSD(p.Cost), pct(p.Quality), p.Policy)
		}
		tw.Flush()
		if len(shown) < len(r.Frontier) {
			fmt.Fprintf(ew, "  (%d of %d points; the JSON report has them all)\n", len(shown), len(r.Frontier))
		}
	}

	if len(r.CostAt) > 0 {
		fmt.Fprintf(ew, "\nCost of reaching a share of %s's quality:\n", r.Best)
		for _, c := range r.CostAt {
			if !c.Reached {
				fmt.Fprintf(ew, "  %s (quality %s): not reached by any policy\n", pct1(c.Fraction), pct(c.Target))
				continue
			}
			how := c.Upper
			if c.Lower != c.Upper {
				how = fmt.Sprintf("%s of items to %s, the rest to %s", pct1(c.Share), c.Upper, c.Lower)
			}
			fmt.Fprintf(ew, "  %s (quality %s): %s per item (%s less), %s", pct1(c.Fraction), pct(c.Target), clearbar.MoneyFromUSD(c.Cost), pct1(c.Savings), how)
			if c.Cheapest != nil && c.Cheapest.Policy != c.Upper {
				fmt.Fprintf(ew, "; cheapest single policy: %s at %s", c.Cheapest.Policy, clearbar.MoneyFromUSD(c.Cheapest.Cost))
			}
			fmt.Fprintln(ew)
		}
	}

	if cal := r.Calibration; cal != nil {
		fmt.Fprintf(ew, "\nCalibration (%s): %s\n", describeTarget(cal.Target, r.Strong), cal.Chosen.Name)
		fmt.Fprintf(ew, "  quality %s, %s per item, %s of items %s, escalated %s%s\n", pct(cal.Chosen.Quality), cal.Chosen.CostPerItem,
			pct1(cal.Chosen.StrongShare), r.toStrong("to"), pct1(cal.Chosen.Escalation), describeParams(cal.Chosen))
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(ew, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintf(ew, "  - %s\n", n)
		}
	}
	return ew.err
}

// toStrong names the share of items sent to the reference pair's strong model, after to ("TO"
// or "to"): "TO gpt-4", or "to the strong model" when there is no pair. The name is the
// model's, not a role: a model may be named "strong" without being the pair's.
func (r *Report) toStrong(to string) string {
	if r.Strong == "" {
		return to + " the strong model"
	}
	return to + " " + r.Strong
}

// pairText is the heading's reference pair; "" when there is none (a table of one model).
func (r *Report) pairText() string {
	if r.Weak == "" || r.Strong == "" {
		return ""
	}
	return " · reference pair " + r.Weak + " → " + r.Strong
}

// bestText is the heading's best single model, when one is not Narrow.
func (r *Report) bestText() string {
	if r.Best == "" {
		return ""
	}
	return " · best single model " + r.Best
}

// itemsCell is a result's ITEMS cell: a Narrow result is marked (see narrowFootnote), as is
// one evaluated on no item.
func itemsCell(x *Result) string {
	if x.Narrow {
		return strconv.Itoa(x.Items) + "*"
	}
	return strconv.Itoa(x.Items)
}

// narrowFootnote explains the mark of Narrow results and curves; "" when there are none.
func (r *Report) narrowFootnote() string {
	narrow := slices.ContainsFunc(r.Results, func(x *Result) bool { return x.Narrow }) ||
		slices.ContainsFunc(r.Curves, func(c *Curve) bool { return c.Narrow })
	if !narrow {
		return ""
	}
	return fmt.Sprintf("* evaluated on fewer than %.0f%% of the %s items the widest policy covers: not comparable with the others, and left out of the best single model, the frontier, AIQ, the cost of reaching the best model's quality and the calibration (see the notes)",
		MinCoverage*100, groupInt(r.Compared))
}

func (r *Report) heading() string {
	var parts []string
	if r.Spec != "" {
		parts = append(parts, r.Spec)
	}
	if r.Category != "" {
		parts = append(parts, "category "+r.Category)
	}
	if r.Task != "" {
		parts = append(parts, "task "+r.Task)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// describeTarget says what a calibration aimed at. A strong-share target is headed by the name
// of the reference pair's strong model, strong ("at most 5.0% mini calls"), as the report's
// TO column is: a model may be named "strong" without being the pair's.
func describeTarget(t Target, strong string) string {
	switch t.Objective {
	case StrongShare:
		if strong == "" {
			strong = "strong-model"
		}
		return "at most " + pct1(t.StrongShare) + " " + strong + " calls, best quality"
	case Budget:
		return "at most " + t.Budget.String() + " per item, best quality"
	}
	return "quality bar " + pct(t.Quality) + ", least cost"
}

func describeParams(r *Result) string {
	p := r.Params
	var parts []string
	if p.Threshold != nil {
		parts = append(parts, "threshold "+strconv.FormatFloat(*p.Threshold, 'g', 6, 64))
	}
	if p.Share != nil {
		parts = append(parts, "share "+strconv.FormatFloat(*p.Share, 'g', 6, 64))
	}
	if p.Lambda != nil {
		parts = append(parts, "lambda "+strconv.FormatFloat(*p.Lambda, 'g', 6, 64))
	}
	if p.Strength != nil {
		parts = append(parts, "validator "+p.Strength.String())
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, ", ")
}

// sample returns up to k indexes of 0..n-1, evenly spread, first and last included.
func sample(n, k int) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, k)
	for j := 0; j < k; j++ {
		i := j * (n - 1) / (k - 1)
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}

func pct(x float64) string  { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }
func pct1(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

func ms(v float64, n int) string {
	if n == 0 {
		return "-"
	}
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
}

func groupInt(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// errWriter keeps the first write error, so a report is written without checking each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}

// WriteHTML writes the report as one self-contained HTML page: the cost/quality chart as
// inline SVG, the tables of WriteText, and the notes. It has no scripts and loads nothing.
func (r *Report) WriteHTML(w io.Writer) error {
	data := struct {
		R        *Report
		Title    string
		Chart    template.HTML
		Footnote string
	}{R: r, Title: "Clearbar replay" + r.heading(), Chart: template.HTML(chart{width: 960, height: 540}.svg(r)), Footnote: r.narrowFootnote()}
	return pageTemplate.Execute(w, data)
}

var pageTemplate = template.Must(template.New("replay").Funcs(template.FuncMap{
	"pct":  pct,
	"pct1": pct1,
	// ms in a page: what was not measured is –, as elsewhere on it.
	"ms": func(v float64, n int) string {
		if n == 0 {
			return "–"
		}
		return ms(v, n)
	},
	"usd":    func(x float64) string { return clearbar.MoneyFromUSD(x).String() },
	"params": func(r *Result) string { return strings.TrimPrefix(describeParams(r), "; ") },
	"target": describeTarget,
	"apgr": func(c *Curve) string {
		if c.APGR == nil {
			return "–"
		}
		return strconv.FormatFloat(*c.APGR, 'f', 3, 64)
	},
	"f4":       func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) },
	"chosen":   func(r *Report, x *Result) bool { return r.Calibration != nil && r.Calibration.Chosen == x },
	"group":    groupInt,
	"items":    itemsCell,
	"best":     (*Report).bestText,
	"pair":     (*Report).pairText,
	"toStrong": (*Report).toStrong,
	"bounds":   boundNames,
}).Parse(pageHTML))

// boundNames lists the results drawn but left out of the frontier as bounds (the oracle, a
// cascade with a perfect validator), for the frontier's note; "" when there are none.
func boundNames(r *Report) string {
	var names []string
	for _, x := range r.Results {
		if !x.Realisable && x.Items > 0 {
			names = append(names, x.Name)
		}
	}
	return strings.Join(names, "; ")
}

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.sub{color:#555;margin-top:0}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
@media (max-width:900px){table{display:block;overflow-x:auto}}
th,td{padding:.25rem .6rem;text-align:right;border-bottom:1px solid #eee;white-space:nowrap}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
td:first-child{white-space:normal;min-width:12rem;max-width:26rem;overflow-wrap:anywhere}
tr.chosen td{background:#fff3f3;font-weight:600}
.chart{overflow-x:auto}
.note{color:#555;font-size:.9rem}
code{background:#f4f4f4;padding:0 .2rem}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{group .R.Items}} items · {{len .R.Models}} models · grade {{.R.Grade}}{{pair .R}}{{best .R}}</p>
<div class="chart">{{.Chart}}</div>
{{with .R.Calibration}}<h2>Calibration</h2>
<p>For {{target .Target $.R.Strong}}: <strong>{{.Chosen.Name}}</strong> — quality {{pct .Chosen.Quality}}, {{.Chosen.CostPerItem}} per item, {{pct1 .Chosen.StrongShare}} of items {{toStrong $.R "to"}}{{with params .Chosen}}; {{.}}{{end}}. Chosen among {{.Candidates}} policies, in sample.</p>{{end}}
<h2>Policies</h2>
<div class="chart"><table>
<tr><th>Policy</th><th>Kind</th><th>Items</th><th>Quality</th><th>Cost/item</th><th>Total</th><th>Mean</th><th>P95</th><th>Escalated</th>{{if .R.Strong}}<th>{{toStrong .R "To"}}</th>{{end}}</tr>
{{range .R.Results}}<tr{{if chosen $.R .}} class="chosen"{{end}}><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{items .}}</td>{{if .Items}}<td>{{pct .Quality}}</td><td>{{.CostPerItem}}</td><td>{{.Cost}}</td>{{else}}<td>–</td><td>–</td><td>–</td>{{end}}<td>{{ms .LatencyMeanMS .LatencyItems}}</td><td>{{ms .LatencyP95MS .LatencyItems}}</td><td>{{if .Items}}{{pct1 .Escalation}}{{else}}–{{end}}</td>{{if $.R.Strong}}<td>{{if .Items}}{{pct1 .StrongShare}}{{else}}–{{end}}</td>{{end}}</tr>
{{end}}</table></div>
{{with .Footnote}}<p class="note">{{.}}</p>{{end}}
{{if .R.Curves}}<h2>Routers and mixes</h2>
<p class="note">APGR is RouteLLM's average performance gap recovered (0: no better than the weak model, 0.5: a random mix, 1: the strong model's quality at any share). AIQ is RouterBench's average quality over the cost range {{usd (index .R.CostRange 0)}}–{{usd (index .R.CostRange 1)}}; the zero router (random mixes of single models) scores {{f4 .R.ZeroRouterAIQ}}.</p>
<table>
<tr><th>Curve</th><th>Points</th><th>Weak quality</th><th>Strong quality</th><th>APGR</th><th>AIQ</th><th>Calls {{toStrong .R "to"}} for 20% / 50% / 80% of the gap</th></tr>
{{range .R.Curves}}<tr><td>{{.Name}}{{if .Narrow}} *{{end}}</td><td>{{len .Points}}</td><td>{{pct .WeakQuality}}</td><td>{{pct .StrongQuality}}</td><td>{{apgr .}}</td><td>{{if .Narrow}}–{{else}}{{f4 .AIQ}}{{end}}</td><td>{{range $i, $c := .CPT}}{{if $i}} / {{end}}{{if $c.Reached}}{{pct1 $c.StrongShare}}{{else}}never{{end}}{{end}}</td></tr>
{{end}}</table>{{end}}
{{if .R.CostAt}}<h2>Cost of reaching {{.R.Best}}'s quality</h2>
<table>
<tr><th>Share of its quality</th><th>Quality</th><th>Cost/item</th><th>Saving</th><th>How</th><th>Cheapest single policy</th></tr>
{{range .R.CostAt}}<tr><td>{{pct1 .Fraction}}</td><td>{{pct .Target}}</td>{{if .Reached}}<td>{{usd .Cost}}</td><td>{{pct1 .Savings}}</td><td>{{if eq .Lower .Upper}}{{.Upper}}{{else}}{{pct1 .Share}} to {{.Upper}}, rest to {{.Lower}}{{end}}</td><td>{{with .Cheapest}}{{.Policy}} at {{usd .Cost}}{{end}}</td>{{else}}<td colspan="4">not reached</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .R.Frontier}}<h2>Frontier</h2>
<p class="note">No other realisable policy, nor a random mix of two, is both cheaper and better than these.{{with bounds .R}} Bounds ({{.}}) need what no deployed router has, hindsight or a perfect validator, and are left out of the frontier: they may be cheaper and better.{{end}} AIQ of the frontier: {{f4 .R.FrontierAIQ}}.</p>
<table><tr><th>Policy</th><th>Cost/item</th><th>Quality</th></tr>
{{range .R.Frontier}}<tr><td>{{.Policy}}</td><td>{{usd .Cost}}</td><td>{{pct .Quality}}</td></tr>
{{end}}</table>{{end}}
<h2>Models</h2>
<table><tr><th>Model</th><th>Rows from</th><th>Rows</th><th>Missing</th><th>Ungraded</th><th>Failed</th><th>Quality</th><th>Cost/item</th></tr>
{{range .R.Models}}<tr><td>{{.Name}}</td><td>{{range $i, $s := .Sources}}{{if $i}}, {{end}}{{$s}}{{end}}</td><td>{{.Rows}}</td><td>{{.Missing}}</td><td>{{.Ungraded}}</td><td>{{.Failed}}</td>{{if .Usable}}<td>{{pct .Quality}}</td><td>{{.Cost}}</td>{{else}}<td>–</td><td>–</td>{{end}}</tr>
{{end}}</table>
{{if .R.Notes}}<h2>Notes</h2><ul class="note">{{range .R.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
</body>
</html>
`
