package replay

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Policy is a routing policy replay evaluates over a table. Implementations are small
// value types, safe for concurrent use once built; Evaluate does not modify the table.
type Policy interface {
	// Name identifies the policy in reports.
	Name() string
	// Evaluate replays the policy over every item it can be evaluated on. Errors say what
	// is wrong with the policy's settings (a model the table lacks, a share outside 0..1).
	Evaluate(t *Table) (*Result, error)
}

// binding is a policy bound to a table: its columns resolved and its settings checked.
type binding struct {
	kind      string
	models    []string
	params    Params
	hindsight bool
	// covers reports whether the policy can be evaluated on item i.
	covers func(i int) bool
	// eval adds item i's expected outcome, weighted by w, to a's current item.
	eval func(a *acc, i int, w float64)
}

// binder is implemented by every policy of this package: Split combines binders item by item.
type binder interface {
	Policy
	bind(t *Table) (*binding, error)
}

// evaluate binds p to t and replays it.
func evaluate(t *Table, p binder) (*Result, error) {
	b, err := p.bind(t)
	if err != nil {
		return nil, err
	}
	return replayBinding(newAcc(t), p.Name(), b), nil
}

// replayBinding runs a bound policy over every item, into a (which must be empty).
func replayBinding(a *acc, name string, b *binding) *Result {
	for i := range a.t.items {
		if !b.covers(i) {
			a.skip()
			continue
		}
		b.eval(a, i, 1)
		a.done()
	}
	return a.result(name, b)
}

// Single sends every item to one model.
type Single struct {
	Model string
}

// Name implements Policy.
func (p Single) Name() string { return p.Model }

// Evaluate implements Policy: the model's mean quality, total cost and latencies over the
// items where it has a usable cell.
func (p Single) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p Single) bind(t *Table) (*binding, error) {
	cols, err := t.columns([]string{p.Model})
	if err != nil {
		return nil, err
	}
	m, nm := cols[0], len(t.models)
	return &binding{
		kind:   KindSingle,
		models: []string{p.Model},
		covers: func(i int) bool { return t.state[i*nm+m].Usable() },
		eval: func(a *acc, i int, w float64) {
			k := i*nm + m
			lat := a.call(i, m, w)
			a.path(w, lat, lat > 0)
			a.add(w*t.quality[k], 0, w*failedShare(t.state[k]))
		},
	}, nil
}

func failedShare(s CellState) float64 {
	if s == Failed {
		return 1
	}
	return 0
}

// Oracle sends each item to the best model for it in hindsight: the model with the highest
// quality on the item, the cheapest among equals (then the first in Models). Under GradePass
// that is the cheapest model whose answer passes, and, when none passes, the cheapest model,
// counted as a failure. Models missing on an item are left out of its choice; an item with no
// usable model is skipped. The oracle is an upper bound, not a policy anyone can run.
type Oracle struct {
	// Models to choose from; nil means every model of the table.
	Models []string
}

// Name implements Policy.
func (p Oracle) Name() string { return "oracle" }

// Evaluate implements Policy.
func (p Oracle) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p Oracle) bind(t *Table) (*binding, error) {
	models := p.Models
	if models == nil {
		models = t.models
	}
	cols, err := t.columns(models)
	if err != nil {
		return nil, err
	}
	nm := len(t.models)
	pick := func(i int) int {
		best := -1
		for _, m := range cols {
			k := i*nm + m
			if !t.state[k].Usable() {
				continue
			}
			if best < 0 {
				best = m
				continue
			}
			b := i*nm + best
			if t.quality[k] > t.quality[b] || t.quality[k] == t.quality[b] && t.cost[k] < t.cost[b] {
				best = m
			}
		}
		return best
	}
	return &binding{
		kind:      "oracle",
		models:    models,
		hindsight: true,
		covers:    func(i int) bool { return pick(i) >= 0 },
		eval: func(a *acc, i int, w float64) {
			m := pick(i)
			k := i*nm + m
			lat := a.call(i, m, w)
			a.path(w, lat, lat > 0)
			a.add(w*t.quality[k], 0, w*failedShare(t.state[k]))
		},
	}, nil
}

