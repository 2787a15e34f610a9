package review

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// analysis is one run of Analyze: it builds the report's comparisons, corrects their
// p-values, and turns what is significant into triggers.
type analysis struct {
	r          *Review
	s          *spec.Spec
	opts       Options
	base       *estimate.Report
	specPolicy *estimate.PolicyResult
	conf       float64
	rep        *Report
	// tested holds the comparisons that carry a test, for Holm's correction.
	tested []*Comparison
	// byCat holds each category's requests, oldest first.
	byCat [][]*request
	// assumed holds the estimator's assumed values by category, model and finding name.
	assumed map[[3]string]float64
}

func newAnalysis(r *Review, base *estimate.Report, specPolicy *estimate.PolicyResult) *analysis {
	a := &analysis{r: r, s: r.spec, opts: r.opts, base: base, specPolicy: specPolicy, conf: 1 - r.opts.Alpha,
		byCat: make([][]*request, len(r.spec.Categories)), assumed: map[[3]string]float64{}}
	slices.SortStableFunc(r.reqs, func(x, y request) int { return cmp.Compare(x.time, y.time) })
	for i := range r.reqs {
		rq := &r.reqs[i]
		a.byCat[rq.cat] = append(a.byCat[rq.cat], rq)
	}
	// The estimator's own reading of the assumptions: latency quantiles per category and
	// model, and token bands, as its measured-estimate report compares them.
	for _, f := range estimate.Measure(r.spec, r.obs).Findings(r.spec) {
		a.assumed[[3]string{f.Category, f.Model, f.What}] = f.Assumed
		for _, m := range f.Models {
			// A finding pooled over the category's models (its tokens) is each one's too.
			a.assumed[[3]string{f.Category, m, f.What}] = f.Assumed
		}
	}
	return a
}

func (a *analysis) run() *Report {
	r, s := a.r, a.s
	rep := &Report{
		Spec: s.Name, File: s.File, Date: a.opts.Today.Format(time.DateOnly), Since: a.opts.Since, Until: a.opts.Until,
		Requests: len(r.reqs), DryRuns: r.dryRuns, Unmatched: r.unmatched, Embeddings: r.embeddings,
		Alpha: a.opts.Alpha, Correction: "Holm", Confidence: a.conf, Triggers: []Trigger{},
	}
	if s.Catalog != nil {
		rep.CatalogDate = s.Catalog.SourceDate()
	}
	if n := len(r.reqs); n > 0 {
		rep.First, rep.Last = time.Unix(0, r.reqs[0].time).UTC(), time.Unix(0, r.reqs[n-1].time).UTC()
	}
	a.rep = rep
	for name, n := range r.unmatchedNames {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s decision(s) in category %q, which the spec does not have, were left out", groupInt(n), name))
	}
	slices.Sort(rep.Notes)
	if r.timeScaled > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s decision(s) were answered by simulated providers at a time scale (serve --time-scale): their latencies are divided by it, to compare the simulated latencies with the spec's", groupInt(r.timeScaled)))
	}
	if r.dryRuns > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s dry-run decision(s) were left out", groupInt(r.dryRuns)))
	}
	if r.embeddings > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s embeddings request(s), not reviewed", groupInt(r.embeddings)))
	}
	if n := r.rejected[refusedRequest] + r.rejected[refusedKey] + r.rejected[refusedRateLimit]; n > 0 {
		var why []string
		for _, c := range []struct {
			reason int
			what   string
		}{{refusedRequest, "malformed or naming an unknown model"}, {refusedKey, "without a valid key"}, {refusedRateLimit, "over a key's rate limit"}} {
			if k := r.rejected[c.reason]; k > 0 {
				why = append(why, fmt.Sprintf("%s %s", groupInt(k), c.what))
			}
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s request(s) refused before they were given a category (%s) were left out", groupInt(n), strings.Join(why, ", ")))
	}
	a.mix()
	for i := range s.Categories {
		rep.Categories = append(rep.Categories, a.category(i))
	}
	a.correct()
	rep.Prices = priceChanges(s)
	rep.Reviews = reviewDates(s, a.opts.Today)
	rep.Triggers = a.triggers()
	rep.Experiments = a.experiments()
	rep.ActionNeeded = len(rep.Triggers) > 0
	return rep
}

// add records a comparison in a category view and, when it carries a test, in the family.
func (a *analysis) add(cv *CategoryView, c *Comparison) {
	cv.Comparisons = append(cv.Comparisons, c)
	if c.Tested {
		a.tested = append(a.tested, c)
	}
}

