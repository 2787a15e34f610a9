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
	rep, err := replay.Run(context.Background(), fixtureSpec(t), source(rows), replay.Options{Category: "intent", Scorer: scorer, Thresholds: 10})
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
		"Frontier (no policy is both cheaper and better",
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