// Mix sends a random share of the items to Second and the rest to First. Its expected
// quality and cost are exactly (1−Share)·First + Share·Second, item by item: linear in Share.
type Mix struct {
	First, Second string
	// Share is the probability an item goes to Second, in [0, 1].
	Share float64
}

// Name implements Policy.
func (p Mix) Name() string {
	return fmt.Sprintf("mix %s/%s %s%%", p.First, p.Second, strconv.FormatFloat(p.Share*100, 'f', -1, 64))
}

// Evaluate implements Policy.
func (p Mix) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p Mix) bind(t *Table) (*binding, error) {
	if !(p.Share >= 0 && p.Share <= 1) {
		return nil, fmt.Errorf("mix %s/%s: share %v is outside 0..1", p.First, p.Second, p.Share)
	}
	cols, err := t.columns([]string{p.First, p.Second})
	if err != nil {
		return nil, err
	}
	m1, m2, nm, s := cols[0], cols[1], len(t.models), p.Share
	return &binding{
		kind:   "mix",
		models: []string{p.First, p.Second},
		params: Params{Share: &s},
		covers: func(i int) bool { return t.usable(i, cols) },
		eval: func(a *acc, i int, w float64) {
			k1, k2 := i*nm+m1, i*nm+m2
			w1, w2 := w*(1-s), w*s
			l1 := a.call(i, m1, w1)
			l2 := a.call(i, m2, w2)
			a.path(w1, l1, l1 > 0)
			a.path(w2, l2, l2 > 0)
			// Each item is answered by one model: the result keeps each model's quality on
			// the items it answers (StartPass), its pass rate over the mix's items.
			a.answer(m1, w1*t.quality[k1], w1*failedShare(t.state[k1]))
			a.answer(m2, w2*t.quality[k2], w2*failedShare(t.state[k2]))
		},
	}, nil
}

// Strength is how good a validator is: Detect is P(flag | the answer fails), FalseAlarm is
// P(flag | the answer passes).
type Strength struct {
	Detect     float64 `json:"detect"`
	FalseAlarm float64 `json:"false_alarm"`
}

func (s Strength) check() error {
	if !(s.Detect >= 0 && s.Detect <= 1) || !(s.FalseAlarm >= 0 && s.FalseAlarm <= 1) {
		return fmt.Errorf("validator strength detect %v, false_alarm %v: both must be within 0..1", s.Detect, s.FalseAlarm)
	}
	return nil
}

// String writes the strength as "d=0.9 f=0.05".
func (s Strength) String() string {
	return "d=" + strconv.FormatFloat(s.Detect, 'f', -1, 64) + " f=" + strconv.FormatFloat(s.FalseAlarm, 'f', -1, 64)
}

// Step is one step of a Cascade.
type Step struct {
	Model string
	// Validated says the step's answers are checked; an unvalidated step delivers its answer
	// (only a failed call moves on).
	Validated bool
	// RetryOnce retries the same model once when validation fails, before escalating. The
	// table holds one answer per item and model, so the retry gets the same recorded answer:
	// its cost and latency are counted again; the spec's validators give it the same verdict,
	// a simulated validator flags it again with its probabilities.
	RetryOnce bool
	// Checkers are the models whose answer to the same item the step's validation compares
	// with (agreement checks). With a simulated validator, every validation of the step adds
	// their recorded cost and latency, and items where one of them has no usable cell are
	// skipped; with the validators' Verdicts, the verdicts carry that cost and latency.
	Checkers []string
}

