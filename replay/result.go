package replay

import (
	"encoding/json"
	"math"

	"github.com/clearbar/clearbar"
)

// Result is what one policy did over the table: its quality, cost, latency, escalation and
// model mix, as expected values over the items it could be evaluated on.
//
// Expected values are exact: a policy that randomises (a mix) or whose validator is
// simulated contributes each outcome with its probability, without sampling.
type Result struct {
	// Name identifies the policy in reports, like "single gpt-4" or "threshold 0.62".
	Name string `json:"name"`
	// Kind is the policy's family: single, oracle, mix, cascade, spec, split, threshold or
	// wtp.
	Kind string `json:"kind"`
	// Models are the models the policy may call, in its order.
	Models []string `json:"models"`
	// Params are the policy's settings: what calibration returns for the spec.
	Params Params `json:"params"`
	// Realisable is false for policies that need hindsight (the oracle): they are drawn
	// and reported, but never on the frontier or chosen by calibration.
	Realisable bool `json:"realisable"`

	// Items is the number of items the policy was evaluated on; Skipped the number it could
	// not be, because a model it needs has no usable cell there (see Table).
	Items   int `json:"items"`
	Skipped int `json:"skipped"`
	// Narrow is set by Run when the policy was evaluated on fewer than MinCoverage of the
	// items the widest realisable one was (Report.Compared), none included: it is not
	// comparable with the others, and is left out of whatever the report chooses or measures
	// across policies.
	Narrow bool `json:"narrow,omitempty"`
	// With no items, a policy measured nothing: its quality, passes, costs, escalation,
	// failure and strong share are null in JSON, not 0 (see MarshalJSON).
	// Quality is the mean quality of the delivered answers, Passes its sum: with GradePass
	// the share and the expected number of items that pass.
	Quality float64 `json:"quality"`
	Passes  float64 `json:"passes"`
	// Cost is the expected total cost over the items (every attempted call counted) and
	// CostPerItem its mean, both rounded to the nano-dollar.
	Cost        clearbar.Money `json:"cost_usd"`
	CostPerItem clearbar.Money `json:"cost_per_item_usd"`
	// LatencyMeanMS and LatencyP95MS are the mean and 95th percentile of the response time
	// (every attempt's latency added) over the LatencyItems items whose attempts all
	// recorded a latency; both are 0 when LatencyItems is 0.
	LatencyMeanMS float64 `json:"latency_mean_ms"`
	LatencyP95MS  float64 `json:"latency_p95_ms"`
	LatencyItems  int     `json:"latency_items"`
	// Escalation is the share of items that went past the first step of a cascade.
	Escalation float64 `json:"escalation"`
	// Failed is the share of items that got no answer: every call failed, or a cascade
	// with on_exhausted: fail ran out of steps.
	Failed float64 `json:"failed"`
	// Calls is the expected number of calls per item to each model (model → calls); a
	// model's share of the traffic for routers, above 1 in total for cascades.
	Calls map[string]float64 `json:"calls"`
	// StartPass is, for a policy that answers each item with one model it picks (a score
	// router, a mix), each model's pass rate on the items sent to it: a score router picks
	// the items a model does well on, so this differs from the model's pass rate over all
	// items, and is what a score route's estimate needs (assume.score_pass_rate); a mix picks
	// at random, so this is the model's pass rate over the mix's items (assume.pass_rate).
	// Calls that failed are left out, as an estimate applies each model's availability
	// separately. Nil for other policies.
	StartPass map[string]float64 `json:"start_pass_rate,omitempty"`
	// StrongShare is Calls of the reference pair's strong model (Report.Strong, whatever its
	// name): the share of items sent to it.
	StrongShare float64 `json:"strong_share"`
	// EscalatedPass is, for a validated cascade, each later model's pass rate on the items an
	// earlier step's validation escalated to it, and on how many (expected) answers: harder
	// items than the model's on the whole, and what a cascade's estimate needs
	// (assume.escalated_pass_rate). Items that reached the model because earlier calls
	// failed, and retries of a flagged answer, are left out. Nil for other policies.
	EscalatedPass map[string]EscalatedPass `json:"escalated_pass_rate,omitempty"`
	// Validator is, for a route replayed with the spec's validators on the recorded answers
	// (Params.Validators), how they did on the answers they judged: the strength they showed
	// against the rows' pass verdicts. Nil for other policies.
	Validator *MeasuredStrength `json:"validator,omitempty"`

	// costNanos is the exact expected total cost in nano-dollars.
	costNanos float64
	// measuredBy names, for a spec route replayed with an assumed validator strength, the
	// same route replayed with its own validators on the recorded answers, when it was.
	measuredBy string
}

