package estimate

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// Observation is one measured call of a model in a category: what an eval run or production
// recorded. Pass is nil when the answer was not graded; LatencyMS and token counts are 0 when
// unknown; Failed marks a call that failed with a provider error.
//
// ByValidator says Pass is the validators' verdict (decision records, shadow traffic, eval
// items graded by the category's validators alone) rather than a grade (an eval's reference
// or checks, or a labelled dataset). Validators miss bad
// answers and flag good ones, so verdicts measure q(1−f) + (1−q)(1−d), not the pass rate q;
// Measure corrects them with the category's validator strength (detect d, false alarm f).
type Observation struct {
	Category string
	// Item names the request the call answered (an outcomes row's item), when known: the
	// grades of the models of a cascade on the same items measure how a later model does on
	// the requests escalated to it (see escalatedPassRates).
	Item        string
	Model       string // a spec model name or a provider model id
	Pass        *bool
	ByValidator bool
	LatencyMS   float64
	// TimeScaled says LatencyMS is a call's to a provider simulated at a time scale (serve
	// --time-scale; outcomes.Row.TimeScale): the wall-clock time divided by the scale, which
	// divides the gateway's own overhead and queueing by it too. Measure shows such latencies
	// and measures nothing with them.
	TimeScaled bool
	TokensIn   int
	TokensOut  int
	// TokensCached are the prompt tokens read from the prompt cache, among TokensIn; nil when
	// the call did not record them. TokensReasoning are the reasoning tokens among TokensOut.
	TokensCached    *int
	TokensReasoning int
	// TokensEstimated says the token counts are estimates, not counts the call reported (an
	// eval row of a replayed answer whose recorded row had none: outcomes.Row.TokensEstimated).
	// Measure leaves them out of the token, cache and cost measurements.
	TokensEstimated bool
	// Cost is the call's recorded cost; 0 when none was recorded.
	Cost   clearbar.Money
	Failed bool
	// Retries are the calls before this one that failed with a provider error and were
	// retried, when the row counts them rather than recording each (an eval row): each is a
	// call that failed, for the model's availability.
	Retries int
	// Simulated says a simulated provider answered (a row that says "simulated": true: an
	// eval --simulate, or a decision of a simulated provider): its pass, latency, tokens and
	// failure are drawn from the spec's own assumptions, so they measure no model. Measure
	// shows the findings of a model and category with such calls, tests none of them and
	// replaces no assumption with them, as replay --calibrate and validate calibrate write
	// nothing from them.
	Simulated bool
}

// Measurements are observations grouped by category and spec model, ready to replace
// assumptions.
type Measurements struct {
	cells map[[2]string]*measured
	// Unmatched counts observations whose category or model the spec does not have.
	Unmatched int
	// noCategory counts them by a category the spec does not have ("" for observations
	// without one), noModel by a model, in a category it has.
	noCategory, noModel map[string]int
	// grades are the graded answers (not validator verdicts) of observations with an item, by
	// category, item and spec model.
	grades map[string]map[string]map[string]bool
	// escalated keeps escalatedPassRates by category, as both apply and Findings use them.
	escalated map[string][]escalatedEstimate
	// Simulated counts the observations of simulated providers (Observation.Simulated), of
	// All observations, matched or not.
	Simulated, All int
}

// measured is what was observed of one model in one category.
type measured struct {
	n, graded, passes, failures int
	// verdicts and verdictPasses count answers judged by validators only (ByValidator).
	verdicts, verdictPasses int
	latency                 []float64 // seconds, sorted
	// scaled are the latencies of calls answered at a time scale (Observation.TimeScaled),
	// in seconds, sorted: shown, not measurements.
	scaled              []float64
	tokensIn, tokensOut []float64
	reasoning           float64 // the reasoning tokens among tokensOut, summed
	// cache is the cached against the prompt tokens of the calls that recorded them.
	cache stats.Ratio
	// costed counts calls that recorded a cost and their tokens; recorded sums those costs
	// and priced the same calls at the spec's prices.
	costed           int
	recorded, priced float64
	// estimated counts the answered calls whose token counts are estimates, left out of the
	// token measurements; estIn and estOut sum those estimates, for a finding that says so.
	estimated     int
	estIn, estOut float64
	// simulated counts the calls of simulated providers (Observation.Simulated) among n:
	// when there are any, the cell's findings are shown, not tested, and not used.
	simulated int
}

// MinGraded is the fewest graded answers a pass rate needs before it replaces an assumption,
// and MinLatency the fewest latency samples for a latency distribution.
const (
	MinGraded  = 20
	MinLatency = 20
)

