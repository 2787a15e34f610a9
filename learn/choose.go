package learn

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Chooser picks a candidate for a request from the P(pass) Model.Predict wrote, returning its
// index in the model's Models. Implementations are safe for concurrent use and do not
// allocate.
type Chooser interface {
	Choose(p []float64) int
}

// Threshold is the two-model rule: send a request to Weak when P(pass) of Weak is at least T,
// otherwise to Strong. T = 0 sends everything to Weak, T > 1 everything to Strong.
type Threshold struct {
	Strong string  `json:"strong"`
	Weak   string  `json:"weak"`
	T      float64 `json:"t"`
}

// Bind resolves the rule against a model's candidate names (Model.Models).
func (t Threshold) Bind(models []string) (Chooser, error) {
	s, w := slices.Index(models, t.Strong), slices.Index(models, t.Weak)
	switch {
	case s < 0:
		return nil, fmt.Errorf("threshold rule: strong model %q is not one of the model file's candidates %q", t.Strong, models)
	case w < 0:
		return nil, fmt.Errorf("threshold rule: weak model %q is not one of the model file's candidates %q", t.Weak, models)
	case s == w:
		return nil, fmt.Errorf("threshold rule: strong and weak are both %q; name two different models", t.Strong)
	case math.IsNaN(t.T) || t.T < 0:
		return nil, fmt.Errorf("threshold rule: t %v must be a number ≥ 0 (a probability; above 1 means always strong)", t.T)
	}
	return thresholdChooser{strong: s, weak: w, t: t.T}, nil
}

type thresholdChooser struct {
	strong, weak int
	t            float64
}

func (c thresholdChooser) Choose(p []float64) int {
	if p[c.weak] >= c.t {
		return c.weak
	}
	return c.strong
}

// WTPUnit is the unit of a willingness to pay 1/λ, as reports and messages write it: what a
// rise of P(pass) by 1.0 (from a certain failure to a certain pass) is worth, in dollars per
// request; a percentage point of P(pass) is worth a hundredth of it.
const WTPUnit = "USD per unit (1.0) of P(pass)"

// WillingnessToPay chooses the candidate that maximises P(pass) − Lambda × cost: Lambda is how
// much pass probability (in units of 1.0) one dollar per request is worth giving up, so that
// a candidate costing Δ dollars more must be more likely to pass by Lambda×Δ to be chosen;
// 1/Lambda is the willingness to pay, in WTPUnit. Lambda = 0 picks the most likely to pass; a
// large Lambda the cheapest. Ties go to the cheaper candidate, then to the earlier one.
type WillingnessToPay struct {
	Lambda float64 `json:"lambda"`
	// Costs is the expected cost in USD of a request on each candidate (for example the
	// catalogue price of the category's token band). Every candidate needs one.
	Costs map[string]float64 `json:"costs"`
}

// Bind resolves the rule against a model's candidate names.
func (w WillingnessToPay) Bind(models []string) (Chooser, error) {
	if math.IsNaN(w.Lambda) || w.Lambda < 0 {
		return nil, fmt.Errorf("willingness-to-pay rule: lambda %v must be a number ≥ 0", w.Lambda)
	}
	c := wtpChooser{lambda: w.Lambda, cost: make([]float64, len(models))}
	var missing []string
	for k, m := range models {
		v, ok := w.Costs[m]
		if !ok {
			missing = append(missing, m)
			continue
		}
		if math.IsNaN(v) || v < 0 {
			return nil, fmt.Errorf("willingness-to-pay rule: cost %v of %q must be a number ≥ 0", v, m)
		}
		c.cost[k] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("willingness-to-pay rule: no cost for %q; give every candidate of the model file a cost", missing)
	}
	return c, nil
}

type wtpChooser struct {
	lambda float64
	cost   []float64
}

func (c wtpChooser) Choose(p []float64) int { return ChooseWTP(p, c.cost, c.lambda) }

// ChooseWTP is the willingness-to-pay rule with per-request costs: the index maximising
// p[k] − lambda×cost[k], ties to the cheaper candidate, then the earlier one. Use it when the
// gateway estimates each candidate's cost from the request's own token count.
func ChooseWTP(p, cost []float64, lambda float64) int {
	return ChooseWTPUtility(p, cost, lambda, nil)
}

// ChooseWTPUtility is ChooseWTP that also writes each candidate's utility, the value the rule
// maximises (p[k] − lambda×cost[k]), to u[k], for a record of the choice that can be checked
// by hand; u may be nil, and is otherwise at least as long as cost.
func ChooseWTPUtility(p, cost []float64, lambda float64, u []float64) int {
	best, bu := 0, math.Inf(-1)
	for k := range cost {
		uk := p[k] - lambda*cost[k]
		if u != nil {
			u[k] = uk
		}
		if uk > bu || (uk == bu && cost[k] < cost[best]) {
			best, bu = k, uk
		}
	}
	return best
}

