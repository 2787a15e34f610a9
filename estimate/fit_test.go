package estimate

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestClosestPolicyMissesByTheLeast: when no policy clears, the closest is the one whose
// misses are smallest, not the cheapest of those with the fewest misses. In the quick start
// with refund-dispute's strong model at a 95% pass rate on a 95% bar, the spec's route misses
// by a hair (its fallback's availability), while all-mini misses by seven points; the report
// shows the hair's digits instead of "95.00% is below its bar 95.00%".
func TestClosestPolicyMissesByTheLeast(t *testing.T) {
	src, err := os.ReadFile("../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edge := strings.Replace(string(src), "pass_rate: {mini: 0.88, strong: 0.97}", "pass_rate: {mini: 0.88, strong: 0.95}", 1)
	if edge == string(src) {
		t.Fatal("the quick start no longer has refund-dispute's pass rates")
	}
	s, err := spec.Parse([]byte(edge), "../examples/edge.yaml", spec.Options{Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), s, Options{Samples: 20_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	best := r.policy(r.Recommended)
	if best.Clears {
		t.Fatalf("%s clears: the fixture should leave every policy short", best.Name)
	}
	mini := r.policy("all-mini")
	if r.Recommended == "all-mini" || mini.Shortfall <= best.Shortfall {
		t.Errorf("recommended %s (shortfall %g); all-mini's is %g", r.Recommended, best.Shortfall, mini.Shortfall)
	}
	for _, p := range r.Policies {
		if !p.Clears && p.SameAs == "" && p.Shortfall < best.Shortfall-1e-9 {
			t.Errorf("%s misses by less (%g) than the recommended %s (%g)", p.Name, p.Shortfall, best.Name, best.Shortfall)
		}
		if !p.Clears && p.SameAs == "" && sameShortfall(p.Shortfall, best.Shortfall) && p.Total.Cost < best.Total.Cost {
			t.Errorf("%s misses by as much as %s and costs less", p.Name, best.Name)
		}
	}
	if want := 0.05 * 140; math.Abs(mini.Shortfall-want) > 1e-2 {
		t.Errorf("all-mini's shortfall = %g, want %g (7 points under a 95%% bar, 140%% over the 5%% failure rate it allows, on 5%% of the traffic)", mini.Shortfall, want)
	}
	var text strings.Builder
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"No policy clears every category. " + r.Recommended + " comes closest: refund-dispute quality 94.9998% is 0.00018 points below its bar 95.00%",
		"all-mini: misses by more than " + r.Recommended + ": refund-dispute quality 88.00% is 7.00 points below its bar 95.00%",
	} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`intent p95 [0-9.]+s is over its budget 2s by [0-9]+ms \([0-9]+%\)`).MatchString(out) {
		t.Errorf("the report does not say by how much all-strong is over intent's budget:\n%s", out)
	}
	if strings.Contains(out, "95.00% is") {
		t.Errorf("a quality below its bar reads like the bar:\n%s", out)
	}
}

func TestQualityAgainstItsBar(t *testing.T) {
	for _, tt := range []struct {
		q, bar float64
		want   string
	}{
		{0.96, 0.95, "96.00%"},
		{0.95, 0.95, "95.00%"},
		{0.88, 0.95, "88.00%"},
		{0.9499982, 0.95, "94.9998%"},
		{0.94999999, 0.95, "94.999999%"},
		{0.8995, 0.90, "89.95%"},
	} {
		if got := qualityVs(tt.q, tt.bar); got != tt.want {
			t.Errorf("qualityVs(%v, %v) = %q, want %q", tt.q, tt.bar, got, tt.want)
		}
	}
	for _, tt := range []struct {
		p    float64
		want string
	}{{7, "7.00 points"}, {0.0001818, "0.00018 points"}, {0.0002, "0.0002 points"}, {0.05, "0.05 points"}} {
		if got := pointsText(tt.p); got != tt.want {
			t.Errorf("pointsText(%v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// windowSpec has three models: small (gpt-4o-mini, a 128,000-token window), big
// (gpt-4.1-nano, 1,047,576 tokens) and strong (claude-sonnet-4-5, 200,000 tokens), every one
// always available and always right, so that what a request costs and whether it fails say
// which model answered it.
const windowSpec = `version: 1
name: windows
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  small: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, availability: 1}
  big: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}, availability: 1}
  strong: {provider: sim, model: claude-sonnet-4-5, latency: {p50: 1s, p95: 2s}, availability: 1}
categories:
  - name: docs
    share: 1
    tokens: TOKENS
    quality_bar: 0.5
    route: ROUTE
    fallback: FALLBACK
    assume:
      pass_rate: {small: 1, big: 1, strong: 1}
`

// TestContextWindowsLeaveModelsOut: requests with more input tokens than a model's context
// window do not go to it: they go to the next candidate that can take them, as the gateway
// plans, or fail when none can.
func TestContextWindowsLeaveModelsOut(t *testing.T) {
	build := func(tokens, route, fallback string) (*spec.Spec, *spec.Category) {
		s := parse(t, strings.NewReplacer("TOKENS", tokens, "ROUTE", route, "FALLBACK", fallback).Replace(windowSpec))
		return s, s.Categories[0]
	}
	t.Run("a fallback takes what the route model cannot", func(t *testing.T) {
		s, c := build("{in: 300k, out: 10}", "{model: small}", "[big]")
		o := newWorld(s).compile(c, c.Route, c.Fallback).closed()
		want := float64(newWorld(s).callCost(c, s.Model("big"), wholeBand))
		if o.mix["big"] != 1 || o.mix["small"] != 0 || math.Abs(o.cost-want) > 1 || o.failed != 0 {
			t.Errorf("answered by %v at %v (big costs %v), failed %v", o.mix, o.cost, want, o.failed)
		}
	})
	t.Run("a request no model can take fails", func(t *testing.T) {
		s, c := build("{in: 3M, out: 10}", "{cascade: [small, strong]}", "[big]")
		o := newWorld(s).compile(c, c.Route, c.Fallback).closed()
		if o.failed != 1 || o.quality != 0 || o.cost != 0 {
			t.Errorf("failed %v, quality %v, cost %v; want every request failed at no cost", o.failed, o.quality, o.cost)
		}
		r, err := Run(context.Background(), s, Options{Samples: 2000, Today: testDay})
		if err != nil {
			t.Fatal(err)
		}
		if r.Policies[0].Clears || r.Policies[0].Total.PFailed != 1 {
			t.Errorf("spec: clears %v, failed %v", r.Policies[0].Clears, r.Policies[0].Total.PFailed)
		}
		notes := strings.Join(r.Notes, "\n")
		for _, m := range []string{"small", "big", "strong"} {
			if !strings.Contains(notes, "docs: every request has more input tokens than "+m+"'s context window") {
				t.Errorf("no note about %s in:\n%s", m, notes)
			}
		}
	})
	t.Run("only the long requests skip a model", func(t *testing.T) {
		s, c := build("{in: {p50: 20k, p95: 200k}, out: 10}", "{cascade: [small, strong], validate: [{max_length: 1000}]}", "[big]")
		c.Assume.Validator = &spec.Strength{Detect: 1, FalseAlarm: 0}
		tail, none := c.Tokens.In.Over(128_000), c.Tokens.In.Over(1_047_576)
		plan := newWorld(s).compile(c, c.Route, c.Fallback)
		o := plan.closed()
		// Every answer is right and passes, so the first model that can take a request answers
		// it: small up to its window, then big (small's fallback, tried before strong's step),
		// and past big's window nothing: those requests fail.
		if math.Abs(o.mix["small"]-(1-tail)) > 1e-9 || math.Abs(o.mix["big"]-(tail-none)) > 1e-9 || o.mix["strong"] != 0 || math.Abs(o.failed-none) > 1e-9 {
			t.Errorf("answered by %v, failed %v; want small %v, big %v, failed %v", o.mix, o.failed, 1-tail, tail-none, none)
		}
		// The parts are priced at their own input tokens: the short requests cost small less
		// than its average request, the long ones cost big more than its average.
		w := newWorld(s)
		fits := w.fits(c, c.Route, c.Fallback)
		if len(fits) != 4 || math.Abs(fits[0].weight-(1-tail)) > 1e-12 || !fits[1].unfit["small"] || fits[1].unfit["strong"] ||
			!fits[2].unfit["strong"] || fits[2].unfit["big"] || !fits[3].unfit["big"] || math.Abs(fits[3].weight-none) > 1e-12 {
			t.Fatalf("fits = %+v", fits)
		}
		short, long := w.compileFit(c, c.Route, c.Fallback, fits[0]).closed(), w.compileFit(c, c.Route, c.Fallback, fits[1]).closed()
		if avg := float64(w.callCost(c, s.Model("small"), wholeBand)); short.cost >= avg {
			t.Errorf("the short requests cost %v on small, its average request %v", short.cost, avg)
		}
		if avg := float64(w.callCost(c, s.Model("big"), wholeBand)); long.cost <= avg {
			t.Errorf("the long requests cost %v on big, its average request %v", long.cost, avg)
		}
		sim := plan.simulate(200_000, rand.New(rand.NewPCG(7, 11)))
		within(t, "quality", sim.good/sim.n, o.quality, math.Sqrt(o.quality*(1-o.quality)/sim.n)+1e-9, 5)
		within(t, "cost", sim.cost/sim.n, o.cost, o.cost*0.02, 5)
		within(t, "big", sim.mix["big"]/sim.n, tail-none, math.Sqrt(tail*(1-tail)/sim.n), 5)
		within(t, "failed", sim.failed/sim.n, none, math.Sqrt(none*(1-none)/sim.n), 5)
	})
	t.Run("a window every request fits changes nothing", func(t *testing.T) {
		s, c := build("{in: {p50: 1500, p95: 6000}, out: 10}", "{model: small}", "[big]")
		if fits := newWorld(s).fits(c, c.Route, c.Fallback); len(fits) != 1 || fits[0].weight != 1 || len(fits[0].unfit) != 0 {
			t.Errorf("fits = %+v, want the whole band", fits)
		}
	})
}

// TestRaisedSamplesAreNoted: fewer samples than every category's minimum are raised to it, and
// the report says so rather than showing another number than the one asked for in silence.
func TestRaisedSamplesAreNoted(t *testing.T) {
	s := parse(t, strings.NewReplacer("TOKENS", "{in: 100, out: 10}", "ROUTE", "{model: small}", "FALLBACK", "[]").Replace(windowSpec))
	for _, tt := range []struct {
		samples int
		note    string
	}{
		{1, "2,000 Monte Carlo samples per policy, not the 1 asked for: each category gets at least 2,000"},
		{MinSamples(s), ""},
	} {
		r, err := Run(context.Background(), s, Options{Samples: tt.samples, Today: testDay})
		if err != nil {
			t.Fatal(err)
		}
		notes := strings.Join(r.Notes, "\n")
		if r.Samples != MinSamples(s) || tt.note != "" && !strings.Contains(notes, tt.note) || tt.note == "" && strings.Contains(notes, "Monte Carlo") {
			t.Errorf("--samples %d: %d samples, notes:\n%s", tt.samples, r.Samples, notes)
		}
	}
}
