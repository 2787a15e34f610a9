package simulated

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
)

// genSpec has a reasoning model in the ttft latency form, and two categories: fixed tokens,
// and token bands.
const genSpec = `
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
    availability: 1
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

// loadGenSpec parses genSpec and builds its simulated provider.
func loadGenSpec(t *testing.T) (*spec.Spec, *Provider) {
	t.Helper()
	s, err := spec.Parse([]byte(genSpec), "gen.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := New(provider.Config{Provider: s.Provider("sim"), Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	return s, cp.(*Provider)
}

var helloRequest = &clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: "hello"}}}

// TestGenerationFollowsTokens: in the ttft latency form, a call generates the output and
// reasoning tokens it reports, the reasoning tokens before its first chunk, and a failed call
// takes the estimator's time for the category's mean tokens.
func TestGenerationFollowsTokens(t *testing.T) {
	s, p := loadGenSpec(t)
	req := helloRequest
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
			visible := u.CompletionTokens - u.ReasoningTokens
			if want := scaled(float64(visible)/100, 1); absDur(pl.gen-want) > time.Microsecond {
				t.Errorf("%s call %d: generation %v for %d visible tokens at 100 tokens/s, want %v", category, i, pl.gen, visible, want)
			}
			if thinking := scaled(float64(u.ReasoningTokens)/100, 1); pl.ttft <= thinking {
				t.Errorf("%s call %d: first chunk after %v, want the time to first token plus %v for %d reasoning tokens at 100 tokens/s", category, i, pl.ttft, thinking, u.ReasoningTokens)
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

// TestFirstChunkAgreesWithEstimate: a reasoning model's first chunk comes after its hidden
// reasoning, in the simulator as in the estimate's time to first byte, whose quantiles the
// simulator's first-chunk times reproduce.
func TestFirstChunkAgreesWithEstimate(t *testing.T) {
	s, p := loadGenSpec(t)
	r, err := estimate.Run(context.Background(), s, estimate.Options{Samples: 80_000, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8000
	for i, category := range []string{"fixed", "band"} {
		want := r.Policies[0].Categories[i].TTFB
		if r.Policies[0].Categories[i].Category != category {
			t.Fatalf("category %d is %s, want %s", i, r.Policies[0].Categories[i].Category, category)
		}
		first := make([]float64, n)
		for j := range first {
			pl, err := p.prepare(&clearbar.Call{Request: helloRequest, Model: "sim-reasoner", Category: category})
			if err != nil {
				t.Fatal(err)
			}
			first[j] = pl.ttft.Seconds()
		}
		slices.Sort(first)
		for _, q := range []struct{ q, want float64 }{{0.5, want.P50}, {0.95, want.P95}} {
			if got := quantile(first, q.q); math.Abs(got-q.want) > 0.04*q.want {
				t.Errorf("%s: simulated first chunk q%.2f %.3fs, estimated time to first byte %.3fs: more than 4%% apart", category, q.q, got, q.want)
			}
		}
	}
	if fixed := r.Policies[0].Categories[0].TTFB.P50; fixed < 5 {
		t.Errorf("fixed: estimated time to first byte p50 %.3fs, want 300ms + 500 reasoning tokens at 100 tokens/s = 5.3s", fixed)
	}
}
