package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// recommended picks the policy recommend recommends: the first of recommendable.
func recommended(policies []*PolicyResult) *PolicyResult {
	if pool := recommendable(policies); len(pool) > 0 {
		return pool[0]
	}
	return nil
}

// recommendable returns, in their order, the policies recommend could recommend: those whose
// figures tie with the best. Costs tie within costTie of the lowest, not of each other, so
// that the choice does not depend on the order of the policies (ties within costTie of each
// other are not transitive): among the policies that clear, those whose served cost ties with
// the lowest compete on risk; when none clears, those whose shortfall ties with the smallest
// compete on cost (tied with the lowest of them), then on risk. Policies that clear and
// serve at the same cost are not told apart by their raw cost, which is lower for the one
// that fails more requests: failing is no saving. The recommendation is the first; the
// break-even search keeps its baseline while it is among them.
func recommendable(policies []*PolicyResult) []*PolicyResult {
	var pool []*PolicyResult
	for _, p := range policies {
		if p.SameAs == "" {
			pool = append(pool, p)
		}
	}
	if len(pool) == 0 {
		return nil
	}
	if slices.ContainsFunc(pool, func(p *PolicyResult) bool { return p.Clears }) {
		pool = slices.DeleteFunc(pool, func(p *PolicyResult) bool { return !p.Clears })
		lowest := slices.MinFunc(pool, func(a, b *PolicyResult) int { return cmp.Compare(servedCost(a), servedCost(b)) })
		pool = slices.DeleteFunc(pool, func(p *PolicyResult) bool { return !sameCost(servedCost(p), servedCost(lowest)) })
	} else {
		least := slices.MinFunc(pool, func(a, b *PolicyResult) int { return cmp.Compare(a.Shortfall, b.Shortfall) })
		pool = slices.DeleteFunc(pool, func(p *PolicyResult) bool { return !sameShortfall(p.Shortfall, least.Shortfall) })
		cheapest := slices.MinFunc(pool, func(a, b *PolicyResult) int { return cmp.Compare(a.Total.Cost, b.Total.Cost) })
		pool = slices.DeleteFunc(pool, func(p *PolicyResult) bool {
			return !sameCost(float64(p.Total.Cost), float64(cheapest.Total.Cost))
		})
	}
	risk := slices.MinFunc(pool, func(a, b *PolicyResult) int { return cmp.Compare(a.Total.Risk, b.Total.Risk) }).Total.Risk
	return slices.DeleteFunc(pool, func(p *PolicyResult) bool { return p.Total.Risk != risk })
}

// costTie is the relative difference below which two policies' costs per request tie: 0.01%,
// or a nano-dollar, the precision costs are computed to. Two policies that differ in a
// rarely taken step (a fallback that becomes a cascade's last step) can differ in cost by a
// few parts in a million, which a small move of an input reverses: a recommendation that
// followed such differences would flip on noise.
const costTie = 1e-4

