package estimate

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/internal/stats"
)

// timeoutSpec has one category routed to strong (p50 2s, p95 6s) with a 3s timeout: about 27%
// of its calls take longer. FALLBACK is the category's fallback list.
const timeoutSpec = `version: 1
name: timeouts
retry: {attempts: 1}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-x, price: {input: 0.1, output: 0.4}, latency: {p50: 300ms, p95: 800ms}, availability: 1}
  strong: {provider: sim, model: strong-x, price: {input: 3, output: 15}, latency: {p50: 2s, p95: 6s}, availability: 1, timeout: 3s}
categories:
  - name: b
    share: 1
    tokens: {in: 1500, out: 250}
    quality_bar: 0.9
    latency_budget: 8s
    failure_impact: {bad_answer: 0.4}
    route: {model: strong}
    fallback: FALLBACK
    assume: {pass_rate: {small: 0.8, strong: 0.96}}
`

// TestTimeoutCutsSlowCalls: a call slower than its model's timeout is cut there, as the
// gateway cuts it: it takes the timeout, costs nothing, is not retried, and fails the request
// when the route has nowhere else to go, or fails over to the fallback when it has. The
// latency never exceeds the timeout on a route without fallback.
func TestTimeoutCutsSlowCalls(t *testing.T) {
	l := stats.FitLognormal(2, 6)
	cut := 1 - l.CDF(3)
	if cut < 0.25 || cut > 0.3 {
		t.Fatalf("fixture: P(latency > 3s) = %v, want about 27%%", cut)
	}
	r, err := Run(context.Background(), parse(t, strings.Replace(timeoutSpec, "FALLBACK", "[]", 1)), Options{Samples: 100_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	s := r.policy("spec")
	c := s.Categories[0]
	if math.Abs(c.PFailed-cut) > 1e-9 {
		t.Errorf("failed %.4f, want the share of calls over the timeout, %.4f", c.PFailed, cut)
	}
	if want := 0.96 * (1 - cut); math.Abs(c.Quality-want) > 1e-9 {
		t.Errorf("quality %.4f, want the pass rate of the calls in time, %.4f", c.Quality, want)
	}
	w := newWorld(parse(t, strings.Replace(timeoutSpec, "FALLBACK", "[]", 1)))
	cat := w.spec.Categories[0]
	perCall := float64(w.callCost(cat, w.spec.Model("strong"), wholeBand))
	if want := perCall * (1 - cut); math.Abs(float64(c.Cost)-want) > 1 {
		t.Errorf("cost %v nano-dollars, want calls in time only, %v: a cut call costs nothing", float64(c.Cost), want)
	}
	if c.Latency.P99 > 3+1e-9 || s.Total.Latency.P99 > 3*(1+halfBucket) {
		t.Errorf("p99 %.2fs (total %.2fs): no request waits longer than the 3s timeout", c.Latency.P99, s.Total.Latency.P99)
	}
	if s.Total.Retries != 0 {
		t.Errorf("%.3f retries a request: a timeout is not retried", s.Total.Retries)
	}

	r, err = Run(context.Background(), parse(t, strings.Replace(timeoutSpec, "FALLBACK", "[small]", 1)), Options{Samples: 100_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	c = r.policy("spec").Categories[0]
	if c.PFailed > 1e-12 || math.Abs(c.PFallback-cut) > 1e-9 || math.Abs(c.Mix["small"]-cut) > 1e-9 {
		t.Errorf("with a fallback: failed %v, fell back %v, answered by small %v; want 0, %v, %v", c.PFailed, c.PFallback, c.Mix["small"], cut, cut)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "b: 27% of strong's calls take longer than its timeout, 3.00s") {
		t.Errorf("no note says how many calls the timeout cuts:\n%s", strings.Join(r.Notes, "\n"))
	}
}

// timeoutPaths exercises every way a timeout cuts a call, for the closed form and the
// simulation to agree on: a cut that fails over to a fallback; provider errors retried before
// it; a ttft-form model whose output and reasoning tokens are spread; measured samples; a
// provider error slower than the timeout (so a cut, not retried); and the request's timeout,
// which bounds a model without one of its own and fails the request when it cuts.
const timeoutPaths = `version: 1
name: timeout-paths
retry: {attempts: 2, backoff: 100ms}
server: {request_timeout: 5s}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-x, price: {input: 0.1, output: 0.4}, latency: {p50: 300ms, p95: 800ms}, availability: 0.9}
  strong: {provider: sim, model: strong-x, price: {input: 3, output: 15}, latency: {p50: 2s, p95: 6s}, availability: 0.85, timeout: 3s}
  stream: {provider: sim, model: stream-x, price: {input: 1, output: 4}, latency: {ttft: {p50: 500ms, p95: 2s}, tokens_per_second: 60}, availability: 0.95, timeout: 4s}
  think:  {provider: sim, model: think-x, price: {input: 1, output: 4}, reasoning: true, latency: {ttft: {p50: 300ms, p95: 1s}, tokens_per_second: 200}, availability: 0.95, timeout: 3s}
  slowerr: {provider: sim, model: slow-x, price: {input: 1, output: 4}, latency: {p50: 1s, p95: 2s, fail_after: 10s}, availability: 0.7, timeout: 4s}
  sampled: {provider: sim, model: sampled-x, price: {input: 1, output: 4}, latency: {samples: [500ms, 1s, 2s, 4s, 8s]}, availability: 0.9, timeout: 3s}
  untimed: {provider: sim, model: untimed-x, price: {input: 1, output: 4}, latency: {p50: 2s, p95: 8s}, availability: 0.95}
categories:
  - name: failover
    share: 0.25
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {model: strong}
    fallback: [small]
    assume: {pass_rate: {small: 0.8, strong: 0.95}}
  - name: cascade
    share: 0.25
    tokens: {in: 1000, out: {p50: 150, p95: 600}, reasoning: {p50: 200, p95: 900}}
    quality_bar: 0.5
    route: {cascade: [small, stream, think], validate: [{max_length: 4000}], on_fail: retry_once}
    assume: {pass_rate: {small: 0.7, stream: 0.85, think: 0.9}, validator: {detect: 0.8, false_alarm: 0.1}}
  - name: slow-errors
    share: 0.25
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {model: slowerr}
    fallback: [sampled, small]
    assume: {pass_rate: {slowerr: 0.9, sampled: 0.85, small: 0.8}}
  - name: request-timeout
    share: 0.25
    tokens: {in: 1000, out: 100}
    quality_bar: 0.5
    route: {cascade: [small, untimed], validate: [{max_length: 4000}]}
    fallback: [strong]
    assume: {pass_rate: {small: 0.6, untimed: 0.95, strong: 0.9}, validator: {detect: 0.9, false_alarm: 0.05}}
`

// TestTimeoutsClosedFormMatchesSimulation: the closed form and the simulation, independent
// implementations of the same process, agree within sampling error on routes whose calls
// timeouts cut, and both cut some.
func TestTimeoutsClosedFormMatchesSimulation(t *testing.T) {
	s := parse(t, timeoutPaths)
	w := newWorld(s)
	const n = 200_000
	for _, c := range s.Categories {
		t.Run(c.Name, func(t *testing.T) {
			plan := w.compile(c, c.Route, c.Fallback)
			o := plan.closed()
			sim := plan.simulate(n, rand.New(rand.NewPCG(7, 11)))
			if o.cuts < 0.01 {
				t.Fatalf("the fixture cuts %.4f calls a request in %s: it should exercise timeouts", o.cuts, c.Name)
			}
			prop := func(what string, count, want float64) {
				se := math.Sqrt(math.Max(want*(1-want), 1e-9) / n)
				within(t, what, count/n, want, se, 4.5)
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
			m := sim.cost / n
			within(t, "cost", m, o.cost, math.Sqrt((sim.costSq/n-m*m)/n), 4.5)
			m = sim.costFailed / n
			se := math.Sqrt(math.Max(0, sim.costFailedSq/n-m*m) / n)
			if o.failed > 0 {
				se = math.Max(se, o.costFailed/o.failed/math.Sqrt(math.Max(1, o.failed*n)))
			}
			within(t, "cost paid by failed requests", m, o.costFailed, se, 4.5)
			m = sim.hist.sum / n
			within(t, "latency", m, o.latency, math.Sqrt((sim.latSq/n-m*m)/n), 4.5)
			within(t, "cuts", sim.cuts/n, o.cuts, math.Sqrt(math.Max(o.cuts, 1e-6)/n)*2, 4.5)
			within(t, "retries", sim.retries/n, o.retries, math.Sqrt(math.Max(o.retries, 1e-6)/n)*2, 4.5)
		})
	}
	// The request's timeout fails the request it cuts: the fallback is never reached for it.
	c := s.Categories[3]
	lm := w.call(c, s.Model("untimed"), wholeBand)
	if !lm.abort || lm.timeout != 5 || lm.cut < 0.05 {
		t.Fatalf("untimed: timeout %vs (abort %v), cut %v: want the 5s request timeout, failing the request", lm.timeout, lm.abort, lm.cut)
	}
}

// TestBeyondMatchesSampling checks the closed form of a timeout's cut share and of the time
// it saves, for each latency form, against draws from the same model.
func TestBeyondMatchesSampling(t *testing.T) {
	s := parse(t, timeoutPaths)
	w := newWorld(s)
	r := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct{ cat, model string }{{"failover", "strong"}, {"cascade", "stream"}, {"cascade", "think"}, {"slow-errors", "sampled"}} {
		c := s.Categories[categoryIndex(s, tc.cat)]
		cl := w.call(c, s.Model(tc.model), wholeBand)
		const n = 400_000
		var over, kept, keptSq float64
		for range n {
			x := cl.lat.sample(r)
			if x > cl.timeout {
				over++
			}
			v := math.Min(x, cl.timeout)
			kept += v
			keptSq += v * v
		}
		se := math.Sqrt(cl.cut * (1 - cl.cut) / n)
		if math.Abs(over/n-cl.cut) > 4.5*se+1e-9 {
			t.Errorf("%s in %s: sampled cut %.5f, closed form %.5f", tc.model, tc.cat, over/n, cl.cut)
		}
		m := kept / n
		if sd := math.Sqrt((keptSq/n - m*m) / n); math.Abs(m-cl.meanCut) > 4.5*sd {
			t.Errorf("%s in %s: sampled E[min(L, timeout)] %.5f, closed form %.5f", tc.model, tc.cat, m, cl.meanCut)
		}
	}
}

// TestLatencyLongerThanTimeoutWarns: a model most of whose calls take longer than its timeout
// is warned about, naming the model, the share cut and the timeout. Here the
// time to first token is well within it, but the category's 2,000 output tokens at 20 a
// second are not: only the estimate, which knows the tokens, can tell.
func TestLatencyLongerThanTimeoutWarns(t *testing.T) {
	r, err := Run(context.Background(), parse(t, `version: 1
name: slow
providers: {sim: {type: simulated, timeout: 30s}}
models:
  slow: {provider: sim, model: slow-x, price: {input: 1, output: 4}, latency: {ttft: {p50: 1s, p95: 3s}, tokens_per_second: 20}}
categories:
  - {name: essay, share: 1, tokens: {in: 500, out: 2000}, quality_bar: 0.5, route: {model: slow}, assume: {pass_rate: {slow: 0.9}}}
`), Options{Samples: 10_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	want := "model slow: 100.00% of its calls take longer than 30.0s, its provider's timeout: most calls time out"
	if !strings.Contains(strings.Join(r.Warnings, "\n"), want) {
		t.Errorf("no warning %q in:\n%s", want, strings.Join(r.Warnings, "\n"))
	}
	if f := r.policy("spec").Total.PFailed; f < 0.99 {
		t.Errorf("failed %.3f: nearly every call is cut", f)
	}
}

// TestFewSlowSamplesDoNotWarn: samples [1s 1s 1s 1s 200s] average 40.8s, longer than the 30s
// timeout, but only a fifth of the calls take longer: "most calls time out" would be false.
func TestFewSlowSamplesDoNotWarn(t *testing.T) {
	r, err := Run(context.Background(), parse(t, `version: 1
name: samples
providers: {sim: {type: simulated, timeout: 30s}}
models:
  m: {provider: sim, model: m-x, price: {input: 1, output: 4}, latency: {samples: [1s, 1s, 1s, 1s, 200s]}}
categories:
  - {name: c, share: 1, tokens: {in: 500, out: 100}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
`), Options{Samples: 10_000, Today: testDay})
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(r.Warnings, "\n"); strings.Contains(w, "time out") {
		t.Errorf("a warning that most calls time out, where a fifth do:\n%s", w)
	}
}