// correct applies Holm's correction over every test of the review.
func (a *analysis) correct() {
	ps := make([]float64, len(a.tested))
	for i, c := range a.tested {
		ps[i] = c.P
	}
	for i, adj := range stats.Holm(ps) {
		c := a.tested[i]
		c.PAdjusted = adj
		c.Significant = adj <= a.opts.Alpha
	}
	a.rep.Tests = len(a.tested)
}

// mix tests the categories' traffic shares against the spec's with Pearson's chi-square.
func (a *analysis) mix() {
	s := a.s
	counts := make([]int, len(s.Categories))
	probs := make([]float64, len(s.Categories))
	n := 0
	minExpected := math.Inf(1)
	for i, c := range s.Categories {
		counts[i] = len(a.byCat[i])
		probs[i] = float64(c.Share)
		n += counts[i]
	}
	for _, p := range probs {
		if p > 0 {
			minExpected = math.Min(minExpected, float64(n)*p)
		}
	}
	if len(s.Categories) < 2 {
		return
	}
	stat, df, p := stats.ChiSquareGOF(counts, probs)
	c := &Comparison{Metric: "traffic mix", Unit: UnitStatistic, Assumed: Num(df), From: "spec shares",
		Measured: Num(stat), Low: Num(math.NaN()), High: Num(math.NaN()), N: n,
		Method: fmt.Sprintf("chi-square goodness of fit, %d df", df)}
	switch {
	case a.r.unmatched > 0:
		// Decisions of a category the spec no longer has (renamed or removed since): their
		// traffic went somewhere the spec's shares cannot say, so a shift would be the edit's.
		c.Note = fmt.Sprintf("not tested: %s decision(s) of categories the spec does not have (%s) were left out, so the spec's categories changed within the window; review a window that starts after the change",
			groupInt(a.r.unmatched), quotedNames(a.r.unmatchedNames))
	case minExpected >= 5:
		c.Tested, c.P, c.Trigger = true, p, TriggerMix
		a.tested = append(a.tested, c)
	default:
		c.Note = "too little traffic for the chi-square test (a category expects fewer than 5 requests)"
	}
	a.rep.Mix = c
}

// quotedNames lists the names of a count map, quoted, in order.
func quotedNames(m map[string]int) string {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		names = append(names, strconv.Quote(name))
	}
	return strings.Join(names, ", ")
}

