package simulated

import (
	"math"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
)

// TestGenerationFollowsTokens: in the ttft latency form, a call generates the output and
// reasoning tokens it reports, and a failed call takes the estimator's time for the category's
// mean tokens.
func TestGenerationFollowsTokens(t *testing.T) {
	const doc = `
version: 1
name: gen
volume: {per_month: 1000}
providers:
  sim: {type: simulated, simulate: {seed: 3}}
models:
  reasoner:
    provider: sim
    model: sim-reasoner
    price: {input: 1, output: 4}
    reasoning: true
    latency: {ttft: {p50: 300ms, p95: 900ms}, tokens_per_second: 100}
categories:
  - name: fixed
    share: 0.5
    tokens: {in: 100, out: 250, reasoning: 500}
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: {model: reasoner}
    assume: {pass_rate: {reasoner: 0.9}}
  - name: band
    share: 0.5
    tokens: {in: 100, out: {p50: 300, p95: 1200}, reasoning: {p50: 800, p95: 3000}}
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: {model: reasoner}
    assume: {pass_rate: {reasoner: 0.9}}
`
	s, err := spec.Parse([]byte(doc), "gen.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := New(provider.Config{Provider: s.Provider("sim"), Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	p := cp.(*Provider)
	req := &clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: "hello"}}}
	for _, category := range []string{"fixed", "band"} {
		c := s.Category(category)
		wantFail := 0.3 + (c.Tokens.Out.Mean()+c.Tokens.Reasoning.Mean())/100
		for i := range 50 {
			pl, err := p.prepare(&clearbar.Call{Request: req, Model: "sim-reasoner", Category: category})
			if err != nil {
				t.Fatal(err)
			}
			u := pl.answer.Usage
			if category == "fixed" && (u.CompletionTokens != 750 || u.ReasoningTokens != 500) {
				t.Fatalf("fixed: usage %+v, want 750 completion tokens, 500 of them reasoning", u)
			}
			if want := scaled(float64(u.CompletionTokens)/100, 1); absDur(pl.gen-want) > time.Microsecond {
				t.Errorf("%s call %d: generation %v for %d completion tokens at 100 tokens/s, want %v", category, i, pl.gen, u.CompletionTokens, want)
			}
			if got := pl.failAfter.Seconds(); math.Abs(got-wantFail) > 1e-6 {
				t.Errorf("%s: a failed call takes %.6fs, want the estimator's %.6fs (ttft median + mean tokens / tps)", category, got, wantFail)
			}
		}
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
