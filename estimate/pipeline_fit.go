package estimate

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/spec"
)

// Cheapest-passing picks, for each category, the cheapest model that clears the category's
// bar and budget. A pipeline's budget is on the sum of its steps' latencies, which those
// picks can miss while every step clears its own: fitPipelines then moves steps onto dearer
// models that also clear their categories, to the cheapest choice that brings every pipeline
// within its budget (as pipelineMisses judges it). With up to maxFitChoices choices it tries
// them all, cheapest first; with more, it moves one step at a time, each move the cheapest
// that brings every pipeline within budget or, when none does, the one that takes the most
// off the pipelines' shortfall per dollar it adds, and then moves each step back down to the
// cheapest model that keeps every pipeline within budget. When no choice is found, each
// category keeps its cheapest, and the policy misses the pipeline's budget, which its verdict
// says.

// maxFitChoices bounds the choices fitPipelines tries one by one (a variable for the tests).
var maxFitChoices = 256

// stepChoice is one category's choice in fitPipelines: its models that clear its bar and
// budget, cheapest first (none: the category keeps its pick, and has no choice), and which
// of them is chosen.
type stepChoice struct {
	options []candidate
	chosen  int
}

// fitPipelines fits the per-category choices to the pipelines' budgets, as above. choices
// and cells are aligned with the spec's categories; cells holds each category's choice and
// is updated with the fit. It returns, for each category it moved, the option it moved from;
// and whether every pipeline is within its budget after the fit (when not, nothing moved).
func (e *estimator) fitPipelines(choices []stepChoice, cells []*cell) (moved map[int]int, ok bool) {
	s := e.spec
	steps := map[int]bool{}
	index := map[string]int{}
	for i, c := range s.Categories {
		index[c.Name] = i
	}
	for _, p := range s.Pipelines {
		if p.LatencyBudget.D() <= 0 {
			continue
		}
		for _, st := range p.Steps {
			if i := index[st.Name]; len(choices[i].options) > 1 {
				steps[i] = true
			}
		}
	}
	_, short := e.pipelineMissesOf(cells)
	if short == 0 {
		return nil, true
	}
	start := make([]int, len(choices))
	for i := range choices {
		start[i] = choices[i].chosen
	}
	cost := func() float64 {
		var c float64
		for i, cat := range s.Categories {
			c += e.world.shareOf(cat) * cells[i].closed.cost
		}
		return c
	}
	set := func(i, o int) {
		choices[i].chosen = o
		cells[i] = choices[i].options[o].cell
	}
	free := slices.Sorted(maps.Keys(steps))
	total := 1
	for _, i := range free {
		total *= len(choices[i].options)
		if total > maxFitChoices {
			break
		}
	}
	if total <= maxFitChoices {
		short = e.fitAll(choices, cells, free, set)
	} else {
		short = e.fitGreedy(choices, cells, free, short, cost, set)
	}
	if short > 0 {
		for i := range choices {
			if len(choices[i].options) > 0 {
				set(i, start[i])
			}
		}
		return nil, false
	}
	moved = map[int]int{}
	for i, c := range choices {
		if len(c.options) > 0 && c.chosen != start[i] {
			moved[i] = start[i]
		}
	}
	return moved, true
}

// fitCascades fits cascade-by-price to the pipelines' budgets as fitPipelines fits
// cheapest-passing: a category whose cascade would take a pipeline over its budget takes
// cheapest-passing's route instead (a single model, fitted to the budgets already), where that
// clears its category and costs more than the cascade. It returns a note when no such choice
// brings every pipeline within its budget.
func (e *estimator) fitCascades(cheapest, cascade *Policy) string {
	s := e.spec
	if !slices.ContainsFunc(s.Pipelines, func(p *spec.Pipeline) bool { return p.LatencyBudget.D() > 0 }) {
		return ""
	}
	cellOf := func(c *spec.Category, r CategoryRoute) *cell {
		cl := e.cellFor(c, r)
		if cl.sim == nil {
			e.compute(cl, e.perCell)
		}
		return cl
	}
	choices, cells := make([]stepChoice, len(s.Categories)), make([]*cell, len(s.Categories))
	for i, c := range s.Categories {
		own, alt := cellOf(c, cascade.Routes[i]), cellOf(c, cheapest.Routes[i])
		cells[i] = own
		if own == alt || !alt.clears() || alt.closed.cost < own.closed.cost {
			continue // no choice: the cascade, or a cheaper route the policy does without
		}
		choices[i].options = []candidate{{cell: own}, {cell: alt}}
	}
	moved, ok := e.fitPipelines(choices, cells)
	if !ok {
		return fmt.Sprintf("%s: no choice between its cascades and cheapest-passing's dearer routes brings every pipeline within its latency budget; each category keeps its cascade",
			spec.PolicyCascadeByPrice)
	}
	for i := range moved {
		ch := choices[i]
		cr := ch.options[ch.chosen].cell.route
		cr.Note = fmt.Sprintf("cheapest-passing's %s: the %s leaves %s", describeRoute(cr), describeRoute(cascade.Routes[i]), e.overBudget(withCell(cells, i, ch.options[0].cell)))
		cascade.Routes[i] = cr
	}
	return ""
}

