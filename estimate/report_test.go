package estimate

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/plot"
)

// cascadeSpec is one category of requests routed by ROUTE (by default a validated cascade of
// two models that never fail), at VOLUME requests a month, where a bad answer costs IMPACT.
const cascadeSpec = `version: 1
name: NAME
volume: {per_month: VOLUME}
retry: {attempts: 0}
providers: {sim: {type: simulated}}
models:
  nano: {provider: sim, model: gpt-4.1-nano, availability: 1, latency: {p50: 1s, p95: 2s}}
  mini: {provider: sim, model: gpt-4.1-mini, availability: 1, latency: {p50: 2s, p95: 4s}}
categories:
  - name: extract
    share: 1
    tokens: {in: 1000, out: 200}
    quality_bar: BAR
    latency_budget: 10s
    failure_impact: {bad_answer: IMPACT}
    route: ROUTE
    assume: {pass_rate: {nano: 0.9, mini: 0.97}, validator: {detect: 0.8, false_alarm: 0.05}}
`

// cascade returns cascadeSpec with its placeholders replaced, by pairs of placeholder and
// value: NAME, VOLUME, BAR, IMPACT, ROUTE, with defaults for those not given.
func cascade(t *testing.T, replace ...string) string {
	t.Helper()
	defaults := map[string]string{"NAME": "ex3", "VOLUME": "1000000", "BAR": "0.95", "IMPACT": "2",
		"ROUTE": "{cascade: [nano, mini], validate: [{required_fields: [id]}]}"}
	for i := 0; i+1 < len(replace); i += 2 {
		defaults[replace[i]] = replace[i+1]
	}
	var pairs []string
	for k, v := range defaults {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...).Replace(cascadeSpec)
}

