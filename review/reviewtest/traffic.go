// Package reviewtest generates decision records for testing reviews: synthetic traffic that
// behaves exactly as a spec assumes, with changes injected from a chosen point of the window.
//
// Each request follows the process the estimator models and the gateway runs. A category is
// drawn by its share and a split arm by its weight. Every step of the route calls its model,
// retrying a provider failure as the spec's retry policy says and then failing over along the
// model's and the category's fallbacks; a call succeeds with the model's availability. An
// answer is good with the model's assumed pass rate, and a validated step flags a bad answer
// with the validator's detect rate and a good one with its false-alarm rate; a flagged answer
// is retried once (on_fail: retry_once), then escalated to the next step, and on the last step
// delivered flagged (or failed, on_exhausted: fail). Latencies are drawn from the models'
// latency assumptions (lognormals fitted to p50 and p95, or time to first token plus output
// tokens over tokens per second), token counts from the category's bands, and costs from the
// models' effective prices.
//
// Nothing here is used outside tests.
package reviewtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Traffic describes the traffic to generate. The zero value of every change field means no
// change.
type Traffic struct {
	// Requests is the number of decisions; they are spread evenly over [Start, Start+Span).
	Requests int
	Start    time.Time
	Span     time.Duration
	Seed     uint64

	// From is the fraction of the window after which the changes below apply (0: all of it).
	From float64
	// PassRate overrides a model's pass rate in a category: {category, model} → rate.
	PassRate map[[2]string]float64
	// LatencyScale multiplies a model's latencies.
	LatencyScale map[string]float64
	// Shares overrides category shares (renormalised over all categories).
	Shares map[string]float64
	// Availability overrides a model's availability; failures then have class FailClass
	// (default clearbar.Overloaded).
	Availability map[string]float64
	FailClass    clearbar.FailureClass
	// Template gives a category a new prompt template version.
	Template map[string]string
	// CacheHit overrides a category's tokens.cache_hit: the share of each call's prompt
	// tokens read from the prompt cache.
	CacheHit map[string]float64
}

// Templates returns the prompt template hashes a category uses before any change: two
// versions, used 70% and 30% of the time.
func Templates(category string) [2]string {
	return [2]string{hash(category + "/system-v1"), hash(category + "/system-v2")}
}

func hash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%016x", h.Sum64())
}

// Generate returns the decisions, oldest first.
func Generate(s *spec.Spec, t Traffic) []*clearbar.Decision {
	g := newGenerator(s, t)
	out := make([]*clearbar.Decision, t.Requests)
	for i := range out {
		out[i] = g.decision(i)
	}
	return out
}

type generator struct {
	s   *spec.Spec
	t   Traffic
	rng *rand.Rand
}

func newGenerator(s *spec.Spec, t Traffic) *generator {
	if t.FailClass == clearbar.OK {
		t.FailClass = clearbar.Overloaded
	}
	if t.Span <= 0 {
		t.Span = 30 * 24 * time.Hour
	}
	return &generator{s: s, t: t, rng: rand.New(rand.NewPCG(t.Seed, 0x5eed))}
}

func (g *generator) category(changed bool) *spec.Category {
	total := 0.0
	share := func(c *spec.Category) float64 {
		if v, ok := g.t.Shares[c.Name]; ok && changed {
			return v
		}
		return float64(c.Share)
	}
	for _, c := range g.s.Categories {
		total += share(c)
	}
	u := g.rng.Float64() * total
	for _, c := range g.s.Categories {
		if u -= share(c); u < 0 {
			return c
		}
	}
	return g.s.Categories[len(g.s.Categories)-1]
}

func (g *generator) decision(i int) *clearbar.Decision {
	t := g.t
	changed := float64(i)/float64(t.Requests) >= t.From
	now := t.Start.Add(time.Duration(float64(t.Span) * float64(i) / float64(t.Requests)))
	c := g.category(changed)
	d := &clearbar.Decision{ID: fmt.Sprintf("r%08d", i), Time: now, Dialect: "openai", Path: "/v1/chat/completions",
		RequestedModel: "clearbar/auto", Category: c.Name, CategoryBy: "header X-Clearbar-Task"}
	tm := Templates(c.Name)
	d.TemplateHash = tm[0]
	if g.rng.Float64() < 0.3 {
		d.TemplateHash = tm[1]
	}
	if h, ok := t.Template[c.Name]; ok && changed {
		d.TemplateHash = h
	}
	d.PromptHash = fmt.Sprintf("%016x", g.rng.Uint64())

	route := c.Route
	if len(route.Split) > 0 {
		u := g.rng.Float64()
		arm := len(route.Split) - 1
		for j, a := range route.Split {
			if u -= a.Weight; u < 0 {
				arm = j
				break
			}
		}
		route = &route.Split[arm].Route
		d.Arm = fmt.Sprintf("arm %d (%s)", arm+1, spec.PercentText(c.Route.Split[arm].Weight))
	}
	d.Route = route.Kind()
	g.run(d, c, route, changed)
	return d
}