// Cascade tries its steps in order and moves on when a step's answer fails validation or the
// call failed. Its cost counts every attempted call, and the calls validation makes (a step's
// Checkers); its latency adds up their latencies.
//
// Validation is either simulated or real. Simulated (Strength set): the validator flags a
// passing answer with probability FalseAlarm and a failing one with probability Detect, so on
// an item whose answer has quality q the step escalates with probability
// q·FalseAlarm + (1−q)·Detect and delivers a passing answer with probability q·(1−FalseAlarm).
// The validator judges the row's pass verdict (Cell.Pass) and the answer delivered brings its
// grade: under GradeScore, a step escalates on its row's verdict and delivers the answer's
// score, not a pass probability, so a cascade (with a perfect validator too) never does
// better than choosing, item by item, among its steps' answers, as the oracle does.
// Real (Verdicts set, Strength nil): the spec's validators' verdicts on the recorded answers
// decide, deterministically, and the cost and latency of the model calls validation made
// (an agreement check's recorded checker answer) are added.
//
// When the last step's answer is flagged, it is delivered anyway (flagged for review), unless
// FailExhausted, in which case the item fails. Items where a step's model has no usable cell
// are skipped.
type Cascade struct {
	// Label names the policy; empty means "cascade a → b (…)".
	Label    string
	Steps    []Step
	Strength *Strength
	Verdicts *Verdicts
	// FailExhausted fails items whose last answer is flagged (on_exhausted: fail).
	FailExhausted bool
	// Kind overrides the result's kind ("spec" for the spec's own route); empty means
	// "cascade".
	Kind string
}

// NewCascade returns a cascade over models in order, every step validated by a simulated
// validator of strength s.
func NewCascade(s Strength, models ...string) *Cascade {
	steps := make([]Step, len(models))
	for i, m := range models {
		steps[i] = Step{Model: m, Validated: true}
	}
	return &Cascade{Steps: steps, Strength: &s}
}

// Name implements Policy.
func (p *Cascade) Name() string {
	if p.Label != "" {
		return p.Label
	}
	how := "unvalidated"
	switch {
	case p.Strength != nil:
		how = p.Strength.String()
	case p.Verdicts != nil:
		how = "validators"
	}
	return "cascade " + strings.Join(p.models(), " → ") + " (" + how + ")"
}

func (p *Cascade) models() []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = s.Model
	}
	return out
}

// Evaluate implements Policy.
func (p *Cascade) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p *Cascade) bind(t *Table) (*binding, error) {
	if len(p.Steps) == 0 {
		return nil, errors.New("cascade has no steps")
	}
	models := p.models()
	validated := false
	for _, s := range p.Steps {
		validated = validated || s.Validated
	}
	cols, err := t.columns(models)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name(), err)
	}
	b := &binding{kind: p.Kind, models: models}
	if b.kind == "" {
		b.kind = "cascade"
	}
	switch {
	case p.Strength != nil:
		if err := p.Strength.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name(), err)
		}
		s := *p.Strength
		b.params.Strength = &s
	case p.Verdicts != nil:
		if p.Verdicts.steps != len(p.Steps) {
			return nil, fmt.Errorf("%s: its verdicts are for %d steps, the cascade has %d", p.Name(), p.Verdicts.steps, len(p.Steps))
		}
		b.params.Validators = true
	case validated:
		return nil, fmt.Errorf("%s validates its answers but has neither a simulated strength nor the validators' verdicts: set Strength or Verdicts", p.Name())
	}
	// checks[j] are step j's checkers' columns, when a simulated validation pays for them.
	var checks [][]int
	covered := cols
	if p.Strength != nil {
		checks = make([][]int, len(p.Steps))
		for j, st := range p.Steps {
			if !st.Validated || len(st.Checkers) == 0 {
				continue
			}
			cc, err := t.columns(st.Checkers)
			if err != nil {
				return nil, fmt.Errorf("%s: agreement check of step %s: %w", p.Name(), st.Model, err)
			}
			checks[j] = cc
			covered = append(slices.Clone(covered), cc...)
		}
	}
	b.covers = func(i int) bool { return t.usable(i, covered) }
	if p.Strength == nil && p.Verdicts != nil {
		// The verdicts say where each item stops: it needs the rows of the steps it reaches
		// only, as recorded traffic has a later model's row only where the gateway escalated.
		b.covers = func(i int) bool { return p.reaches(t, cols, i) }
	}
	b.eval = func(a *acc, i int, w float64) { p.item(t, a, cols, checks, i, w) }
	return b, nil
}

