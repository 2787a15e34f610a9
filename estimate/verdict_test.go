package estimate

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
)

// longContextSpec has one category whose long prompts (p95 250k tokens) are too long for
// strong's 128k context window (19% of them), not for long's 1M: all-strong costs less per
// request only because it fails those requests, at no cost, while long is cheaper per token.
const longContextSpec = `version: 1
name: long-context
volume: {per_month: 1000000}
retry: {attempts: 0}
providers: {sim: {type: simulated}}
models:
  long:   {provider: sim, model: long-x, price: {input: 1.25, output: 10}, context_window: 1000000, latency: {p50: 3s, p95: 8s}, availability: 1}
  strong: {provider: sim, model: strong-x, price: {input: 2, output: 8}, context_window: 128000, latency: {p50: 3s, p95: 8s}, availability: 1}
categories:
  - name: answer-long
    share: 1
    tokens: {in: {p50: 60000, p95: 250000}, out: 600}
    quality_bar: 0.70
    latency_budget: 40s
    failure_impact: {bad_answer: 3}
    route: {cascade: [long, strong], validate: [{max_length: 8000}]}
    assume: {pass_rate: {long: 0.91, strong: 0.93}, validator: {detect: 0.6, false_alarm: 0.04}}
`

// TestFailuresAreNoSaving: a policy that fails requests, which cost nothing, is not
// recommended for being cheaper, and the tables show the share of requests each policy fails.
// Models are ranked by what a call costs at their prices, so cheapest-passing starts on long.
func TestFailuresAreNoSaving(t *testing.T) {
	r, text := runText(t, longContextSpec, Options{Samples: 20_000})
	strong := r.policy("all-strong")
	if !strong.Clears || strong.Total.PFailed < 0.18 || strong.Total.PFailed > 0.2 {
		t.Fatalf("fixture: all-strong clears %v, fails %.3f; want it to clear, failing 19%%", strong.Clears, strong.Total.PFailed)
	}
	if r.Recommended == "all-strong" {
		t.Errorf("recommended all-strong, which is cheapest only because it fails 19%% of requests:\n%s", text)
	}
	if strong.Total.ServedCost <= r.policy("all-long").Total.ServedCost {
		t.Errorf("all-strong's cost per answered request %v is not above all-long's %v", strong.Total.ServedCost, r.policy("all-long").Total.ServedCost)
	}
	if got := r.policy("cheapest-passing").Categories[0].Route; got != "long" {
		t.Errorf("cheapest-passing routes to %q; want long, the cheaper per call", got)
	}
	if !regexp.MustCompile(`(?m)^ +POLICY .* QUALITY +FAILED `).MatchString(text) || !regexp.MustCompile(`(?m)^  all-strong .* 19\.\d\d% `).MatchString(text) {
		t.Errorf("the policy table shows no FAILED share of 19%% for all-strong:\n%s", text)
	}
	for _, v := range r.Verdicts {
		if v.Policy == "all-strong" && !strings.Contains(v.Reason, "fails 19.") {
			t.Errorf("all-strong's verdict does not say it fails 19%% of requests: %s", v.Reason)
		}
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| Quality | Failed |") || !regexp.MustCompile(`\| all-strong \|[^\n]*\| 19\.\d\d% \|`).MatchString(md.String()) {
		t.Errorf("the Markdown tables show no failed share:\n%s", md.String())
	}
}

// budgetSpec routes one category to mid, whose p95 is its 2s budget exactly; ROUTE varies.
const budgetSpec = `version: 1
name: budget
retry: {attempts: 0}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-x, price: {input: 0.1, output: 0.4}, latency: {p50: 300ms, p95: 800ms}, availability: 1}
  mid:    {provider: sim, model: mid-x, price: {input: 0.4, output: 1.6}, latency: {p50: 800ms, p95: 2s}, availability: 1}
  strong: {provider: sim, model: strong-x, price: {input: 3, output: 15}, latency: {p50: 2s, p95: 6s}, availability: 1}
categories:
  - name: intent
    share: 1
    tokens: {in: 500, out: 20}
    quality_bar: 0.95
    latency_budget: 2s
    failure_impact: {bad_answer: 0.1}
    route: ROUTE
    assume: {pass_rate: {small: 0.9, mid: 0.97, strong: 0.98}}
`