// overBudget names the pipelines that miss their latency budgets with cells (aligned with the
// spec's categories), as over them: "pipeline qa over its latency budget", "pipelines qa and
// chat over their latency budgets".
func (e *estimator) overBudget(cells []*cell) string {
	names, _, _ := e.pipelineVerdicts(cells)
	switch len(names) {
	case 0:
		return "no pipeline over its latency budget"
	case 1:
		return "pipeline " + names[0] + " over its latency budget"
	}
	return "pipelines " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " over their latency budgets"
}

// withCell returns cells with category i's replaced by cl.
func withCell(cells []*cell, i int, cl *cell) []*cell {
	out := slices.Clone(cells)
	out[i] = cl
	return out
}

// fitAll tries every choice of the free categories' options, in order of their cost (then of
// how far they move from the cheapest), and keeps the first that brings every pipeline within
// its budget; it returns the shortfall of the choice it keeps, 0 unless none does (and then
// the choices are as they were).
func (e *estimator) fitAll(choices []stepChoice, cells []*cell, free []int, set func(i, o int)) float64 {
	s := e.spec
	type combo struct {
		pick  []int
		cost  float64
		moves int
	}
	combos := []combo{{}}
	for _, i := range free {
		var next []combo
		for _, c := range combos {
			for o, opt := range choices[i].options {
				next = append(next, combo{
					pick:  append(slices.Clip(c.pick), o),
					cost:  c.cost + e.world.shareOf(s.Categories[i])*opt.cell.closed.cost,
					moves: c.moves + o,
				})
			}
		}
		combos = next
	}
	slices.SortStableFunc(combos, func(a, b combo) int {
		return cmp.Or(cmp.Compare(a.cost, b.cost), cmp.Compare(a.moves, b.moves))
	})
	start := make([]int, len(free))
	for k, i := range free {
		start[k] = choices[i].chosen
	}
	sc := e.newScreen()
	for _, c := range combos {
		for k, i := range free {
			set(i, c.pick[k])
		}
		if sc.clearlyOver(cells) {
			continue
		}
		if _, short := e.pipelineMissesOf(cells); short == 0 {
			return 0
		}
	}
	for k, i := range free {
		set(i, start[k])
	}
	_, short := e.pipelineMissesOf(cells)
	return short
}

// fitGreedy moves one free category at a time, as the comment at the top of this file says,
// from a choice whose pipelines fall short by short; it returns the shortfall it ends with.
func (e *estimator) fitGreedy(choices []stepChoice, cells []*cell, free []int, short float64, cost func() float64, set func(i, o int)) float64 {
	try := func(i, o int) (shortfall, cost1 float64) {
		old := cells[i]
		cells[i] = choices[i].options[o].cell
		_, shortfall = e.pipelineMissesOf(cells)
		cost1 = cost()
		cells[i] = old
		return shortfall, cost1
	}
	// Each move lowers the shortfall, so the loop ends; the bound is a guard.
	for range 64 * len(free) {
		if short == 0 {
			break
		}
		base := cost()
		bi, bo, bShort, bCost, bRate := -1, -1, short, 0.0, -1.0
		for _, i := range free {
			for o := range choices[i].options {
				if o == choices[i].chosen {
					continue
				}
				sh, c := try(i, o)
				added := c - base
				switch {
				case sh >= short*(1-1e-9):
					continue
				case sh == 0:
					// Within every budget: the cheapest such move, before any that is not.
					if bShort != 0 || added < bCost {
						bi, bo, bShort, bCost = i, o, 0, added
					}
				case bShort != 0:
					rate := (short - sh) / max(added, 1e-15)
					if rate > bRate {
						bi, bo, bShort, bCost, bRate = i, o, sh, added, rate
					}
				}
			}
		}
		if bi < 0 {
			break
		}
		set(bi, bo)
		short = bShort
	}
	if short > 0 {
		return short
	}
	// Move back down what the pipelines do not need.
	for _, i := range free {
		for o := range choices[i].chosen {
			if sh, _ := try(i, o); sh == 0 {
				set(i, o)
				break
			}
		}
	}
	return 0
}

