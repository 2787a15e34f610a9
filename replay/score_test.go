package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
	"github.com/clearbar/clearbar/spec"
)

// TestSpecScoreRoute replays a named policy whose intent route is a heuristic score route.
// With a tier below every item's difficulty, every item starts on strong, so the route equals
// strong alone; with a tier above every difficulty, every item starts on nano and escalates
// like the cascade nano → strong.
func TestSpecScoreRoute(t *testing.T) {
	base, err := os.ReadFile("testdata/spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rows := fixtureRows(t)
	for _, tc := range []struct {
		tier string
		same string
	}{
		{"0.000001", "strong"},
		{"0.999999", "spec: nano → strong (assumed d=0.8 f=0.1)"},
	} {
		src := string(base) + "  scored:\n    routes:\n      intent:\n        score: {heuristic: {tiers: [" + tc.tier + "]}, models: [nano, strong]}\n        validate: [{json_schema: intent.schema.json}]\n"
		s, err := spec.Parse([]byte(src), "testdata/spec.yaml", spec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "intent"})
		if err != nil {
			t.Fatal(err)
		}
		var got *replay.Result
		for _, r := range rep.All() {
			if strings.HasPrefix(r.Name, "policy scored: score heuristic tiers") && strings.Contains(r.Name, "(assumed") {
				got = r
			}
		}
		want := rep.Result(tc.same)
		if got == nil || want == nil {
			t.Fatalf("tier %s: results %v; notes %v", tc.tier, names(rep.All()), rep.Notes)
		}
		if got.Items != want.Items || got.Quality != want.Quality || got.Cost != want.Cost {
			t.Errorf("tier %s: score route %+v, want the same as %s %+v", tc.tier, got, tc.same, want)
		}
	}
}

// TestScoreGradedCascadeNeverBeatsTheOracle: with --grade score, a cascade's validator judges
// each row's pass verdict and the delivered answer brings its score, so no cascade, the perfect
// validator's bound included, scores above the oracle, which takes the best answer of every
// item. Scores are not pass probabilities: two answers scoring 0.6 do not make a 0.84 cascade.
func TestScoreGradedCascadeNeverBeatsTheOracle(t *testing.T) {
	var rows []outcomes.Row
	for i := range 200 {
		for _, m := range []struct {
			name string
			cost clearbar.Money
			seed int
		}{{"weak", 1_000, 7}, {"strong", 10_000, 13}} {
			score := float64((i*m.seed+i*i)%11) / 10 // 0, 0.1, …, 1
			pass := score >= 0.5
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Prompt: fmt.Sprint("question ", i), Model: m.name, Cost: m.cost, Score: &score, Pass: &pass})
		}
	}
	rep, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Grade: replay.GradeScore, Weak: "weak", Strong: "strong"})
	if err != nil {
		t.Fatal(err)
	}
	oracle := rep.Result("oracle")
	if oracle == nil {
		t.Fatalf("no oracle among %v", names(rep.All()))
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{Grade: replay.GradeScore})
	if err != nil {
		t.Fatal(err)
	}
	// The perfect validator escalates exactly the weak answers whose row fails, and the item
	// scores the answer delivered.
	var want float64
	for i := range tb.Len() {
		w, s := tb.Cell(i, tb.Index("weak")), tb.Cell(i, tb.Index("strong"))
		if w.Pass {
			want += w.Quality
		} else {
			want += s.Quality
		}
	}
	want /= float64(tb.Len())
	cascades := 0
	for _, r := range rep.Results {
		if r.Kind != replay.KindCascade {
			continue
		}
		cascades++
		if r.Quality > oracle.Quality+1e-12 {
			t.Errorf("%s scores %.4f, above the oracle's %.4f", r.Name, r.Quality, oracle.Quality)
		}
		if strings.Contains(r.Name, "perfect validator") && !near(r.Quality, want) {
			t.Errorf("%s scores %.6f; escalating on the rows' verdicts delivers %.6f", r.Name, r.Quality, want)
		}
	}
	if cascades < 2 {
		t.Errorf("want the default cascade and the perfect validator's bound, got %v", names(rep.Results))
	}
}

// TestSpecScoreRouteReadsTheSystemPrompt: a score route replayed over rows that record their
// request reads the request's system prompt beside the prompt, as the gateway's does: with a
// tier between the items' difficulty without the system prompt and with it, every item starts
// on strong.
func TestSpecScoreRouteReadsTheSystemPrompt(t *testing.T) {
	const system = "Think step by step and prove each step rigorously. Derive the equations, solve the integral, " +
		"then write and debug the code: ```python\nimport math\n```. First analyse, then compare, then explain why."
	h, err := learn.NewHeuristic(nil, []float64{0.5})
	if err != nil {
		t.Fatal(err)
	}
	rows := fixtureRows(t)
	without, with := 0.0, 1.0
	for i := range rows {
		without, with = max(without, h.Score(rows[i].Prompt, "")), min(with, h.Score(rows[i].Prompt, system))
		req, _ := json.Marshal(map[string]any{"messages": []map[string]string{{"role": "system", "content": system}, {"role": "user", "content": rows[i].Prompt}}})
		rows[i].Request = req
	}
	if without >= with {
		t.Fatalf("the system prompt does not separate the items: difficulty up to %.3f without it, from %.3f with it", without, with)
	}
	base, err := os.ReadFile("testdata/spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tier := strconv.FormatFloat((without+with)/2, 'f', 6, 64)
	src := string(base) + "  scored:\n    routes:\n      intent:\n        score: {heuristic: {tiers: [" + tier + "]}, models: [nano, strong]}\n        validate: [{json_schema: intent.schema.json}]\n"
	s, err := spec.Parse([]byte(src), "testdata/spec.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "intent"})
	if err != nil {
		t.Fatal(err)
	}
	var got *replay.Result
	for _, r := range rep.All() {
		if strings.HasPrefix(r.Name, "policy scored: score heuristic tiers") && strings.Contains(r.Name, "(assumed") {
			got = r
		}
	}
	want := rep.Result("strong")
	if got == nil || want == nil {
		t.Fatalf("results %v; notes %v", names(rep.All()), rep.Notes)
	}
	if got.Items != want.Items || got.Quality != want.Quality || got.Cost != want.Cost {
		t.Errorf("tier %s: score route %+v, want every item started on strong: %+v", tier, got, want)
	}
}