// TestBudgetVerdictDoesNotTurnOnTheSeed: a p95 equal to its budget meets it whatever the
// seed: exactly, from the closed form, for one always-available model; within the
// simulation's error otherwise (here a split of two identical arms, which the closed form
// does not give quantiles for), with a note saying so.
func TestBudgetVerdictDoesNotTurnOnTheSeed(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		r, _ := runText(t, strings.Replace(budgetSpec, "ROUTE", "{model: mid}", 1), Options{Seed: seed, Samples: 50_000})
		if c := r.policy("spec").Categories[0]; !c.MeetsBudget || c.Latency.P95 != 2.0000000000000004 && math.Abs(c.Latency.P95-2) > 1e-9 {
			t.Errorf("seed %d: mid's p95 %v meets its 2s budget: %v", seed, c.Latency.P95, c.MeetsBudget)
		}
		if r.Recommended != "spec" && r.Recommended != "all-mid" {
			t.Errorf("seed %d: recommended %s, not mid", seed, r.Recommended)
		}
		r, text := runText(t, strings.Replace(budgetSpec, "ROUTE", "{split: [{weight: 0.5, model: mid}, {weight: 0.5, model: mid}]}", 1), Options{Seed: seed, Samples: 50_000})
		c := r.policy("spec").Categories[0]
		if !c.MeetsBudget {
			t.Errorf("seed %d: simulated p95 %v of a 2s p95 misses the 2s budget", seed, c.Latency.P95)
		}
		if c.Latency.P95 > 2 && !strings.Contains(text, "intent, split 50% mid | 50% mid: simulated p95") {
			t.Errorf("seed %d: no note says the p95 %v meets the budget within the simulation's error:\n%s", seed, c.Latency.P95, text)
		}
	}
}

// TestCheapestPassingComesClosestByTheLeastMiss: when no single model clears, cheapest-passing
// takes the one that misses by the least relative to what the bar and budget allow (mid,
// 3% over its budget), not the best quality (strong, 3× over it), and the report says so.
func TestCheapestPassingComesClosestByTheLeastMiss(t *testing.T) {
	src := strings.Replace(budgetSpec, "ROUTE", "{model: mid}", 1)
	src = strings.Replace(src, "latency: {p50: 800ms, p95: 2s}", "latency: {p50: 800ms, p95: 2.06s}", 1)
	r, text := runText(t, src, Options{})
	if got := r.policy("cheapest-passing").Categories[0].Route; got != "mid" {
		t.Errorf("cheapest-passing routes to %s; want mid, 3%% over the budget, against strong 200%% over it", got)
	}
	if !regexp.MustCompile(`cheapest-passing, intent: no single model clears the bar and budget; mid comes closest: p95 2\.06s is over its budget 2s by (59|60)ms \(3%\)`).MatchString(text) {
		t.Errorf("the report does not explain cheapest-passing's pick:\n%s", text)
	}
}

// TestClosestMissesLeastRelativeToWhatIsAllowed: when no policy clears, one that misses a
// latency budget by 37% (but every quality bar) is closer than one that fails twice as many
// requests as its bars allow: points of quality and percent of latency are not added up.
func TestClosestMissesLeastRelativeToWhatIsAllowed(t *testing.T) {
	r, text := runText(t, `version: 1
name: closest
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-x, price: {input: 0.1, output: 0.4}, latency: {p50: 300ms, p95: 800ms}, availability: 1}
  strong: {provider: sim, model: strong-x, price: {input: 3, output: 15}, latency: {p50: 2s, p95: 6s}, availability: 1}
categories:
  - name: a
    share: 0.6
    tokens: {in: 500, out: 20}
    quality_bar: 0.95
    latency_budget: 2s
    failure_impact: {bad_answer: 0.1}
    route: {cascade: [small, strong], validate: [{max_length: 100}]}
    assume: {pass_rate: {small: 0.9, strong: 0.98}, validator: {detect: 0.8, false_alarm: 0.05}}
  - name: b
    share: 0.4
    tokens: {in: 1500, out: 250}
    quality_bar: 0.90
    latency_budget: 8s
    failure_impact: {bad_answer: 0.4}
    route: {model: strong}
    assume: {pass_rate: {small: 0.8, strong: 0.96}}
`, Options{Samples: 40_000})
	if r.Recommended != "spec" {
		t.Errorf("recommended %s as closest; want spec, which misses a's latency budget only:\n%s", r.Recommended, text)
	}
	if small := r.policy("all-small"); math.Abs(small.Shortfall-100) > 1e-6 {
		t.Errorf("all-small's shortfall %v, want 100: twice the failure rate both bars allow", small.Shortfall)
	}
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "Closest is the smallest shortfall relative to what each category allows") {
		t.Errorf("the recommendation does not say what closest means:\n%s", text)
	}
}