// reaches reports whether item i has a usable row for every step a cascade judged by its
// verdicts reaches: up to the first step whose answer is delivered unvalidated or accepted,
// or all of them.
func (p *Cascade) reaches(t *Table, cols []int, i int) bool {
	nm := len(t.models)
	for j, st := range p.Steps {
		k := i*nm + cols[j]
		if !t.state[k].Usable() {
			return false
		}
		if t.state[k] == Failed {
			continue // no answer: the next step, or the item fails
		}
		if !st.Validated {
			return true
		}
		if ok, _, _ := p.Verdicts.at(i, j); ok {
			return true
		}
	}
	return true
}

// item adds item i's expected outcome, weighted by w: the probability mass flows down the
// steps (and a step's retry), split at each validation into accepted and flagged answers.
// checks, when not nil, holds each step's checker columns, whose cells a simulated validation
// pays for.
func (p *Cascade) item(t *Table, a *acc, cols []int, checks [][]int, i int, w float64) {
	nm := len(t.models)
	last := len(p.Steps) - 1
	reach := w // probability of reaching the current step
	// reachEsc is the part of reach an earlier step's validation escalated (the rest got
	// here because earlier calls failed).
	reachEsc := 0.0
	lat, known := 0.0, true
	for j, st := range p.Steps {
		if j == 1 {
			a.add(0, reach, 0)
		}
		m := cols[j]
		k := i*nm + m
		// The answer's grade, and its pass verdict, which the validator judges: the same
		// under GradePass, a score and a verdict under GradeScore.
		qj, pj := t.quality[k], b2f(t.pass[k])
		mass, massEsc := reach, reachEsc
		reach, reachEsc = 0, 0
		tries := 1
		if st.RetryOnce && st.Validated {
			tries = 2
		}
		for try := 0; try < tries && mass > 0; try++ {
			l := a.call(i, m, mass)
			lat += l
			known = known && l > 0
			if t.state[k] == Failed {
				// No answer to validate or deliver: move on, or fail after the last step.
				if j == last {
					a.path(mass, lat, known)
					a.add(0, 0, mass)
				} else {
					reach, reachEsc = mass, massEsc
				}
				break
			}
			if try == 0 {
				a.escalated(m, massEsc, qj)
			}
			if !st.Validated {
				a.add(mass*qj, 0, 0)
				a.path(mass, lat, known)
				break
			}
			// accept: P(the answer is accepted); good: its expected grade when accepted.
			var accept, good float64
			if p.Strength != nil {
				d, f := p.Strength.Detect, p.Strength.FalseAlarm
				accept = pj*(1-f) + (1-pj)*(1-d)
				good = qj * accept
				if checks != nil {
					for _, cc := range checks[j] {
						kc := i*nm + cc
						a.cost += mass * t.cost[kc]
						lat += t.latency[kc]
						known = known && t.latency[kc] > 0
					}
				}
			} else {
				ok, extra, vlat := p.Verdicts.at(i, j)
				if try == 0 {
					// A retry gets the same verdict on the same answer: counted once.
					a.verdict(mass, t.pass[k], !ok)
				}
				a.cost += mass * extra
				if vlat >= 0 {
					lat += vlat
				} else {
					known = false
				}
				if ok {
					good, accept = qj, 1
				}
			}
			a.add(mass*good, 0, 0)
			a.path(mass*accept, lat, known)
			flagged := mass * (1 - accept)
			flaggedGood := mass * (qj - good)
			mass = 0
			switch {
			case flagged <= 0:
			case try+1 < tries:
				mass = flagged // retry the same model
			case j < last:
				reach, reachEsc = flagged, flagged
			case p.FailExhausted:
				a.path(flagged, lat, known)
				a.add(0, 0, flagged)
			default:
				a.add(flaggedGood, 0, 0)
				a.path(flagged, lat, known)
			}
		}
		if reach <= 0 {
			return
		}
	}
}

