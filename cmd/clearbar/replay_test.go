package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

const learnSpec = `version: 1
name: learn-replay
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: gpt-4o-mini}
  strong: {provider: sim, model: gpt-4o}
categories:
  - name: qa
    share: 1
    tokens: {in: 50, out: 20}
    quality_bar: 0.9
    route:
      cascade: [small, strong]
      validate: [{max_length: 2000}] # answers stay short
    assume:
      pass_rate: {small: 0.6, strong: 0.95}
`

// writeQAOutcomes writes an outcomes table where the small model passes the lookup questions
// (60% of items) and the strong model passes 95% of everything.
func writeQAOutcomes(t *testing.T, path string, n int) {
	t.Helper()
	writeQAOutcomesFrom(t, path, 0, n)
}

// writeQAOutcomesFrom is writeQAOutcomes of the items from, …, from+n−1: tables of disjoint
// ranges share no prompt, so that a router trained on one is replayed out of sample on another.
func writeQAOutcomesFrom(t *testing.T, path string, from, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := outcomes.NewWriter(f)
	for i := from; i < from+n; i++ {
		easy := i%5 < 3
		prompt := fmt.Sprintf("What is the capital of country number %d?", i)
		if !easy {
			prompt = fmt.Sprintf("Prove step by step that the sequence %d has a closed form and derive it.", i)
		}
		small, strong := easy, i%20 != 7
		for _, r := range []outcomes.Row{
			{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "gpt-4o-mini", TokensIn: 50, TokensOut: 20, Cost: 15_000, LatencyMS: 300, Pass: &small},
			{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "gpt-4o", TokensIn: 50, TokensOut: 20, Cost: 325_000, LatencyMS: 900, Pass: &strong},
		} {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestLearnReplayCalibrate is the measure-instead-of-guess loop from the command line: train
// a router on outcomes, replay policies over them, and write the calibrated threshold into
// the spec as a score route that the gateway's router loads.
func TestLearnReplayCalibrate(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 600)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(learnSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	router := filepath.Join(dir, "routers", "qa.json") // learn train makes the directory
	code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "qa", "--out", router, "--folds", "3")
	if code != 0 || !strings.Contains(out, "trained on") || !strings.Contains(out, "Wrote "+router) {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--router", router, "--format", "json")
	if code != 0 {
		t.Fatalf("replay: %d\n%s", code, errOut)
	}
	var rep struct {
		Items   int      `json:"items"`
		Notes   []string `json:"notes"`
		Results []struct {
			Name    string  `json:"name"`
			Quality float64 `json:"quality"`
		} `json:"results"`
		Curves []struct {
			Kind string  `json:"kind"`
			APGR float64 `json:"apgr"`
		} `json:"curves"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay --format json: %v\n%.500s", err, out)
	}
	quality := map[string]float64{}
	for _, r := range rep.Results {
		quality[r.Name] = r.Quality
	}
	// Single models replay to their pass rates in the table exactly.
	if rep.Items != 600 || quality["small"] != 0.6 || quality["strong"] != 0.95 || quality["oracle"] != 1 {
		t.Errorf("items %d, qualities %v", rep.Items, quality)
	}
	// The router is replayed on its own training data: the report says its curves are in-sample.
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "in-sample") }) {
		t.Errorf("no in-sample note: %q", rep.Notes)
	}
	var apgr float64
	for _, c := range rep.Curves {
		if c.Kind == "threshold" {
			apgr = c.APGR
		}
	}
	if apgr < 0.8 {
		t.Errorf("the learned router's APGR is %.3f on prompts whose difficulty is in their words; want ≥ 0.8", apgr)
	}

	// Calibrating on the training outcomes is refused, whatever the file is called and
	// wherever it is run from: the router's file fingerprints its training prompts. The
	// report is written first.
	orig, _ := os.ReadFile(specFile)
	copied := filepath.Join(t.TempDir(), "renamed.jsonl")
	if data, err := os.ReadFile(table); err != nil || os.WriteFile(copied, data, 0o644) != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	code, out, errOut = run(t, "replay", specFile, "--outcomes", copied, "--category", "qa", "--router", router, "--calibrate", "--include", "threshold")
	if code == 0 || !strings.Contains(errOut, "was trained on 100% of these outcomes' items (600 of the 600 items)") ||
		!strings.Contains(errOut, "calibrate on outcomes it was not trained on") || !strings.Contains(errOut, "clearbar learn evaluate --outcomes "+copied) ||
		!strings.Contains(errOut, "--allow-in-sample") || !strings.Contains(out, "Frontier") {
		t.Errorf("replay --calibrate on the training outcomes: exit %d\n%s\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(specFile); string(data) != string(orig) {
		t.Fatalf("the refused calibration changed the spec:\n%s", data)
	}
	// --allow-in-sample calibrates anyway, with a warning.
	code, out, errOut = run(t, "replay", specFile, "--outcomes", copied, "--category", "qa", "--router", router, "--calibrate", "--include", "threshold", "--allow-in-sample")
	if code != 0 || !strings.Contains(out, "Wrote the calibrated route") || !strings.Contains(errOut, "calibrating on them anyway (--allow-in-sample)") {
		t.Errorf("replay --calibrate --allow-in-sample: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := os.WriteFile(specFile, orig, 0o644); err != nil {
		t.Fatal(err)
	}

	// Outcomes the router was not trained on calibrate it.
	held := filepath.Join(dir, "held.outcomes.jsonl")
	writeQAOutcomesFrom(t, held, 600, 600)
	code, out, errOut = run(t, "replay", specFile, "--outcomes", held, "--category", "qa", "--router", router,
		"--calibrate", "--include", "threshold")
	if code != 0 || !strings.Contains(out, "Wrote the calibrated route") || strings.Contains(out, "in-sample") {
		t.Fatalf("replay --calibrate: %d\n%s\n%s", code, out, errOut)
	}
	data, _ := os.ReadFile(specFile)
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatalf("calibrated spec does not load: %v\n%s", err, data)
	}
	r := s.Category("qa").Route
	if r.Kind() != "score" || r.Score.Router != "routers/qa.json" || r.Score.Threshold == nil || len(r.Validate) != 1 {
		t.Fatalf("calibrated route:\n%s", data)
	}
	share := s.Category("qa").Assume.ScoreShare
	if share["small"] < 0.4 || share["small"] > 0.75 || share["small"]+share["strong"] < 0.999 {
		t.Errorf("score_share %v: the small model should take about the 60%% easy items", share)
	}
	if !strings.Contains(string(data), "# answers stay short") {
		t.Errorf("the edit lost the spec's comments:\n%s", data)
	}
	if _, err := route.New(s); err != nil {
		t.Errorf("the gateway's router cannot load the calibrated spec: %v", err)
	}
	// And the estimator prices the new route.
	if code, out, errOut := run(t, "estimate", specFile, "--format", "json"); code != 0 || !strings.Contains(out, `"route_kind": "score"`) {
		t.Errorf("estimate on the calibrated spec: %d\n%s\n%s", code, out, errOut)
	}
}

// TestReplayCalibrateWritesTheCategorysModels: a calibrated willingness-to-pay route is written
// over the category's own models, cheapest first (the order a score route escalates in), never
// over a model the outcomes have and the spec does not, and with the value the report chose.
func TestReplayCalibrateWritesTheCategorysModels(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 600)
	// A third model the spec does not declare, good and cheap: a calibration over every model
	// in the table would route to it.
	f, err := os.OpenFile(table, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewWriter(f)
	for i := range 600 {
		pass := i%10 != 3
		prompt := fmt.Sprintf("What is the capital of country number %d?", i)
		if i%5 >= 3 {
			prompt = fmt.Sprintf("Prove step by step that the sequence %d has a closed form and derive it.", i)
		}
		if err := w.Write(outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "stranger-1", TokensIn: 50, TokensOut: 20, Cost: 10_000, Pass: &pass}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Spec names whose alphabetical order is not their price order.
	doc := strings.NewReplacer("small:  {provider", "zeta: {provider", "strong: {provider", "alpha: {provider",
		"cascade: [small, strong]", "cascade: [zeta, alpha]", "{small: 0.6, strong: 0.95}", "{zeta: 0.6, alpha: 0.95}").Replace(learnSpec)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	router := filepath.Join(dir, "qa.json")
	train := filepath.Join(dir, "train.outcomes.jsonl") // other items: the calibration is out of sample
	writeQAOutcomesFrom(t, train, 600, 600)
	if code, out, errOut := run(t, "learn", "train", "--outcomes", train, "--category", "qa", "--out", router, "--folds", "3"); code != 0 {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--router", router, "--calibrate", "--include", "wtp")
	if code != 0 {
		t.Fatalf("replay --calibrate: %d\n%s\n%s", code, out, errOut)
	}
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Category("qa").Route.Score
	if sc == nil || len(sc.Models) != 2 || sc.Models[0].Name != "zeta" || sc.Models[1].Name != "alpha" || sc.WillingnessToPay == nil {
		data, _ := os.ReadFile(specFile)
		t.Fatalf("want a score route over [zeta, alpha] with a willingness to pay:\n%s\n%s", data, out)
	}
	if strings.Contains(out, "stranger-1 ") && strings.Contains(out, "Calibration") && strings.Contains(out[strings.Index(out, "Calibration"):], "stranger-1") {
		t.Errorf("the calibration considered a model the spec does not declare:\n%s", out)
	}
	// The estimate of the written route agrees with the replay: it takes each model's pass rate
	// on the requests the router starts on it, not over all requests.
	sp := s.Category("qa").Assume.ScorePassRate
	if len(sp) == 0 {
		t.Errorf("no assume.score_pass_rate written")
	}
	var replayed float64
	wrote := out[strings.Index(out, "Wrote the calibrated route"):]
	if _, err := fmt.Sscanf(wrote[strings.Index(wrote, "(quality ")+len("(quality "):], "%f%%", &replayed); err != nil {
		t.Fatalf("no replayed quality in %q: %v", out, err)
	}
	code, est, errOut := run(t, "estimate", specFile, "--format", "json", "--samples", "20000")
	if code != 0 {
		t.Fatalf("estimate: %d %s", code, errOut)
	}
	var rep struct {
		Policies []struct {
			Name  string `json:"name"`
			Total struct {
				Quality float64 `json:"quality"`
			} `json:"total"`
		} `json:"policies"`
	}
	if err := json.Unmarshal([]byte(est), &rep); err != nil || len(rep.Policies) == 0 || rep.Policies[0].Name != "spec" {
		t.Fatalf("estimate JSON: %v\n%.300s", err, est)
	}
	// The route keeps its validator (assumed detect 0.5, false alarm 0.02), which escalates a
	// few answers the replay of the router alone does not: within two points.
	if got := rep.Policies[0].Total.Quality * 100; math.Abs(got-replayed) > 2 {
		t.Errorf("estimate of the calibrated route: quality %.2f%%, replay %.2f%%", got, replayed)
	}
	written := strconv.FormatFloat(clearbar.Money(*sc.WillingnessToPay).USD(), 'g', -1, 64)
	if !strings.Contains(out, "willingness_to_pay "+written+" (1/λ, in USD per unit (1.0) of P(pass))") {
		t.Errorf("the written willingness to pay %s is not printed with its unit:\n%s", written, out)
	}
}

// scoreSpec is learnSpec routing by a learned router, with assumed pass rates below the ones
// the outcomes of writeQAOutcomes measure (0.6 and 0.95).
var scoreSpec = strings.NewReplacer(
	"      cascade: [small, strong]\n", "      score: # to calibrate\n        router: routers/qa.json\n        models: [small, strong]\n        threshold: 0.5\n",
	"{small: 0.6, strong: 0.95}", "{small: 0.5, strong: 0.92}",
).Replace(learnSpec)

// estimateQA returns the estimate's quality of the spec's route in category qa, and whether
// it clears the bar.
func estimateQA(t *testing.T, specFile string) (float64, bool) {
	t.Helper()
	code, out, errOut := run(t, "estimate", specFile, "--format", "json", "--samples", "2000")
	if code != 0 {
		t.Fatalf("estimate: %d %s", code, errOut)
	}
	var rep struct {
		Policies []struct {
			Name       string `json:"name"`
			Categories []struct {
				Quality   float64 `json:"quality"`
				ClearsBar bool    `json:"clears_bar"`
			} `json:"categories"`
		} `json:"policies"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Policies) == 0 || rep.Policies[0].Name != "spec" {
		t.Fatalf("estimate JSON: %v\n%.300s", err, out)
	}
	c := rep.Policies[0].Categories[0]
	return c.Quality, c.ClearsBar
}

// replayedQuality reads the quality "Wrote the calibrated route" reports.
func replayedQuality(t *testing.T, out string) float64 {
	t.Helper()
	i := strings.Index(out, "Wrote the calibrated route")
	var q float64
	if i < 0 {
		t.Fatalf("nothing written:\n%s", out)
	}
	wrote := out[i:]
	if _, err := fmt.Sscanf(wrote[strings.Index(wrote, "(quality ")+len("(quality "):], "%f%%", &q); err != nil {
		t.Fatalf("no replayed quality in %q: %v", wrote, err)
	}
	return q / 100
}

// TestReplayCalibrateScoreRouteUsesItsRouter: calibrating a category whose route is a score
// route scores with the router the route names, resolved relative to the spec as the gateway
// resolves it, without --router; it keeps the score route (a random mix never replaces it
// unless asked) and the spec's comments, and the estimate of the written spec clears the bar.
func TestReplayCalibrateScoreRouteUsesItsRouter(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 600)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(scoreSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	train := filepath.Join(dir, "train.outcomes.jsonl") // other items: the calibration is out of sample
	writeQAOutcomesFrom(t, train, 600, 600)
	if code, out, errOut := run(t, "learn", "train", "--outcomes", train, "--category", "qa", "--out", filepath.Join(dir, "routers", "qa.json"), "--folds", "3"); code != 0 {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}
	t.Chdir(t.TempDir()) // the router is found beside the spec, not in the working directory
	// A model the router does not predict (a shadow candidate's rows) is left out of a plain
	// replay of the category, not refused.
	withStranger := filepath.Join(dir, "stranger.outcomes.jsonl")
	data, _ := os.ReadFile(table)
	data = append(data, []byte(`{"item":"q0","category":"qa","prompt":"a stranger's item","model":"stranger-1","pass":true}`+"\n")...)
	os.WriteFile(withStranger, data, 0o644)
	if code, out, errOut := run(t, "replay", specFile, "--outcomes", withStranger, "--category", "qa"); code != 0 || strings.Contains(out, "stranger-1") {
		t.Errorf("a plain replay with a model the route's router does not predict: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code != 0 {
		t.Fatalf("replay --calibrate: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "the learned router of \"qa\"'s score route") || !strings.Contains(out, "random mixes (11 points) were left out") {
		t.Errorf("the report does not say which router scored, or that mixes were left out:\n%s", out)
	}
	data, _ = os.ReadFile(specFile)
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatalf("calibrated spec does not load: %v\n%s", err, data)
	}
	r := s.Category("qa").Route
	if r.Kind() != "score" || r.Score.Router != "routers/qa.json" || r.Score.Threshold == nil && r.Score.WillingnessToPay == nil {
		t.Fatalf("want the score route calibrated, got:\n%s\n%s", data, out)
	}
	for _, c := range []string{"# to calibrate", "# answers stay short"} {
		if !strings.Contains(string(data), c) {
			t.Errorf("the edit lost the comment %q:\n%s", c, data)
		}
	}
	if q, clears := estimateQA(t, specFile); !clears {
		t.Errorf("the estimate of the calibrated spec, %.4f, misses the bar (replay measured %.4f):\n%s", q, replayedQuality(t, out), data)
	}
}

// TestReplayCalibrateWritesASplitsPassRates: when calibration writes a split (here asked for
// with --include mix), it writes the pass rates it measured, so that the estimate of the
// written spec is the quality the replay measured and clears the bar with it.
func TestReplayCalibrateWritesASplitsPassRates(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 600)
	specFile := filepath.Join(dir, "spec.yaml")
	doc := strings.NewReplacer("{small: 0.6, strong: 0.95}", "{small: 0.5, strong: 0.92}",
		"      validate: [{max_length: 2000}] # answers stay short\n", "").Replace(learnSpec)
	if err := os.WriteFile(specFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate", "--include", "mix")
	if code != 0 {
		t.Fatalf("replay --calibrate: %d\n%s\n%s", code, out, errOut)
	}
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Category("qa")
	if len(c.Route.Split) != 2 || c.Assume.PassRate["small"] != 0.6 || c.Assume.PassRate["strong"] != 0.95 {
		data, _ := os.ReadFile(specFile)
		t.Fatalf("want a split and the measured pass rates 0.6 and 0.95:\n%s\n%s", data, out)
	}
	replayed := replayedQuality(t, out)
	if q, clears := estimateQA(t, specFile); !clears || math.Abs(q-replayed) > 1e-6 {
		t.Errorf("the estimate of the calibrated split: %.6f (clears %v); the replay measured %.6f", q, clears, replayed)
	}
}

func TestReplayUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay"}, "give exactly one of --outcomes, --routerbench or --routellm"},
		{[]string{"replay", "--outcomes", "x", "--calibrate"}, "--calibrate writes into a spec's category"},
		{[]string{"replay", "--outcomes", "x", "--format", "pdf"}, `--format "pdf"`},
		{[]string{"replay", "../../examples/quickstart.yaml", "--outcomes", "x", "--category", "intent", "--calibrate", "--target", "strong-share=1.5"}, "write a fraction from 0 to 1"},
		{[]string{"replay", "../../examples/quickstart.yaml", "--outcomes", "x", "--category", "nosuch", "--calibrate"}, `--category "nosuch": the spec has no such category`},
		{[]string{"replay", "--outcomes", "x", "--thresholds", "-5"}, "--thresholds -5: give how many thresholds to sweep"},
		{[]string{"replay", "--outcomes", "x", "--target", "budget=0.002"}, "--target is read only with --calibrate"},
		{[]string{"replay", "--outcomes", "x", "--allow-in-sample"}, "--allow-in-sample is read only with --calibrate"},
		{[]string{"learn"}, "usage: clearbar learn train"},
		{[]string{"learn", "train"}, "--outcomes is required"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestLearnEvaluate measures a learned router on the seeded test half of an outcomes table,
// everything fitted on the train half: on prompts whose difficulty is in their words, its
// deployable operating point beats random mixing at the same cost.
func TestLearnEvaluate(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 600)
	code, out, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--category", "qa")
	if code != 0 {
		t.Fatalf("learn evaluate: exit %d\n%s", code, errOut)
	}
	quality := func(prefix string) float64 {
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "| "+prefix) {
				cells := strings.Split(line, "|")
				q, err := strconv.ParseFloat(strings.TrimSpace(cells[2]), 64)
				if err != nil {
					t.Fatalf("row %q: %v", line, err)
				}
				return q
			}
		}
		t.Fatalf("no row %q in:\n%s", prefix, out)
		return 0
	}
	learned, random := quality("learned, "), quality("random mix")
	if learned <= random+0.05 || !strings.Contains(out, "Deployable operating point") {
		t.Errorf("learned router %.4f vs random mixing %.4f at the same cost:\n%s", learned, random, out)
	}
	if !strings.Contains(out, "| learned within 35% of the best model's cost") || !strings.Contains(out, "Budget operating point") {
		t.Errorf("no budget operating point in:\n%s", out)
	}
	if code, out, _ := run(t, "learn", "evaluate", "--outcomes", table, "--category", "qa", "--budget", "0.5"); code != 0 || !strings.Contains(out, "| learned within 50% of the best model's cost") {
		t.Errorf("--budget 0.5: exit %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--budget", "2"); code != 2 || !strings.Contains(errOut, "--budget 2: give a fraction") {
		t.Errorf("--budget 2: exit %d, %s", code, errOut)
	}
	report := filepath.Join(dir, "eval.md")
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--out", report); code != 0 {
		t.Fatalf("--out: exit %d\n%s", code, errOut)
	}
	if data, err := os.ReadFile(report); err != nil || !strings.Contains(string(data), "Deployable operating point") {
		t.Errorf("report file: %v\n%s", err, data)
	}
	if code, _, errOut := run(t, "learn", "evaluate", "--strong", "strong"); code != 2 || !strings.Contains(errOut, "--outcomes is required") {
		t.Errorf("no outcomes: exit %d\n%s", code, errOut)
	}

	// --price reprices the calls from the prompts' length: the strong model at 100 times the
	// small one's price, the best model's cost per request is its price for the prompt.
	code, out, errOut = run(t, "learn", "evaluate", "--outcomes", table, "--price", "gpt-4o-mini=0.1/0.1", "--price", "gpt-4o=10/10", "--output-tokens", "100", "--known-costs")
	if code != 0 {
		t.Fatalf("--price: exit %d\n%s", code, errOut)
	}
	var strongCost float64
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "| single: gpt-4o |") {
			strongCost, _ = strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(strings.Split(line, "|")[4]), "$"), 64)
		}
	}
	if strongCost < 100*10/1e6 || strongCost > 1e-2 {
		t.Errorf("the strong model's cost per request is %v, want at least 100 output tokens at $10 per million\n%s", strongCost, out)
	}
	for _, bad := range [][]string{{"--price", "gpt-4o=cheap"}, {"--price", "nobody=1/1"}, {"--output-tokens", "5"}} {
		code, _, errOut := run(t, append([]string{"learn", "evaluate", "--outcomes", table}, bad...)...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, errOut)
		}
	}
}