// TestOptimiseFirstCountsRisk: a cheaper route that adds more risk than it saves in cost is
// not suggested, and the report says why; a suggested route is rated by its own validation.
func TestOptimiseFirstCountsRisk(t *testing.T) {
	r, _ := runText(t, cascade(t, "IMPACT", "2", "BAR", "0.9"), Options{})
	o := r.OptimiseFirst[0]
	// nano alone (90%, unvalidated) is cheaper than the cascade, which escalates to mini, but
	// bad answers at $2 each cost far more than the saving.
	if o.Better != "" || !strings.Contains(o.Reason, "would save") || !strings.Contains(o.Reason, "in risk") {
		t.Errorf("suggested %q (%s); want no suggestion, with the risk it would add", o.Better, o.Reason)
	}
	// With bad answers nearly free, nano alone saves money net of risk: it is suggested, rated by
	// its own validation (none), not the cascade's.
	r, _ = runText(t, cascade(t, "IMPACT", "0.00001", "BAR", "0.9"), Options{})
	o = r.OptimiseFirst[0]
	if o.Better != "nano" || o.NetSaving <= 0 || o.Validation != "none" || o.ValidationWeight != 0.25 {
		t.Errorf("suggested %q, net saving %v, validation %q (%v); want nano, a positive net saving, rated as unvalidated", o.Better, o.NetSaving, o.Validation, o.ValidationWeight)
	}
	if want := o.MonthlySaving - o.RiskChange; math.Abs(float64(o.NetSaving-want)) > 0.01 {
		t.Errorf("net saving %v, want saving %v minus risk change %v", o.NetSaving, o.MonthlySaving, o.RiskChange)
	}
}

// TestRetryIndependenceIsStated: a route that clears its bar only because the estimate counts
// a retry_once retry as an independent answer says so, with the quality if the retry repeated
// the first answer.
func TestRetryIndependenceIsStated(t *testing.T) {
	r, _ := runText(t, cascade(t, "ROUTE", "{cascade: [nano], validate: [{required_fields: [id]}], on_fail: retry_once}", "BAR", "0.93"), Options{})
	if r.Recommended != "spec" {
		t.Fatalf("fixture: recommended %s, want the spec's retrying route", r.Recommended)
	}
	if !strings.Contains(r.Recommendation, "counts a retry_once retry as a new answer") || !strings.Contains(r.Recommendation, "extract (90.00%, against its bar 93.00%") {
		t.Errorf("the recommendation does not state the retry's independence and the quality without it: %s", r.Recommendation)
	}
	// A bar it clears without the retry needs no such note.
	r, _ = runText(t, cascade(t, "ROUTE", "{cascade: [nano], validate: [{required_fields: [id]}], on_fail: retry_once}", "BAR", "0.85"), Options{})
	if strings.Contains(r.Recommendation, "retry_once") {
		t.Errorf("a note on retries where the bar clears without them: %s", r.Recommendation)
	}
}

// TestAssumedTTFBIsMarked: a time to first byte that rests on the 25% share assumed for models
// without a ttft figure is marked, with a footnote naming them; one derived from a ttft
// figure, or a validated step's whole answer, is not. Latency samples (the samples form, or
// latencies measured under --measured) have no time to first byte either, so theirs is marked.
func TestAssumedTTFBIsMarked(t *testing.T) {
	r, text := runText(t, cascade(t, "ROUTE", "{model: mini}"), Options{})
	if c := r.policy("spec").Categories[0]; len(c.TTFBAssumed) != 1 || c.TTFBAssumed[0] != "mini" {
		t.Errorf("TTFB assumed for %v, want [mini]", c.TTFBAssumed)
	}
	if !regexp.MustCompile(`(?m)^  extract .* 10\.0s +(\d+ms|\d+\.\d+s)\* `).MatchString(text) || !strings.Contains(text, "* time to first byte assumed to be 25% of the response time for models without a ttft figure (mini)") {
		t.Errorf("the TTFB figure is not marked as assumed:\n%s", text)
	}
	r, text = runText(t, cascade(t), Options{})
	if c := r.policy("spec").Categories[0]; len(c.TTFBAssumed) != 0 || strings.Contains(text, "time to first byte assumed") {
		t.Errorf("a validated cascade's TTFB, its whole answer, is marked as assumed for %v:\n%s", c.TTFBAssumed, text)
	}
}

// TestFailuresAreNoSavingInRiskOrOpportunities: without failure_impact, failed requests carry
// no risk; neither the risk-adjusted comparison nor "which route to optimise first" may then
// count them as a saving, as policies that clear are compared by their served cost.
func TestFailuresAreNoSavingInRiskOrOpportunities(t *testing.T) {
	src := strings.Replace(longContextSpec, "    failure_impact: {bad_answer: 3}\n", "", 1)
	r, text := runText(t, src, Options{Samples: 20_000})
	if r.RiskAdjusted == "all-strong" || strings.Contains(text, "all-strong is cheaper overall") {
		t.Errorf("all-strong, cheaper only because it fails 19%% of requests, is called cheaper overall:\n%s", text)
	}
	for _, o := range r.OptimiseFirst {
		if o.Better == "strong" {
			t.Errorf("optimise first suggests strong, which fails 19%% of requests: %+v\n%s", o, text)
		}
	}
}