// Measure groups observations by the spec's categories and models. A model is matched by its
// spec name, else by its provider model id (the first spec model with that id).
func Measure(s *spec.Spec, obs []Observation) *Measurements {
	byID := map[string]*spec.Model{}
	for _, m := range s.Models {
		if _, ok := byID[m.Model]; !ok {
			byID[m.Model] = m
		}
	}
	ms := &Measurements{cells: map[[2]string]*measured{}, All: len(obs)}
	for _, o := range obs {
		if o.Simulated {
			ms.Simulated++
		}
		c := s.Category(o.Category)
		m := s.Model(o.Model)
		if m == nil {
			m = byID[o.Model]
		}
		if c == nil || m == nil {
			ms.Unmatched++
			if c == nil {
				ms.noCategory = withCount(ms.noCategory, o.Category)
			} else {
				ms.noModel = withCount(ms.noModel, o.Model)
			}
			continue
		}
		key := [2]string{c.Name, m.Name}
		cell := ms.cells[key]
		if cell == nil {
			cell = &measured{}
			ms.cells[key] = cell
		}
		cell.n += 1 + o.Retries
		cell.failures += o.Retries
		if o.Simulated {
			cell.simulated += 1 + o.Retries
		}
		if o.Failed {
			cell.failures++
			continue
		}
		switch {
		case o.Pass != nil && o.ByValidator:
			cell.verdicts++
			if *o.Pass {
				cell.verdictPasses++
			}
		case o.Pass != nil:
			cell.graded++
			if *o.Pass {
				cell.passes++
			}
			if o.Item != "" && !o.Simulated {
				ms.grade(c.Name, o.Item, m.Name, *o.Pass)
			}
		}
		switch {
		case o.LatencyMS > 0 && o.TimeScaled:
			cell.scaled = append(cell.scaled, o.LatencyMS/1000)
		case o.LatencyMS > 0:
			cell.latency = append(cell.latency, o.LatencyMS/1000)
		}
		if o.TokensEstimated {
			// Estimates are no measurement of the model's tokens, nor of its cache, nor of
			// its prices.
			cell.estimated++
			cell.estIn += float64(o.TokensIn)
			cell.estOut += float64(o.TokensOut)
			continue
		}
		if o.TokensIn > 0 {
			cell.tokensIn = append(cell.tokensIn, float64(o.TokensIn))
		}
		if o.TokensOut > 0 {
			cell.tokensOut = append(cell.tokensOut, float64(o.TokensOut))
			cell.reasoning += float64(min(o.TokensReasoning, o.TokensOut))
		}
		u := clearbar.Usage{PromptTokens: o.TokensIn, CompletionTokens: o.TokensOut, ReasoningTokens: min(o.TokensReasoning, o.TokensOut)}
		if o.TokensCached != nil && o.TokensIn > 0 {
			u.CachedTokens = *o.TokensCached
			cell.cache.Add(float64(u.CachedTokens), float64(o.TokensIn))
		}
		if o.Cost > 0 && o.TokensIn+o.TokensOut > 0 {
			cell.costed++
			cell.recorded += float64(o.Cost)
			cell.priced += float64(m.Cost(u))
		}
	}
	for _, cell := range ms.cells {
		sort.Float64s(cell.latency)
		sort.Float64s(cell.scaled)
	}
	return ms
}

// grade records model's graded answer to item in category.
func (ms *Measurements) grade(category, item, model string, pass bool) {
	if ms.grades == nil {
		ms.grades = map[string]map[string]map[string]bool{}
	}
	byItem := ms.grades[category]
	if byItem == nil {
		byItem = map[string]map[string]bool{}
		ms.grades[category] = byItem
	}
	byModel := byItem[item]
	if byModel == nil {
		byModel = map[string]bool{}
		byItem[item] = byModel
	}
	byModel[model] = pass
}

// escalatedEstimate is a later cascade step's model's measured pass rate on the requests
// escalated to it (see escalatedPassRates).
type escalatedEstimate struct {
	model string
	// p is the pass rate on escalated requests; base the model's pass rate on the same items,
	// unweighted, which p goes with (see world.passEscalated).
	p, base float64
	// n is the effective number of answers, (Σw)²/Σw² of the items' weights, for intervals and
	// the minimum.
	n float64
}

// escalatedPassRates measures, for category c's route when it is a cascade whose steps before
// a later one validate, how each later step's model does on the requests escalated to it.
// A request reaches step k when every earlier step's answer was flagged: on an item whose
// grades of the earlier steps' models are known, with probability Π (detect where the answer
// failed, false alarm where it passed), at the category's validator strength. Each item then
// counts with that weight: the later model's escalated pass rate is Σ w·pass / Σ w over the
// items every one of the steps' models answered. Split and score routes are not measured.
func (ms *Measurements) escalatedPassRates(s *spec.Spec, c *spec.Category) []escalatedEstimate {
	if e, ok := ms.escalated[c.Name]; ok {
		return e
	}
	e := ms.measureEscalated(s, c)
	if ms.escalated == nil {
		ms.escalated = map[string][]escalatedEstimate{}
	}
	ms.escalated[c.Name] = e
	return e
}

// measureEscalated is escalatedPassRates, measured.
func (ms *Measurements) measureEscalated(s *spec.Spec, c *spec.Category) []escalatedEstimate {
	byItem := ms.grades[c.Name]
	if len(byItem) == 0 || c.Route == nil || len(c.Route.Split) > 0 || c.Route.Score != nil {
		return nil
	}
	steps := c.Route.Steps(s)
	st := c.Strength()
	d, f := float64(st.Detect), float64(st.FalseAlarm)
	var out []escalatedEstimate
	for k := 1; k < len(steps); k++ {
		if len(steps[k-1].Validate) == 0 || steps[k].Model == nil {
			break // an unvalidated step delivers: no request goes past it on a flag
		}
		name := steps[k].Model.Name
		if slices.ContainsFunc(out, func(e escalatedEstimate) bool { return e.model == name }) {
			continue
		}
		var sw, sw2, swp float64
		var items, passes int
		for _, grades := range byItem {
			pass, ok := grades[name]
			if !ok {
				continue
			}
			w := 1.0
			for i := 0; i < k && ok; i++ {
				var earlier bool
				if earlier, ok = grades[steps[i].Model.Name]; earlier {
					w *= f
				} else {
					w *= d
				}
			}
			if !ok {
				continue
			}
			items++
			sw, sw2 = sw+w, sw2+w*w
			if pass {
				swp += w
				passes++
			}
		}
		if sw <= 0 {
			continue
		}
		out = append(out, escalatedEstimate{model: name, p: swp / sw, base: float64(passes) / float64(items), n: sw * sw / sw2})
	}
	return out
}

func withCount(m map[string]int, key string) map[string]int {
	if m == nil {
		m = map[string]int{}
	}
	m[key]++
	return m
}