// Verdicts holds, for a cascade, the spec's validators' verdict on each recorded answer:
// whether the answer of step j's model to item i passed, and what validating it cost in
// nano-dollars and took in milliseconds (the model calls validation made: an agreement
// check's, a judge's). Verdicts are filled while the table is built (see
// BuildOptions.Observe); an answer without a verdict fails validation. Verdicts is used by
// one goroutine while it is filled, and safe for concurrent reads afterwards.
type Verdicts struct {
	steps int
	set   []bool
	pass  []bool
	cost  []float64
	lat   []float64
}

// NewVerdicts returns empty verdicts for a cascade of the given number of steps.
func NewVerdicts(steps int) *Verdicts { return &Verdicts{steps: steps} }

// Set records the verdict on step j's answer to item i and the validation's cost in
// nano-dollars.
func (v *Verdicts) Set(i, j int, pass bool, costNanos float64) {
	k := i*v.steps + j
	if k >= len(v.set) {
		n := max(k+1, 2*len(v.set))
		v.set = append(v.set, make([]bool, n-len(v.set))...)
		v.pass = append(v.pass, make([]bool, n-len(v.pass))...)
		v.cost = append(v.cost, make([]float64, n-len(v.cost))...)
		v.lat = append(v.lat, make([]float64, n-len(v.lat))...)
	}
	v.set[k], v.pass[k], v.cost[k] = true, pass, costNanos
}

// SetLatency records, after Set, the time validating step j's answer to item i took, in
// milliseconds: the recorded latency of the model calls it made. A negative ms means a call's
// latency was not recorded, which makes the item's latency unknown wherever the validation
// runs. Without SetLatency validation takes no time.
func (v *Verdicts) SetLatency(i, j int, ms float64) {
	k := i*v.steps + j
	if k < len(v.set) && v.set[k] {
		v.lat[k] = ms
	}
}

// at returns the verdict on step j's answer to item i, the validation's cost and its latency
// (negative when unknown).
func (v *Verdicts) at(i, j int) (pass bool, cost, lat float64) {
	k := i*v.steps + j
	if k >= len(v.set) || !v.set[k] {
		return false, 0, 0
	}
	return v.pass[k], v.cost[k], v.lat[k]
}

// Split sends each item to one of its arms at random, with probability proportional to the
// arm's weight (the spec's split routes, for A/B tests): the weighted mix of the arms, item by
// item, over the items where every arm can be evaluated.
type Split struct {
	// Label names the policy; empty means "split 0.5×a + 0.5×b".
	Label string
	Arms  []Arm
	// Kind overrides the result's kind; empty means "split".
	Kind string
}

// Arm is one branch of a Split. Its Policy must be one of this package's policies.
type Arm struct {
	Weight float64
	Policy Policy
}

// Name implements Policy.
func (p *Split) Name() string {
	if p.Label != "" {
		return p.Label
	}
	parts := make([]string, len(p.Arms))
	for i, a := range p.Arms {
		parts[i] = strconv.FormatFloat(a.Weight, 'f', -1, 64) + "×" + a.Policy.Name()
	}
	return "split " + strings.Join(parts, " + ")
}

