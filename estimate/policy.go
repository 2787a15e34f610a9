package estimate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Policy kinds. The built-in policies' names are the spec package's (spec.PolicySpec and
// the rest), which a named policy may not take.
const (
	KindSpec     = "spec"     // the routes written in the spec
	KindSingle   = "single"   // every category on one model
	KindCheapest = "cheapest" // per category, the cheapest single model that clears the bar
	KindCascade  = "cascade"  // per category, a cascade in price order
	KindNamed    = "named"    // a policy written in the spec's policies:
)

// Policy is a routing policy under evaluation: one route per category.
type Policy struct {
	Name        string
	Kind        string
	Description string
	// Routes is aligned with the spec's categories.
	Routes []CategoryRoute

	cells []*cell
}

// CategoryRoute is the route a policy gives one category.
type CategoryRoute struct {
	Route    *spec.Route
	Fallback []spec.Ref
	// Note says why an automatic policy chose this route.
	Note string
}

func ref(name string) spec.Ref { return spec.Ref{Name: name} }

func static(name string) *spec.Route {
	r := ref(name)
	return &spec.Route{Model: &r}
}

// basePolicies returns the spec's own policy and one single-model policy per model that has a
// pass-rate assumption in every category. Notes say which models were left out and why.
func basePolicies(s *spec.Spec) ([]*Policy, []string) {
	own := &Policy{Name: spec.PolicySpec, Kind: KindSpec, Description: "the routes written in the spec"}
	for _, c := range s.Categories {
		own.Routes = append(own.Routes, CategoryRoute{Route: c.Route, Fallback: c.Fallback})
	}
	policies := []*Policy{own}
	var notes []string
	for _, m := range s.Models {
		var missing []string
		for _, c := range s.Categories {
			if _, ok := c.PassRate(m); !ok {
				missing = append(missing, c.Name)
			}
		}
		if len(missing) == len(s.Categories) {
			continue // a model used only as a judge, an agreement checker or a fallback
		}
		if len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("%s%s was not estimated: no pass rate for %s in %s", spec.PolicySinglePrefix, m.Name, m.Name, strings.Join(missing, ", ")))
			continue
		}
		p := &Policy{Name: spec.PolicySinglePrefix + m.Name, Kind: KindSingle, Description: "every category on " + m.Name}
		for _, c := range s.Categories {
			p.Routes = append(p.Routes, CategoryRoute{Route: static(m.Name), Fallback: withoutModel(c.Fallback, m.Name)})
		}
		policies = append(policies, p)
	}
	return policies, notes
}

func withoutModel(refs []spec.Ref, name string) []spec.Ref {
	var out []spec.Ref
	for _, r := range refs {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}

// namedPolicies returns the spec's policies: section, each applied over the spec's routes.
func namedPolicies(s *spec.Spec) []*Policy {
	var out []*Policy
	for _, np := range s.Policies {
		p := &Policy{Name: np.Name, Kind: KindNamed, Description: np.Description}
		if p.Description == "" {
			p.Description = "named in the spec"
		}
		for _, c := range s.Categories {
			cr := CategoryRoute{Route: c.Route, Fallback: c.Fallback}
			if pr, ok := np.Routes[c.Name]; ok {
				cr.Route = &pr.Route
				if pr.HasFallback {
					cr.Fallback = pr.Fallback
				}
			}
			p.Routes = append(p.Routes, cr)
		}
		out = append(out, p)
	}
	return out
}

// candidate is a model evaluated alone in one category. perCall is what one of its calls
// costs on the category's requests, all of them, at its prices: what ranks it by price.
type candidate struct {
	model   *spec.Model
	cell    *cell
	perCall clearbar.Money
}

// singleCandidates returns, per category, every model with a pass-rate assumption evaluated
// as a static route, cheapest first: by the cost of a call on the category's requests (then
// the expected cost per request, then name). Not by the expected cost per request alone: a
// model whose context window is too small for some requests fails them at no cost, which
// would rank it cheaper than a model that serves them all at lower prices. It evaluates the
// cells it needs.
func (e *estimator) singleCandidates(c *spec.Category) []candidate {
	var out []candidate
	for _, m := range e.spec.Models {
		if _, ok := c.PassRate(m); !ok {
			continue
		}
		cl := e.cellFor(c, CategoryRoute{Route: static(m.Name), Fallback: withoutModel(c.Fallback, m.Name)})
		if cl.sim == nil {
			e.compute(cl, e.perCell)
		}
		out = append(out, candidate{model: m, cell: cl, perCall: e.world.callCost(c, m, wholeBand)})
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.perCall, b.perCall), cmp.Compare(a.cell.closed.cost, b.cell.closed.cost), cmp.Compare(a.model.Name, b.model.Name))
	})
	return out
}

