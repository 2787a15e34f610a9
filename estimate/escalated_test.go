package estimate

import (
	"math"
	"math/rand/v2"
	"testing"
)

const escalatedSpec = `version: 1
name: escalated
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {cascade: [a, b], validate: [{max_length: 100}]}
    assume:
      pass_rate: {a: 0.8, b: 0.95}
      escalated_pass_rate: {b: 0.6}
      validator: {detect: 0.9, false_alarm: 0.05}
`

// TestEscalatedPassRate: a request escalated by a flag is answered at the later model's
// escalated pass rate, not its pass rate over all requests, in the closed form and the
// simulation; a move of the model's pass rate moves its escalated failure rate in proportion.
func TestEscalatedPassRate(t *testing.T) {
	s := parse(t, escalatedSpec)
	c := s.Categories[0]
	w := newWorld(s)
	plan := w.compile(c, c.Route, nil)
	o := plan.closed()
	// a's answer good and accepted, else flagged (bad and caught, or good and flagged) and
	// answered by b at 0.6: 0.8·0.95 + (0.2·0.9 + 0.8·0.05)·0.6.
	want := 0.8*0.95 + (0.2*0.9+0.8*0.05)*0.6
	if math.Abs(o.quality-want) > 1e-12 {
		t.Errorf("quality %.6f, want %.6f (with b at its pass rate 0.95 it would be %.6f)", o.quality, want, 0.8*0.95+(0.2*0.9+0.8*0.05)*0.95)
	}
	const n = 200_000
	sim := plan.simulate(n, rand.New(rand.NewPCG(5, 6)))
	se := math.Sqrt(want * (1 - want) / n)
	within(t, "P(good)", sim.good/n, want, se, 4.5)

	// b's pass rate moves from 0.95 to 0.9: its failure rate doubles, and so does its
	// escalated failure rate, 0.4 → 0.8.
	w.passRate = withKey(w.passRate, [2]string{"x", "b"}, 0.9)
	if got := w.passEscalated(c, s.Model("b")); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("escalated pass rate after b's pass rate moved to 0.9: %v, want 0.2", got)
	}
	if got := w.passEscalated(c, s.Model("a")); got != 0.8 {
		t.Errorf("a model without an escalated pass rate answers escalated requests at its pass rate: %v, want 0.8", got)
	}
}