// run walks the route's steps, appending attempts, and completes the decision.
func (g *generator) run(d *clearbar.Decision, c *spec.Category, route *spec.Route, changed bool) {
	s := g.s
	steps := route.Steps(s)
	retries, backoff := s.RetryPolicy(c)
	st := c.Strength()
	detect, falseAlarm := float64(st.Detect), float64(st.FalseAlarm)
	later := map[string]bool{}
	for _, ps := range steps {
		later[ps.Model.Name] = true
	}
	chains := make([][]*spec.Model, len(steps))
	for i, ps := range steps {
		delete(later, ps.Model.Name)
		isLater := func(m *spec.Model) bool { return later[m.Name] }
		chains[i] = append([]*spec.Model{ps.Model}, s.FailoverChain(ps.Model, c.Fallback, isLater)...)
		for _, m := range chains[i] {
			d.Plan = append(d.Plan, m.Name)
		}
	}
	clock := d.Time
	var wait time.Duration
	var accepted *clearbar.Attempt
	first := clearbar.OK
	attempt := func(m *spec.Model, kind string, step int) *clearbar.Attempt {
		d.Attempts = append(d.Attempts, clearbar.Attempt{N: len(d.Attempts) + 1, Kind: kind, Step: step + 1, Model: m.Name,
			Provider: m.Provider.Name, UpstreamModel: m.Model, Start: clock})
		return &d.Attempts[len(d.Attempts)-1]
	}
steps:
	for si, ps := range steps {
		last := si == len(steps)-1
		for round := 0; round < 2; round++ {
			var ans *clearbar.Attempt
		chain:
			for ci, m := range chains[si] {
				for k := 0; k <= retries; k++ {
					kind := clearbar.AttemptPrimary
					switch {
					case k > 0 || round == 1 && ci == 0:
						kind = clearbar.AttemptRetry
					case si > 0 && ci == 0:
						kind = clearbar.AttemptEscalation
					case ci > 0:
						kind = clearbar.AttemptFallback
					}
					var w time.Duration
					if k > 0 { // full jitter
						w = time.Duration(g.rng.Float64() * float64(backoff) * math.Pow(2, float64(k-1)))
						wait += w
						clock = clock.Add(w)
					}
					a := attempt(m, kind, si)
					a.Waited = w
					if g.rng.Float64() < g.availability(m, changed) {
						g.answer(a, c, m, changed)
						clock = clock.Add(a.Latency)
						ans = a
						break chain
					}
					a.Class, a.Status, a.Error = g.t.FailClass, 503, g.t.FailClass.String()
					a.Latency = g.failAfter(c, m, changed)
					clock = clock.Add(a.Latency)
					if first == clearbar.OK {
						first = a.Class
					}
					a.Outcome = "fell back"
					if k < retries {
						a.Outcome = "retried"
					}
				}
			}
			if ans == nil { // every candidate of the step failed
				if last {
					d.Outcome, d.Status = first, 503
					d.Reason = "failed: " + first.String()
					break steps
				}
				continue steps
			}
			if len(ps.Validate) == 0 {
				accepted = ans
				break steps
			}
			good := g.rng.Float64() < g.passRate(c, ans.Model, changed)
			flagged := g.rng.Float64() < falseAlarm
			if !good {
				flagged = g.rng.Float64() < detect
			}
			for j, v := range ps.Validate {
				ans.Verdicts = append(ans.Verdicts, clearbar.Verdict{Validator: v.Summary(), Pass: !flagged || j > 0})
			}
			if !flagged {
				accepted = ans
				break steps
			}
			ans.Class, ans.Error = clearbar.Quality, "failed validation"
			switch {
			case ps.RetryOnce && round == 0:
				ans.Outcome = "retried after failed validation"
				continue
			case !last:
				ans.Outcome = "escalated after failed validation"
				continue steps
			case route.FailsWhenExhausted():
				d.Outcome, d.Status, d.Flagged = clearbar.Quality, 502, true
				d.Reason = "every step failed validation and the route fails exhausted requests"
				break steps
			}
			ans.Outcome = "delivered flagged: every step failed validation"
			d.Flagged, d.FlagReason = true, "every step failed validation"
			accepted = ans
			break steps
		}
	}
	if accepted != nil {
		if accepted.Outcome == "" {
			accepted.Outcome = "accepted"
		}
		d.Model, d.Provider, d.Status, d.Usage = accepted.Model, accepted.Provider, 200, accepted.Usage
		if d.Reason == "" {
			d.Reason = "accepted: " + accepted.Model
		}
	}
	for i := range d.Attempts {
		a := &d.Attempts[i]
		d.Cost += a.Cost
		d.Upstream += a.Latency
		if a != accepted {
			d.EscalationCost += a.Cost
		}
	}
	d.Overhead = time.Duration(1+g.rng.IntN(3)) * time.Millisecond
	d.Latency = d.Upstream + wait + d.Overhead
	d.TTFB = d.Latency
}