// screenDraws is how many of each step's draws a screen adds up.
const screenDraws = 2048

// screen tells, from the first screenDraws of each step's latency draws, the choices whose
// pipelines are over budget beyond doubt, so that fitAll need not add up all of their draws:
// most of the choices it tries, when the budget is tight. It is conservative: a pipeline is
// clearly over when its screened p95, less three times the screen's error (the error of a
// quantile of screenDraws sums, as hist.quantileTol measures it, which is larger than the
// whole simulation's), is still over the budget plus that error; a choice the whole
// simulation would count as meeting the budget is then about nine standard errors of the
// screen away.
type screen struct {
	pipes []screenPipe
	sums  []float64
}

// screenPipe is a pipeline with a budget: its steps' category indices.
type screenPipe struct {
	budget float64
	steps  []int
}

func (e *estimator) newScreen() *screen {
	s := e.spec
	index := map[string]int{}
	for i, c := range s.Categories {
		index[c.Name] = i
	}
	sc := &screen{}
	for _, p := range s.Pipelines {
		if b := p.LatencyBudget.D().Seconds(); b > 0 {
			sp := screenPipe{budget: b}
			for _, st := range p.Steps {
				sp.steps = append(sp.steps, index[st.Name])
			}
			sc.pipes = append(sc.pipes, sp)
		}
	}
	return sc
}

// clearlyOver reports whether some pipeline is over its budget beyond doubt with these cells
// (aligned with the spec's categories), as the comment on screen says.
func (sc *screen) clearlyOver(cells []*cell) bool {
	for _, p := range sc.pipes {
		steps := make([]*cell, len(p.steps))
		for j, i := range p.steps {
			steps[j] = cells[i]
		}
		sums := sc.addUp(steps)
		m := len(sums)
		if m < screenDraws {
			return false // too few draws to screen: the whole simulation decides
		}
		const q = 0.95
		se := math.Sqrt(q * (1 - q) / float64(m))
		d := min(max(0.005, 3*se), q/2, (1-q)/2)
		// Only the order statistics from q − d up are read: the top of the sums.
		from := int((q - d) * float64(m))
		top := largest(sums, m-from)
		at := func(q float64) float64 { return top[min(int(q*float64(m)), m-1)-from] }
		p95 := at(q)
		tol := budgetZ*se*(at(q+d)-at(q-d))/(2*d) + p95*halfBucket
		if p95-3*tol > p.budget+tol {
			return true
		}
	}
	return false
}

// addUp returns the first screenDraws sums of the steps' draws, paired as sumOfDraws pairs
// them; fewer when a step has fewer draws.
func (sc *screen) addUp(steps []*cell) []float64 {
	n, offsets := drawOffsets(steps)
	m := min(n, screenDraws)
	sc.sums = slices.Grow(sc.sums[:0], m)[:m]
	clear(sc.sums)
	for j, cl := range steps {
		for i := range m {
			sc.sums[i] += cl.sim.draws[(i+offsets[j])%n]
		}
	}
	return sc.sums
}

// largest returns the k largest of xs in ascending order, reordering xs.
func largest(xs []float64, k int) []float64 {
	h := xs[:k]
	// A min-heap of the k largest so far: h[0] is the least of them.
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= k {
				return
			}
			if c+1 < k && h[c+1] < h[c] {
				c++
			}
			if h[i] <= h[c] {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range xs[k:] {
		if x > h[0] {
			h[0] = x
			down(0)
		}
	}
	slices.Sort(h)
	return h
}