// UnmatchedNotes says which observations matched nothing in s, and what to do about them: rows
// without a category, rows of categories s does not have, rows of models s does not have (by
// spec name or provider model id), each with the most frequent names. from names the table.
func (ms *Measurements) UnmatchedNotes(s *spec.Spec, from string) []string {
	var notes []string
	if n := ms.noCategory[""]; n > 0 {
		have := "have"
		if n == 1 {
			have = "has"
		}
		notes = append(notes, fmt.Sprintf("%s of %s %s no category, so they measure nothing: give them the spec's category for that traffic (clearbar outcomes import or convert --category NAME)", rowCount(n), from, have))
	}
	if others := countList(ms.noCategory); others != "" {
		var names []string
		for _, c := range s.Categories {
			names = append(names, c.Name)
		}
		notes = append(notes, fmt.Sprintf("rows of %s in categories the spec does not have were left out: %s; its categories are %s", from, others, strings.Join(names, ", ")))
	}
	if models := countList(ms.noModel); models != "" {
		notes = append(notes, fmt.Sprintf("rows of %s of models the spec has no model for (by name or provider model id) were left out: %s; add a model under models: to measure it", from, models))
	}
	return notes
}

// countList lists the named counts, most first, at most five: "nope (12 rows), other (1 row)";
// "" when there are none (the count of "" is left out).
func countList(counts map[string]int) string {
	type named struct {
		name string
		n    int
	}
	var all []named
	for k, n := range counts {
		if k != "" {
			all = append(all, named{k, n})
		}
	}
	slices.SortFunc(all, func(a, b named) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.name, b.name)
	})
	var parts []string
	for i, x := range all {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(all)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%q (%s)", x.name, rowCount(x.n)))
	}
	return strings.Join(parts, ", ")
}

// rowCount is "1 row" or "n rows".
func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

// apply sets the world's overrides from measurements that are large enough.
func (ms *Measurements) apply(w *world) {
	for _, c := range w.spec.Categories {
		for _, e := range ms.escalatedPassRates(w.spec, c) {
			if e.n >= MinGraded {
				if w.escPassRate == nil {
					w.escPassRate = map[[2]string][2]float64{}
				}
				w.escPassRate[[2]string{c.Name, e.model}] = [2]float64{e.p, e.base}
			}
		}
	}
	for key, cell := range ms.cells {
		if cell.simulated > 0 {
			continue // drawn from the assumptions: it would give them back (see Findings)
		}
		if pr := cell.passRate(w.spec.Category(key[0])); pr.used {
			w.passRate = withKey(w.passRate, key, pr.p)
		}
		if len(cell.latency) >= MinLatency {
			if w.measuredLatency == nil {
				w.measuredLatency = map[[2]string][]float64{}
			}
			w.measuredLatency[key] = cell.latency
		}
		if len(cell.tokensIn) >= MinLatency && len(cell.tokensOut) >= MinLatency {
			if w.measuredTokens == nil {
				w.measuredTokens = map[[2]string]measuredTokens{}
			}
			in := slices.Sorted(slices.Values(cell.tokensIn))
			w.measuredTokens[key] = measuredTokens{in: in, meanIn: mean(in), meanOut: mean(cell.tokensOut),
				meanReasoning: cell.reasoning / float64(len(cell.tokensOut))}
		}
		if hit, ok := cell.cacheHit(); ok && cell.cache.N() >= MinLatency {
			w.measuredCacheHit = withKey(w.measuredCacheHit, key, hit)
		}
		if cell.n >= MinGraded {
			// Provider failures measured per model and category become its availability there.
			if w.measuredAvail == nil {
				w.measuredAvail = map[[2]string]float64{}
			}
			w.measuredAvail[key] = 1 - float64(cell.failures)/float64(cell.n)
		}
	}
}

// cacheHit is the share of the recorded prompt tokens read from the prompt cache, as a
// category's tokens.cache_hit says it: a share of tokens, not of calls.
func (cell *measured) cacheHit() (float64, bool) {
	v := cell.cache.Value()
	return v, !math.IsNaN(v)
}

// measuredTokens are a model's measured tokens per call in a category: the prompt tokens of
// every call, sorted (a price tier applies to each call's own prompt, so the mean alone would
// miss the calls over a long-context threshold), and the means. meanOut counts reasoning
// tokens, as providers count them among completion tokens; meanReasoning is their part of it
// (0 when the calls did not record them, which bills them as output).
type measuredTokens struct {
	in                             []float64
	meanIn, meanOut, meanReasoning float64
}

// passRateEstimate is a cell's measured pass rate with its 95% interval.
type passRateEstimate struct {
	p, lo, hi float64
	n         int
	// used says it replaces the assumption; informative that it can tell whether the
	// assumption lies within the interval (a contradiction when used).
	used, informative bool
	note              string
	// unit names what n counts: "graded answers" or "validated answers".
	unit string
}

