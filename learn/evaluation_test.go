package learn

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The real-data evaluation reads the project's shared benchmark data, which lives outside the
// module; it skips when the data is absent (a fresh clone, CI without the data volume).
const (
	routeLLMFile    = "../../shared/data/routellm_evals/outcomes.jsonl.gz"
	routerBenchFile = "../../shared/data/routerbench_subset/outcomes.jsonl.gz"
	evaluationFile  = "testdata/evaluation.md"
)

// evalSeed is the documented seed of the train/test split.
const evalSeed = 1

// evalCase is one dataset of the evaluation.
type evalCase struct {
	name string
	load func(t testing.TB) *Dataset
	// knownCosts: the router may decide on the item's own cost (list prices × estimated
	// tokens); otherwise on the train half's mean cost per (task, model).
	knownCosts bool
	// targeted: the targets (≥ 95% of the best model's quality at ≤ 35% of its cost)
	// apply to this dataset.
	targeted bool
}

func openData(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data evaluation", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func routeLLM(name, prefix string, outTokens int) func(t testing.TB) *Dataset {
	return func(t testing.TB) *Dataset {
		ds, err := RouteLLMDataset(openData(t, routeLLMFile), name, prefix)
		if err != nil {
			t.Fatal(err)
		}
		PriceByTokens(ds, RouteLLMPrices, outTokens)
		return ds
	}
}

var evalCases = []evalCase{
	{name: "RouteLLM MMLU (GPT-4 vs Mixtral-8x7B)", load: routeLLM("RouteLLM MMLU (GPT-4 vs Mixtral-8x7B)", "mmlu/", 8), knownCosts: true, targeted: true},
	{name: "RouteLLM GSM8K (GPT-4 vs Mixtral-8x7B)", load: routeLLM("RouteLLM GSM8K (GPT-4 vs Mixtral-8x7B)", "gsm8k/", 200), knownCosts: true},
	{name: "RouterBench three-task mix (ARC-Challenge, MBPP, Winogrande; 11 models)", targeted: true, load: func(t testing.TB) *Dataset {
		ds, err := RouterBenchDataset(openData(t, routerBenchFile), "RouterBench three-task mix (ARC-Challenge, MBPP, Winogrande; 11 models)")
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}},
}

// TestEvaluateSynthetic runs the harness on synthetic data, so that it is exercised even
// without the shared data: the learned router must find the obvious rule and beat the
// baselines that cannot see it.
func TestEvaluateSynthetic(t *testing.T) {
	ds := NewDataset("synthetic", synthetic(600), nil)
	ev, err := Evaluate(ds, EvalOptions{Seed: 1, KnownCosts: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev.TrainItems+ev.TestItems != 600 || ev.Best != "strong" {
		t.Fatalf("split %d/%d, best %s", ev.TrainItems, ev.TestItems, ev.Best)
	}
	if q := ev.Operating.Quality / ev.BestQuality; q < 0.95 {
		t.Errorf("operating point at %.1f%% of the best quality, calibrated for 95%%", 100*q)
	}
	for _, c := range ev.Checks(false) {
		if strings.Contains(c.What, "category lookup's hull") {
			continue // one task: the lookup's hull ties the learned router at best
		}
		if !c.Pass {
			t.Errorf("%s: %s", c.What, c.Detail)
		}
	}
	md := ev.Markdown()
	for _, want := range []string{"oracle", "zero router", "category lookup", "APGR", "Deployable operating point"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown has no %q", want)
		}
	}
}

const evaluationHeader = `# Learned router: evaluation on the shared benchmark data

Written by ` + "`CLEARBAR_WRITE_EVAL=1 go test -run TestEvaluation ./learn`" + `; the protocol is in the
package documentation (learn/doc.go). In short: a seeded 50/50 split of items (seed 1: an item is in
the test half when fnv1a64("1:split:<item id>"), finalised with fmix64, is odd); the learned router,
the category lookup's pass rates, the decision costs and both operating points come from the train
half only (operating points: willingness-to-pay λ calibrated on five-fold out-of-fold predictions of
the train half for 95% of the best model's quality, with a one-standard-error margin); every figure
below is measured on the test half. RouteLLM costs are list prices (GPT-4-1106-preview $10/$30 per
million input/output tokens, Mixtral-8x7B $0.60) with input tokens = prompt bytes / 4 and 8 (MMLU)
or 200 (GSM8K) output tokens; RouterBench costs are the dataset's per-call cost_usd. "Cost at 95%"
and the frontier are after-the-fact (hulls drawn on the test half); the deployable figure is the
"learned, λ from train" row.

How the settings were chosen: on the train half only, with EvalOptions.Dev (the train half split again
in two, over six inner seeds). Kept: a lower AdaGrad step (0.03; 0.1 over-fits the text features),
Platt scaling on out-of-fold predictions (GSM8K APGR 0.55 → 0.61 in development), shape features
(stem length, numeric options; neutral to slightly positive). Tried and dropped for lack of a
robust gain: stacking with the lookup's rates (globally, per task family, per task), gating the text
features per task family, bagging five models, a Pareto mask of candidates per task, 2^14 and 2^18
buckets, no bigrams, independent (unshared) weights.

`

// TestEvaluation runs the documented evaluation and logs its tables; with
// CLEARBAR_WRITE_EVAL=1 it also writes testdata/evaluation.md. With CLEARBAR_EVAL_DEV=1 it runs
// the protocol inside the train half instead (EvalOptions.Dev), for developing features
// without reading the test half. It fails only if the learned router stops beating random
// mixing and the zero router; the lookup comparison and the targets are reported.
func TestEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("the real-data evaluation takes about half a minute; run without -short")
	}
	dev := os.Getenv("CLEARBAR_EVAL_DEV") == "1"
	var out strings.Builder
	out.WriteString(evaluationHeader)
	for _, c := range evalCases {
		start := time.Now()
		ds := c.load(t)
		ev, err := Evaluate(ds, EvalOptions{Seed: evalSeed, KnownCosts: c.knownCosts, Dev: dev, DevSeed: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		out.WriteString(ev.Markdown())
		out.WriteString("\nChecks on the test half:\n\n")
		for _, ch := range ev.Checks(c.targeted) {
			verdict := "yes"
			if !ch.Pass {
				verdict = "**no**"
			}
			fmt.Fprintf(&out, "- %s: %s (%s)\n", ch.What, verdict, ch.Detail)
			if !ch.Pass && (strings.Contains(ch.What, "random") || strings.Contains(ch.What, "zero router")) {
				t.Errorf("%s: the learned router no longer %s: %s", c.name, ch.What, ch.Detail)
			}
		}
		out.WriteString("\n")
		t.Logf("%s: %d items, evaluated in %.1fs", c.name, len(ds.Items), time.Since(start).Seconds())
	}
	t.Log("\n" + out.String())
	if os.Getenv("CLEARBAR_WRITE_EVAL") == "1" && !dev {
		if err := os.WriteFile(evaluationFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
