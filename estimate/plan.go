package estimate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
	"github.com/clearbar/clearbar/spec"
)

// A route plan is a route compiled against one category's assumptions: every number the
// closed form and the simulation need, and nothing else. Both evaluate the same process:
//
//	for each step of the route (a cascade has several, a static route one):
//	    call the step's model; on a provider error retry it (with backoff), then fail over
//	    along its fallback chain; a call that runs past its timeout is cut there, is not
//	    retried (a slow model stays slow) and fails over; if every candidate fails, move to the
//	    next step (or, on the last step, the request fails);
//	    if the step validates: its validators' model calls, if any, are made (a judge scores
//	    the answer; an agreement check's model answers the request too); the validator flags
//	    a bad answer with probability detect and a good one with probability false_alarm; a
//	    flagged answer is retried once (retry_once: the retry is a new draw, as likely to be
//	    good and to be flagged as a first answer, whatever the first was; see retryNote) and
//	    then escalated to the next step; the
//	    last step's flagged answer is delivered (flagged) or fails the request (on_exhausted:
//	    fail); an answer that is not flagged is delivered.
//
// A split route is a weighted mixture of such arms. So are the requests of a category whose
// input tokens are more than some candidate's context window: for them the plan leaves that
// model out, as the gateway does, and a request that no candidate can take fails.
//
// Timeouts are the gateway's (see world.timeout): a model's timeout, else its provider's, each
// bounding one call; a model with neither is bounded by the request's timeout
// (server.request_timeout, 120s by default), and a call cut by that fails the request, since
// the gateway has no time left for another. A cut call costs nothing: the gateway records the
// usage a failed call reports, and a call cut by its deadline reports none (a provider may
// still bill the input it read). Neither form models the request timeout as a bound on the
// sum of a request's calls, only on each call; nor ttft_timeout (streams only), nor timeouts
// of validators' calls, which the gateway does not bound by the model's timeout.

// call is one candidate model for a step, in one category.
type call struct {
	name string
	pass float64 // P(answer is good | call succeeded)
	// passEsc is P(answer is good | call succeeded) for a request escalated to the call by an
	// earlier step's validation (assume.escalated_pass_rate; pass without one).
	passEsc float64
	avail   float64 // P(a single call succeeds)
	// availDefault says avail is spec.DefaultAvailability, which the spec does not state.
	availDefault bool
	cost         clearbar.Money // expected cost of a successful call
	lat          latencyModel
	// timeout bounds the call, in seconds (+Inf: never cut); abort says it is the request's
	// timeout, so that a cut fails the request. cut is P(an answer takes longer than timeout)
	// and meanCut the expected time of an answer, cut or not: E[min(L, timeout)].
	timeout float64
	abort   bool
	cut     float64
	meanCut float64
}

// judge is a validator's model call made for every validation of a step: a judge scoring the
// answer, or an agreement check's model answering the same request.
type judge struct {
	name string
	cost clearbar.Money
	lat  latencyModel
}

type step struct {
	chain      []call // the step's model, then its failover chain
	retries    int    // retries per candidate on provider errors
	backoff    float64
	validated  bool
	retryOnce  bool
	detect     float64
	falseAlarm float64
	judges     []judge
}

type arm struct {
	weight        float64
	steps         []step
	failExhausted bool
}

type routePlan struct {
	arms []arm
}

// exactLatency returns the quantiles qs of a plan's latency in closed form, when it has one:
// every request makes one call of one model that is always available, unvalidated or
// validated without a model's call or a retry, so its time is the model's response time,
// cut at the call's timeout (a cut call fails the request then, at the timeout). ttfb, the
// quantiles of the time to first byte, is nil when the timeout cuts some calls.
func (p routePlan) exactLatency(qs ...float64) (lat, ttfb []float64, ok bool) {
	if len(p.arms) != 1 || len(p.arms[0].steps) != 1 {
		return nil, nil, false
	}
	s := &p.arms[0].steps[0]
	if len(s.chain) != 1 || s.chain[0].avail != 1 || len(s.judges) > 0 || s.validated && s.retryOnce {
		return nil, nil, false
	}
	c := &s.chain[0]
	lat, ttfb = make([]float64, len(qs)), make([]float64, len(qs))
	for i, q := range qs {
		v, first, ok := c.lat.quantile(q)
		if !ok {
			return nil, nil, false
		}
		lat[i] = min(v, c.timeout)
		ttfb[i] = first
		if s.validated {
			ttfb[i] = v // held until it passes
		}
	}
	if c.cut > 0 {
		ttfb = nil
	}
	return lat, ttfb, true
}

