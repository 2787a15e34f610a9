package replay

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

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
		return m.Cost(r.Usage())
	}
}

// requestTokens is the estimated input tokens of the request an item replays: its prompt as
// the one user message, estimated as the gateway estimates a request's.
func requestTokens(it *Item) int {
	req := clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: it.Prompt}}}
	return route.EstimateTokens(&req)
}

// SpecPricer prices an item's calls to models as the gateway's score routes in category c of
// s price a request to decide by willingness to pay (route.DecisionCost), for the item's
// estimated input tokens (see requestTokens). It prices the items of a table whose models are
// models, in that order (Table.Models), and panics on an item of a table with other models:
// out[m] is the price of models[m]. Models the spec does not declare are left NaN, for their
// mean cost. A willingness-to-pay router that decides on these prices decides each item as the
// spec's score route would with the same λ, so that the λ calibration chooses on it is the one
// the gateway applies.
func SpecPricer(s *spec.Spec, c *spec.Category, models []string) Pricer {
	costs := make([]*route.DecisionCost, len(models)) // nil for a model the spec lacks
	for m, name := range models {
		if mod := s.Model(name); mod != nil {
			d := route.NewDecisionCost(c, mod)
			costs[m] = &d
		}
	}
	checked := models // the last item models compared equal to models
	return func(it *Item, out []float64) {
		if !sameSlice(it.Models, checked) {
			if !slices.Equal(it.Models, models) {
				panic(fmt.Sprintf("replay: SpecPricer for models %v used on an item of a table of %v", models, it.Models))
			}
			checked = it.Models
		}
		tokens := requestTokens(it)
		for m := range out {
			out[m] = math.NaN()
			if costs[m] != nil {
				out[m] = costs[m].USD(tokens)
			}
		}
	}
}

// sameSlice reports whether a and b are the same slice (the items of a table share one).
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
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
	// providers are what a score route's learned router trained with embeddings embeds
	// through (Options.Providers); nil: it predicts without the embedding.
	providers map[string]clearbar.Provider
	// unembedded counts the decisions of a score route whose learned router was trained with
	// embeddings that were made without the request's embedding: all of them without
	// providers, else those whose vector the providers did not have.
	unembedded atomic.Int64
	real       Policy
	assumed    Policy
	checks     []*verdictCheck
	validate   bool
	// unverified counts, by checker model, the agreement checks that found no recorded answer
	// of their model to the item (filled while the table is built).
	unverified map[string]int
	// byVerdicts counts the answers without recorded text (decision records keep none
	// unless the category sets record_text) judged by the verdicts recorded with them;
	// textless those with neither, which the validators checked as empty answers.
	byVerdicts, textless int
}

// verdictCheck runs one cascade step's validators on the rows of its model.
type verdictCheck struct {
	verdicts   *Verdicts
	step       int
	model      string
	validators []*spec.Validator
	// checkers are the models the step's agreement checks compare with: the step's verdict on
	// an item waits for their rows of the item.
	checkers []string
}

// newSpecRoute builds the policies for route r of category c. checker may be nil, in which
// case only the assumed-strength policy validates. A score route's learned router trained
// with embeddings embeds through providers (see Options.Providers).
func newSpecRoute(s *spec.Spec, c *spec.Category, label string, r *spec.Route, checker *validate.Checker, providers map[string]clearbar.Provider) *specRoute {
	sr := &specRoute{cat: c, label: label, validate: r.Validated(), providers: providers}
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
		scorer, err := route.NewScorerWith(s, sr.cat, r, route.Options{Providers: sr.providers})
		if err != nil {
			sr.err = err
			return nil
		}
		rt := &Routed{Label: label, Kind: "spec", Choose: func(it *Item) int {
			var rec clearbar.Score
			start := scorer.Start(context.Background(), it.Prompt, it.System, requestTokens(it), &rec)
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
		st := Step{Model: ps.Model.Name, Validated: len(ps.Validate) > 0, RetryOnce: ps.RetryOnce}
		st.Checkers, _ = spec.AgreementCheckers(ps.Validate, ps.Model.Name)
		c.Steps = append(c.Steps, st)
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
				sr.checks = append(sr.checks, &verdictCheck{verdicts: c.Verdicts, step: j, model: ps.Model.Name, validators: ps.Validate, checkers: c.Steps[j].Checkers})
			}
		}
	}
	return c
}

// recorded is what a row recorded, as far as validation needs it: the prompt, the answer, and
// for a checker's row its cost (priced as the table prices it), latency and failure.
type recorded struct {
	model, prompt, response string
	toolCalls               []clearbar.ToolCall
	cost                    clearbar.Money
	latencyMS               float64
	err                     string
}

