package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/plot"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// fixtureReport replays the fixture's intent category with its spec and a scorer that knows
// the grades, so that every section of the report has content.
func fixtureReport(t *testing.T) *replay.Report {
	t.Helper()
	rows := fixtureRows(t)
	grades := map[string]map[string]float64{}
	for _, r := range rows {
		if grades[r.Item] == nil {
			grades[r.Item] = map[string]float64{}
		}
		if q, ok := grade(r, false); ok {
			grades[r.Item][r.Model] = q
		}
	}
	ids := map[string]string{"nano": "gpt-4.1-nano", "mini": "gpt-4.1-mini"}
	scorer := replay.ScorerFunc(func(item *replay.Item, out []float64) {
		for m, name := range item.Models {
			if id, ok := ids[name]; ok {
				name = id
			}
			out[m] = grades[item.ID][name]
		}
	})
	rep, err := replay.Run(context.Background(), fixtureSpec(t), source(rows), replay.Options{Category: "intent", Scorer: scorer, Thresholds: 10,
		// Every kind competes in the calibration, though the route validates its answers.
		Include: []string{replay.KindSingle, replay.KindOracle, replay.KindSpec, replay.KindMix, replay.KindCascade, replay.KindThreshold, replay.KindWTP}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestReportText(t *testing.T) {
	rep := fixtureReport(t)
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Clearbar replay: replay-fixture, category intent\n",
		"8 items · 4 models · grade pass · reference pair nano → strong · best single model",
		"POLICY", "spec: nano → strong (validators)", "oracle",
		"Curves (APGR", "threshold nano/strong", "wtp", "mix nano/strong",
		"Frontier (no policy, nor a random mix of two, is both cheaper and better",
		"Cost of reaching a share of",
		"Calibration (quality bar 80.00%, least cost):",
		"Notes:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text report lacks %q:\n%s", want, out)
		}
	}
}

