package estimate

import (
	"fmt"
	"math"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Pipelines: a spec's pipelines say which categories the application calls, in order, for one
// user request (spec.Pipeline). The estimate's policies, categories and totals stay per model
// call, the requests the gateway sees, at the calls a month the user requests make
// (callVolume); UserRequests adds the figures per user request, per pipeline and policy:
//
//   - cost: every step is called, and paid, for every user request of its pipeline, whatever
//     the steps before it delivered: the sum of the steps' expected costs per call;
//   - quality: the probability that every step delivers a good answer, the steps' outcomes
//     taken as independent: the product of the steps' qualities (a failed step is not good);
//     and failed, the probability that some step fails: 1 − Π (1 − P(step fails));
//   - latency: the steps' times added up, one user request at a time: request i of the
//     pipeline takes the i-th simulated latency of each step's cell (the draws the category's
//     own figures come from), so that each sum is of independent draws, since each cell
//     draws from its own random stream; a category called twice in one pipeline pairs its
//     draws at an offset, so that no draw is added to itself. Quantiles of the sum come from
//     those sums, with the simulation's error (hist.quantileTol) allowed for in the budget
//     verdict, as for a category's budget.
//
// A policy clears only when, besides every category's bar and budget, every pipeline with a
// latency budget meets it, within the simulation's error as above (pipelineMisses); a miss
// adds to the policy's Shortfall its p95's excess over the budget, in percent, weighted by the
// pipeline's share of model calls: its share of user requests × its steps ÷ the calls a user
// request makes (spec.Spec.CallsPerRequest), as a category's is weighted by its share of calls.

// UserRequests is the estimate per user request, for a spec with pipelines.
type UserRequests struct {
	// PerMonth is the spec's volume (or Options.Volume): user requests a month. Each makes
	// CallsPerRequest model calls on average, which the report's Volume counts.
	PerMonth        int64               `json:"user_requests_per_month"`
	CallsPerRequest float64             `json:"calls_per_user_request"`
	Pipelines       []PipelineInfo      `json:"pipelines"`
	Policies        []UserRequestPolicy `json:"policies"`
}

// PipelineInfo is a pipeline as the spec states it.
type PipelineInfo struct {
	Name          string   `json:"name"`
	Share         float64  `json:"share"`
	Steps         []string `json:"steps"`
	LatencyBudget float64  `json:"latency_budget_s,omitempty"`
}

// UserRequestPolicy is one policy's figures per user request: per pipeline (aligned with
// UserRequests.Pipelines) and over every user request, those of pipelines and those that
// call one category alone.
type UserRequestPolicy struct {
	Policy    string            `json:"policy"`
	SameAs    string            `json:"same_as,omitempty"`
	Pipelines []PipelineFigures `json:"pipelines"`
	All       PipelineFigures   `json:"all_user_requests"`
}

// PipelineFigures are expected figures per user request.
type PipelineFigures struct {
	Pipeline     string         `json:"pipeline,omitempty"`
	Cost         clearbar.Money `json:"cost_per_user_request_usd"`
	CostPerMonth Dollars        `json:"cost_per_month_usd"`
	Risk         clearbar.Money `json:"risk_per_user_request_usd"`
	RiskPerMonth Dollars        `json:"risk_per_month_usd"`
	// Quality is the probability that every step delivers a good answer; PFailed that some
	// step fails.
	Quality float64 `json:"quality"`
	PFailed float64 `json:"p_failed"`
	// Latency is the end-to-end time: the steps' times added up.
	Latency Latency `json:"latency"`
	// MeetsBudget says whether the latency's p95 meets the pipeline's budget (all pipelines'
	// budgets, for all user requests); WithinError that it does only within the simulation's
	// error, P95Error.
	MeetsBudget bool    `json:"meets_budget"`
	WithinError bool    `json:"meets_budget_within_error,omitempty"`
	P95Error    float64 `json:"p95_error_s,omitempty"`
}

// pipelineCategories returns the categories that are steps of a pipeline, whose cells keep
// their latency draws; nil without pipelines.
func pipelineCategories(s *spec.Spec) map[string]bool {
	if len(s.Pipelines) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, p := range s.Pipelines {
		for _, st := range p.Steps {
			out[st.Name] = true
		}
	}
	return out
}

// callVolume returns the model calls a month that a volume of user requests (Options.Volume)
// makes (spec.Spec.CallsPerMonth, as the loader converts the spec's volume): as many without
// pipelines; 0 (the spec's volume, which the loader counts in calls, spec.Spec.Volume) stays 0.
func callVolume(s *spec.Spec, userVolume int64) int64 {
	if len(s.Pipelines) == 0 || userVolume <= 0 {
		return userVolume
	}
	return s.CallsPerMonth(userVolume)
}

// userVolumeOf returns the user requests a month of an estimate: Options.Volume when set,
// else the spec's volume as written.
func userVolumeOf(s *spec.Spec, volume int64) int64 {
	switch {
	case volume > 0:
		return volume
	case len(s.Pipelines) == 0:
		return s.Volume.Monthly()
	}
	return s.UserVolume.Monthly()
}

// userRequests builds the section per user request; nil without pipelines. policies are
// aligned with r.Policies.
func (e *estimator) userRequests(policies []*Policy, r *Report, userVolume int64) *UserRequests {
	s := e.spec
	if len(s.Pipelines) == 0 {
		return nil
	}
	u := &UserRequests{PerMonth: userVolume, CallsPerRequest: s.CallsPerRequest()}
	index := map[string]int{}
	for i, c := range s.Categories {
		index[c.Name] = i
	}
	for _, p := range s.Pipelines {
		info := PipelineInfo{Name: p.Name, Share: float64(p.Share), LatencyBudget: p.LatencyBudget.D().Seconds()}
		for _, st := range p.Steps {
			info.Steps = append(info.Steps, st.Name)
		}
		u.Pipelines = append(u.Pipelines, info)
	}
	vol := float64(userVolume)
	for k, pol := range policies {
		up := UserRequestPolicy{Policy: pol.Name, SameAs: r.Policies[k].SameAs}
		all := newHist()
		var cost, risk, quality, failed float64
		meets := true
		for _, p := range s.Pipelines {
			cells := make([]*cell, len(p.Steps))
			for j, st := range p.Steps {
				cells[j] = pol.cells[index[st.Name]]
			}
			f, h := pipelineFigures(cells, p.LatencyBudget.D().Seconds())
			f.Pipeline = p.Name
			share := float64(p.Share)
			f.CostPerMonth = dollars(float64(f.Cost) * share * vol)
			f.RiskPerMonth = dollars(float64(f.Risk) * share * vol)
			up.Pipelines = append(up.Pipelines, f)
			cost += share * float64(f.Cost)
			risk += share * float64(f.Risk)
			quality += share * f.Quality
			failed += share * f.PFailed
			meets = meets && f.MeetsBudget
			all.addWeighted(h, share)
		}
		for i, c := range s.Categories {
			d := float64(c.DirectShare)
			if d == 0 {
				continue
			}
			cl := pol.cells[i]
			cost += d * cl.closed.cost
			risk += d * riskOf(c, cl.closed)
			quality += d * cl.closed.quality
			failed += d * cl.closed.failed
			all.addWeighted(cl.sim.hist, d)
		}
		q := all.quantiles(0.5, 0.95, 0.99)
		up.All = PipelineFigures{
			Cost: money(cost), CostPerMonth: dollars(cost * vol), Risk: money(risk), RiskPerMonth: dollars(risk * vol),
			Quality: quality, PFailed: failed, Latency: Latency{Mean: all.mean(), P50: q[0], P95: q[1], P99: q[2]},
			MeetsBudget: meets,
		}
		u.Policies = append(u.Policies, up)
	}
	return u
}

// pipelineMisses says where and by how much policy p's pipelines miss their latency budgets
// ("pipeline qa p95 14.2s is over its budget 13s by 1.2s (9%)"), and the shortfall they add to
// the policy's (see the comment at the top of this file); none without pipelines or budgets.
func (e *estimator) pipelineMisses(p *Policy) (misses []string, shortfall float64) {
	return e.pipelineMissesOf(p.cells)
}

// pipelineMissesOf is pipelineMisses for a policy whose cells, aligned with the spec's
// categories, are these.
func (e *estimator) pipelineMissesOf(pcells []*cell) (misses []string, shortfall float64) {
	_, misses, shortfall = e.pipelineVerdicts(pcells)
	return misses, shortfall
}

// pipelineVerdicts is pipelineMissesOf with the names of the pipelines that miss.
func (e *estimator) pipelineVerdicts(pcells []*cell) (names, misses []string, shortfall float64) {
	s := e.spec
	var index map[string]int
	for _, pl := range s.Pipelines {
		budget := pl.LatencyBudget.D().Seconds()
		if budget == 0 || pl.Share == 0 {
			continue // no budget, or no traffic: a pipeline no request takes decides nothing
		}
		if index == nil {
			index = map[string]int{}
			for i, c := range s.Categories {
				index[c.Name] = i
			}
		}
		cells := make([]*cell, len(pl.Steps))
		for j, st := range pl.Steps {
			cells[j] = pcells[index[st.Name]]
		}
		f, _ := pipelineFigures(cells, budget)
		if f.MeetsBudget {
			continue
		}
		p95 := f.Latency.P95
		shortfall += float64(pl.Share) * float64(len(pl.Steps)) / s.CallsPerRequest() * latencyShortfall(p95, budget, false)
		names = append(names, pl.Name)
		misses = append(misses, fmt.Sprintf("pipeline %s p95 %s is over its budget %s by %s (%s)", pl.Name, secs(p95),
			spec.FormatDuration(pl.LatencyBudget.D()), secs(p95-budget), overText((p95/budget-1)*100)))
	}
	return names, misses, shortfall
}

// pipelineBudgetNotes says which pipelines meet their budget only within the simulation's
// error, per policy (those the same as an earlier one left out); nil without pipelines.
func pipelineBudgetNotes(u *UserRequests) []string {
	if u == nil {
		return nil
	}
	var notes []string
	for _, pol := range u.Policies {
		if pol.SameAs != "" {
			continue
		}
		for i, f := range pol.Pipelines {
			if !f.WithinError {
				continue
			}
			p := u.Pipelines[i]
			notes = append(notes, fmt.Sprintf("pipeline %s, %s: simulated end-to-end p95 %s is over the %s budget by %s, less than the simulation's error (±%s): counted as meeting it",
				p.Name, pol.Policy, secs(f.Latency.P95), spec.FormatDuration(time.Duration(math.Round(p.LatencyBudget*1e9))), secs(f.Latency.P95-p.LatencyBudget), secs(f.P95Error)))
		}
	}
	return notes
}

// pipelineFigures returns the figures of one user request that calls the cells in order, and
// the histogram of its end-to-end latency, against a budget of that many seconds (0: none).
func pipelineFigures(cells []*cell, budget float64) (PipelineFigures, *hist) {
	var cost, risk float64
	good, ok := 1.0, 1.0
	for _, cl := range cells {
		cost += cl.closed.cost
		risk += riskOf(cl.cat, cl.closed)
		good *= cl.closed.quality
		ok *= 1 - cl.closed.failed
	}
	h := sumOfDraws(cells)
	q := h.quantiles(0.5, 0.95, 0.99)
	f := PipelineFigures{
		Cost: money(cost), Risk: money(risk), Quality: good, PFailed: 1 - ok,
		Latency:     Latency{Mean: h.mean(), P50: q[0], P95: q[1], P99: q[2]},
		MeetsBudget: true,
	}
	switch {
	case budget > 0 && f.PFailed >= 1-1e-9:
		// Every user request fails: there is no end-to-end latency to meet the budget with.
		f.MeetsBudget = false
	case budget > 0:
		f.P95Error = h.quantileTol(0.95)
		f.MeetsBudget = f.Latency.P95 <= budget+f.P95Error
		f.WithinError = f.MeetsBudget && f.Latency.P95 > budget
	}
	return f, h
}

// drawOffsets returns how many draws the cells pair (the fewest any of them has) and where in
// its draws each call starts: the k-th of m calls of one cell at k·⌊n/m⌋ (see sumOfDraws).
func drawOffsets(cells []*cell) (n int, offsets []int) {
	n = -1
	calls := map[*cell]int{}
	for _, cl := range cells {
		if n < 0 || len(cl.sim.draws) < n {
			n = len(cl.sim.draws)
		}
		calls[cl]++
	}
	offsets = make([]int, len(cells))
	seen := map[*cell]int{}
	for j, cl := range cells {
		if n > 0 {
			offsets[j] = seen[cl] * (n / calls[cl])
		}
		seen[cl]++
	}
	return max(n, 0), offsets
}

// sumOfDraws adds up the cells' latency draws request by request (see the comment at the top
// of this file): request i takes draw i of each cell, and the k-th of m calls of one cell in
// the pipeline draw i + k·⌊n/m⌋ (mod n).
func sumOfDraws(cells []*cell) *hist {
	n, offsets := drawOffsets(cells)
	h := newHist()
	for i := range n {
		var t float64
		for j, cl := range cells {
			t += cl.sim.draws[(i+offsets[j])%n]
		}
		h.add(t)
	}
	return h
}
