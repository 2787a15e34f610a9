package replay

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Scorer predicts, for one item, how likely each model's answer is to pass: P(pass), or any
// score where higher means more likely. out has one entry per table model, in the order of
// item.Models; Score must set every entry. A NaN means "no opinion" and is read as the lowest
// score. Score is called from one goroutine at a time and must not keep item or out.
//
// Package learn's score routers plug in here; replay does not import it.
type Scorer interface {
	Score(item *Item, out []float64)
}

// ScorerFunc adapts a function to Scorer.
type ScorerFunc func(item *Item, out []float64)

// Score implements Scorer.
func (f ScorerFunc) Score(item *Item, out []float64) { f(item, out) }

// Scores are a Scorer's precomputed scores for every (item, model) of a table, so that
// sweeping thresholds costs no scorer calls. Scores are safe for concurrent reads.
type Scores struct {
	items, models int
	v             []float64
}

// maxScore bounds stored scores, so thresholds stay finite (JSON has no infinities).
const maxScore = 1e300

// ScoreTable asks s for the scores of every item of t, once each, in item order. It stops
// with ctx's error when ctx ends. Memory: 8 bytes per cell.
func ScoreTable(ctx context.Context, t *Table, s Scorer) (*Scores, error) {
	nm := len(t.models)
	sc := &Scores{items: t.Len(), models: nm, v: make([]float64, t.Len()*nm)}
	for i := range t.items {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out := sc.v[i*nm : (i+1)*nm : (i+1)*nm]
		s.Score(&t.items[i], out)
		for m, x := range out {
			out[m] = clampScore(x)
		}
	}
	return sc, nil
}

// NewScores wraps precomputed scores: v holds items × models scores row-major, in the
// table's item and model order. It is kept, not copied; NaNs and infinities in it are
// replaced in place, as ScoreTable does.
func NewScores(t *Table, v []float64) (*Scores, error) {
	if len(v) != t.Len()*len(t.models) {
		return nil, fmt.Errorf("%d scores for a table of %d items × %d models: want %d", len(v), t.Len(), len(t.models), t.Len()*len(t.models))
	}
	for k, x := range v {
		v[k] = clampScore(x)
	}
	return &Scores{items: t.Len(), models: len(t.models), v: v}, nil
}

func clampScore(x float64) float64 {
	if math.IsNaN(x) {
		return -maxScore
	}
	return min(max(x, -maxScore), maxScore)
}

// At returns the score of model m on item i.
func (s *Scores) At(i, m int) float64 { return s.v[i*s.models+m] }

func (s *Scores) check(t *Table) error {
	if s == nil {
		return fmt.Errorf("no scores: compute them with ScoreTable")
	}
	if s.items != t.Len() || s.models != len(t.models) {
		return fmt.Errorf("the scores are for %d items × %d models, the table has %d × %d", s.items, s.models, t.Len(), len(t.models))
	}
	return nil
}

// Threshold is a two-model score router: it sends an item to Weak when the scorer's score
// of Weak on it is at least Threshold, and to Strong otherwise (RouteLLM's routers work the
// same way, with the strong model's win probability). Items where either model has no usable
// cell are skipped.
type Threshold struct {
	Weak, Strong string
	Scores       *Scores
	Threshold    float64
}

// Name implements Policy.
func (p Threshold) Name() string {
	return "threshold " + p.Weak + "/" + p.Strong + " ≥ " + strconv.FormatFloat(p.Threshold, 'g', 4, 64)
}

