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
	// agree: the data records every model's answer, so the agreement cascade is evaluated.
	agree bool
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
	{name: "RouterBench three-task mix (ARC-Challenge, MBPP, Winogrande; 11 models)", targeted: true, agree: true, load: func(t testing.TB) *Dataset {
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
	if m := ev.Learned.Mixed; m == nil || m.Share <= 0 || m.Share >= 1 || m.Lambda1 <= m.Lambda2 {
		t.Errorf("the operating point is not a mix of two λ: %+v", m)
	}
	md := ev.Markdown()
	for _, want := range []string{"oracle", "zero router", "category lookup", "APGR", "Deployable operating point", "of requests"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown has no %q", want)
		}
	}
}

// TestEvaluateDominantModel: when one model is both the best and the cheapest on the train
// half (here, because its calls carry no cost), there is nothing to route between, and the
// error names the model and what to check.
func TestEvaluateDominantModel(t *testing.T) {
	ds := NewDataset("synthetic", synthetic(200), nil)
	strong := 1
	if ds.Models[strong] != "strong" {
		t.Fatalf("models %v", ds.Models)
	}
	for i := range ds.Items {
		ds.Items[i].Cost[strong] = 0
	}
	_, err := Evaluate(ds, EvalOptions{Seed: 1, KnownCosts: true})
	if err == nil || !strings.Contains(err.Error(), "strong is both the best model on the train half (quality 1.0000) and the cheapest ($0 a request)") ||
		!strings.Contains(err.Error(), "check that every model's calls are priced") {
		t.Errorf("a model both best and cheapest: %v", err)
	}
}

