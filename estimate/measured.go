package estimate

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

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
	Category    string
	Model       string // a spec model name or a provider model id
	Pass        *bool
	ByValidator bool
	LatencyMS   float64
	TokensIn    int
	TokensOut   int
	// TokensCached are the prompt tokens read from the prompt cache, among TokensIn; nil when
	// the call did not record them. TokensReasoning are the reasoning tokens among TokensOut.
	TokensCached    *int
	TokensReasoning int
	// Cost is the call's recorded cost; 0 when none was recorded.
	Cost   clearbar.Money
	Failed bool
}

// Measurements are observations grouped by category and spec model, ready to replace
// assumptions.
type Measurements struct {
	cells map[[2]string]*measured
	// Unmatched counts observations whose category or model the spec does not have.
	Unmatched int
}

// measured is what was observed of one model in one category.
type measured struct {
	n, graded, passes, failures int
	// verdicts and verdictPasses count answers judged by validators only (ByValidator).
	verdicts, verdictPasses int
	latency                 []float64 // seconds, sorted
	tokensIn, tokensOut     []float64
	reasoning               float64 // the reasoning tokens among tokensOut, summed
	// cache is the cached against the prompt tokens of the calls that recorded them.
	cache stats.Ratio
	// costed counts calls that recorded a cost and their tokens; recorded sums those costs
	// and priced the same calls at the spec's prices.
	costed           int
	recorded, priced float64
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
	ms := &Measurements{cells: map[[2]string]*measured{}}
	for _, o := range obs {
		c := s.Category(o.Category)
		m := s.Model(o.Model)
		if m == nil {
			m = byID[o.Model]
		}
		if c == nil || m == nil {
			ms.Unmatched++
			continue
		}
		key := [2]string{c.Name, m.Name}
		cell := ms.cells[key]
		if cell == nil {
			cell = &measured{}
			ms.cells[key] = cell
		}
		cell.n++
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
		}
		if o.LatencyMS > 0 {
			cell.latency = append(cell.latency, o.LatencyMS/1000)
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
	}
	return ms
}

