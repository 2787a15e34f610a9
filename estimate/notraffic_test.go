package estimate

import (
	"context"
	"strings"
	"testing"
)

// noTraffic has a category, classify, with share 0: it receives no traffic. Only small meets
// its 1s latency budget (big's p95 is 2s); draft, all the traffic, clears its bar on big
// alone.
const noTraffic = `version: 1
name: zero
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4.1-nano, latency: {p50: 300ms, p95: 900ms}, availability: 1}
  big: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: classify
    share: 0
    tokens: {in: 400, out: 20}
    quality_bar: 0.9
    latency_budget: 1s
    failure_impact: {bad_answer: 1}
    route: {model: small}
    assume:
      pass_rate: {small: 0.95, big: 0.97}
  - name: draft
    share: 1
    tokens: {in: 1000, out: 200}
    quality_bar: 0.9
    failure_impact: {bad_answer: 1}
    route: {model: big}
    assume:
      pass_rate: {small: 0.8, big: 0.95}
`

// TestCategoryWithoutTrafficDecidesNothing: a category with no traffic keeps its row, which
// says whether it clears, but does not keep a policy from clearing nor name a miss.
func TestCategoryWithoutTrafficDecidesNothing(t *testing.T) {
	r, err := Run(context.Background(), parse(t, noTraffic), Options{Today: testDay, Samples: 4000})
	if err != nil {
		t.Fatal(err)
	}
	p := r.policy("all-big")
	if p == nil {
		t.Fatal("no all-big policy")
	}
	if !p.Clears || len(p.Shortfalls) > 0 || p.Shortfall != 0 {
		t.Errorf("all-big: clears %v, shortfalls %q (%g); want it to clear: classify has no traffic", p.Clears, p.Shortfalls, p.Shortfall)
	}
	if len(p.Categories) != 2 || p.Categories[0].Category != "classify" || p.Categories[0].MeetsBudget {
		t.Errorf("all-big's rows %+v: want classify's shown, over its budget", p.Categories)
	}
	for _, c := range r.Policies {
		for _, s := range c.Shortfalls {
			if strings.HasPrefix(s, "classify ") {
				t.Errorf("%s misses %q, of a category with no traffic", c.Name, s)
			}
		}
	}
}

// TestPipelineWithoutTrafficDecidesNothing: a pipeline with share 0 takes no request, so its
// latency budget keeps no policy from clearing.
func TestPipelineWithoutTrafficDecidesNothing(t *testing.T) {
	src := strings.NewReplacer("share: 0.2", "share: 1", "share: 0.8", "share: 0").Replace(withPipelineBudget("5s"))
	r := runPipelines(t, src, Options{Samples: 20_000})
	a := r.policy("all-a")
	if a == nil || !a.Clears || len(a.Shortfalls) > 0 {
		t.Fatalf("all-a: %+v; want it to clear: the pipeline whose budget it misses takes no request", a)
	}
	if r.Recommended != "all-a" && r.policy(r.Recommended).Total.Cost > a.Total.Cost {
		t.Errorf("recommended %s, want all-a, the cheapest", r.Recommended)
	}
}