// passRate estimates the pass rate from grades when there are enough, else from validator
// verdicts corrected for the category's validator strength: the verdicts' pass share is
// v = q(1−f) + (1−q)(1−d), so q = (v − (1−d)) / (d − f), clipped to [0, 1], with the interval
// transformed the same way. A validator that barely tells good from bad (d − f < 0.2) gives
// no usable estimate.
func (cell *measured) passRate(c *spec.Category) passRateEstimate {
	if cell.graded >= MinGraded || cell.verdicts == 0 {
		if cell.graded == 0 {
			return passRateEstimate{}
		}
		pr := passRateEstimate{p: float64(cell.passes) / float64(cell.graded), n: cell.graded, used: cell.graded >= MinGraded, informative: true, unit: "graded answers"}
		pr.lo, pr.hi = binomialInterval(cell.passes, cell.graded)
		return pr
	}
	st := c.Strength()
	d, f := float64(st.Detect), float64(st.FalseAlarm)
	v := float64(cell.verdictPasses) / float64(cell.verdicts)
	vlo, vhi := binomialInterval(cell.verdictPasses, cell.verdicts)
	pr := passRateEstimate{n: cell.verdicts, unit: "validated answers"}
	if d-f < 0.2 {
		pr.p, pr.lo, pr.hi = v, vlo, vhi
		pr.note = fmt.Sprintf("validator verdicts only, and the validator (detect %.2f, false alarm %.2f) barely separates good answers from bad: the assumption is kept", d, f)
		return pr
	}
	if vhi < 1-d || vlo > 1-f {
		// No pass rate gives that share at the assumed strength, beyond chance: the assumed
		// strength does not fit these answers, and the correction would be no pass rate.
		pr.p, pr.lo, pr.hi = v, vlo, vhi
		pr.note = fmt.Sprintf("validator verdicts only: they accept %.1f%% of answers, outside the %.1f%%–%.1f%% the assumed strength (detect %.2f, false alarm %.2f) allows: it does not fit these answers, so no pass rate is measured and the assumption is kept; calibrate the validators (clearbar validate calibrate)", v*100, (1-d)*100, (1-f)*100, d, f)
		return pr
	}
	correct := func(x float64) float64 { return min(max((x-(1-d))/(d-f), 0), 1) }
	pr.p, pr.lo, pr.hi = correct(v), correct(vlo), correct(vhi)
	pr.used, pr.informative = cell.verdicts >= MinGraded, true
	pr.note = fmt.Sprintf("from validator verdicts (%.1f%% passed), corrected for detect %.2f and false alarm %.2f", v*100, d, f)
	return pr
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Finding compares one assumption with its measurement.
type Finding struct {
	Category string `json:"category"`
	Model    string `json:"model"`
	// What is "pass rate", "escalated pass rate", "latency p50", "latency p95", "tokens in", "tokens out",
	// "cache hit", "cost per call" or "availability".
	What     string  `json:"what"`
	Assumed  float64 `json:"assumed"`
	Measured float64 `json:"measured"`
	// Low and High bound the measurement (95% interval where one applies). HighUnbounded
	// says the interval has no upper end (a latency quantile from too few samples); High
	// is then 0.
	Low           float64 `json:"low"`
	High          float64 `json:"high"`
	HighUnbounded bool    `json:"high_unbounded,omitempty"`
	N             int     `json:"n"`
	// Contradicts says the assumption lies outside the measurement's interval (IntervalLegend
	// names each kind's): for pass rates and availability the exact binomial one, for latency
	// quantiles the order statistics', for tokens the mean's (and more than 25% off it), for
	// the cache hit the ratio's (and more than 5 points off it); for the cost per call, that
	// the recorded costs are more than 25% off the spec's prices for the recorded tokens. Note
	// then says what to write in the spec. A measurement below its minimum (MinGraded graded or
	// validated answers for a pass rate, MinLatency calls for latency, tokens and the cache
	// hit), or of latencies at a time scale, is shown but contradicts nothing: it keeps the
	// assumption, and Note says so, and whether the assumption lies outside the interval.
	Contradicts bool `json:"contradicts"`
	// Used says the measurement replaces the assumption in the estimate.
	Used bool `json:"used"`
	// Untested says the measurement is shown but not tested against the assumption: it is
	// below its minimum, its latencies were answered at a time scale, its token counts are
	// estimates, or its validator barely tells good answers from bad. Note says which.
	Untested bool   `json:"untested,omitempty"`
	Note     string `json:"note,omitempty"`
	// Models are the models whose calls a finding of a category's assumption pools (tokens
	// in, and tokens out of models that bill no reasoning tokens, which the spec assumes per
	// category, not per model): Model then lists them, and the finding is the category's,
	// tested and said what to write once (see poolTokens). Empty for a finding of one model.
	Models []string `json:"models,omitempty"`
}

// verdict is the finding's verdict as the reports print it: "contradicts", "agrees" or "not
// tested".
func (f *Finding) verdict() string {
	switch {
	case f.Contradicts:
		return "contradicts"
	case f.Untested:
		return "not tested"
	}
	return "agrees"
}

// IntervalLegend says which 95% interval each kind of finding has, for the reports that print
// them: the exact binomial (Clopper–Pearson) one for pass rates, which eval's Wilson interval
// is narrower than near 0 and 1.
const IntervalLegend = "95% intervals: exact binomial (Clopper–Pearson) for pass rates and availability, " +
	"order statistics for latency, the mean's normal interval for tokens, the delta method's for the cache hit; " +
	"clearbar eval's pass-rate interval is Wilson's, a little narrower"

// keepUnder marks a finding from fewer than least of what unit names ("calls", "graded
// answers") as one that keeps the assumption: shown, not used and contradicting nothing, with
// a note that says so, and, when the assumption lies outside the interval, to measure more.
func (f *Finding) keepUnder(least int, unit string) {
	if f.N >= least {
		return
	}
	outside := f.Contradicts
	f.Used, f.Contradicts, f.Untested = false, false, true
	note := fmt.Sprintf("fewer than %d %s: the assumption is kept", least, unit)
	if outside {
		note += ", though it lies outside the interval: measure more before changing the spec"
	}
	f.Note = strings.TrimPrefix(f.Note+"; "+note, "; ")
}

// Findings compares every assumption of s with its measurement.
func (ms *Measurements) Findings(s *spec.Spec) []Finding {
	var out []Finding
	keys := make([][2]string, 0, len(ms.cells))
	for k := range ms.cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		if a[0] != b[0] {
			return categoryIndex(s, a[0]) - categoryIndex(s, b[0])
		}
		return modelIndex(s, a[1]) - modelIndex(s, b[1])
	})
	for _, key := range keys {
		cell := ms.cells[key]
		c, m := s.Category(key[0]), s.Model(key[1])
		first := len(out)
		if pr := cell.passRate(c); pr.n > 0 {
			f := Finding{Category: c.Name, Model: m.Name, What: "pass rate", Measured: pr.p, Low: pr.lo, High: pr.hi, N: pr.n, Used: pr.used, Note: pr.note}
			if a, ok := c.PassRate(m); ok {
				f.Assumed = a
				f.Contradicts = pr.informative && (a < pr.lo || a > pr.hi)
				if pr.informative {
					f.keepUnder(MinGraded, pr.unit)
				}
				f.Untested = f.Untested || !pr.informative
			} else if f.Note == "" {
				f.Note = "no assumption"
			}
			if cell.failures > 0 {
				calls := fmt.Sprintf("%d failed calls count", cell.failures)
				if cell.failures == 1 {
					calls = "1 failed call counts"
				}
				f.Note = strings.TrimPrefix(f.Note+"; over answered calls; "+calls+" toward availability", "; ")
			}
			out = append(out, f)
		}
		// Latencies at a time scale are shown when there are no others, and measure nothing:
		// divided by the scale, the gateway's own overhead and queueing are magnified by 1/scale.
		samples, scaled := cell.latency, false
		if len(samples) == 0 && len(cell.scaled) > 0 {
			samples, scaled = cell.scaled, true
		}
		if n := len(samples); n > 0 {
			// The assumption as the estimate draws it: a model that bills reasoning tokens
			// generates them too.
			var reasoning *spec.Band
			if m.Resolved.Reasoning {
				reasoning = &c.Tokens.Reasoning
			}
			lm := newLatencyModel(c.LatencyFor(m), c.Tokens.Out, reasoning)
			for _, q := range []struct {
				name string
				p    float64
			}{{"latency p50", 0.5}, {"latency p95", 0.95}} {
				v, lo, hi := quantileCI(samples, q.p)
				assumed := assumedQuantile(&lm, q.p)
				f := Finding{Category: c.Name, Model: m.Name, What: q.name, Assumed: assumed, Measured: v, N: n, Used: n >= MinLatency}
				// Too few samples leave an end of the interval open: below, a latency is
				// at least 0; above, nothing bounds it.
				f.Low = max(lo, 0)
				if math.IsInf(hi, 1) {
					f.HighUnbounded = true
				} else {
					f.High = hi
				}
				f.Contradicts = assumed > 0 && (assumed < lo || assumed > hi)
				if m.Resolved.LatencyDefault && c.Assume.Latency[m.Name] == nil {
					f.Note = "the assumption was the default"
				}
				switch {
				case scaled:
					f.Used, f.Contradicts, f.Untested = false, false, true
					f.Note = strings.TrimPrefix(f.Note+"; "+timeScaledNote(n), "; ")
				default:
					f.keepUnder(MinLatency, "calls")
					if k := len(cell.scaled); k > 0 {
						f.Note = strings.TrimPrefix(f.Note+fmt.Sprintf("; %s left out", timeScaledCalls(k)), "; ")
					}
				}
				out = append(out, f)
			}
		}
		// Providers count reasoning tokens among the completion tokens: for a model that
		// bills them, the assumption to compare with is the output and the reasoning.
		assumedOut := newBand(c.Tokens.Out).Mean()
		if m.Resolved.Reasoning {
			assumedOut += newBand(c.Tokens.Reasoning).Mean()
		}
		if n := len(cell.tokensIn); n > 0 {
			f := Finding{Category: c.Name, Model: m.Name, What: "tokens in", Assumed: newBand(c.Tokens.In).Mean(), N: n, Used: n >= MinLatency}
			tokensFinding(&f, cell.tokensIn)
			f.keepUnder(MinLatency, "calls")
			cell.noteEstimated(&f)
			out = append(out, f)
		}
		if n := len(cell.tokensOut); n > 0 {
			f := Finding{Category: c.Name, Model: m.Name, What: "tokens out", Assumed: assumedOut, N: n, Used: n >= MinLatency}
			tokensFinding(&f, cell.tokensOut)
			f.keepUnder(MinLatency, "calls")
			cell.noteEstimated(&f)
			out = append(out, f)
		}
		if len(cell.tokensIn) == 0 && len(cell.tokensOut) == 0 && cell.estimated > 0 {
			// Every answered call's tokens are estimates: say so, with what they estimate,
			// rather than leave the tokens unmentioned or take the estimates for measurements.
			n := float64(cell.estimated)
			note := fmt.Sprintf("not measured: the token counts of all %s are estimates (replayed answers whose recorded rows had none), so the assumption is kept", rowCount(cell.estimated))
			out = append(out,
				Finding{Category: c.Name, Model: m.Name, What: "tokens in", Assumed: newBand(c.Tokens.In).Mean(), Measured: cell.estIn / n, N: cell.estimated, Untested: true, Note: note},
				Finding{Category: c.Name, Model: m.Name, What: "tokens out", Assumed: assumedOut, Measured: cell.estOut / n, N: cell.estimated, Untested: true, Note: note})
		}
		if hit, ok := cell.cacheHit(); ok {
			// The cache's share of prompt tokens, against the category's cache_hit: a moved
			// prompt prefix or a provider that stopped caching shows here.
			// A contradiction is an assumption outside the measurement's 95% interval (the ratio's
			// delta-method one, as review's) and more than 5 points off it.
			n := cell.cache.N()
			se := cell.cache.SE()
			f := Finding{Category: c.Name, Model: m.Name, What: "cache hit", Assumed: float64(c.Tokens.CacheHit), Measured: hit,
				Low: max(hit-1.96*se, 0), High: min(hit+1.96*se, 1), N: n, Used: n >= MinLatency}
			if f.Contradicts = n >= 2 && (f.Assumed < f.Low || f.Assumed > f.High) && math.Abs(f.Measured-f.Assumed) > 0.05; f.Contradicts {
				f.Note = "more than 5 points off"
			}
			f.keepUnder(MinLatency, "calls")
			if e := m.Resolved.Prices; e.CachedInput == 0 || e.CachedInput == e.Input {
				f.Note = strings.TrimPrefix(f.Note+"; the model has no cached-input price, so the cache does not change its cost", "; ")
			}
			out = append(out, f)
		}
		if cell.costed > 0 {
			// What the calls cost against what the spec's prices make of their tokens: prices
			// that moved, or a provider that bills differently, show here. Informational: the
			// estimate prices calls at the spec's prices. It has no minimum: each call's
			// recorded cost is compared with the price of its own recorded tokens, no sample of
			// a distribution.
			n := float64(cell.costed)
			f := Finding{Category: c.Name, Model: m.Name, What: "cost per call", Assumed: cell.priced / n / 1e9, Measured: cell.recorded / n / 1e9, N: cell.costed,
				Note: "assumed: the spec's prices for the recorded tokens"}
			if f.Contradicts = math.Abs(f.Measured-f.Assumed) > 0.25*f.Assumed; f.Contradicts {
				f.Note = "more than 25% off the spec's prices for the recorded tokens: check the model's prices"
			}
			out = append(out, f)
		}
		if cell.n >= MinGraded {
			// Measured whenever there are enough calls, failed or not: it replaces the
			// assumption (see apply).
			a := m.Resolved.Availability
			got := 1 - float64(cell.failures)/float64(cell.n)
			lo, hi := binomialInterval(cell.n-cell.failures, cell.n)
			out = append(out, Finding{Category: c.Name, Model: m.Name, What: "availability", Assumed: a, Measured: got, Low: lo, High: hi, N: cell.n, Used: true, Contradicts: a < lo || a > hi})
		}
		// The cell's findings, when some of its calls went to simulated providers, are
		// shown and say so, but test nothing and replace nothing.
		cell.markSimulated(out[first:])
	}
	out, pooled := ms.poolTokens(s, out)
	out = append(out, ms.escalatedFindings(s)...)
	slices.SortStableFunc(out, func(a, b Finding) int {
		if a.Category != b.Category {
			return categoryIndex(s, a.Category) - categoryIndex(s, b.Category)
		}
		return modelIndex(s, a.Model) - modelIndex(s, b.Model)
	})
	// Each contradiction says what to write in the spec to agree with its measurement.
	for i := range out {
		f := &out[i]
		if !f.Contradicts || !f.Used {
			// Only a cost per call contradicts unused: it has its own note.
			continue
		}
		c, m := s.Category(f.Category), s.Model(f.Model)
		cell := ms.cells[[2]string{f.Category, f.Model}]
		if len(f.Models) > 0 {
			// A pooled finding of the category's tokens (poolTokens).
			m, cell = s.Model(f.Models[0]), pooled[[2]string{f.Category, f.What}]
		}
		if change := specChange(s, c, m, cell, f); change != "" {
			f.Note = strings.TrimPrefix(f.Note+"; "+change, "; ")
		}
	}
	return out
}