// category builds one category's comparisons.
func (a *analysis) category(i int) *CategoryView {
	s, c, reqs := a.s, a.s.Categories[i], a.byCat[i]
	base := a.specPolicy.Categories[i]
	cv := &CategoryView{Name: c.Name, Route: base.Route, Requests: len(reqs)}
	// The share comes first, untested: the mix test covers every share at once. It is of
	// every classified request, those of categories the spec no longer has included.
	total := a.rep.Requests + a.r.unmatched
	lo, hi := stats.Wilson(len(reqs), total, a.conf)
	// With pipelines the share is of model calls, derived from the pipelines' shares and the
	// categories' own (spec.Category.Share), not written.
	from := "spec"
	if len(s.Pipelines) > 0 {
		from = "spec (pipelines)"
	}
	cv.Comparisons = append(cv.Comparisons, &Comparison{Category: c.Name, Metric: "share", Unit: UnitRate,
		Assumed: Num(c.Share), From: from, Measured: Num(ratio(len(reqs), total)), Low: Num(lo), High: Num(hi), N: total})
	if len(reqs) == 0 {
		cv.Notes = append(cv.Notes, "no traffic in the window")
		return cv
	}

	var esc, cost stats.Moments
	var escalations, retries, fellBack int
	var cut [3]int // requests by request.cut
	maxEsc := int32(0)
	lat := make([]float64, 0, len(reqs))
	for _, rq := range reqs {
		esc.Add(float64(rq.escalations))
		escalations += int(rq.escalations)
		maxEsc = max(maxEsc, rq.escalations)
		retries += int(rq.retries)
		if rq.fellBack {
			fellBack++
		}
		cut[rq.cut]++
		if rq.cut != cutNone {
			// Stopped part way: its latency is when it was cut, its cost a partial answer's.
			continue
		}
		cost.Add(rq.cost.USD())
		lat = append(lat, rq.latency)
	}
	slices.Sort(lat)
	if cut[cutShutdown]+cut[cutClient] > 0 {
		var why []string
		if k := cut[cutShutdown]; k > 0 {
			why = append(why, fmt.Sprintf("%s cut by the gateway as it shut down", groupInt(k)))
		}
		if k := cut[cutClient]; k > 0 {
			why = append(why, fmt.Sprintf("%s the client hung up on", groupInt(k)))
		}
		cv.Notes = append(cv.Notes, fmt.Sprintf("%s canceled request(s) (%s) were left out of the latency and the cost per request: their latency is when they were cut, their cost that of an answer stopped part way", groupInt(cut[cutShutdown]+cut[cutClient]), strings.Join(why, ", ")))
	}
	n := len(reqs)

	// Escalations: a rate when no request can escalate twice, else a mean count.
	if steps := maxSteps(c.Route, s); steps > 1 {
		if maxEsc <= 1 && steps <= 2 {
			a.add(cv, a.rateRow(c.Name, "escalation rate", escalations, n, base.PEscalated, false, TriggerEscalation))
		} else {
			a.add(cv, a.meanRow(c.Name, "escalations per request", UnitCount, &esc, base.PEscalated, 0, "estimate", TriggerEscalation))
		}
	}
	// Fewer fallbacks and retries than assumed are no reason to recalculate: those test for a
	// rise only.
	a.add(cv, a.rateRow(c.Name, "fallback rate", fellBack, n, base.PFallback, true, TriggerFallback))
	a.add(cv, a.poissonRow(c.Name, "retries per request", retries, n, base.Retries, TriggerRetries))
	a.add(cv, a.meanRow(c.Name, "cost per request", UnitUSD, &cost, base.Cost.USD(), a.opts.Tolerance, "estimate", TriggerCost))
	cd := a.r.cats[i]
	if m := a.modelWithFinding(c, "tokens in"); m != "" {
		a.add(cv, a.meanRow(c.Name, "tokens in per call", UnitTokens, &cd.tokensIn, a.assumed[[3]string{c.Name, m, "tokens in"}], a.opts.Tolerance, "spec", TriggerTokens))
		a.add(cv, a.meanRow(c.Name, "tokens out per call", UnitTokens, &cd.tokensOut, a.assumed[[3]string{c.Name, m, "tokens out"}], a.opts.Tolerance, "spec", TriggerTokens))
	}
	if hit := cd.cache.Value(); c.Tokens.CacheHit > 0 || hit > 0 {
		row := a.ratioRow(c.Name, "cache hit", &cd.cache, float64(c.Tokens.CacheHit), a.opts.Tolerance, "spec", TriggerTokens)
		if hit == 0 {
			row.Note = strings.TrimPrefix(row.Note+"; no call recorded a cached token: a provider that does not report them (some OpenAI-compatible servers) reads as no cache hits", "; ")
		}
		a.add(cv, row)
	}
	a.latencyRows(cv, c, base, lat)
	a.modelRows(cv, i)
	a.rises(cv, reqs)
	a.templates(cv, reqs)
	if !c.Route.Validated() {
		cv.Notes = append(cv.Notes, "the route does not validate answers, so traffic says nothing about pass rates here: measure them with clearbar eval")
	}
	return cv
}

// maxSteps returns the most steps a request of the route can take.
func maxSteps(r *spec.Route, s *spec.Spec) int {
	switch r.Kind() {
	case "split":
		n := 0
		for _, arm := range r.Split {
			n = max(n, maxSteps(&arm.Route, s))
		}
		return n
	case "score":
		n := 0
		for i := range r.Score.Models {
			n = max(n, len(r.ScoreSteps(s, i)))
		}
		return n
	}
	return len(r.Steps(s))
}

// modelWithFinding returns a model of the category with an estimator finding of that name.
func (a *analysis) modelWithFinding(c *spec.Category, what string) string {
	for _, m := range a.s.Models {
		if _, ok := a.assumed[[3]string{c.Name, m.Name, what}]; ok {
			return m.Name
		}
	}
	return ""
}

