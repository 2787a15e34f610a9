package replay

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
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

// A ModelChecker is a Scorer that scores some models only, like a learned router, which
// predicts for the models it was trained on: ScoreTable first asks it, with the table's
// models, whether it scores every one, and stops with its error, which should name the models
// it cannot score and say what to do.
type ModelChecker interface {
	Scorer
	CheckModels(models []string) error
}

// A ModelCheckError is a ModelChecker's refusal of a table's models, as ScoreTable returns
// it: its message is the checker's own, so that callers pass it on as is (errors.As tells it
// from a failure to score).
type ModelCheckError struct{ Err error }

func (e *ModelCheckError) Error() string { return e.Err.Error() }
func (e *ModelCheckError) Unwrap() error { return e.Err }

// checkModels asks s, when it is a ModelChecker, whether it scores every model of t. Only
// ScoreTable calls it, so that a table's models are checked (and a checker's index of them
// built) once.
func checkModels(t *Table, s Scorer) error {
	if c, ok := s.(ModelChecker); ok {
		if err := c.CheckModels(t.models); err != nil {
			return &ModelCheckError{Err: err}
		}
	}
	return nil
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

// ScoreTable asks s for the scores of every item of t, once each, in item order, after asking
// a ModelChecker whether it scores every model of t (the one place that asks: Run leaves the
// check to it); a refusal is returned as a *ModelCheckError. It stops with ctx's error when
// ctx ends.
// Memory: 8 bytes per cell.
func ScoreTable(ctx context.Context, t *Table, s Scorer) (*Scores, error) {
	if err := checkModels(t, s); err != nil {
		return nil, err
	}
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
			a.answer(m, w*t.quality[k], w*failedShare(t.state[k]))
		},
	}, nil
}

// WillingnessToPay is an N-model score router (RouterBench's predictive router): on each
// item it picks the model with the highest score − Lambda × the cost in dollars the router
// expects the call to have before making it: what Pricer says, or without one the model's
// mean cost per item over the table (not the item's own recorded cost, which a router cannot
// know). Among equals it picks the cheaper, then the first in Models, as the gateway's score
// route does. Lambda = 0 picks the highest score; a large Lambda the cheapest model. Like the
// oracle, it chooses among the models usable on the item, and skips only items where none is.
type WillingnessToPay struct {
	Models []string
	Scores *Scores
	Lambda float64
	// Pricer, when set, prices each item's calls as the router expects them to cost; nil
	// means each model's mean cost over the table.
	Pricer Pricer
}

// A Pricer says what a willingness-to-pay router expects the calls of an item to cost, in
// dollars, before making them: it sets out[m], for every table model m (in the order of
// item.Models), to the cost of calling model m on item. An entry it sets to NaN is priced at
// the model's mean cost over the table. A Pricer is called from one goroutine at a time and
// must not keep item or out. [SpecPricer] prices as the gateway's score routes do.
type Pricer func(item *Item, out []float64)

// Name implements Policy.
func (p WillingnessToPay) Name() string {
	return "wtp λ=" + strconv.FormatFloat(p.Lambda, 'g', 4, 64)
}

// Evaluate implements Policy.
func (p WillingnessToPay) Evaluate(t *Table) (*Result, error) { return evaluate(t, p) }

func (p WillingnessToPay) bind(t *Table) (*binding, error) {
	w, err := newWTP(t, p.Models, p.Scores, p.Pricer)
	if err != nil {
		return nil, err
	}
	return w.binding(p.Lambda)
}

// wtp is what a willingness-to-pay router needs at every lambda, computed once per sweep:
// its columns, the prices it decides on, the items it covers and, per item, the candidates —
// the models no other model beats at every lambda ≥ 0 (another with a score at least as high
// and a price at most as high, better on one, or equal on both and earlier in Models). Only
// they can win, so each lambda costs a pass over a few candidates per item instead of every
// model.
type wtp struct {
	t      *Table
	scores *Scores
	models []string
	cols   []int
	// The price of cols[j] on item i is price[i*stride+j]: stride is len(cols) when each
	// item is priced (a Pricer), 0 when every item has the models' mean costs.
	price   []float64
	stride  int
	covered []bool
	// Item i's candidates are cand[off[i]:off[i+1]], as indexes into cols, in cols order.
	cand []int32
	off  []int32
}