func runText(t *testing.T, src string, opts Options) (*Report, string) {
	t.Helper()
	if opts.Samples == 0 {
		opts.Samples = MinCategorySamples
	}
	opts.Today = testDay
	r, err := Run(context.Background(), parse(t, src), opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	return r, buf.String()
}

// TestMonthlyFiguresBeyondMoneyRange: a bad answer that costs $10,000, delivered on 2.375% of
// 100 million requests a month, is $23.75 billion of risk a month, beyond the range of
// clearbar.Money (±$9.2 billion); the report shows it, in every format, rather than a figure
// wrapped round to a negative one. So does a volume of 2^63−1 requests.
func TestMonthlyFiguresBeyondMoneyRange(t *testing.T) {
	r, text := runText(t, cascade(t, "VOLUME", "100000000", "IMPACT", "10000"), Options{})
	spec := r.policy("spec")
	// P(bad delivered) = 0.1 × 0.2 (nano's misses that pass) + 0.125 × 0.03 (mini's, after a flag).
	if got := float64(spec.Total.RiskPerMonth); math.Abs(got-23.75e9) > 1 {
		t.Errorf("risk per month $%.2f, want $23,750,000,000", got)
	}
	if !strings.Contains(text, "$23,750,000,000.00") || strings.Contains(text, "-$") {
		t.Errorf("the table does not show $23,750,000,000.00 of risk a month:\n%s", text)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Policies []struct {
			Total struct {
				Risk float64 `json:"risk_per_month_usd"`
			} `json:"total"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Policies[0].Total.Risk; math.Abs(got-23.75e9) > 1 {
		t.Errorf("JSON risk_per_month_usd %v, want 23750000000", got)
	}
	buf.Reset()
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), ",23750000000") {
		t.Errorf("the CSV has no risk of 23750000000:\n%s", buf.String())
	}

	r, text = runText(t, cascade(t), Options{Volume: math.MaxInt64})
	want := float64(r.policy("spec").Total.Cost) * math.MaxInt64 / 1e9
	if got := float64(r.policy("spec").Total.CostPerMonth); math.Abs(got-want) > 1e-9*want || strings.Contains(text, "-$") {
		t.Errorf("at %d requests a month: cost per month $%g, want $%g:\n%s", int64(math.MaxInt64), got, want, text)
	}
}

// TestDollarsReadAsMoney: monthly figures within clearbar.Money's range read as Money reads;
// beyond it, the same way, with every digit.
func TestDollarsReadAsMoney(t *testing.T) {
	for _, usd := range []float64{0, 0.0000525, 0.0123, 1234.5, -12.5, 9.2e9} {
		if got, want := Dollars(usd).String(), clearbar.MoneyFromUSD(usd).String(); got != want {
			t.Errorf("Dollars(%g) = %s, want Money's %s", usd, got, want)
		}
		if got, want := Dollars(usd).Decimal(), clearbar.MoneyFromUSD(usd).Decimal(); got != want {
			t.Errorf("Dollars(%g).Decimal() = %s, want Money's %s", usd, got, want)
		}
	}
	for usd, want := range map[float64]string{23.75e9: "$23,750,000,000.00", -1.5e10: "-$15,000,000,000.00", 1e19: "$10,000,000,000,000,000,000.00"} {
		if got := Dollars(usd).String(); got != want {
			t.Errorf("Dollars(%g) = %s, want %s", usd, got, want)
		}
	}
	if got := money(1e30); got != math.MaxInt64 {
		t.Errorf("money(1e30) = %d, want the largest Money", got)
	}
	if got := money(-1e30); got != math.MinInt64 {
		t.Errorf("money(-1e30) = %d, want the smallest Money", got)
	}
}

// TestCompactRouteFromStructure: the table's route is built from the route, not cut out of its
// description, so a validator whose summary holds parentheses (an inline schema, a regex) and
// retry_once leave nothing behind the [validated] marker.
func TestCompactRouteFromStructure(t *testing.T) {
	for _, tt := range []struct{ route, want string }{
		{"{cascade: [nano, mini], validate: [{json_schema: {inline: {type: object}}}], on_fail: retry_once}", "cascade nano → mini [validated]"},
		{"{cascade: [nano, mini], validate: [{json_schema: {inline: {type: object}}}]}", "cascade nano → mini [validated]"},
		{`{cascade: [nano, mini], validate: [{regex: {must: ["^(yes|no)$"]}}]}`, "cascade nano → mini [validated]"},
		{`{split: [{weight: 0.5, model: nano, validate: [{regex: {must: ["^(a)"]}}]}, {weight: 0.5, model: mini}]}`, "split 50% nano [validated] | 50% mini"},
	} {
		c := parse(t, cascade(t, "ROUTE", tt.route)).Categories[0]
		cr := CategoryRoute{Route: c.Route, Fallback: c.Fallback}
		if got := routeText(cr, routeCompact); got != tt.want {
			t.Errorf("route %s: compact route %q, want %q (of %q)", tt.route, got, tt.want, describeRoute(cr))
		}
	}
	_, text := runText(t, cascade(t, "ROUTE", `{cascade: [nano, mini], validate: [{regex: {must: ["^(yes|no)$"]}}]}`), Options{})
	if !regexp.MustCompile(`(?m)^  extract +100\.0% +cascade nano → mini \[validated\]  +\$`).MatchString(text) {
		t.Errorf("the per-category table's route is not cascade nano → mini [validated]:\n%s", text)
	}
}

// TestSecsKeepsTheTableFormat: durations of a minute and more read in seconds, with three
// significant digits, as shorter ones do: a 60s budget is 60.0s, not 1m0s.
func TestSecsKeepsTheTableFormat(t *testing.T) {
	for s, want := range map[float64]string{0.85: "850ms", 3.4: "3.40s", 10: "10.0s", 60: "60.0s", 90.04: "90.0s", 125.4: "125s", 3600: "3600s"} {
		if got := secs(s); got != want {
			t.Errorf("secs(%v) = %s, want %s", s, got, want)
		}
	}
	_, text := runText(t, strings.Replace(cascade(t), "latency_budget: 10s", "latency_budget: 1m", 1), Options{})
	if !regexp.MustCompile(`(?m)^  extract .* 60\.0s +\d`).MatchString(text) || strings.Contains(text, "1m0s") {
		t.Errorf("the BUDGET column does not read 60.0s:\n%s", text)
	}
}

// TestFailingPolicyIsNotCheap: a policy whose model's context window is too small for every
// request fails them all. It pays nothing and waits for nothing, which must not read as the
// cheapest and fastest policy: its cost and latency read "-", it says it fails every request,
// it is not among the cheaper policies that miss, and it is no point on the chart.
func TestFailingPolicyIsNotCheap(t *testing.T) {
	src := strings.Replace(cascade(t, "BAR", "0.9", "ROUTE", "{model: mini}"), "gpt-4.1-nano, availability: 1,", "gpt-4.1-nano, availability: 1, context_window: 500,", 1)
	r, text := runText(t, src, Options{})
	nano := r.policy("all-nano")
	if nano == nil || !nano.Total.failsAll() {
		t.Fatalf("all-nano does not fail every request: %+v", nano)
	}
	if !regexp.MustCompile(`(?m)^  all-nano +- +- +- +0\.00% +100\.00% +- +- +- +\$[\d,.]+ .* no: fails every request$`).MatchString(text) {
		t.Errorf("the table does not show all-nano as failing every request:\n%s", text)
	}
	if strings.Contains(r.Recommendation, "all-nano") || strings.Contains(r.Recommendation, "Cheaper policies") {
		t.Errorf("the recommendation names a policy that fails every request as cheaper: %s", r.Recommendation)
	}
	for _, v := range r.Verdicts {
		if v.Policy == "all-nano" && !strings.HasPrefix(v.Reason, "fails every request") {
			t.Errorf("all-nano's verdict %q does not say it fails every request", v.Reason)
		}
	}
	var md, page bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| all-nano | - | - | - | 0.00% | 100.00% | - | - | - |") || !strings.Contains(md.String(), "| all-nano | nano | - | 0.00% | 100.00% | - | - | 0.0% | no: fails every request |") {
		t.Errorf("the Markdown tables do not show all-nano as failing every request:\n%s", md.String())
	}
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "<title>all-nano</title>") || strings.Contains(page.String(), "<title>nano</title>") {
		t.Error("the charts place a policy that fails every request at no cost")
	}
	if !strings.Contains(page.String(), "<title>spec</title>") {
		t.Error("the charts place no other policy either")
	}
	if !strings.Contains(page.String(), ">no: fails every request<") {
		t.Error("the HTML table does not say all-nano fails every request")
	}
}

// TestMarkdownEscapesTheSpecName: the spec's name is its author's text; the Markdown report
// shows it rather than rendering it as HTML or emphasis.
func TestMarkdownEscapesTheSpecName(t *testing.T) {
	r, _ := runText(t, cascade(t, "NAME", `"ex3 <i>x</i> *y* [z](u)"`), Options{})
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	heading, _, _ := strings.Cut(buf.String(), "\n")
	if want := `# Routing estimate: ex3 &lt;i&gt;x&lt;/i&gt; \*y\* \[z\](u)`; heading != want {
		t.Errorf("heading %q, want %q", heading, want)
	}
}

// labelRE matches a chart label: its position, anchor and text.
var labelRE = regexp.MustCompile(`<text x="([\d.]+)" y="([\d.]+)" class="(?:lbl [a-z]+|barlabel)" text-anchor="([a-z]+)">([^<]*)</text>`)

// TestChartLabelsDoNotCollide: on the quick start's policy chart the spec's point and
// cascade-by-price's sit a few pixels apart; their labels, and every other, overlap no other
// label and no point's mark, in every chart of the report.
func TestChartLabelsDoNotCollide(t *testing.T) {
	r, err := Run(context.Background(), load(t, "../examples/quickstart.yaml"), Options{Samples: 60_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	charts := regexp.MustCompile(`<svg.*?</svg>`).FindAllString(buf.String(), -1)
	if len(charts) != 1+len(r.Categories) || !strings.Contains(charts[0], "<title>cascade-by-price</title>") || !strings.Contains(charts[0], "<title>spec</title>") {
		t.Fatalf("%d charts; the first should place spec and cascade-by-price", len(charts))
	}
	circleRE := regexp.MustCompile(`<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"`)
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	for n, svg := range charts {
		var boxes []plot.Box
		var texts []string
		for _, m := range labelRE.FindAllStringSubmatch(svg, -1) {
			boxes = append(boxes, plot.Label{X: num(m[1]), Y: num(m[2]), Anchor: m[3]}.Extent(m[4]))
			texts = append(texts, m[4])
		}
		for i := range boxes {
			for j := range i {
				if boxes[i].Overlap(boxes[j]) > 0 {
					t.Errorf("chart %d: labels %q and %q overlap", n, texts[i], texts[j])
				}
			}
			for _, c := range circleRE.FindAllStringSubmatch(svg, -1) {
				x, y, r := num(c[1]), num(c[2]), num(c[3])
				if boxes[i].Overlap(plot.Mark{X: x, Y: y, R: r}.Box()) > 0 {
					t.Errorf("chart %d: label %q covers the point at (%v, %v)", n, texts[i], x, y)
				}
			}
		}
	}
}

// TestReportReadBackFromJSON: a report decoded from its JSON has route descriptions but not
// the routes themselves; its tables and charts show the descriptions.
func TestReportReadBackFromJSON(t *testing.T) {
	r, _ := runText(t, cascade(t), Options{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Policies[0].Total.CostPerMonth != r.Policies[0].Total.CostPerMonth {
		t.Errorf("cost per month %v read back as %v", r.Policies[0].Total.CostPerMonth, back.Policies[0].Total.CostPerMonth)
	}
	for _, f := range Formats {
		buf.Reset()
		if err := Write(&buf, &back, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f == "table" && !strings.Contains(buf.String(), "cascade nano → mini (validate: required fields id)") {
			t.Errorf("the table does not show the route's description:\n%s", buf.String())
		}
	}
}
