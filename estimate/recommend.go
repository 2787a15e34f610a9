package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar/spec"
)

// recommend picks the cheapest policy that clears every category's bar and budget, and says
// why each other policy lost. When none clears everything, it recommends the one that misses
// by the least (the smallest Shortfall: points of quality below the bars and percent over the
// budgets, weighted by share; then the cheapest) and says that no policy clears.
func (e *estimator) recommend(r *Report) {
	var best *PolicyResult
	better := func(a, b *PolicyResult) bool { // is a better than b?
		if b == nil {
			return true
		}
		if a.Clears != b.Clears {
			return a.Clears
		}
		if !a.Clears && !sameShortfall(a.Shortfall, b.Shortfall) {
			return a.Shortfall < b.Shortfall
		}
		if a.Total.Cost != b.Total.Cost {
			return a.Total.Cost < b.Total.Cost
		}
		// Equal cost: prefer the lower risk, then the spec's own routes, then the earlier policy.
		if a.Total.Risk != b.Total.Risk {
			return a.Total.Risk < b.Total.Risk
		}
		return false
	}
	for _, p := range r.Policies {
		if p.SameAs != "" {
			continue
		}
		if better(p, best) {
			best = p
		}
	}
	r.Recommended = best.Name
	vol := e.opts.Volume
	if best.Clears {
		// A policy that fails every request pays nothing: it is not cheaper, it serves no one.
		var cheaper []string
		for _, p := range r.Policies {
			if !p.Clears && p.Total.Cost < best.Total.Cost && p.SameAs == "" && !p.Total.failsAll() {
				cheaper = append(cheaper, p.Name)
			}
		}
		r.Recommendation = fmt.Sprintf("%s is the cheapest policy that clears every category's quality bar and latency budget: %s per request, %s a month at %s requests, quality %s.",
			best.Name, best.Total.Cost, best.Total.CostPerMonth, groupInt(vol), pct(best.Total.Quality))
		if len(cheaper) > 0 {
			r.Recommendation += fmt.Sprintf(" Cheaper policies (%s) miss a bar or budget.", strings.Join(cheaper, ", "))
		}
		// The bar is the contract, but the cost of being wrong can outweigh the saving: say
		// when another clearing policy is cheaper once risk is counted.
		total := func(p *PolicyResult) Dollars { return p.Total.CostPerMonth + p.Total.RiskPerMonth }
		lowest := best
		for _, p := range r.Policies {
			if p.Clears && p.SameAs == "" && total(p) < total(lowest) {
				lowest = p
			}
		}
		if lowest != best {
			r.RiskAdjusted = lowest.Name
			r.Recommendation += fmt.Sprintf(" Counting the expected cost of bad answers and failed requests, %s is cheaper overall: %s a month in cost plus risk against %s for %s.",
				lowest.Name, total(lowest), total(best), best.Name)
		}
	} else {
		r.Recommendation = fmt.Sprintf("No policy clears every category. %s comes closest: %s. Closest is the least shortfall (the points of quality below each bar plus the percent over each latency budget, weighted by the category's share of traffic), then the lowest cost. Change the routes or the bars of those categories.",
			best.Name, strings.Join(best.Shortfalls, "; "))
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
			reason = fmt.Sprintf("misses by more than %s: %s", best.Name, strings.Join(p.Shortfalls, "; "))
		case !p.Clears:
			reason = "misses: " + strings.Join(p.Shortfalls, "; ")
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

func relPct(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.0f%%", (a/b-1)*100)
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
	// Current is the spec's route; Better the cheapest evaluated route that clears the bar and
	// budget ("" when the spec's route is already the cheapest).
	Current string `json:"current_route"`
	Better  string `json:"better_route,omitempty"`
	// From names a policy that uses the better route.
	From          string  `json:"from_policy,omitempty"`
	MonthlySaving Dollars `json:"monthly_saving_usd"`
	// Validation describes how concrete the category's validation is, and its weight in the
	// score (1 for schema-like checks, down to 0.25 for none).
	Validation       string  `json:"validation"`
	ValidationWeight float64 `json:"validation_weight"`
	// Headroom is the better route's quality above the bar, in percentage points.
	Headroom float64 `json:"headroom_points"`
	// Score = monthly saving in dollars × validation weight × headroom factor; it orders the
	// list. A category that does not clear its bar today comes first whatever its score.
	Score    float64 `json:"score"`
	FixFirst bool    `json:"fix_first,omitempty"`
	Reason   string  `json:"reason"`
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

// optimiseFirst ranks categories by the monthly saving the cheapest clearing route would
// bring over the spec's route, weighed by validation concreteness and quality headroom.
func (e *estimator) optimiseFirst(r *Report, policies []*Policy) []Opportunity {
	s := e.spec
	var specPolicy *Policy
	for _, p := range policies {
		if p.Kind == KindSpec {
			specPolicy = p
		}
	}
	var out []Opportunity
	for i, c := range s.Categories {
		cur := specPolicy.cells[i]
		o := Opportunity{Category: c.Name, Current: describeRoute(cur.route)}
		o.Validation, o.ValidationWeight = validationWeight(c.Route)
		// The cheapest clearing route among everything evaluated for this category.
		var best *cell
		var from string
		for _, p := range policies {
			cl := p.cells[i]
			if !cl.clears() {
				continue
			}
			if best == nil || cl.closed.cost < best.closed.cost-1e-9 {
				best, from = cl, p.Name
			}
		}
		volume := float64(c.Share) * float64(e.opts.Volume)
		switch {
		case !cur.clears():
			o.FixFirst = true
			if best != nil {
				o.Better, o.From = describeRoute(best.route), from
				o.MonthlySaving = dollars((cur.closed.cost - best.closed.cost) * volume)
				o.Headroom = (best.closed.quality - c.Bar()) * 100
				o.Reason = fmt.Sprintf("the spec's route misses its bar or budget; %s clears it", o.Better)
			} else {
				o.Reason = "the spec's route misses its bar or budget, and no evaluated route clears it: revisit the bar or add a stronger model"
			}
		case best == nil || best == cur || best.closed.cost >= cur.closed.cost-0.5:
			o.Headroom = (cur.closed.quality - c.Bar()) * 100
			o.Reason = "already the cheapest evaluated route that clears the bar"
		default:
			o.Better, o.From = describeRoute(best.route), from
			o.MonthlySaving = dollars((cur.closed.cost - best.closed.cost) * volume)
			o.Headroom = (best.closed.quality - c.Bar()) * 100
			o.Reason = fmt.Sprintf("saves %s a month; %s; %.1f points of quality headroom", o.MonthlySaving, validationPhrase(o.Validation), o.Headroom)
		}
		factor := math.Min(1, math.Max(0.25, o.Headroom/2))
		o.Score = math.Max(0, float64(o.MonthlySaving)) * o.ValidationWeight * factor
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