// Evaluate implements Policy.
func (p Threshold) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p Threshold) bind(t *Table) (*binding, error) {
	if err := p.Scores.check(t); err != nil {
		return nil, err
	}
	cols, err := t.columns([]string{p.Weak, p.Strong})
	if err != nil {
		return nil, err
	}
	th := p.Threshold
	weak, strong, nm := cols[0], cols[1], len(t.models)
	return &binding{
		kind:   "threshold",
		models: []string{p.Weak, p.Strong},
		params: Params{Threshold: &th},
		covers: func(i int) bool { return t.usable(i, cols) },
		eval: func(a *acc, i int, w float64) {
			m := strong
			if p.Scores.At(i, weak) >= th {
				m = weak
			}
			k := i*nm + m
			lat := a.call(i, m, w)
			a.path(w, lat, lat > 0)
			a.answer(m, w*t.quality[k])
			a.add(0, 0, w*failedShare(t.state[k]))
		},
	}, nil
}

// WillingnessToPay is an N-model score router (RouterBench's predictive router): on each
// item it picks the model with the highest score − Lambda × the model's mean cost per item in
// dollars over the table (what a router can know before calling: not the item's own recorded
// cost), the first in Models among equals. Lambda = 0 picks the highest score; a large Lambda
// the cheapest model. Like the oracle, it chooses among the models usable on the item, and
// skips only items where none is.
type WillingnessToPay struct {
	Models []string
	Scores *Scores
	Lambda float64
}

// Name implements Policy.
func (p WillingnessToPay) Name() string {
	return "wtp λ=" + strconv.FormatFloat(p.Lambda, 'g', 4, 64)
}

// Evaluate implements Policy.
func (p WillingnessToPay) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p WillingnessToPay) bind(t *Table) (*binding, error) {
	w, err := newWTP(t, p.Models, p.Scores)
	if err != nil {
		return nil, err
	}
	return w.binding(p.Lambda)
}

// wtp is what a willingness-to-pay router needs at every lambda, computed once per sweep:
// its columns, the models' mean prices, the items it covers and, per item, the candidates —
// the models no other model beats at every lambda ≥ 0 (another with a score at least as high
// and a price at most as high, better on one or earlier in Models). Only they can win, so
// each lambda costs a pass over a few candidates per item instead of every model.
type wtp struct {
	t       *Table
	scores  *Scores
	models  []string
	cols    []int
	price   []float64
	covered []bool
	// Item i's candidates are cand[off[i]:off[i+1]], as indexes into cols, in cols order.
	cand []int32
	off  []int32
}

func newWTP(t *Table, models []string, scores *Scores) (*wtp, error) {
	if err := scores.check(t); err != nil {
		return nil, err
	}
	if models == nil {
		models = t.models
	}
	cols, err := t.columns(models)
	if err != nil {
		return nil, err
	}
	w := &wtp{t: t, scores: scores, models: models, cols: cols, price: meanCosts(t, cols), covered: make([]bool, t.Len()),
		off: make([]int32, t.Len()+1)}
	nm := len(t.models)
	for i := range w.covered {
		row := scores.v[i*nm : (i+1)*nm]
		for j, m := range cols {
			if t.state[i*nm+m].Usable() && !w.dominated(i, row, j, m) {
				w.cand = append(w.cand, int32(j))
			}
		}
		w.off[i+1] = int32(len(w.cand))
		w.covered[i] = w.off[i+1] > w.off[i]
	}
	return w, nil
}

// dominated reports whether the model at cols[j] (score row[m]) can never be chosen on item
// i: another model usable there scores at least as high at a price at most as high, and is
// strictly better on score or comes first (winning the tie at lambda 0).
func (w *wtp) dominated(i int, row []float64, j, m int) bool {
	s, p := row[m], w.price[j]
	base := i * len(w.t.models)
	for j2, m2 := range w.cols {
		if j2 == j || !w.t.state[base+m2].Usable() {
			continue
		}
		if s2, p2 := row[m2], w.price[j2]; s2 >= s && p2 <= p && (s2 > s || j2 < j) {
			return true
		}
	}
	return false
}

