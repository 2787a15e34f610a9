package estimate

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// poolSpec has three models in one category, all with a ttft figure, and tokens the
// measurements below contradict.
const poolSpec = `version: 1
name: pool
providers: {sim: {type: simulated}}
models:
  nano: {provider: sim, model: gpt-4.1-nano, latency: {ttft: {p50: 250ms, p95: 700ms}, tokens_per_second: 150}, availability: 1}
  mini: {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 400ms, p95: 1.1s}, tokens_per_second: 90}, availability: 1}
  strong: {provider: sim, model: claude-sonnet-4-5, latency: {ttft: {p50: 900ms, p95: 2.5s}, tokens_per_second: 60}, availability: 1}
categories:
  - name: draft
    share: 1
    tokens: {in: 1000, out: 200}
    quality_bar: 0.5
    route: {split: [{weight: 0.5, model: mini}, {weight: 0.5, model: strong}]}
    assume:
      pass_rate: {nano: 0.9, mini: 0.9, strong: 0.9}
`

// poolObs are 40 calls of each model with 15 or 16 prompt tokens (the spec assumes 1000).
func poolObs(simulated bool) []Observation {
	var obs []Observation
	for i := range 40 {
		for _, m := range []string{"nano", "mini", "strong"} {
			pass := i%10 != 0
			obs = append(obs, Observation{Category: "draft", Model: m, Pass: &pass, LatencyMS: 1500 + float64(i), TokensIn: 15 + i%2, TokensOut: 200, Simulated: simulated})
		}
	}
	return obs
}

// TestMeasuredTokensOncePerCategory: tokens are the category's assumption, not a model's: a
// contradiction measured on three models' calls is one finding, over all their calls, counted
// and said what to write once.
func TestMeasuredTokensOncePerCategory(t *testing.T) {
	s := parse(t, poolSpec)
	var tokensIn []Finding
	writes := 0
	for _, f := range Measure(s, poolObs(false)).Findings(s) {
		if f.What == "tokens in" {
			tokensIn = append(tokensIn, f)
		}
		writes += strings.Count(f.Note, "write tokens.in")
	}
	if len(tokensIn) != 1 {
		t.Fatalf("%d tokens-in findings, want one for the category: %+v", len(tokensIn), tokensIn)
	}
	f := tokensIn[0]
	if f.N != 120 || !f.Contradicts || f.Model != "nano, mini, strong" || len(f.Models) != 3 {
		t.Errorf("finding %+v: want the category's, over 120 calls of three models, contradicting", f)
	}
	if writes != 1 || !strings.Contains(f.Note, "write tokens.in: ") || !strings.Contains(f.Note, "in category draft") {
		t.Errorf("%d notes say to write tokens.in; want one: %q", writes, f.Note)
	}
	sum := &MeasuredSummary{From: "m.jsonl", Findings: Measure(s, poolObs(false)).Findings(s)}
	lines := strings.Join(sum.ContradictionLines(), "\n")
	if strings.Count(lines, "tokens in") != 1 || !strings.Contains(lines, "category draft's tokens in (over the calls of nano, mini, strong)") {
		t.Errorf("contradiction lines:\n%s", lines)
	}
}

// TestMeasuredSimulatedTestsNothing: calls of simulated providers are drawn from the spec's
// own assumptions: their findings are shown, test nothing, replace nothing and say nothing to
// write, and the measurements say how many rows they are.
func TestMeasuredSimulatedTestsNothing(t *testing.T) {
	s := parse(t, poolSpec)
	ms := Measure(s, poolObs(true))
	for _, f := range ms.Findings(s) {
		if f.Contradicts || f.Used || !f.Untested || strings.Contains(f.Note, "write ") || !strings.Contains(f.Note, "from simulated providers") {
			t.Errorf("%s %s: %+v; want it shown, untested, unused, saying it is simulated", f.Model, f.What, f)
		}
	}
	if note := ms.SimulatedNote("sim.jsonl"); !strings.HasPrefix(note, "120 of the 120 rows of sim.jsonl come from simulated providers") {
		t.Errorf("note %q", note)
	}
	r, err := Run(context.Background(), s, Options{Samples: 20000, Seed: 1, Measured: ms, MeasuredFrom: "sim.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Measured.Contradictions != 0 {
		t.Errorf("%d contradictions counted from simulated calls", r.Measured.Contradictions)
	}
}

// TestTTFBFootnoteSaysMeasuredLatencies: models whose latency the estimate takes from
// measurements, which record no time to first byte, have it assumed at 25% of the response
// time whatever ttft figure the spec gives them; the footnote says why, not that they have no
// ttft figure.
func TestTTFBFootnoteSaysMeasuredLatencies(t *testing.T) {
	s := parse(t, poolSpec)
	r, err := Run(context.Background(), s, Options{Samples: 20000, Seed: 1, Measured: Measure(s, poolObs(false)), MeasuredFrom: "m.jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, r, "table"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "for models without a ttft figure") {
		t.Errorf("the footnote says models with a ttft figure have none:\n%s", out)
	}
	if !strings.Contains(out, "measured latencies record no time to first byte, so it is assumed to be 25% of the response time") {
		t.Errorf("the footnote does not say the measured latencies record no time to first byte:\n%s", out)
	}
	if got := ttfbFootnote([]string{"a"}, "b"); got != "* time to first byte assumed to be 25% of the response time for models without a ttft figure (a), and for measured latencies, which record no time to first byte (b)" {
		t.Errorf("both kinds: %q", got)
	}
}