// apply sets the world's overrides from measurements that are large enough.
func (ms *Measurements) apply(w *world) {
	for key, cell := range ms.cells {
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
	// used says it replaces the assumption; informative that it can contradict one.
	used, informative bool
	note              string
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
		pr := passRateEstimate{p: float64(cell.passes) / float64(cell.graded), n: cell.graded, used: cell.graded >= MinGraded, informative: true}
		pr.lo, pr.hi = wilson(cell.passes, cell.graded)
		if !pr.used {
			pr.note = fmt.Sprintf("fewer than %d graded answers: the assumption is kept", MinGraded)
		}
		return pr
	}
	st := c.Strength()
	d, f := float64(st.Detect), float64(st.FalseAlarm)
	v := float64(cell.verdictPasses) / float64(cell.verdicts)
	vlo, vhi := wilson(cell.verdictPasses, cell.verdicts)
	pr := passRateEstimate{n: cell.verdicts}
	if d-f < 0.2 {
		pr.p, pr.lo, pr.hi = v, vlo, vhi
		pr.note = fmt.Sprintf("validator verdicts only, and the validator (detect %.2f, false alarm %.2f) barely separates good answers from bad: the assumption is kept", d, f)
		return pr
	}
	correct := func(x float64) float64 { return min(max((x-(1-d))/(d-f), 0), 1) }
	pr.p, pr.lo, pr.hi = correct(v), correct(vlo), correct(vhi)
	pr.used, pr.informative = cell.verdicts >= MinGraded, true
	pr.note = fmt.Sprintf("from validator verdicts (%.1f%% passed), corrected for detect %.2f and false alarm %.2f", v*100, d, f)
	if !pr.used {
		pr.note = fmt.Sprintf("fewer than %d validated answers: the assumption is kept", MinGraded)
	}
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
	// What is "pass rate", "latency p50", "latency p95", "tokens in", "tokens out",
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
	// Contradicts says the assumption lies outside the measurement's interval.
	Contradicts bool   `json:"contradicts"`
	Used        bool   `json:"used"`
	Note        string `json:"note,omitempty"`
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
		if pr := cell.passRate(c); pr.n > 0 {
			f := Finding{Category: c.Name, Model: m.Name, What: "pass rate", Measured: pr.p, Low: pr.lo, High: pr.hi, N: pr.n, Used: pr.used, Note: pr.note}
			if a, ok := c.PassRate(m); ok {
				f.Assumed = a
				f.Contradicts = pr.informative && (a < pr.lo || a > pr.hi)
			} else if f.Note == "" {
				f.Note = "no assumption"
			}
			out = append(out, f)
		}
		if n := len(cell.latency); n > 0 {
			lat := c.LatencyFor(m)
			lm := newLatencyModel(lat, c.Tokens.Out, nil)
			for _, q := range []struct {
				name string
				p    float64
			}{{"latency p50", 0.5}, {"latency p95", 0.95}} {
				v, lo, hi := quantileCI(cell.latency, q.p)
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
				out = append(out, f)
			}
		}
		if n := len(cell.tokensIn); n > 0 {
			f := Finding{Category: c.Name, Model: m.Name, What: "tokens in", Assumed: newBand(c.Tokens.In).Mean(), Measured: mean(cell.tokensIn), N: n, Used: n >= MinLatency}
			f.Contradicts = math.Abs(f.Measured-f.Assumed) > 0.25*f.Assumed
			if f.Contradicts {
				f.Note = "more than 25% off"
			}
			out = append(out, f)
		}
		if n := len(cell.tokensOut); n > 0 {
			// Providers count reasoning tokens among the completion tokens: for a model that
			// bills them, the assumption to compare with is the output and the reasoning.
			assumed := newBand(c.Tokens.Out).Mean()
			if m.Resolved.Reasoning {
				assumed += newBand(c.Tokens.Reasoning).Mean()
			}
			f := Finding{Category: c.Name, Model: m.Name, What: "tokens out", Assumed: assumed, Measured: mean(cell.tokensOut), N: n, Used: n >= MinLatency}
			f.Contradicts = math.Abs(f.Measured-f.Assumed) > 0.25*f.Assumed
			if f.Contradicts {
				f.Note = "more than 25% off"
			}
			out = append(out, f)
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
			if e := m.Resolved.Prices; e.CachedInput == 0 || e.CachedInput == e.Input {
				f.Note = strings.TrimPrefix(f.Note+"; the model has no cached-input price, so the cache does not change its cost", "; ")
			}
			out = append(out, f)
		}
		if cell.costed > 0 {
			// What the calls cost against what the spec's prices make of their tokens: prices
			// that moved, or a provider that bills differently, show here. Informational: the
			// estimate prices calls at the spec's prices.
			n := float64(cell.costed)
			f := Finding{Category: c.Name, Model: m.Name, What: "cost per call", Assumed: cell.priced / n / 1e9, Measured: cell.recorded / n / 1e9, N: cell.costed,
				Note: "assumed: the spec's prices for the recorded tokens"}
			if f.Contradicts = math.Abs(f.Measured-f.Assumed) > 0.25*f.Assumed; f.Contradicts {
				f.Note = "more than 25% off the spec's prices for the recorded tokens: check the model's prices"
			}
			out = append(out, f)
		}
		if cell.n >= MinGraded && cell.failures > 0 {
			a := m.Resolved.Availability
			got := 1 - float64(cell.failures)/float64(cell.n)
			lo, hi := wilson(cell.n-cell.failures, cell.n)
			out = append(out, Finding{Category: c.Name, Model: m.Name, What: "availability", Assumed: a, Measured: got, Low: lo, High: hi, N: cell.n, Used: true, Contradicts: a < lo || a > hi})
		}
	}
	return out
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

// assumedQuantile is the q-quantile of an assumed latency distribution, in seconds.
func assumedQuantile(lm *latencyModel, q float64) float64 {
	switch lm.form {
	case formSamples:
		s := slices.Clone(lm.samples)
		sort.Float64s(s)
		return s[min(len(s)-1, int(q*float64(len(s))))]
	case formTTFT:
		return lm.ttft.Quantile(q) + (lm.outTokens.Mean()+lm.reasoning.Mean())/lm.tps
	}
	return lm.total.Quantile(q)
}

// wilson returns the 95% Wilson score interval of k successes in n trials.
func wilson(k, n int) (float64, float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nn := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nn
	center := (p + z*z/(2*nn)) / den
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return math.Max(0, center-half), math.Min(1, center+half)
}

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
