package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// TestSimulatedAnswersMeetReferences runs items graded by references against simulated
// providers with known pass rates (0.7 and 0.95). The simulator's text knows nothing of an
// item's expected answer, so eval fits good answers to the references and bad ones that
// happen to pass them away from them: each check kind recovers the assumed pass rates, and
// every row's reference verdicts agree with the simulator's ground truth.
func TestSimulatedAnswersMeetReferences(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	kinds := []string{
		`"reference": "{\"id\": \"T-%d\"}"`, // the category's validators and a normalized match
		`"checks": [{"contains": "refund %d"}]`,
		`"checks": [{"numeric": %d.5}]`,
		`"checks": [{"regex": "^ID-[0-9]{3}-%d$"}]`,
		`"checks": [{"exact": "B%d"}]`,
		`"checks": [{"regex": "\\{"}, {"contains": "id"}]`, // the simulator's bad answers pass it as they are
		`"reference": "x%d", "checks": [{"normalized": "The U.S.A."}]`,
	}
	path, models, res := runKinds(t, f, 2100, kinds, truthGrader{})
	truth := map[string]float64{"small": 0.7, "strong": 0.95}
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if p := truth[s.Model]; p < s.PassRateCI[0] || p > s.PassRateCI[1] {
			t.Errorf("%s: measured %.4f (%.4f–%.4f) does not cover the assumed pass rate %v", s.Model, s.PassRate, s.PassRateCI[0], s.PassRateCI[1], p)
		}
	}
	for _, rec := range readRecords(t, path) {
		n := len(rec.Checks)
		pass := true
		for _, v := range rec.Checks[:n-1] {
			// The category's validators beside the checks are recorded, not counted.
			pass = pass && (v.Pass || strings.HasPrefix(v.Check, validatorsPrefix))
		}
		if pass != rec.Checks[n-1].Pass {
			t.Fatalf("item %s on %s answered %q: the checks and the ground truth disagree: %+v", rec.Item, rec.Model, rec.Response, rec.Checks)
		}
	}
}

func TestSimulatedAnswerLeavesOtherAnswersAlone(t *testing.T) {
	it := &Item{ID: "a", Reference: "42", Graders: []Grader{Normalized{Want: "42"}}}
	real := &clearbar.Response{Body: []byte(`{"choices":[]}`), Choices: []clearbar.Choice{{Text: "no idea"}}}
	if got := simulatedAnswer(it, real); got != real {
		t.Errorf("an answer without a simulation record was changed: %+v", got)
	}
	sim := []byte(`{"x_clearbar_simulation":{"category":"c","good":true,"flagged":false}}`)
	calls := &clearbar.Response{Body: sim, Choices: []clearbar.Choice{{ToolCalls: []clearbar.ToolCall{{Name: "f", Arguments: "{}"}}}}}
	if got := simulatedAnswer(it, calls); got != calls {
		t.Errorf("a tool call answer was changed: %+v", got)
	}
	good := &clearbar.Response{Body: sim, Choices: []clearbar.Choice{{Text: "This is a simulated answer."}}}
	if got := simulatedAnswer(it, good); got.Text() != "42" || good.Text() != "This is a simulated answer." {
		t.Errorf("good answer %q (original now %q): want the reference, the original untouched", got.Text(), good.Text())
	}
	validated := &Item{ID: "b", Reference: "42", Graders: []Grader{&Validators{}, Normalized{Want: "42"}}}
	flagged := &clearbar.Response{Body: []byte(`{"x_clearbar_simulation":{"category":"c","good":true,"flagged":true}}`),
		Choices: []clearbar.Choice{{Text: "{broken"}}}
	if got := simulatedAnswer(validated, flagged); got.Text() != "42" {
		t.Errorf("a good answer drawn to fail the validators became %q: the validators' verdict does not grade an item with a reference, so it must pass the reference", got.Text())
	}
}

