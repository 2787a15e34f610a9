package review

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// Experiment is a category routed by a weighted split: each arm's figures, and each arm's
// comparison with the first arm by always-valid sequential tests.
type Experiment struct {
	Category string `json:"category"`
	Arms     []*Arm `json:"arms"`
	// Alpha is the level each comparison is tested at: the review's false-alarm level shared
	// equally (Bonferroni) over the experiment's comparisons.
	Alpha       float64          `json:"alpha_per_comparison"`
	Comparisons []*ArmComparison `json:"comparisons"`
	// SampleRatioP is the chi-square p-value of the arms' request counts against the split's
	// weights; SampleRatioMismatch says it is below the review's false-alarm level, which
	// means requests are assigned or recorded unevenly and the comparisons may be biased.
	SampleRatioP        Num      `json:"sample_ratio_p"`
	SampleRatioMismatch bool     `json:"sample_ratio_mismatch"`
	Notes               []string `json:"notes,omitempty"`
}

// Arm is one arm's figures, with intervals at the report's confidence.
type Arm struct {
	Label string `json:"label"`
	// Weight is the arm's configured share of the category (0 when the label does not name
	// an arm of the spec's split).
	Weight   float64 `json:"weight"`
	Requests int     `json:"requests"`
	// PassRate is the share of requests answered with an answer that passed validation (on
	// an arm that does not validate, every answered request).
	PassRate Num `json:"pass_rate"`
	PassLow  Num `json:"pass_rate_low"`
	PassHigh Num `json:"pass_rate_high"`
	// Cost is the mean cost per request in dollars.
	Cost     Num `json:"cost_per_request_usd"`
	CostLow  Num `json:"cost_low"`
	CostHigh Num `json:"cost_high"`
	// Latency quantiles are in seconds, with distribution-free intervals.
	LatencyMean Num `json:"latency_mean_s"`
	P50         Num `json:"latency_p50_s"`
	P50Low      Num `json:"latency_p50_low"`
	P50High     Num `json:"latency_p50_high"`
	P95         Num `json:"latency_p95_s"`
	P95Low      Num `json:"latency_p95_low"`
	P95High     Num `json:"latency_p95_high"`
}

// ArmComparison is one metric of one arm against the control arm.
type ArmComparison struct {
	Arm     string `json:"arm"`
	Control string `json:"control"`
	// Metric is "pass rate", "cost per request" or "mean latency"; Unit as in Comparison.
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	// Difference is the arm's mean minus the control's; Low and High bound it with an
	// always-valid interval at level 1 − Alpha.
	Difference Num `json:"difference"`
	Low        Num `json:"low"`
	High       Num `json:"high"`
	// P is the always-valid p-value: the running minimum of 1/Λ over every request so far.
	P           float64 `json:"p"`
	Significant bool    `json:"significant"`
	// Tau is the standard deviation of the mixing distribution the test is tuned with.
	Tau float64 `json:"tau"`
	// MoreRequests is how many more requests of the category a test at this level would need
	// to detect the observed difference with ExperimentPower, were it the true one (0 once
	// significant, infinite when no difference was observed); MoreDays the same at the
	// category's observed traffic rate.
	MoreRequests Num `json:"more_requests"`
	MoreDays     Num `json:"more_days"`
}

// Mixing distribution scales of the experiments' sequential tests: the sizes of difference
// they are tuned to find. Pass rates use tauPass (5 points); cost and latency tauRelative
// times the estimator's figure for the category.
const (
	tauPass     = 0.05
	tauRelative = 0.2
)

