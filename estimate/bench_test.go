package estimate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// benchSpec builds a spec with n categories over five models, mixing static routes, cascades
// with validation and retry_once, fallbacks and token distributions: the shape of a large
// production spec.
func benchSpec(tb testing.TB, n int) *spec.Spec {
	var b strings.Builder
	b.WriteString(`version: 1
name: bench
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 50000000}
providers: {sim: {type: simulated}}
models:
  nano:   {provider: sim, model: gpt-4.1-nano, latency: {ttft: {p50: 250ms, p95: 700ms}, tokens_per_second: 150}, availability: 0.998}
  mini:   {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 400ms, p95: 1.1s}, tokens_per_second: 90}, availability: 0.998}
  flash:  {provider: sim, model: gemini-2.5-flash, catalog: gemini/gemini-2.5-flash, latency: {p50: 900ms, p95: 3s}, availability: 0.997}
  gpt41:  {provider: sim, model: gpt-4.1, latency: {p50: 1.4s, p95: 4.5s}, availability: 0.996}
  strong: {provider: sim, model: claude-sonnet-4-5, latency: {ttft: {p50: 900ms, p95: 2.5s}, tokens_per_second: 60}, availability: 0.995}
categories:
`)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		share := 1.0 / float64(n)
		if i == n-1 {
			share = 1 - share*float64(n-1)
		}
		fmt.Fprintf(&b, "  - name: c%02d\n    share: %.17g\n", i, share)
		fmt.Fprintf(&b, "    tokens: {in: {p50: %d, p95: %d}, out: %d}\n", 200+r.IntN(2000), 4000+r.IntN(8000), 20+r.IntN(500))
		fmt.Fprintf(&b, "    quality_bar: %.2f\n    latency_budget: %ds\n", 0.8+r.Float64()*0.15, 3+r.IntN(10))
		fmt.Fprintf(&b, "    failure_impact: {bad_answer: %.2f}\n", r.Float64()*2)
		switch i % 3 {
		case 0:
			b.WriteString("    route: {cascade: [nano, mini, strong], validate: [{max_length: 2000}], on_fail: retry_once}\n")
		case 1:
			b.WriteString("    route: {cascade: [flash, gpt41], validate: [{json_schema: request}]}\n")
		default:
			b.WriteString("    route: {model: mini}\n")
		}
		b.WriteString("    fallback: [gpt41]\n")
		q := 0.7 + r.Float64()*0.15
		fmt.Fprintf(&b, "    assume:\n      pass_rate: {nano: %.3f, mini: %.3f, flash: %.3f, gpt41: %.3f, strong: %.3f}\n", q, q+0.04, q+0.06, q+0.1, q+0.13)
		b.WriteString("      validator: {detect: 0.85, false_alarm: 0.03}\n")
	}
	s, err := spec.Parse([]byte(b.String()), "bench.yaml", spec.Options{Today: testDay})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkEstimate20Categories is the target: a 20-category spec with 1,000,000
// Monte Carlo samples per policy, every policy (the spec's, five single-model policies,
// cheapest-passing, cascade-by-price) estimated, in under a second on two cores.
func BenchmarkEstimate20Categories(b *testing.B) {
	s := benchSpec(b, 20)
	b.ReportAllocs()
	var policies int
	for b.Loop() {
		r, err := Run(context.Background(), s, Options{Samples: 1_000_000, Today: testDay})
		if err != nil {
			b.Fatal(err)
		}
		policies = len(r.Policies)
	}
	b.ReportMetric(float64(policies), "policies")
}

// BenchmarkBaselineSort1M is a reference workload for the same machine: drawing 1,000,000
// lognormal latencies and sorting them, the naive way to get one policy's quantiles. The
// estimate's cost is reported as a multiple of it in docs/benchmarks.md.
func BenchmarkBaselineSort1M(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		l := fitLognormal(0.8, 3)
		for i := range xs {
			xs[i] = l.Sample(r)
		}
		slices.Sort(xs)
	}
}

// BenchmarkClosedForm measures one route's exact evaluation.
func BenchmarkClosedForm(b *testing.B) {
	s := benchSpec(b, 3)
	c := s.Categories[0]
	plan := newWorld(s).compile(c, c.Route, c.Fallback)
	b.ReportAllocs()
	for b.Loop() {
		_ = plan.closed()
	}
}

// BenchmarkSimulatePerRequest measures the cost of one simulated request through a
// three-step cascade with retries and failover.
func BenchmarkSimulatePerRequest(b *testing.B) {
	s := benchSpec(b, 3)
	c := s.Categories[0]
	plan := newWorld(s).compile(c, c.Route, c.Fallback)
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	plan.simulate(b.N, r)
}

// pipelineBenchSpec is one pipeline of four categories, each served by any of four models
// that all clear it; budget is the pipeline's latency budget ("" for none).
func pipelineBenchSpec(tb testing.TB, budget string) *spec.Spec {
	var b strings.Builder
	b.WriteString(`version: 1
name: pipeline-bench
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000000}
providers: {sim: {type: simulated}}
models:
  nano:   {provider: sim, model: gpt-4.1-nano, latency: {p50: 3s, p95: 6s}, availability: 0.998}
  mini:   {provider: sim, model: gpt-4.1-mini, latency: {p50: 2s, p95: 4s}, availability: 0.998}
  gpt41:  {provider: sim, model: gpt-4.1, latency: {p50: 1.4s, p95: 3s}, availability: 0.996}
  strong: {provider: sim, model: claude-sonnet-4-5, latency: {p50: 1s, p95: 2s}, availability: 0.995}
categories:
`)
	for i := range 4 {
		fmt.Fprintf(&b, "  - name: s%d\n    tokens: {in: %d, out: 200}\n    quality_bar: 0.5\n    failure_impact: {bad_answer: 0.1}\n", i, 500+400*i)
		b.WriteString("    route: {model: nano}\n    assume: {pass_rate: {nano: 0.8, mini: 0.85, gpt41: 0.9, strong: 0.95}}\n")
	}
	b.WriteString("pipelines:\n  - {name: p, share: 1, steps: [s0, s1, s2, s3]")
	if budget != "" {
		b.WriteString(", latency_budget: " + budget)
	}
	b.WriteString("}\n")
	s, err := spec.Parse([]byte(b.String()), "pipeline-bench.yaml", spec.Options{Today: testDay})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkPipelineFit measures what fitting cheapest-passing to a pipeline's budget adds to
// an estimate, at its worst: a budget (1s) no choice meets, so that all 4^4 = 256 choices are
// tried; "none" is the same spec without a budget, which fits nothing, and "met" one (9s)
// that the cheapest choices after a few moves meet.
func BenchmarkPipelineFit(b *testing.B) {
	for _, tc := range []struct{ name, budget string }{{"none", ""}, {"met", "9s"}, {"unmet", "1s"}} {
		b.Run(tc.name, func(b *testing.B) {
			s := pipelineBenchSpec(b, tc.budget)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Run(context.Background(), s, Options{Today: testDay}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