const evaluationHeader = `# Learned router: evaluation on the shared benchmark data

Written by ` + "`CLEARBAR_WRITE_EVAL=1 go test -run TestEvaluation ./learn`" + `; the protocol is in the
package documentation (learn/doc.go). In short: a seeded 50/50 split of items (seed 1: an item is in
the test half when fnv1a64("1:split:<item id>"), finalised with fmix64, is odd); the learned router,
the category lookup's pass rates, the decision costs and both operating points come from the train
half only (operating points: mixed willingness-to-pay rules — two λ and the share of requests
decided by the second, picked by a hash of the prompt — calibrated on five-fold out-of-fold
predictions of the train half for 95% of the best model's quality, with a one-standard-error
margin); every figure below is measured on the test half. RouteLLM costs are list prices
(GPT-4-1106-preview $10/$30 per million input/output tokens, Mixtral-8x7B $0.60) with input tokens =
prompt bytes / 4 and 8 (MMLU) or 200 (GSM8K) output tokens; RouterBench costs are the dataset's
per-call cost_usd. "Cost at 95%" and the frontier are after-the-fact (hulls drawn on the test half);
the deployable figure is the "learned, λ from train" row. CLEARBAR_EVAL_SEED=N runs another split.

How the settings were chosen: on the train half only, with EvalOptions.Dev (the train half split again
in two; means over 20 inner seeds) and with five-fold out-of-fold predictions of the whole train half
(three fold seeds). Kept from the first version: AdaGrad step 0.03, Platt scaling on out-of-fold
predictions, shape features. New, and what development showed for each:

- Feature version 2 reads only the first 512 and the last 1024 bytes of a long prompt. Neutral for
  quality (out-of-fold cost at 95%: MMLU 38.6% vs 38.7%, RouterBench 28.8% vs 29.6%; windows from
  768 to 2048 bytes were within noise of each other) and Predict on a 5 KB prompt costs a third of
  what it did.
- The model is the mean of the five fold models instead of a sixth fit on the whole train half.
  Without it, the λ calibrated on the folds' predictions did not mean the same for the refitted
  model: in one inner split its RouterBench operating point fell from 96.2% (calibration) to 90.5%
  of the best model's quality. With it, the development frontier's cost at 95% went from 41.0% to
  40.6% (MMLU) and from 31.6% to 30.4% (RouterBench).
- The operating point is a mixed rule on the hull of the λ sweep, whose margin counts the mix's own
  coin: at the same quality it costs less than the cheapest single λ meeting the target.

Over the 20 inner splits, the first version vs this one (deployable quality / cost in % of the best
model's, misses of 95%, frontier's cost at 95%): MMLU 95.8 / 47.2, 3 misses, 41.0 → 95.7 / 46.8, 3
misses, 40.6; GSM8K 96.7 / 82.0 → 96.6 / 80.3; RouterBench 96.1 / 43.3, 6 misses, 31.1 → 96.2 / 42.4,
3 misses, 30.4 (AIQ over the lookup's +0.0022 → +0.0024).

Tried and dropped for lack of a robust gain (out-of-fold cost at 95% on MMLU, baseline 38.7%):
similarity-weighted nearest neighbours over the hashed vectors blended with the logistic model
(k = 10 or 50, weight 0.3 or 0.6: 38.7–41.5%; it would also need the training vectors at inference),
training the pair's difference directly (P(strong passes, weak fails) − P(weak passes, strong
fails): 39.2–39.8%), task × shape interactions (40.5%), the options' words in a namespace of their
own (39.4%), per-(task, model) Platt scaling shrunk towards the global one (41.5–42.4%; RouterBench
30.2–31.2% vs 28.8%), 2 or 8 epochs, steps 0.01–0.06, L2 from 1e-5 to 0.1, ten folds, and deploying
the λ whose cost on the train prompts matches the calibrated cost. Earlier: stacking with the
lookup's rates, gating the text features per task family, a Pareto mask of candidates per task,
2^14 and 2^18 buckets, no bigrams, independent (unshared) weights.

A second round, paired with the baseline on the same splits (8 or 16 inner seeds and the train
half's out-of-fold predictions over three fold seeds; differences in points of cost at 95%,
positive is worse): hashed character 3–5-grams in a namespace of their own (MMLU +0.8 to +2.5),
boosted trees on the first stage's logits, the lookup's rates and the structural features,
fitted on out-of-fold predictions (MMLU +0.9 to +2.2, RouterBench +3 to +15), task × structural
interactions (+0.1 to +0.7), L2 per candidate chosen by inner cross-validation and label
smoothing (within noise), three bags of five folds (within noise), low-rank per-candidate weights
(not robust), decision costs per (task, model) regressed on prompt length (within noise), and
operating points per RouterBench task (deployable cost +10 points: each task must clear 95% plus
its own margin on few items). Kept: none. Weight and step-size changes barely move MMLU and a
non-linear second stage over-fits: the gain of GPT-4 over Mixtral rides on one shared difficulty
direction and the subject, and the limit is the information in bag-of-n-gram text. An embedding
of the prompt (learn train --embed) was the remaining lever: with the Universal Sentence Encoder
lite (tools/embed-local, offline, whole prompts embedded piece by piece) it gives nothing here
(MMLU test half 96.1% at 44.0%, RouterBench 97.5% at 39.6%; development split within noise); a
stronger embedding model needs an embeddings API.

The router alone, without a check on its answers: the predictions are calibrated (on MMLU the predicted gain
of GPT-4 over Mixtral matches the realised one decile by decile) but not spread enough. On MMLU the
train half's out-of-fold frontier reaches 95% only at about 39% of GPT-4's cost, and a per-subject
lookup fitted and scored on the train half itself at 38%; the one-standard-error margin (about half
a point of quality) adds a few points of cost. On RouterBench the two halves differ: the per-task
lookup fitted and scored on each half reaches 95% at 28.7% of the cost on the train half and at
16.1% on the test half, so that a rule that must reach 95% plus its margin on the train half costs
about 37% there and, on the easier test half, over-delivers quality (about 98%) at about 40%.
A second deployable point, calibrated on the train half for the most quality within 35% of the
best model's cost (a one-standard-error margin on the cost, EvalOptions.Budget), comes close on
MMLU (94.8% of the quality at 35.4% of the cost) and, on RouterBench, spends more on the test
half than on the train half at the same λ (98.0% at 37.1%, against 95.3% at 34.2% on the train
half's out-of-fold predictions): neither target pair is met by either rule alone.

With an agreement cascade (RouterBench; EvalOptions.Agree, learn evaluate --agree): the signal
the router lacks is in the answers. On a multiple-choice question (ARC-Challenge, Winogrande;
not MBPP, whose answers are code) a cheap model's answer is delivered only when a second cheap
model's recorded answer names the same option, and the question goes to GPT-4 otherwise: what
a score route with escalate: [gpt-4-1106-preview] and validate: [{agree: {models: [CHECKER1,
CHECKER2], answer: choice}}] does in the gateway (the report prints that route). Every call is
paid for as the gateway makes it: the start's, the checker's, GPT-4's on a disagreement, and
the check of GPT-4's own answers (which the route's validators check too, though nothing
follows them); an answer naming no option escalates without a check call. The router decides
as a score route does, on the start's P(pass) and price, with a mixed willingness to pay as
for the router alone (score route mix); the two checkers (the first checks every start but
itself, the second checks the first) and the rule are chosen on the train half's out-of-fold
predictions. On 20 inner development splits it averaged 95.3% of GPT-4's quality at 34.1% of
its cost (8 splits below 95%: the inner halves have about 770 items). Tried there, with an
accounting that left out the checks of GPT-4's answers (under which this rule averaged 95.3%
at 32.7%): one willingness to pay instead of a mix, 95.9% at 36.9%; deciding on the cascade's
expected quality and cost (per task, the train half's rates of agreement given a pass or a
failure and of GPT-4 passing the disagreements) instead of the start's own, 95.2% at 31.8%
(with one willingness to pay, 95.8% at 34.3%), which the gateway does not do. On the test half
below the cascade meets the target pair: 96.4% at 31.4% (other splits, CLEARBAR_EVAL_SEED=2
to 5: 94.7% at 27.3%, short of 95%; 97.1% at 29.7%; 97.1% at 27.3%; 95.2% at 26.3%). Against
the per-task lookup with the same cascade it is ahead on AIQ on all five splits (seed 1:
0.8359 vs 0.8349) but behind the lookup's hull at its own cost on four (seed 1: 96.4% vs
98.2%). RouteLLM's MMLU and GSM8K have two models (no third to check with) and MMLU records no
answers, so the cascade is not evaluated there, and MMLU's target stays unmet.

`

