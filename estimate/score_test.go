package estimate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

const scoreSpec = `version: 1
name: score
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4.1-nano, latency: {p50: 300ms, p95: 900ms}, availability: 1}
  b: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
  c: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route:
      score: {heuristic: {tiers: [0.4, 0.7]}, models: [a, b, c]}
      validate: [{max_length: 100}]
    assume:
      pass_rate: {a: 0.6, b: 0.8, c: 0.95}
      validator: {detect: 1, false_alarm: 0}
SHARE`

// TestScoreRouteIsAMixOfCascades: a score route starting on model i escalates through the
// stronger models after it, so its estimate is the score_share-weighted mix of those cascades
// (equal shares when none are given).
func TestScoreRouteIsAMixOfCascades(t *testing.T) {
	for _, tc := range []struct {
		share  string
		shares [3]float64
		start  [3]float64 // the pass rate of the first call of the cascade starting on each model
	}{
		{"      score_share: {a: 0.5, b: 0.3, c: 0.2}", [3]float64{0.5, 0.3, 0.2}, [3]float64{0.6, 0.8, 0.95}},
		{"      score_share: {a: 1}", [3]float64{1, 0, 0}, [3]float64{0.6, 0.8, 0.95}},
		{"", [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, [3]float64{0.6, 0.8, 0.95}},
		// The score starts a and b on the requests they do well on: there they pass more often
		// than over all requests, and an escalation from a reaches b at b's overall rate.
		{"      score_share: {a: 0.5, b: 0.3, c: 0.2}\n      score_pass_rate: {a: 0.9, b: 0.85}", [3]float64{0.5, 0.3, 0.2}, [3]float64{0.9, 0.85, 0.95}},
	} {
		s := parse(t, strings.Replace(scoreSpec, "SHARE", tc.share, 1))
		c := s.Categories[0]
		w := newWorld(s)
		plan := w.compile(c, c.Route, nil)
		o := plan.closed()
		q := [3]float64{0.6, 0.8, 0.95}
		var cost [3]float64
		for i, n := range []string{"a", "b", "c"} {
			cost[i] = float64(w.callCost(c, s.Model(n), wholeBand))
		}
		var wantQ, wantCost, wantEsc float64
		for i := range 3 {
			miss, spent := 1.0, 0.0
			for j := i; j < 3; j++ {
				pj := q[j]
				if j == i {
					pj = tc.start[i]
				}
				spent += miss * cost[j]
				miss *= 1 - pj
			}
			wantQ += tc.shares[i] * (1 - miss)
			wantCost += tc.shares[i] * spent
			if i < 2 {
				wantEsc += tc.shares[i] * (1 - tc.start[i])
			}
		}
		if math.Abs(o.quality-wantQ) > 1e-12 || math.Abs(o.cost-wantCost) > 1e-6 || math.Abs(o.escalated-wantEsc) > 1e-12 {
			t.Errorf("shares %v: quality %.6f cost %.1f escalated %.4f, want %.6f %.1f %.4f",
				tc.shares, o.quality, o.cost, o.escalated, wantQ, wantCost, wantEsc)
		}
		const n = 100_000
		sim := plan.simulate(n, rand.New(rand.NewPCG(3, 5)))
		within(t, "simulated P(good)", sim.good/n, o.good, math.Sqrt(o.good*(1-o.good)/n), 4.5)
	}
}

// TestMeasuredVerdictsAreCorrected: validator verdicts from decision records or shadow
// traffic pass q(1−f) + (1−q)(1−d) of answers; the measurement corrects them back to q with
// the category's validator strength, and an uninformative validator replaces nothing.
func TestMeasuredVerdictsAreCorrected(t *testing.T) {
	for _, tc := range []struct {
		strength string
		passes   int // of 1000 verdicts
		want     float64
		used     bool
	}{
		{"{detect: 0.8, false_alarm: 0.1}", 690, 0.7, true}, // 0.7×0.9 + 0.3×0.2 = 0.69
		{"{detect: 1, false_alarm: 0}", 700, 0.7, true},
		{"{detect: 0.15, false_alarm: 0.05}", 900, 0.9, false}, // d − f < 0.2: reported raw, the assumption stays
	} {
		s := parse(t, `version: 1
name: verdicts
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: small, validate: [{max_length: 100}]}
    assume: {pass_rate: {small: 0.95}, validator: `+tc.strength+`}
`)
		var obs []Observation
		yes, no := true, false
		for i := range 1000 {
			p := &no
			if i < tc.passes {
				p = &yes
			}
			obs = append(obs, Observation{Category: "x", Model: "small", Pass: p, ByValidator: true})
		}
		fs := Measure(s, obs).Findings(s)
		if len(fs) == 0 || fs[0].What != "pass rate" {
			t.Fatalf("%s: findings %+v", tc.strength, fs)
		}
		f := fs[0]
		if math.Abs(f.Measured-tc.want) > 1e-9 || f.Used != tc.used || f.Low > f.Measured || f.High < f.Measured {
			t.Errorf("%s: measured %v [%v, %v] used %v; want %v used %v (%s)", tc.strength, f.Measured, f.Low, f.High, f.Used, tc.want, tc.used, f.Note)
		}
	}
}

// TestMeasuredCostAgainstPrices: calls whose recorded cost is not what the spec's prices make
// of their tokens are reported, so that a price that moved shows up.
func TestMeasuredCostAgainstPrices(t *testing.T) {
	s := parse(t, `version: 1
name: costs
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, price: {input: 1, output: 2}, latency: {p50: 500ms, p95: 1s}, availability: 1}
  other: {provider: sim, model: gpt-4o, price: {input: 1, output: 2}, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {model: small}
    fallback: [other]
    assume: {pass_rate: {small: 0.9, other: 0.9}}
`)
	var obs []Observation
	for range 10 {
		// 1000 in and 100 out at $1 and $2 per million: $0.0012 a call.
		obs = append(obs, Observation{Category: "x", Model: "small", TokensIn: 1000, TokensOut: 100, Cost: 1_200_000})
		obs = append(obs, Observation{Category: "x", Model: "other", TokensIn: 1000, TokensOut: 100, Cost: 2_400_000})
	}
	got := map[string]Finding{}
	for _, f := range Measure(s, obs).Findings(s) {
		if f.What == "cost per call" {
			got[f.Model] = f
		}
	}
	if f := got["small"]; f.Contradicts || math.Abs(f.Assumed-0.0012) > 1e-12 || math.Abs(f.Measured-0.0012) > 1e-12 || f.N != 10 {
		t.Errorf("small, billed at the spec's prices: %+v", f)
	}
	if f := got["other"]; !f.Contradicts || !strings.Contains(f.Note, "check the model's prices") {
		t.Errorf("other, billed twice the spec's prices: %+v", f)
	}
}

// TestMeasuredTokensKeepTheLongContextTier: measured prompts half of which cross a model's
// long-context threshold are priced call by call, as they are billed; their mean, under the
// threshold, would price every call at the base price.
func TestMeasuredTokensKeepTheLongContextTier(t *testing.T) {
	s := parse(t, `version: 1
name: tier
providers: {sim: {type: simulated}}
models:
  long: {provider: sim, model: gemini/gemini-2.5-pro, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {model: long}
    assume: {pass_rate: {long: 0.9}}
`)
	var obs []Observation
	for i := range 40 {
		in := 1_000
		if i%2 == 0 {
			in = 300_000
		}
		obs = append(obs, Observation{Category: "x", Model: "long", TokensIn: in, TokensOut: 100})
	}
	w := newWorld(s)
	Measure(s, obs).apply(w)
	m, c := s.Model("long"), s.Category("x")
	got := w.callCost(c, m, wholeBand)
	e := m.Resolved.Prices
	want := (e.ExpectedCost(300_000, 0, 100, 0) + e.ExpectedCost(1_000, 0, 100, 0)) / 2
	if e.TierThreshold != 200_000 || got != want || got == e.ExpectedCost(150_500, 0, 100, 0) {
		t.Errorf("cost per call %v, want %v (the mean prompt would give %v)", got, want, e.ExpectedCost(150_500, 0, 100, 0))
	}
}

// TestMeasuredTokensOutCountReasoning: providers count reasoning tokens among the completion
// tokens, so a reasoning model's measured completion tokens agree with the category's output
// and reasoning tokens together.
func TestMeasuredTokensOutCountReasoning(t *testing.T) {
	s := parse(t, `version: 1
name: reasoning
providers: {sim: {type: simulated}}
models:
  r: {provider: sim, model: gpt-5, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100, reasoning: 400}
    quality_bar: 0.5
    route: {model: r}
    assume: {pass_rate: {r: 0.9}}
`)
	if !s.Model("r").Resolved.Reasoning {
		t.Fatal("gpt-5 no longer bills reasoning tokens in the catalogue: pick another model")
	}
	var obs []Observation
	for range 40 {
		obs = append(obs, Observation{Category: "x", Model: "r", TokensIn: 1000, TokensOut: 500})
	}
	for _, f := range Measure(s, obs).Findings(s) {
		if f.What == "tokens out" && (f.Assumed != 500 || f.Contradicts) {
			t.Errorf("tokens out: assumed %v, contradicts %v; want 100 out + 400 reasoning, agreeing", f.Assumed, f.Contradicts)
		}
	}
}

// TestMeasuredCacheHit: calls that record their cached prompt tokens measure the category's
// cache_hit, which then prices the calls, and their recorded cost is checked at the cached
// price: a spec that assumes no cache is told it is off, not that its prices are.
func TestMeasuredCacheHit(t *testing.T) {
	s := parse(t, `version: 1
name: cache
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
`)
	m, c := s.Model("small"), s.Category("x")
	e := m.Resolved.Prices
	if e.CachedInput == 0 || e.CachedInput == e.Input {
		t.Fatal("gpt-4o-mini has no cached-input price in the catalogue: pick another model")
	}
	var obs []Observation
	for i := range 40 {
		cached := 600 + 400*(i%2) // 600 and 1000 of 1000: 80% of the prompt tokens
		u := clearbar.Usage{PromptTokens: 1000, CompletionTokens: 100, CachedTokens: cached}
		obs = append(obs, Observation{Category: "x", Model: "small", TokensIn: 1000, TokensOut: 100, TokensCached: &cached, Cost: m.Cost(u)})
	}
	// Rows that did not record cached tokens (an imported benchmark) measure nothing.
	obs = append(obs, Observation{Category: "x", Model: "small", TokensIn: 5000, TokensOut: 100})
	ms := Measure(s, obs)
	got := map[string]Finding{}
	for _, f := range ms.Findings(s) {
		got[f.What] = f
	}
	if f := got["cache hit"]; math.Abs(f.Measured-0.8) > 1e-12 || f.Assumed != 0 || f.N != 40 || !f.Used || !f.Contradicts || !(f.Low < 0.8 && f.High > 0.8 && f.Low > 0.7) {
		t.Errorf("cache hit finding %+v, want 80%% of 40 calls with its interval, used, contradicting the assumed 0", f)
	}
	for _, f := range Measure(s, obs[:1]).Findings(s) {
		if f.What == "cache hit" && f.Contradicts {
			t.Errorf("one call contradicts the assumption: %+v", f)
		}
	}
	if f := got["cost per call"]; f.Contradicts || math.Abs(f.Measured-f.Assumed) > 1e-9 {
		t.Errorf("cost per call %+v: calls billed at the cached price must agree with the spec's prices", f)
	}
	w := newWorld(s)
	ms.apply(w)
	want := e.ExpectedCost(float64(40*1000+5000)/41, 0.8, 100, 0)
	if got := w.callCost(c, m, wholeBand); got != want {
		t.Errorf("cost per call %v, want %v: the measured cache hit prices the calls", got, want)
	}

	// Fewer calls than MinLatency are reported but do not replace the assumption.
	few := Measure(s, obs[:10])
	w = newWorld(s)
	few.apply(w)
	if _, ok := w.measuredCacheHit[[2]string{"x", "small"}]; ok {
		t.Error("10 calls replaced the cache hit; want at least MinLatency")
	}
}