func (w *wtp) binding(lambda float64) (*binding, error) {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return nil, fmt.Errorf("%s: lambda must be a finite number ≥ 0", WillingnessToPay{Lambda: lambda}.Name())
	}
	t, cols, nm := w.t, w.cols, len(w.t.models)
	penalty := make([]float64, len(cols))
	for j, p := range w.price {
		penalty[j] = lambda * p
	}
	return &binding{
		kind:   "wtp",
		models: w.models,
		params: Params{Lambda: &lambda},
		covers: func(i int) bool { return w.covered[i] },
		eval: func(a *acc, i int, wt float64) {
			row := w.scores.v[i*nm : (i+1)*nm]
			best, bestV := -1, math.Inf(-1)
			for _, j := range w.cand[w.off[i]:w.off[i+1]] {
				if v := row[cols[j]] - penalty[j]; v > bestV || best < 0 {
					best, bestV = cols[j], v
				}
			}
			k := i*nm + best
			lat := a.call(i, best, wt)
			a.path(wt, lat, lat > 0)
			a.answer(best, wt*t.quality[k])
			a.add(0, 0, wt*failedShare(t.state[k]))
		},
	}, nil
}

// meanCosts returns each column's mean cost in dollars over the items where it is usable.
func meanCosts(t *Table, cols []int) []float64 {
	out := make([]float64, len(cols))
	nm := len(t.models)
	for j, m := range cols {
		n := 0
		for i := range t.items {
			if k := i*nm + m; t.state[k].Usable() {
				n++
				out[j] += t.cost[k]
			}
		}
		if n > 0 {
			out[j] /= float64(n) * 1e9
		}
	}
	return out
}

// Curve is a family of policies evaluated at a range of settings: a router at every
// threshold, a mix at every share. Points are sorted by the share of calls to Strong.
type Curve struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Weak and Strong are the reference pair APGR is measured against; WeakQuality and
	// StrongQuality their qualities on the curve's items.
	Weak          string    `json:"weak"`
	Strong        string    `json:"strong"`
	WeakQuality   float64   `json:"weak_quality"`
	StrongQuality float64   `json:"strong_quality"`
	Points        []*Result `json:"points"`
	// APGR is RouteLLM's average performance gap recovered (see APGR); nil when the pair's
	// qualities are equal, so there is no gap to recover.
	APGR *float64 `json:"apgr,omitempty"`
	// CPT are RouteLLM's call-performance thresholds: the share of strong calls the curve
	// needs to recover 20%, 50% and 80% of the gap.
	CPT []CallPerformance `json:"cpt,omitempty"`
	// AIQ is RouterBench's average improvement in quality of the curve (see AIQ), over the
	// report's cost range; set by Run.
	AIQ float64 `json:"aiq"`
}

// CallPerformance is the share of calls to the strong model a router needs to recover Gap
// of the quality gap between the weak and the strong model (RouteLLM's CPT(x%)).
type CallPerformance struct {
	Gap float64 `json:"gap"`
	// StrongShare is the interpolated share of strong calls; Reached is false (and
	// StrongShare 0) when the curve never recovers that much.
	StrongShare float64 `json:"strong_share"`
	Reached     bool    `json:"reached"`
}

// Sweep is a family of policies evaluated as a curve.
type Sweep interface {
	Name() string
	Sweep(t *Table) (*Curve, error)
}

// DefaultThresholds is how many thresholds a ThresholdSweep tries by default.
const DefaultThresholds = 100

// ThresholdSweep evaluates a Threshold router at N thresholds placed at quantiles of the
// weak model's scores over the evaluated items, so that the share of strong calls runs
// evenly from 0 to 1: threshold k of N (k = 0…N−1) is the score of rank ⌊k·n/(N−1)⌉ in
// ascending order, and the last sends every item to Strong. Ties in the scores can merge
// thresholds; duplicates are evaluated once. Explicit Thresholds replace the quantiles.
type ThresholdSweep struct {
	Weak, Strong string
	Scores       *Scores
	// N is the number of thresholds; 0 means DefaultThresholds.
	N          int
	Thresholds []float64
}