// poolTokens replaces, in each category where the calls of more than one model measured them,
// those models' findings of the category's tokens with one finding over all their calls: the
// spec assumes tokens per category (tokens.in, tokens.out), not per model, so the category's
// assumption is tested, counted and said what to write once, not once per model. Tokens out
// are pooled over the models that bill no reasoning tokens (whose calls' completion tokens
// the spec's tokens.out alone assumes); a model's calls of simulated providers (which measure
// nothing) are left out, as are calls whose token counts are estimates. It returns the
// findings and the pooled calls, by category and what, from which specChange says what to
// write.
func (ms *Measurements) poolTokens(s *spec.Spec, out []Finding) ([]Finding, map[[2]string]*measured) {
	pooled := map[[2]string]*measured{}
	for _, c := range s.Categories {
		for _, what := range []string{"tokens in", "tokens out"} {
			var models []string
			var samples []float64
			estimated := 0
			for _, m := range s.Models {
				cell := ms.cells[[2]string{c.Name, m.Name}]
				if cell == nil || cell.simulated > 0 || what == "tokens out" && m.Resolved.Reasoning {
					continue
				}
				calls := cell.tokensIn
				if what == "tokens out" {
					calls = cell.tokensOut
				}
				if len(calls) == 0 {
					continue
				}
				models = append(models, m.Name)
				samples = append(samples, calls...)
				estimated += cell.estimated
			}
			if len(models) < 2 {
				continue
			}
			at := -1
			for i := 0; i < len(out); i++ {
				if f := out[i]; f.Category == c.Name && f.What == what && slices.Contains(models, f.Model) {
					if at < 0 {
						at = i
					}
					out = slices.Delete(out, i, i+1)
					i--
				}
			}
			f := Finding{Category: c.Name, Model: strings.Join(models, ", "), Models: models, What: what,
				Assumed: newBand(c.Tokens.In).Mean(), N: len(samples), Used: len(samples) >= MinLatency}
			cell := &measured{tokensIn: samples}
			if what == "tokens out" {
				f.Assumed, cell = newBand(c.Tokens.Out).Mean(), &measured{tokensOut: samples}
			}
			tokensFinding(&f, samples)
			f.keepUnder(MinLatency, "calls")
			f.Note = strings.TrimPrefix(f.Note+"; the category's, over the calls of its models", "; ")
			if estimated > 0 {
				f.Note += fmt.Sprintf("; %s with estimated token counts left out", rowCount(estimated))
			}
			if at < 0 {
				at = len(out)
			}
			out = slices.Insert(out, at, f)
			pooled[[2]string{c.Name, what}] = cell
		}
	}
	return out, pooled
}