// TestLearnEvaluateAgree: --agree replays the recorded answers of a multiple-choice table
// through an agreement cascade and reports its operating point; without answers it says why.
func TestLearnEvaluateAgree(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "mc.outcomes.jsonl")
	f, err := os.Create(table)
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewWriter(f)
	for i := range 800 {
		correct := i % 3
		prompt := fmt.Sprintf("Which option answers question %d?\nA) one\nB) two\nC) three\nAnswer:", i)
		for m, right := range map[string]bool{"small": i%10 < 7, "medium": (i/10)%10 < 8, "large": true} {
			letter := correct
			if !right { // a wrong option; the two cheap models' wrong options agree half the time
				letter = (correct + 1 + map[string]int{"small": i % 2, "medium": (i / 100) % 2}[m]) % 3
			}
			cost := map[string]clearbar.Money{"small": 2_000, "medium": 4_000, "large": 100_000}[m]
			r := outcomes.Row{Item: fmt.Sprint("q", i), Category: "mc", Prompt: prompt, Model: m, Cost: cost, Pass: &right, Response: string(rune('A' + letter))}
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--agree")
	if code != 0 || !strings.Contains(out, "| learned + agreement cascade") || !strings.Contains(out, "With an agreement cascade") {
		t.Fatalf("learn evaluate --agree: exit %d\n%s\n%s", code, out, errOut)
	}
	// The route it prints is a spec route: with a router trained on the table, the spec loads,
	// and replay runs it, agreement checks and all, over the recorded answers.
	blocks := strings.Split(out, "```yaml\n") // the router's route, then the cascade's
	snippet, _, ok2 := strings.Cut(blocks[len(blocks)-1], "```")
	if len(blocks) != 3 || !ok2 || !strings.Contains(snippet, "escalate: [\"large\"]") {
		t.Fatalf("no spec route in:\n%s", out)
	}
	router := filepath.Join(dir, "mc.json")
	if code, _, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "mc", "--out", router, "--folds", "3"); code != 0 {
		t.Fatalf("learn train: %s", errOut)
	}
	writeSpec := func(name, snippet string) (file, route string) {
		file = filepath.Join(dir, name)
		route = strings.ReplaceAll(strings.Replace(snippet, "ROUTER.json", router, 1), "\n", "\n    ")
		err := os.WriteFile(file, []byte(`version: 1
name: mc
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4.1-nano, price: {input: 10, output: 0}}
  medium: {provider: sim, model: gpt-4.1-mini, price: {input: 20, output: 0}}
  large: {provider: sim, model: gpt-4.1, price: {input: 500, output: 0}}
categories:
  - name: mc
    share: 1
    tokens: {in: 40, out: 2}
    quality_bar: 0.9
    `+route+`assume: {pass_rate: {small: 0.7, medium: 0.8, large: 1}}
`), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return file, route
	}
	// The router's own route (a willingness to pay, mixed or not) loads and replays too.
	plain, _, _ := strings.Cut(blocks[1], "```")
	plainFile, plainRoute := writeSpec("plain.yaml", plain)
	if code, out, errOut := run(t, "replay", plainFile, "--outcomes", table, "--category", "mc", "--format", "json"); code != 0 || !strings.Contains(out, `"spec: score learned router`) {
		t.Fatalf("replay of the router's printed route: exit %d\n%s\n%s", code, errOut, plainRoute)
	}
	specFile, route := writeSpec("mc.yaml", snippet)
	code, out, errOut = run(t, "replay", specFile, "--outcomes", table, "--category", "mc", "--format", "json")
	if code != 0 {
		t.Fatalf("replay of the printed route: exit %d\n%s\n%s", code, errOut, route)
	}
	var rep struct {
		Results []struct {
			Name       string  `json:"name"`
			Quality    float64 `json:"quality"`
			CostPerReq float64 `json:"cost_usd"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%.800s", err, out)
	}
	var spec, large float64
	for _, r := range rep.Results {
		switch {
		case r.Name == "large":
			large = r.CostPerReq
			if r.Quality != 1 {
				t.Errorf("large replays to %v, not its recorded pass rate 1", r.Quality)
			}
		case strings.HasPrefix(r.Name, "spec: ") && strings.HasSuffix(r.Name, "(validators)"):
			spec = r.CostPerReq
			if r.Quality < 0.95 {
				t.Errorf("the printed route replays to quality %.3f, below 95%% of large's", r.Quality)
			}
		}
	}
	if spec == 0 || spec > 0.5*large {
		t.Errorf("the printed route costs $%.5f a request against large's $%.5f: %+v", spec, large, rep.Results)
	}
	qa := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, qa, 300)
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", qa, "--agree"); code == 0 || !strings.Contains(errOut, "an agreement cascade needs three candidates") {
		t.Errorf("two models: exit %d, %s", code, errOut)
	}
}

// pricedSpec routes by a learned router over two models priced per token, with the category's
// typical output: the gateway prices each request from its own input tokens to decide by
// willingness to pay.
const pricedSpec = `version: 1
name: priced
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-1, price: {input: 0.6, output: 0.6}}
  strong: {provider: sim, model: strong-1, price: {input: 10, output: 30}}
categories:
  - name: qa
    share: 1
    tokens: {in: 300, out: 8}
    quality_bar: 0.8
    route:
      score: {router: routers/qa.json, models: [small, strong], threshold: 0.5}
    assume:
      pass_rate: {small: 0.6, strong: 0.95}
`

// writePricedOutcomes writes items from, …, from+n−1 whose difficulty is in their words (the
// small model passes most lookups and few proofs) and whose prompts carry context of lengths
// from none to about a thousand bytes, unrelated to the difficulty, so that what a request
// costs varies with it. Rows record tokens and no cost: the spec prices them.
func writePricedOutcomes(t *testing.T, path string, from, n int) {
	t.Helper()
	var rows []outcomes.Row
	for i := from; i < from+n; i++ {
		hard := i%5 >= 3
		q := fmt.Sprintf("What is the capital of country number %d?", i)
		if hard {
			q = fmt.Sprintf("Prove step by step that the sequence %d has a closed form and derive it.", i)
		}
		prompt := strings.Repeat("Background fact. ", (i*37)%61) + q
		small := !hard && i%11 != 0 || hard && i%4 == 0
		strong := i%20 != 7
		for _, r := range []struct {
			model string
			pass  bool
		}{{"small-1", small}, {"strong-1", strong}} {
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: r.model,
				TokensIn: len(prompt) / 4, TokensOut: 8, Pass: &r.pass})
		}
	}
	writeRows(t, path, rows)
}

// TestReplayCalibrateReplaysAsWritten: a willingness to pay or a threshold calibrated by
// replay --calibrate decides, once written into the spec, every request as the calibration
// did: the willingness-to-pay router replay sweeps prices each request as the gateway's score
// route does (the request's own input tokens, the category's output), and neither setting
// sits on an item's tie, where writing it rounded would move the item, so that replaying the
// written spec gives the quality and the strong share the calibration chose, for a
// strong-share target and for the quality bar alike.
func TestReplayCalibrateReplaysAsWritten(t *testing.T) {
	dir := t.TempDir()
	train, held := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "held.jsonl")
	writePricedOutcomes(t, train, 0, 800)
	writePricedOutcomes(t, held, 800, 800)
	specFile := filepath.Join(dir, "spec.yaml")
	if code, out, errOut := run(t, "learn", "train", "--outcomes", train, "--category", "qa", "--out", filepath.Join(dir, "routers", "qa.json"), "--folds", "3"); code != 0 {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}
	type result struct {
		Kind        string  `json:"kind"`
		Quality     float64 `json:"quality"`
		StrongShare float64 `json:"strong_share"`
	}
	var rep struct {
		Results     []result `json:"results"`
		Calibration *struct {
			Chosen result `json:"chosen"`
		} `json:"calibration"`
	}
	replayJSON := func(args ...string) {
		t.Helper()
		args = append([]string{"replay", specFile, "--outcomes", held, "--category", "qa", "--format", "json"}, args...)
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		rep.Results, rep.Calibration = nil, nil
		// Standard output is the report alone: what --calibrate wrote is said on standard error.
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: standard output is not one JSON report: %v\n%.500s", args, err, out)
		}
	}
	for _, c := range []struct{ kind, target string }{{"wtp", "strong-share=0.3"}, {"wtp", "bar"}, {"threshold", "strong-share=0.3"}, {"threshold", "bar"}} {
		target := c.kind + " " + c.target
		if err := os.WriteFile(specFile, []byte(pricedSpec), 0o644); err != nil {
			t.Fatal(err)
		}
		replayJSON("--calibrate", "--target", c.target, "--include", c.kind)
		if rep.Calibration == nil || rep.Calibration.Chosen.Kind != c.kind {
			t.Fatalf("--target %s: want a %s calibrated, got %+v", target, c.kind, rep.Calibration)
		}
		chosen := rep.Calibration.Chosen
		replayJSON("--include", "spec")
		var written *result
		for i, r := range rep.Results {
			if r.Kind == "spec" {
				written = &rep.Results[i]
			}
		}
		data, _ := os.ReadFile(specFile)
		if written == nil || !strings.Contains(string(data), map[string]string{"wtp": "willingness_to_pay", "threshold": "threshold"}[c.kind]) {
			t.Fatalf("--target %s: no setting written, or no spec route replayed:\n%s", target, data)
		}
		t.Logf("--target %s: calibrated quality %.4f, strong share %.4f; the written spec replays to %.4f, %.4f", target, chosen.Quality, chosen.StrongShare, written.Quality, written.StrongShare)
		if math.Abs(written.Quality-chosen.Quality) > 1e-9 || math.Abs(written.StrongShare-chosen.StrongShare) > 1e-9 {
			t.Errorf("--target %s: calibrated quality %.4f and strong share %.4f, but the written spec replays to %.4f and %.4f",
				target, chosen.Quality, chosen.StrongShare, written.Quality, written.StrongShare)
		}
	}
}

// TestReplayRouterUnknownModels: a router replayed over a table with a model it has no
// prediction for is an error naming the model, as the spec check and the gateway reject a
// score route over such a model, rather than curves in which that model scores 0; replaying
// only the models it predicts works.
func TestReplayRouterUnknownModels(t *testing.T) {
	dir := t.TempDir()
	train := filepath.Join(dir, "train.jsonl")
	writeQAOutcomes(t, train, 200)
	router := filepath.Join(dir, "qa.json")
	if code, out, errOut := run(t, "learn", "train", "--outcomes", train, "--category", "qa", "--out", router, "--folds", "2"); code != 0 {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}
	table := filepath.Join(dir, "more.jsonl")
	writeQAOutcomesFrom(t, table, 200, 100)
	var rows []outcomes.Row
	for i := range 100 {
		pass := i%3 > 0
		rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", 200+i), Category: "qa", Prompt: fmt.Sprint("question ", i), Model: "stranger-1", Cost: 10_000, Pass: &pass})
	}
	f, err := os.OpenFile(table, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewWriter(f)
	for _, r := range rows {
		w.Write(r)
	}
	w.Flush()
	f.Close()
	code, _, errOut := run(t, "replay", "--outcomes", table, "--category", "qa", "--router", router)
	want := "score router " + router + ` has no prediction for model "stranger-1" (it predicts gpt-4o-mini, gpt-4o, and finds a spec model by its name, then by its provider model id): name the models so, or retrain it on outcomes that include "stranger-1", or replay only the models it predicts with --models gpt-4o-mini,gpt-4o`
	if code == 0 || !strings.Contains(errOut, want) {
		t.Errorf("replay with a model the router does not know: exit %d\n%s\nwant %q", code, errOut, want)
	}
	if code, _, errOut := run(t, "replay", "--outcomes", table, "--category", "qa", "--router", router, "--models", "gpt-4o-mini,gpt-4o"); code != 0 {
		t.Errorf("replay of the models the router knows: exit %d\n%s", code, errOut)
	}
}

// TestReplayInSampleOlderRouter: a router file written before it recorded a fingerprint of its
// training prompts is compared with the replayed outcomes by the training file's path: the
// report says so when they are its training file, and says nothing of other outcomes.
func TestReplayInSampleOlderRouter(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 300)
	router := filepath.Join(dir, "routers", "qa.json")
	if code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--category", "qa", "--out", router, "--folds", "2"); code != 0 {
		t.Fatalf("learn train: %d\n%s\n%s", code, out, errOut)
	}
	// An older file: no fingerprint, no absolute path, and the table named as given.
	var doc map[string]any
	data, _ := os.ReadFile(router)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	training := doc["training"].(map[string]any)
	for _, k := range []string{"prompts", "data_path", "tasks", "task_count", "uncategorised"} {
		delete(training, k)
	}
	training["data"] = table
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(router, data, 0o644); err != nil {
		t.Fatal(err)
	}
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(scoreSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code == 0 || !strings.Contains(errOut, "was trained on these outcomes ("+table+", 300 items)") || !strings.Contains(errOut, "--allow-in-sample") {
		t.Errorf("calibrating an older router on its training file: exit %d\n%s", code, errOut)
	}
	held := filepath.Join(dir, "held.jsonl")
	writeQAOutcomesFrom(t, held, 300, 300)
	code, out, errOut := run(t, "replay", specFile, "--outcomes", held, "--category", "qa", "--calibrate")
	if code != 0 || strings.Contains(out, "may have been trained on some of these outcomes") || strings.Contains(out, "fingerprint") {
		t.Errorf("calibrating an older router on other outcomes: exit %d, or a note on its training file\n%s\n%s", code, out, errOut)
	}
}

// TestReplayCalibrateSingleModelPassRate: a calibrated single model's assume.pass_rate is the
// pass rate of its answers, failed calls left out: the estimate applies the model's
// availability separately, so counting them as fails would count them twice.
func TestReplayCalibrateSingleModelPassRate(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(`version: 1
name: single
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
      model: small
    assume: {pass_rate: {small: 0.5, strong: 0.9}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var rows []outcomes.Row
	for i := range 100 {
		prompt := fmt.Sprintf("question %d", i)
		small := i%2 == 0
		rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "small", TokensIn: 50, TokensOut: 20, Cost: 1_000, Pass: &small})
		r := outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "strong", TokensIn: 50, TokensOut: 20, Cost: 100_000}
		switch {
		case i < 10:
			r.Error = "rate_limited" // 10 failed calls
		default:
			pass := i < 95 // 85 of the 90 answers pass
			r.Pass = &pass
		}
		rows = append(rows, r)
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeRows(t, table, rows)
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--include", "oracle", "--calibrate")
	if code != 0 {
		t.Fatalf("replay --calibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Category("qa")
	if c.Route.Kind() != "static" || float64(c.Assume.PassRate["strong"]) != sig6(85.0/90) {
		data, _ := os.ReadFile(specFile)
		t.Errorf("calibrated route %s, strong's pass rate %v; want strong with 85/90 = %v\n%s", c.Route.Kind(), c.Assume.PassRate["strong"], sig6(85.0/90), data)
	}
}

// TestReplayCalibrateLeavesOutAModelWithoutRows: the models a calibration chooses among are
// the category's, and a fallback a healthy gateway never called has no rows: it is left out,
// and the report says so, instead of the calibration failing; a model the user names with
// --models still must have rows. Random mixes are no candidates for a route that validates
// its answers (a split of plain models would drop the validation), unless asked for.
func TestReplayCalibrateLeavesOutAModelWithoutRows(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 300)
	specFile := filepath.Join(dir, "spec.yaml")
	src := strings.NewReplacer("  strong: {provider: sim, model: gpt-4o}\n", "  strong: {provider: sim, model: gpt-4o}\n  spare: {provider: sim, model: gpt-4.1}\n",
		"      validate: [{max_length: 2000}] # answers stay short\n", "      validate: [{max_length: 2000}] # answers stay short\n    fallback: [spare]\n",
		"{small: 0.6, strong: 0.95}", "{small: 0.6, strong: 0.95, spare: 0.9}").Replace(learnSpec)
	if err := os.WriteFile(specFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// No validated policy clears the bar: the route stays, and a single model is chosen only
	// when single models are named.
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code != 1 || !strings.Contains(out, `model "spare", which category "qa" names, has no rows and was left out`) ||
		!strings.Contains(out, "were left out of the calibration: the category's route validates its answers, and a split of plain models would not") ||
		!strings.Contains(out, "the policies that validate no answer (2 single) were left out of the calibration") {
		t.Errorf("--calibrate with a fallback that has no rows: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--include", "single,spec,cascade", "--calibrate"); code != 0 ||
		!strings.Contains(out, `model "spare", which category "qa" names, has no rows and was left out`) {
		t.Errorf("--calibrate --include single with a fallback that has no rows: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--models", "small,spare"); code == 0 || !strings.Contains(errOut, `model "spare" (in the models to replay) has no rows`) {
		t.Errorf("--models naming a model without rows: exit %d\n%s", code, errOut)
	}
}

// TestReplayCalibrateTokensNote: --calibrate writes the measured pass rates, not tokens, so
// when the replayed calls' tokens are more than 20% off the category's, it says so with both
// figures and what to set; with those tokens set, the estimate's cost is the replay's. Tokens
// within 20% say nothing.
func TestReplayCalibrateTokensNote(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	doc := `version: 1
name: tokens
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-1, price: {input: 1, output: 1}}
  strong: {provider: sim, model: strong-1, price: {input: 10, output: 30}}
categories:
  - name: qa
    share: 1
    tokens: {in: 50, out: 20} # guessed
    quality_bar: 0.8
    route:
      model: small
    assume: {pass_rate: {small: 0.5, strong: 0.9}}
`
	table := func(in, out int) string {
		var rows []outcomes.Row
		for i := range 100 {
			prompt := fmt.Sprintf("question %d", i)
			small, strong := i%2 == 0, i%10 != 0
			// No cost recorded: the spec's prices price the rows' tokens.
			rows = append(rows,
				outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "small", TokensIn: in, TokensOut: out, Pass: &small},
				outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "strong", TokensIn: in, TokensOut: out, Pass: &strong})
		}
		path := filepath.Join(dir, fmt.Sprintf("qa-%d-%d.jsonl", in, out))
		writeRows(t, path, rows)
		return path
	}
	estimateCost := func(args ...string) clearbar.Money {
		t.Helper()
		code, out, errOut := run(t, append([]string{"estimate", specFile, "--format", "json", "--samples", "2000"}, args...)...)
		if code != 0 {
			t.Fatalf("estimate: %d %s", code, errOut)
		}
		var rep struct {
			Policies []struct {
				Name       string `json:"name"`
				Categories []struct {
					Cost clearbar.Money `json:"cost_per_request_usd"`
				} `json:"categories"`
			} `json:"policies"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Policies) == 0 || rep.Policies[0].Name != "spec" {
			t.Fatalf("estimate JSON: %v\n%.300s", err, out)
		}
		return rep.Policies[0].Categories[0].Cost
	}

	if err := os.WriteFile(specFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	long := table(400, 100)
	code, out, errOut := run(t, "replay", specFile, "--outcomes", long, "--category", "qa", "--include", "oracle", "--calibrate")
	if code != 0 || !strings.Contains(out, "Wrote the calibrated route") {
		t.Fatalf("replay --calibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	want := `note: the calls of strong average 400 tokens in and 100 out in the replay, but category "qa" assumes 50 in and 20 out, at which clearbar estimate prices every call: ` +
		`its cost per request will differ from the replay's $0.00700; set tokens: {in: 400, out: 100} in category "qa", or run clearbar estimate ` + specFile + ` --measured ` + long
	if !strings.Contains(out, want) {
		t.Errorf("no note on the tokens, or another; want %q in\n%s", want, out)
	}
	// Following the note: the estimate's cost is the replay's (to the estimate's failed calls,
	// a few in a million, which cost nothing).
	replayed := clearbar.MoneyFromUSD(0.007)
	agrees := func(got clearbar.Money) bool { return math.Abs(float64(got-replayed)) <= 1e-4*float64(replayed) }
	if got := estimateCost(); agrees(got) {
		t.Errorf("the estimate at the guessed tokens costs %v, the replay's cost: the fixture does not test the note", got)
	}
	data, _ := os.ReadFile(specFile)
	if err := os.WriteFile(specFile, []byte(strings.Replace(string(data), "{in: 50, out: 20}", "{in: 400, out: 100}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := estimateCost(); !agrees(got) {
		t.Errorf("with the tokens the note gives, the estimate costs %v (%d nano-dollars) per request; the replay $0.00700", got, int64(got))
	}
	// Or, as the note says, with the guessed tokens and --measured.
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := estimateCost("--measured", long); !agrees(got) {
		t.Errorf("estimate --measured costs %v per request; the replay $0.00700", got)
	}

	// Within 20% of the category's tokens: no note.
	if err := os.WriteFile(specFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "replay", specFile, "--outcomes", table(55, 23), "--category", "qa", "--include", "oracle", "--calibrate")
	if code != 0 || !strings.Contains(out, "Wrote the calibrated route") || strings.Contains(out, "note: the calls of") {
		t.Errorf("tokens within 20%%: exit %d, or a note\n%s\n%s", code, out, errOut)
	}
}

// TestVerdictOnlyRowsAreNamed: eval rows whose pass is the validators' verdict alone (items
// without a reference or checks) are no grades: replay says so in its notes, learn train and
// learn evaluate warn; rows graded otherwise raise neither.
func TestVerdictOnlyRowsAreNamed(t *testing.T) {
	dir := t.TempDir()
	graded := filepath.Join(dir, "graded.jsonl")
	writeQAOutcomes(t, graded, 100)
	data, err := os.ReadFile(graded)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := filepath.Join(dir, "verdicts.jsonl")
	marked := strings.ReplaceAll(string(data), "{\"item\":", "{\"source\":\"eval\",\"graded_by\":\"validators\",\"item\":")
	if err := os.WriteFile(verdicts, []byte(marked), 0o644); err != nil {
		t.Fatal(err)
	}
	const note = "200 rows of "
	for _, tc := range []struct {
		table string
		named bool
	}{{graded, false}, {verdicts, true}} {
		code, out, errOut := run(t, "replay", "--outcomes", tc.table, "--category", "qa")
		if code != 0 {
			t.Fatalf("replay %s: exit %d: %s", tc.table, code, errOut)
		}
		if got := strings.Contains(out, note+tc.table+" are eval answers graded by the category's validators alone"); got != tc.named {
			t.Errorf("replay %s: names verdict-only rows %v, want %v:\n%s", tc.table, got, tc.named, out)
		}
		code, _, errOut = run(t, "learn", "train", "--outcomes", tc.table, "--category", "qa", "--out", filepath.Join(dir, "r.json"), "--folds", "2")
		if code != 0 {
			t.Fatalf("learn train %s: exit %d: %s", tc.table, code, errOut)
		}
		if got := strings.Contains(errOut, "warning: "+note+tc.table); got != tc.named {
			t.Errorf("learn train %s: warns of verdict-only rows %v, want %v:\n%s", tc.table, got, tc.named, errOut)
		}
		code, _, errOut = run(t, "learn", "evaluate", "--outcomes", tc.table, "--category", "qa")
		if code != 0 {
			t.Fatalf("learn evaluate %s: exit %d: %s", tc.table, code, errOut)
		}
		if got := strings.Contains(errOut, "warning: "+note+tc.table); got != tc.named {
			t.Errorf("learn evaluate %s: warns of verdict-only rows %v, want %v:\n%s", tc.table, got, tc.named, errOut)
		}
	}
}

// TestReplayEmptyTableIsNamed: the error for a table without rows names the table given.
func TestReplayEmptyTableIsNamed(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"empty.jsonl", "empty.csv"} {
		table := filepath.Join(dir, name)
		content := ""
		if name == "empty.csv" {
			content = "item,prompt,model,pass\n"
		}
		if err := os.WriteFile(table, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, "replay", "--outcomes", table)
		if want := "the outcomes table " + table + " has no rows"; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("replay --outcomes %s: exit %d, %q; want an error saying %q", name, code, errOut, want)
		}
	}
}

// TestVerdictOnlyRowsAreNamedInCSV: a CSV converted from an eval run's table keeps which rows
// the category's validators alone graded, and replay names them as it does in the JSON Lines.
func TestVerdictOnlyRowsAreNamedInCSV(t *testing.T) {
	dir := t.TempDir()
	graded := filepath.Join(dir, "graded.jsonl")
	writeQAOutcomes(t, graded, 100)
	data, err := os.ReadFile(graded)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := filepath.Join(dir, "verdicts.jsonl")
	marked := strings.ReplaceAll(string(data), "{\"item\":", "{\"source\":\"eval\",\"graded_by\":\"validators\",\"item\":")
	if err := os.WriteFile(verdicts, []byte(marked), 0o644); err != nil {
		t.Fatal(err)
	}
	csvTable := filepath.Join(dir, "verdicts.csv")
	if code, _, errOut := run(t, "outcomes", "convert", verdicts, "--out", csvTable); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	code, out, errOut := run(t, "replay", "--outcomes", csvTable, "--category", "qa")
	if code != 0 {
		t.Fatalf("replay %s: exit %d: %s", csvTable, code, errOut)
	}
	if !strings.Contains(out, "200 rows of "+csvTable+" are eval answers graded by the category's validators alone") {
		t.Errorf("replay %s does not name the verdict-only rows:\n%s", csvTable, out)
	}
}

// TestReplayUsageCombinesCategoryAndTask: the usage and the help say that --category and
// --task combine: the category's route replayed on the task's rows.
func TestReplayUsageCombinesCategoryAndTask(t *testing.T) {
	code, out, errOut := run(t, "replay", "--help")
	help := out + errOut
	if code != 0 || !strings.Contains(help, "[--category NAME] [--task PREFIX]") || !strings.Contains(help, "with --category, the category's route is replayed on them") {
		t.Errorf("replay --help: exit %d\n%s", code, help)
	}
}

// TestReplayCalibrateEscalatedPassRate: the spec's own cascade, replayed with its validators,
// measures its later model on the items it escalated, which are harder than the others. The
// calibration writes that rate (assume.escalated_pass_rate), and the estimate of the written
// spec then agrees with the replay on quality; with the model's overall pass rate alone it
// would be 6 points higher.
func TestReplayCalibrateEscalatedPassRate(t *testing.T) {
	dir := t.TempDir()
	specFile := smallStrongSpec(t, dir, "0.85", "{cascade: [small, strong], validate: [{max_length: 10}]}", "{pass_rate: {small: 0.6, strong: 0.9}}")
	// small passes 60 of 100 items; its 40 failures are long answers, which the check flags.
	// strong passes all 60 items small passes and 30 of the 40 it fails: 90 overall, but 30 of
	// the 40 escalated items (75%). Its failures are long answers too, so that the validators
	// show one strength on both steps (detect 1, false_alarm 0), as the estimate assumes.
	var rows []outcomes.Row
	for i := range 100 {
		prompt := fmt.Sprintf("question %d", i)
		smallPass, strongPass := i < 60, i < 90
		answer := func(pass bool) string {
			if pass {
				return "ok"
			}
			return "a long answer that the check flags"
		}
		rows = append(rows,
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "small", TokensIn: 50, TokensOut: 20, Cost: 70, Pass: &smallPass, Response: answer(smallPass)},
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: prompt, Model: "strong", TokensIn: 50, TokensOut: 20, Cost: 1_100, Pass: &strongPass, Response: answer(strongPass)})
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeRows(t, table, rows)
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code != 0 {
		t.Fatalf("replay --calibrate: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "assume.escalated_pass_rate set to the rates measured on the items the route escalated (strong 0.75 (40 answers))") {
		t.Errorf("the calibration does not say it wrote strong's escalated pass rate:\n%s", out)
	}
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Category("qa")
	if c.Route.Kind() != "cascade" || float64(c.Assume.EscalatedPassRate["strong"]) != 0.75 {
		data, _ := os.ReadFile(specFile)
		t.Fatalf("calibrated route %s, strong's escalated pass rate %v; want the cascade kept, with 30/40\n%s", c.Route.Kind(), c.Assume.EscalatedPassRate, data)
	}
	code, out, errOut = run(t, "estimate", specFile, "--format", "json", "--samples", "2000")
	if code != 0 {
		t.Fatalf("estimate: exit %d\n%s", code, errOut)
	}
	var rep struct {
		Policies []struct {
			Name       string
			Categories []struct {
				Category string
				Quality  float64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Policies) == 0 || rep.Policies[0].Name != "spec" || len(rep.Policies[0].Categories) != 1 {
		t.Fatalf("no spec policy in the estimate:\n%s", out)
	}
	// The replay: 60 of small's answers accepted and good, 30 of strong's: 90%.
	if q := rep.Policies[0].Categories[0].Quality; math.Abs(q-0.90) > 1e-6 {
		data, _ := os.ReadFile(specFile)
		t.Errorf("estimate of the calibrated spec: quality %.6f, want the replay's 0.90 (0.96 with strong at its overall pass rate)\n%s", q, data)
	}
}

// TestReplayCalibrateCostNote: rows that record a cost but no tokens (imported benchmarks)
// cannot say their tokens differ from the category's, but their costs can: when a model's
// recorded cost per call is far from what the spec's prices make at the category's tokens,
// the calibration says the estimate's cost will differ from the replay's.
func TestReplayCalibrateCostNote(t *testing.T) {
	dir := t.TempDir()
	specFile := smallStrongSpec(t, dir, "0.5", "{model: small}", "{pass_rate: {small: 0.6, strong: 0.9}}")
	// The spec prices a call of small at 50 + 20 tokens, $1 per million: $0.00007. The rows
	// record $0.0007, ten times that.
	var rows []outcomes.Row
	for i := range 50 {
		pass := i%5 != 0
		rows = append(rows,
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprint("question ", i), Model: "small", Cost: 700_000, Pass: &pass},
			outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprint("question ", i), Model: "strong", Cost: 2_000_000, Pass: &pass})
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeRows(t, table, rows)
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if want := "the recorded cost per call differs from what the spec's prices make at category \"qa\"'s tokens, at which clearbar estimate prices every call (small $0.000700 against $0.0000700)"; !strings.Contains(out+errOut, want) {
		t.Errorf("no cost note %q in:\n%s\n%s", want, out, errOut)
	}
}

// smallStrongSpec writes into dir a spec of one category, qa, over two simulated models, small
// ($1 per million tokens) and strong ($10 in, $30 out), both always available, with the quality
// bar, route and assumptions given (in YAML's flow style), and returns its path.
func smallStrongSpec(t *testing.T, dir, bar, route, assume string) string {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: small-strong
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-1, price: {input: 1, output: 1}, availability: 1}
  strong: {provider: sim, model: strong-1, price: {input: 10, output: 30}, availability: 1}
categories:
  - name: qa
    share: 1
    tokens: {in: 50, out: 20}
    quality_bar: %s
    route: %s
    assume: %s
`, bar, route, assume)
	path := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayCalibrateWritesNoStrengthFromVerdicts: rows whose pass is the validators' own
// verdict (eval answers graded by the validators alone) cannot measure those validators, which
// always agree with themselves: the calibration keeps the spec's validator strength and says
// why, as validate calibrate refuses such rows.
func TestReplayCalibrateWritesNoStrengthFromVerdicts(t *testing.T) {
	dir := t.TempDir()
	specFile := smallStrongSpec(t, dir, "0.5", "{cascade: [small, strong], validate: [{max_length: 10}]}", "{pass_rate: {small: 0.6, strong: 0.9}}")
	var b strings.Builder
	for i := range 100 {
		for _, m := range []string{"small", "strong"} {
			pass := m == "strong" || i < 60
			answer := "ok"
			if !pass {
				answer = "a long answer that the check flags"
			}
			fmt.Fprintf(&b, `{"item":"q%d","category":"qa","prompt":"question %d","model":"%s","pass":%v,"response":%q,"cost_usd":0.0001,"source":"eval","graded_by":"validators"}`+"\n", i, i, m, pass, answer)
		}
	}
	table := filepath.Join(dir, "qa.jsonl")
	if err := os.WriteFile(table, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "replay", specFile, "--outcomes", table, "--category", "qa", "--calibrate")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	data, _ := os.ReadFile(specFile)
	if strings.Contains(string(data), "calibrated:") || !strings.Contains(out, "assume.validator was left as it is: 200 row(s)") {
		t.Errorf("a validator strength measured on the validators' own verdicts:\n%s\n%s", data, out)
	}
}