// Name implements Sweep.
func (s ThresholdSweep) Name() string { return "threshold " + s.Weak + "/" + s.Strong }

// Sweep implements Sweep. Cost: one pass over the items per threshold.
func (s ThresholdSweep) Sweep(t *Table) (*Curve, error) {
	p := Threshold{Weak: s.Weak, Strong: s.Strong, Scores: s.Scores}
	if _, err := p.bind(t); err != nil {
		return nil, err
	}
	cols, _ := t.columns([]string{s.Weak, s.Strong})
	ths := s.Thresholds
	if ths == nil {
		n := s.N
		if n <= 0 {
			n = DefaultThresholds
		}
		var scores []float64
		for i := range t.items {
			if t.usable(i, cols) {
				scores = append(scores, s.Scores.At(i, cols[0]))
			}
		}
		ths = quantileThresholds(scores, n)
	}
	c := &Curve{Name: s.Name(), Kind: "threshold", Weak: s.Weak, Strong: s.Strong}
	a := newAcc(t)
	for _, th := range ths {
		p.Threshold = th
		b, err := p.bind(t)
		if err != nil {
			return nil, err
		}
		a.reset()
		c.Points = append(c.Points, replayBinding(a, p.Name(), b))
	}
	c.finish(t, cols)
	return c, nil
}

// quantileThresholds returns n thresholds at quantiles of scores, ascending, without
// duplicates; the last is above every score.
func quantileThresholds(scores []float64, n int) []float64 {
	s := slices.Clone(scores)
	slices.Sort(s)
	if len(s) == 0 {
		return []float64{0}
	}
	top := math.Nextafter(s[len(s)-1], math.Inf(1))
	out := make([]float64, 0, n)
	for k := 0; k < n; k++ {
		th := top
		if n > 1 {
			if r := int(math.Round(float64(k) * float64(len(s)) / float64(n-1))); r < len(s) {
				th = s[r]
			}
		}
		if len(out) == 0 || out[len(out)-1] != th {
			out = append(out, th)
		}
	}
	if out[len(out)-1] != top {
		out = append(out, top)
	}
	return out
}

// WTPSweep evaluates a WillingnessToPay router at N values of Lambda: 0 and N−1 values
// spaced geometrically from λmax·10⁻⁶ to λmax, where λmax = 2 × (highest − lowest score) /
// (smallest gap between two models' mean costs), beyond which the cheapest model always wins.
// Explicit Lambdas replace them. Weak and Strong name the reference pair for APGR.
type WTPSweep struct {
	Models       []string
	Scores       *Scores
	N            int
	Lambdas      []float64
	Weak, Strong string
}

// Name implements Sweep.
func (s WTPSweep) Name() string { return "wtp" }

// Sweep implements Sweep. Cost: one pass over items × models per lambda.
func (s WTPSweep) Sweep(t *Table) (*Curve, error) {
	w, err := newWTP(t, s.Models, s.Scores)
	if err != nil {
		return nil, err
	}
	lambdas := s.Lambdas
	if lambdas == nil {
		lambdas = s.defaultLambdas(w)
	}
	c := &Curve{Name: s.Name(), Kind: "wtp", Weak: s.Weak, Strong: s.Strong}
	a := newAcc(t)
	for _, l := range lambdas {
		b, err := w.binding(l)
		if err != nil {
			return nil, err
		}
		a.reset()
		c.Points = append(c.Points, replayBinding(a, WillingnessToPay{Lambda: l}.Name(), b))
	}
	var ref []int
	if s.Weak != "" && s.Strong != "" {
		if ref, err = t.columns([]string{s.Weak, s.Strong}); err != nil {
			return nil, err
		}
	}
	c.finish(t, ref)
	return c, nil
}

