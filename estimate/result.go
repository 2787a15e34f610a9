package estimate

import (
	"encoding/json"
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
	// UserRequests is the estimate per user request, for a spec with pipelines: Volume and
	// the figures above then count model calls.
	UserRequests *UserRequests `json:"user_requests,omitempty"`
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

// Latency is a latency distribution's mean and quantiles, in seconds. The mean is the Monte
// Carlo simulation's, as are the quantiles (except where the closed form has them exactly: one
// call of one model that is always available), and a category's or policy's latency and time
// to first byte (Figures.TTFB) come from the same simulated requests, so that the time to first
// byte is never above the latency, in mean or in any quantile.
//
// The latency of a route that answers nothing (every request fails) is no figure: JSON writes
// it as null, as the CSV report leaves its cells empty and the tables write "-".
type Latency struct {
	Mean float64 `json:"mean_s"`
	P50  float64 `json:"p50_s"`
	P95  float64 `json:"p95_s"`
	P99  float64 `json:"p99_s"`

	none bool // nothing is answered: written as null (see noAnswer)
}

// MarshalJSON writes l as an object of seconds, or null when nothing is answered.
func (l Latency) MarshalJSON() ([]byte, error) {
	if l.none {
		return []byte("null"), nil
	}
	type plain Latency
	return json.Marshal(plain(l))
}

// noAnswer marks the latency and time to first byte of f as no figure when f answers nothing
// (failsAll): what a failed request waits until it fails is not a response time.
func (f *Figures) noAnswer() {
	if f.failsAll() {
		f.Latency.none, f.TTFB.none = true, true
	}
}

// MarshalJSON writes f with its latency as null when every request fails, as Latency says.
func (f PipelineFigures) MarshalJSON() ([]byte, error) {
	if f.PFailed >= 1-1e-9 {
		f.Latency.none = true
	}
	type plain PipelineFigures
	return json.Marshal(plain(f))
}

// Figures are the expected figures of a policy, in one category or in total. Costs are per
// request unless named otherwise; rates are probabilities per request.
type Figures struct {
	Cost      clearbar.Money `json:"cost_per_request_usd"`
	CostPer1K clearbar.Money `json:"cost_per_1k_usd"`
	// CostPerMonth and RiskPerMonth are the volume's worth of Cost and Risk.
	CostPerMonth Dollars `json:"cost_per_month_usd"`
	// ServedCost is Cost with the failed requests charged what answering them would cost at the
	// routes' prices, or what they paid before they failed when that is more (see
	// world.servedCost): a failed request may cost less than an answered one, and this is what
	// policies that clear are compared by, so that failing is no saving. It is never less than
	// Cost, and equals it when nothing fails; zero when some requests could not be answered at
	// any price.
	ServedCost clearbar.Money `json:"cost_if_served_usd,omitempty"`
	// Quality is the probability that the delivered answer is good (failed requests count as
	// not good).
	Quality float64 `json:"quality"`
	Latency Latency `json:"latency"`
	// TTFB is the time to the first byte a streaming client gets: the answering model's first
	// visible token (after its reasoning tokens, for a model that reasons), or, on a validated
	// step, the whole answer, which is held until it passes.
	TTFB Latency `json:"ttfb"`
	// Risk is the expected business cost of bad answers delivered and requests failed.
	Risk         clearbar.Money `json:"risk_per_request_usd"`
	RiskPerMonth Dollars        `json:"risk_per_month_usd"`
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
	Category string `json:"category"`
	// Route describes the route (describeRoute); route is the route itself, for the reports'
	// shorter forms of it (routeIn).
	Route     string `json:"route"`
	route     CategoryRoute
	RouteKind string `json:"route_kind"`
	Note      string `json:"note,omitempty"`
	Figures
	// TTFBAssumed names the models whose time to first byte is assumed to be ttftShare of
	// their response time, for want of a ttft figure.
	TTFBAssumed []string `json:"ttfb_assumed_for,omitempty"`
	ClearsBar   bool     `json:"clears_bar"`
	// MeetsBudget says whether the route's p95 is within the category's latency budget (true
	// without a budget); false when the route answers nothing, which has no p95 to meet it.
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
	// Clears says whether every category with traffic clears its quality bar and latency
	// budget, and every pipeline with a latency budget meets it. A category with no traffic
	// (share 0, and no pipeline calling it) has a row but decides nothing.
	Clears bool `json:"clears_all"`
	// Shortfalls says where and by how much the policy misses a bar or budget. Shortfall sums
	// their size relative to what each category allows, in percent: per category, how far its
	// failure rate (1 − quality) is over the 1 − bar its bar allows, plus how far its p95 is
	// over its budget, weighted by the category's share of traffic; and per pipeline, how far
	// its end-to-end p95 is over its budget, weighted by its share of model calls (see
	// pipeline.go). The closest policy, when none clears, is the one with the smallest Shortfall.
	Shortfalls []string `json:"shortfalls,omitempty"`
	Shortfall  float64  `json:"shortfall,omitempty"`
	// SameAs names an earlier policy with exactly the same routes.
	SameAs string `json:"same_as,omitempty"`

	served float64 // Total.ServedCost before rounding: +Inf when a category answers nothing
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
		Volume: e.opts.Volume, Samples: e.samplesPerPolicy(), Seed: e.opts.Seed,
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
	for _, p := range policies {
		if p.Name == r.Recommended {
			if n := retryNote(p); n != "" {
				r.Recommendation += " " + n
			}
		}
	}
	r.OptimiseFirst = e.optimiseFirst(r, policies)
	return r
}

// retryNote says where a clearing policy clears a category's bar only because the estimate
// counts a retry_once retry as a new, independent answer: at temperature 0 a retry often
// repeats the answer it retries. It gives the quality if the retry always did.
func retryNote(p *Policy) string {
	var where []string
	for _, cl := range p.cells {
		if !cl.clears() || !cl.plan.retries() {
			continue
		}
		if q := cl.plan.withoutRetries().closed().quality; q < cl.cat.Bar()-1e-12 {
			where = append(where, fmt.Sprintf("%s (%s, against its bar %s; %s counting the retry)", cl.cat.Name, qualityVs(q, cl.cat.Bar()), pct(cl.cat.Bar()), pct(cl.closed.quality)))
		}
	}
	if len(where) == 0 {
		return ""
	}
	return fmt.Sprintf("Note that %s clears some bars only because the estimate counts a retry_once retry as a new answer, independent of the one it retries; at temperature 0 a retry often repeats the same answer, and if it always did, quality would be below the bar in %s.",
		p.Name, strings.Join(where, "; "))
}

// budgetNotes says which routes meet their latency budget only within the simulation's error
// (cell.withinError), once per route.
func budgetNotes(policies []*Policy) []string {
	var notes []string
	seen := map[*cell]bool{}
	for _, p := range policies {
		for _, cl := range p.cells {
			if seen[cl] || !cl.withinError() {
				continue
			}
			seen[cl] = true
			b := cl.cat.LatencyBudget.D()
			notes = append(notes, fmt.Sprintf("%s, %s: simulated p95 %s is over the %s budget by %s, less than the simulation's error at %s samples (±%s): counted as meeting it",
				cl.cat.Name, routeText(cl.route, routeLabel), secs(cl.latency.P95), spec.FormatDuration(b), secs(cl.latency.P95-b.Seconds()), groupInt(int64(cl.sim.n)), secs(cl.p95Tol)))
		}
	}
	return notes
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
		cost, served, risk, tax, judge, quality, bad, failed, esc, fb, flag, retries float64
	}
	// carrying is the cell of the one category with traffic, when only one has any: the
	// total's latency is then that category's, exact where the category's is.
	var carrying *cell
	withTraffic := 0
	for i, c := range s.Categories {
		cl := p.cells[i]
		share := w.shareOf(c)
		if share > 0 {
			carrying = cl
			withTraffic++
		}
		cr := e.categoryResult(cl, share)
		cr.Note = p.Routes[i].Note
		pr.Categories = append(pr.Categories, cr)
		// A category without traffic (share 0, and no pipeline calling it) delivers no
		// answer: its row is shown, but its bar and budget decide nothing.
		if share > 0 && (!cr.ClearsBar || !cr.MeetsBudget) {
			pr.Clears = false
			pr.Shortfall += share * cl.shortfall()
			for _, m := range cl.misses() {
				pr.Shortfalls = append(pr.Shortfalls, c.Name+" "+m)
			}
		}
		o := cl.closed
		tot.cost += share * o.cost
		if share > 0 {
			tot.served += share * cl.served
		}
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
		total.addWeighted(cl.sim.hist, share)
		totalTTFB.addWeighted(cl.sim.ttfb, share)
	}
	if misses, shortfall := e.pipelineMisses(p); len(misses) > 0 {
		pr.Clears = false
		pr.Shortfall += shortfall
		pr.Shortfalls = append(pr.Shortfalls, misses...)
	}
	q := total.quantiles(0.5, 0.95, 0.99)
	qf := totalTTFB.quantiles(0.5, 0.95, 0.99)
	lat := Latency{Mean: total.mean(), P50: q[0], P95: q[1], P99: q[2]}
	ttfb := Latency{Mean: totalTTFB.mean(), P50: qf[0], P95: qf[1], P99: qf[2]}
	if withTraffic == 1 {
		lat, ttfb = carrying.latency, carrying.ttfb
	}
	f := Figures{
		Cost: money(tot.cost), ServedCost: servedMoney(tot.served), Quality: tot.quality, Risk: money(tot.risk),
		Latency: lat, TTFB: ttfb,
		PBad: tot.bad, PFailed: tot.failed, PEscalated: tot.esc, PFallback: tot.fb, PFlagged: tot.flag,
		Retries: tot.retries, EscalationTax: money(tot.tax), JudgeCost: money(tot.judge),
	}
	f.CostPer1K = money(tot.cost * 1000)
	f.CostPerMonth = dollars(tot.cost * float64(e.opts.Volume))
	f.RiskPerMonth = dollars(tot.risk * float64(e.opts.Volume))
	f.noAnswer()
	pr.Total = f
	pr.served = tot.served
	return pr
}