// verdict runs step vc's validators on a recorded answer to item and sets the step's verdict.
// Agreement checks compare with the checkers' recorded answers in others (by column); the
// cost and latency of the checker rows they use are the validation's.
func (sr *specRoute) verdict(ctx context.Context, checker *validate.Checker, item int, vc *verdictCheck, ans *recorded, others map[string]*recorded) {
	req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Model: ans.model, N: 1,
		Messages: []clearbar.Message{{Role: "user", Text: ans.prompt}}}
	choice := clearbar.Choice{Text: ans.response, ToolCalls: ans.toolCalls, FinishReason: "stop"}
	if len(ans.toolCalls) > 0 {
		choice.FinishReason = "tool_calls"
	}
	resp := &clearbar.Response{Model: ans.model, Choices: []clearbar.Choice{choice}}
	if len(vc.checkers) > 0 {
		ctx = validate.WithRecorded(ctx, func(model string) (*clearbar.Response, clearbar.Attempt, error) {
			r := others[model]
			if r == nil {
				if sr.unverified == nil {
					sr.unverified = map[string]int{}
				}
				sr.unverified[model]++
				return nil, clearbar.Attempt{}, validate.ErrNotRecorded
			}
			a := clearbar.Attempt{Model: model, Cost: r.cost, Latency: time.Duration(r.latencyMS * float64(time.Millisecond))}
			if r.err != "" {
				var class clearbar.FailureClass
				if class.UnmarshalText([]byte(r.err)) != nil {
					class = clearbar.Internal
				}
				a.Class = class
				return nil, a, &clearbar.Error{Class: class, Message: "the recorded call failed: " + r.err}
			}
			return &clearbar.Response{Model: model, Choices: []clearbar.Choice{{Text: r.response, FinishReason: "stop"}}}, a, nil
		})
	}
	_, pass, calls := checker.Check(ctx, vc.model, req, resp, vc.validators)
	var cost, lat float64
	for _, c := range calls {
		cost += float64(c.Cost)
		if c.Latency <= 0 {
			lat = math.Inf(1) // not recorded: the item's latency is unknown
		}
		lat += float64(c.Latency) / float64(time.Millisecond)
	}
	vc.verdicts.Set(item, vc.step, pass, cost)
	if len(calls) > 0 {
		if math.IsInf(lat, 1) {
			lat = -1
		}
		vc.verdicts.SetLatency(item, vc.step, lat)
	}
}

// answers runs the spec routes' validators on the rows as the table streams in. Steps checked
// by agree compare with their checkers' rows of the same item, which may come before or after
// the step's own row: answers keeps the checkers' rows by item, and a step's answer waits
// until every checker of the step has answered the item, or until the table is complete
// (finish), when a checker without a row leaves the answer unverified.
type answers struct {
	routes   []*specRoute
	checker  *validate.Checker
	price    func(column string, row *outcomes.Row) clearbar.Money
	checkers map[string]bool
	items    map[int]*itemAnswers
}

// itemAnswers is one item's checker rows, by column, and the step answers waiting for them.
type itemAnswers struct {
	got     map[string]*recorded
	waiting []waitingAnswer
}

type waitingAnswer struct {
	sr  *specRoute
	vc  *verdictCheck
	ans recorded
}

func newAnswers(routes []*specRoute, checker *validate.Checker, price func(string, *outcomes.Row) clearbar.Money) *answers {
	a := &answers{routes: routes, checker: checker, price: price, checkers: map[string]bool{}, items: map[int]*itemAnswers{}}
	for _, sr := range routes {
		for _, vc := range sr.checks {
			for _, m := range vc.checkers {
				a.checkers[m] = true
			}
		}
	}
	return a
}

func (it *itemAnswers) has(models []string) bool {
	for _, m := range models {
		if it.got[m] == nil {
			return false
		}
	}
	return true
}

func (a *answers) item(i int) *itemAnswers {
	it := a.items[i]
	if it == nil {
		it = &itemAnswers{got: map[string]*recorded{}}
		a.items[i] = it
	}
	return it
}

// observe takes a row that fills column: it keeps it if a step compares with column, gives it
// to the steps waiting for it, and validates it if it answers a validated step.
func (a *answers) observe(ctx context.Context, item int, column string, row *outcomes.Row) {
	if a.checkers[column] {
		cost := row.Cost
		if a.price != nil {
			cost = a.price(column, row)
		}
		it := a.item(item)
		it.got[column] = &recorded{model: row.Model, response: row.Response, cost: cost, latencyMS: row.LatencyMS, err: row.Error}
		keep := it.waiting[:0]
		for _, w := range it.waiting {
			if it.has(w.vc.checkers) {
				w.sr.verdict(ctx, a.checker, item, w.vc, &w.ans, it.got)
			} else {
				keep = append(keep, w)
			}
		}
		it.waiting = keep
	}
	if row.Error != "" {
		return
	}
	for _, sr := range a.routes {
		for _, vc := range sr.checks {
			if vc.model != column {
				continue
			}
			ans := recorded{model: row.Model, prompt: row.Prompt, response: row.Response, toolCalls: row.AnswerToolCalls()}
			if ans.response == "" && len(ans.toolCalls) == 0 {
				// No answer to read: the gateway's verdicts on it, when it recorded those of
				// this step's validators.
				if pass, ok := recordedVerdict(row.Verdicts, vc); ok {
					vc.verdicts.Set(item, vc.step, pass, 0)
					sr.byVerdicts++
					continue
				}
				sr.textless++
			}
			if len(vc.checkers) == 0 {
				sr.verdict(ctx, a.checker, item, vc, &ans, nil)
				continue
			}
			if it := a.item(item); it.has(vc.checkers) {
				sr.verdict(ctx, a.checker, item, vc, &ans, it.got)
			} else {
				it.waiting = append(it.waiting, waitingAnswer{sr: sr, vc: vc, ans: ans})
			}
		}
	}
}