// sameCost reports whether two costs in nano-dollars tie (see costTie).
func sameCost(a, b float64) bool {
	if a == b {
		return true
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	return math.Abs(a-b) <= max(1, costTie*min(math.Abs(a), math.Abs(b)))
}

// recommend picks the cheapest policy that clears every category's bar and budget, and every
// pipeline's budget (PolicyResult.Clears), and says
// why each other policy lost. Policies that clear are compared by their cost with the requests
// they fail charged what answering them would cost at their prices (Figures.ServedCost), so that
// a policy that fails requests, which cost nothing, does not win for it; then by cost and
// risk. When none clears, it recommends
// the one that misses by the least (the smallest Shortfall: how far each category is over the
// failure rate its bar allows and over its budget, relative to them, weighted by share, and
// each pipeline over its budget, weighted by its share of calls; then the cheapest) and says
// that no policy clears.
func (e *estimator) recommend(r *Report) {
	best := recommended(r.Policies)
	r.Recommended = best.Name
	vol := e.opts.Volume
	// pipelineBudgets says whether a pipeline's budget counts: the texts then say so.
	pipelineBudgets := false
	for _, pl := range e.spec.Pipelines {
		pipelineBudgets = pipelineBudgets || pl.LatencyBudget > 0
	}
	// freeFailures says, of a clearing policy that costs less than best only because it fails
	// more requests, which and what serving them would cost.
	freeFailures := func(p *PolicyResult) string {
		var where []string
		for i, c := range p.Categories {
			if c.PFailed > best.Categories[i].PFailed+1e-9 {
				where = append(where, fmt.Sprintf("%s %s", c.Category, pct(c.PFailed)))
			}
		}
		in := ""
		if len(where) > 0 {
			in = " (" + strings.Join(where, ", ") + ")"
		}
		return fmt.Sprintf("fails %s of requests%s, which cost nothing; answering them at its prices, it would cost %s per request, against %s for %s",
			pct(p.Total.PFailed), in, p.Total.ServedCost, best.Total.ServedCost, best.Name)
	}
	if best.Clears {
		// A policy that fails every request pays nothing: it is not cheaper, it serves no one.
		var cheaper, failing []string
		for _, p := range r.Policies {
			switch {
			case p.SameAs != "" || p.Total.Cost >= best.Total.Cost || p.Total.failsAll():
			case p.Clears && sameCost(servedCost(p), servedCost(best)):
				// A tie on served cost, lost on risk or order: its verdict says so.
			case !p.Clears:
				cheaper = append(cheaper, p.Name)
			default:
				failing = append(failing, p.Name+" "+freeFailures(p))
			}
		}
		pipelines := ""
		if pipelineBudgets {
			pipelines = ", and every pipeline's latency budget"
		}
		r.Recommendation = fmt.Sprintf("%s is the cheapest policy that clears every category's quality bar and latency budget%s: %s per request, %s a month at %s requests, quality %s.",
			best.Name, pipelines, best.Total.Cost, best.Total.CostPerMonth, groupInt(vol), pct(best.Total.Quality))
		if len(cheaper) > 0 {
			r.Recommendation += fmt.Sprintf(" Cheaper policies (%s) miss a bar or budget.", strings.Join(cheaper, ", "))
		}
		if len(failing) > 0 {
			r.Recommendation += fmt.Sprintf(" Policies that clear for less per request do so by failing requests: %s.", strings.Join(failing, "; "))
		}
		// The bar is the contract, but the cost of being wrong can outweigh the saving: say
		// when another clearing policy is cheaper once risk is counted. Cost here is the served
		// cost (Figures.ServedCost), as policies that clear are compared by: a failed request
		// is no saving.
		total := func(p *PolicyResult) Dollars { return dollars(p.served*float64(vol)) + p.Total.RiskPerMonth }
		lowest := best
		for _, p := range r.Policies {
			if p.Clears && p.SameAs == "" && !math.IsInf(p.served, 1) && total(p) < total(lowest) {
				lowest = p
			}
		}
		if lowest != best && !math.IsInf(best.served, 1) {
			r.RiskAdjusted = lowest.Name
			r.Recommendation += fmt.Sprintf(" Counting the expected cost of bad answers and failed requests, %s is cheaper overall: %s a month in cost (failed requests charged what answering them would cost) plus risk against %s for %s.",
				lowest.Name, total(lowest), total(best), best.Name)
		}
	} else {
		every, pipelines, change := "every category", "", ""
		if pipelineBudgets {
			every = "every category and pipeline"
			pipelines = fmt.Sprintf(", and how far each pipeline's end-to-end p95 is over its budget, in percent, weighted by its share of model calls (its share of user requests × its steps ÷ %s calls per user request)",
				callsText(e.spec.CallsPerRequest()))
			change = ", or the pipelines' budgets"
		}
		r.Recommendation = fmt.Sprintf("No policy clears %s. %s comes closest: %s. Closest is the smallest shortfall relative to what each category allows: how far its failure rate (1 − quality) is over the 1 − bar its quality bar allows, plus how far its p95 is over its latency budget, in percent, weighted by the category's share of traffic%s (%s: %s); then the lowest cost. Change the routes or the bars of those categories%s.",
			every, best.Name, strings.Join(best.Shortfalls, "; "), pipelines, best.Name, shortfallText(best.Shortfall), change)
	}
	for _, p := range r.Policies {
		if p == best {
			continue
		}
		var reason string
		switch {
		case p.SameAs != "":
			reason = "same routes as " + p.SameAs
		case p.Total.failsAll():
			reason = "fails every request, so it pays for no answer: " + strings.Join(p.Shortfalls, "; ")
		case !p.Clears && !best.Clears && sameShortfall(p.Shortfall, best.Shortfall):
			reason = fmt.Sprintf("misses by as much as %s: %s", best.Name, strings.Join(p.Shortfalls, "; "))
		case !p.Clears && !best.Clears:
			reason = fmt.Sprintf("misses by more than %s: %s (shortfall %s, against %s)", best.Name, strings.Join(p.Shortfalls, "; "), shortfallText(p.Shortfall), shortfallText(best.Shortfall))
		case !p.Clears:
			reason = "misses: " + strings.Join(p.Shortfalls, "; ")
		case best.Clears && sameCost(servedCost(p), servedCost(best)):
			apart := p.Total.CostPerMonth - best.Total.CostPerMonth
			if apart < 0 {
				apart = -apart
			}
			if risk := p.Total.RiskPerMonth - best.Total.RiskPerMonth; risk > 0 {
				reason = fmt.Sprintf("clears every bar at the same cost as %s (within 0.01%%: %s a month apart), with %s a month more risk", best.Name, apart, risk)
			} else {
				reason = fmt.Sprintf("clears every bar at the same cost as %s (within 0.01%%: %s a month apart) and no less risk; %s comes first in the list", best.Name, apart, best.Name)
			}
		case p.Total.Cost < best.Total.Cost:
			reason = fmt.Sprintf("clears every bar and costs %s a month less, but %s", best.Total.CostPerMonth-p.Total.CostPerMonth, freeFailures(p))
		default:
			d := p.Total.CostPerMonth - best.Total.CostPerMonth
			reason = fmt.Sprintf("clears every bar but costs %s a month more (%s)", d, relPct(float64(p.Total.Cost), float64(best.Total.Cost)))
			if d == 0 {
				reason = "clears every bar at the same cost, with higher risk or later in the list"
			}
		}
		r.Verdicts = append(r.Verdicts, Verdict{Policy: p.Name, Reason: reason})
	}
}

// sameShortfall reports whether two policies miss by the same amount, up to rounding.
func sameShortfall(a, b float64) bool { return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b)) }