// misses says where and by how much the route misses its category's bar and budget:
// "quality 88.00% is 7.00 points below its bar 95.00%", "p95 2.87s is over its budget 2s by
// 871ms (44%)".
func (cl *cell) misses() []string {
	c := cl.cat
	var out []string
	if q := cl.closed.quality; q < c.Bar()-1e-12 {
		m := fmt.Sprintf("quality %s is %s below its bar %s", qualityVs(q, c.Bar()), pointsText((c.Bar()-q)*100), pct(c.Bar()))
		if why := cl.failuresOnly(); why != "" {
			m += ": " + why
		}
		out = append(out, m)
	}
	if !cl.meetsBudget() {
		budget, p95 := c.LatencyBudget.D().Seconds(), cl.latency.P95
		out = append(out, fmt.Sprintf("p95 %s is over its budget %s by %s (%s)", secs(p95), spec.FormatDuration(c.LatencyBudget.D()), secs(p95-budget), overText((p95/budget-1)*100)))
	}
	return out
}

// failuresOnly explains a quality that misses its bar only because some requests fail: the
// answers delivered are good at least as often as the bar asks, and the requests that fail
// (a provider error after retries and fallbacks, a call cut by a timeout, flagged answers
// failed on_exhausted) count as not good. Empty when the route misses for other reasons too.
func (cl *cell) failuresOnly() string {
	o, bar := cl.closed, cl.cat.Bar()
	if o.failed <= 0 || o.failed >= 1 || o.good/(1-o.failed) < bar-1e-12 {
		return ""
	}
	if c, retries, ok := cl.plan.singleCall(); ok && c.pass >= bar-1e-12 && o.cuts == 0 {
		passes := fmt.Sprintf("%s's pass rate %s clears the bar", c.name, pct(c.pass))
		if math.Abs(c.pass-bar) <= 1e-12 {
			passes = c.name + "'s pass rate is the bar exactly"
		}
		return fmt.Sprintf("%s, and requests that fail (%s) count as misses; set availability or lower the bar", passes, availabilityText(c.avail, c.availDefault, retries))
	}
	return fmt.Sprintf("the answers delivered are good %s of the time, and requests that fail (%s of them) count as misses; check the availability and timeouts the estimate assumes, or lower the bar",
		pct(o.good/(1-o.failed)), shareOf(o.failed))
}