func TestReportJSON(t *testing.T) {
	rep := fixtureReport(t)
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Items   int `json:"items"`
		Results []struct {
			Name    string      `json:"name"`
			Quality float64     `json:"quality"`
			Cost    json.Number `json:"cost_usd"`
		} `json:"results"`
		Curves []struct {
			Name   string            `json:"name"`
			APGR   *float64          `json:"apgr"`
			Points []json.RawMessage `json:"points"`
		} `json:"curves"`
		Calibration struct {
			Target struct {
				Objective string `json:"objective"`
			} `json:"target"`
			Chosen struct {
				Params map[string]any `json:"params"`
			} `json:"chosen"`
		} `json:"calibration"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("the JSON report does not decode: %v", err)
	}
	if back.Items != 8 || len(back.Results) < 6 || len(back.Curves) != 3 || back.Calibration.Target.Objective != "quality-bar" {
		t.Errorf("decoded report: %d items, %d results, %d curves, objective %q", back.Items, len(back.Results), len(back.Curves), back.Calibration.Target.Objective)
	}
}

func TestReportHTML(t *testing.T) {
	rep := fixtureReport(t)
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<!DOCTYPE html>", "<svg", "zero router", "threshold nano/strong", "<h2>Calibration</h2>", "</html>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", " src=", "href=", "url(", "@import", "<link"} {
		if strings.Contains(page, banned) {
			t.Errorf("the page must be self-contained without scripts, but has %q", banned)
		}
	}
}

// TestChartWithoutCosts: data without costs (RouteLLM's) is drawn against the share of strong
// calls instead.
func TestChartWithoutCosts(t *testing.T) {
	rows, _ := synthetic(200, 2, 11)
	for i := range rows {
		rows[i].Cost = 0
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "share of calls to m1") {
		t.Error("a table without costs should be charted by the share of strong calls")
	}
	if rep.Frontier != nil || rep.CostAt != nil || !strings.Contains(strings.Join(rep.Notes, "\n"), "the outcomes record no costs") {
		t.Errorf("without costs, the cost measures should be left out with a note: frontier %v, cost at %v, notes %v", rep.Frontier, rep.CostAt, rep.Notes)
	}
}

// TestRowsSource reads a JSON Lines table through Rows, as the command line does.
func TestRowsSource(t *testing.T) {
	var b bytes.Buffer
	w := outcomes.NewWriter(&b)
	for _, r := range fixtureRows(t) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rep, err := replay.Run(context.Background(), nil, replay.Rows(&b), replay.Options{Category: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 3 || len(rep.Models) != 2 {
		t.Errorf("draft: %d items, %d models; want 3 and 2", rep.Items, len(rep.Models))
	}
	_, err = replay.Run(context.Background(), nil, replay.Rows(strings.NewReader("{\"item\": \"x\"}\n")), replay.Options{})
	if err == nil || !strings.Contains(err.Error(), "line 1: row has no model") {
		t.Errorf("a bad line: %v", err)
	}
}

// TestChartLabelsDoNotCollide: the labels of the single models, the oracle and the spec's
// routes are placed where they cover no other label and no mark, even for models bunched at
// one cost and quality.
func TestChartLabelsDoNotCollide(t *testing.T) {
	var rows []outcomes.Row
	for i := range 200 {
		id := fmt.Sprintf("i%03d", i)
		for j, name := range []string{"vendor/model-one", "vendor/model-two", "vendor/model-three", "vendor/model-four", "vendor/model-big"} {
			// Four models at about one cost and quality (80%, on different items), and a
			// dearer, better one that stretches the axes.
			pass, cost := (i*7+j*3)%10 < 8, clearbar.Money(100_000+1_000*j)
			if j == 4 {
				pass, cost = i%20 != 0, 600_000
			}
			score := 0.0
			if pass {
				score = 1
			}
			rows = append(rows, outcomes.Row{Item: id, Prompt: id, Model: name, Cost: cost, Pass: &pass, Score: &score})
		}
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	svg := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindString(b.String())
	num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
	var boxes []plot.Box
	var texts []string
	for _, m := range regexp.MustCompile(`<text x="([\d.]+)" y="([\d.]+)" text-anchor="(start|middle|end)" fill="#333">([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		boxes = append(boxes, plot.Label{X: num(m[1]), Y: num(m[2]), Anchor: m[3]}.Extent(m[4]))
		texts = append(texts, m[4])
	}
	if len(boxes) != 6 {
		t.Fatalf("%d labels %q, want the 5 models' and the oracle's", len(boxes), texts)
	}
	for i := range boxes {
		for j := range i {
			if boxes[i].Overlap(boxes[j]) > 0 {
				t.Errorf("labels %q and %q overlap", texts[i], texts[j])
			}
		}
	}
}

// traceRows are what a gateway's trace export of the cascade small → strong records: small
// answered every item (70 of 100 pass), strong only the 30 that escalated (27 pass), so strong
// is measured on a selection, at 90%, where it does better than small does overall.
func traceRows() []outcomes.Row {
	var rows []outcomes.Row
	for i := range 100 {
		id := fmt.Sprintf("r%03d", i)
		small := i%10 < 7
		rows = append(rows, row(id, "small", small, 0.0001))
		if !small {
			rows = append(rows, row(id, "strong", i%10 != 9 || i >= 30, 0.002))
		}
	}
	return rows
}

// TestReportComparesPoliciesOnTheSameItems: policies evaluated on fewer items than the widest
// (strong, and whatever needs it, in a trace export) are marked in every format and left out
// of the best single model, the frontier, the zero router, AIQ, the cost at a quality and the
// calibration, and a note names them and says what to do.
func TestReportComparesPoliciesOnTheSameItems(t *testing.T) {
	rep, err := replay.Run(context.Background(), nil, source(traceRows()), replay.Options{Target: &replay.Target{Objective: replay.ClearBar, Quality: 0.85}})
	if err != nil {
		t.Fatal(err)
	}
	strong, small := rep.Result("strong"), rep.Result("small")
	if strong.Items != 30 || strong.Quality != 0.9 || !strong.Narrow || small.Items != 100 || small.Narrow || rep.Compared != 100 {
		t.Fatalf("strong on %d items (quality %v, narrow %v), small on %d (narrow %v), compared %d: want 30 (0.9, narrow), 100 (not narrow), 100",
			strong.Items, strong.Quality, strong.Narrow, small.Items, small.Narrow, rep.Compared)
	}
	for _, r := range rep.All() {
		if r.Narrow != (r.Items < 95) {
			t.Errorf("%s on %d items: narrow %v", r.Name, r.Items, r.Narrow)
		}
	}
	// strong's 90% on the items small failed is no better than small's 70% on all of them.
	if rep.Best != "small" || rep.Weak != "small" || rep.Strong != "strong" {
		t.Errorf("best %q, pair %s → %s; want small, and small → strong", rep.Best, rep.Weak, rep.Strong)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{
		"the reference pair small → strong was chosen by cost: the single models are evaluated on different items (strong on 30 of 100), so their qualities are not compared; name the pair with --weak and --strong",
		"evaluated on fewer than 95% of the 100 items the widest policy covers (marked * in the table) are not comparable with the others, and left out of the best single model, the frontier, AIQ, the cost of reaching the best model's quality and the calibration: strong, cascade small → strong (d=0.5 f=0.02), the mix small/strong curve (30 of 100 items)",
		"add its answers to every item, with clearbar eval or shadow traffic",
		"calibration: no policy reaches quality 85.00%: the best is small at 70.00%; lower the bar, add a stronger model, or use a better scorer; left out for covering too few items: strong, cascade small → strong (d=0.5 f=0.02), mix small/strong 0% and 10 more (30 of 100 items)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes lack %q:\n%s", want, notes)
		}
	}
	for _, p := range rep.Frontier {
		if r := rep.Result(p.Policy); r == nil || r.Narrow {
			t.Errorf("frontier point %s is narrow", p.Policy)
		}
	}
	if len(rep.ZeroRouter) != 1 || rep.ZeroRouter[0].Policy != "small" || rep.CostRange[0] != rep.CostRange[1] {
		t.Errorf("zero router %v over %v: want small alone", rep.ZeroRouter, rep.CostRange)
	}
	for _, c := range rep.CostAt {
		if c.Target != c.Fraction*0.7 {
			t.Errorf("cost at %v of the best model's quality: target %v, want %v of small's", c.Fraction, c.Target, c.Fraction*0.7)
		}
	}
	if len(rep.Curves) != 1 || !rep.Curves[0].Narrow || rep.Curves[0].AIQ != 0 || rep.Calibration != nil {
		t.Errorf("curves %+v, calibration %+v: want the mix narrow, without AIQ, and no calibration", rep.Curves, rep.Calibration)
	}

	var text, page, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	const footnote = "* evaluated on fewer than 95% of the 100 items the widest policy covers: not comparable with the others, and left out of"
	if !regexp.MustCompile(`(?m)^  90\.00% .* 30\* +single +strong$`).MatchString(text.String()) ||
		!regexp.MustCompile(`(?m)^  mix small/strong \* +11 +[\d.]+ +- +- `).MatchString(text.String()) ||
		!strings.Contains(text.String(), "\n  "+footnote) || !strings.Contains(text.String(), "best single model small\n") {
		t.Errorf("the text report does not mark strong and the mix, or lacks the footnote:\n%s", text.String())
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "<td>single</td><td>30*</td>") || !strings.Contains(page.String(), "<td>mix small/strong *</td>") ||
		!strings.Contains(page.String(), `<p class="note">`+footnote) || !strings.Contains(page.String(), "on 30 items only: not comparable") {
		t.Errorf("the page does not mark strong and the mix, or lacks the footnote")
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"compared_items": 100`) || !strings.Contains(js.String(), `"narrow": true`) {
		t.Errorf("the JSON report lacks compared_items or narrow")
	}
}

// TestReportOneModelHeading: a table of one model has no reference pair, and the heading of
// every format leaves it out instead of showing an empty one.
func TestReportOneModelHeading(t *testing.T) {
	pass, fail := true, false
	rows := []outcomes.Row{
		{Item: "a", Prompt: "a", Model: "only", Pass: &pass},
		{Item: "b", Prompt: "b", Model: "only", Pass: &fail},
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"text", func(b *bytes.Buffer) error { return rep.WriteText(b) }, "2 items · 1 models · grade pass · best single model only\n"},
		{"html", func(b *bytes.Buffer) error { return rep.WriteHTML(b) }, "2 items · 1 models · grade pass · best single model only</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) || strings.Contains(b.String(), "reference pair") {
				t.Errorf("the heading is not %q:\n%s", tt.want, b.String())
			}
		})
	}
}

// TestReportPolicyOnNoItems: a model whose rows have no grade (a judge's, a fallback nothing
// validated) is evaluated on no item, as is a cascade through it: they measured nothing, so
// every format shows no figures for them (- in text, – in HTML, null in JSON) and marks them
// *, and they are left out of the best single model, the frontier and the zero router.
func TestReportPolicyOnNoItems(t *testing.T) {
	var rows []outcomes.Row
	for i := range 40 {
		id := fmt.Sprintf("r%02d", i)
		rows = append(rows, row(id, "small", i%4 != 0, 0.0001), row(id, "big", i%10 != 0, 0.002),
			outcomes.Row{Item: id, Prompt: "prompt " + id, Model: "judge", Cost: clearbar.MoneyFromUSD(0.01)})
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Cascades: [][]string{{"small", "judge"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"judge", "cascade small → judge (d=0.5 f=0.02)"} {
		r := rep.Result(name)
		if r == nil || r.Items != 0 || !r.Narrow {
			t.Fatalf("%s: %+v; want it evaluated on no item, and narrow", name, r)
		}
	}
	if rep.Best != "big" || rep.Weak != "small" || rep.Strong != "big" {
		t.Errorf("best %q, pair %s → %s; want big, and small → big", rep.Best, rep.Weak, rep.Strong)
	}
	for _, p := range append(rep.Frontier, rep.ZeroRouter...) {
		if p.Policy == "judge" || strings.Contains(p.Policy, "judge") {
			t.Errorf("%s, evaluated on no item, is on the frontier or the zero router", p.Policy)
		}
	}

	var text, page, js bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^  -( +-){6} +0\* +single +judge$`).MatchString(text.String()) ||
		!regexp.MustCompile(`(?m)^  -( +-){6} +0\* +cascade +cascade small → judge`).MatchString(text.String()) ||
		!strings.Contains(text.String(), "\n  * evaluated on fewer than 95% of the 40 items") {
		t.Errorf("the text report shows figures for what measured nothing, or does not mark it:\n%s", text.String())
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<tr><td>judge</td><td>single</td><td>0*</td><td>–</td><td>–</td><td>–</td><td>–</td><td>–</td><td>–</td><td>–</td></tr>",
		"<tr><td>judge</td><td>judge</td><td>40</td><td>0</td><td>40</td><td>0</td><td>–</td><td>–</td></tr>",
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Results []map[string]any `json:"results"`
		Models  []map[string]any `json:"models"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range back.Results {
		if r["name"] != "judge" && r["name"] != "big" {
			continue
		}
		for _, k := range []string{"quality", "passes", "cost_usd", "cost_per_item_usd", "escalation", "failed", "strong_share"} {
			if v, ok := r[k]; !ok || (v == nil) != (r["name"] == "judge") {
				t.Errorf("%s's %s is %v; want null for judge, a figure for big", r["name"], k, v)
			}
		}
		if r["name"] == "judge" && r["narrow"] != true {
			t.Errorf("judge is not narrow in JSON: %v", r)
		}
	}
	for _, m := range back.Models {
		for _, k := range []string{"quality", "cost_per_item_usd"} {
			if v, ok := m[k]; !ok || (v == nil) != (m["name"] == "judge") {
				t.Errorf("model %s's %s is %v; want null for judge, a figure for the others", m["name"], k, v)
			}
		}
	}
}

// TestReportNamesTheStrongModel: the share of items sent to the reference pair's strong model
// is headed by that model's name in every format, so that a model named "strong" that is not
// the pair's strong one (here the pair is strong → mini) is not read as the one it counts.
func TestReportNamesTheStrongModel(t *testing.T) {
	var rows []outcomes.Row
	for i := range 40 {
		id := fmt.Sprintf("r%02d", i)
		rows = append(rows, row(id, "strong", i%3 != 0, 0.0001), row(id, "mini", i%10 != 0, 0.002))
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Target: &replay.Target{Objective: replay.ClearBar, Quality: 0.8}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Weak != "strong" || rep.Strong != "mini" || rep.Calibration == nil {
		t.Fatalf("pair %s → %s, calibration %v; want strong → mini and a calibration", rep.Weak, rep.Strong, rep.Calibration)
	}
	var text, page bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^  QUALITY .* ESCALATED +TO mini +ITEMS +KIND +POLICY$`).MatchString(text.String()) ||
		!regexp.MustCompile(`(?m)^  [\d.]+% .* 0\.0% +100\.0% +40 +single +mini$`).MatchString(text.String()) ||
		!strings.Contains(text.String(), "CALLS TO mini FOR 50% / 80% OF THE GAP") ||
		!regexp.MustCompile(`of items to mini, escalated`).MatchString(text.String()) || strings.Contains(text.String(), "STRONG") {
		t.Errorf("the text report does not name mini as the model its share counts:\n%s", text.String())
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<th>Escalated</th><th>To mini</th></tr>", "<th>Calls to mini for 20% / 50% / 80% of the gap</th>", "of items to mini"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
