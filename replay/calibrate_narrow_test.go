package replay

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

func rowsSource(rows []outcomes.Row) Source {
	return func(emit func(outcomes.Row) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func parseSpec(t *testing.T, doc string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(doc), "cal.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCalibrateLeavesOutNarrowMarks: the calibration never chooses a policy the report marked
// Narrow, though the widest policy (a single model a validated route may not be replaced
// with) is not among the candidates, and says why nothing was chosen.
func TestCalibrateLeavesOutNarrowMarks(t *testing.T) {
	s := parseSpec(t, `version: 1
name: cal
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  nano: {provider: sim, model: gpt-4.1-nano}
  strong: {provider: sim, model: gpt-4.1}
categories:
  - name: intent
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.95
    route: {cascade: [nano, strong], validate: [{max_length: 3}]}
    assume:
      pass_rate: {nano: 0.7, strong: 0.95}
      validator: {detect: 0.8, false_alarm: 0.02}
`)
	yes, no := true, false
	// nano has a grade on 3 of the 4 items (t3 ungraded, t4 failed): every policy through it
	// is Narrow; strong alone covers the 4.
	rows := []outcomes.Row{
		{Item: "t1", Category: "intent", Prompt: "p1", Model: "nano", Response: "a", LatencyMS: 100, Pass: &yes},
		{Item: "t1", Category: "intent", Prompt: "p1", Model: "strong", Response: "a", LatencyMS: 500, Pass: &yes},
		{Item: "t2", Category: "intent", Prompt: "p2", Model: "nano", Response: "bbbb", LatencyMS: 100, Pass: &no},
		{Item: "t2", Category: "intent", Prompt: "p2", Model: "strong", Response: "a", LatencyMS: 500, Pass: &yes},
		{Item: "t3", Category: "intent", Prompt: "p3", Model: "nano", Response: "a", LatencyMS: 100},
		{Item: "t3", Category: "intent", Prompt: "p3", Model: "strong", Response: "a", Pass: &no},
		{Item: "t4", Category: "intent", Prompt: "p4", Model: "nano", Error: "timeout", LatencyMS: 100},
		{Item: "t4", Category: "intent", Prompt: "p4", Model: "strong", Response: "a", LatencyMS: 500, Pass: &yes},
	}
	rep, err := Run(context.Background(), s, rowsSource(rows), Options{Category: "intent"})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Result("spec: nano → strong (validators)"); r == nil || !r.Narrow {
		t.Fatalf("the spec's route should be Narrow: %+v", r)
	}
	if cal := rep.Calibration; cal != nil {
		t.Fatalf("calibration chose %s (narrow %v), which the report marks * as left out of the calibration", cal.Chosen.Name, cal.Chosen.Narrow)
	}
	var why string
	for _, n := range rep.Notes {
		if strings.HasPrefix(n, "calibration: ") {
			why = n
		}
	}
	if !strings.Contains(why, "left out for covering too few items") || !strings.Contains(why, "spec: nano → strong (validators) (3 of 4 items)") {
		t.Errorf("the calibration's note should name the policies left out for their coverage, of the 4 items: %q", why)
	}
}

// TestCalibrateHonoursNarrowFlag: a result Run marked Narrow is no candidate of Calibrate,
// whatever the other results cover.
func TestCalibrateHonoursNarrowFlag(t *testing.T) {
	rs := []*Result{
		{Name: "a", Kind: KindCascade, Realisable: true, Items: 30, Quality: 0.99, Narrow: true},
		{Name: "b", Kind: KindCascade, Realisable: true, Items: 30, Quality: 0.96},
	}
	c, err := Calibrate(rs, Target{Objective: ClearBar, Quality: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	if c.Chosen.Name != "b" || len(c.Excluded) != 1 || c.Excluded[0].Name != "a" {
		t.Errorf("chose %s, excluded %+v; want b, with a excluded", c.Chosen.Name, c.Excluded)
	}
	if _, err := Calibrate(rs[:1], Target{Objective: ClearBar, Quality: 0.95}); err == nil || !strings.Contains(err.Error(), "left out for covering too few items") {
		t.Errorf("only a Narrow result: error %v, want one naming it as left out", err)
	}
	// Against a report's 100 items, 30 are too few even when no candidate covers more.
	if _, err := calibrateAgainst(rs[1:], Target{Objective: ClearBar, Quality: 0.95}, 100); err == nil || !strings.Contains(err.Error(), "b (30 of 100 items)") {
		t.Errorf("against 100 items: error %v, want b left out for 30 of 100 items", err)
	}
}

// TestStrongShareTargetNamesTheModel: the calibration's strong-share heading names the
// reference pair's strong model, as the TO column does, not the role.
func TestStrongShareTargetNamesTheModel(t *testing.T) {
	chosen := &Result{Name: "cascade nano → mini (validators)", Kind: KindCascade, Realisable: true, Items: 10, Quality: 0.9, StrongShare: 0.05}
	rep := &Report{Items: 10, Weak: "nano", Strong: "mini", Results: []*Result{chosen},
		Calibration: &Calibration{Target: Target{Objective: StrongShare, StrongShare: 0.05}, Chosen: chosen, Candidates: 1}}
	var text, html bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"text": "Calibration (at most 5.0% mini calls, best quality)", "html": "For at most 5.0% mini calls, best quality:"} {
		out := map[string]string{"text": text.String(), "html": html.String()}[name]
		if !strings.Contains(out, want) {
			t.Errorf("%s: the calibration's heading should say %q:\n%s", name, want, out)
		}
	}
}

// measuredCascadeSpec routes qa through small → mid, validated by a length check that flags
// only small's long answers; the assumed strength is far better than that.
const measuredCascadeSpec = `version: 1
name: cal
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4.1-nano}
  mid: {provider: sim, model: gpt-4.1-mini}
  strong: {provider: sim, model: gpt-4.1}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.85
    route: {cascade: [small, mid], validate: [{max_length: 3}]}
    assume:
      pass_rate: {small: 0.7, mid: 0.8, strong: 1}
      validator: {detect: 0.9, false_alarm: 0.05}
`

// measuredCascadeRows: small passes 70% of the items; of its misses, the length check catches
// one in three (its long answers); mid passes 80%, strong every item. extra, when not "",
// is a model outside the spec that passes every item.
func measuredCascadeRows(extra string) []outcomes.Row {
	var rows []outcomes.Row
	for i := range 100 {
		id := fmt.Sprintf("q%d", i)
		small, mid, strong := i%10 < 7, i%10 < 8, true
		ans := "a"
		if i%10 == 9 {
			ans = "long"
		}
		rows = append(rows,
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "small", Response: ans, Cost: clearbar.MoneyFromUSD(0.0001), LatencyMS: 100, Pass: &small},
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "mid", Response: "a", Cost: clearbar.MoneyFromUSD(0.001), LatencyMS: 200, Pass: &mid},
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "strong", Response: "a", Cost: clearbar.MoneyFromUSD(0.01), LatencyMS: 500, Pass: &strong})
		if extra != "" {
			rows = append(rows, outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: extra, Response: "a", Cost: clearbar.MoneyFromUSD(0.02), LatencyMS: 500, Pass: &strong})
		}
	}
	return rows
}