// MixedWTP is a willingness-to-pay rule that mixes two values of λ: a request is decided with
// Lambda2 when its RequestShare is below Share and with Lambda1 otherwise, each time by the
// rule of WillingnessToPay (the candidate maximising P(pass) − λ × cost, ties to the cheaper,
// then the earlier). Mixing two operating points reaches any point on the segment between
// them (Share 0 is Lambda1's point, 1 is Lambda2's, and the expected quality and cost are
// linear in Share): the convex hull of the willingness-to-pay curve, which a single λ can
// miss where the curve has a step (a whole task switching models at once). Calibrate returns
// one when Target.Mix is set; Lambda1 is then the larger λ (the cheaper point).
//
// A gateway that prices each request itself calls Lambda(RequestShare(text)) and then
// ChooseWTP with its own costs; one deciding on fixed costs per candidate uses Bind. The
// share is a hash of the request's text, so a retried request is decided the same way.
type MixedWTP struct {
	Lambda1 float64 `json:"lambda1"`
	Lambda2 float64 `json:"lambda2"`
	// Share is the fraction of requests, in [0, 1], decided with Lambda2.
	Share float64 `json:"share"`
	// Costs is the expected cost in USD of a request on each candidate, as in
	// WillingnessToPay; only Bind needs it.
	Costs map[string]float64 `json:"costs,omitempty"`
}

// Lambda returns the λ that decides a request whose RequestShare is u: Lambda2 when
// u < Share, else Lambda1.
func (m MixedWTP) Lambda(u float64) float64 {
	if u < m.Share {
		return m.Lambda2
	}
	return m.Lambda1
}

func (m MixedWTP) validate() error {
	switch {
	case math.IsNaN(m.Lambda1) || m.Lambda1 < 0 || math.IsNaN(m.Lambda2) || m.Lambda2 < 0:
		return fmt.Errorf("mixed willingness-to-pay rule: lambdas %v and %v must be numbers ≥ 0", m.Lambda1, m.Lambda2)
	case !(m.Share >= 0 && m.Share <= 1):
		return fmt.Errorf("mixed willingness-to-pay rule: share %v must be in [0, 1]", m.Share)
	}
	return nil
}

// Bind resolves the rule against a model's candidate names, with the fixed Costs.
func (m MixedWTP) Bind(models []string) (*MixedChooser, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	c1, err := WillingnessToPay{Lambda: m.Lambda1, Costs: m.Costs}.Bind(models)
	if err != nil {
		return nil, fmt.Errorf("mixed %w", err)
	}
	return &MixedChooser{rule: m, cost: c1.(wtpChooser).cost}, nil
}

// MixedChooser is a bound MixedWTP. It is safe for concurrent use and does not allocate.
type MixedChooser struct {
	rule MixedWTP
	cost []float64
}

// Choose picks a candidate for a request from the P(pass) Model.Predict wrote for it and its
// text (the last user message, as given to Predict), whose RequestShare selects the λ.
func (c *MixedChooser) Choose(text string, p []float64) int {
	return ChooseWTP(p, c.cost, c.rule.Lambda(RequestShare(text)))
}

// RequestShare maps a request's text to a number in [0, 1) that is the same every time for
// the same text and spread uniformly over different texts. A text the learned routers read
// whole (at most DefaultFeatures' MaxTextBytes, 1,536 bytes) is hashed whole; of a longer one,
// the bytes they read (its first 512 and last 1,024) and its length, as 8 little-endian bytes,
// so that the cost is bounded whatever the length (long texts that differ only in their middle
// share a share). The bytes are read 8 at a time as little-endian words (the last one padded
// with zero bytes), each folded into a 64-bit state that starts at 0x9e3779b97f4a7c15 ^ the
// number of bytes hashed as h = (h ^ word) × 0xff51afd7ed558ccd, h ^= h >> 32; the share is
// (fmix64(h) >> 11) / 2^53, with fmix64 MurmurHash3's 64-bit finaliser. It does not allocate.
func RequestShare(text string) float64 {
	if len(text) <= defaultTextBytes {
		return shareOf(text)
	}
	var buf [defaultTextBytes + 8]byte
	b := append(buf[:0], text[:defaultTextBytes-defaultTailBytes]...)
	b = append(b, text[len(text)-defaultTailBytes:]...)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(text)))
	return shareOf(b)
}