// TestSimulatedJudgeGradesTheDraw: a judge check on simulated answers grades what the
// simulator drew, so that it measures the pass rate as reference checks do, even where the
// category's validator strength makes the gateway's validators miss bad answers and flag good
// ones. Every row's judge verdict agrees with the simulation's truth.
func TestSimulatedJudgeGradesTheDraw(t *testing.T) {
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	weak := strings.Replace(string(data), "validator: {detect: 1, false_alarm: 0}", "validator: {detect: 0.6, false_alarm: 0.05}", 1)
	path := filepath.Join(t.TempDir(), "weak.yaml")
	if err := os.WriteFile(path, []byte(weak), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, path, "extract")
	set, err := LoadSet(writeSet(t, 200, `, "checks": [{"judge": {"model": "strong", "rubric": "the id is right"}}]`), f.env)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items {
		it.Graders = append(it.Graders, truthGrader{})
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := &Runner{Category: f.cat, Models: f.models("small"), Providers: f.providers, Concurrency: 8,
		TimeScales: map[string]float64{"sim-a": 0.0001, "sim-b": 0.0001}}
	if _, err := r.Run(context.Background(), set, openOutput(t, out)); err != nil {
		t.Fatal(err)
	}
	disagree := 0
	for _, rec := range readRecords(t, out) {
		if checkNamed(t, rec.Checks, "judge ").Pass != checkNamed(t, rec.Checks, "simulation truth").Pass {
			disagree++
		}
	}
	if disagree > 0 {
		t.Errorf("the judge disagrees with the simulation's truth on %d of 200 answers: it measured the validators' acceptance, not the pass rate", disagree)
	}
}

// TestSimulatedJSONAnswerStaysJSON: a good simulated answer that is a JSON object takes the
// text a reference check wants as one of its values, and stays JSON (which a json_schema
// validator checks), rather than having the text appended after it.
func TestSimulatedJSONAnswerStaysJSON(t *testing.T) {
	it := &Item{ID: "q1", Graders: []Grader{Contains{Want: `"shipping"`}}}
	resp := &clearbar.Response{
		Choices: []clearbar.Choice{{Text: `{"confidence":0.5,"intent":"refund"}`}},
		Body:    []byte(`{"x_clearbar_simulation":{"category":"intent","good":true,"flagged":false}}`),
	}
	got := simulatedAnswer(it, resp).Text()
	var obj map[string]any
	if json.Unmarshal([]byte(got), &obj) != nil || !strings.Contains(got, `"shipping"`) || obj["confidence"] != 0.5 {
		t.Errorf("the good answer became %q; want the JSON object with a value set to the expected text", got)
	}
}

// TestSimulatedJSONAnswerKeepsValidatorsPassing: of the values a good JSON answer could take
// the expected text in, those that keep the category's validators passing come first. Here
// the first value by key is an enum the schema checks, so writing the text there would turn
// a good, valid answer into one the validators refuse.
func TestSimulatedJSONAnswerKeepsValidatorsPassing(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	const src = `version: 1
name: sim-json
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  sim: {type: simulated, simulate: {seed: 1, error_rate: 0, time_scale: 0.0001}}
models:
  small: {provider: sim, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: triage
    share: 1
    tokens: {in: 100, out: 20}
    quality_bar: 0.9
    route:
      model: small
      validate:
        - json_schema:
            inline:
              type: object
              required: [a_label, b_note]
              properties: {a_label: {enum: [refund, other]}, b_note: {type: string}}
    assume:
      pass_rate: {small: 0.9}
    why: A fixture.
`
	if err := os.WriteFile(specPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, specPath, "triage")
	v, err := NewValidators(f.env.Checker, f.cat)
	if err != nil {
		t.Fatal(err)
	}
	it := &Item{ID: "q1", Graders: []Grader{v, Contains{Want: "shipping"}}}
	resp := &clearbar.Response{
		Choices: []clearbar.Choice{{Text: `{"a_label":"refund","b_note":"late parcel"}`}},
		Body:    []byte(`{"x_clearbar_simulation":{"category":"triage","good":true,"flagged":false}}`),
	}
	got := simulatedAnswer(it, resp).Text()
	var obj map[string]any
	if err := json.Unmarshal([]byte(got), &obj); err != nil {
		t.Fatalf("the good answer became %q, not JSON: %v", got, err)
	}
	if obj["a_label"] != "refund" || obj["b_note"] != "shipping" {
		t.Errorf("the good answer became %q; want the expected text in b_note, where the schema still passes", got)
	}
	in := &Input{Item: it, Response: &clearbar.Response{Choices: []clearbar.Choice{{Text: got}}}}
	if g := v.Grade(context.Background(), in); !g.Pass {
		t.Errorf("the category's validators refuse the good answer %q: %s", got, g.Reason)
	}
}

// TestValidatorsBesideReferenceDoNotGrade: items graded by a reference or checks, with the
// category's validators beside them, against simulated providers with known pass rates (0.7
// and 0.95) and validators that miss a fifth of the bad answers and flag a tenth of the good
// ones. The pass is the reference's grade alone, so each model's pass rate is recovered
// within its interval (the validators' false alarms would pull it down to 0.63 and 0.855);
// the validators' verdicts are still recorded beside it, and where the checks let an answer
// fail them (a contains check), they are as the simulator drew them: they recover the assumed
// detection and false-alarm rates.
func TestValidatorsBesideReferenceDoNotGrade(t *testing.T) {
	data, err := os.ReadFile("testdata/recover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	weak := strings.Replace(string(data), "validator: {detect: 1, false_alarm: 0}", "validator: {detect: 0.8, false_alarm: 0.1}", 1)
	specPath := filepath.Join(t.TempDir(), "weak.yaml")
	if err := os.WriteFile(specPath, []byte(weak), 0o644); err != nil {
		t.Fatal(err)
	}
	f := loadFixture(t, specPath, "extract")
	kinds := []string{
		`"reference": "{\"id\": \"T-%d\"}"`, // the category's validators and a normalized match
		`"checks": [{"contains": "refund %d"}, {"validators": true}]`,
	}
	path, models, res := runKinds(t, f, 2000, kinds, drawGrader{})
	truth := map[string]float64{"small": 0.7, "strong": 0.95}
	for _, s := range Summarize(f.cat, models, res.Rows) {
		if p := truth[s.Model]; s.Graded != 2000 || p < s.PassRateCI[0] || p > s.PassRateCI[1] {
			t.Errorf("%s: %d graded, measured %.4f (%.4f–%.4f); want all 2000 graded and the assumed pass rate %v covered", s.Model, s.Graded, s.PassRate, s.PassRateCI[0], s.PassRateCI[1], p)
		}
	}
	var bad, caught, good, flagged int
	for _, rec := range readRecords(t, path) {
		var validators, reference, draw *Verdict
		for i := range rec.Checks {
			switch v := &rec.Checks[i]; {
			case strings.HasPrefix(v.Check, validatorsPrefix):
				validators = v
			case v.Check == "simulation draw":
				draw = v
			default:
				reference = v
			}
		}
		if rec.GradedBy != GradeChecks || len(rec.Checks) != 3 || validators == nil || reference == nil || draw == nil {
			t.Fatalf("item %s on %s: graded by %q with checks %+v; want the reference's grade, with the validators' verdict recorded", rec.Item, rec.Model, rec.GradedBy, rec.Checks)
		}
		if *rec.Pass != draw.Pass || reference.Pass != draw.Pass {
			t.Fatalf("item %s on %s answered %q: pass %v, checks %+v; want the reference's grade, the simulator's draw", rec.Item, rec.Model, rec.Response, *rec.Pass, rec.Checks)
		}
		if !strings.HasPrefix(reference.Check, "contains") {
			continue
		}
		if validators.Pass != (draw.Reason != "flagged") {
			t.Fatalf("item %s on %s answered %q: the validators' verdict %v is not the simulator's draw (%q)", rec.Item, rec.Model, rec.Response, validators.Pass, draw.Reason)
		}
		if draw.Pass {
			good++
			flagged += b2i(!validators.Pass)
		} else {
			bad++
			caught += b2i(!validators.Pass)
		}
	}
	// Which answers the simulator flags depends on the order concurrent calls reach it, so
	// these shares vary from run to run: they are held to 4.4 standard errors of the assumed
	// rates (a false failure about once in 100,000 runs), not to a 95% interval.
	if !nearRate(caught, bad, 0.8) {
		t.Errorf("the recorded verdicts caught %d of %d bad answers; want about the assumed detection 0.8", caught, bad)
	}
	if !nearRate(flagged, good, 0.1) {
		t.Errorf("the recorded verdicts flagged %d of %d good answers; want about the assumed false alarm 0.1", flagged, good)
	}
}

// nearRate reports whether k of n is within 4.4 standard errors of the rate p.
func nearRate(k, n int, p float64) bool {
	return n > 0 && math.Abs(float64(k)/float64(n)-p) <= 4.4*math.Sqrt(p*(1-p)/float64(n))
}

// drawGrader grades an answer by the simulator's ground truth, as truthGrader does, and says
// in its reason whether the simulator drew the answer to fail validation ("flagged").
type drawGrader struct{}

func (drawGrader) Name() string { return "simulation draw" }

func (drawGrader) Grade(_ context.Context, in *Input) Verdict {
	sim := simulationOf(in.Response)
	if sim == nil {
		return Verdict{Check: "simulation draw", Reason: "the answer reports no simulation draw"}
	}
	reason := ""
	if sim.Flagged {
		reason = "flagged"
	}
	return passFail("simulation draw", sim.Good, reason)
}

// runKinds runs n items, item i of kind kinds[i mod len(kinds)] (its "%d" the item's number),
// against the fixture's small and strong models with the test-only grader extra added to each
// item's graders, and returns the output's path, the models and the result.
func runKinds(t *testing.T, f *fixture, n int, kinds []string, extra Grader) (string, []*spec.Model, *Result) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		kind := kinds[i%len(kinds)]
		if strings.Contains(kind, "%d") {
			kind = fmt.Sprintf(kind, i)
		}
		fmt.Fprintf(&b, `{"id": "q%d", "prompt": "Extract the id from ticket %d.", %s}`+"\n", i, i, kind)
	}
	setPath := filepath.Join(t.TempDir(), "set.jsonl")
	if err := os.WriteFile(setPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSet(setPath, f.env)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range set.Items {
		it.Graders = append(it.Graders, extra)
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	models := f.models("small", "strong")
	r := &Runner{Category: f.cat, Models: models, Providers: f.providers, Concurrency: 8,
		TimeScales: map[string]float64{"sim-a": 0.0001, "sim-b": 0.0001}}
	res, err := r.Run(context.Background(), set, openOutput(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return path, models, res
}