func (g *generator) availability(m *spec.Model, changed bool) float64 {
	if v, ok := g.t.Availability[m.Name]; ok && changed {
		return v
	}
	return m.Resolved.Availability
}

func (g *generator) passRate(c *spec.Category, model string, changed bool) float64 {
	if v, ok := g.t.PassRate[[2]string{c.Name, model}]; ok && changed {
		return v
	}
	p, _ := c.PassRate(g.s.Model(model))
	return p
}

func (g *generator) latencyScale(m *spec.Model, changed bool) float64 {
	if v, ok := g.t.LatencyScale[m.Name]; ok && changed {
		return v
	}
	return 1
}

// answer fills in a successful call: tokens, cost and latency.
func (g *generator) answer(a *clearbar.Attempt, c *spec.Category, m *spec.Model, changed bool) {
	in := max(1, int(math.Round(g.band(c.Tokens.In))))
	out := max(1, int(math.Round(g.band(c.Tokens.Out))))
	hit := float64(c.Tokens.CacheHit)
	if v, ok := g.t.CacheHit[c.Name]; ok && changed {
		hit = v
	}
	a.Usage = clearbar.Usage{PromptTokens: in, CompletionTokens: out, CachedTokens: int(math.Round(hit * float64(in)))}
	a.Cost = m.Cost(a.Usage)
	l := c.LatencyFor(m)
	var sec float64
	switch {
	case len(l.Samples) > 0:
		sec = l.Samples[g.rng.IntN(len(l.Samples))].D().Seconds()
	case l.TTFT != nil:
		sec = g.lognormal(l.TTFT.P50.D().Seconds(), l.TTFT.P95.D().Seconds()) + float64(out)/l.TokensPerSecond
	default:
		sec = g.lognormal(l.P50.D().Seconds(), l.P95.D().Seconds())
	}
	a.Latency = time.Duration(sec * g.latencyScale(m, changed) * float64(time.Second))
	a.TTFT = a.Latency / 3
}

// failAfter is how long a failed call takes: the latency assumption's fail_after, else its
// median.
func (g *generator) failAfter(c *spec.Category, m *spec.Model, changed bool) time.Duration {
	l := c.LatencyFor(m)
	sec := l.FailAfter.D().Seconds()
	if sec == 0 {
		switch {
		case len(l.Samples) > 0:
			sec = l.Samples[0].D().Seconds()
		case l.TTFT != nil:
			sec = l.TTFT.P50.D().Seconds() + c.Tokens.Out.P50/l.TokensPerSecond
		default:
			sec = l.P50.D().Seconds()
		}
	}
	return time.Duration(sec * g.latencyScale(m, changed) * float64(time.Second))
}

// band draws a token count: a fixed number, or a lognormal fitted to p50 and p95.
func (g *generator) band(b spec.Band) float64 {
	if !b.Dist {
		return b.P50
	}
	return g.lognormal(b.P50, b.P95)
}

// lognormal draws from the lognormal with the given median and 95th percentile.
func (g *generator) lognormal(p50, p95 float64) float64 {
	if p95 <= p50 {
		return p50
	}
	sigma := math.Log(p95/p50) / 1.6448536269514722
	return p50 * math.Exp(sigma*g.rng.NormFloat64())
}