// TestEvaluation runs the documented evaluation and logs its tables; with
// CLEARBAR_WRITE_EVAL=1 it also writes testdata/evaluation.md. With CLEARBAR_EVAL_DEV=1 it runs
// the protocol inside the train half instead (EvalOptions.Dev), for developing features
// without reading the test half. CLEARBAR_EVAL_SEED=N splits with seed N instead of 1 (the
// file is written for seed 1 only), to check that a result is not an artefact of one split. It fails only if the learned router stops beating random
// mixing and the zero router; the lookup comparison and the targets are reported.
func TestEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("the real-data evaluation takes about half a minute; run without -short")
	}
	dev := os.Getenv("CLEARBAR_EVAL_DEV") == "1"
	seed := uint64(evalSeed)
	if v := os.Getenv("CLEARBAR_EVAL_SEED"); v != "" {
		if _, err := fmt.Sscan(v, &seed); err != nil {
			t.Fatalf("CLEARBAR_EVAL_SEED=%q: %v", v, err)
		}
	}
	var out strings.Builder
	out.WriteString(evaluationHeader)
	for _, c := range evalCases {
		start := time.Now()
		ds := c.load(t)
		ev, err := Evaluate(ds, EvalOptions{Seed: seed, KnownCosts: c.knownCosts, Agree: c.agree, Dev: dev, DevSeed: 1})
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
	if os.Getenv("CLEARBAR_WRITE_EVAL") == "1" && !dev && seed == evalSeed {
		if err := os.WriteFile(evaluationFile, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
