package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/spec"
)

// specRouteSpec is a validated cascade whose assumptions are far from what the outcomes of
// writeSpecRouteOutcomes measure.
const specRouteSpec = `version: 1
name: spec-route
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-1, price: {input: 1, output: 1}}
  strong: {provider: sim, model: strong-1, price: {input: 10, output: 30}}
categories:
  - name: qa
    share: 1
    tokens: {in: 50, out: 20}
    quality_bar: 0.8
    route:
      cascade:
        - {model: small, validate: [{max_length: 3}]} # short answers only
        - strong
    assume:
      pass_rate: {small: 0.5, strong: 0.99}
      validator: {detect: 0.95, false_alarm: 0.01} # a guess
`

// writeSpecRouteOutcomes writes n items where small passes about 70% of them, strong about
// 90%, independently, and small's answer is long (flagged by max_length: 3) for about
// detect of its failing answers and falseAlarm of its passing ones.
func writeSpecRouteOutcomes(t *testing.T, path string, n int, seed uint64, detect, falseAlarm float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var rows []outcomes.Row
	for i := range n {
		id := fmt.Sprint("q", i)
		small, strong := rng.Float64() < 0.7, rng.Float64() < 0.9
		flag := falseAlarm
		if !small {
			flag = detect
		}
		answer := "a"
		if rng.Float64() < flag {
			answer = "a long answer"
		}
		rows = append(rows,
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "small", Response: answer, TokensIn: 50, TokensOut: 20, Cost: clearbar.MoneyFromUSD(0.0001), Pass: &small},
			outcomes.Row{Item: id, Category: "qa", Prompt: id, Model: "strong", Response: "a", TokensIn: 50, TokensOut: 20, Cost: clearbar.MoneyFromUSD(0.001), Pass: &strong})
	}
	writeRows(t, path, rows)
}

// calibratedSpecRoute reads a replay's JSON report: the chosen policy's kind, quality, items
// and measured validator strength.
type calibratedSpecRoute struct {
	Kind      string  `json:"kind"`
	Quality   float64 `json:"quality"`
	Items     int     `json:"items"`
	Validator *struct {
		Detect     float64 `json:"detect"`
		FalseAlarm float64 `json:"false_alarm"`
		Failing    float64 `json:"failing_answers"`
		Passing    float64 `json:"passing_answers"`
	} `json:"validator"`
}

func replaySpecRoute(t *testing.T, specFile, table string) (calibratedSpecRoute, string) {
	t.Helper()
	report := filepath.Join(filepath.Dir(specFile), "report.json")
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate", "--format", "json", "--out", report)
	if code != 0 {
		t.Fatalf("replay --calibrate: %d\n%s\n%s", code, out, errOut)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Calibration struct {
			Chosen calibratedSpecRoute `json:"chosen"`
		} `json:"calibration"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Calibration.Chosen.Kind != "spec" {
		t.Fatalf("want the spec's own route chosen, got %+v\n%s", rep.Calibration.Chosen, out)
	}
	return rep.Calibration.Chosen, out
}

// TestReplayCalibrateSpecRouteWritesMeasuredAssumptions: when the spec's own route is the
// calibrated choice, calibration keeps it and writes its models' measured pass rates and its
// validators' measured strength, so that the estimate of the spec agrees with the replay on
// quality, within the replay's 95% interval; the spec keeps its layout and comments.
func TestReplayCalibrateSpecRouteWritesMeasuredAssumptions(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(specRouteSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeSpecRouteOutcomes(t, table, 600, 7, 0.75, 0.1)
	chosen, out := replaySpecRoute(t, specFile, table)

	data, _ := os.ReadFile(specFile)
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatalf("calibrated spec does not load: %v\n%s", err, data)
	}
	c := s.Category("qa")
	if c.Route.Kind() != "cascade" || len(c.Route.Cascade) != 2 {
		t.Errorf("the route was changed:\n%s", data)
	}
	for _, keep := range []string{"# short answers only", "# a guess", "- {model: small, validate: [{max_length: 3}]}"} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("the spec lost %q:\n%s", keep, data)
		}
	}
	switch v, st := chosen.Validator, c.Assume.Validator; {
	case v == nil || v.Failing < 30 || v.Passing < 30:
		t.Errorf("the replay measured no validator strength on enough answers: %+v", v)
	case st == nil || float64(st.Detect) != sig6(v.Detect) || float64(st.FalseAlarm) != sig6(v.FalseAlarm) || st.Calibrated.IsZero():
		t.Errorf("assume.validator %+v; want the measured detect %v and false_alarm %v, dated\n%s", st, v.Detect, v.FalseAlarm, data)
	}
	if !strings.Contains(out, "assume.validator set to the strength") {
		t.Errorf("the output does not say what was written:\n%s", out)
	}

	q, _ := estimateQA(t, specFile)
	half := 1.96 * math.Sqrt(chosen.Quality*(1-chosen.Quality)/float64(chosen.Items))
	if math.Abs(q-chosen.Quality) > half {
		t.Errorf("the estimate of the calibrated spec, %.4f, is outside the replay's %.4f ± %.4f\n%s", q, chosen.Quality, half, data)
	}
}

// TestReplayCalibrateSpecRouteFewAnswers: a strength measured on too few failing answers is
// not written (the pass rates are), and the output says why.
func TestReplayCalibrateSpecRouteFewAnswers(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(specRouteSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeSpecRouteOutcomes(t, table, 60, 7, 0.75, 0.1) // about 18 failing answers
	chosen, out := replaySpecRoute(t, specFile, table)
	if chosen.Validator == nil || chosen.Validator.Failing >= 30 {
		t.Fatalf("want fewer than 30 failing answers judged, got %+v", chosen.Validator)
	}
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Category("qa")
	if st := c.Assume.Validator; st == nil || st.Detect != 0.95 || st.FalseAlarm != 0.01 || !st.Calibrated.IsZero() {
		t.Errorf("assume.validator %+v: want it left as written", st)
	}
	if c.Assume.PassRate["small"] == 0.5 || c.Assume.PassRate["strong"] == 0.99 {
		t.Errorf("the pass rates were not written: %v", c.Assume.PassRate)
	}
	if !strings.Contains(out, "assume.validator was left as it is") {
		t.Errorf("the output does not say why the strength was not written:\n%s", out)
	}
}
