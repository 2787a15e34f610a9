package clearbar

import (
	"encoding/json"
	"reflect"
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

// TestScoreJSONWillingnessToPay: a willingness-to-pay score records the value that decided
// the request and every model's cost and utility, also when they are 0; a threshold's score
// records none of them; both read back.
func TestScoreJSONWillingnessToPay(t *testing.T) {
	for _, tc := range []struct {
		score Score
		want  string
	}{
		{Score{Router: "router.json", Rule: "willingness to pay $0.50 per unit (1.0) of P(pass)", WillingnessToPay: 0.5,
			PPass: []ModelScore{{Model: "local", P: 0.25}, {Model: "strong", P: 0.9, Cost: 0.002, Utility: 0.896}}, Start: "strong"},
			`{"router":"router.json","rule":"willingness to pay $0.50 per unit (1.0) of P(pass)","willingness_to_pay":0.5,"p_pass":[{"model":"local","p":0.25,"cost_usd":0,"utility":0},{"model":"strong","p":0.9,"cost_usd":0.002,"utility":0.896}],"start":"strong"}`},
		{Score{Router: "router.json", Rule: "threshold 0.5", PPass: []ModelScore{{Model: "small", P: 0.75}, {Model: "strong", P: 0.9}}, Start: "small"},
			`{"router":"router.json","rule":"threshold 0.5","p_pass":[{"model":"small","p":0.75},{"model":"strong","p":0.9}],"start":"small"}`},
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
		if err := json.Unmarshal([]byte(tc.want), &back); err != nil || !reflect.DeepEqual(back, tc.score) {
			t.Errorf("%s reads back as %+v (%v)", tc.want, back, err)
		}
	}
}