// experiment metrics, in display order.
var experimentMetrics = []struct {
	name, unit string
	value      func(*request) float64
}{
	{"pass rate", UnitRate, func(r *request) float64 { return b2f(r.passed) }},
	{"cost per request", UnitUSD, func(r *request) float64 { return r.cost.USD() }},
	{"mean latency", UnitSeconds, func(r *request) float64 { return r.latency }},
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// experiments analyses every category whose route is a split and whose traffic records arms.
func (a *analysis) experiments() []*Experiment {
	var out []*Experiment
	for i, c := range a.s.Categories {
		if c.Route.Kind() != "split" || len(a.r.cats[i].armLabels) == 0 {
			continue
		}
		out = append(out, a.experiment(i))
	}
	return out
}

// armRun is what an arm has seen so far: one stream of values per experiment metric, and its
// latencies for quantiles.
type armRun struct {
	m   [3]stats.Moments
	lat []float64
}

func (r *armRun) n() int { return r.m[0].N() }

func (a *analysis) experiment(ci int) *Experiment {
	c, cd := a.s.Categories[ci], a.r.cats[ci]
	base := a.specPolicy.Categories[ci]
	// Arms in the split's order; the first is the control.
	order := make([]int32, len(cd.armLabels))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		lx, ly := cd.armLabels[x], cd.armLabels[y]
		return cmp.Or(cmp.Compare(armNumber(lx), armNumber(ly)), cmp.Compare(lx, ly))
	})
	pos := make([]int, len(order)) // label index → position in order
	for p, idx := range order {
		pos[idx] = p
	}
	ex := &Experiment{Category: c.Name, SampleRatioP: Num(math.NaN())}
	if len(order) < 2 {
		ex.Notes = append(ex.Notes, "only one arm has traffic: nothing to compare yet")
	}
	ex.Alpha = a.opts.Alpha / float64(len(experimentMetrics)*max(1, len(order)-1))

	// Walk the category's requests in time order, looking at every comparison after every
	// request of its arms: the sequential tests allow it, and the running minimum of their
	// p-values is what any schedule of looks would have seen at worst.
	taus := []float64{tauPass, tauRelative * base.Cost.USD(), tauRelative * base.Latency.Mean}
	arms := make([]armRun, len(order))
	pMin := make([][3]float64, len(order))
	for i := range pMin {
		pMin[i] = [3]float64{1, 1, 1}
	}
	look := func(b int) {
		c0, cb := &arms[0], &arms[b]
		if c0.n() < ExperimentBurnIn || cb.n() < ExperimentBurnIn {
			return
		}
		for k := range experimentMetrics {
			if taus[k] <= 0 { // no estimate to scale by: the control's mean at the first look
				taus[k] = tauRelative * c0.m[k].Mean()
			}
			if est, v := diff(&c0.m[k], &cb.m[k]); v > 0 && taus[k] > 0 {
				pMin[b][k] = math.Min(pMin[b][k], stats.MSPRTPValue(est, v, taus[k]*taus[k]))
			}
		}
	}
	reqs := a.byCat[ci]
	for _, rq := range reqs {
		if rq.arm < 0 {
			continue
		}
		p := pos[rq.arm]
		ar := &arms[p]
		for k, m := range experimentMetrics {
			ar.m[k].Add(m.value(rq))
		}
		ar.lat = append(ar.lat, rq.latency)
		if p > 0 {
			look(p)
			continue
		}
		for b := 1; b < len(arms); b++ {
			look(b)
		}
	}

	for p, idx := range order {
		ex.Arms = append(ex.Arms, a.armFigures(c, cd.armLabels[idx], &arms[p]))
	}
	a.sampleRatio(ex)
	var days float64
	if len(reqs) > 1 {
		days = time.Duration(reqs[len(reqs)-1].time-reqs[0].time).Hours() / 24
	}
	for b := 1; b < len(order); b++ {
		for k := range experimentMetrics {
			p := pMin[b][k]
			if est, v := diff(&arms[0].m[k], &arms[b].m[k]); v == 0 && est != 0 && arms[0].n() >= ExperimentBurnIn && arms[b].n() >= ExperimentBurnIn {
				// Neither arm varies, to the end (a simulated provider's fixed costs): the
				// difference is exact, the limit of the test as the variance vanishes. Once
				// either arm varies, only the sequential test's looks count.
				p = 0
			}
			ex.Comparisons = append(ex.Comparisons, compareArms(ex, &arms[0], &arms[b], b, k, p, taus[k], len(reqs), days))
		}
	}
	if slices.ContainsFunc(arms, func(r armRun) bool { return r.n() < ExperimentBurnIn }) {
		ex.Notes = append(ex.Notes, fmt.Sprintf("the sequential tests start once each arm has %d requests", ExperimentBurnIn))
	}
	return ex
}