// Evaluate implements Policy.
func (p *Split) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p *Split) bind(t *Table) (*binding, error) {
	var total float64
	for _, a := range p.Arms {
		if !(a.Weight >= 0) {
			return nil, fmt.Errorf("%s: weight %v is negative", p.Name(), a.Weight)
		}
		total += a.Weight
	}
	if len(p.Arms) == 0 || !(total > 0) {
		return nil, fmt.Errorf("%s: the arms' weights must add up to more than 0", p.Name())
	}
	arms := make([]*binding, len(p.Arms))
	weights := make([]float64, len(p.Arms))
	var models []string
	seen := map[string]bool{}
	for j, a := range p.Arms {
		bd, ok := a.Policy.(binder)
		if !ok {
			return nil, fmt.Errorf("%s: arm %s is not a policy of package replay", p.Name(), a.Policy.Name())
		}
		b, err := bd.bind(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name(), err)
		}
		arms[j], weights[j] = b, a.Weight/total
		for _, m := range b.models {
			if !seen[m] {
				seen[m] = true
				models = append(models, m)
			}
		}
	}
	kind := p.Kind
	if kind == "" {
		kind = "split"
	}
	return &binding{
		kind:   kind,
		models: models,
		covers: func(i int) bool {
			for _, b := range arms {
				if !b.covers(i) {
					return false
				}
			}
			return true
		},
		eval: func(a *acc, i int, w float64) {
			for j, b := range arms {
				if weights[j] > 0 {
					b.eval(a, i, w*weights[j])
				}
			}
		},
	}, nil
}

// Routed sends each item to the one arm Choose picks for it: a spec's score route, whose
// arms are the cascades starting on each of its models and whose Choose is the route's scorer
// reading the item's prompt. An item is evaluated when its chosen arm can be.
type Routed struct {
	Label string
	Arms  []Policy
	// Choose returns the index of the arm for an item. It is called once per item when the
	// policy is bound, and must be safe for concurrent use.
	Choose func(item *Item) int
	// Kind overrides the result's kind; empty means "routed".
	Kind string
	// Shares, after Evaluate, is the share of the covered items each arm took: what a score
	// route's assume.score_share measures.
	Shares []float64
}

// Name implements Policy.
func (p *Routed) Name() string {
	if p.Label != "" {
		return p.Label
	}
	names := make([]string, len(p.Arms))
	for i, a := range p.Arms {
		names[i] = a.Name()
	}
	return "routed: " + strings.Join(names, " | ")
}

// Evaluate implements Policy.
func (p *Routed) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p *Routed) bind(t *Table) (*binding, error) {
	if len(p.Arms) == 0 || p.Choose == nil {
		return nil, fmt.Errorf("%s: a routed policy needs arms and a chooser", p.Name())
	}
	arms := make([]*binding, len(p.Arms))
	var models []string
	seen := map[string]bool{}
	for j, a := range p.Arms {
		bd, ok := a.(binder)
		if !ok {
			return nil, fmt.Errorf("%s: arm %s is not a policy of package replay", p.Name(), a.Name())
		}
		b, err := bd.bind(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name(), err)
		}
		arms[j] = b
		for _, m := range b.models {
			if !seen[m] {
				seen[m] = true
				models = append(models, m)
			}
		}
	}
	choice := make([]int, len(t.items))
	counts := make([]float64, len(p.Arms))
	var covered float64
	for i := range t.items {
		c := p.Choose(&t.items[i])
		if c < 0 || c >= len(arms) {
			return nil, fmt.Errorf("%s: chose arm %d of %d for item %s", p.Name(), c, len(arms), t.items[i].ID)
		}
		choice[i] = c
		if arms[c].covers(i) {
			counts[c]++
			covered++
		}
	}
	p.Shares = make([]float64, len(arms))
	for j := range counts {
		if covered > 0 {
			p.Shares[j] = counts[j] / covered
		}
	}
	kind := p.Kind
	if kind == "" {
		kind = "routed"
	}
	return &binding{
		kind:   kind,
		models: models,
		covers: func(i int) bool { return arms[choice[i]].covers(i) },
		eval:   func(a *acc, i int, w float64) { arms[choice[i]].eval(a, i, w) },
	}, nil
}

// Interface guards.
var (
	_ binder = Single{}
	_ binder = Oracle{}
	_ binder = Mix{}
	_ binder = (*Cascade)(nil)
	_ binder = (*Split)(nil)
	_ binder = (*Routed)(nil)
)