// TestCalibrateJudgesCascadesByMeasuredValidators: where the spec's validators ran on the
// recorded answers, a cascade of other models than the route's is replayed with them too and
// judged by what they measured, not by the assumed strength, which would clear the bar.
func TestCalibrateJudgesCascadesByMeasuredValidators(t *testing.T) {
	s := parseSpec(t, measuredCascadeSpec)
	rep, err := Run(context.Background(), s, rowsSource(measuredCascadeRows("")), Options{Category: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	// small → strong: small's 70%, and strong's answer to the 10% the check escalates.
	real := rep.Result("cascade small → strong (validators)")
	if real == nil || real.Quality != 0.8 || real.Escalation != 0.1 || !real.Params.Validators {
		t.Fatalf("the pair's cascade with the spec's validators: %+v, want quality 0.8, escalation 0.1", real)
	}
	sim := rep.Result("cascade small → strong (d=0.9 f=0.05)")
	if sim == nil || sim.Quality < 0.85 {
		t.Fatalf("the pair's cascade at the assumed strength: %+v, want one clearing the bar on the assumption", sim)
	}
	if sim.measuredBy != real.Name {
		t.Errorf("the simulated cascade is measured by %q, want %q", sim.measuredBy, real.Name)
	}
	if cal := rep.Calibration; cal != nil {
		t.Errorf("calibration chose %s at %.4f: no cascade clears 85%% with the validators measured (notes %q)", cal.Chosen.Name, cal.Chosen.Quality, rep.Notes)
	}
	for _, p := range rep.Frontier {
		if p.Policy == sim.Name {
			t.Errorf("the simulated cascade is on the frontier, measured by %s", real.Name)
		}
	}
	// Aiming at a strong share, the measured cascade competes, and wins on what it measured.
	rep, err = Run(context.Background(), s, rowsSource(measuredCascadeRows("")), Options{Category: "qa", Target: &Target{Objective: StrongShare, StrongShare: 0.3}})
	if err != nil {
		t.Fatal(err)
	}
	if cal := rep.Calibration; cal == nil || cal.Chosen.Name != "cascade small → strong (validators)" {
		t.Errorf("strong share 30%%: calibration %+v, want the cascade with the spec's validators (notes %q)", cal, rep.Notes)
	}
}

// TestCalibrateLeavesOutUnmeasurableSimulatedCascades: a cascade the validators could not be
// replayed on (through a model outside the spec) does not compete on its assumed strength
// with what the validators measured.
func TestCalibrateLeavesOutUnmeasurableSimulatedCascades(t *testing.T) {
	s := parseSpec(t, measuredCascadeSpec)
	rep, err := Run(context.Background(), s, rowsSource(measuredCascadeRows("outside")), Options{
		Category: "qa", Cascades: [][]string{{"small", "outside"}},
		Target: &Target{Objective: StrongShare, StrongShare: 0.3},
	})
	if err != nil {
		t.Fatal(err)
	}
	sim := rep.Result("cascade small → outside (d=0.9 f=0.05)")
	if sim == nil || rep.Result("cascade small → outside (validators)") != nil {
		t.Fatalf("want small → outside replayed at the simulated strength only: %v", rep.Result("cascade small → outside (validators)"))
	}
	if cal := rep.Calibration; cal == nil || cal.Chosen.Params.Strength != nil {
		t.Fatalf("calibration %+v: want a measured choice, not a simulated cascade (notes %q)", cal, rep.Notes)
	}
	found := false
	for _, n := range rep.Notes {
		found = found || strings.Contains(n, "simulated validator strength only") && strings.Contains(n, sim.Name)
	}
	if !found {
		t.Errorf("no note names %s as left out: %q", sim.Name, rep.Notes)
	}
}