// shareOf is RequestShare's hash of the bytes it reads.
func shareOf[T string | []byte](text T) float64 {
	const m = 0xff51afd7ed558ccd
	h := uint64(0x9e3779b97f4a7c15) ^ uint64(len(text))
	i := 0
	for ; i+8 <= len(text); i += 8 {
		w := uint64(text[i]) | uint64(text[i+1])<<8 | uint64(text[i+2])<<16 | uint64(text[i+3])<<24 |
			uint64(text[i+4])<<32 | uint64(text[i+5])<<40 | uint64(text[i+6])<<48 | uint64(text[i+7])<<56
		h = (h ^ w) * m
		h ^= h >> 32
	}
	if i < len(text) {
		var w uint64
		for j := len(text) - 1; j >= i; j-- {
			w = w<<8 | uint64(text[j])
		}
		h = (h ^ w) * m
		h ^= h >> 32
	}
	return float64(fmix(h)>>11) / (1 << 53)
}

// Sample is what calibration and evaluation know about one item: the predicted P(pass) of
// each candidate, what actually happened, and the costs.
type Sample struct {
	// P is the predicted P(pass) per candidate.
	P []float64
	// Pass is the observed label per candidate (1 passed, 0 failed; NaN not graded, which
	// counts as a failure when the candidate is chosen).
	Pass []float64
	// Cost is the USD the call cost.
	Cost []float64
	// Est is the USD cost the rule assumes when deciding (what the gateway could know before
	// the call); nil means Cost.
	Est []float64
}

func (s *Sample) est() []float64 {
	if s.Est != nil {
		return s.Est
	}
	return s.Cost
}