func (cl *cell) clears() bool {
	return cl.closed.quality >= cl.cat.Bar()-1e-12 && cl.meetsBudget()
}

// meetsBudget reports whether the route's p95 is within the category's latency budget. The
// closed form's p95, when there is one (see routePlan.exactLatency), is compared exactly; the
// simulation's may be over the budget by its error (hist.quantileTol): budgetZ standard
// errors of the estimate plus half a histogram bucket, where it cannot be told from the
// budget, so that the verdict does not turn on the seed, except near the budget plus that
// tolerance, where it still can.
func (cl *cell) meetsBudget() bool {
	b := cl.cat.LatencyBudget.D().Seconds()
	switch {
	case b == 0:
		return true
	case cl.exact:
		return cl.latency.P95 <= b*(1+1e-9)
	}
	return cl.latency.P95 <= b+cl.p95Tol
}

// withinError reports whether the route meets its budget only within the simulation's error:
// its simulated p95 is over the budget, by less than the error.
func (cl *cell) withinError() bool {
	b := cl.cat.LatencyBudget.D().Seconds()
	return b > 0 && !cl.exact && cl.latency.P95 > b && cl.meetsBudget()
}

// shortfall is how far a route misses its category's bar and budget, relative to what each
// allows, in percent: its failure rate (1 − quality) over the 1 − bar its bar allows, plus
// its p95 over the budget, when it misses them. A route 1 point under a 95% bar misses by
// 20% (a 6% failure rate where 5% is allowed); one whose p95 is 2.2s on a 2s budget by 10%.
func (cl *cell) shortfall() float64 {
	return qualityShortfall(cl.closed.quality, cl.cat.Bar()) + latencyShortfall(cl.latency.P95, cl.cat.LatencyBudget.D().Seconds(), cl.meetsBudget())
}

func qualityShortfall(q, bar float64) float64 {
	if q >= bar-1e-12 {
		return 0
	}
	return (bar - q) / max(1-bar, 1e-3) * 100
}

func latencyShortfall(p95, budget float64, meets bool) float64 {
	if meets || budget == 0 {
		return 0
	}
	return (p95/budget - 1) * 100
}

