package simulated_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

// tokenSpec has one category per token shape, each routed statically to one model that never
// fails, so that the estimate's cost per request in a category is exactly its expected cost of
// one call. The reasoner bills reasoning tokens at their own price and lists a cached-input
// price; the plain model does neither.
const tokenSpec = `
version: 1
name: tokens
volume: {per_month: 1000}
providers:
  sim: {type: simulated, simulate: {seed: 42, time_scale: 1e-9}}
models:
  reasoner:
    provider: sim
    model: sim-reasoner
    price: {input: 1, output: 4, cached_input: 0.25, reasoning: 8}
    reasoning: true
    latency: {ttft: {p50: 300ms, p95: 900ms}, tokens_per_second: 100}
    availability: 1
  plain:
    provider: sim
    model: sim-plain
    price: {input: 0.5, output: 2}
    reasoning: false
    latency: {p50: 1s, p95: 2s}
    availability: 1
categories:
  - name: think
    share: 0.5
    tokens: {in: 100, out: {p50: 300, p95: 1200}, reasoning: {p50: 800, p95: 3000}, cache_hit: 0.4}
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: {model: reasoner}
    assume:
      pass_rate: {reasoner: 0.9, plain: 0.8}
  - name: fixed
    share: 0.5
    tokens: {in: 100, out: 250, reasoning: 500, cache_hit: 0.5}
    quality_bar: 0.5
    failure_impact: {bad_answer: 1}
    route: {model: plain}
    assume:
      pass_rate: {reasoner: 0.9, plain: 0.8}
`

