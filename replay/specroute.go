package replay

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// specColumns maps outcomes model names to table columns for a spec: a row's model fills the
// spec model of that name, else every spec model whose provider model id it is, else a column
// of its own name (a model the spec does not declare, kept for comparison).
func specColumns(s *spec.Spec) func(string) []string {
	byID := map[string][]string{}
	for _, m := range s.Models {
		byID[m.Model] = append(byID[m.Model], m.Name)
	}
	return func(model string) []string {
		if s.Model(model) != nil {
			return []string{model}
		}
		if names := byID[model]; len(names) > 0 {
			return names
		}
		return []string{model}
	}
}

// specPrice prices rows of spec models at the spec's prices when the row has token counts and
// either no recorded cost or reprice is set; other rows keep their recorded cost.
func specPrice(s *spec.Spec, reprice bool) func(string, *outcomes.Row) clearbar.Money {
	return func(column string, r *outcomes.Row) clearbar.Money {
		m := s.Model(column)
		if m == nil || r.TokensIn+r.TokensOut == 0 || (r.Cost != 0 && !reprice) {
			return r.Cost
		}
		return m.Resolved.Prices.RequestCost(int64(r.TokensIn), 0, int64(r.TokensOut), 0)
	}
}

// specRoute is a spec route turned into replay policies: one that runs the spec's validators
// on the recorded answers (when it validates and they compile) and one that simulates them
// with the category's assumed strength.
type specRoute struct {
	cat   *spec.Category
	label string
	// err says why the route could not be replayed (a score route whose router cannot be
	// loaded); the policies are then nil.
	err error
	// unembedded counts the decisions of a score route whose learned router was trained with
	// embeddings: replay has no providers, so they were made without the request's embedding.
	unembedded atomic.Int64
	real       Policy
	assumed    Policy
	checks     []*verdictCheck
	validate   bool
}

// verdictCheck runs one cascade step's validators on the rows of its model.
type verdictCheck struct {
	verdicts   *Verdicts
	step       int
	model      string
	validators []*spec.Validator
}

// newSpecRoute builds the policies for route r of category c. checker may be nil, in which
// case only the assumed-strength policy validates.
func newSpecRoute(s *spec.Spec, c *spec.Category, label string, r *spec.Route, checker *validate.Checker) *specRoute {
	sr := &specRoute{cat: c, label: label, validate: r.Validated()}
	if !sr.validate {
		sr.assumed = sr.policy(s, r, nil, nil, label)
		return sr
	}
	strength := c.Strength()
	assumed := Strength{Detect: float64(strength.Detect), FalseAlarm: float64(strength.FalseAlarm)}
	sr.assumed = sr.policy(s, r, &assumed, nil, label+" (assumed "+assumed.String()+")")
	if checker != nil {
		sr.real = sr.policy(s, r, nil, checker, label+" (validators)")
	}
	return sr
}

// policy converts a route: a static or cascade route to a Cascade, a split to a Split of its
// arms. With a strength, validation is simulated; with a checker, the verdicts are collected
// while the table is built.
func (sr *specRoute) policy(s *spec.Spec, r *spec.Route, strength *Strength, checker *validate.Checker, label string) Policy {
	if len(r.Split) > 0 {
		sp := &Split{Label: label, Kind: "spec"}
		for _, arm := range r.Split {
			p := sr.policy(s, &arm.Route, strength, checker, "")
			if p == nil {
				return nil
			}
			sp.Arms = append(sp.Arms, Arm{Weight: arm.Weight, Policy: p})
		}
		return sp
	}
	if r.Score != nil {
		scorer, err := route.NewScorer(s, sr.cat, r)
		if err != nil {
			sr.err = err
			return nil
		}
		rt := &Routed{Label: label, Kind: "spec", Choose: func(it *Item) int {
			var rec clearbar.Score
			req := clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: it.Prompt}}}
			start := scorer.Start(context.Background(), it.Prompt, "", route.EstimateTokens(&req), &rec)
			if e := rec.Embedding; e != nil && !e.Used {
				sr.unembedded.Add(1)
			}
			return start
		}}
		for i := range r.Score.Models {
			rt.Arms = append(rt.Arms, sr.cascade(s, r, r.ScoreSteps(s, i), strength, checker, ""))
		}
		return rt
	}
	return sr.cascade(s, r, r.Steps(s), strength, checker, label)
}

// cascade converts the steps of a static route, a cascade or a score route's start.
func (sr *specRoute) cascade(s *spec.Spec, r *spec.Route, plan []spec.PlanStep, strength *Strength, checker *validate.Checker, label string) *Cascade {
	c := &Cascade{Label: label, Kind: "spec", FailExhausted: r.FailsWhenExhausted()}
	validated := false
	for _, ps := range plan {
		c.Steps = append(c.Steps, Step{Model: ps.Model.Name, Validated: len(ps.Validate) > 0, RetryOnce: ps.RetryOnce})
		validated = validated || len(ps.Validate) > 0
	}
	switch {
	case !validated:
	case strength != nil:
		st := *strength
		c.Strength = &st
	case checker != nil:
		c.Verdicts = NewVerdicts(len(plan))
		for j, ps := range plan {
			if len(ps.Validate) > 0 {
				sr.checks = append(sr.checks, &verdictCheck{verdicts: c.Verdicts, step: j, model: ps.Model.Name, validators: ps.Validate})
			}
		}
	}
	return c
}

// observe runs the route's validators on a row that fills column.
func (sr *specRoute) observe(ctx context.Context, checker *validate.Checker, item int, column string, row *outcomes.Row) {
	for _, vc := range sr.checks {
		if vc.model != column || row.Error != "" {
			continue
		}
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: row.Model, N: 1,
			Messages: []clearbar.Message{{Role: "user", Text: row.Prompt}}}
		resp := &clearbar.Response{Model: row.Model, Choices: []clearbar.Choice{{Text: row.Response, FinishReason: "stop"}}}
		_, pass, calls := checker.Check(ctx, req, resp, vc.validators)
		var cost float64
		for _, c := range calls {
			cost += float64(c.Cost)
		}
		vc.verdicts.Set(item, vc.step, pass, cost)
	}
}

// specRoutes returns the category's own route and every named policy's route for it.
func specRoutes(s *spec.Spec, c *spec.Category, checker *validate.Checker) []*specRoute {
	var out []*specRoute
	if c.Route != nil {
		out = append(out, newSpecRoute(s, c, "spec: "+describeRoute(c.Route), c.Route, checker))
	}
	for _, p := range s.Policies {
		if pr, ok := p.Routes[c.Name]; ok && pr != nil {
			out = append(out, newSpecRoute(s, c, "policy "+p.Name+": "+describeRoute(&pr.Route), &pr.Route, checker))
		}
	}
	return out
}

// describeRoute writes a route briefly: "strong", "nano → strong", "split 50% a / 50% b".
func describeRoute(r *spec.Route) string {
	switch {
	case len(r.Split) > 0:
		var total float64
		for _, a := range r.Split {
			total += a.Weight
		}
		out := "split"
		for i, a := range r.Split {
			sep := " "
			if i > 0 {
				sep = " / "
			}
			out += sep + fmt.Sprintf("%.0f%% %s", math.Round(a.Weight/total*100), describeRoute(&a.Route))
		}
		return out
	case r.Score != nil:
		return "score " + r.Score.Describe()
	case len(r.Cascade) > 0:
		out := ""
		for i, st := range r.Cascade {
			if i > 0 {
				out += " → "
			}
			out += st.Model.Name
		}
		return out
	case r.Model != nil:
		return r.Model.Name
	}
	return "(no route)"
}