// latencyRows compares the category's request latency with the estimate (for context) and its
// 95th percentile with the latency budget (tested: is it over?).
func (a *analysis) latencyRows(cv *CategoryView, c *spec.Category, base estimate.CategoryResult, lat []float64) {
	for _, q := range []struct {
		name string
		p    float64
		est  float64
	}{{"latency p50", 0.5, base.Latency.P50}, {"latency p95", 0.95, base.Latency.P95}} {
		row := a.quantileRow(c.Name, "", q.name, lat, q.p, q.est, "estimate (simulated)", "")
		row.Note = "requests end to end; the estimate is a simulation of the spec's assumptions, shown for context (each model's latency is tested below)"
		if a.r.timeScaled > 0 {
			row.Note = "requests end to end; the estimate is a simulation of the spec's assumptions, shown for context (each model's latency is shown below beside its assumption, not tested: answered at a time scale)"
		}
		cv.Comparisons = append(cv.Comparisons, row)
	}
	budget := c.LatencyBudget.D().Seconds()
	if budget <= 0 {
		return
	}
	lo, hi := stats.QuantileCI(lat, 0.95, a.conf)
	row := &Comparison{Category: c.Name, Metric: "latency p95 against the budget", Unit: UnitSeconds, Assumed: Num(budget), From: "budget",
		Measured: Num(stats.Quantile(lat, 0.95)), Low: Num(lo), High: Num(hi), N: len(lat)}
	switch {
	case a.r.timeScaled > 0:
		row.Note = timeScaledNote
	case len(lat) >= MinSamples:
		row.Tested, row.Method, row.Trigger = true, "one-sided exact binomial on order statistics (is p95 over the budget?)", TriggerLatency
		row.P = stats.QuantileAbove(lat, 0.95, budget)
	default:
		row.Note = notTested()
	}
	a.add(cv, row)
}

// timeScaledNote is the note of a latency row of calls answered at a time scale, which is
// shown and not tested: divided by the scale, the gateway's own overhead and queueing (a
// fraction of a millisecond alone, more under load) is magnified by 1/scale.
const timeScaledNote = "answered at a time scale (serve --time-scale), which magnifies the gateway's own overhead by 1/scale: shown, not tested"

// modelRows compares each model's pass rate and latency in the category with the assumptions.
func (a *analysis) modelRows(cv *CategoryView, ci int) {
	c := a.s.Categories[ci]
	var names []string
	for k := range a.r.cells {
		if int(k.cat) == ci {
			names = append(names, k.model)
		}
	}
	slices.SortFunc(names, func(x, y string) int { return cmp.Compare(modelOrder(a.s, x), modelOrder(a.s, y)) })
	for _, name := range names {
		cl := a.r.cells[cellKey{int32(ci), name}]
		for ctx := range passContexts {
			if pc := &cl.pass[ctx]; pc.judged+pc.unjudged+pc.byEarlier > 0 {
				a.add(cv, a.passRow(c, name, ctx, pc))
			}
		}
		if cl.offStart > 0 {
			cv.Notes = append(cv.Notes, fmt.Sprintf("%s: %s validated answer(s) on the score route's first step, as a fallback of the model the score started on, were left out of its pass rates: the score picked those requests for another model", name, groupInt(cl.offStart)))
		}
		slices.Sort(cl.latency)
		for _, q := range []struct {
			what string
			p    float64
		}{{"latency p50", 0.5}, {"latency p95", 0.95}} {
			assumed, ok := a.assumed[[3]string{c.Name, name, q.what}]
			if !ok || assumed <= 0 {
				continue
			}
			if a.r.timeScaled > 0 {
				row := a.quantileRow(c.Name, name, q.what, cl.latency, q.p, assumed, "spec", "")
				row.Note = timeScaledNote
				a.add(cv, row)
				continue
			}
			a.add(cv, a.quantileRow(c.Name, name, q.what, cl.latency, q.p, assumed, "spec", TriggerLatency))
		}
	}
}

func modelOrder(s *spec.Spec, name string) int {
	for i, m := range s.Models {
		if m.Name == name {
			return i
		}
	}
	return len(s.Models)
}

// passMetrics names the pass-rate comparison of each context (passCategory, …), and
// passKeys the assumption under assume: it is compared with.
var (
	passMetrics = [passContexts]string{"pass rate", "score pass rate", "escalated pass rate"}
	passKeys    = [passContexts]string{"pass_rate", "score_pass_rate", "escalated_pass_rate"}
)

// passKey returns the assume: key a pass-rate comparison's metric was tested against, or "".
func passKey(metric string) string {
	for i, m := range passMetrics {
		if m == metric {
			return passKeys[i]
		}
	}
	return ""
}