// loadTokenSpec parses tokenSpec and builds its simulated provider.
func loadTokenSpec(t *testing.T) (*spec.Spec, *simulated.Provider) {
	t.Helper()
	s, err := spec.Parse([]byte(tokenSpec), "tokens.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := simulated.New(provider.Config{Provider: s.Provider("sim"), Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	return s, p.(*simulated.Provider)
}

// promptOf returns a request whose prompt is exactly n tokens by PromptTokens (n ≥ 5): one user
// message of 4(n−4) bytes.
func promptOf(n int) *clearbar.Request {
	return userRequest(strings.Repeat("word", n-4))
}

// estimatedCallCost is the estimate's cost per request of a category under the spec's own
// routes: with a static route to a model that never fails, the expected cost of one call.
func estimatedCallCost(t *testing.T, s *spec.Spec, category string) clearbar.Money {
	t.Helper()
	r, err := estimate.Run(context.Background(), s, estimate.Options{Samples: 4000, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range r.Policies {
		if pr.Name != spec.PolicySpec {
			continue
		}
		for _, c := range pr.Categories {
			if c.Category == category {
				return c.Cost
			}
		}
	}
	t.Fatalf("the estimate has no %q category under the spec's routes", category)
	return 0
}

// dollars converts an amount of clearbar.Money (nano-dollars), or a mean of them, to dollars.
func dollars(nano float64) float64 { return nano / 1e9 }

// TestUsageFollowsTokenBands drives the simulator with many calls of a category whose output
// and reasoning tokens are {p50, p95} bands and whose prompts are partly cached, and checks
// that the mean cost of a call, priced on the usage it reports, is the estimate's cost per
// call within sampling error.
func TestUsageFollowsTokenBands(t *testing.T) {
	s, p := loadTokenSpec(t)
	m := s.Model("reasoner")
	want := estimatedCallCost(t, s, "think")

	const calls = 20_000
	var cost, out, reasoning stats.Moments
	for i := range calls {
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: promptOf(100), Model: "sim-reasoner", Category: "think"})
		if err != nil {
			t.Fatal(err)
		}
		u := resp.Usage
		if u.PromptTokens != 100 || u.CachedTokens != 40 {
			t.Fatalf("call %d: usage %+v; want 100 prompt tokens, 40 of them cached (cache_hit 0.4)", i, u)
		}
		if u.ReasoningTokens <= 0 || u.CompletionTokens <= u.ReasoningTokens {
			t.Fatalf("call %d: usage %+v; want reasoning tokens, counted in completion tokens as OpenAI does", i, u)
		}
		cost.Add(float64(m.Cost(u)))
		out.Add(float64(u.CompletionTokens - u.ReasoningTokens))
		reasoning.Add(float64(u.ReasoningTokens))
	}
	got := cost.Mean()
	t.Logf("cost per call: estimated $%.7f, simulated mean $%.7f ± $%.7f (SE) over %d calls",
		dollars(float64(want)), dollars(got), dollars(cost.SE()), calls)
	if d := math.Abs(got - float64(want)); d > 4*cost.SE() {
		t.Errorf("mean cost per call %v, estimate %v: off by %.1f standard errors", clearbar.Money(math.Round(got)), want, d/cost.SE())
	}
	// The bands' lognormal means: p50 · exp(σ²/2), σ = ln(p95/p50) / z95.
	c := s.Category("think")
	for _, tt := range []struct {
		name string
		got  *stats.Moments
		want float64
	}{
		{"output", &out, c.Tokens.Out.Mean()},
		{"reasoning", &reasoning, c.Tokens.Reasoning.Mean()},
	} {
		t.Logf("%s tokens per call: assumed mean %.1f, simulated %.1f ± %.1f", tt.name, tt.want, tt.got.Mean(), tt.got.SE())
		if d := math.Abs(tt.got.Mean() - tt.want); d > 4*tt.got.SE() {
			t.Errorf("mean %s tokens %.1f, want the band's mean %.1f: off by %.1f standard errors", tt.name, tt.got.Mean(), tt.want, d/tt.got.SE())
		}
	}
}

// TestUsageFixedTokens: a category's plain token numbers are reported exactly, whatever the
// stand-in text; a model that does not bill reasoning reports none, and one with no
// cached-input price reports no cached tokens.
func TestUsageFixedTokens(t *testing.T) {
	s, p := loadTokenSpec(t)
	want := estimatedCallCost(t, s, "fixed")
	for _, tt := range []struct {
		name string
		req  *clearbar.Request
	}{
		{"text", promptOf(100)},
		{"json schema", func() *clearbar.Request {
			r := promptOf(100)
			r.ResponseFormat = clearbar.ResponseFormat{Type: "json_schema", Schema: []byte(`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`)}
			return r
		}()},
		{"tool call", func() *clearbar.Request {
			r := promptOf(100)
			r.Tools = []clearbar.Tool{{Name: "lookup", Parameters: []byte(`{"type":"object","properties":{"id":{"type":"integer"}}}`)}}
			return r
		}()},
	} {
		for i := range 20 {
			resp, err := p.Complete(context.Background(), &clearbar.Call{Request: tt.req, Model: "sim-plain", Category: "fixed"})
			if err != nil {
				t.Fatal(err)
			}
			// Tool definitions and a response format's schema are prompt tokens too.
			extra := len(tt.req.Tools) > 0 || len(tt.req.ResponseFormat.Schema) > 0
			if u, w := resp.Usage, (clearbar.Usage{PromptTokens: simulated.PromptTokens(tt.req), CompletionTokens: 250}); u != w {
				t.Fatalf("%s call %d: usage %+v, want %+v: tokens.out exactly, no reasoning (the model does not bill it), no cached tokens (no cached-input price)", tt.name, i, u, w)
			}
			if got := s.Model("plain").Cost(resp.Usage); !extra && got != want {
				t.Errorf("%s: a call costs %v, the estimate %v", tt.name, got, want)
			}
		}
	}

	// The reasoner in the same category bills the fixed reasoning tokens and reads half its
	// prompt from the cache.
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: promptOf(100), Model: "sim-reasoner", Category: "fixed"})
	if err != nil {
		t.Fatal(err)
	}
	if u, w := resp.Usage, (clearbar.Usage{PromptTokens: 100, CompletionTokens: 750, ReasoningTokens: 500, CachedTokens: 50}); u != w {
		t.Errorf("reasoner: usage %+v, want %+v", u, w)
	}
	if got, w := s.Model("reasoner").Cost(resp.Usage), s.Category("fixed").CallCost(s.Model("reasoner")); got != w {
		t.Errorf("reasoner: a call costs %v, the category's call cost %v", got, w)
	}

	// Outside a category, usage is the stand-in text's.
	resp, err = p.Complete(context.Background(), &clearbar.Call{Request: promptOf(100), Model: "sim-plain"})
	if err != nil {
		t.Fatal(err)
	}
	if u := resp.Usage; u.CompletionTokens != simulated.EstimateTokens(resp.Text()) || u.ReasoningTokens != 0 || u.CachedTokens != 0 {
		t.Errorf("no category: usage %+v, want the text's %d completion tokens and nothing else", u, simulated.EstimateTokens(resp.Text()))
	}
}