// derivedPolicies builds the policies that depend on single-model results: the cheapest
// single model per category that clears its bar, fitted to the pipelines' budgets
// (fitPipelines), and cascades in price order.
func (e *estimator) derivedPolicies(base []*Policy) ([]*Policy, []string) {
	s := e.spec
	cheapest := &Policy{Name: spec.PolicyCheapestPassing, Kind: KindCheapest,
		Description: "per category, the cheapest single model that clears the quality bar and latency budget"}
	cascade := &Policy{Name: spec.PolicyCascadeByPrice, Kind: KindCascade,
		Description: "per category, start on the cheapest model and escalate in price order on failed validation"}
	var notes []string
	n := len(s.Categories)
	cands, picks := make([][]candidate, n), make([]int, n)
	choices, cells := make([]stepChoice, n), make([]*cell, n)
	for i, c := range s.Categories {
		cands[i] = e.singleCandidates(c)
		picks[i] = -1
		for j, cd := range cands[i] {
			if cd.cell.clears() {
				if picks[i] < 0 {
					picks[i] = j
				}
				choices[i].options = append(choices[i].options, cd)
			}
		}
		if picks[i] >= 0 {
			cells[i] = cands[i][picks[i]].cell
		} else if len(cands[i]) > 0 {
			cells[i] = e.closest(cands[i]).cell
		}
	}
	moved := map[int]string{}
	if len(s.Pipelines) > 0 && !slices.Contains(cells, nil) {
		from, ok := e.fitPipelines(choices, cells)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s: no choice of models that clear their categories brings every pipeline within its latency budget; each category keeps its cheapest",
				spec.PolicyCheapestPassing))
		}
		for i, o := range from {
			ch := choices[i]
			moved[i] = fmt.Sprintf("%s clears the bar; the cheaper %s does too, but leaves %s",
				ch.options[ch.chosen].model.Name, ch.options[o].model.Name, e.overBudget(withCell(cells, i, ch.options[o].cell)))
		}
	}
	for i, c := range s.Categories {
		if len(cands[i]) == 0 {
			// Cannot happen for a loaded spec: its route's models all have pass rates.
			cheapest.Routes = append(cheapest.Routes, CategoryRoute{Route: c.Route, Fallback: c.Fallback, Note: "no candidates with pass rates; kept the spec's route"})
			cascade.Routes = append(cascade.Routes, cheapest.Routes[len(cheapest.Routes)-1])
			continue
		}
		pick := picks[i]
		var cr CategoryRoute
		switch {
		case moved[i] != "":
			ch := choices[i]
			cr = ch.options[ch.chosen].cell.route
			cr.Note = moved[i]
		case pick >= 0:
			cr = cands[i][pick].cell.route
			cr.Note = fmt.Sprintf("%s is the cheapest model that clears the bar alone", cands[i][pick].model.Name)
		default:
			best := e.closest(cands[i])
			cr = best.cell.route
			cr.Note = fmt.Sprintf("no single model clears the bar and budget; %s comes closest: %s", best.model.Name, strings.Join(best.cell.misses(), "; "))
			notes = append(notes, fmt.Sprintf("%s, %s: %s", cheapest.Name, c.Name, cr.Note))
		}
		cheapest.Routes = append(cheapest.Routes, cr)

		validators, onFail := c.Route.MainValidators()
		top := pick
		switch {
		case moved[i] != "":
			top = slices.IndexFunc(cands[i], func(cd candidate) bool { return cd.cell == choices[i].options[choices[i].chosen].cell })
		case top < 0:
			top = len(cands[i]) - 1
		}
		switch {
		case len(validators) == 0:
			cr.Note = "no validation to escalate on; same as cheapest-passing"
			cascade.Routes = append(cascade.Routes, cr)
		case top == 0:
			cr.Note = "the cheapest model clears the bar alone; no cascade needed"
			cascade.Routes = append(cascade.Routes, cr)
		default:
			r := &spec.Route{Validate: validators, OnFail: onFail, OnExhausted: c.Route.OnExhausted}
			var names, selfChecked []string
			for _, cd := range cands[i][:top+1] {
				if _, ok := spec.AgreementCheckers(validators, cd.model.Name); !ok {
					selfChecked = append(selfChecked, cd.model.Name)
					continue
				}
				r.Cascade = append(r.Cascade, &spec.Step{Model: ref(cd.model.Name)})
				names = append(names, cd.model.Name)
			}
			fallback := c.Fallback
			for _, n := range names {
				fallback = withoutModel(fallback, n)
			}
			note := "price order " + strings.Join(names, " → ") + ", validated as the spec validates this category"
			if len(selfChecked) > 0 {
				note += "; without " + strings.Join(selfChecked, ", ") + ", whose answers the agreement check would ask the same model to check"
			}
			cascade.Routes = append(cascade.Routes, CategoryRoute{Route: r, Fallback: fallback, Note: note})
		}
	}
	if len(s.Pipelines) > 0 {
		if note := e.fitCascades(cheapest, cascade); note != "" {
			notes = append(notes, note)
		}
	}
	return []*Policy{cheapest, cascade}, notes
}

// closest returns the candidate that misses its category's bar and budget by the least,
// relative to what they allow (cell.shortfall); then the cheapest.
func (e *estimator) closest(cands []candidate) candidate {
	return slices.MinFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.cell.shortfall(), b.cell.shortfall()), cmp.Compare(a.perCall, b.perCall))
	})
}
