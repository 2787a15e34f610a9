package gateway

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestExplainWillingnessToPay: the explanation of a willingness-to-pay score shows, for each
// model, the P(pass), the cost and the utility the rule weighed, and which model starts, so
// that the choice can be checked by hand; a threshold's shows no utilities.
func TestExplainWillingnessToPay(t *testing.T) {
	d := &clearbar.Decision{ID: "d-wtp", Route: "score", Plan: []string{"strong"}, Score: &clearbar.Score{
		Router: "routers/qa.json", Rule: "willingness to pay $0.01 per unit (1.0) of P(pass)", WillingnessToPay: 0.01,
		PPass: []clearbar.ModelScore{
			{Model: "small", P: 0.42, Cost: 0.0000789, Utility: 0.41211},
			{Model: "strong", P: 0.97, Cost: 0.0013125, Utility: 0.83875},
		},
		Start: "strong",
	}}
	var b strings.Builder
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"score       routers/qa.json, willingness to pay $0.01 per unit (1.0) of P(pass): P(pass) small 0.420 strong 0.970 → start on strong\n",
		"            utility = P(pass) − cost ÷ $0.01 (the willingness to pay that decided); the highest starts, ties to the cheaper\n",
		"            MODEL   P(PASS)  COST (USD)  UTILITY\n",
		"            small   0.4200   0.00007890  0.412110\n",
		"            strong  0.9700   0.001313    0.838750  ← start\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}

	d.Score = &clearbar.Score{Router: "routers/qa.json", Rule: "threshold 0.5 on P(pass) of small",
		PPass: []clearbar.ModelScore{{Model: "small", P: 0.42}, {Model: "strong", P: 0.97}}, Start: "strong"}
	b.Reset()
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	if text := b.String(); strings.Contains(text, "utility") || !strings.Contains(text, "P(pass) small 0.420 strong 0.970 → start on strong") {
		t.Errorf("threshold score:\n%s", text)
	}
}

// TestExplainUnverified: a verdict that failed an answer for want of a check (an agreement
// check without an independent checker) reads UNVERIFIED, not FAIL; one that found the answer
// wanting reads FAIL.
func TestExplainUnverified(t *testing.T) {
	d := &clearbar.Decision{ID: "d-unv", Route: "cascade", Plan: []string{"mini", "strong"}, Attempts: []clearbar.Attempt{{
		N: 1, Kind: clearbar.AttemptPrimary, Step: 1, Model: "mini", Provider: "sim", Class: clearbar.Quality,
		Verdicts: []clearbar.Verdict{
			{Validator: "agree(mini)", Reason: "no independent checker: mini wrote the answer and is the only checker; the answer is treated as unverified", Unverified: true},
			{Validator: "max_length", Reason: "2400 characters, over 2000"},
			{Validator: "json_schema", Pass: true, Reason: "the request asks for no JSON schema; nothing to check", NotApplicable: true},
		},
	}}}
	var b strings.Builder
	if err := WriteExplanation(&b, d); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if !strings.Contains(text, "UNVERIFIED agree(mini)") || !strings.Contains(text, "FAIL max_length") || strings.Contains(text, "FAIL agree") ||
		!strings.Contains(text, "n/a json_schema") {
		t.Errorf("explanation:\n%s", text)
	}
	// Nothing was delivered: the cost line says so rather than "tokens 0 in, 0 out".
	if !strings.Contains(text, "; no answer delivered\n") {
		t.Errorf("explanation of a decision that delivered nothing:\n%s", text)
	}
}