func passOf(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// Target is what a calibrated rule must reach on the calibration samples.
type Target struct {
	// Quality asks for at least this fraction of the best single candidate's pass rate (the
	// candidate with the highest mean pass rate on the samples), at the least cost: 0.95
	// means "95% of the best model's quality".
	Quality float64 `json:"quality,omitempty"`
	// StrongShare asks a threshold rule to send this fraction of requests to Strong instead;
	// it needs Strong and Weak.
	StrongShare float64 `json:"strong_share,omitempty"`
	// Budget asks a willingness-to-pay rule for the most quality at a mean cost of at most
	// this fraction of the best single candidate's (0.35 means 35% of the best model's cost),
	// held with Confidence standard errors of the per-item cost to spare; with Mix, two λ
	// mixed to spend the budget exactly.
	Budget float64 `json:"budget,omitempty"`
	// Reference names the candidate whose quality and cost Quality and Budget are fractions
	// of; empty means the best single candidate on the samples. A cascade's samples need it:
	// a candidate that escalates its failures can beat the best model alone.
	Reference string `json:"reference,omitempty"`
	// Strong and Weak select the threshold rule; when empty, Quality calibrates a
	// willingness-to-pay rule over every candidate.
	Strong string `json:"strong,omitempty"`
	Weak   string `json:"weak,omitempty"`
	// Confidence, in standard errors, is a safety margin on Quality: the rule must beat the
	// target by Confidence standard errors of the paired per-item difference, so that it is
	// likely to hold on new traffic. 0 means none.
	Confidence float64 `json:"confidence,omitempty"`
	// Mix lets a Quality target be met by a MixedWTP rule: two λ values mixed in a
	// calibrated share, the cheapest point of the convex hull of the willingness-to-pay
	// curve that meets the target. It applies to the willingness-to-pay rule only.
	Mix bool `json:"mix,omitempty"`
}

func (t Target) validate() error {
	switch {
	case btoi(t.Quality != 0)+btoi(t.StrongShare != 0)+btoi(t.Budget != 0) != 1:
		return errors.New("target: give exactly one of quality (a fraction of the best model's quality, like 0.95), strong_share and budget (a fraction of the best model's cost, like 0.35)")
	case t.Budget < 0 || t.Budget > 1:
		return fmt.Errorf("target: budget %v is outside 0..1 (a fraction of the best model's cost, like 0.35)", t.Budget)
	case t.Budget > 0 && t.Strong != "":
		return errors.New("target: a budget calibrates a willingness-to-pay rule, without strong and weak")
	case t.Quality < 0 || t.Quality > 1:
		return fmt.Errorf("target: quality %v is outside 0..1 (a fraction of the best model's quality, like 0.95)", t.Quality)
	case t.StrongShare < 0 || t.StrongShare > 1:
		return fmt.Errorf("target: strong_share %v is outside 0..1", t.StrongShare)
	case t.StrongShare > 0 && (t.Strong == "" || t.Weak == ""):
		return errors.New("target: strong_share needs the strong and weak models of a threshold rule")
	case (t.Strong == "") != (t.Weak == ""):
		return errors.New("target: a threshold rule needs both strong and weak")
	case t.Confidence < 0 || math.IsNaN(t.Confidence):
		return fmt.Errorf("target: confidence %v must be ≥ 0 standard errors", t.Confidence)
	case t.Mix && (t.Strong != "" || (t.Quality == 0 && t.Budget == 0)):
		return errors.New("target: mix applies to a quality or budget target of the willingness-to-pay rule, without strong and weak")
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Point is one operating point of a rule on a set of samples.
type Point struct {
	// Param is the rule's parameter: λ for willingness to pay, T for a threshold.
	Param float64 `json:"param"`
	// Quality is the mean pass rate of the chosen candidates; Cost their mean cost in USD.
	Quality float64 `json:"quality"`
	Cost    float64 `json:"cost_usd"`
	// Share is the fraction of items sent to each candidate.
	Share []float64 `json:"share"`
}

// Calibration is a rule calibrated for a Target, and how it did on the calibration samples.
type Calibration struct {
	// Exactly one of Threshold and WTP is set. WTP.Costs are the candidates' mean estimated
	// costs on the samples (calibration itself used each sample's Est).
	Threshold *Threshold        `json:"threshold,omitempty"`
	WTP       *WillingnessToPay `json:"willingness_to_pay,omitempty"`
	// Mixed is set, besides WTP, when Target.Mix was: the rule to deploy, with the same
	// Costs. WTP is then the cheapest single λ meeting the target (or the best-quality one),
	// as without Mix, and Point the operating point of Mixed.
	Mixed *MixedWTP `json:"mixed_willingness_to_pay,omitempty"`
	// Point is the rule's operating point on the samples (Param is λ, T, or for Mixed its
	// Share).
	Point Point `json:"point"`
	// Best is the reference candidate (Target.Reference, or the best single one); BestQuality
	// and BestCost its pass rate and cost.
	Best        string  `json:"best"`
	BestQuality float64 `json:"best_quality"`
	BestCost    float64 `json:"best_cost_usd"`
	// Met says the target was reached. When it was not, the rule is the best-quality
	// operating point found.
	Met bool `json:"met"`
}

// String describes the rule and its operating point.
func (c *Calibration) String() string {
	var b strings.Builder
	switch {
	case c.Threshold != nil:
		fmt.Fprintf(&b, "threshold: weak %s when P(pass) ≥ %.4f, else strong %s", c.Threshold.Weak, c.Threshold.T, c.Threshold.Strong)
	case c.Mixed != nil:
		fmt.Fprintf(&b, "mixed willingness to pay: λ = %.4g per USD, or %.4g for a share %.3f of requests", c.Mixed.Lambda1, c.Mixed.Lambda2, c.Mixed.Share)
	case c.WTP != nil:
		fmt.Fprintf(&b, "willingness to pay: λ = %.4g per USD", c.WTP.Lambda)
	}
	fmt.Fprintf(&b, "; on the calibration data quality %.4f (%.1f%% of %s) at $%.3g per request (%.1f%% of its cost)",
		c.Point.Quality, 100*c.Point.Quality/c.BestQuality, c.Best, c.Point.Cost, 100*c.Point.Cost/c.BestCost)
	if !c.Met {
		b.WriteString("; the target was not reached: this is the best-quality point")
	}
	return b.String()
}

// singles returns each candidate's mean pass rate and cost on the samples.
func singles(samples []Sample, k int) (q, c []float64) {
	q, c = make([]float64, k), make([]float64, k)
	for i := range samples {
		for j := range k {
			q[j] += passOf(samples[i].Pass[j])
			c[j] += samples[i].Cost[j]
		}
	}
	for j := range k {
		q[j] /= float64(len(samples))
		c[j] /= float64(len(samples))
	}
	return q, c
}

// bestSingle returns the candidate with the highest pass rate (ties: the cheaper).
func bestSingle(q, c []float64) int {
	b := 0
	for j := range q {
		if q[j] > q[b] || (q[j] == q[b] && c[j] < c[b]) {
			b = j
		}
	}
	return b
}

// Calibrate picks the rule's parameter on the samples (which should be predictions for items
// the model was not trained on, as Train's cross-validation gives): for a Quality target, the
// cheapest operating point reaching Quality × the best candidate's pass rate (with the
// Confidence margin); for a StrongShare target, the threshold sending that share to Strong.
// models names the candidates in the samples' order.
func Calibrate(models []string, samples []Sample, t Target) (*Calibration, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, errors.New("calibration: no samples")
	}
	k := len(models)
	q, c := singles(samples, k)
	b := bestSingle(q, c)
	if t.Reference != "" {
		if b = slices.Index(models, t.Reference); b < 0 {
			return nil, fmt.Errorf("calibration: the reference %q is not one of the candidates %q", t.Reference, models)
		}
	}
	cal := &Calibration{Best: models[b], BestQuality: q[b], BestCost: c[b]}
	var pts []Point
	var choose func(param float64) Chooser
	var grid []float64
	if t.Strong != "" {
		s, w := slices.Index(models, t.Strong), slices.Index(models, t.Weak)
		if s < 0 || w < 0 || s == w {
			return nil, fmt.Errorf("calibration: strong %q and weak %q must be two of the candidates %q", t.Strong, t.Weak, models)
		}
		pts = sweepThreshold(samples, s, w, k)
		choose = func(x float64) Chooser { return thresholdChooser{strong: s, weak: w, t: x} }
		cal.Threshold = &Threshold{Strong: t.Strong, Weak: t.Weak}
	} else {
		grid = LambdaGrid(samples, k)
		if len(grid) == 1 {
			return nil, errors.New("calibration: the outcomes have no costs, which a willingness-to-pay rule weighs: record each call's cost, or price the calls from the prompt's length (clearbar learn evaluate --price MODEL=IN/OUT for each model, with --output-tokens N)")
		}
		pts = SweepWTP(samples, k, grid)
		choose = func(x float64) Chooser { return samplesWTP{lambda: x} }
		cal.WTP = &WillingnessToPay{Costs: map[string]float64{}}
		for j, m := range models {
			var s float64
			for i := range samples {
				s += samples[i].est()[j]
			}
			cal.WTP.Costs[m] = s / float64(len(samples))
		}
	}
	pick := -1
	if t.StrongShare > 0 {
		s := slices.Index(models, t.Strong)
		for i, p := range pts {
			if pick < 0 || math.Abs(p.Share[s]-t.StrongShare) < math.Abs(pts[pick].Share[s]-t.StrongShare) {
				pick = i
			}
		}
		cal.Met = true
	} else if t.Budget > 0 {
		// The most quality whose cost holds within the budget, the cheapest when none does.
		limit := t.Budget * c[b]
		for i, p := range pts {
			if costWithin(samples, choose(p.Param), limit, t.Confidence) && (pick < 0 || p.Quality > pts[pick].Quality) {
				pick = i
			}
		}
		cal.Met = pick >= 0
		if pick < 0 {
			for i, p := range pts {
				if pick < 0 || p.Cost < pts[pick].Cost {
					pick = i
				}
			}
		}
	} else {
		goal := t.Quality
		for i, p := range pts {
			if pick >= 0 && p.Cost >= pts[pick].Cost {
				continue
			}
			if meets(samples, choose(p.Param), b, goal, t.Confidence) {
				pick = i
			}
		}
		cal.Met = pick >= 0
		if pick >= 0 && cal.WTP != nil {
			pts[pick] = refineWTP(samples, k, b, goal, t.Confidence, pts, pick)
		}
		if pick < 0 {
			for i, p := range pts {
				if pick < 0 || p.Quality > pts[pick].Quality {
					pick = i
				}
			}
		}
	}
	cal.Point = pts[pick]
	if cal.Threshold != nil {
		cal.Threshold.T = cal.Point.Param
	} else {
		cal.WTP.Lambda = cal.Point.Param
	}
	if t.Mix && t.Budget > 0 {
		m, pt, ok := calibrateBudgetMix(samples, k, t.Budget*c[b], t.Confidence, grid)
		if !ok || pt.Quality < cal.Point.Quality {
			m, pt = MixedWTP{Lambda1: cal.WTP.Lambda, Lambda2: cal.WTP.Lambda}, cal.Point
			pt.Param = 0
		}
		m.Costs = cal.WTP.Costs
		cal.Mixed = &m
		cal.Point = pt
	} else if t.Mix {
		m, pt, ok := calibrateMix(samples, k, b, t.Quality, t.Confidence, grid)
		if !ok || pt.Cost > cal.Point.Cost {
			// The single λ is as cheap (or the target is out of reach): a mix that is
			// all Lambda1.
			m, pt = MixedWTP{Lambda1: cal.WTP.Lambda, Lambda2: cal.WTP.Lambda}, cal.Point
			pt.Param = 0
		}
		m.Costs = cal.WTP.Costs
		cal.Mixed = &m
		cal.Point = pt
	}
	return cal, nil
}

// calibrateMix finds the cheapest point of the convex hull of the willingness-to-pay sweep
// over grid that meets goal × the best candidate's pass rate with a margin of z standard
// errors: a vertex, or a share s of requests decided by the dearer vertex's λ and 1 − s by
// the cheaper one's. The margin is computed on the per-item outcome of the mix,
// (1 − s)·pass(λ₁'s choice) + s·pass(λ₂'s choice) − goal·pass(best) on average, whose
// variance adds to that across items the mix's own, s(1 − s)·(pass(λ₂'s) − pass(λ₁'s))².
func calibrateMix(samples []Sample, k, best int, goal, z float64, grid []float64) (MixedWTP, Point, bool) {
	pts := SweepWTP(samples, k, grid)
	hull := Hull(pts)
	if len(hull) == 0 {
		return MixedWTP{}, Point{}, false
	}
	// The hull's vertices come from pts; keep λ with them (Hull keeps Param).
	pass := func(lambda float64) []float64 {
		out := make([]float64, len(samples))
		for i := range samples {
			s := &samples[i]
			out[i] = passOf(s.Pass[ChooseWTP(s.P, s.est(), lambda)])
		}
		return out
	}
	bestPass := make([]float64, len(samples))
	for i := range samples {
		bestPass[i] = passOf(samples[i].Pass[best])
	}
	meetsMix := func(a, b []float64, s float64) bool {
		mean, se := mixMean(a, b, bestPass, goal, s)
		return mean >= z*se
	}
	if first := pass(hull[0].Param); meetsMix(first, first, 0) {
		return MixedWTP{Lambda1: hull[0].Param, Lambda2: hull[0].Param}, hull[0], true
	}
	v, _, hi, ok := crossing(hull, pass, meetsMix)
	if !ok {
		return MixedWTP{}, Point{}, false
	}
	a, b := hull[v-1], hull[v]
	return MixedWTP{Lambda1: a.Param, Lambda2: b.Param, Share: hi}, between(a, b, hi), true
}

// crossing walks the hull's edges from its cheapest vertex, with each vertex's per-item
// values, and finds the first edge (v−1, v) along which pred(values(v−1), values(v), s)
// changes from what it is at the cheapest vertex: pred holds the old way at the share lo and
// the new way at hi, bisected to 2^-40. ok is false when pred never changes.
func crossing(hull []Point, values func(lambda float64) []float64, pred func(a, b []float64, s float64) bool) (v int, lo, hi float64, ok bool) {
	prev := values(hull[0].Param)
	start := pred(prev, prev, 0)
	for v = 1; v < len(hull); v++ {
		cur := values(hull[v].Param)
		if pred(prev, cur, 1) == start {
			prev = cur
			continue
		}
		lo, hi = 0, 1
		for range 40 {
			mid := (lo + hi) / 2
			if pred(prev, cur, mid) == start {
				lo = mid
			} else {
				hi = mid
			}
		}
		return v, lo, hi, true
	}
	return 0, 0, 0, false
}

// mixMean is the mean over items of the mix's per-item outcome, (1 − s)·a + s·b − w·base
// (base nil: 0), and its standard error, whose variance adds to that across items the mix's
// own coin's, s(1 − s)·(b − a)².
func mixMean(a, b, base []float64, w, s float64) (mean, se float64) {
	n := float64(len(a))
	var sum, sq, flip float64
	for i := range a {
		d := (1-s)*a[i] + s*b[i]
		if base != nil {
			d -= w * base[i]
		}
		sum += d
		sq += d * d
		flip += (b[i] - a[i]) * (b[i] - a[i])
	}
	mean = sum / n
	v := math.Max(sq/n-mean*mean, 0)*n/math.Max(n-1, 1) + s*(1-s)*flip/n
	return mean, math.Sqrt(v / n)
}

// between is the point a share s of the way from a to b (Param s: the mix's share).
func between(a, b Point, s float64) Point {
	pt := Point{Param: s, Quality: (1-s)*a.Quality + s*b.Quality, Cost: (1-s)*a.Cost + s*b.Cost, Share: make([]float64, len(a.Share))}
	for j := range pt.Share {
		pt.Share[j] = (1-s)*a.Share[j] + s*b.Share[j]
	}
	return pt
}

// costWithin says whether rule ch's mean cost on the samples stays within limit with z
// standard errors of the per-item cost to spare.
func costWithin(samples []Sample, ch Chooser, limit, z float64) bool {
	c := make([]float64, len(samples))
	for i := range samples {
		c[i] = samples[i].Cost[decide(ch, &samples[i])]
	}
	mean, se := mixMean(c, c, nil, 0, 0)
	return mean+z*se <= limit
}

// calibrateBudgetMix finds the best-quality point of the convex hull of the
// willingness-to-pay sweep over grid whose mean cost holds within limit with z standard
// errors to spare: a vertex, or a share s of requests decided by the dearer vertex's λ and
// 1 − s by the cheaper one's, the largest s that fits. The per-item cost of the mix has the
// variance across items plus the mix's own coin's, s(1 − s)·(cost(λ₂'s) − cost(λ₁'s))².
func calibrateBudgetMix(samples []Sample, k int, limit, z float64, grid []float64) (MixedWTP, Point, bool) {
	hull := Hull(SweepWTP(samples, k, grid))
	if len(hull) == 0 {
		return MixedWTP{}, Point{}, false
	}
	cost := func(lambda float64) []float64 {
		out := make([]float64, len(samples))
		for i := range samples {
			s := &samples[i]
			out[i] = s.Cost[ChooseWTP(s.P, s.est(), lambda)]
		}
		return out
	}
	fits := func(a, b []float64, s float64) bool {
		mean, se := mixMean(a, b, nil, 0, s)
		return mean+z*se <= limit
	}
	if first := cost(hull[0].Param); !fits(first, first, 0) {
		return MixedWTP{}, Point{}, false
	}
	v, lo, _, ok := crossing(hull, cost, fits)
	if !ok {
		last := hull[len(hull)-1]
		return MixedWTP{Lambda1: last.Param, Lambda2: last.Param}, last, true
	}
	a, b := hull[v-1], hull[v]
	return MixedWTP{Lambda1: a.Param, Lambda2: b.Param, Share: lo}, between(a, b, lo), true
}

// refineWTP narrows down the grid's cheapest point meeting the goal: it bisects, in log
// scale, between its λ and the next larger λ of the grid (which is cheaper and, being
// skipped, missed the goal or cost more), keeping the largest λ found that meets the goal.
func refineWTP(samples []Sample, k, best int, goal, z float64, pts []Point, pick int) Point {
	lo := pts[pick].Param
	hi := math.Inf(1)
	for _, p := range pts {
		if p.Param > lo && p.Param < hi {
			hi = p.Param
		}
	}
	if math.IsInf(hi, 1) {
		return pts[pick]
	}
	if lo == 0 {
		lo = hi / 1e3
		if !meets(samples, samplesWTP{lambda: lo}, best, goal, z) {
			return pts[pick]
		}
	}
	for range 30 {
		mid := math.Sqrt(lo * hi)
		if meets(samples, samplesWTP{lambda: mid}, best, goal, z) {
			lo = mid
		} else {
			hi = mid
		}
	}
	p := evaluate(samples, samplesWTP{lambda: lo}, k, lo)
	if p.Cost > pts[pick].Cost {
		return pts[pick]
	}
	return p
}

// samplesWTP is the willingness-to-pay rule deciding on each sample's own estimated costs.
type samplesWTP struct{ lambda float64 }

func (samplesWTP) Choose([]float64) int { panic("samplesWTP needs costs") }

// decide applies a chooser to a sample.
func decide(ch Chooser, s *Sample) int {
	if w, ok := ch.(samplesWTP); ok {
		return ChooseWTP(s.P, s.est(), w.lambda)
	}
	return ch.Choose(s.P)
}

// meets says whether the rule's mean pass rate beats goal × the best candidate's by z
// standard errors of the paired per-item difference.
func meets(samples []Sample, ch Chooser, best int, goal, z float64) bool {
	n := float64(len(samples))
	var sum, sq float64
	for i := range samples {
		s := &samples[i]
		d := passOf(s.Pass[decide(ch, s)]) - goal*passOf(s.Pass[best])
		sum += d
		sq += d * d
	}
	mean := sum / n
	sd := math.Sqrt(math.Max(sq/n-mean*mean, 0) * n / math.Max(n-1, 1))
	return mean >= z*sd/math.Sqrt(n)
}

// evaluate returns the operating point of a rule on the samples.
func evaluate(samples []Sample, ch Chooser, k int, param float64) Point {
	p := Point{Param: param, Share: make([]float64, k)}
	for i := range samples {
		s := &samples[i]
		j := decide(ch, s)
		p.Quality += passOf(s.Pass[j])
		p.Cost += s.Cost[j]
		p.Share[j]++
	}
	n := float64(len(samples))
	p.Quality /= n
	p.Cost /= n
	for j := range p.Share {
		p.Share[j] /= n
	}
	return p
}

// LambdaGrid is the set of λ values SweepWTP tries: 0 and 241 values spaced evenly in log
// scale from 10^-3/c to 10^5/c, where c is the mean estimated cost of the dearest candidate,
// so that λ×c runs from "cost hardly matters" to "only cost matters".
func LambdaGrid(samples []Sample, k int) []float64 {
	var c float64
	for j := range k {
		var s float64
		for i := range samples {
			s += samples[i].est()[j]
		}
		c = max(c, s/float64(len(samples)))
	}
	if c == 0 {
		return []float64{0}
	}
	grid := []float64{0}
	for i := 0; i <= 240; i++ {
		grid = append(grid, math.Pow(10, -3+8*float64(i)/240)/c)
	}
	return grid
}

// SweepWTP returns the willingness-to-pay rule's operating point at every λ, deciding on each
// sample's estimated costs.
func SweepWTP(samples []Sample, k int, lambdas []float64) []Point {
	pts := make([]Point, len(lambdas))
	for i, l := range lambdas {
		pts[i] = evaluate(samples, samplesWTP{lambda: l}, k, l)
	}
	return pts
}

// sweepThreshold returns the threshold rule's operating point at every distinct P(weak)
// (plus one above all, which sends everything to strong), in increasing order of T.
func sweepThreshold(samples []Sample, strong, weak, k int) []Point {
	ts := make([]float64, 0, len(samples)+1)
	for i := range samples {
		ts = append(ts, samples[i].P[weak])
	}
	sort.Float64s(ts)
	ts = slices.Compact(ts)
	ts = append(ts, math.Nextafter(ts[len(ts)-1], math.Inf(1)))
	// Walk T upwards: items leave weak for strong as T passes their P(weak).
	order := make([]int, len(samples))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(samples[a].P[weak], samples[b].P[weak]) })
	n := float64(len(samples))
	var q, c float64
	for i := range samples {
		q += passOf(samples[i].Pass[weak])
		c += samples[i].Cost[weak]
	}
	pts := make([]Point, 0, len(ts))
	moved := 0
	for _, t := range ts {
		for moved < len(order) && samples[order[moved]].P[weak] < t {
			s := &samples[order[moved]]
			q += passOf(s.Pass[strong]) - passOf(s.Pass[weak])
			c += s.Cost[strong] - s.Cost[weak]
			moved++
		}
		share := make([]float64, k)
		share[strong], share[weak] = float64(moved)/n, 1-float64(moved)/n
		pts = append(pts, Point{Param: t, Quality: q / n, Cost: c / n, Share: share})
	}
	return pts
}

