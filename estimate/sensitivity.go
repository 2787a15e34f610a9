package estimate

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/clearbar/clearbar/spec"
)

// Sensitivity reports which inputs change the recommendation when moved, one at a time.
type Sensitivity struct {
	// Move is the relative change applied to each input (0.2 = ±20%). Prices, latencies and
	// shares move by it; for probabilities the complement moves (a pass rate's failure rate,
	// a validator's miss rate, a model's error rate), so that 0.99 can move to 0.988, not 1.19.
	Move float64 `json:"move"`
	// Baseline is the recommendation with the inputs as written; BaselineClears says whether
	// it clears every bar and budget (when no policy does, it is the closest).
	Baseline       string `json:"baseline"`
	BaselineClears bool   `json:"baseline_clears"`
	// Flips are the moves that change the recommendation: the policy recommended, or whether
	// it clears every bar and budget (a move after which no policy clears changes a
	// recommendation to clear into one to come closest, even of the same policy); each says
	// which in Effect.Kind.
	Flips []Effect `json:"flips"`
	// Rerouted are the moves that keep the baseline policy recommended, and whether it
	// clears, but change the routes it stands for (Effect.RoutesChanged): a policy derived
	// from the inputs, such as cheapest-passing, picks other models when they move.
	Rerouted []Effect `json:"rerouted,omitempty"`
	// Largest are the moves with the largest effect on the baseline policy's monthly cost plus
	// risk, largest first.
	Largest []Effect `json:"largest"`
	// Runs is the number of perturbed estimates made.
	Runs int `json:"runs"`
	// BreakEvens, when asked for (FindBreakEvens), say how far each input can move, alone and
	// in each direction, before the recommendation changes (and, in BreakEven.RoutesChange,
	// before the recommended policy's routes do): those found nearest first (by
	// BreakEven.Move), then those with no change within the range searched. BreakEvenRuns is
	// the number of estimates the search made.
	BreakEvens    []BreakEven `json:"break_evens,omitempty"`
	BreakEvenRuns int         `json:"break_even_runs,omitempty"`

	// est is the estimator the report came from and knobs the inputs it moved, for
	// FindBreakEvens, which drops them: they hold every evaluated cell. So break-evens are
	// searched on a report straight from Run, once.
	est   *estimator
	knobs []knob
}

// Effect is the result of one perturbed estimate.
type Effect struct {
	Input       string `json:"input"`
	Change      string `json:"change"`
	Recommended string `json:"recommended"`
	// RecommendedClears says whether the policy recommended after the move clears every bar
	// and budget.
	RecommendedClears bool `json:"recommended_clears"`
	Flips             bool `json:"flips"`
	// Kind says, of a move that flips the recommendation, how: FlipPolicy, FlipNoneClears or
	// FlipNowClears; empty for a move that does not.
	Kind string `json:"kind,omitempty"`
	// Delta is the change in the baseline policy's monthly cost plus risk, as the move leaves
	// the policy: one derived from the inputs (cheapest-passing, cascade-by-price) is derived
	// again, and may route some categories otherwise (RoutesChanged), which is then part of
	// the change.
	Delta Dollars `json:"delta_monthly_cost_plus_risk_usd"`
	// Clears says whether the baseline policy still clears every bar.
	Clears bool `json:"baseline_still_clears"`
	// RoutesChanged says, per category whose route the move changes in the baseline policy,
	// its route before and after: "intent: nano → cascade nano → mini (…)". A move can keep
	// the policy recommended and change the routes it stands for.
	RoutesChanged []string `json:"routes_changed,omitempty"`
}

// The kinds of change a move makes to the recommendation (Effect.Kind).
const (
	// FlipPolicy: another policy is recommended (RecommendedClears says whether it clears
	// every bar and budget).
	FlipPolicy = "policy"
	// FlipNoneClears: the same policy stays recommended, but no policy clears every bar and
	// budget any more: it is recommended as the closest.
	FlipNoneClears = "none_clears"
	// FlipNowClears: the same policy stays recommended, and now clears every bar and budget,
	// where no policy did.
	FlipNowClears = "now_clears"
)