// failsAll reports whether every request fails: then nothing is paid and nothing is waited
// for, and the cost and latency are those of no answer at all.
func (f *Figures) failsAll() bool { return f.PFailed >= 1-1e-9 }

// servedMoney is a ServedCost: zero when infinite (no request is answered).
func servedMoney(nanos float64) clearbar.Money {
	if math.IsInf(nanos, 1) {
		return 0
	}
	return money(nanos)
}

func riskOf(c *spec.Category, o outcome) float64 {
	return o.bad*float64(c.FailureImpact.BadAnswer) + o.failed*float64(c.FailureImpact.Failed())
}

// money rounds an amount of nano-dollars to Money, saturating at Money's range (as
// clearbar.Money.Times does) instead of wrapping round to a figure of the wrong sign.
func money(nanos float64) clearbar.Money {
	switch r := math.Round(nanos); {
	case r >= math.MaxInt64:
		return math.MaxInt64
	case r <= math.MinInt64:
		return math.MinInt64
	default:
		return clearbar.Money(r)
	}
}

// Dollars is a monthly amount of US dollars: a cost, a risk, a saving or a change in them.
//
// Monthly figures are a volume's worth of per-request figures, and are kept in float64
// rather than in clearbar.Money, whose range (±$9.2 billion) they can exceed: the expected
// cost of bad answers that each cost thousands of dollars, at a hundred million requests a
// month, is tens of billions. Per-request figures stay exact Money. The amount is rounded to
// the nano-dollar (see dollars), so that a monthly figure reads as Money would, and marshals to
// the same decimal at any ordinary amount.
type Dollars float64