func newWTP(t *Table, models []string, scores *Scores, pricer Pricer) (*wtp, error) {
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
	if pricer != nil {
		w.priceItems(pricer)
	}
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

// priceItems replaces the mean costs w.price holds by each item's prices from pricer, the
// mean cost standing for an entry pricer leaves NaN.
func (w *wtp) priceItems(pricer Pricer) {
	t, mean, nc := w.t, w.price, len(w.cols)
	out := make([]float64, len(t.models))
	w.price, w.stride = make([]float64, t.Len()*nc), nc
	for i := range t.items {
		for m := range out {
			out[m] = math.NaN()
		}
		pricer(&t.items[i], out)
		for j, m := range w.cols {
			p := out[m]
			if math.IsNaN(p) {
				p = mean[j]
			}
			w.price[i*nc+j] = p
		}
	}
}

// prices returns the prices of w.cols on item i.
func (w *wtp) prices(i int) []float64 {
	return w.price[i*w.stride : i*w.stride+len(w.cols)]
}

// dominated reports whether the model at cols[j] (score row[m]) can never be chosen on item
// i: another model usable there scores at least as high at a price at most as high, and is
// strictly better on one of them or comes first (winning the tie the choice breaks by order).
func (w *wtp) dominated(i int, row []float64, j, m int) bool {
	price := w.prices(i)
	s, p := row[m], price[j]
	base := i * len(w.t.models)
	for j2, m2 := range w.cols {
		if j2 == j || !w.t.state[base+m2].Usable() {
			continue
		}
		if s2, p2 := row[m2], price[j2]; s2 >= s && p2 <= p && (s2 > s || p2 < p || j2 < j) {
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
	return &binding{
		kind:   "wtp",
		models: w.models,
		params: Params{Lambda: &lambda},
		covers: func(i int) bool { return w.covered[i] },
		eval: func(a *acc, i int, wt float64) {
			row := w.scores.v[i*nm : (i+1)*nm]
			price := w.prices(i)
			// The gateway's rule (learn.ChooseWTP): the highest score − λ × price, ties to
			// the cheaper, then to the earlier.
			best, bestV, bestP := -1, math.Inf(-1), 0.0
			for _, j := range w.cand[w.off[i]:w.off[i+1]] {
				p := price[j]
				if v := row[cols[j]] - lambda*p; v > bestV || v == bestV && p < bestP || best < 0 {
					best, bestV, bestP = cols[j], v, p
				}
			}
			k := i*nm + best
			lat := a.call(i, best, wt)
			a.path(wt, lat, lat > 0)
			a.answer(best, wt*t.quality[k], wt*failedShare(t.state[k]))
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
	// report's cost range; set by Run, and 0 for a Narrow curve.
	AIQ float64 `json:"aiq"`
	// Narrow is set by Run when any of the curve's points is Narrow (see Result): its APGR and
	// CPT, measured against the pair on the curve's own items, stand; it has no AIQ, and none
	// of its points, the wide ones neither, enters the frontier, the cost at a quality or the
	// calibration.
	Narrow bool `json:"narrow,omitempty"`
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
// evenly from 0 to 1: threshold k of N (k = 0…N−1) decides as the score of rank ⌊k·n/(N−1)⌉
// in ascending order does, and the last sends every item to Strong. Each is the shortest
// decimal between the next lower score (excluded) and that score (included), so that it reads
// well in a spec and, written there as it is, decides every item as replayed. Ties in the scores can merge thresholds; duplicates
// are evaluated once. Explicit Thresholds replace the quantiles.
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
// duplicates; the last is above every score (and at most 1 when every score is below 1). Each
// is then moved down to the shortest decimal that decides every item as it does (above the
// next lower score), so that a threshold a calibration writes into a spec reads well and,
// unrounded, decides as here.
func quantileThresholds(scores []float64, n int) []float64 {
	s := slices.Clone(scores)
	slices.Sort(s)
	ths := sortedQuantiles(s, n)
	if len(s) == 0 {
		return ths
	}
	top := s[len(s)-1]
	for k, th := range ths {
		lo := math.Inf(-1) // the largest score below th
		if j := sort.SearchFloat64s(s, th); j > 0 {
			lo = s[j-1]
		}
		hi := th
		if th > top {
			// Any value above every score will do: at most 1 when the scores are below it
			// (probabilities, whose thresholds a spec bounds by 1).
			hi = top + max(math.Abs(top), 1)
			if top < 1 {
				hi = 1
			}
		}
		ths[k] = shortestIn(lo, hi)
	}
	return ths
}

// shortestIn returns the number with the fewest significant decimal digits in (lo, hi],
// lo < hi: for p = 1, 2, … digits, the largest p-digit number not above hi, until one is above
// lo (hi itself at worst).
func shortestIn(lo, hi float64) float64 {
	if hi == 0 {
		return 0
	}
	for p := 1; p <= 16; p++ {
		unit := math.Pow(10, math.Floor(math.Log10(math.Abs(hi)))-float64(p-1))
		x, _ := strconv.ParseFloat(strconv.FormatFloat(math.Floor(hi/unit)*unit, 'g', p, 64), 64)
		if x > hi { // hi/unit rounded up to a whole number
			x, _ = strconv.ParseFloat(strconv.FormatFloat(x-unit, 'g', p, 64), 64)
		}
		if x > lo && x <= hi {
			return x
		}
	}
	return hi
}

// sortedQuantiles is quantileThresholds of scores sorted in ascending order.
func sortedQuantiles(s []float64, n int) []float64 {
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

// WTPSweep evaluates a WillingnessToPay router at N values of Lambda: 0 (the highest score
// wins), half the smallest switch point (the same decisions, with a finite willingness to
// pay), and N−2 values at quantiles of the items' switch points, each moved halfway to the
// next larger switch point (away from any item's tie), the last above every one (the cheapest
// model wins everywhere). An item's switch points are the values of Lambda at which its
// choice moves from a model to the next cheaper one that can be chosen, on the upper convex
// hull of its (price, score) points (the score given up over the price saved), so that the sweep's points spread evenly over the items' decisions,
// as a ThresholdSweep's spread over the strong share, whatever the scale of the scores and
// prices; ties in the switch points merge values, evaluated once. Explicit Lambdas replace
// them. Weak and Strong name the reference pair for APGR; Pricer is the router's (see
// WillingnessToPay).
type WTPSweep struct {
	Models       []string
	Scores       *Scores
	N            int
	Lambdas      []float64
	Weak, Strong string
	Pricer       Pricer
}

// Name implements Sweep.
func (s WTPSweep) Name() string { return "wtp" }

// Sweep implements Sweep. Cost: one pass over items × models per lambda.
func (s WTPSweep) Sweep(t *Table) (*Curve, error) {
	w, err := newWTP(t, s.Models, s.Scores, s.Pricer)
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
	nm := len(w.t.models)
	switches := make([]float64, 0, len(w.cand))
	byPrice := make([]int32, 0, len(w.cols))
	for i, covered := range w.covered {
		cand := w.cand[w.off[i]:w.off[i+1]]
		if !covered || len(cand) < 2 {
			continue
		}
		// Candidates are not dominated: by ascending price, their scores ascend too. Only
		// those on the upper convex hull of (price, score) are ever chosen, and λ = Δscore /
		// Δprice between neighbours on it is where the choice moves to the cheaper one.
		price, row := w.prices(i), w.scores.v[i*nm:(i+1)*nm]
		byPrice = append(byPrice[:0], cand...)
		if len(byPrice) > 2 || price[byPrice[0]] > price[byPrice[1]] {
			slices.SortFunc(byPrice, func(a, b int32) int { return cmp.Compare(price[a], price[b]) })
		}
		slope := func(a, b int32) float64 {
			return (row[w.cols[b]] - row[w.cols[a]]) / (price[b] - price[a])
		}
		hull := byPrice[:0] // in place: the hull never outruns the candidates it was built from
		for _, c := range byPrice {
			if len(hull) > 0 && !(price[c] > price[hull[len(hull)-1]] && row[w.cols[c]] > row[w.cols[hull[len(hull)-1]]]) {
				continue // a tie in price or score: not a switch
			}
			for len(hull) >= 2 && slope(hull[len(hull)-2], hull[len(hull)-1]) <= slope(hull[len(hull)-1], c) {
				hull = hull[:len(hull)-1]
			}
			hull = append(hull, c)
		}
		for k := 1; k < len(hull); k++ {
			switches = append(switches, slope(hull[k-1], hull[k]))
		}
	}
	out := []float64{0}
	switch {
	case len(switches) == 0 || n < 2:
		return out
	case n == 2: // λ = 0 and one above every switch point: the best and the cheapest
		return append(out, 2*slices.Max(switches))
	}
	// The quantiles of many switch points are those of an even sample of them, which spaces
	// the points about as evenly for the cost of sorting the sample.
	sample, lowest, highest := switches, slices.Min(switches), slices.Max(switches)
	if len(switches) > maxSwitchSample {
		sample = make([]float64, maxSwitchSample)
		for k := range sample {
			sample[k] = switches[k*len(switches)/maxSwitchSample]
		}
	}
	slices.Sort(sample)
	lambdas := sortedQuantiles(sample, n-2)
	lambdas[len(lambdas)-1] = 2 * highest // above every switch point: the cheapest everywhere
	// Each λ moves halfway to the next larger switch point: the same decisions, away from
	// every item's tie, so that the λ a calibration writes into a spec, rounded, decides every
	// item as here.
	next := make([]float64, len(lambdas))
	for k := range next {
		next[k] = math.Inf(1)
	}
	for _, x := range switches {
		if k := sort.SearchFloat64s(lambdas, x) - 1; k >= 0 && x < next[k] {
			next[k] = x // lambdas[k] is the largest below x
		}
	}
	// Below every switch point, every item is decided as at λ = 0, which a spec cannot write
	// (its willingness to pay would be infinite): this λ can.
	out = append(out, lowest/2)
	for k, l := range lambdas {
		if !math.IsInf(next[k], 1) {
			l += (next[k] - l) / 2
		}
		out = append(out, l)
	}
	return out
}

// maxSwitchSample is the most switch points WTPSweep sorts to place its λ.
const maxSwitchSample = 1 << 13

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