// passRow compares a model's pass rate in one context with the assumption that describes the
// same requests: over the category's requests as a whole (the first step of a static route or
// cascade) with assume.pass_rate, on the requests a score route started on it with
// assume.score_pass_rate, on the requests escalated to it with assume.escalated_pass_rate. A
// context without its assumption is shown, not tested: a model's pass rate on requests a score
// picked or an earlier step escalated is not its pass rate over the category.
//
// Production traffic has no grades, only validator verdicts, and a validator that catches a
// bad answer with probability d and flags a good one with probability f passes answers at the
// rate v = q(1−f) + (1−q)(1−d) when the true pass rate is q. The test is the exact binomial
// test of the verdicts against the v the assumed q implies; the pass rate shown is the q the
// measured v implies, q̂ = (v̂ − (1−d)) / (d − f), with its interval mapped the same way and
// each end clipped to [0, 1] (the note says so). A v̂ below 1−d or above 1−f is no pass rate's:
// the row then shows the verdicts' share, untested, and says the assumed strength does not fit
// (see strengthMisfit).
// Answers the validators could not judge count neither way, and escalated answers an agreement
// check compared with an earlier step's model are left out (see earlierChecker).
func (a *analysis) passRow(c *spec.Category, name string, ctx int, pc *passCount) *Comparison {
	st := c.Strength()
	d, f := float64(st.Detect), float64(st.FalseAlarm)
	k, n := pc.passed, pc.judged
	metric := passMetrics[ctx]
	var left []string
	if pc.unjudged > 0 {
		left = append(left, fmt.Sprintf("%s answer(s) the validators could not judge (not applicable to the request, or unverified) were left out", groupInt(pc.unjudged)))
	}
	if pc.byEarlier > 0 {
		left = append(left, fmt.Sprintf("%s escalated answer(s) were left out: an agreement check compared them with %s, which answered an earlier step of the same request and failed validation there, so the check fails an answer exactly when it is right and the earlier one wrong: its verdicts measure disagreement with %s, not correctness",
			groupInt(pc.byEarlier), strings.Join(pc.checkers, ", "), strings.Join(pc.checkers, ", ")))
	}
	var q0 float64
	ok := false
	m := a.s.Model(name)
	var why string // why the comparison is not tested, when it has no assumption to test
	switch ctx {
	case passCategory:
		if m != nil {
			q0, ok = c.PassRate(m)
		}
	case passScore:
		var p spec.Prob
		p, ok = c.Assume.ScorePassRate[name]
		q0 = float64(p)
		why = fmt.Sprintf("not comparable, not tested: the score route sends %s the requests its score picks, so its pass rate there is not its pass rate over the category (assume.pass_rate); assume.score_pass_rate states it (clearbar replay --calibrate measures it)", name)
	case passEscalated:
		var p spec.Prob
		p, ok = c.Assume.EscalatedPassRate[name]
		q0 = float64(p)
		why = fmt.Sprintf("not tested: the requests escalated to %s are harder than the category's on the whole, so its pass rate there is not assume.pass_rate; assume.escalated_pass_rate states it (clearbar replay --calibrate measures it)", name)
	}
	note := func(row *Comparison, s ...string) *Comparison {
		row.Note = strings.Join(append(s, left...), "; ")
		return row
	}
	nan := Num(math.NaN())
	if n == 0 {
		// Nothing judged: every answer was left out.
		row := &Comparison{Category: c.Name, Model: name, Metric: metric, Unit: UnitRate, Assumed: nan, Measured: nan, Low: nan, High: nan}
		if ok {
			row.Assumed, row.From = Num(q0), "spec"
		}
		return note(row, "no answer judged")
	}
	v := float64(k) / float64(n)
	vlo, vhi := stats.Wilson(k, n, a.conf)
	if d-f < 0.05 || !ok && ctx == passCategory {
		row := &Comparison{Category: c.Name, Model: name, Metric: "validator pass rate", Unit: UnitRate,
			Assumed: nan, Measured: Num(v), Low: Num(vlo), High: Num(vhi), N: n}
		if ctx != passCategory {
			row.Metric += ", " + strings.TrimSuffix(metric, " pass rate")
		}
		if d-f < 0.05 {
			return note(row, fmt.Sprintf("the validators' detect %.2f and false alarm %.2f are too close to tell good answers from bad", d, f))
		}
		return note(row, "no pass-rate assumption for this model here")
	}
	v0 := q0*(1-f) + (1-q0)*(1-d)
	if vhi < 1-d || vlo > 1-f {
		// The verdicts pass fewer answers than the validators pass of bad answers alone, or
		// more than they pass of good ones, beyond chance (the whole interval is out of
		// range): no pass rate gives that share, so the figure the formula gives is not a pass
		// rate and is neither shown nor tested as one (nor written into the spec). The
		// verdicts' share is shown instead. A share out of range within chance (a few answers,
		// all accepted, against a small false-alarm rate) is the boundary pass rate, clipped.
		row := &Comparison{Category: c.Name, Model: name, Metric: "validator pass rate", Unit: UnitRate,
			Assumed: nan, Measured: Num(v), Low: Num(vlo), High: Num(vhi), N: n}
		if ctx != passCategory {
			row.Metric += ", " + strings.TrimSuffix(metric, " pass rate")
		}
		if ok {
			row.Assumed, row.From = Num(v0), "spec"
		}
		return note(row, strengthMisfit(c.Name, n, v, vlo, vhi, d, f, ok, v0), why)
	}
	implied := func(v float64) float64 { return (v - (1 - d)) / (d - f) }
	lo, hi, clipped := clipInterval(implied(vlo), implied(vhi))
	point := min(max(implied(v), lo), hi) // within its interval, as clipped
	if !ok {
		row := &Comparison{Category: c.Name, Model: name, Metric: metric, Unit: UnitRate,
			Assumed: nan, Measured: Num(point), Low: Num(lo), High: Num(hi), N: n}
		return note(row, fmt.Sprintf("validators passed %s of answers (detect %.2f, false alarm %.2f); the pass rate shown is what that implies%s", pct(v), d, f, clipped), why)
	}
	row := &Comparison{Category: c.Name, Model: name, Metric: metric, Unit: UnitRate,
		Assumed: Num(q0), From: "spec", Measured: Num(point), Low: Num(lo), High: Num(hi), N: n}
	parts := []string{fmt.Sprintf("validators passed %s of answers, %s expected (detect %.2f, false alarm %.2f); the pass rate shown is what that implies",
		pct(v), pct(v0), d, f)}
	if ctx != passCategory {
		parts[0] += fmt.Sprintf(", against assume.%s", passKeys[ctx])
	}
	parts[0] += clipped
	if n >= MinSamples {
		row.Tested, row.Method, row.Trigger = true, "exact binomial (validator verdicts)", TriggerPassRate
		row.P = stats.BinomialTest(k, n, v0)
	} else {
		parts = append(parts, notTested())
	}
	return note(row, parts...)
}