// Guards: the rules implement Chooser.
var (
	_ Chooser = thresholdChooser{}
	_ Chooser = wtpChooser{}
)

// ScoreRoute writes a calibrated willingness-to-pay rule as a spec's score route, with extra
// (a YAML line of the score mapping, like "escalate: [strong]", or "") inside it: the candidates cheapest first by their mean decision
// cost, the willingness to pay 1/λ (in WTPUnit) and, for a mixed rule,
// its mix. The router file is ROUTER.json, for the file clearbar learn train writes. The rule
// decides as it did here when the spec's prices give each call the cost the outcomes record.
func ScoreRoute(c *Calibration, extra string) string {
	costs := c.WTP.Costs
	models := slices.SortedFunc(maps.Keys(costs), func(a, b string) int {
		return cmp.Or(cmp.Compare(costs[a], costs[b]), strings.Compare(a, b))
	})
	for i, m := range models {
		models[i] = strconv.Quote(m)
	}
	wtp := func(lambda float64) string {
		if lambda == 0 {
			return "1000000" // λ 0: P(pass) alone decides
		}
		return strconv.FormatFloat(1/lambda, 'g', 6, 64)
	}
	var b strings.Builder
	b.WriteString("route:\n  score:\n    router: ROUTER.json\n")
	fmt.Fprintf(&b, "    models: [%s]\n", strings.Join(models, ", "))
	if m := c.Mixed; m != nil && m.Share > 0 && m.Lambda1 != m.Lambda2 {
		fmt.Fprintf(&b, "    willingness_to_pay: %s\n    mix: {willingness_to_pay: %s, share: %.4g}\n", wtp(m.Lambda1), wtp(m.Lambda2), m.Share)
	} else {
		fmt.Fprintf(&b, "    willingness_to_pay: %s\n", wtp(c.Mixed.lambda1Or(c.WTP.Lambda)))
	}
	if extra != "" {
		b.WriteString("    " + extra + "\n")
	}
	return b.String()
}