// escalatedFindings compares each cascade's later models' escalated pass rates
// (assume.escalated_pass_rate, or their pass rates where the spec states none) with their
// measurements (escalatedPassRates).
func (ms *Measurements) escalatedFindings(s *spec.Spec) []Finding {
	var out []Finding
	for _, c := range s.Categories {
		st := c.Strength()
		for _, e := range ms.escalatedPassRates(s, c) {
			n := int(math.Floor(e.n)) // used, as apply uses it, from MinGraded whole answers
			f := Finding{Category: c.Name, Model: e.model, What: "escalated pass rate", Measured: e.p, N: n, Used: e.n >= MinGraded,
				Note: fmt.Sprintf("over the items its earlier steps' models answered too, each weighted by the chance the validation (detect %.2f, false alarm %.2f) escalates it (%.1f%% unweighted); n is the effective number of answers",
					float64(st.Detect), float64(st.FalseAlarm), e.base*100)}
			f.Low, f.High = binomialInterval(int(math.Round(e.p*float64(n))), n)
			if a, ok := c.Assume.EscalatedPassRate[e.model]; ok {
				f.Assumed = float64(a)
			} else if m := s.Model(e.model); m != nil {
				// Without one, escalated requests are answered at the model's pass rate.
				f.Assumed, _ = c.PassRate(m)
				f.Note = "assumed: its pass rate (the spec states no escalated_pass_rate); " + f.Note
			}
			f.Contradicts = f.Assumed < f.Low || f.Assumed > f.High
			f.keepUnder(MinGraded, "answers to escalated items")
			out = append(out, f)
		}
	}
	return out
}