// strengthMisfit says why verdicts that passed a share v (interval vlo–vhi) of a category's n
// answers give no pass rate: v lies below 1−d, the share validators of strength d, f pass of
// bad answers alone, or above 1−f, the share they pass of good ones, and no pass rate gives
// it. When the interval too lies beyond, the assumed strength does not fit the traffic; when
// only v does, few answers may be why. assumed says whether the spec states a pass rate, v0
// the share of verdicts that implies.
func strengthMisfit(category string, n int, v, vlo, vhi, d, f float64, assumed bool, v0 float64) string {
	var s string
	if v < 1-d {
		s = fmt.Sprintf("validators accepted %s of answers, fewer than the 1−detect = %s they accept of bad answers alone", pct(v), pct(1-d))
	} else {
		s = fmt.Sprintf("validators accepted %s of answers, more than the 1−false alarm = %s they accept of good answers", pct(v), pct(1-f))
	}
	if assumed {
		s += fmt.Sprintf(" (the assumed pass rate implies %s)", pct(v0))
	}
	calibrate := fmt.Sprintf("clearbar validate calibrate SPEC --category %s OUTCOMES --update", category)
	if vhi < 1-d || vlo > 1-f {
		return s + fmt.Sprintf(": the assumed validator strength (detect %g, false alarm %g) does not fit this traffic, so the verdicts give no pass rate and none is shown or tested; calibrate it (%s)", d, f, calibrate)
	}
	return s + fmt.Sprintf(": no pass rate gives that share at the assumed validator strength (detect %g, false alarm %g), so none is shown or tested; the interval reaches what that strength allows, so at %s answer(s) this may be chance; if it persists, calibrate the validators (%s)", d, f, groupInt(n), calibrate)
}

// clipInterval clips an interval's ends to [0, 1] each, and says which it clipped.
func clipInterval(lo, hi float64) (float64, float64, string) {
	var ends []string
	if lo < 0 {
		lo, ends = 0, append(ends, "lower end at 0%")
	}
	if hi > 1 {
		hi, ends = 1, append(ends, "upper end at 100%")
	}
	if len(ends) == 0 {
		return lo, hi, ""
	}
	return lo, hi, " (its interval clipped: " + strings.Join(ends, ", ") + ")"
}

