package estimate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// Report is the result of an estimate: every policy, the recommendation, and what to work on.
type Report struct {
	Spec        string          `json:"spec"`
	File        string          `json:"file,omitempty"`
	Date        string          `json:"date"`
	Volume      int64           `json:"requests_per_month"`
	Samples     int             `json:"samples_per_policy"`
	Seed        uint64          `json:"seed"`
	CatalogDate string          `json:"catalog_date"`
	Categories  []CategoryInfo  `json:"categories"`
	Policies    []*PolicyResult `json:"policies"`
	// Recommended is the name of the recommended policy; Recommendation says why.
	Recommended    string `json:"recommended"`
	Recommendation string `json:"recommendation"`
	// RiskAdjusted names the clearing policy with the lowest cost plus risk, when it is not
	// the recommended one.
	RiskAdjusted  string        `json:"risk_adjusted,omitempty"`
	Verdicts      []Verdict     `json:"verdicts"`
	OptimiseFirst []Opportunity `json:"optimise_first"`
	Sensitivity   *Sensitivity  `json:"sensitivity,omitempty"`
	// Measured compares assumptions with measurements when the estimate used them.
	Measured *MeasuredSummary `json:"measured,omitempty"`
	Notes    []string         `json:"notes,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
}

// CategoryInfo is a category's requirements, as the spec states them.
type CategoryInfo struct {
	Name          string         `json:"name"`
	Share         float64        `json:"share"`
	QualityBar    float64        `json:"quality_bar"`
	LatencyBudget float64        `json:"latency_budget_s,omitempty"`
	BadAnswer     clearbar.Money `json:"bad_answer_impact_usd"`
	FailedRequest clearbar.Money `json:"failed_request_impact_usd"`
}

// Latency is a latency distribution's mean and quantiles, in seconds.
type Latency struct {
	Mean float64 `json:"mean_s"`
	P50  float64 `json:"p50_s"`
	P95  float64 `json:"p95_s"`
	P99  float64 `json:"p99_s"`
}

// Figures are the expected figures of a policy, in one category or in total. Costs are per
// request unless named otherwise; rates are probabilities per request.
type Figures struct {
	Cost         clearbar.Money `json:"cost_per_request_usd"`
	CostPer1K    clearbar.Money `json:"cost_per_1k_usd"`
	CostPerMonth clearbar.Money `json:"cost_per_month_usd"`
	// Quality is the probability that the delivered answer is good (failed requests count as
	// not good).
	Quality float64 `json:"quality"`
	Latency Latency `json:"latency"`
	// TTFB is the time to the first byte a streaming client gets: the answering model's first
	// token, or, on a validated step, the whole answer, which is held until it passes.
	TTFB Latency `json:"ttfb"`
	// Risk is the expected business cost of bad answers delivered and requests failed.
	Risk         clearbar.Money `json:"risk_per_request_usd"`
	RiskPerMonth clearbar.Money `json:"risk_per_month_usd"`
	PBad         float64        `json:"p_bad_answer"`
	PFailed      float64        `json:"p_failed"`
	PEscalated   float64        `json:"p_escalated"`
	PFallback    float64        `json:"p_fallback"`
	PFlagged     float64        `json:"p_flagged"`
	Retries      float64        `json:"retries_per_request"`
	// EscalationTax is the part of Cost spent on answers that were discarded.
	EscalationTax clearbar.Money `json:"escalation_tax_per_request_usd"`
	// JudgeCost is the part of Cost spent on validators' model calls: judges and agreement
	// checks.
	JudgeCost clearbar.Money `json:"judge_cost_per_request_usd"`
}

// CategoryResult is a policy's figures in one category.
type CategoryResult struct {
	Category  string `json:"category"`
	Route     string `json:"route"`
	RouteKind string `json:"route_kind"`
	Note      string `json:"note,omitempty"`
	Figures
	ClearsBar   bool               `json:"clears_bar"`
	MeetsBudget bool               `json:"meets_budget"`
	Mix         map[string]float64 `json:"answered_by"`
	// Simulated is the Monte Carlo estimate of the closed-form figures, as a check.
	Simulated SimCheck `json:"simulated"`
}

// SimCheck is what the simulation measured for figures the closed form computes exactly,
// with standard errors.
type SimCheck struct {
	Samples     int            `json:"samples"`
	Quality     float64        `json:"quality"`
	QualitySE   float64        `json:"quality_se"`
	Cost        clearbar.Money `json:"cost_per_request_usd"`
	MeanLatency float64        `json:"mean_latency_s"`
}

// PolicyResult is one policy's figures per category and in total.
type PolicyResult struct {
	Name        string           `json:"name"`
	Kind        string           `json:"kind"`
	Description string           `json:"description"`
	Categories  []CategoryResult `json:"categories"`
	Total       Figures          `json:"total"`
	// Clears says whether every category clears its quality bar and latency budget.
	Clears bool `json:"clears_all"`
	// Shortfalls says where and by how much the policy misses a bar or budget. Shortfall sums
	// their size: per category, the points of quality below its bar plus the percent its p95
	// is over its budget, weighted by the category's share of traffic. The closest policy,
	// when none clears, is the one with the smallest Shortfall.
	Shortfalls []string `json:"shortfalls,omitempty"`
	Shortfall  float64  `json:"shortfall,omitempty"`
	// SameAs names an earlier policy with exactly the same routes.
	SameAs string `json:"same_as,omitempty"`
}

// Verdict says why a policy was not recommended.
type Verdict struct {
	Policy string `json:"policy"`
	Reason string `json:"reason"`
}

func (e *estimator) report(policies []*Policy) *Report {
	s := e.spec
	r := &Report{
		Spec: s.Name, File: s.File, Date: e.opts.Today.Format(time.DateOnly),
		Volume: e.opts.Volume, Samples: e.perCell * len(s.Categories), Seed: e.opts.Seed,
		CatalogDate: s.Catalog.SourceDate(),
	}
	for _, c := range s.Categories {
		r.Categories = append(r.Categories, CategoryInfo{
			Name: c.Name, Share: float64(c.Share), QualityBar: c.Bar(),
			LatencyBudget: c.LatencyBudget.D().Seconds(),
			BadAnswer:     clearbar.Money(c.FailureImpact.BadAnswer), FailedRequest: c.FailureImpact.Failed(),
		})
	}
	for _, w := range s.Warnings {
		r.Warnings = append(r.Warnings, w.Error())
	}
	seen := map[string]string{}
	for _, p := range policies {
		pr := e.policyResult(p, e.world)
		sig := policySignature(p)
		if first, ok := seen[sig]; ok {
			pr.SameAs = first
		} else {
			seen[sig] = p.Name
		}
		r.Policies = append(r.Policies, pr)
	}
	e.recommend(r)
	r.OptimiseFirst = e.optimiseFirst(r, policies)
	return r
}

func policySignature(p *Policy) string {
	var b strings.Builder
	for _, cl := range p.cells {
		b.WriteString(routeKey(cl.route.Route, cl.route.Fallback))
		b.WriteByte(0)
	}
	return b.String()
}

// policyResult builds a policy's figures from its cells under world w (whose shares weight
// the total).
func (e *estimator) policyResult(p *Policy, w *world) *PolicyResult {
	s := e.spec
	pr := &PolicyResult{Name: p.Name, Kind: p.Kind, Description: p.Description, Clears: true}
	total, totalTTFB := newHist(), newHist()
	var tot struct {
		cost, risk, tax, judge, quality, bad, failed, esc, fb, flag, retries, mean float64
	}
	for i, c := range s.Categories {
		cl := p.cells[i]
		share := w.shareOf(c)
		cr := e.categoryResult(cl, share)
		cr.Note = p.Routes[i].Note
		pr.Categories = append(pr.Categories, cr)
		if !cr.ClearsBar {
			pr.Clears = false
			below := (c.Bar() - cr.Quality) * 100
			pr.Shortfall += share * below
			pr.Shortfalls = append(pr.Shortfalls, fmt.Sprintf("%s quality %s is %s below its bar %s", c.Name, qualityVs(cr.Quality, c.Bar()), pointsText(below), pct(c.Bar())))
		}
		if !cr.MeetsBudget {
			pr.Clears = false
			budget := c.LatencyBudget.D().Seconds()
			over := (cr.Latency.P95/budget - 1) * 100
			pr.Shortfall += share * over
			pr.Shortfalls = append(pr.Shortfalls, fmt.Sprintf("%s p95 %s is over its budget %s by %s (%s)", c.Name, secs(cr.Latency.P95), spec.FormatDuration(c.LatencyBudget.D()), secs(cr.Latency.P95-budget), overText(over)))
		}
		o := cl.closed
		tot.cost += share * o.cost
		tot.risk += share * riskOf(c, o)
		tot.tax += share * (o.cost - o.delivered - o.judgeCost)
		tot.judge += share * o.judgeCost
		tot.quality += share * o.quality
		tot.bad += share * o.bad
		tot.failed += share * o.failed
		tot.esc += share * o.escalated
		tot.fb += share * o.fellBack
		tot.flag += share * o.flagged
		tot.retries += share * o.retries
		tot.mean += share * o.latency
		total.addWeighted(cl.sim.hist, share)
		totalTTFB.addWeighted(cl.sim.ttfb, share)
	}
	q := total.quantiles(0.5, 0.95, 0.99)
	qf := totalTTFB.quantiles(0.5, 0.95, 0.99)
	f := Figures{
		Cost: money(tot.cost), Quality: tot.quality, Risk: money(tot.risk),
		Latency: Latency{Mean: tot.mean, P50: q[0], P95: q[1], P99: q[2]},
		TTFB:    Latency{Mean: totalTTFB.mean(), P50: qf[0], P95: qf[1], P99: qf[2]},
		PBad:    tot.bad, PFailed: tot.failed, PEscalated: tot.esc, PFallback: tot.fb, PFlagged: tot.flag,
		Retries: tot.retries, EscalationTax: money(tot.tax), JudgeCost: money(tot.judge),
	}
	f.CostPer1K = money(tot.cost * 1000)
	f.CostPerMonth = money(tot.cost * float64(e.opts.Volume))
	f.RiskPerMonth = money(tot.risk * float64(e.opts.Volume))
	pr.Total = f
	return pr
}

func riskOf(c *spec.Category, o outcome) float64 {
	return o.bad*float64(c.FailureImpact.BadAnswer) + o.failed*float64(c.FailureImpact.Failed())
}

func money(nanos float64) clearbar.Money { return clearbar.Money(math.Round(nanos)) }

func (e *estimator) categoryResult(cl *cell, share float64) CategoryResult {
	c, o := cl.cat, cl.closed
	monthly := share * float64(e.opts.Volume)
	cr := CategoryResult{
		Category: c.Name, Route: describeRoute(cl.route), RouteKind: cl.route.Route.Kind(),
		Figures: Figures{
			Cost: money(o.cost), CostPer1K: money(o.cost * 1000), CostPerMonth: money(o.cost * monthly),
			Quality: o.quality, Latency: cl.latency, TTFB: cl.ttfb,
			Risk: money(riskOf(c, o)), RiskPerMonth: money(riskOf(c, o) * monthly),
			PBad: o.bad, PFailed: o.failed, PEscalated: o.escalated, PFallback: o.fellBack, PFlagged: o.flagged,
			Retries: o.retries, EscalationTax: money(o.cost - o.delivered - o.judgeCost), JudgeCost: money(o.judgeCost),
		},
		ClearsBar:   o.quality >= c.Bar()-1e-12,
		MeetsBudget: cl.meetsBudget(),
		Mix:         o.mix,
	}
	if sim := cl.sim; sim != nil && sim.n > 0 {
		q := sim.good / sim.n
		cr.Simulated = SimCheck{
			Samples: int(sim.n), Quality: q, QualitySE: math.Sqrt(q * (1 - q) / sim.n),
			Cost: money(sim.cost / sim.n), MeanLatency: sim.hist.mean(),
		}
	}
	return cr
}

// describeRoute writes a route for people: "cascade small → strong, validate JSON Schema …".
func describeRoute(cr CategoryRoute) string {
	r := cr.Route
	var b strings.Builder
	switch r.Kind() {
	case "split":
		b.WriteString("split ")
		for i, a := range r.Split {
			if i > 0 {
				b.WriteString(" | ")
			}
			fmt.Fprintf(&b, "%s%% ", trimFloat(a.Weight*100))
			b.WriteString(describeRoute(CategoryRoute{Route: &a.Route}))
		}
	case "cascade":
		b.WriteString("cascade ")
		for i, st := range r.Cascade {
			if i > 0 {
				b.WriteString(" → ")
			}
			b.WriteString(st.Model.Name)
		}
	case "score":
		b.WriteString("score, " + r.Score.Describe())
	default:
		b.WriteString(r.Model.Name)
	}
	if vs, onFail := r.MainValidators(); len(vs) > 0 && r.Kind() != "split" {
		b.WriteString(" (validate: ")
		for i, v := range vs {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(v.Summary())
		}
		if onFail == spec.OnFailRetryOnce {
			b.WriteString("; retry once")
		}
		b.WriteString(")")
	}
	if len(cr.Fallback) > 0 {
		var names []string
		for _, f := range cr.Fallback {
			names = append(names, f.Name)
		}
		b.WriteString(", fallback " + strings.Join(names, ", "))
	}
	return b.String()
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// pct formats a probability as a percentage with enough digits to compare with a bar.
func pct(p float64) string { return fmt.Sprintf("%.2f%%", p*100) }

// qualityVs formats a quality for comparison with its bar: as pct does, with more digits
// when it misses the bar by less than pct shows, so that a quality below its bar never reads
// the same as the bar (94.9998% against a bar of 95.00%).
func qualityVs(q, bar float64) string {
	if q >= bar-1e-12 {
		return pct(q)
	}
	for d := 2; d < 12; d++ {
		qs := strconv.FormatFloat(q*100, 'f', d, 64)
		if qs != strconv.FormatFloat(bar*100, 'f', d, 64) {
			return qs + "%"
		}
	}
	return pct(q)
}

// pointsText writes a difference of percentages in points, with two significant digits when
// it is under a hundredth of a point: "7.00 points", "0.0002 points".
func pointsText(p float64) string {
	if p > 0 && p < 0.01 {
		return strconv.FormatFloat(roundSignificant(p, 2), 'f', -1, 64) + " points"
	}
	return strconv.FormatFloat(p, 'f', 2, 64) + " points"
}

// overText writes how far over its budget a p95 is, in percent of the budget.
func overText(p float64) string {
	if p >= 1 {
		return fmt.Sprintf("%.0f%%", p)
	}
	return strconv.FormatFloat(roundSignificant(p, 2), 'f', -1, 64) + "%"
}

// roundSignificant rounds x (above zero) to n significant digits.
func roundSignificant(x float64, n int) float64 {
	if x <= 0 {
		return x
	}
	k := math.Pow(10, float64(n)-math.Ceil(math.Log10(x)))
	return math.Round(x*k) / k
}

// secs formats seconds as a compact duration.
func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1fs", s)
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", s)
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// sortedMix returns a mix's models by descending share.
func sortedMix(mix map[string]float64) []string {
	names := make([]string, 0, len(mix))
	for k := range mix {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if mix[names[i]] != mix[names[j]] {
			return mix[names[i]] > mix[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}

// MeasuredSummary is what measurements said about the spec's assumptions.
type MeasuredSummary struct {
	From           string    `json:"from,omitempty"`
	Unmatched      int       `json:"unmatched_observations"`
	Contradictions int       `json:"contradictions"`
	Findings       []Finding `json:"findings"`
}