// markSimulated marks the findings fs of the cell, when some of its calls went to simulated
// providers (Observation.Simulated), as shown but not tested: not used, contradicting
// nothing, and saying nothing to write in the spec, with a note that says why.
func (cell *measured) markSimulated(fs []Finding) {
	if cell.simulated == 0 {
		return
	}
	note := fmt.Sprintf("%d of the %d calls from simulated providers, which draw them from the spec's own assumptions: shown, not tested, and the assumption is kept", cell.simulated, cell.n)
	if cell.simulated == cell.n {
		note = fmt.Sprintf("all %d calls from simulated providers, which draw them from the spec's own assumptions: shown, not tested, and the assumption is kept", cell.n)
	}
	for i := range fs {
		f := &fs[i]
		f.Used, f.Contradicts, f.Untested = false, false, true
		f.Note = strings.TrimPrefix(f.Note+"; "+note, "; ")
	}
}

// SimulatedNote says how many of the observations came from simulated providers and that
// they measure nothing (see Observation.Simulated); "" when none did. from names the table.
func (ms *Measurements) SimulatedNote(from string) string {
	if ms.Simulated == 0 {
		return ""
	}
	return fmt.Sprintf("%d of the %s of %s come from simulated providers (their rows say \"simulated\": true): their answers, latencies and failures are drawn from the spec's own assumptions, so they measure those, not the models; the findings of each model and category with such rows are shown, not tested, and replace no assumption, as replay --calibrate and validate calibrate write nothing from them; measure with rows of real providers (traffic, or clearbar eval against the real models)",
		ms.Simulated, rowCount(ms.All), from)
}

// timeScaledNote is the note of a latency finding from calls answered at a time scale alone.
func timeScaledNote(n int) string {
	return timeScaledCalls(n) + ", which magnifies the gateway's own overhead by 1/scale: shown, and the assumption is kept"
}

// timeScaledCalls is "1 call answered at a time scale (serve --time-scale)", or n calls.
func timeScaledCalls(n int) string {
	calls := "calls"
	if n == 1 {
		calls = "call"
	}
	return fmt.Sprintf("%d %s answered at a time scale (serve --time-scale)", n, calls)
}

// noteEstimated adds to a tokens finding that the calls whose token counts are estimates were
// left out of it, when there were any.
func (cell *measured) noteEstimated(f *Finding) {
	if cell.estimated == 0 {
		return
	}
	f.Note = strings.TrimPrefix(f.Note+fmt.Sprintf("; %s with estimated token counts left out", rowCount(cell.estimated)), "; ")
}

// tokensFinding sets a tokens finding's measured mean and its 95% interval (the normal one
// of a mean), from the calls' counts. A contradiction is an assumption outside the interval
// and more than 25% off the mean: a difference the calls show is real, and large enough to
// matter. One call has no interval, and contradicts nothing.
func tokensFinding(f *Finding, counts []float64) {
	var mo stats.Moments
	for _, x := range counts {
		mo.Add(x)
	}
	f.Measured = mo.Mean()
	if mo.N() < 2 {
		f.Note = "one call: no interval"
		return
	}
	half := 1.959963984540054 * mo.SE()
	f.Low, f.High = max(f.Measured-half, 0), f.Measured+half
	if f.Contradicts = (f.Assumed < f.Low || f.Assumed > f.High) && math.Abs(f.Measured-f.Assumed) > 0.25*f.Assumed; f.Contradicts {
		f.Note = "more than 25% off"
	}
}

// specChange says what to write in s, and where, so that a contradicted assumption of model m
// in category c agrees with the measurement of cell: "spec.yaml:40: write assume.pass_rate.mini:
// 0.742 in category draft".
func specChange(s *spec.Spec, c *spec.Category, m *spec.Model, cell *measured, f *Finding) string {
	at := func(line int) string { return fmt.Sprintf("%s:%d: ", s.File, line) }
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	round3 := func(v float64) string { return num(math.Round(v*1000) / 1000) }
	switch f.What {
	case "pass rate":
		return fmt.Sprintf("%swrite assume.pass_rate.%s: %s in category %s", at(c.KeyLine("assume", "pass_rate", m.Name)), m.Name, round3(f.Measured), c.Name)
	case "escalated pass rate":
		return fmt.Sprintf("%swrite assume.escalated_pass_rate.%s: %s in category %s", at(c.KeyLine("assume", "escalated_pass_rate", m.Name)), m.Name, round3(f.Measured), c.Name)
	case "latency p50", "latency p95":
		p50, p95 := stats.Quantile(cell.latency, 0.5), stats.Quantile(cell.latency, 0.95)
		d := func(v float64) string {
			return spec.FormatDuration(time.Duration(v * float64(time.Second)).Round(time.Millisecond))
		}
		lat := fmt.Sprintf("latency: {p50: %s, p95: %s}", d(p50), d(p95))
		if l, ok := c.Assume.Latency[m.Name]; ok && l != nil {
			return fmt.Sprintf("%swrite assume.latency.%s: {p50: %s, p95: %s} in category %s", at(c.KeyLine("assume", "latency", m.Name)), m.Name, d(p50), d(p95), c.Name)
		}
		return fmt.Sprintf("%swrite %s on model %s (or under assume.latency.%[3]s in category %s, for this category alone)", at(m.Line()), lat, m.Name, c.Name)
	case "tokens in", "tokens out":
		key := strings.TrimPrefix(f.What, "tokens ")
		samples, band := cell.tokensIn, c.Tokens.In
		if key == "out" {
			samples, band = cell.tokensOut, c.Tokens.Out
		}
		v := num(math.Round(f.Measured))
		if sorted := slices.Sorted(slices.Values(samples)); band.Dist && stats.Quantile(sorted, 0.95) > stats.Quantile(sorted, 0.5) {
			v = fmt.Sprintf("{p50: %s, p95: %s}", num(stats.Quantile(sorted, 0.5)), num(stats.Quantile(sorted, 0.95)))
		}
		what := "tokens." + key
		if key == "out" && m.Resolved.Reasoning {
			what = "tokens.out and tokens.reasoning, together,"
		}
		return fmt.Sprintf("%swrite %s: %s in category %s", at(c.KeyLine("tokens", key)), what, v, c.Name)
	case "cache hit":
		return fmt.Sprintf("%swrite tokens.cache_hit: %s in category %s", at(c.KeyLine("tokens", "cache_hit")), round3(f.Measured), c.Name)
	case "availability":
		return fmt.Sprintf("%swrite availability: %s on model %s", at(m.Line()), num(math.Floor(f.Measured*1000)/1000), m.Name)
	}
	return ""
}