// notTested says why a comparison carries no test.
func notTested() string { return fmt.Sprintf("fewer than %d observations: not tested", MinSamples) }

// rateRow is a category's rate k/n against the estimate's p0, by the exact binomial test:
// two-sided, or, when rise is set, one-sided for a rise.
func (a *analysis) rateRow(cat, metric string, k, n int, p0 float64, rise bool, trigger string) *Comparison {
	lo, hi := stats.Wilson(k, n, a.conf)
	p0 = math.Min(1, math.Max(0, p0))
	row := &Comparison{Category: cat, Metric: metric, Unit: UnitRate, Assumed: Num(p0), From: "estimate",
		Measured: Num(ratio(k, n)), Low: Num(lo), High: Num(hi), N: n}
	switch {
	case n < MinSamples:
		row.Note = notTested()
	case rise:
		row.Tested, row.Method, row.Trigger = true, "one-sided exact binomial (did it rise?)", trigger
		row.P = stats.BinomialSF(k-1, n, p0)
	default:
		row.Tested, row.Method, row.Trigger = true, "exact binomial", trigger
		row.P = stats.BinomialTest(k, n, p0)
	}
	return row
}

// poissonRow is a category's count of events over n requests against the estimate's mu0 per
// request, by the one-sided exact Poisson test of the total for a rise.
func (a *analysis) poissonRow(cat, metric string, k, n int, mu0 float64, trigger string) *Comparison {
	lo, hi := stats.PoissonCI(k, a.conf)
	row := &Comparison{Category: cat, Metric: metric, Unit: UnitCount, Assumed: Num(mu0), From: "estimate",
		Measured: Num(ratio(k, n)), Low: Num(lo / float64(n)), High: Num(hi / float64(n)), N: n}
	if n >= MinSamples {
		row.Tested, row.Method, row.Trigger = true, "one-sided exact Poisson on the total (did it rise?)", trigger
		row.P = stats.PoissonSF(k-1, mu0*float64(n))
	} else {
		row.Note = notTested()
	}
	return row
}

// meanRow is a mean against mu0, by the z test with the sample's standard error, of whether
// it lies beyond mu0 ± tol·mu0.
func (a *analysis) meanRow(cat, metric, unit string, m *stats.Moments, mu0, tol float64, from, trigger string) *Comparison {
	z := stats.NormalQuantile(1 - a.opts.Alpha/2)
	row := &Comparison{Category: cat, Metric: metric, Unit: unit, Assumed: Num(mu0), From: from,
		Measured: Num(m.Mean()), Low: Num(m.Mean() - z*m.SE()), High: Num(m.Mean() + z*m.SE()), N: m.N()}
	if m.N() >= MinSamples {
		row.Tested, row.Method, row.Trigger = true, "z test (normal approximation)"+beyond(tol), trigger
		row.P = stats.ZTest(m.Mean(), m.SE(), mu0*(1-tol), mu0*(1+tol))
	} else {
		row.Note = notTested()
	}
	return row
}

// ratioRow is a ratio of sums against mu0, like meanRow: a z test with the delta method's
// standard error.
func (a *analysis) ratioRow(cat, metric string, r *stats.Ratio, mu0, tol float64, from, trigger string) *Comparison {
	z := stats.NormalQuantile(1 - a.opts.Alpha/2)
	v, se := r.Value(), r.SE()
	row := &Comparison{Category: cat, Metric: metric, Unit: UnitRate, Assumed: Num(mu0), From: from,
		Measured: Num(v), Low: Num(max(v-z*se, 0)), High: Num(min(v+z*se, 1)), N: r.N()}
	if r.N() >= MinSamples {
		row.Tested, row.Method, row.Trigger = true, "z test of a ratio (delta method)"+beyond(tol), trigger
		row.P = stats.ZTest(v, se, mu0*(1-tol), mu0*(1+tol))
	} else {
		row.Note = notTested()
	}
	return row
}

