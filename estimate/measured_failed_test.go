package estimate

import (
	"strings"
	"testing"
)

// TestMeasuredPassRateSaysFailedCallsAreLeftOut: a pass-rate finding of a model with failed
// calls (retries included) says it is over the answered calls and that the failed ones count
// toward availability, so that it can be reconciled with replay's quality, which counts a
// failed call as a failed item; a model without failed calls says nothing of them.
func TestMeasuredPassRateSaysFailedCallsAreLeftOut(t *testing.T) {
	s := parse(t, `version: 1
name: failed
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
  big: {provider: sim, model: gpt-4.1, latency: {p50: 500ms, p95: 1s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.5, big: 0.5}}}
`)
	yes, no := true, false
	obs := []Observation{
		{Category: "x", Model: "small", Pass: &yes},
		{Category: "x", Model: "small", Pass: &no, Retries: 1},
		{Category: "x", Model: "small", Failed: true},
		{Category: "x", Model: "big", Pass: &yes},
	}
	notes := map[string]string{}
	for _, f := range Measure(s, obs).Findings(s) {
		if f.What == "pass rate" {
			notes[f.Model] = f.Note
		}
	}
	if !strings.Contains(notes["small"], "over answered calls; 2 failed calls count toward availability") {
		t.Errorf("small's pass-rate note %q: want it to say the rate is over answered calls and the 2 failed ones count toward availability", notes["small"])
	}
	if strings.Contains(notes["big"], "failed") {
		t.Errorf("big's pass-rate note %q: want nothing of failed calls", notes["big"])
	}
}