// singleCall returns the one call every request of the plan makes, and the retries on a
// provider error, when it has one: one arm of one unvalidated step of one model, without
// failover.
func (p routePlan) singleCall() (c call, retries int, ok bool) {
	if len(p.arms) != 1 || len(p.arms[0].steps) != 1 {
		return call{}, 0, false
	}
	s := &p.arms[0].steps[0]
	if len(s.chain) != 1 || s.validated {
		return call{}, 0, false
	}
	return s.chain[0], s.retries, true
}

// retries reports whether the plan retries a flagged answer (retry_once) anywhere.
func (p routePlan) retries() bool {
	for _, a := range p.arms {
		for _, s := range a.steps {
			if s.validated && s.retryOnce {
				return true
			}
		}
	}
	return false
}

// withoutRetries returns the plan with retry_once turned off: a flagged answer escalates (or,
// on the last step, is delivered flagged or fails) at once. Its quality is what retry_once
// would give if the retry always repeated the answer it retries, which is what the
// estimate's independent redraw leaves out.
func (p routePlan) withoutRetries() routePlan {
	q := routePlan{arms: slices.Clone(p.arms)}
	for i := range q.arms {
		q.arms[i].steps = slices.Clone(q.arms[i].steps)
		for j := range q.arms[i].steps {
			q.arms[i].steps[j].retryOnce = false
		}
	}
	return q
}