// Params are a policy's settings. Only the fields that apply to the policy's kind are set.
type Params struct {
	// Threshold: a threshold router sends an item to the weak model when the weak model's
	// score is at least Threshold.
	Threshold *float64 `json:"threshold,omitempty"`
	// Share: a mix sends this share of the items to the second model.
	Share *float64 `json:"share,omitempty"`
	// Lambda: a willingness-to-pay router picks the model with the highest score − Lambda ×
	// the cost in dollars it expects (see WillingnessToPay); 1/Lambda is the price in dollars
	// it pays for one unit (1.0) of score, a spec's willingness_to_pay.
	Lambda *float64 `json:"lambda,omitempty"`
	// Strength: a cascade's simulated validator strength.
	Strength *Strength `json:"strength,omitempty"`
	// Validators: a cascade ran the spec's real validators on the recorded answers.
	Validators bool `json:"validators,omitempty"`
}

// MarshalJSON writes the result as its fields say, with null for the figures of a result
// evaluated on no item (Items 0), which measured none: quality, passes, cost_usd,
// cost_per_item_usd, escalation, failed and strong_share.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	if r.Items > 0 {
		return json.Marshal((*plain)(r))
	}
	return json.Marshal(struct {
		*plain
		Quality     *float64        `json:"quality"`
		Passes      *float64        `json:"passes"`
		Cost        *clearbar.Money `json:"cost_usd"`
		CostPerItem *clearbar.Money `json:"cost_per_item_usd"`
		Escalation  *float64        `json:"escalation"`
		Failed      *float64        `json:"failed"`
		StrongShare *float64        `json:"strong_share"`
	}{plain: (*plain)(r)})
}

// CostUSD returns the mean cost per item in dollars, unrounded, for charts and
// interpolation.
func (r *Result) CostUSD() float64 {
	switch {
	case r.Items == 0:
		return 0
	case r.costNanos == 0:
		return r.CostPerItem.USD() // a result decoded from JSON
	}
	return r.costNanos / float64(r.Items) / 1e9
}

// Share returns the expected calls per item to model (0 when it is not called).
func (r *Result) Share(model string) float64 { return r.Calls[model] }

// point returns the result as a cost/quality point.
func (r *Result) point() Point {
	return Point{Policy: r.Name, Cost: r.CostUSD(), Quality: r.Quality}
}

// acc accumulates a policy's expected outcomes item by item: a policy adds the current
// item's calls, latency paths and outcome, then done closes the item.
type acc struct {
	t              *Table
	items, skipped int
	q, cost        float64
	esc, failed    float64
	calls          []float64
	answered       []float64 // a router's expected passes by model (see answer)
	failedBy       []float64 // a router's expected failed calls by model (see answer)
	routed         bool      // answer was called: the policy is a router
	// escAnswered and escPassed are, by model, a cascade's expected answers to items an
	// earlier step's validation escalated to it, and their expected grade (see escalated).
	escAnswered, escPassed []float64
	lat                    []wv
	latSum, latW           float64
	latItems               int
	// The spec's validators' verdicts on the recorded answers, by the answers' pass verdict
	// (see verdict): expected numbers of failing and passing answers judged, and flagged.
	vFail, vFailFlagged, vPass, vPassFlagged float64
	verdicts                                 bool

	// The current item.
	iq, iesc, ifailed float64
	pend              []wv
	pendUnknown       bool
}

// wv is a latency with its probability.
type wv struct{ v, w float64 }

func newAcc(t *Table) *acc {
	return &acc{t: t, calls: make([]float64, len(t.models)), lat: make([]wv, 0, len(t.items))}
}

