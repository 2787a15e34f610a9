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
	load func(t *testing.T) *Dataset
	// knownCosts: the router may decide on the item's own cost (list prices × estimated
	// tokens); otherwise on the train half's mean cost per (task, model).
	knownCosts bool
	// targeted: the targets (≥ 95% of the best model's quality at ≤ 35% of its cost)
	// apply to this dataset.
	targeted bool
}

func openData(t *testing.T, path string) *os.File {
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

func routeLLM(name, prefix string, outTokens int) func(t *testing.T) *Dataset {
	return func(t *testing.T) *Dataset {
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
	{name: "RouterBench three-task mix (ARC-Challenge, MBPP, Winogrande; 11 models)", targeted: true, load: func(t *testing.T) *Dataset {
		ds, err := RouterBenchDataset(openData(t, routerBenchFile), "RouterBench three-task mix (ARC-Challenge, MBPP, Winogrande; 11 models)")
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}},
}

// TestEvaluation runs the documented evaluation (see the package documentation) and prints
// its table; with CLEARBAR_WRITE_EVAL=1 it also writes testdata/evaluation.md.
// CLEARBAR_EVAL_DEV=1 evaluates on the train half's out-of-fold predictions instead (for
// developing features without looking at the test half).
func TestEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("the real-data evaluation takes tens of seconds; run without -short")
	}
	dev := os.Getenv("CLEARBAR_EVAL_DEV") == "1"
	var out strings.Builder
	for _, c := range evalCases {
		start := time.Now()
		ds := c.load(t)
		ev, err := Evaluate(ds, EvalOptions{Seed: evalSeed, KnownCosts: c.knownCosts, Dev: dev})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		md := ev.Markdown()
		out.WriteString(md)
		t.Logf("%s(%.1fs)\n", md, time.Since(start).Seconds())
		_ = fmt.Sprint()
	}
	t.Log(out.String())
}
