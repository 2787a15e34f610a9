package estimate

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

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
	// recommendation to clear into one to come closest, even of the same policy).
	Flips []Effect `json:"flips"`
	// Largest are the moves with the largest effect on the baseline policy's monthly cost plus
	// risk, largest first.
	Largest []Effect `json:"largest"`
	// Runs is the number of perturbed estimates made.
	Runs int `json:"runs"`
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
	// Delta is the change in the baseline policy's monthly cost plus risk.
	Delta Dollars `json:"delta_monthly_cost_plus_risk_usd"`
	// Clears says whether the baseline policy still clears every bar.
	Clears bool `json:"baseline_still_clears"`
}

// perturbation changes a world and says which cells it can affect.
type perturbation struct {
	input, change string
	apply         func(w *world)
	affects       func(cl *cell) bool
	priceOnly     bool
}

func (e *estimator) sensitivity(ctx context.Context, policies []*Policy, base *Report) (*Sensitivity, error) {
	x := e.opts.Sensitivity
	s := e.spec
	var perts []perturbation
	used := map[string]bool{}
	for _, cl := range e.cells {
		for _, m := range cl.models() {
			used[m] = true
		}
	}
	models := slices.Sorted(maps.Keys(used))
	for _, sign := range []float64{+1, -1} {
		k := 1 + sign*x
		for _, name := range models {
			m := s.Model(name)
			usesM := func(cl *cell) bool { return slices.Contains(cl.models(), name) }
			perts = append(perts,
				perturbation{input: "price of " + name, change: signed(sign * x), priceOnly: true, affects: usesM,
					apply: func(w *world) { w.priceScale = with(w.priceScale, name, k) }},
				perturbation{input: "latency of " + name, change: signed(sign * x), affects: usesM,
					apply: func(w *world) { w.latencyScale = with(w.latencyScale, name, k) }},
			)
			a := m.Resolved.Availability
			na := 1 - math.Min(1, (1-a)*k)
			if na != a {
				perts = append(perts, perturbation{input: "availability of " + name, change: fmt.Sprintf("%.4g → %.4g (error rate %s)", a, na, signed(sign*x)), affects: usesM,
					apply: func(w *world) { w.availability = with(w.availability, name, na) }})
			}
		}
		for _, c := range s.Categories {
			inCat := func(cl *cell) bool { return cl.cat == c }
			for _, m := range s.Models {
				q, ok := c.PassRate(m)
				if !ok {
					continue
				}
				nq := 1 - math.Min(1, (1-q)*k)
				if nq == q {
					continue
				}
				name := m.Name
				perts = append(perts, perturbation{
					input: fmt.Sprintf("pass rate of %s in %s", name, c.Name), change: fmt.Sprintf("%.4g → %.4g (failure rate %s)", q, nq, signed(sign*x)),
					affects: func(cl *cell) bool { return cl.cat == c && slices.Contains(cl.models(), name) },
					apply:   func(w *world) { w.passRate = withKey(w.passRate, [2]string{c.Name, name}, nq) },
				})
			}
			if validatedAnywhere(e, c) {
				st := c.Strength()
				d, f := float64(st.Detect), float64(st.FalseAlarm)
				nd := 1 - math.Min(1, (1-d)*k)
				nf := math.Min(1, f*k)
				if nd != d {
					perts = append(perts, perturbation{input: "validator detect rate in " + c.Name, change: fmt.Sprintf("%.4g → %.4g (miss rate %s)", d, nd, signed(sign*x)), affects: inCat,
						apply: func(w *world) { w.detect = with(w.detect, c.Name, nd) }})
				}
				if nf != f {
					perts = append(perts, perturbation{input: "validator false-alarm rate in " + c.Name, change: fmt.Sprintf("%.4g → %.4g (%s)", f, nf, signed(sign*x)), affects: inCat,
						apply: func(w *world) { w.falseAlarm = with(w.falseAlarm, c.Name, nf) }})
				}
			}
			if len(s.Categories) > 1 && c.Share > 0 {
				perts = append(perts, perturbation{input: "share of " + c.Name, change: signed(sign*x) + ", others rescaled", affects: func(*cell) bool { return false },
					apply: func(w *world) { w.share = rescaledShares(s, c, k) }})
			}
		}
	}

	baseline := base.policy(base.Recommended)
	baseTotal := baseline.Total.CostPerMonth + baseline.Total.RiskPerMonth
	out := &Sensitivity{Move: x, Baseline: base.Recommended, BaselineClears: baseline.Clears, Runs: len(perts)}
	var effects []Effect
	for _, pt := range perts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, err := e.perturbed(ctx, pt)
		if err != nil {
			return nil, err
		}
		ef := Effect{Input: pt.input, Change: pt.change, Recommended: r.Recommended, RecommendedClears: r.policy(r.Recommended).Clears}
		ef.Flips = ef.Recommended != out.Baseline || ef.RecommendedClears != out.BaselineClears
		for _, p := range r.Policies {
			if p.Name == base.Recommended {
				ef.Delta = dollars(float64(p.Total.CostPerMonth+p.Total.RiskPerMonth-baseTotal) * nanosPerUSD)
				ef.Clears = p.Clears
			}
		}
		effects = append(effects, ef)
		if ef.Flips {
			out.Flips = append(out.Flips, ef)
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
	return ", the closest: no policy clears every bar and budget"
}

// perturbed re-runs the estimate in a changed world, reusing every cell the change cannot
// affect and the baseline's random streams for the rest.
func (e *estimator) perturbed(ctx context.Context, pt perturbation) (*Report, error) {
	w := e.world.clone()
	pt.apply(w)
	pe := &estimator{spec: e.spec, opts: e.opts, world: w, perCell: e.perCell, cells: map[cellKey]*cell{}}
	pe.opts.Sensitivity = 0
	for k, cl := range e.cells {
		if !pt.affects(cl) {
			pe.cells[k] = cl
			continue
		}
		if pt.priceOnly {
			// Prices change cost, not time: recompute the closed form, keep the latency.
			ncl := *cl
			ncl.plan = w.compile(cl.cat, cl.route.Route, cl.route.Fallback)
			ncl.closed = ncl.plan.closed()
			ncl.served = ncl.closed.cost
			if ncl.closed.failed > 0 {
				ncl.served = w.servedCost(cl.cat, cl.route.Route, cl.route.Fallback)
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

func validatedAnywhere(e *estimator, c *spec.Category) bool {
	for _, cl := range e.cells {
		if cl.cat == c && cl.route.Route.Validated() {
			return true
		}
	}
	return false
}

func signed(f float64) string { return fmt.Sprintf("%+.0f%%", f*100) }

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

// rescaledShares moves c's share by factor k and rescales the others so the total stays 1.
func rescaledShares(s *spec.Spec, c *spec.Category, k float64) map[string]float64 {
	old := float64(c.Share)
	nc := math.Min(1, old*k)
	rest := 1 - old
	out := map[string]float64{}
	for _, o := range s.Categories {
		switch {
		case o == c:
			out[o.Name] = nc
		case rest > 0:
			out[o.Name] = float64(o.Share) * (1 - nc) / rest
		}
	}
	return out
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
