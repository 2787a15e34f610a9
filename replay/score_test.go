package replay_test

import (
	"context"
	"os"
	"strings"
	"testing"

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