// armFigures returns an arm's figures, with intervals at the report's confidence.
func (a *analysis) armFigures(c *spec.Category, label string, ar *armRun) *Arm {
	z := stats.NormalQuantile(1 - a.opts.Alpha/2)
	arm := &Arm{Label: label, Requests: ar.n()}
	if n := armNumber(label); n >= 1 && n <= len(c.Route.Split) {
		arm.Weight = c.Route.Split[n-1].Weight
	}
	pm := &ar.m[0]
	lo, hi := stats.Wilson(int(math.Round(pm.Mean()*float64(pm.N()))), pm.N(), a.conf)
	arm.PassRate, arm.PassLow, arm.PassHigh = Num(pm.Mean()), Num(lo), Num(hi)
	cm := &ar.m[1]
	arm.Cost, arm.CostLow, arm.CostHigh = Num(cm.Mean()), Num(cm.Mean()-z*cm.SE()), Num(cm.Mean()+z*cm.SE())
	arm.LatencyMean = Num(ar.m[2].Mean())
	slices.Sort(ar.lat)
	l50, h50 := stats.QuantileCI(ar.lat, 0.5, a.conf)
	l95, h95 := stats.QuantileCI(ar.lat, 0.95, a.conf)
	arm.P50, arm.P50Low, arm.P50High = Num(stats.Quantile(ar.lat, 0.5)), Num(l50), Num(h50)
	arm.P95, arm.P95Low, arm.P95High = Num(stats.Quantile(ar.lat, 0.95)), Num(l95), Num(h95)
	return arm
}

// sampleRatio tests the arms' request counts against the split's weights, when every arm's
// weight is known.
func (a *analysis) sampleRatio(ex *Experiment) {
	if len(ex.Arms) < 2 {
		return
	}
	counts := make([]int, len(ex.Arms))
	weights := make([]float64, len(ex.Arms))
	total := 0.0
	for i, arm := range ex.Arms {
		if arm.Weight <= 0 {
			return
		}
		counts[i], weights[i] = arm.Requests, arm.Weight
		total += arm.Weight
	}
	for i := range weights {
		weights[i] /= total
	}
	_, _, p := stats.ChiSquareGOF(counts, weights)
	ex.SampleRatioP = Num(p)
	if p <= a.opts.Alpha {
		ex.SampleRatioMismatch = true
		ex.Notes = append(ex.Notes, "the arms' traffic does not match the split's weights (sample ratio mismatch): find out why before trusting the comparisons")
	}
}

// compareArms compares metric k of arm b with the control: the difference, its always-valid
// interval and p-value, and the traffic still needed. catReqs is the category's requests over
// days, from which the arms' share and the traffic rate come.
func compareArms(ex *Experiment, c0, cb *armRun, b, k int, p, tau float64, catReqs int, days float64) *ArmComparison {
	m := experimentMetrics[k]
	est, v := diff(&c0.m[k], &cb.m[k])
	ac := &ArmComparison{Arm: ex.Arms[b].Label, Control: ex.Arms[0].Label, Metric: m.name, Unit: m.unit,
		Difference: Num(est), P: p, Significant: p <= ex.Alpha, Tau: tau, Low: Num(math.NaN()), High: Num(math.NaN()),
		MoreRequests: Num(math.Inf(1)), MoreDays: Num(math.Inf(1))}
	if v <= 0 && ac.Significant {
		// An exact difference (see experiment): its interval is the difference itself.
		ac.Low, ac.High, ac.MoreRequests, ac.MoreDays = Num(est), Num(est), 0, 0
	}
	if v <= 0 || tau <= 0 {
		return ac
	}
	t2 := tau * tau
	h := stats.MSPRTHalfWidth(v, t2, ex.Alpha)
	ac.Low, ac.High = Num(est-h), Num(est+h)
	switch {
	case ac.Significant:
		ac.MoreRequests, ac.MoreDays = 0, 0
	case est != 0:
		// v shrinks as 1/n: the pair of arms needs v/v* times the requests it has, and the
		// category sends them its share of its traffic.
		pair := float64(c0.n() + cb.n())
		more := math.Max(0, pair*(v/stats.MSPRTVariance(est, t2, ex.Alpha, ExperimentPower)-1)) * float64(catReqs) / pair
		ac.MoreRequests = Num(math.Ceil(more))
		if days > 0 {
			ac.MoreDays = Num(more / (float64(catReqs) / days))
		}
	}
	return ac
}

// diff returns the difference of two means (b − a) and its variance.
func diff(a, b *stats.Moments) (est, v float64) {
	if a.N() < 2 || b.N() < 2 {
		return b.Mean() - a.Mean(), 0
	}
	return b.Mean() - a.Mean(), a.Var()/float64(a.N()) + b.Var()/float64(b.N())
}