func (s WTPSweep) defaultLambdas(w *wtp) []float64 {
	n := s.N
	if n <= 0 {
		n = DefaultThresholds
	}
	t, cols, price := w.t, w.cols, w.price
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range t.items {
		if !w.covered[i] {
			continue
		}
		for _, m := range cols {
			v := s.Scores.At(i, m)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	sorted := slices.Clone(price)
	slices.Sort(sorted)
	gap := math.Inf(1)
	for j := 1; j < len(sorted); j++ {
		if d := sorted[j] - sorted[j-1]; d > 0 {
			gap = min(gap, d)
		}
	}
	out := []float64{0}
	if math.IsInf(gap, 1) || !(hi > lo) || n < 2 {
		return out
	}
	lmax := 2 * (hi - lo) / gap
	lmin := lmax * 1e-6
	for k := 0; k < n-1; k++ {
		f := 0.0
		if n > 2 {
			f = float64(k) / float64(n-2)
		}
		out = append(out, lmin*math.Pow(lmax/lmin, f))
	}
	return out
}

// MixSweep evaluates Mix{First: Weak, Second: Strong} at N+1 evenly spaced shares from 0 to 1
// (N = 10 by default): the straight line a random router draws, whose APGR is 0.5.
type MixSweep struct {
	Weak, Strong string
	N            int
}

// Name implements Sweep.
func (s MixSweep) Name() string { return "mix " + s.Weak + "/" + s.Strong }

// Sweep implements Sweep.
func (s MixSweep) Sweep(t *Table) (*Curve, error) {
	n := s.N
	if n <= 0 {
		n = 10
	}
	cols, err := t.columns([]string{s.Weak, s.Strong})
	if err != nil {
		return nil, err
	}
	c := &Curve{Name: s.Name(), Kind: "mix", Weak: s.Weak, Strong: s.Strong}
	a := newAcc(t)
	for k := 0; k <= n; k++ {
		p := Mix{First: s.Weak, Second: s.Strong, Share: float64(k) / float64(n)}
		b, err := p.bind(t)
		if err != nil {
			return nil, err
		}
		a.reset()
		c.Points = append(c.Points, replayBinding(a, p.Name(), b))
	}
	c.finish(t, cols)
	return c, nil
}

// finish sorts the points by strong share and computes APGR and CPT against the weak and
// strong models' qualities on the items where both are usable (the two-model curves' own
// items).
func (c *Curve) finish(t *Table, pair []int) {
	slices.SortStableFunc(c.Points, func(a, b *Result) int {
		return cmp.Compare(a.Share(c.Strong), b.Share(c.Strong))
	})
	if len(pair) != 2 {
		return
	}
	nm := len(t.models)
	var qw, qs float64
	n := 0
	for i := range t.items {
		if !t.usable(i, pair) {
			continue
		}
		n++
		qw += t.quality[i*nm+pair[0]]
		qs += t.quality[i*nm+pair[1]]
	}
	if n == 0 {
		return
	}
	c.WeakQuality, c.StrongQuality = qw/float64(n), qs/float64(n)
	pts := make([]SharePoint, len(c.Points))
	for i, p := range c.Points {
		pts[i] = SharePoint{Share: p.Share(c.Strong), Quality: p.Quality}
	}
	if v, ok := APGR(pts, c.WeakQuality, c.StrongQuality); ok {
		c.APGR = &v
	}
	if c.StrongQuality != c.WeakQuality {
		for _, g := range []float64{0.2, 0.5, 0.8} {
			share, ok := callPerformance(pts, c.WeakQuality+g*(c.StrongQuality-c.WeakQuality))
			c.CPT = append(c.CPT, CallPerformance{Gap: g, StrongShare: share, Reached: ok})
		}
	}
}

// Interface guards.
var (
	_ binder = Threshold{}
	_ binder = WillingnessToPay{}
	_ Sweep  = ThresholdSweep{}
	_ Sweep  = WTPSweep{}
	_ Sweep  = MixSweep{}
	_ Scorer = ScorerFunc(nil)
)