// servedCost is a policy's cost per request answered (Figures.ServedCost), rounded as it is
// shown; infinite when a category answers none.
func servedCost(p *PolicyResult) float64 {
	if math.IsInf(p.served, 1) {
		return p.served
	}
	return math.Round(p.served)
}

// shortfallText writes a Shortfall, a percentage: "22%", "0.0036%".
func shortfallText(p float64) string { return overText(p) }

// relPct writes a's difference from b relative to b, as signedPct does: "+199%", "+0.35%".
func relPct(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return signedPct((a/b - 1) * 100)
}

// signedPct writes a signed percentage (p in percent) so that it reads as zero only when it
// is: whole percents from 10% up, two significant digits below ("+1.5%", "+0.35%",
// "-0.0021%").
func signedPct(p float64) string {
	switch a := math.Abs(p); {
	case p == 0:
		return "0%"
	case a >= 9.5:
		return fmt.Sprintf("%+.0f%%", p)
	default:
		sign := "+"
		if p < 0 {
			sign = "-"
		}
		return sign + strconv.FormatFloat(roundSignificant(a, 2), 'f', -1, 64) + "%"
	}
}

// groupInt writes n with thousands separators: 1,000,000.
func groupInt(n int64) string { return groupDigits(strconv.FormatInt(n, 10)) }

// groupDigits puts thousands separators in the whole part of a decimal number:
// "-1234567.891" is "-1,234,567.891".
func groupDigits(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}

