package clearbar

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestScoreJSONDifficulty: a heuristic score records its difficulty even when it is 0, in
// the fields' order; a learned router's score has none; records written either way read back.
func TestScoreJSONDifficulty(t *testing.T) {
	for _, tc := range []struct {
		score Score
		want  string
	}{
		{Score{Router: HeuristicRouter, Rule: "tiers 0.35, 0.7", Start: "small"},
			`{"router":"heuristic","rule":"tiers 0.35, 0.7","difficulty":0,"start":"small"}`},
		{Score{Router: HeuristicRouter, Rule: "tiers 0.5", Difficulty: 0.625, Start: "strong"},
			`{"router":"heuristic","rule":"tiers 0.5","difficulty":0.625,"start":"strong"}`},
		{Score{Router: "router.json", Rule: "threshold 0.5", PPass: []ModelScore{{Model: "small", P: 0.75}}, Start: "small",
			Embedding: &ScoreEmbedding{Model: "e", Error: "not embedded: a dry run calls no model"}},
			`{"router":"router.json","rule":"threshold 0.5","p_pass":[{"model":"small","p":0.75}],"start":"small","embedding":{"model":"e","used":false,"error":"not embedded: a dry run calls no model","latency_ns":0,"tokens":0,"cost_usd":0}}`},
	} {
		for _, v := range []any{tc.score, &tc.score, Decision{Score: &tc.score}} {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.want) {
				t.Errorf("%T: %s\nwant it to contain %s", v, b, tc.want)
			}
		}
		var back Score
		if err := json.Unmarshal([]byte(tc.want), &back); err != nil || back.Difficulty != tc.score.Difficulty || back.Router != tc.score.Router || back.Start != tc.score.Start {
			t.Errorf("%s reads back as %+v (%v)", tc.want, back, err)
		}
	}
	// A heuristic record written before the difficulty was always recorded reads as 0.
	var old Score
	if err := json.Unmarshal([]byte(`{"router":"heuristic","rule":"tiers 0.35, 0.7","start":"small"}`), &old); err != nil || old.Difficulty != 0 || old.Router != HeuristicRouter {
		t.Errorf("old record: %+v (%v)", old, err)
	}
}
