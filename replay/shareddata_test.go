package replay_test

import (
	"context"
	"math"
	"os"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
)

// routerBenchFile is the project's shared RouterBench subset, outside the module. The test
// skips when it is absent (a fresh clone, CI without the data volume).
const routerBenchFile = "../../shared/data/routerbench_subset/outcomes.jsonl.gz"

// TestRouterBenchSharedData replays the real RouterBench subset (3,178 prompts × 11 models)
// and checks the requirement on it: every single model's and the oracle's numbers
// equal a direct computation on the rows, exactly. It also checks them against the figures in
// routerbench_subset/SOURCE.md.
func TestRouterBenchSharedData(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(routerBenchFile); os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data check", routerBenchFile)
	}
	var rows []outcomes.Row
	src := func(emit func(outcomes.Row) error) error {
		f, err := os.Open(routerBenchFile)
		if err != nil {
			return err
		}
		defer f.Close()
		return outcomes.ImportRouterBench(f, func(r outcomes.Row) error {
			r.Prompt, r.Response = "", "" // keep the test's copy small
			rows = append(rows, r)
			return emit(r)
		})
	}
	rep, err := replay.Run(context.Background(), nil, src, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items != 3178 || len(rep.Models) != 11 {
		t.Fatalf("%d items × %d models; SOURCE.md says 3,178 × 11", rep.Items, len(rep.Models))
	}
	order, by := firstRows(rows, func(outcomes.Row) bool { return true }, func(m string) string { return m })
	for _, st := range rep.Models {
		checkExact(t, st.Name, rep.Result(st.Name), directSingle(order, by, st.Name, false))
		if st.Ungraded != 14 {
			t.Errorf("%s: %d ungraded rows; the subset has 14 prompts without scores for every model", st.Name, st.Ungraded)
		}
	}
	checkExact(t, "oracle", rep.Result("oracle"), directOracle(order, by, false))

	// SOURCE.md's means are over the graded rows, as replay's are; its totals count every row.
	if gpt4 := rep.Result("gpt-4-1106-preview"); math.Abs(gpt4.Quality-0.8799) > 0.00006 || gpt4.Items != 3164 {
		t.Errorf("gpt-4-1106-preview: quality %.5f over %d items; SOURCE.md says 0.8799 over the 3,164 graded", gpt4.Quality, gpt4.Items)
	}
	if rep.Strong != "gpt-4-1106-preview" || rep.Weak != "mistralai/mistral-7b-chat" {
		t.Errorf("reference pair %s → %s; want the cheapest model and the best one", rep.Weak, rep.Strong)
	}
	// Each model misses scores on different prompts, so the oracle, which chooses among the
	// models graded on a prompt, covers them all.
	if o := rep.Result("oracle"); math.Abs(o.Quality-0.9748) > 0.00006 || o.Items != 3178 {
		t.Errorf("oracle: quality %.5f over %d items; SOURCE.md says 0.9748 over 3,178", o.Quality, o.Items)
	}
	var mix *replay.Curve
	for _, c := range rep.Curves {
		if c.Kind == "mix" {
			mix = c
		}
	}
	if mix == nil || mix.APGR == nil || math.Abs(*mix.APGR-0.5) > 1e-12 {
		t.Errorf("the random mix's APGR should be 0.5: %v", mix)
	}
	if rep.FrontierAIQ < rep.ZeroRouterAIQ {
		t.Errorf("the frontier's AIQ %v is below the zero router's %v", rep.FrontierAIQ, rep.ZeroRouterAIQ)
	}
}

// routeLLMFile is the project's shared RouteLLM data, outside the module.
const routeLLMFile = "../../shared/data/routellm_evals/outcomes.jsonl.gz"

// TestMTBenchScoreGradedCascade replays MT-Bench graded by score (its 1-10 judge scores on
// the 0..1 scale), where a cascade that read scores as pass probabilities scored above the
// oracle: no cascade may, the perfect validator's bound included.
func TestMTBenchScoreGradedCascade(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(routeLLMFile); os.IsNotExist(err) {
		t.Skipf("shared data %s is not present; skipping the real-data check", routeLLMFile)
	}
	src := func(emit func(outcomes.Row) error) error {
		f, err := os.Open(routeLLMFile)
		if err != nil {
			return err
		}
		defer f.Close()
		return outcomes.ImportRouteLLM(f, emit)
	}
	rep, err := replay.Run(context.Background(), nil, src, replay.Options{Task: "mt_bench", Grade: replay.GradeScore})
	if err != nil {
		t.Fatal(err)
	}
	oracle := rep.Result("oracle")
	cascades := 0
	for _, r := range rep.Results {
		if r.Kind == replay.KindCascade {
			cascades++
			if r.Quality > oracle.Quality {
				t.Errorf("%s scores %.4f, above the oracle's %.4f", r.Name, r.Quality, oracle.Quality)
			}
		}
	}
	if cascades == 0 {
		t.Errorf("no cascade replayed: %v", names(rep.Results))
	}
}