// Opportunity is a category ranked by what improving its route would bring.
type Opportunity struct {
	Category string `json:"category"`
	// Current is the spec's route; Better the evaluated route that clears the bar and budget
	// with the largest saving in cost plus risk ("" when none saves anything), or, where the
	// spec's routes take a pipeline this category is a step of over its latency budget, the
	// one that brings it within (or nearest; see Pipelines), cheaper or not.
	Current string `json:"current_route"`
	Better  string `json:"better_route,omitempty"`
	// From names a policy that uses the better route.
	From string `json:"from_policy,omitempty"`
	// MonthlySaving is the better route's saving in cost, failed requests charged what
	// answering them would cost (see world.servedCost), RiskChange the change in the
	// expected cost of bad answers and failed requests it brings (negative: less risk), and
	// NetSaving the saving in both: MonthlySaving − RiskChange.
	MonthlySaving Dollars `json:"monthly_saving_usd"`
	RiskChange    Dollars `json:"monthly_risk_change_usd"`
	NetSaving     Dollars `json:"monthly_net_saving_usd"`
	// Validation describes how concrete the better route's validation is (the current one's
	// when there is no better route), and its weight in the score (1 for schema-like checks,
	// down to 0.25 for none).
	Validation       string  `json:"validation"`
	ValidationWeight float64 `json:"validation_weight"`
	// Headroom is the better route's quality above the bar, in percentage points.
	Headroom float64 `json:"headroom_points"`
	// Score = net monthly saving in dollars × validation weight × headroom factor; it orders
	// the list. A category that does not clear its bar today comes first whatever its score.
	Score    float64 `json:"score"`
	FixFirst bool    `json:"fix_first,omitempty"`
	Reason   string  `json:"reason"`
	// Pipelines, when the spec's routes take pipelines this category is a step of over their
	// latency budgets and Better is the step's route that brings them within (or nearest),
	// says what it does for each of them.
	Pipelines []PipelineGain `json:"pipelines,omitempty"`
}

// PipelineGain is what an Opportunity's better route, in place of the spec's for a step,
// does for one pipeline the spec's routes take over its latency budget.
type PipelineGain struct {
	Pipeline string `json:"pipeline"`
	// Within says the pipeline meets its budget with the better route; P95 and P95After are
	// its end-to-end p95 with the spec's routes and with the better route, Budget its budget,
	// in seconds.
	Within   bool    `json:"brings_within_budget"`
	P95      float64 `json:"p95_s"`
	P95After float64 `json:"p95_after_s"`
	Budget   float64 `json:"latency_budget_s"`
	// Saving is what the better route saves per user request of the pipeline, negative when
	// it costs more: the step's saving per call (failed calls charged as Opportunity's are)
	// times the times the pipeline calls it.
	Saving clearbar.Money `json:"saving_per_user_request_usd"`
}

// validationWeight rates how concrete a category's validation is: pass/fail checks of
// structure are reliable, heuristics and agreement between two models (on an option or a
// number) less so, model judges least, and no validation at all makes a cheaper route a leap
// of faith.
func validationWeight(r *spec.Route) (string, float64) {
	vs, _ := r.MainValidators()
	best, label := 0.25, "none"
	for _, v := range vs {
		w, l := 0.0, ""
		switch v.Kind {
		case "json_schema", "required_fields", "tool_calls", "regex", "length", "max_length":
			w, l = 1, "concrete ("+v.Kind+")"
		case "citations", "restricted_phrases", "refusal":
			w, l = 0.7, "heuristic ("+v.Kind+")"
		case "judge":
			w, l = 0.4, "model judge"
		case "agree":
			w, l = 0.7, "cross-model agreement"
		}
		if w > best {
			best, label = w, l
		}
	}
	return label, best
}

func validationPhrase(label string) string {
	if label == "none" {
		return "no validation to catch a cheaper model's misses"
	}
	return label + " validation"
}