// TestUsageDrawsReproducible: the same seed gives the same token counts, in a stream's usage
// chunk as in a completion, and n choices report n answers' tokens.
func TestUsageDrawsReproducible(t *testing.T) {
	_, a := loadTokenSpec(t)
	_, b := loadTokenSpec(t)
	for i := range 50 {
		call := &clearbar.Call{Request: promptOf(200), Model: "sim-reasoner", Category: "think"}
		resp, err := a.Complete(context.Background(), call)
		if err != nil {
			t.Fatal(err)
		}
		sc := *call
		sc.Stream = true
		st, err := b.Stream(context.Background(), &sc)
		if err != nil {
			t.Fatal(err)
		}
		got := readStream(t, st)
		if got.err != nil || got.usage == nil || *got.usage != resp.Usage {
			t.Fatalf("call %d: stream usage %+v (err %v), completion usage %+v: the same seed must report the same usage", i, got.usage, got.err, resp.Usage)
		}
	}

	_, c := loadTokenSpec(t)
	_, d := loadTokenSpec(t)
	one, err := c.Complete(context.Background(), &clearbar.Call{Request: promptOf(200), Model: "sim-reasoner", Category: "think"})
	if err != nil {
		t.Fatal(err)
	}
	req := promptOf(200)
	req.N = 3
	three, err := d.Complete(context.Background(), &clearbar.Call{Request: req, Model: "sim-reasoner", Category: "think"})
	if err != nil {
		t.Fatal(err)
	}
	u1, u3 := one.Usage, three.Usage
	if w := (clearbar.Usage{PromptTokens: u1.PromptTokens, CachedTokens: u1.CachedTokens, CompletionTokens: 3 * u1.CompletionTokens, ReasoningTokens: 3 * u1.ReasoningTokens}); u3 != w {
		t.Errorf("n=3: usage %+v, want %+v (three times the answer of n=1 %+v, one prompt)", u3, w, u1)
	}
}

// TestUsageMaxTokens: a request's max tokens bounds output and reasoning tokens together, as
// max_completion_tokens does, and an answer it cuts finishes for "length", as a model's does.
func TestUsageMaxTokens(t *testing.T) {
	_, p := loadTokenSpec(t)
	for _, tt := range []struct {
		model                string
		max                  int
		completion, reasoned int
		finish               string
	}{
		{"sim-plain", 100, 100, 0, "length"},
		{"sim-reasoner", 600, 600, 500, "length"},
		{"sim-reasoner", 300, 300, 300, "length"},
		{"sim-reasoner", 10_000, 750, 500, "stop"},
	} {
		req := promptOf(100)
		req.MaxTokens = tt.max
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: tt.model, Category: "fixed"})
		if err != nil {
			t.Fatal(err)
		}
		if u := resp.Usage; u.CompletionTokens != tt.completion || u.ReasoningTokens != tt.reasoned {
			t.Errorf("%s, max tokens %d: usage %+v, want %d completion tokens, %d of them reasoning", tt.model, tt.max, u, tt.completion, tt.reasoned)
		}
		if got := resp.Choices[0].FinishReason; got != tt.finish {
			t.Errorf("%s, max tokens %d: finish reason %q, want %q", tt.model, tt.max, got, tt.finish)
		}
	}
}

// TestPromptTokensCountToolsAndResponseFormat: tool definitions and a response format's schema
// are prompt tokens, as route.EstimateTokens counts them.
func TestPromptTokensCountToolsAndResponseFormat(t *testing.T) {
	params := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","description":"the city to look up"}},"required":["city"]}`)
	schema := json.RawMessage(`{"type":"object","properties":{"intent":{"type":"string"}}}`)
	plain := &clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: "What is the weather in Paris?"}}}
	tools := &clearbar.Request{Messages: plain.Messages, Tools: []clearbar.Tool{{Name: "get_weather", Description: "Current weather", Parameters: params}}}
	if got, want := simulated.PromptTokens(tools), route.EstimateTokens(tools); got != want {
		t.Errorf("with a tool: %d prompt tokens, route.EstimateTokens says %d", got, want)
	}
	withFormat := &clearbar.Request{Messages: plain.Messages, ResponseFormat: clearbar.ResponseFormat{Type: "json_schema", Name: "intent", Schema: schema}}
	if got, want := simulated.PromptTokens(withFormat), simulated.PromptTokens(plain)+clearbar.TokensOfBytes(len("intent")+len(schema))+4; got != want {
		t.Errorf("with a response format: %d prompt tokens, want %d", got, want)
	}
}
