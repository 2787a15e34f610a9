package estimate

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/internal/plot"
)

// crossVendorHTML is the HTML report of the cross-vendor example, whose "questions" chart has a
// label as long as a third of the chart ("score, heuristic tiers 0.3: nano → sonnet").
func crossVendorHTML(t *testing.T) (*Report, string) {
	t.Helper()
	r, err := Run(context.Background(), load(t, "../examples/cross-vendor.yaml"), Options{Samples: 20_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return r, buf.String()
}

// TestChartLabelsStayInThePlot: every label of every chart lies inside the plot area, none
// is cut at the chart's edge.
func TestChartLabelsStayInThePlot(t *testing.T) {
	_, page := crossVendorHTML(t)
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	plotRE := regexp.MustCompile(`<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" class="plot"/>`)
	labelRE := regexp.MustCompile(`<text x="([\d.]+)" y="([\d.]+)" class="lbl [a-z]+" text-anchor="([a-z]+)">([^<]*)`)
	charts := regexp.MustCompile(`<svg.*?</svg>`).FindAllString(page, -1)
	if len(charts) < 2 {
		t.Fatalf("%d charts", len(charts))
	}
	for n, svg := range charts {
		p := plotRE.FindStringSubmatch(svg)
		if p == nil {
			t.Fatalf("chart %d has no plot area", n)
		}
		area := plot.Box{X0: num(p[1]), Y0: num(p[2]), X1: num(p[1]) + num(p[3]), Y1: num(p[2]) + num(p[4])}
		labels := labelRE.FindAllStringSubmatch(svg, -1)
		if len(labels) == 0 {
			t.Errorf("chart %d has no labels", n)
		}
		for _, m := range labels {
			if e := (plot.Label{X: num(m[1]), Y: num(m[2]), Anchor: m[3]}).Extent(m[4]); e.Outside(area) > 0 {
				t.Errorf("chart %d: label %q covers %+v, outside the plot %+v", n, m[4], e, area)
			}
		}
	}
}

// TestChartsSayWhatTheyPlot: each category chart's accessible name says what it plots and for
// which category, and the points that miss a bar are drawn in a grey with 3:1 contrast on white.
func TestChartsSayWhatTheyPlot(t *testing.T) {
	r, page := crossVendorHTML(t)
	for _, c := range r.Categories {
		want := `aria-label="Cost per request against quality of each policy&#39;s route, category ` + c.Name + `"`
		if !strings.Contains(page, want) {
			t.Errorf("no chart is named %s", want)
		}
	}
	if strings.Contains(page, "#9ca3af") || !strings.Contains(page, "svg .pt.miss { fill: #6b7280; }") {
		t.Error("the points that miss a bar are not drawn in #6b7280")
	}
}

// TestHTMLCategoryTablesHaveTheMarkdownColumns: the HTML report's per-category tables have the
// Markdown report's columns, TTFB p95 included, and no fallback column, which the Markdown
// report's per-category tables do not have.
func TestHTMLCategoryTablesHaveTheMarkdownColumns(t *testing.T) {
	r, page := crossVendorHTML(t)
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	mdHeader := regexp.MustCompile(`(?m)^\| Policy \| Route \|.*\|$`).FindString(md.String())
	var want []string
	for _, c := range strings.Split(strings.Trim(mdHeader, "| "), " | ") {
		want = append(want, strings.ToLower(c))
	}
	i := strings.Index(page, "<h2>Categories</h2>")
	if i < 0 {
		t.Fatal("no categories section")
	}
	headers := regexp.MustCompile(`<tr><th>Policy</th><th>Route</th>.*?</tr>`).FindAllString(page[i:], -1)
	if len(headers) != len(r.Categories) {
		t.Fatalf("%d category tables, want %d", len(headers), len(r.Categories))
	}
	var got []string
	for _, m := range regexp.MustCompile(`<th[^>]*>([^<]*)</th>`).FindAllStringSubmatch(headers[0], -1) {
		got = append(got, strings.ToLower(m[1]))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("HTML category columns %q, want the Markdown report's %q", got, want)
	}
}