// nanosPerUSD is the number of nano-dollars (clearbar.Money's unit) in a dollar.
const nanosPerUSD = 1e9

// moneyUSDLimit bounds the amounts of dollars that convert to clearbar.Money, whose range is
// ±$9.22 billion, with room for rounding.
const moneyUSDLimit = 9e9

// dollars converts an amount of nano-dollars to Dollars, rounded to the nano-dollar.
func dollars(nanos float64) Dollars { return Dollars(math.Round(nanos) / nanosPerUSD) }

// String formats d as clearbar.Money does ("$1,234.56", "$0.0123"), beyond Money's range too
// ("$23,750,000,000.00").
func (d Dollars) String() string {
	usd := float64(d)
	if math.Abs(usd) < moneyUSDLimit {
		return clearbar.MoneyFromUSD(usd).String()
	}
	s := "$" + groupDigits(strconv.FormatFloat(math.Abs(usd), 'f', 2, 64))
	if usd < 0 {
		return "-" + s
	}
	return s
}

// Decimal returns d as a plain decimal number of dollars, such as "0.0000525" or
// "23750000000", without a currency sign or grouping.
func (d Dollars) Decimal() string { return strconv.FormatFloat(float64(d), 'f', -1, 64) }

// MarshalJSON writes d as a JSON number of dollars, as clearbar.Money does.
func (d Dollars) MarshalJSON() ([]byte, error) { return []byte(d.Decimal()), nil }

