package estimate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/spec"
)

var update = flag.Bool("update", false, "rewrite golden files")

var testDay = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func load(t testing.TB, file string) *spec.Spec {
	t.Helper()
	s, err := spec.Load(file, spec.Options{Today: testDay})
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return s
}

func parse(t testing.TB, src string) *spec.Spec {
	t.Helper()
	s, err := spec.Parse([]byte(src), "inline.yaml", spec.Options{Today: testDay})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

// within fails unless got is within k standard errors of want.
func within(t *testing.T, what string, got, want, se, k float64) {
	t.Helper()
	if math.Abs(got-want) > k*se+1e-12 {
		t.Errorf("%s: simulated %.6g, closed form %.6g: off by %.1f standard errors (se %.3g)", what, got, want, math.Abs(got-want)/se, se)
	}
}

// TestClosedFormMatchesSimulation evaluates every route of a spec built to exercise every
// branch of the routing process (retries, failover, provider-failure escalation, retry_once,
// judges, on_exhausted: fail, splits) both ways. The closed form and the simulation are
// independent implementations of the same process; they must agree within sampling error.
func TestClosedFormMatchesSimulation(t *testing.T) {
	s := load(t, "testdata/paths.yaml")
	w := newWorld(s)
	const n = 200_000
	for _, c := range s.Categories {
		t.Run(c.Name, func(t *testing.T) {
			plan := w.compile(c, c.Route, c.Fallback)
			o := plan.closed()
			sim := plan.simulate(n, rand.New(rand.NewPCG(7, 11)))
			prop := func(what string, count, want float64) {
				p := count / n
				se := math.Sqrt(math.Max(want*(1-want), 1e-9) / n)
				within(t, what, p, want, se, 4.5)
			}
			prop("P(good)", sim.good, o.good)
			prop("P(bad)", sim.bad, o.bad)
			prop("P(failed)", sim.failed, o.failed)
			prop("P(flagged)", sim.flagged, o.flagged)
			prop("P(escalated)", sim.escalated, o.escalated)
			prop("P(fell back)", sim.fellBack, o.fellBack)
			if math.Abs(o.good+o.bad+o.failed-1) > 1e-9 {
				t.Errorf("outcomes do not sum to 1: good %v bad %v failed %v", o.good, o.bad, o.failed)
			}
			mean := func(what string, sum, sumSq, want float64) {
				m := sum / n
				v := sumSq/n - m*m
				within(t, what, m, want, math.Sqrt(v/n), 4.5)
			}
			mean("cost", sim.cost, sim.costSq, o.cost)
			// Failed requests are rare: where the sample holds a few, or none, the error is at
			// least the closed form's cost per failed request over √(expected failures).
			mf := sim.costFailed / n
			se := math.Sqrt(math.Max(0, sim.costFailedSq/n-mf*mf) / n)
			if o.failed > 0 {
				se = math.Max(se, o.costFailed/o.failed/math.Sqrt(math.Max(1, o.failed*n)))
			}
			within(t, "cost paid by failed requests", mf, o.costFailed, se, 4.5)
			mean("latency", sim.hist.sum, sim.latSq, o.latency)
			within(t, "retries", sim.retries/n, o.retries, math.Sqrt(math.Max(o.retries, 1e-6)/n)*2, 4.5)
			if o.failed < 1e-3 || o.escalated < 1e-3 && c.Name != "static" {
				t.Logf("note: failed %.4f escalated %.4f", o.failed, o.escalated)
			}
		})
	}
}

// TestPerfectValidatorIsBetterOfTwo: a cascade whose validator catches every bad answer and
// flags no good one, with providers that never fail, delivers a good answer whenever either
// model would, and pays for the strong model exactly when the cheap one fails.
func TestPerfectValidatorIsBetterOfTwo(t *testing.T) {
	for _, q := range [][2]float64{{0.6, 0.9}, {0.93, 0.99}, {0.5, 0.5}, {0, 1}} {
		src := strings.NewReplacer("Q1", ftoa(q[0]), "Q2", ftoa(q[1])).Replace(`version: 1
name: perfect
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
    assume: {pass_rate: {a: Q1, b: Q2}, validator: {detect: 1, false_alarm: 0}}
`)
		s := parse(t, src)
		c := s.Categories[0]
		w := newWorld(s)
		o := w.compile(c, c.Route, nil).closed()
		wantQ := 1 - (1-q[0])*(1-q[1])
		if math.Abs(o.quality-wantQ) > 1e-12 {
			t.Errorf("q=%v: quality %.15g, want better-of-two %.15g", q, o.quality, wantQ)
		}
		ca, cb := float64(w.callCost(c, s.Model("a"), wholeBand)), float64(w.callCost(c, s.Model("b"), wholeBand))
		if want := ca + (1-q[0])*cb; math.Abs(o.cost-want) > 1e-6 {
			t.Errorf("q=%v: cost %.3f, want c1 + P(escalate)·c2 = %.3f", q, o.cost, want)
		}
		if math.Abs(o.escalated-(1-q[0])) > 1e-12 {
			t.Errorf("q=%v: escalation %v, want %v", q, o.escalated, 1-q[0])
		}
	}
}

// TestDesignFormulas checks the closed form against the formulas of the design document for a
// two-step cascade with an imperfect validator and reliable providers.
func TestDesignFormulas(t *testing.T) {
	s := parse(t, `version: 1
name: formulas
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
    assume: {pass_rate: {a: 0.9, b: 0.97}, validator: {detect: 0.8, false_alarm: 0.05}}
`)
	c := s.Categories[0]
	w := newWorld(s)
	o := w.compile(c, c.Route, nil).closed()
	q1, q2, d, f := 0.9, 0.97, 0.8, 0.05
	pEsc := q1*f + (1-q1)*d
	// The last step's flagged answers are delivered (on_exhausted: deliver), so quality counts
	// the strong model's answers whether or not they are flagged.
	wantQ := q1*(1-f) + pEsc*q2
	if math.Abs(o.escalated-pEsc) > 1e-12 || math.Abs(o.quality-wantQ) > 1e-12 {
		t.Errorf("P(escalate) %v want %v; quality %v want %v", o.escalated, pEsc, o.quality, wantQ)
	}
}

func ftoa(f float64) string { return strings.TrimRight(strings.TrimRight(fmtFloat(f), "0"), ".") }

func fmtFloat(f float64) string { b, _ := json.Marshal(f); return string(b) + ".0" }

// TestCostMonotoneInPrice: raising any one model's price never lowers any policy's cost.
func TestCostMonotoneInPrice(t *testing.T) {
	s := load(t, "testdata/paths.yaml")
	base := newWorld(s)
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range s.Models {
		for range 3 {
			k := 1 + r.Float64()*2
			up := base.clone()
			up.priceScale = with(nil, m.Name, k)
			for _, c := range s.Categories {
				before := base.compile(c, c.Route, c.Fallback).closed().cost
				after := up.compile(c, c.Route, c.Fallback).closed().cost
				if after < before-1e-9 {
					t.Errorf("price of %s ×%.2f lowered the cost of %s: %v → %v", m.Name, k, c.Name, before, after)
				}
			}
		}
	}
}

// TestZeroShareCategoryChangesNothing: adding a category with share 0 leaves every total and
// the recommendation unchanged.
func TestZeroShareCategoryChangesNothing(t *testing.T) {
	data, err := os.ReadFile("testdata/paths.yaml")
	if err != nil {
		t.Fatal(err)
	}
	extra := string(data) + `  - name: ghost
    share: 0
    tokens: {in: 100000, out: 5000}
    quality_bar: 0.99
    route: {model: strong}
    assume: {pass_rate: {cheap: 0.1, mid: 0.2, strong: 0.3}}
`
	opts := Options{Samples: 40_000, Seed: 5, Today: testDay}
	a, err := Run(context.Background(), load(t, "testdata/paths.yaml"), opts)
	if err != nil {
		t.Fatal(err)
	}
	// The ghost category gets its own samples, so keep the others' per-category count equal.
	opts.Samples = 50_000
	s2, err := spec.Parse([]byte(extra), "testdata/paths.yaml", spec.Options{Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), s2, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Recommended != b.Recommended {
		t.Errorf("recommendation changed: %s → %s", a.Recommended, b.Recommended)
	}
	for i, pa := range a.Policies {
		pb := b.Policies[i]
		if pa.Name != pb.Name || pa.Total.Cost != pb.Total.Cost || pa.Total.Quality != pb.Total.Quality || pa.Total.Latency != pb.Total.Latency {
			t.Errorf("%s totals changed:\n%+v\n%+v", pa.Name, pa.Total, pb.Total)
		}
	}
}

// TestDeterministic: the same seed gives byte-identical reports whatever the parallelism.
func TestDeterministic(t *testing.T) {
	s := load(t, "testdata/paths.yaml")
	var outs [][]byte
	for _, workers := range []int{1, 4} {
		r, err := Run(context.Background(), s, Options{Samples: 30_000, Seed: 9, Workers: workers, Today: testDay, Sensitivity: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteJSON(&buf, r); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, buf.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("reports differ between 1 and 4 workers")
	}
}

func TestLatencyQuantilesOfALognormal(t *testing.T) {
	// One always-available model with a lognormal latency: the simulated p50 and p95 must
	// recover the assumption within the histogram's resolution and sampling error.
	s := parse(t, `version: 1
name: lat
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 800ms, p95: 3s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, latency_budget: 2.5s, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
`)
	r, err := Run(context.Background(), s, Options{Samples: 400_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	lat := r.Policies[0].Categories[0].Latency
	if math.Abs(lat.P50-0.8)/0.8 > 0.01 || math.Abs(lat.P95-3)/3 > 0.02 {
		t.Errorf("p50 %.4f (want 0.8), p95 %.4f (want 3)", lat.P50, lat.P95)
	}
	if r.Policies[0].Categories[0].MeetsBudget {
		t.Error("p95 3s meets a 2.5s budget")
	}
	if r.Policies[0].Clears {
		t.Error("a policy over budget clears")
	}
}

func TestRecommendationAndVerdicts(t *testing.T) {
	r, err := Run(context.Background(), load(t, "../examples/quickstart.yaml"), Options{Samples: 60_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	best := r.policy(r.Recommended)
	if best == nil || !best.Clears {
		t.Fatalf("recommended %q does not clear", r.Recommended)
	}
	for _, p := range r.Policies {
		if p.Clears && p.SameAs == "" && p.Total.Cost < best.Total.Cost {
			t.Errorf("%s clears and is cheaper than the recommended %s", p.Name, best.Name)
		}
	}
	if len(r.Verdicts) != len(r.Policies)-1 {
		t.Errorf("%d verdicts for %d policies", len(r.Verdicts), len(r.Policies))
	}
	for _, v := range r.Verdicts {
		if v.Reason == "" {
			t.Errorf("no reason for %s", v.Policy)
		}
	}
	if len(r.OptimiseFirst) != len(r.Categories) {
		t.Errorf("optimise-first lists %d of %d categories", len(r.OptimiseFirst), len(r.Categories))
	}
}

// TestReportGoldens renders the paths fixture in every format and compares with golden files.
func TestReportGoldens(t *testing.T) {
	r, err := Run(context.Background(), load(t, "testdata/paths.yaml"), Options{Samples: 20_000, Seed: 3, Today: testDay, Sensitivity: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"table", "json", "csv", "markdown", "html"} {
		var buf bytes.Buffer
		if err := Write(&buf, r, f); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "paths."+f+".golden")
		if *update {
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./estimate -update)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s output differs from %s; run go test ./estimate -update and review the diff", f, golden)
		}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, forbidden := range []string{"<script", "http://", "https://", "<link"} {
		if strings.Contains(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), forbidden) {
			t.Errorf("HTML report is not self-contained: contains %q", forbidden)
		}
	}
	if strings.Count(html, "<svg") != 1+len(r.Categories) {
		t.Errorf("want one chart for the policies and one per category, got %d", strings.Count(html, "<svg"))
	}
}

// TestTTFBOfValidatedStreams: a validated step holds its answer until it passes, so a
// streaming client's first byte comes with the whole answer; an unvalidated one streams from
// the first token.
func TestTTFBOfValidatedStreams(t *testing.T) {
	s := parse(t, `version: 1
name: ttfb
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {ttft: {p50: 200ms, p95: 400ms}, tokens_per_second: 50}, availability: 1}
categories:
  - {name: plain, share: 0.5, tokens: {in: 10, out: 200}, quality_bar: 0.5, route: {model: a}, assume: {pass_rate: {a: 0.9}}}
  - {name: checked, share: 0.5, tokens: {in: 10, out: 200}, quality_bar: 0.5, route: {model: a, validate: [{max_length: 5000}]}, assume: {pass_rate: {a: 0.9}, validator: {detect: 0, false_alarm: 0}}}
`)
	r, err := Run(context.Background(), s, Options{Samples: 100_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	plain, checked := r.Policies[0].Categories[0], r.Policies[0].Categories[1]
	if math.Abs(plain.TTFB.P50-0.2)/0.2 > 0.02 {
		t.Errorf("unvalidated TTFB p50 %.3fs, want the model's 200ms time to first token", plain.TTFB.P50)
	}
	if math.Abs(checked.TTFB.P50-checked.Latency.P50) > 1e-9 || checked.TTFB.P50 < 4 {
		t.Errorf("validated TTFB p50 %.3fs, want the whole answer's %.3fs (200ms + 200 tokens at 50/s)", checked.TTFB.P50, checked.Latency.P50)
	}
}

// TestTTFBWaitsForReasoning: a reasoning model generates its reasoning tokens, which a client
// never sees, before the answer's first token, so a stream's first byte comes after the time to
// first token plus the reasoning tokens' time.
func TestTTFBWaitsForReasoning(t *testing.T) {
	s := parse(t, `version: 1
name: ttfb
providers: {sim: {type: simulated}}
models:
  g5: {provider: sim, model: gpt-5, reasoning: true, latency: {ttft: {p50: 500ms, p95: 1s}, tokens_per_second: 100}, availability: 1}
categories:
  - {name: think, share: 1, tokens: {in: 1000, out: 300, reasoning: 3000}, quality_bar: 0.5, route: {model: g5}, assume: {pass_rate: {g5: 0.9}}}
`)
	r, err := Run(context.Background(), s, Options{Samples: 20_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	c := r.Policies[0].Categories[0]
	// 3,000 reasoning tokens at 100 a second: 30s before the first visible token.
	if math.Abs(c.TTFB.P50-30.5)/30.5 > 0.01 || math.Abs(c.TTFB.P95-31)/31 > 0.01 {
		t.Errorf("TTFB p50 %.3fs, p95 %.3fs: want the time to first token (500ms, 1s) plus 30s of reasoning", c.TTFB.P50, c.TTFB.P95)
	}
	if math.Abs(c.Latency.P50-c.TTFB.P50-3) > 0.05 {
		t.Errorf("latency p50 %.3fs, TTFB p50 %.3fs: the 300 visible tokens take 3s after the first", c.Latency.P50, c.TTFB.P50)
	}
}

// TestMeasuredReplacesAssumptions: measured pass rates, latencies and failures replace the
// spec's assumptions where there are enough of them, and the report says which assumptions the
// measurements contradict.
func TestMeasuredReplacesAssumptions(t *testing.T) {
	s := parse(t, `version: 1
name: measured
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 1s}, availability: 1}
  big: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: small}, fallback: [big], assume: {pass_rate: {small: 0.95, big: 0.97}}}
`)
	var obs []Observation
	yes, no := true, false
	for i := range 200 {
		p := &yes
		if i%10 < 3 { // 70% pass, where 95% was assumed
			p = &no
		}
		obs = append(obs, Observation{Category: "x", Model: "gpt-4o-mini", Pass: p, LatencyMS: 450 + float64(i%20)*10})
	}
	obs = append(obs, Observation{Category: "y", Model: "small"}) // an unknown category
	ms := Measure(s, obs)
	r, err := Run(context.Background(), s, Options{Samples: 20_000, Today: testDay, Measured: ms, MeasuredFrom: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if q := r.Policies[0].Categories[0].Quality; math.Abs(q-0.70) > 1e-9 {
		t.Errorf("quality %v: the measured 70%% pass rate must replace the assumed 95%%", q)
	}
	if p50 := r.Policies[0].Categories[0].Latency.P50; p50 < 0.44 || p50 > 0.56 {
		t.Errorf("p50 %v: measured latencies are 450–640ms", p50)
	}
	m := r.Measured
	if m == nil || m.Unmatched != 1 || m.Contradictions == 0 {
		t.Fatalf("summary %+v", m)
	}
	found := false
	for _, f := range m.Findings {
		if f.Model == "small" && f.What == "pass rate" {
			found = true
			if !f.Contradicts || f.Assumed != 0.95 || f.Measured != 0.7 || f.N != 200 || f.Low > 0.7 || f.High < 0.7 {
				t.Errorf("pass rate finding %+v", f)
			}
		}
	}
	if !found {
		t.Errorf("no pass-rate finding: %+v", m.Findings)
	}
	var buf bytes.Buffer
	WriteText(&buf, r)
	if !strings.Contains(buf.String(), "CONTRADICTS") {
		t.Error("the text report does not show the contradiction")
	}
}

// TestMeasuredLatencyIntervalFromFewSamples: ten latency samples cannot bound a p95 from
// above (the distribution-free interval's upper rank is past the sample), so an assumed p95
// above every sample does not contradict them; the text report shows the open end as ∞.
// With 200 samples the same assumption does contradict.
func TestMeasuredLatencyIntervalFromFewSamples(t *testing.T) {
	s := parse(t, `version: 1
name: few
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 500ms, p95: 2s}, availability: 1}
categories:
  - {name: x, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.5, route: {model: small}, assume: {pass_rate: {small: 0.95}}}
`)
	p95 := func(n int) (Finding, string) {
		t.Helper()
		var obs []Observation
		for i := range n {
			obs = append(obs, Observation{Category: "x", Model: "gpt-4o-mini", LatencyMS: 400 + float64(i%10)*20})
		}
		r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay, Measured: Measure(s, obs), MeasuredFrom: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		WriteText(&buf, r)
		for _, f := range r.Measured.Findings {
			if f.What == "latency p95" {
				return f, buf.String()
			}
		}
		t.Fatalf("no p95 finding among %+v", r.Measured.Findings)
		return Finding{}, ""
	}
	f, text := p95(10)
	if f.Contradicts || !f.HighUnbounded || f.Low <= 0 || f.Low > 0.58 {
		t.Errorf("10 samples up to 580ms against an assumed p95 of 2s: %+v; want an interval open above, not a contradiction", f)
	}
	if !strings.Contains(text, "–∞") {
		t.Errorf("the text report does not show the open end:\n%s", text)
	}
	if f, _ := p95(200); !f.Contradicts || f.HighUnbounded || f.High != 0.58 {
		t.Errorf("200 samples up to 580ms against an assumed p95 of 2s: %+v; want a contradiction", f)
	}
}

// TestAgreeCostsTheCheckerCall: an agreement check makes its model answer the same request, so
// a cascade whose first step is checked by agree costs, per request, the checker's price at the
// category's tokens in and out more than the same cascade checked by a validator that calls no
// model, and takes the checker's latency longer; the validator strength is the category's
// either way, so quality and escalation are the same.
func TestAgreeCostsTheCheckerCall(t *testing.T) {
	const src = `version: 1
name: agree
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  yi: {provider: sim, model: gpt-4.1-mini, latency: {p50: 700ms, p95: 1.4s}, availability: 1}
  gpt4: {provider: sim, model: gpt-4o, latency: {p50: 2s, p95: 4s}, availability: 1}
categories:
  - name: arc
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {cascade: [{model: mixtral, validate: [VALIDATOR]}, gpt4]}
    assume: {pass_rate: {mixtral: 0.7, gpt4: 0.95}, validator: {detect: 0.9, false_alarm: 0.1}}
`
	eval := func(validator string) (*spec.Spec, outcome, *world) {
		s := parse(t, strings.Replace(src, "VALIDATOR", validator, 1))
		w := newWorld(s)
		c := s.Categories[0]
		return s, w.compile(c, c.Route, nil).closed(), w
	}
	_, plain, _ := eval("{max_length: 2000}")
	s, agreed, w := eval("{agree: {model: yi, answer: choice}}")
	yi := s.Model("yi")
	price := float64(yi.Resolved.Prices.RequestCost(1000, 0, 100, 0))
	if price == 0 {
		t.Fatal("yi has no price: the test proves nothing")
	}
	if got := agreed.cost - plain.cost; math.Abs(got-price) > 1 {
		t.Errorf("agree adds %.0f nano-dollars per request, want yi's price at 1000 in and 100 out: %.0f", got, price)
	}
	if math.Abs(agreed.judgeCost-price) > 1 || plain.judgeCost != 0 {
		t.Errorf("the check's cost is a validator call's: %v (without agree %v), want %v", agreed.judgeCost, plain.judgeCost, price)
	}
	lm := w.latency(s.Categories[0], yi)
	lat := lm.mean()
	if got := agreed.latency - plain.latency; math.Abs(got-lat) > 1e-9 || lat == 0 {
		t.Errorf("agree adds %.3fs, want yi's mean latency %.3fs, after the answer", got, lat)
	}
	if agreed.quality != plain.quality || agreed.escalated != plain.escalated {
		t.Errorf("the category's assumed strength decides either way: quality %v vs %v, escalation %v vs %v", agreed.quality, plain.quality, agreed.escalated, plain.escalated)
	}
	cl := &cell{plan: w.compile(s.Categories[0], s.Categories[0].Route, nil)}
	if got := cl.models(); !slices.Contains(got, "yi") {
		t.Errorf("the checker is a model the plan calls (for sensitivity): %v", got)
	}
}

// TestCascadePolicyLeavesOutSelfCheckedModels: the automatic cascade-by-price policy validates
// as the spec does, so it leaves out a model whose answers the agreement check would ask that
// same model to check (a route the spec check rejects), and says so.
func TestCascadePolicyLeavesOutSelfCheckedModels(t *testing.T) {
	s := parse(t, `version: 1
name: agree
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}, availability: 1}
  yi: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  gpt4: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: arc
    share: 1
    tokens: {in: 300, out: 5}
    quality_bar: 0.95
    route:
      cascade: [{model: mixtral, validate: [{agree: {model: yi, answer: choice}}]}, gpt4]
    assume:
      pass_rate: {mixtral: 0.7, yi: 0.85, gpt4: 0.97}
      validator: {detect: 0.9, false_alarm: 0.1}
`)
	r, err := Run(context.Background(), s, Options{Samples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Policies {
		if p.Name != "cascade-by-price" {
			continue
		}
		cr := p.Categories[0]
		if !strings.Contains(cr.Route, "mixtral → gpt4") || strings.Contains(cr.Route, "→ yi") || !strings.Contains(cr.Note, "without yi, whose answers the agreement check would ask the same model to check") {
			t.Errorf("cascade-by-price: route %q, note %q", cr.Route, cr.Note)
		}
		return
	}
	t.Fatal("no cascade-by-price policy")
}

// TestServedCostChargesFailuresOnce: with on_exhausted: fail, a request whose last answer is
// flagged has paid for every step before it fails, more than an answered request costs on
// average. Its served cost keeps what it paid: it is neither charged an answer on top of it
// (which would make failing cost more than delivering, at the same bill) nor charged the
// average answered cost instead (which would make failing late a saving). The cascade pays the
// same per request with deliver and with fail, so both served costs are that cost.
func TestServedCostChargesFailuresOnce(t *testing.T) {
	src := `version: 1
name: exhausted
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: x
    share: 1
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {cascade: [a, b], validate: [{max_length: 100}], on_exhausted: EXHAUSTED}
    assume: {pass_rate: {a: 0.7, b: 0.8}, validator: {detect: 0.9, false_alarm: 0.05}}
`
	served, want := map[string]float64{}, 0.0
	for _, ex := range []string{"deliver", "fail"} {
		s := parse(t, strings.Replace(src, "EXHAUSTED", ex, 1))
		c := s.Categories[0]
		w := newWorld(s)
		o := w.compile(c, c.Route, nil).closed()
		served[ex] = w.servedCost(c, c.Route, nil, o)
		if ex == "fail" {
			if o.failed < 0.01 {
				t.Fatalf("fixture: on_exhausted: fail fails %v of requests", o.failed)
			}
			want = o.cost
			if answered := (o.cost - o.costFailed) / (1 - o.failed); o.costFailed < o.failed*answered {
				t.Fatalf("fixture: the failed requests paid %.6f, less than answering them costs, %.6f", o.costFailed, o.failed*answered)
			}
			// Every failed request paid for both steps.
			ca, cb := float64(w.callCost(c, s.Model("a"), wholeBand)), float64(w.callCost(c, s.Model("b"), wholeBand))
			if math.Abs(o.costFailed-o.failed*(ca+cb)) > 1e-6 {
				t.Errorf("costFailed %.3f, want failed × (a + b) = %.3f", o.costFailed, o.failed*(ca+cb))
			}
		}
	}
	if math.Abs(served["fail"]-want) > 1e-6 {
		t.Errorf("served cost with on_exhausted: fail %.6f, want what the requests paid, %.6f", served["fail"], want)
	}
	if math.Abs(served["fail"]-served["deliver"]) > 1e-6 {
		t.Errorf("served cost with on_exhausted: fail %.6f, with deliver %.6f; the cascade pays the same per request either way", served["fail"], served["deliver"])
	}
}

// TestRunStopsWhenCancelled: a run drawing more samples than it could finish in minutes
// returns the context's error soon after the context ends, from inside a simulation.
func TestRunStopsWhenCancelled(t *testing.T) {
	s := load(t, "testdata/paths.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, s, Options{Samples: 2_000_000_000, Today: testDay})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run returned %v, want context.Canceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a cancelled run was still drawing a minute later")
	}
}