// call records an expected call of probability p to model m on item i: its cost and calls.
// It returns the call's recorded latency (0 when not recorded).
func (a *acc) call(i, m int, p float64) float64 {
	k := i*len(a.t.models) + m
	a.calls[m] += p
	a.cost += p * a.t.cost[k]
	return a.t.latency[k]
}

// answer records the one call a router made to model m: the expected quality q of its answer
// and the probability failed that the call failed (leaving the item without an answer).
func (a *acc) answer(m int, q, failed float64) {
	if a.answered == nil {
		a.answered = make([]float64, len(a.t.models))
		a.failedBy = make([]float64, len(a.t.models))
	}
	a.routed = true
	a.answered[m] += q
	a.failedBy[m] += failed
	a.add(q, 0, failed)
}

// escalated records that model m answered, with probability w, an item an earlier step's
// validation escalated to it, with grade q.
func (a *acc) escalated(m int, w, q float64) {
	if w <= 0 {
		return
	}
	if a.escAnswered == nil {
		a.escAnswered = make([]float64, len(a.t.models))
		a.escPassed = make([]float64, len(a.t.models))
	}
	a.escAnswered[m] += w
	a.escPassed[m] += w * q
}

// verdict records that the spec's validators judged, with probability w, a recorded answer
// whose row passes or fails, and flagged it or not.
func (a *acc) verdict(w float64, pass, flagged bool) {
	a.verdicts = true
	switch {
	case pass && flagged:
		a.vPass += w
		a.vPassFlagged += w
	case pass:
		a.vPass += w
	case flagged:
		a.vFail += w
		a.vFailFlagged += w
	default:
		a.vFail += w
	}
}

// path records that the current item ends, with probability w, after calls whose latencies
// add up to ms; known is false when one of them has no recorded latency.
func (a *acc) path(w, ms float64, known bool) {
	if w <= 0 {
		return
	}
	if !known {
		a.pendUnknown = true
		return
	}
	a.pend = append(a.pend, wv{ms, w})
}

// add adds to the current item's expected quality, escalation and failure.
func (a *acc) add(q, esc, failed float64) {
	a.iq += q
	a.iesc += esc
	a.ifailed += failed
}

// done closes the current item.
func (a *acc) done() {
	a.items++
	a.q += a.iq
	a.esc += a.iesc
	a.failed += a.ifailed
	if !a.pendUnknown && len(a.pend) > 0 {
		a.latItems++
		for _, p := range a.pend {
			a.lat = append(a.lat, p)
			a.latSum += p.v * p.w
			a.latW += p.w
		}
	}
	a.iq, a.iesc, a.ifailed = 0, 0, 0
	a.pend = a.pend[:0]
	a.pendUnknown = false
}

// skip records an item the policy cannot be evaluated on.
func (a *acc) skip() { a.skipped++ }

// result turns the sums into a Result.
func (a *acc) result(name string, b *binding) *Result {
	r := &Result{Name: name, Kind: b.kind, Models: b.models, Params: b.params, Realisable: !b.hindsight,
		Items: a.items, Skipped: a.skipped, Passes: a.q, costNanos: a.cost, Calls: map[string]float64{}}
	r.Cost = clearbar.Money(math.Round(a.cost))
	if a.items > 0 {
		n := float64(a.items)
		r.Quality = a.q / n
		r.CostPerItem = clearbar.Money(math.Round(a.cost / n))
		r.Escalation = a.esc / n
		r.Failed = a.failed / n
		for m, c := range a.calls {
			if c > 0 {
				r.Calls[a.t.models[m]] = c / n
				if a.routed && c-a.failedBy[m] > 0 {
					if r.StartPass == nil {
						r.StartPass = map[string]float64{}
					}
					// Over the calls that answered: an estimate applies each model's
					// availability separately.
					r.StartPass[a.t.models[m]] = min(a.answered[m]/(c-a.failedBy[m]), 1)
				}
			}
		}
	}
	for m, n := range a.escAnswered {
		if n > 0 {
			if r.EscalatedPass == nil {
				r.EscalatedPass = map[string]EscalatedPass{}
			}
			r.EscalatedPass[a.t.models[m]] = EscalatedPass{Rate: min(a.escPassed[m]/n, 1), Answers: n}
		}
	}
	if a.verdicts {
		r.Validator = &MeasuredStrength{Failing: a.vFail, Passing: a.vPass}
		if a.vFail > 0 {
			r.Validator.Detect = a.vFailFlagged / a.vFail
		}
		if a.vPass > 0 {
			r.Validator.FalseAlarm = a.vPassFlagged / a.vPass
		}
	}
	if a.latItems > 0 {
		r.LatencyItems = a.latItems
		r.LatencyMeanMS = a.latSum / a.latW
		r.LatencyP95MS = weightedQuantile(a.lat, 0.95)
	}
	return r
}