func (e *estimator) categoryResult(cl *cell, share float64) CategoryResult {
	c, o := cl.cat, cl.closed
	monthly := share * float64(e.opts.Volume)
	cr := CategoryResult{
		Category: c.Name, Route: describeRoute(cl.route), route: cl.route, RouteKind: cl.route.Route.Kind(),
		Figures: Figures{
			Cost: money(o.cost), CostPer1K: money(o.cost * 1000), CostPerMonth: dollars(o.cost * monthly), ServedCost: servedMoney(cl.served),
			Quality: o.quality, Latency: cl.latency, TTFB: cl.ttfb,
			Risk: money(riskOf(c, o)), RiskPerMonth: dollars(riskOf(c, o) * monthly),
			PBad: o.bad, PFailed: o.failed, PEscalated: o.escalated, PFallback: o.fellBack, PFlagged: o.flagged,
			Retries: o.retries, EscalationTax: money(o.cost - o.delivered - o.judgeCost), JudgeCost: money(o.judgeCost),
		},
		TTFBAssumed: cl.plan.ttfbAssumed(),
		ClearsBar:   o.quality >= c.Bar()-1e-12,
		MeetsBudget: cl.meetsBudget(),
		Mix:         o.mix,
	}
	if cr.failsAll() {
		cr.MeetsBudget = false
	}
	cr.noAnswer()
	if sim := cl.sim; sim != nil && sim.n > 0 {
		q := sim.good / sim.n
		cr.Simulated = SimCheck{
			Samples: int(sim.n), Quality: q, QualitySE: math.Sqrt(q * (1 - q) / sim.n),
			Cost: money(sim.cost / sim.n), MeanLatency: sim.hist.mean(),
		}
	}
	return cr
}

// routeIn writes the result's route in form f; a result that Run did not make (one read back
// from JSON) has only its description.
func (c *CategoryResult) routeIn(f routeForm) string {
	if c.route.Route == nil {
		return c.Route
	}
	return routeText(c.route, f)
}

// describeRoute writes a route for people: "cascade small → strong (validate: JSON Schema …)".
func describeRoute(cr CategoryRoute) string { return routeText(cr, routeFull) }

// routeForm is how much of a route routeText writes.
type routeForm int

const (
	// routeFull writes the validators in full, what a failed check does, and the fallbacks:
	// "cascade small → strong (validate: JSON Schema x.json; retry once), fallback mid".
	routeFull routeForm = iota
	// routeCompact writes the validators as a marker, for a table cell: "cascade small →
	// strong [validated], fallback mid".
	routeCompact
	// routeLabel writes the models and fallbacks, for a chart's label: "small → strong,
	// fallback mid".
	routeLabel
	// routeModels writes the models only: "small → strong".
	routeModels
)

// routeText writes a route in form f. The route's own structure decides what is written,
// never the text of a validator's summary, which may hold anything a spec's author wrote.
func routeText(cr CategoryRoute, f routeForm) string {
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
			b.WriteString(routeText(CategoryRoute{Route: &a.Route}, f))
		}
	case "cascade":
		if f == routeFull || f == routeCompact {
			b.WriteString("cascade ")
		}
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
		switch f {
		case routeFull:
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
		case routeCompact:
			b.WriteString(" [validated]")
		}
	}
	if len(cr.Fallback) > 0 && f != routeModels {
		var names []string
		for _, fb := range cr.Fallback {
			names = append(names, fb.Name)
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

// secs formats seconds as a compact duration with three significant digits, in milliseconds
// below a second and in seconds above, however long: "850ms", "3.40s", "60.0s", "125s".
func secs(s float64) string {
	// Rounded, not truncated: 0.7 s computed as 0.6999999999999998 is 700ms, and a measured
	// 713.6ms is 714ms, as spec.FormatDuration writes it into a spec.
	d := time.Duration(s * float64(time.Second)).Round(time.Millisecond)
	switch {
	case d >= 100*time.Second:
		return fmt.Sprintf("%.0fs", s)
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

// availabilityText says what makes a model's requests fail, for a quality that misses its bar
// only by them: "availability 0.999, the default, retried once".
func availabilityText(avail float64, byDefault bool, retries int) string {
	s := "availability " + strconv.FormatFloat(avail, 'g', -1, 64)
	if byDefault {
		s += ", the default"
	}
	switch retries {
	case 0:
		s += ", not retried"
	case 1:
		s += ", retried once"
	default:
		s += fmt.Sprintf(", retried %d times", retries)
	}
	return s
}