// optimiseFirst ranks categories by what a cheaper route that clears the bar and budget would
// save over the spec's route, net of the change in risk it brings, weighed by the
// concreteness of that route's validation and its quality headroom. A cheaper route that adds
// more risk than it saves is not suggested, nor one that would take a pipeline over its
// latency budget. A category whose route does not clear comes first,
// with the clearing route of the lowest cost plus risk. Where the spec's routes take a
// pipeline over its latency budget, a step's clearing route that, in place of the spec's,
// brings it within (or nearer: pipelineFix) is suggested for the step, cheaper or not, and
// ranked with the others by its score.
func (e *estimator) optimiseFirst(r *Report, policies []*Policy) []Opportunity {
	s := e.spec
	var specPolicy *Policy
	for _, p := range policies {
		if p.Kind == KindSpec {
			specPolicy = p
		}
	}
	// With pipelines, a route is suggested only where it keeps every pipeline within its
	// budget, or no further over it than the spec's routes leave it (keepsPipelines).
	specMissed, _, specShort := e.pipelineVerdicts(specPolicy.cells)
	var out []Opportunity
	for i, c := range s.Categories {
		cur := specPolicy.cells[i]
		fits := map[*cell]bool{}
		keepsPipelines := func(cl *cell) bool {
			if cl == cur || len(s.Pipelines) == 0 {
				return true
			}
			ok, seen := fits[cl]
			if !seen {
				cells := slices.Clone(specPolicy.cells)
				cells[i] = cl
				_, short := e.pipelineMissesOf(cells)
				ok = short <= specShort*(1+1e-9)
				fits[cl] = ok
			}
			return ok
		}
		o := Opportunity{Category: c.Name, Current: describeRoute(cur.route)}
		volume := float64(c.Share) * float64(e.opts.Volume)
		// Costs are served costs (see world.servedCost): a route that fails requests saves
		// nothing by it, as policies that clear are compared.
		served := func(cl *cell) float64 {
			if math.IsInf(cl.served, 1) { // answers nothing: what it pays
				return cl.closed.cost
			}
			return cl.served
		}
		total := func(cl *cell) float64 { return served(cl) + riskOf(c, cl.closed) }
		// Among the clearing routes evaluated for this category (cheaper than the spec's, unless
		// the spec's does not clear), the one with the lowest cost plus risk; and the cheapest.
		var best, cheapest, blocked *cell
		var from string
		for _, p := range policies {
			cl := p.cells[i]
			if !cl.clears() || math.IsInf(cl.served, 1) {
				continue
			}
			if !keepsPipelines(cl) {
				if blocked == nil || cl.served < blocked.served-1e-9 {
					blocked = cl
				}
				continue
			}
			if cheapest == nil || cl.served < cheapest.served-1e-9 {
				cheapest = cl
			}
			if cur.clears() && cl.served >= served(cur)-0.5 {
				continue
			}
			if best == nil || total(cl) < total(best)-1e-9 {
				best, from = cl, p.Name
			}
		}
		better := func() {
			o.Better, o.From = describeRoute(best.route), from
			o.MonthlySaving = dollars((served(cur) - best.served) * volume)
			o.RiskChange = dollars((riskOf(c, best.closed) - riskOf(c, cur.closed)) * volume)
			o.NetSaving = dollars((total(cur) - total(best)) * volume)
			o.Headroom = (best.closed.quality - c.Bar()) * 100
			o.Validation, o.ValidationWeight = validationWeight(best.route.Route)
		}
		o.Validation, o.ValidationWeight = validationWeight(c.Route)
		var fix *pipelineFix
		if cur.clears() && specShort > 0 {
			fix = e.pipelineFix(specPolicy.cells, i, policies, specMissed, specShort, served, total)
		}
		switch {
		case !cur.clears():
			o.FixFirst = true
			if best != nil {
				better()
				o.Reason = fmt.Sprintf("the spec's route misses its bar or budget; %s clears it (%s)", o.Better, savingText(o))
			} else {
				o.Reason = e.noClearingRoute(c)
			}
		case fix != nil:
			best, from = fix.cell, fix.from
			better()
			o.Pipelines = fix.gains
			o.Reason = fmt.Sprintf("%s; %s", fix.text(), savingText(o))
			if o.MonthlySaving > 0 {
				// A cheaper route: how far its validation can be trusted to catch its misses.
				o.Reason += "; " + validationPhrase(o.Validation)
			}
			o.Reason += fmt.Sprintf("; %.1f points of quality headroom", o.Headroom)
		case best == nil && blocked != nil && blocked.served < served(cur)-1e-9:
			o.Headroom = (cur.closed.quality - c.Bar()) * 100
			keeps, leave := "keeps the pipelines within their latency budgets", "leave"
			if specShort > 0 {
				keeps, leave = "keeps the pipelines as near their latency budgets as the spec's routes", "take"
			}
			o.Reason = fmt.Sprintf("no cheaper route that clears the bar %s: %s would save %s a month in cost but %s %s",
				keeps, describeRoute(blocked.route), dollars((served(cur)-blocked.served)*volume), leave, e.overBudget(withCell(specPolicy.cells, i, blocked)))
		case best == nil:
			o.Headroom = (cur.closed.quality - c.Bar()) * 100
			o.Reason = "already the cheapest evaluated route that clears the bar"
		case total(best) >= total(cur)-0.5:
			o.Headroom = (cur.closed.quality - c.Bar()) * 100
			o.Reason = fmt.Sprintf("no cheaper route that clears the bar saves more than it adds in risk: %s would save %s a month in cost but add %s in risk",
				describeRoute(cheapest.route), dollars((served(cur)-cheapest.served)*volume), dollars((riskOf(c, cheapest.closed)-riskOf(c, cur.closed))*volume))
		default:
			better()
			o.Reason = fmt.Sprintf("%s; %s; %.1f points of quality headroom", savingText(o), validationPhrase(o.Validation), o.Headroom)
		}
		factor := math.Min(1, math.Max(0.25, o.Headroom/2))
		o.Score = math.Max(0, float64(o.NetSaving)) * o.ValidationWeight * factor
		out = append(out, o)
	}
	slices.SortStableFunc(out, func(a, b Opportunity) int {
		if a.FixFirst != b.FixFirst {
			if a.FixFirst {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Score, a.Score)
	})
	return out
}

// noClearingRoute says why no evaluated route clears category c, and what to do. Where
// requests longer than the context window of every model the category can use (those of its
// route and fallbacks and those with a pass rate) fail, a stronger model is no remedy: when
// they alone keep the quality under the bar, it points at the window, as spec check does; when
// they are some of the misses, it names them beside the bar and the models.
func (e *estimator) noClearingRoute(c *spec.Category) string {
	const generic = "the spec's route misses its bar or budget, and no evaluated route clears it: revisit the bar or add a stronger model"
	s := e.spec
	tooLongForAll, window := 1.0, 0
	for _, m := range s.Models {
		if _, rated := c.PassRate(m); !rated && !slices.Contains(s.RouteCandidates(c.Route, c.Fallback), m) {
			continue
		}
		tooLongForAll = min(tooLongForAll, tooLong(c, m))
		window = max(window, m.Resolved.ContextWindow)
	}
	if tooLongForAll < minNotedTooLong || window == 0 {
		return generic
	}
	tooLongText := fmt.Sprintf("%s of its requests have more input tokens than the largest context window of the models it can use (%s tokens), and fail",
		shareOf(tooLongForAll), groupInt(int64(window)))
	if tooLongForAll > 1-1e-9 {
		tooLongText = fmt.Sprintf("every request has more input tokens than the largest context window of the models it can use (%s tokens), and fails", groupInt(int64(window)))
	}
	const fix = "route the category to a model with a larger context window, or correct tokens.in"
	if 1-tooLongForAll < c.Bar()-1e-12 {
		return fmt.Sprintf("the spec's route misses its bar, and no evaluated route clears it: %s: %s", tooLongText, fix)
	}
	return fmt.Sprintf("%s; besides, %s: %s", generic, tooLongText, fix)
}

// pipelineFix is a step's route that brings the pipelines the spec's routes take over their
// latency budgets within them, or nearer, in place of the spec's route for the step.
type pipelineFix struct {
	cell  *cell
	from  string
	gains []PipelineGain
}

// pipelineFix finds, for category i, a step of some pipeline the spec's routes (specCells)
// take over its latency budget (missed, with the shortfall specShort they add), the clearing
// route evaluated for it in policies that, in place of the spec's, brings every such pipeline
// it is a step of within its budget, of the lowest cost plus risk (total); else the one that
// brings them nearest (the smallest shortfall, then the lowest total). A route that takes
// another pipeline over its budget is not one. Nil when i is no step of a pipeline missed, or
// no route brings one nearer.
func (e *estimator) pipelineFix(specCells []*cell, i int, policies []*Policy, missed []string, specShort float64, served, total func(*cell) float64) *pipelineFix {
	s := e.spec
	c := s.Categories[i]
	var steps []*spec.Pipeline // the missed pipelines c is a step of
	for _, pl := range s.Pipelines {
		if slices.Contains(missed, pl.Name) && slices.ContainsFunc(pl.Steps, func(r spec.Ref) bool { return r.Name == c.Name }) {
			steps = append(steps, pl)
		}
	}
	if len(steps) == 0 {
		return nil
	}
	cur := specCells[i]
	var best *pipelineFix
	var bestWithin bool
	var bestShort float64
	for _, p := range policies {
		cl := p.cells[i]
		if cl == cur || !cl.clears() || math.IsInf(cl.served, 1) || (best != nil && cl == best.cell) {
			continue
		}
		cells := withCell(specCells, i, cl)
		names, _, short := e.pipelineVerdicts(cells)
		if slices.ContainsFunc(names, func(n string) bool { return !slices.Contains(missed, n) }) || short >= specShort*(1-1e-9) {
			continue // takes another pipeline over its budget, or brings none nearer
		}
		within := !slices.ContainsFunc(steps, func(pl *spec.Pipeline) bool { return slices.Contains(names, pl.Name) })
		switch {
		case best == nil:
		case within != bestWithin:
			if !within {
				continue
			}
		case !within && !sameShortfall(short, bestShort):
			if short > bestShort {
				continue
			}
		case total(cl) >= total(best.cell)-1e-9:
			continue
		}
		best, bestWithin, bestShort = &pipelineFix{cell: cl, from: p.Name}, within, short
	}
	if best == nil {
		return nil
	}
	for _, pl := range steps {
		calls := 0
		for _, st := range pl.Steps {
			if st.Name == c.Name {
				calls++
			}
		}
		p95 := func(cells []*cell) float64 {
			steps := make([]*cell, len(pl.Steps))
			for j, st := range pl.Steps {
				steps[j] = cells[slices.IndexFunc(s.Categories, func(o *spec.Category) bool { return o.Name == st.Name })]
			}
			f, _ := pipelineFigures(steps, pl.LatencyBudget.D().Seconds())
			return f.Latency.P95
		}
		after := withCell(specCells, i, best.cell)
		names, _, _ := e.pipelineVerdicts(after)
		best.gains = append(best.gains, PipelineGain{Pipeline: pl.Name, Within: !slices.Contains(names, pl.Name),
			P95: p95(specCells), P95After: p95(after), Budget: pl.LatencyBudget.D().Seconds(),
			Saving: money(float64(calls) * (served(cur) - served(best.cell)))})
	}
	return best
}

// text says what the fix does for each pipeline: "brings pipeline qa within its latency budget
// 3.5s (p95 4.00s → 2.00s), at $0.0018 more per user request of qa".
func (f *pipelineFix) text() string {
	var parts []string
	for _, g := range f.gains {
		var b strings.Builder
		budget := spec.FormatDuration(time.Duration(math.Round(g.Budget * 1e9)))
		if g.Within {
			fmt.Fprintf(&b, "brings pipeline %s within its latency budget %s (p95 %s → %s)", g.Pipeline, budget, secs(g.P95), secs(g.P95After))
		} else {
			fmt.Fprintf(&b, "brings pipeline %s nearer its latency budget %s (p95 %s → %s, still over it by %s (%s))", g.Pipeline, budget, secs(g.P95), secs(g.P95After),
				secs(g.P95After-g.Budget), overText((g.P95After/g.Budget-1)*100))
		}
		if g.Saving >= 0 {
			fmt.Fprintf(&b, ", saving %s per user request of %s", g.Saving, g.Pipeline)
		} else {
			fmt.Fprintf(&b, ", at %s more per user request of %s", -g.Saving, g.Pipeline)
		}
		parts = append(parts, b.String())
	}
	return describeRoute(f.cell.route) + " " + strings.Join(parts, "; ")
}

// savingText says what a better route saves: "saves $58.54 a month, and $12.00 in risk",
// "saves $830.79 a month in cost but adds $11,566.21 in risk: a net loss of $10,735.42",
// "costs $40.00 a month more but saves $900.00 in risk: $860.00 net".
func savingText(o Opportunity) string {
	cost, risk, net := o.MonthlySaving, o.RiskChange, o.NetSaving
	var b strings.Builder
	if cost >= 0 {
		fmt.Fprintf(&b, "saves %s a month", cost)
	} else {
		fmt.Fprintf(&b, "costs %s a month more", -cost)
	}
	switch {
	case math.Abs(float64(risk)) < 0.005:
		return b.String()
	case risk < 0 && cost >= 0:
		fmt.Fprintf(&b, ", and %s in risk: %s net", -risk, net)
	case risk < 0:
		fmt.Fprintf(&b, " but saves %s in risk: %s net", -risk, net)
	case cost >= 0 && net >= 0:
		fmt.Fprintf(&b, " but adds %s in risk: %s net", risk, net)
	case cost >= 0:
		fmt.Fprintf(&b, " but adds %s in risk: a net loss of %s", risk, -net)
	default:
		fmt.Fprintf(&b, ", and adds %s in risk", risk)
	}
	return b.String()
}