// EscalatedPass is a model's pass rate on the items escalated to it (Result.EscalatedPass),
// over Answers expected answers.
type EscalatedPass struct {
	Rate    float64 `json:"rate"`
	Answers float64 `json:"answers"`
}

// MinStrengthAnswers is how many failing answers, and how many passing ones, validators must
// have judged for their measured strength to be used (MeasuredStrength.Enough): on 30 answers
// a rate's standard error is at most 0.5/√30 ≈ 0.09.
const MinStrengthAnswers = 30

// MeasuredStrength is the strength validators showed on recorded answers: Detect is the share
// of the failing answers they flagged, FalseAlarm the share of the passing ones, over Failing
// and Passing answers (expected numbers: a route that splits or retries weighs each answer by
// the probability it is judged). A rate measured on no answer is 0.
type MeasuredStrength struct {
	Strength
	Failing float64 `json:"failing_answers"`
	Passing float64 `json:"passing_answers"`
}

// Enough reports whether both rates were measured on at least MinStrengthAnswers answers.
func (m *MeasuredStrength) Enough() bool {
	return m != nil && m.Failing >= MinStrengthAnswers && m.Passing >= MinStrengthAnswers
}

// AnsweredQuality is the mean quality of the items that got an answer: Passes over the items
// that did not fail, so that, for a single model, failed calls are not counted as failed
// answers (an estimate applies the model's availability separately); ok is false when every
// item failed, or there are none.
func (r *Result) AnsweredQuality() (q float64, ok bool) {
	answered := float64(r.Items) * (1 - r.Failed)
	if answered <= 0 {
		return 0, false
	}
	return min(r.Passes/answered, 1), true
}

// weightedQuantile returns the smallest value v such that the values ≤ v carry at least
// p of the total weight: with unit weights, the nearest-rank quantile, the ⌈p·n⌉-th smallest
// value. It reorders xs. Expected linear time (quickselect with three-way partitioning).
func weightedQuantile(xs []wv, p float64) float64 {
	var total float64
	for _, x := range xs {
		total += x.w
	}
	target := p * total
	lo, hi := 0, len(xs) // the answer is in xs[lo:hi]; target is relative to lo
	for {
		if hi-lo == 1 {
			return xs[lo].v
		}
		// Median of three as the pivot.
		a, b, c := xs[lo].v, xs[lo+(hi-lo)/2].v, xs[hi-1].v
		pivot := max(min(a, b), min(max(a, b), c))
		// Partition into < pivot, == pivot, > pivot, adding up the weights on the way.
		lt, i, gt := lo, lo, hi
		var wLess, wEq float64
		for i < gt {
			switch x := xs[i]; {
			case x.v < pivot:
				wLess += x.w
				xs[lt], xs[i] = x, xs[lt]
				lt++
				i++
			case x.v > pivot:
				gt--
				xs[gt], xs[i] = x, xs[gt]
			default:
				wEq += x.w
				i++
			}
		}
		switch {
		case target <= wLess && lt > lo:
			hi = lt
		case target <= wLess+wEq || gt == hi:
			return pivot
		default:
			target -= wLess + wEq
			lo = gt
		}
	}
}

// reset empties the accumulator for another policy on the same table, keeping its buffers.
func (a *acc) reset() {
	calls, answered, failedBy, lat, pend := a.calls, a.answered, a.failedBy, a.lat[:0], a.pend[:0]
	escAnswered, escPassed := a.escAnswered, a.escPassed
	clear(calls)
	clear(answered)
	clear(failedBy)
	clear(escAnswered)
	clear(escPassed)
	*a = acc{t: a.t, calls: calls, answered: answered, failedBy: failedBy, lat: lat, pend: pend, escAnswered: escAnswered, escPassed: escPassed}
}