// quantileRow is the q-quantile of sorted observations against x0, by the exact binomial test
// on the number of observations below x0; with no trigger it is shown untested.
func (a *analysis) quantileRow(cat, model, metric string, sorted []float64, q, x0 float64, from, trigger string) *Comparison {
	lo, hi := stats.QuantileCI(sorted, q, a.conf)
	row := &Comparison{Category: cat, Model: model, Metric: metric, Unit: UnitSeconds, Assumed: Num(x0), From: from,
		Measured: Num(stats.Quantile(sorted, q)), Low: Num(lo), High: Num(hi), N: len(sorted)}
	switch {
	case trigger == "":
	case len(sorted) >= MinSamples:
		tol := a.opts.Tolerance
		row.Tested, row.Method, row.Trigger = true, "exact binomial on order statistics"+beyond(tol), trigger
		row.P = stats.QuantileTest(sorted, q, x0*(1-tol), x0*(1+tol))
	default:
		row.Note = notTested()
	}
	return row
}

// beyond describes a test's tolerance.
func beyond(tol float64) string {
	if tol == 0 {
		return ""
	}
	return ", beyond ±" + pct0(tol)
}

func ratio(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// rises tests whether the fallback and malformed-output rates rose from the earlier half of
// the category's requests to the recent half, by the one-sided Fisher exact test.
func (a *analysis) rises(cv *CategoryView, reqs []*request) {
	earlier, recent := reqs[:len(reqs)/2], reqs[len(reqs)/2:]
	if len(earlier) < MinSamples {
		return
	}
	for _, m := range []struct {
		metric, trigger string
		has             func(*request) bool
	}{
		{"fallback rate, recent half against earlier half", TriggerFallback, func(r *request) bool { return r.fellBack }},
		{"malformed output, recent half against earlier half", TriggerMalformed, func(r *request) bool { return r.malformed }},
	} {
		ke, kr := count(earlier, m.has), count(recent, m.has)
		if ke+kr == 0 {
			continue
		}
		lo, hi := stats.Wilson(kr, len(recent), a.conf)
		row := &Comparison{Category: cv.Name, Metric: m.metric, Unit: UnitRate, Assumed: Num(ratio(ke, len(earlier))), From: "earlier half",
			Measured: Num(ratio(kr, len(recent))), Low: Num(lo), High: Num(hi), N: len(recent),
			Tested: true, Method: "one-sided Fisher exact", Trigger: m.trigger,
			P: stats.FisherGreater(kr, len(recent), ke, len(earlier))}
		if m.trigger == TriggerMalformed {
			row.Note = "requests with a bad_response failure or a failed JSON Schema or required-fields check"
		}
		a.add(cv, row)
	}
}

func count(reqs []*request, has func(*request) bool) int {
	n := 0
	for _, r := range reqs {
		if has(r) {
			n++
		}
	}
	return n
}

// templates lists the category's prompt template versions and tests each one that the earlier
// half of its requests never saw but that carries a meaningful share of the recent half: the
// one-sided Fisher exact test of its share rising from zero.
func (a *analysis) templates(cv *CategoryView, reqs []*request) {
	mid := len(reqs) / 2
	type tally struct {
		earlier, recent int
		first           int64
	}
	tallies := map[int32]*tally{}
	for i, rq := range reqs {
		if rq.template < 0 {
			continue
		}
		t := tallies[rq.template]
		if t == nil {
			t = &tally{first: rq.time}
			tallies[rq.template] = t
		}
		if i < mid {
			t.earlier++
		} else {
			t.recent++
		}
	}
	recentN := len(reqs) - mid
	for idx, t := range tallies {
		share := ratio(t.recent, recentN)
		tm := Template{Hash: a.r.templates[idx], Earlier: t.earlier, Recent: t.recent, Share: share, First: time.Unix(0, t.first).UTC()}
		if t.earlier == 0 && share >= a.opts.MinTemplateShare && mid >= MinSamples {
			tm.New = true
			lo, hi := stats.Wilson(t.recent, recentN, a.conf)
			a.add(cv, &Comparison{Category: cv.Name, Metric: "new template " + shortHash(tm.Hash), Unit: UnitRate,
				Assumed: 0, From: "earlier half", Measured: Num(share), Low: Num(lo), High: Num(hi), N: recentN,
				Tested: true, Method: "one-sided Fisher exact", Trigger: TriggerTemplate,
				P:    stats.FisherGreater(t.recent, recentN, 0, mid),
				Note: fmt.Sprintf("first seen %s; none of the earlier %s requests used it", tm.First.Format(time.DateTime), groupInt(mid))})
		}
		cv.Templates = append(cv.Templates, tm)
	}
	slices.SortFunc(cv.Templates, func(x, y Template) int { return cmp.Or(x.First.Compare(y.First), cmp.Compare(x.Hash, y.Hash)) })
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