// ContradictionLines says, one line each, which assumptions the measurements contradict and what
// to write instead, for a report that has no table of findings (HTML, CSV).
func (m *MeasuredSummary) ContradictionLines() []string {
	var lines []string
	for _, f := range m.Findings {
		if !f.Contradicts {
			continue
		}
		interval := f.interval()
		if how := f.intervalMethod(); how != "" && interval != "-" {
			interval += ", " + how
		}
		whose := fmt.Sprintf("%s's %s in %s", f.Model, f.What, f.Category)
		if len(f.Models) > 0 {
			whose = fmt.Sprintf("category %s's %s (over the calls of %s)", f.Category, f.What, f.Model)
		}
		line := fmt.Sprintf("measurements from %s contradict %s: assumed %s, measured %s (95%% interval %s, n %d)",
			m.From, whose, findingValue(f.What, f.Assumed), findingValue(f.What, f.Measured), interval, f.N)
		if f.Note != "" {
			line += ": " + f.Note
		}
		lines = append(lines, line)
	}
	return lines
}

func categoryIndex(s *spec.Spec, name string) int {
	for i, c := range s.Categories {
		if c.Name == name {
			return i
		}
	}
	return len(s.Categories)
}

func modelIndex(s *spec.Spec, name string) int {
	for i, m := range s.Models {
		if m.Name == name {
			return i
		}
	}
	return len(s.Models)
}

// assumedQuantile is the q-quantile of an assumed latency distribution, in seconds. In the
// ttft form with a distribution of tokens, the response time is the sum of the time to the
// first token and the tokens' generation time, whose quantile is not the sum of theirs: it is
// found where the share of responses beyond it (latencyModel.beyond) is 1 − q.
func assumedQuantile(lm *latencyModel, q float64) float64 {
	if lm.form == formSamples {
		s := slices.Clone(lm.samples)
		sort.Float64s(s)
		return s[min(len(s)-1, int(q*float64(len(s))))]
	}
	if v, _, ok := lm.quantile(q); ok {
		return v
	}
	beyond := func(t float64) float64 { p, _ := lm.beyond(t); return p }
	lo, hi := 0.0, max(lm.mean(), 1e-3)
	for i := 0; i < 60 && beyond(hi) > 1-q; i++ {
		lo, hi = hi, 2*hi
	}
	for range 50 {
		if mid := (lo + hi) / 2; beyond(mid) > 1-q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// binomialInterval returns the exact (Clopper–Pearson) 95% interval of k successes in n
// trials (stats.ClopperPearson). It holds its coverage near 0 and 1, where availabilities and
// high pass rates are and the Wilson interval's falls short: one failure in 81 calls does not
// contradict an assumed availability of 0.998, which gives one or more 15% of the time.
func binomialInterval(k, n int) (lo, hi float64) { return stats.ClopperPearson(k, n, 0.95) }

// interval formats the finding's interval: "-" when it has none, an open upper end as ∞.
func (f *Finding) interval() string {
	switch {
	case f.HighUnbounded:
		return findingValue(f.What, f.Low) + "–∞"
	case f.High > 0:
		return findingValue(f.What, f.Low) + "–" + findingValue(f.What, f.High)
	}
	return "-"
}

// intervalMethod names the finding's 95% interval (see IntervalLegend); "" when it has none.
func (f *Finding) intervalMethod() string {
	switch {
	case f.What == "pass rate" || f.What == "availability":
		return "exact binomial"
	case f.What == "escalated pass rate":
		return "exact binomial, of the effective number"
	case strings.HasPrefix(f.What, "latency"):
		return "order statistics"
	case strings.HasPrefix(f.What, "tokens"):
		return "normal, of the mean"
	case f.What == "cache hit":
		return "delta method"
	}
	return ""
}

// quantileCI returns the q-quantile of sorted samples and a distribution-free 95% interval
// from the order statistics (the binomial interval on the rank).
func quantileCI(sorted []float64, q float64) (v, lo, hi float64) {
	n := len(sorted)
	v = sorted[min(max(int(math.Ceil(q*float64(n)))-1, 0), n-1)]
	lo, hi = stats.QuantileCI(sorted, q, 0.95)
	return v, lo, hi
}

// measuredLatencyModel is the latency of a model measured in a category: its samples.
func measuredLatencyModel(samples []float64) latencyModel {
	lm := latencyModel{form: formSamples, samples: samples}
	lm.failAfter = lm.median()
	return lm
}
