package review

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestMaxSteps: the most steps a request can take on a route, which decides whether the report
// shows escalations as a rate: a validated score route takes at most its longest start's
// steps, two with escalate: [strong] however many models it scores.
func TestMaxSteps(t *testing.T) {
	const base = `version: 1
name: steps
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  c: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
categories:
  - name: q
    share: 1
    tokens: {in: 100, out: 5}
    quality_bar: 0.5
    route: ROUTE
    assume: {pass_rate: {a: 0.6, b: 0.7, c: 0.9}}
`
	for _, tc := range []struct {
		route string
		want  int
	}{
		{"{score: {heuristic: {tiers: [0.3, 0.6]}, models: [a, b, c]}, validate: [{max_length: 100}]}", 3},
		{"{score: {heuristic: {tiers: [0.3, 0.6]}, models: [a, b, c], escalate: [c]}, validate: [{max_length: 100}]}", 2},
		{"{score: {heuristic: {tiers: [0.3, 0.6]}, models: [a, b, c]}}", 1},
		{"{cascade: [a, b, c], validate: [{max_length: 100}]}", 3},
	} {
		s, err := spec.Parse([]byte(strings.Replace(base, "ROUTE", tc.route, 1)), "steps.yaml", spec.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.route, err)
		}
		if got := maxSteps(s.Categories[0].Route, s); got != tc.want {
			t.Errorf("%s: %d steps, want %d", tc.route, got, tc.want)
		}
	}
}