// ttfbAssumed returns the models whose time to first byte on the plan rests on ttftShare:
// those that answer unvalidated steps (a validated step's first byte is its whole answer)
// without a ttft figure. Sorted.
func (p routePlan) ttfbAssumed() []string {
	var out []string
	for _, a := range p.arms {
		for _, s := range a.steps {
			if s.validated {
				continue
			}
			for _, c := range s.chain {
				if c.lat.form != formTTFT && !slices.Contains(out, c.name) {
					out = append(out, c.name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// world is the set of inputs plans are compiled from. Sensitivity analysis builds perturbed
// copies of it; everything else reads the spec through it.
type world struct {
	spec *spec.Spec
	// Multipliers applied to a model's prices and latency, by model name (default 1).
	priceScale   map[string]float64
	latencyScale map[string]float64
	// Overrides of assumptions (absent = as in the spec).
	passRate map[[2]string]float64 // {category, model}
	// escPassRate are measured escalated pass rates (call.passEsc), each with the pass rate of
	// the same model in the same category it was measured beside: {escalated, pass}.
	escPassRate map[[2]string][2]float64
	// errorScale multiplies a model's error rate (1 − availability), measured or assumed, in
	// every category; availability, when set, replaces it (the sensitivity moves a model
	// whose availability is 1 everywhere so, since no error rate is there to scale).
	errorScale   map[string]float64
	availability map[string]float64
	detect       map[string]float64 // by category
	falseAlarm   map[string]float64
	share        map[string]float64
	// callsScale, when set, scales the model calls a month (a pipeline's share of user
	// requests, or a category's called alone, moved by the sensitivity changes the calls a
	// user request makes; see callSharesMoving).
	callsScale float64
	// Measurements replace assumptions per {category, model}: latency samples (seconds),
	// tokens in and out, the prompt cache's share of input tokens, and availability.
	measuredLatency  map[[2]string][]float64
	measuredTokens   map[[2]string]measuredTokens
	measuredCacheHit map[[2]string]float64
	measuredAvail    map[[2]string]float64
}

func newWorld(s *spec.Spec) *world { return &world{spec: s} }

func (w *world) pass(c *spec.Category, m *spec.Model) float64 {
	if v, ok := w.passRate[[2]string{c.Name, m.Name}]; ok {
		return v
	}
	p, _ := c.PassRate(m)
	return p
}

// passEscalated is model m's pass rate in category c on the requests escalated to it (see
// call.passEsc): the measured one, else assume.escalated_pass_rate, else its pass rate. When
// the pass rate it goes with has moved (a sensitivity or break-even move, or a measurement
// that replaced an assumed pass rate), the escalated rate moves by as much in log-odds:
// escalated requests stay as much harder than the others, and a rate never leaves (0, 1)
// for a move of the other within it.
func (w *world) passEscalated(c *spec.Category, m *spec.Model) float64 {
	p := w.pass(c, m)
	key := [2]string{c.Name, m.Name}
	esc, base, ok := 0.0, 0.0, false
	if v, measured := w.escPassRate[key]; measured {
		esc, base, ok = v[0], v[1], true
	} else if v, assumed := c.Assume.EscalatedPassRate[m.Name]; assumed {
		esc, ok = float64(v), true
		base, _ = c.PassRate(m)
	}
	switch {
	case !ok:
		return p
	case p == base || base <= 0 || base >= 1 || esc <= 0 || esc >= 1:
		return esc
	case p <= 0 || p >= 1:
		return p
	}
	logit := func(x float64) float64 { return math.Log(x / (1 - x)) }
	return 1 / (1 + math.Exp(-(logit(esc) + logit(p) - logit(base))))
}

func (w *world) avail(c *spec.Category, m *spec.Model) float64 {
	if v, ok := w.availability[m.Name]; ok {
		return v
	}
	v := m.Resolved.Availability
	if mv, ok := w.measuredAvail[[2]string{c.Name, m.Name}]; ok {
		v = mv
	}
	if f, ok := w.errorScale[m.Name]; ok {
		v = 1 - math.Min(1, (1-v)*f)
	}
	return v
}

func (w *world) strength(c *spec.Category) (detect, falseAlarm float64) {
	st := c.Strength()
	detect, falseAlarm = float64(st.Detect), float64(st.FalseAlarm)
	if v, ok := w.detect[c.Name]; ok {
		detect = v
	}
	if v, ok := w.falseAlarm[c.Name]; ok {
		falseAlarm = v
	}
	return detect, falseAlarm
}

func (w *world) shareOf(c *spec.Category) float64 {
	if v, ok := w.share[c.Name]; ok {
		return v
	}
	return float64(c.Share)
}

func scaleOf(m map[string]float64, name string) float64 {
	if v, ok := m[name]; ok {
		return v
	}
	return 1
}

// callCost is the expected cost of one successful call of m in category c, for the requests
// of f.
func (w *world) callCost(c *spec.Category, m *spec.Model, f fit) clearbar.Money {
	t := c.Tokens
	reasoning := 0.0
	if m.Resolved.Reasoning {
		reasoning = newBand(t.Reasoning).Mean()
	}
	in, out := newBand(t.In), newBand(t.Out).Mean()
	hit := float64(t.CacheHit)
	if v, ok := w.measuredCacheHit[[2]string{c.Name, m.Name}]; ok {
		hit = v
	}
	if tok, ok := w.measuredTokens[[2]string{c.Name, m.Name}]; ok {
		// Measured completion tokens include reasoning tokens, as providers count them.
		out, reasoning = tok.meanOut-tok.meanReasoning, tok.meanReasoning
		e := m.Resolved.Prices
		if e.TierThreshold == 0 || tok.in[len(tok.in)-1] <= float64(e.TierThreshold) {
			return e.ExpectedCost(tok.meanIn, hit, out, reasoning).Scale(scaleOf(w.priceScale, m.Name))
		}
		// Some calls cross the long-context threshold: price each measured prompt (at most
		// 512 of them, evenly spaced in order), as each call is billed.
		n := min(len(tok.in), 512)
		var sum float64
		for i := range n {
			x := tok.in[i*len(tok.in)/n]
			sum += float64(e.ExpectedCost(x, hit, out, reasoning))
		}
		return clearbar.Money(math.Round(sum / float64(n))).Scale(scaleOf(w.priceScale, m.Name))
	}
	cost := expectedCost(m.Resolved.Prices, in, f.qlo, f.qhi, hit, out, reasoning)
	return cost.Scale(scaleOf(w.priceScale, m.Name))
}

// fit is a part of a category's requests, by their input tokens: those between two quantiles
// of the category's input band, with the models whose context window cannot hold them. The
// gateway leaves such a model out of a request's plan and moves to the next candidate.
type fit struct {
	weight   float64 // the part's share of the category's requests
	qlo, qhi float64 // its quantiles of the input band
	unfit    map[string]bool
}

// wholeBand is every request of a category, which every model can take.
var wholeBand = fit{weight: 1, qlo: 0, qhi: 1}

// minTooLong is the smallest share of a category's requests too long for a model's context
// window that the estimate counts: a lognormal token band has a tail past any window, which
// below this share is the fitted curve's, not the traffic's.
const minTooLong = 1e-6

// fits splits a category's requests by the context windows of the models the route can use:
// between consecutive windows that some of the requests are over, a part whose requests the
// models with the smaller windows cannot take. With no such window it is the whole band.
func (w *world) fits(c *spec.Category, r *spec.Route, fallback []spec.Ref) []fit {
	in := c.Tokens.In
	byWindow := map[int][]string{}
	for _, m := range w.spec.RouteCandidates(r, fallback) {
		if cw := m.Resolved.ContextWindow; cw > 0 && in.Over(float64(cw)) > minTooLong {
			byWindow[cw] = append(byWindow[cw], m.Name)
		}
	}
	if len(byWindow) == 0 {
		return []fit{wholeBand}
	}
	windows := slices.Sorted(maps.Keys(byWindow))
	var out []fit
	lo := 0.0
	unfit := map[string]bool{}
	for i := 0; i <= len(windows); i++ {
		hi := 1.0
		if i < len(windows) {
			hi = 1 - in.Over(float64(windows[i]))
		}
		if hi > lo {
			out = append(out, fit{weight: hi - lo, qlo: lo, qhi: hi, unfit: maps.Clone(unfit)})
		}
		if i < len(windows) {
			for _, name := range byWindow[windows[i]] {
				unfit[name] = true
			}
		}
		lo = max(lo, hi)
	}
	return out
}

// tooLong returns the share of category c's requests whose input tokens are more than m's
// context window (0 when m has none, or when below minTooLong).
func tooLong(c *spec.Category, m *spec.Model) float64 {
	cw := m.Resolved.ContextWindow
	if cw <= 0 {
		return 0
	}
	if p := c.Tokens.In.Over(float64(cw)); p > minTooLong {
		return p
	}
	return 0
}

func (w *world) latency(c *spec.Category, m *spec.Model) latencyModel {
	var reasoning *spec.Band
	if m.Resolved.Reasoning {
		reasoning = &c.Tokens.Reasoning
	}
	lm := newLatencyModel(c.LatencyFor(m), c.Tokens.Out, reasoning)
	if samples, ok := w.measuredLatency[[2]string{c.Name, m.Name}]; ok {
		lm = measuredLatencyModel(slices.Clone(samples))
	}
	if k := scaleOf(w.latencyScale, m.Name); k != 1 {
		lm.scale(k)
	}
	return lm
}

func (w *world) call(c *spec.Category, m *spec.Model, f fit) call {
	cl := call{name: m.Name, pass: w.pass(c, m), passEsc: w.passEscalated(c, m), avail: w.avail(c, m), cost: w.callCost(c, m, f), lat: w.latency(c, m)}
	cl.availDefault = m.Availability == nil && (m.Resolved.Provider == nil || m.Resolved.Provider.Availability == nil) &&
		cl.avail == spec.DefaultAvailability
	t, _, abort := w.timeout(m)
	cl.timeout, cl.abort = t.Seconds(), abort
	cut, excess := cl.lat.beyond(cl.timeout)
	if cut < minCut && cl.lat.failAfter < cl.timeout {
		// The lognormal's tail past a timeout this long is the fitted curve's, not the traffic's.
		cl.timeout, cut, excess = math.Inf(1), 0, 0
	}
	cl.cut, cl.meanCut = cut, cl.lat.mean()-excess
	return cl
}

// minCut is the smallest share of a model's calls cut by its timeout that the estimate counts.
const minCut = 1e-6

// timeout returns the bound on one call of m, as the gateway sets it (spec.Spec.CallBound): the
// model's timeout, else its provider's, else none but the request's (server.request_timeout,
// default spec.DefaultRequestTimeout), which also bounds a longer timeout of the model's. from
// says which, for people; abort reports that the bound is the request's.
func (w *world) timeout(m *spec.Model) (t time.Duration, from string, abort bool) {
	t, own, abort := w.spec.CallBound(m)
	switch own {
	case "model":
		from = "its timeout"
	case "provider":
		from = "its provider's timeout"
	}
	switch {
	case !abort:
		return t, from, false
	case from != "":
		return t, "the request timeout (server.request_timeout), no longer than " + from, true
	}
	return t, "the request timeout (server.request_timeout; the model and its provider set none)", true
}

// compile turns a category route into a plan. Requests too long for some of the route's
// models are a part of the plan of their own, without those models (see fits).
func (w *world) compile(c *spec.Category, r *spec.Route, fallback []spec.Ref) routePlan {
	fits := w.fits(c, r, fallback)
	if len(fits) == 1 && fits[0].weight == 1 {
		return w.compileFit(c, r, fallback, fits[0])
	}
	var p routePlan
	for _, f := range fits {
		for _, a := range w.compileFit(c, r, fallback, f).arms {
			a.weight *= f.weight
			p.arms = append(p.arms, a)
		}
	}
	return p
}

// servedCost is what route r costs a request when the requests it fails are charged what
// answering them would cost at its models' prices: a request that fails costs nothing, which
// would make a route that fails requests (too long for a model's context window, cut by a
// timeout, out of providers) look cheaper than one that serves them. Per part of the
// category's requests (see fits), a failed request is charged the part's cost per request
// answered as if every model of the route could take them; a route that fails nothing costs
// what it costs. A request that fails after paying for answers (flagged on the last step with
// on_exhausted: fail, or cut or out of providers after earlier steps answered) has paid part
// of that already, so the failed requests are charged what answering them would cost, or what
// they paid when that is more, taken together: with A the cost per answered request,
//
//	served = cost + max(0, failed × A − costFailed),  A = (all.cost − all.costFailed) / (1 − all.failed)
//
// where costFailed is what the requests that end failed paid (outcome.costFailed). The served
// cost is never less than the cost: failing is no saving. Infinite when some requests could
// not be answered at any price. compiled is the closed form of the route as compile compiles
// it: when every request fits every model, it is the one part's, and nothing is compiled again.
func (w *world) servedCost(c *spec.Category, r *spec.Route, fallback []spec.Ref, compiled outcome) float64 {
	fits := w.fits(c, r, fallback)
	if len(fits) == 1 && fits[0].weight == 1 && len(fits[0].unfit) == 0 {
		return served(compiled, compiled)
	}
	var total float64
	for _, f := range fits {
		o := w.compileFit(c, r, fallback, f).closed()
		all := o
		if o.failed > 0 && len(f.unfit) > 0 {
			whole := f
			whole.unfit = nil
			all = w.compileFit(c, r, fallback, whole).closed()
		}
		total += f.weight * served(o, all)
	}
	return total
}

// served is o's cost with its failed requests charged what answering them costs as all
// answers them, or what they paid when that is more (see servedCost); infinite when all
// answers nothing.
func served(o, all outcome) float64 {
	if o.failed == 0 {
		return o.cost
	}
	if all.failed >= 1 {
		return math.Inf(1)
	}
	return o.cost + max(0, o.failed*(all.cost-all.costFailed)/(1-all.failed)-o.costFailed)
}

// compileFit compiles a route for the requests of f.
func (w *world) compileFit(c *spec.Category, r *spec.Route, fallback []spec.Ref, f fit) routePlan {
	if len(r.Split) > 0 {
		var p routePlan
		for _, a := range r.Split {
			sub := w.compileFit(c, &a.Route, fallback, f)
			for _, sa := range sub.arms {
				sa.weight *= a.Weight
				p.arms = append(p.arms, sa)
			}
		}
		return p
	}
	if sc := r.Score; sc != nil {
		// A score route is a weighted mix of cascades, one per starting model; the weights are
		// the measured or assumed share of requests the score starts on each model.
		var p routePlan
		for i, m := range sc.Models {
			share := 1 / float64(len(sc.Models))
			if len(c.Assume.ScoreShare) > 0 {
				share = float64(c.Assume.ScoreShare[m.Name])
			}
			if share == 0 {
				continue
			}
			a := w.compileSteps(c, r, r.ScoreSteps(w.spec, i), fallback, f)
			a.weight = share
			// The score sends its start model the requests that model does well on: where
			// replay measured its pass rate on them, the start's first call takes it.
			if p, ok := c.Assume.ScorePassRate[m.Name]; ok && len(a.steps) > 0 && len(a.steps[0].chain) > 0 && a.steps[0].chain[0].name == m.Name {
				a.steps[0].chain[0].pass = float64(p)
			}
			p.arms = append(p.arms, a)
		}
		return p
	}
	return routePlan{arms: []arm{w.compileSteps(c, r, r.Steps(w.spec), fallback, f)}}
}

// compileSteps turns the steps of one cascade (or a static route's one step) into an arm, for
// the requests of f: a model too small for them is left out of each step's chain, and a step
// left with none is left out, as the gateway plans; an arm left with no step fails them.
func (w *world) compileSteps(c *spec.Category, r *spec.Route, steps []spec.PlanStep, fallback []spec.Ref, f fit) arm {
	s := w.spec
	retries, backoff := s.RetryPolicy(c)
	later := map[string]bool{}
	for _, st := range steps {
		later[st.Model.Name] = true
	}
	a := arm{weight: 1, failExhausted: r.FailsWhenExhausted()}
	for _, st := range steps {
		delete(later, st.Model.Name)
		// A step does not fail over to a model that a later step will call anyway.
		isLater := func(m *spec.Model) bool { return later[m.Name] }
		chainModels := append([]*spec.Model{st.Model}, s.FailoverChain(st.Model, fallback, isLater)...)
		ps := step{retries: retries, backoff: backoff.Seconds(), validated: len(st.Validate) > 0, retryOnce: st.RetryOnce}
		for _, m := range chainModels {
			if !f.unfit[m.Name] {
				ps.chain = append(ps.chain, w.call(c, m, f))
			}
		}
		if len(ps.chain) == 0 {
			continue
		}
		if ps.validated {
			ps.detect, ps.falseAlarm = w.strength(c)
			for _, v := range st.Validate {
				switch cfg := v.Config.(type) {
				case *spec.Judge:
					ps.judges = append(ps.judges, w.judgeCall(c, cfg))
				case *spec.Agree:
					if chk, ok := cfg.CheckerFor(st.Model.Name); ok {
						ps.judges = append(ps.judges, w.checkCall(c, chk, f))
					}
				}
			}
		}
		a.steps = append(a.steps, ps)
	}
	return a
}

func (w *world) judgeCall(c *spec.Category, j *spec.Judge) judge {
	m := w.spec.Model(j.Model.Name)
	extraIn, out := j.ExtraTokens()
	in := newBand(c.Tokens.In).Mean() + newBand(c.Tokens.Out).Mean() + extraIn
	cost := expectedCost(m.Resolved.Prices, band{Fixed: in}, 0, 1, 0, out, 0).Scale(scaleOf(w.priceScale, m.Name))
	lm := newLatencyModel(c.LatencyFor(m), spec.Band{P50: out, P95: out}, nil)
	if k := scaleOf(w.latencyScale, m.Name); k != 1 {
		lm.scale(k)
	}
	return judge{name: m.Name, cost: cost, lat: lm}
}

// checkCall is an agreement check's call: its model answers the client's request, so it costs
// what a call of that model costs in the category (the full request's tokens in and out) and
// takes that model's latency, after the step's answer.
func (w *world) checkCall(c *spec.Category, checker spec.Ref, f fit) judge {
	m := w.spec.Model(checker.Name)
	return judge{name: m.Name, cost: w.callCost(c, m, f), lat: w.latency(c, m)}
}

// routeKey is a canonical description of a route and its fallbacks, used to share the
// evaluation of identical routes between policies.
func routeKey(r *spec.Route, fallback []spec.Ref) string {
	var b strings.Builder
	writeRoute(&b, r)
	if len(fallback) > 0 {
		b.WriteString(" fallback ")
		for i, f := range fallback {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
		}
	}
	return b.String()
}

func writeRoute(b *strings.Builder, r *spec.Route) {
	switch {
	case len(r.Split) > 0:
		b.WriteString("split(")
		for i, a := range r.Split {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(b, "%g: ", a.Weight)
			writeRoute(b, &a.Route)
		}
		b.WriteString(")")
		return
	case r.Model != nil:
		b.WriteString(r.Model.Name)
	case r.Score != nil:
		b.WriteString("score(" + r.Score.Describe() + ")")
		if len(r.Validate) > 0 {
			b.WriteString(" [")
			writeValidators(b, r.Validate)
			b.WriteString("]")
		}
	default:
		for i, st := range r.Cascade {
			if i > 0 {
				b.WriteString(" → ")
			}
			b.WriteString(st.Model.Name)
			if len(st.Validate) > 0 {
				b.WriteString(" [")
				writeValidators(b, st.Validate)
				b.WriteString("]")
			}
			if st.OnFail != "" {
				b.WriteString(" on_fail " + st.OnFail)
			}
		}
	}
	if len(r.Validate) > 0 {
		b.WriteString(", validate ")
		writeValidators(b, r.Validate)
	}
	if r.OnFail != "" && r.OnFail != spec.OnFailEscalate {
		b.WriteString(", on_fail " + r.OnFail)
	}
	if r.OnExhausted == spec.ExhaustedFail {
		b.WriteString(", fail when exhausted")
	}
}

func writeValidators(b *strings.Builder, vs []*spec.Validator) {
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Summary())
	}
}

// expectedCost is the expected cost of one call with input band in, for the requests between
// its quantiles qlo and qhi (0 and 1 for all of them). When the band straddles a long-context
// price tier, or only some of its requests count, the cost is averaged over the band's
// quantiles between the two, because the tier makes cost non-linear in the input size.
func expectedCost(e catalog.Entry, in band, qlo, qhi, cacheHit, out, reasoning float64) clearbar.Money {
	whole := qlo == 0 && qhi == 1
	if !in.IsDist || e.TierThreshold == 0 && whole {
		return e.ExpectedCost(in.Mean(), cacheHit, out, reasoning)
	}
	n := 512
	if !whole {
		n = 2048 // a part's band is narrow, or the band's tail
	}
	var sum float64
	for i := range n {
		x := in.Dist.Quantile(qlo + (qhi-qlo)*(float64(i)+0.5)/float64(n))
		sum += float64(e.ExpectedCost(x, cacheHit, out, reasoning))
	}
	return clearbar.Money(math.Round(sum / float64(n)))
}