// flipKind is the kind of change from the baseline (base, and whether it clears) that a move
// leaving name recommended (clears saying whether it clears) makes; empty for none.
func flipKind(base string, baseClears bool, name string, clears bool) string {
	switch {
	case name != base:
		return FlipPolicy
	case clears == baseClears:
		return ""
	case clears:
		return FlipNowClears
	}
	return FlipNoneClears
}

// flipGroup is the moves of one kind of change, as the reports list them.
type flipGroup struct {
	Kind  string
	Moves []Effect
}

// flipGroups returns s.Flips by kind, in the order the reports list them: those that change
// the policy recommended, then those that leave no policy clearing, then those that make the
// recommended policy clear; none empty.
func (s *Sensitivity) flipGroups() []flipGroup {
	var out []flipGroup
	for _, k := range []string{FlipPolicy, FlipNoneClears, FlipNowClears} {
		g := flipGroup{Kind: k}
		for _, f := range s.Flips {
			if cmp.Or(flipKind(s.Baseline, s.BaselineClears, f.Recommended, f.RecommendedClears), FlipPolicy) == k {
				g.Moves = append(g.Moves, f)
			}
		}
		if len(g.Moves) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// routeChanges lists the categories whose routes differ between policy p as estimated and as
// a move leaves it (moved), each with both routes.
func routeChanges(p, moved *PolicyResult) []string {
	var out []string
	for i, c := range moved.Categories {
		if i < len(p.Categories) && c.Route != p.Categories[i].Route {
			out = append(out, fmt.Sprintf("%s: %s → %s", c.Category, p.Categories[i].Route, c.Route))
		}
	}
	return out
}

// perturbation changes a world and says which cells it can affect.
type perturbation struct {
	input, change string
	apply         func(w *world)
	affects       func(cl *cell) bool
	// timeless reports that the change leaves an affected cell's simulation as it is (a
	// price, or a pass rate of a model no validator checks on the route): its closed form is
	// recomputed and its latency kept. Nil means never.
	timeless func(cl *cell) bool
}

// knobKind says how an input moves and how its value reads.
type knobKind int

const (
	// kindPrice and kindLatency are factors on every price, or every response time, of a
	// model: 1 as assumed.
	kindPrice knobKind = iota
	kindLatency
	// kindSuccess is a probability whose complement moves: a pass rate (its failure rate), a
	// validator's detect rate (its miss rate), an availability (its error rate).
	kindSuccess
	// kindRate is a probability that moves itself: a validator's false-alarm rate.
	kindRate
	// kindShare is a category's share of traffic, the others rescaled to keep the total; with
	// pipelines, a share of user requests, the others rescaled, and the categories' shares of
	// calls and the calls a month derived from them: a pipeline's ("share of pipeline P") or a
	// category's called alone ("share of user requests calling X alone"; a category called
	// only as a pipeline step has none, its calls following its pipelines').
	kindShare
)

// knob is one uncertain input: the sensitivity moves it by ±x, the break-even search along
// its whole range (breakeven.go).
type knob struct {
	input string
	kind  knobKind
	// value is the input as the estimate has it (1 for a factor); complement names a
	// kindSuccess input's complement: "failure", "miss", "error".
	value      float64
	complement string
	set        func(w *world, v float64)
	affects    func(cl *cell) bool
	timeless   func(cl *cell) bool
	// model is a price or latency knob's model.
	model *spec.Model
	// atBar, for a pass rate, says what a break-even at v (within ± tol) means when v is its
	// category's quality bar; empty otherwise (see BreakEven.Note).
	atBar func(v, tol float64) string
}

// at is the perturbation that sets the knob to v.
func (k *knob) at(v float64, change string) perturbation {
	return perturbation{input: k.input, change: change, affects: k.affects, timeless: k.timeless,
		apply: func(w *world) { k.set(w, v) }}
}

// moved is the knob's value after a relative move by f (1.2 = +20%): a factor or a share
// times f; a probability's complement times f (kindSuccess), or the probability itself
// (kindRate), within [0, 1].
func (k *knob) moved(f float64) float64 {
	switch k.kind {
	case kindPrice, kindLatency:
		return f
	case kindSuccess:
		return 1 - math.Min(1, (1-k.value)*f)
	}
	return math.Min(1, k.value*f)
}

// change describes the sensitivity's move by ±x (sign) to v, as the report shows it.
func (k *knob) change(sign, x, v float64) string {
	switch k.kind {
	case kindSuccess:
		return fmt.Sprintf("%.4g → %.4g (%s rate %s)", k.value, v, k.complement, signed(sign*x))
	case kindRate:
		return fmt.Sprintf("%.4g → %.4g (%s)", k.value, v, signed(sign*x))
	case kindShare:
		return signed(sign*x) + ", others rescaled"
	}
	return signed(sign * x)
}

// knobs lists the inputs the sensitivity and the break-even search move, in the report's
// order: per model its prices, latency and availability; per category its pass rates, its
// validator's detect and false-alarm rates (where a route validates) and its share.
func (e *estimator) knobs() []knob {
	s := e.spec
	used := map[string]bool{}
	for _, cl := range e.cells {
		for _, m := range cl.models() {
			used[m] = true
		}
	}
	var out []knob
	for _, name := range slices.Sorted(maps.Keys(used)) {
		m := s.Model(name)
		usesM := func(cl *cell) bool { return slices.Contains(cl.models(), name) }
		out = append(out,
			knob{input: "price of " + name, kind: kindPrice, value: 1, model: m, affects: usesM,
				timeless: func(*cell) bool { return true },
				set:      func(w *world, v float64) { w.priceScale = with(w.priceScale, name, v) }},
			knob{input: "latency of " + name, kind: kindLatency, value: 1, model: m, affects: usesM,
				set: func(w *world, v float64) { w.latencyScale = with(w.latencyScale, name, v) }},
			e.availabilityKnob(m, usesM),
		)
	}
	for _, c := range s.Categories {
		for _, m := range s.Models {
			if _, ok := c.PassRate(m); !ok {
				continue
			}
			name := m.Name
			out = append(out, knob{input: fmt.Sprintf("pass rate of %s in %s", name, c.Name), kind: kindSuccess, complement: "failure",
				value:    e.world.pass(c, m),
				affects:  func(cl *cell) bool { return cl.cat == c && slices.Contains(cl.models(), name) },
				timeless: func(cl *cell) bool { return !cl.validates(name) },
				set:      func(w *world, v float64) { w.passRate = withKey(w.passRate, [2]string{c.Name, name}, v) },
				atBar:    passAtBar(e, c, m),
			})
		}
		if validatedAnywhere(e, c) {
			d, f := e.world.strength(c)
			checked := func(cl *cell) bool { return cl.cat == c && cl.validated() }
			out = append(out,
				knob{input: "validator detect rate in " + c.Name, kind: kindSuccess, complement: "miss", value: d, affects: checked,
					set: func(w *world, v float64) { w.detect = with(w.detect, c.Name, v) }},
				knob{input: "validator false-alarm rate in " + c.Name, kind: kindRate, value: f, affects: checked,
					set: func(w *world, v float64) { w.falseAlarm = with(w.falseAlarm, c.Name, v) }},
			)
		}
		switch d := float64(c.DirectShare); {
		case len(s.Pipelines) == 0 && len(s.Categories) > 1 && float64(c.Share) < 1-1e-9:
			// A category with every request has no others to rescale, and no knob.
			out = append(out, knob{input: "share of " + c.Name, kind: kindShare, value: e.world.shareOf(c), affects: func(*cell) bool { return false },
				set: func(w *world, v float64) { w.share = sharesWith(s, c, v) }})
		case len(s.Pipelines) > 0 && d > 0 && d < 1-1e-9:
			// With pipelines a category's share of model calls is derived (spec.Category.Share):
			// what moves is the share the spec states, of user requests that call the category
			// alone, the pipelines' and the other categories' rescaled, as a pipeline's share
			// moves. A category called only as a pipeline step has no knob: its calls follow its
			// pipelines' shares, which their own knobs move.
			out = append(out, knob{input: "share of user requests calling " + c.Name + " alone", kind: kindShare, value: d, affects: func(*cell) bool { return false },
				set: func(w *world, v float64) {
					var k float64
					w.share, k = callSharesMoving(s, nil, c, v)
					w.callsScale = k / s.CallsPerRequest()
				}})
		}
	}
	for _, p := range s.Pipelines {
		// A pipeline's share of user requests, the other pipelines' and the categories' own
		// shares rescaled: the categories' shares of calls follow (callSharesMoving). A pipeline
		// that serves every user request has no others to rescale, and no knob.
		if float64(p.Share) >= 1-1e-9 {
			continue
		}
		out = append(out, knob{input: "share of pipeline " + p.Name, kind: kindShare, value: float64(p.Share), affects: func(*cell) bool { return false },
			set: func(w *world, v float64) {
				var k float64
				w.share, k = callSharesMoving(s, p, nil, v)
				w.callsScale = k / s.CallsPerRequest()
			}})
	}
	return out
}

// availabilityKnob moves model m's availability as the estimate has it (measured, under
// --measured, else assumed; world.avail) by scaling its error rate in every category. Its value
// is the lowest availability of m among the categories that can call it, whose error rate
// moves as the knob's complement; the others move by the same factor. Where m's availability
// is 1 everywhere there is no error rate to scale, and the knob sets it.
func (e *estimator) availabilityKnob(m *spec.Model, usesM func(cl *cell) bool) knob {
	name := m.Name
	value, seen := m.Resolved.Availability, false
	for _, c := range e.spec.Categories {
		for _, cl := range e.cells {
			if cl.cat == c && usesM(cl) {
				if v := e.world.avail(c, m); !seen || v < value {
					value, seen = v, true
				}
				break
			}
		}
	}
	return knob{input: "availability of " + name, kind: kindSuccess, complement: "error", value: value, model: m, affects: usesM,
		set: func(w *world, v float64) {
			if value < 1 {
				w.errorScale = with(w.errorScale, name, (1-v)/(1-value))
			} else {
				w.availability = with(w.availability, name, v)
			}
		}}
}

func (e *estimator) sensitivity(ctx context.Context, policies []*Policy, base *Report) (*Sensitivity, error) {
	x := e.opts.Sensitivity
	knobs := e.knobs()
	var perts []perturbation
	for _, sign := range []float64{+1, -1} {
		for i := range knobs {
			k := &knobs[i]
			v := k.moved(1 + sign*x)
			if v == k.value && k.kind != kindPrice && k.kind != kindLatency {
				continue // a probability already at the end its move goes to
			}
			perts = append(perts, k.at(v, k.change(sign, x, v)))
		}
	}

	baseline := base.policy(base.Recommended)
	baseTotal := baseline.Total.CostPerMonth + baseline.Total.RiskPerMonth
	out := &Sensitivity{Move: x, Baseline: base.Recommended, BaselineClears: baseline.Clears, Runs: len(perts), est: e, knobs: knobs}
	var effects []Effect
	for _, pt := range perts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := e.perturbed(ctx, pt, e.opts.Workers)
		if err != nil {
			return nil, err
		}
		ef := Effect{Input: pt.input, Change: pt.change, Recommended: r.Recommended, RecommendedClears: r.policy(r.Recommended).Clears}
		ef.Kind = flipKind(out.Baseline, out.BaselineClears, ef.Recommended, ef.RecommendedClears)
		ef.Flips = ef.Kind != ""
		for _, p := range r.Policies {
			if p.Name == base.Recommended {
				ef.Delta = dollars(float64(p.Total.CostPerMonth+p.Total.RiskPerMonth-baseTotal) * nanosPerUSD)
				ef.Clears = p.Clears
				ef.RoutesChanged = routeChanges(baseline, p)
			}
		}
		effects = append(effects, ef)
		switch {
		case ef.Flips:
			out.Flips = append(out.Flips, ef)
		case len(ef.RoutesChanged) > 0:
			out.Rerouted = append(out.Rerouted, ef)
		}
	}
	slices.SortStableFunc(effects, func(a, b Effect) int {
		return cmp.Compare(math.Abs(float64(b.Delta)), math.Abs(float64(a.Delta)))
	})
	out.Largest = effects[:min(len(effects), 10)]
	return out, nil
}

// flipNote says, after the name of the policy a move makes the recommendation, what changed
// besides the name: whether the recommendation now clears every bar and budget.
func (s *Sensitivity) flipNote(f Effect) string {
	switch {
	case f.RecommendedClears == s.BaselineClears:
		return ""
	case f.RecommendedClears:
		return ", which clears every bar and budget"
	}
	return " comes closest, but no policy clears every bar and budget"
}

// perturbed re-runs the estimate in a changed world, reusing every cell the change cannot
// affect and the baseline's random streams for the rest, evaluating up to workers cells at
// once (the result does not depend on it).
func (e *estimator) perturbed(ctx context.Context, pt perturbation, workers int) (*Report, error) {
	w := e.world.clone()
	pt.apply(w)
	pe := &estimator{spec: e.spec, opts: e.opts, world: w, perCell: e.perCell, cells: map[cellKey]*cell{}, keepDraws: e.keepDraws, done: e.done}
	if w.callsScale > 0 {
		pe.opts.Volume = int64(math.Round(float64(e.opts.Volume) * w.callsScale))
	}
	pe.opts.Sensitivity = 0
	pe.opts.Workers = max(1, workers)
	for k, cl := range e.cells {
		if !pt.affects(cl) {
			pe.cells[k] = cl
			continue
		}
		if pt.timeless != nil && pt.timeless(cl) {
			// The change leaves the simulation as it is (prices change cost, not time): recompute
			// the closed form, keep the latency.
			ncl := *cl
			ncl.plan = w.compile(cl.cat, cl.route.Route, cl.route.Fallback)
			ncl.closed = ncl.plan.closed()
			ncl.served = ncl.closed.cost
			if ncl.closed.failed > 0 {
				ncl.served = w.servedCost(cl.cat, cl.route.Route, cl.route.Fallback, ncl.closed)
			}
			pe.cells[k] = &ncl
		}
	}
	policies, _ := basePolicies(e.spec)
	if err := pe.evaluate(ctx, policies); err != nil {
		return nil, err
	}
	derived, _ := pe.derivedPolicies(policies)
	if err := pe.evaluate(ctx, derived); err != nil {
		return nil, err
	}
	named := namedPolicies(e.spec)
	if err := pe.evaluate(ctx, named); err != nil {
		return nil, err
	}
	all := append(append(policies, derived...), named...)
	r := &Report{}
	seen := map[string]string{}
	for _, p := range all {
		pr := pe.policyResult(p, w)
		sig := policySignature(p)
		if first, ok := seen[sig]; ok {
			pr.SameAs = first
		} else {
			seen[sig] = p.Name
		}
		r.Policies = append(r.Policies, pr)
	}
	pe.recommend(r)
	return r, nil
}

// passAtBar returns the knob.atBar of m's pass rate in c: a pass rate equal to c's bar
// leaves m, alone, short of it, by the requests that fail.
func passAtBar(e *estimator, c *spec.Category, m *spec.Model) func(v, tol float64) string {
	return func(v, tol float64) string {
		bar := c.Bar()
		if math.Abs(v-bar) > tol+1e-9 {
			return ""
		}
		cl := e.world.call(c, m, fit{})
		if cl.avail >= 1 && cl.cut == 0 {
			// No request of m's fails: at the bar, m alone meets it.
			return fmt.Sprintf("%s is %s's quality bar: at it, %s alone meets the bar (availability 1: no request fails)",
				strconv.FormatFloat(bar, 'g', -1, 64), c.Name, m.Name)
		}
		retries, _ := e.spec.RetryPolicy(c)
		fails := availabilityText(cl.avail, cl.availDefault, retries)
		return fmt.Sprintf("%s is %s's quality bar: at it, %s alone still falls short of the bar, as requests that fail (%s) count as misses; it clears the bar only with a pass rate above it",
			strconv.FormatFloat(bar, 'g', -1, 64), c.Name, m.Name, fails)
	}
}

func validatedAnywhere(e *estimator, c *spec.Category) bool {
	for _, cl := range e.cells {
		if cl.cat == c && cl.route.Route.Validated() {
			return true
		}
	}
	return false
}

// signed writes a relative move f (0.2 is +20%) as signedPct does.
func signed(f float64) string { return signedPct(f * 100) }

func with(m map[string]float64, k string, v float64) map[string]float64 {
	out := maps.Clone(m)
	if out == nil {
		out = map[string]float64{}
	}
	out[k] = v
	return out
}

func withKey(m map[[2]string]float64, k [2]string, v float64) map[[2]string]float64 {
	out := maps.Clone(m)
	if out == nil {
		out = map[[2]string]float64{}
	}
	out[k] = v
	return out
}

// sharesWith sets c's share to v and rescales the others so the total stays 1.
func sharesWith(s *spec.Spec, c *spec.Category, v float64) map[string]float64 {
	rest := 1 - float64(c.Share)
	out := map[string]float64{}
	for _, o := range s.Categories {
		switch {
		case o == c:
			out[o.Name] = v
		case rest > 0:
			out[o.Name] = float64(o.Share) * (1 - v) / rest
		}
	}
	return out
}

// callSharesMoving returns the categories' shares of model calls when one kind of user request
// serves a share v of user requests, pipeline movedP's or, when movedP is nil, category
// movedC's called alone (spec.Category.DirectShare), the other pipelines' and the
// categories' own shares of user requests rescaled to keep the total, as the spec derives
// them; and the model calls a user request then makes (spec.Spec.CallsPerRequest).
func callSharesMoving(s *spec.Spec, movedP *spec.Pipeline, movedC *spec.Category, v float64) (map[string]float64, float64) {
	rest := 1.0
	if movedP != nil {
		rest -= float64(movedP.Share)
	} else {
		rest -= float64(movedC.DirectShare)
	}
	scaled := func(x float64) float64 {
		if rest <= 0 {
			return 0
		}
		return x * (1 - v) / rest
	}
	calls := map[string]float64{}
	var k float64
	for _, p := range s.Pipelines {
		sh := scaled(float64(p.Share))
		if p == movedP {
			sh = v
		}
		for _, st := range p.Steps {
			calls[st.Name] += sh
			k += sh
		}
	}
	for _, c := range s.Categories {
		d := scaled(float64(c.DirectShare))
		if movedP == nil && c == movedC {
			d = v
		}
		calls[c.Name] += d
		k += d
	}
	for name := range calls {
		calls[name] /= k
	}
	return calls, k
}

func (w *world) clone() *world {
	c := *w
	return &c
}

// models lists every model a cell's plan can call: step models, failover chains, judges and
// agreement checkers.
func (cl *cell) models() []string {
	var out []string
	add := func(n string) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, a := range cl.plan.arms {
		for _, st := range a.steps {
			for _, c := range st.chain {
				add(c.name)
			}
			for _, j := range st.judges {
				add(j.name)
			}
		}
	}
	return out
}

// validated reports whether any step of the cell's plan validates its answers.
func (cl *cell) validated() bool {
	for _, a := range cl.plan.arms {
		for _, st := range a.steps {
			if st.validated {
				return true
			}
		}
	}
	return false
}

// validates reports whether a validator checks model name's answers on the cell's plan: only
// then does its pass rate change the path a request takes, and so the simulated latency.
func (cl *cell) validates(name string) bool {
	for _, a := range cl.plan.arms {
		for _, st := range a.steps {
			if !st.validated {
				continue
			}
			for _, c := range st.chain {
				if c.name == name {
					return true
				}
			}
		}
	}
	return false
}