// recordedVerdict returns the verdict of step vc's validators on an answer from the verdicts
// recorded with it, matched by name (each validator's summary, as the gateway records it):
// ok is false when one of them has no recorded verdict, or the step checks agreement, whose
// call cost and latency a recorded verdict does not hold.
func recordedVerdict(recorded []clearbar.Verdict, vc *verdictCheck) (pass, ok bool) {
	if len(recorded) == 0 || len(vc.checkers) > 0 {
		return false, false
	}
	pass = true
	for _, v := range vc.validators {
		i := slices.IndexFunc(recorded, func(r clearbar.Verdict) bool { return r.Validator == v.Config.Summary() })
		if i < 0 {
			return false, false
		}
		pass = pass && recorded[i].Pass
	}
	return pass, true
}

// finish validates the answers still waiting once every row is in: their missing checkers
// have no row for the item.
func (a *answers) finish(ctx context.Context) {
	for i, it := range a.items {
		for _, w := range it.waiting {
			w.sr.verdict(ctx, a.checker, i, w.vc, &w.ans, it.got)
		}
		it.waiting = nil
	}
}

// modelChecks returns the category route's own validators (its validate:) run on every
// recorded answer of each of models, one single-step check a model: what a cascade of those
// models written into the route, which keeps its validate:, would check. The cascades replay
// builds at a simulated strength (the reference pair's, Options.Cascades) are replayed with
// these verdicts too (see realCascade), so that the calibration judges them by what the
// spec's validators measured rather than by an assumed strength. A model the route's
// agreement check would ask to check itself gets no check. Nil without such a validate:.
func modelChecks(c *spec.Category, models []string) *specRoute {
	if c == nil || c.Route == nil || len(c.Route.Validate) == 0 {
		return nil
	}
	sr := &specRoute{cat: c, label: "cascades with the spec's validators", validate: true}
	for _, m := range models {
		checkers, ok := spec.AgreementCheckers(c.Route.Validate, m)
		if !ok {
			continue
		}
		sr.checks = append(sr.checks, &verdictCheck{verdicts: NewVerdicts(1), model: m, validators: c.Route.Validate, checkers: checkers})
	}
	return sr
}

// realCascade returns cascade p, replayed at a simulated strength, as the spec's validators
// decide it: every step validated by the route's validate:, with the verdicts mc's checks gave
// its models' recorded answers to the table's items (and their checks' cost and latency), on
// exhausted steps failing the item when the route says so. ok is false when a step's model has
// no check.
func (mc *specRoute) realCascade(p *Cascade, items int, failExhausted bool) (*Cascade, bool) {
	if mc == nil {
		return nil, false
	}
	byModel := make([]*Verdicts, len(p.Steps))
	for j, st := range p.Steps {
		i := slices.IndexFunc(mc.checks, func(vc *verdictCheck) bool { return vc.model == st.Model })
		if i < 0 {
			return nil, false
		}
		byModel[j] = mc.checks[i].verdicts
	}
	steps := slices.Clone(p.Steps)
	for j := range steps {
		steps[j].Validated = true
	}
	v := NewVerdicts(len(steps))
	for i := range items {
		for j, mv := range byModel {
			pass, cost, lat := mv.at(i, 0)
			if !pass && cost == 0 && lat == 0 {
				continue // no verdict, or a failing one that cost nothing: both fail validation
			}
			v.Set(i, j, pass, cost)
			v.SetLatency(i, j, lat)
		}
	}
	return &Cascade{Steps: steps, Verdicts: v, FailExhausted: failExhausted}, true
}

// specRoutes returns the category's own route and every named policy's route for it.
func specRoutes(s *spec.Spec, c *spec.Category, checker *validate.Checker, providers map[string]clearbar.Provider) []*specRoute {
	var out []*specRoute
	if c.Route != nil {
		out = append(out, newSpecRoute(s, c, "spec: "+describeRoute(c.Route), c.Route, checker, providers))
	}
	for _, p := range s.Policies {
		if pr, ok := p.Routes[c.Name]; ok && pr != nil {
			out = append(out, newSpecRoute(s, c, "policy "+p.Name+": "+describeRoute(&pr.Route), &pr.Route, checker, providers))
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
