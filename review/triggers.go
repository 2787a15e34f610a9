package review

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/clearbar/clearbar/spec"
)

// triggerOrder ranks trigger kinds for the report: facts first, then measurements.
var triggerOrder = []string{
	TriggerPrice, TriggerOverdue, TriggerPassRate, TriggerLatency, TriggerCost, TriggerTokens, TriggerEscalation,
	TriggerRetries, TriggerFallback, TriggerMalformed, TriggerMix, TriggerTemplate, TriggerRecommendation,
}

// triggers lists the triggers that fired: catalogue prices that differ from the spec's,
// overdue reviews, and every significant comparison, grouped by kind, category and model.
func (a *analysis) triggers() []Trigger {
	out := []Trigger{}
	for _, p := range a.rep.Prices {
		out = append(out, Trigger{Kind: TriggerPrice, Model: p.Model,
			Evidence: []string{fmt.Sprintf("%s price %s in the spec; the catalogue (%s) lists %s: %s", p.Price, p.Spec, a.rep.CatalogDate, p.Catalog, p.Change)}})
	}
	for _, r := range a.rep.Reviews {
		if !r.Overdue {
			continue
		}
		what := "the spec's review"
		if r.Category != "" {
			what = "the category's review"
		}
		out = append(out, Trigger{Kind: TriggerOverdue, Category: r.Category,
			Evidence: []string{fmt.Sprintf("%s was last done %s and was due %s (%s): %d day(s) overdue", what, r.Last, r.Due, r.Cadence, r.DaysOverdue)}})
	}
	index := map[[3]string]int{}
	var rows []*Comparison
	if a.rep.Mix != nil {
		rows = append(rows, a.rep.Mix)
	}
	for _, cv := range a.rep.Categories {
		rows = append(rows, cv.Comparisons...)
	}
	for _, c := range rows {
		if !c.Significant || c.Trigger == "" {
			continue
		}
		key := [3]string{c.Trigger, c.Category, c.Model}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Trigger{Kind: c.Trigger, Category: c.Category, Model: c.Model})
		}
		ev := evidence(c, a.conf)
		if c.Trigger == TriggerMix {
			ev += a.mixDetail()
		}
		out[i].Evidence = append(out[i].Evidence, ev)
	}
	sortTriggers(out, a.s)
	return out
}

func sortTriggers(ts []Trigger, s *spec.Spec) {
	cat := func(name string) int {
		for i, c := range s.Categories {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	slices.SortStableFunc(ts, func(x, y Trigger) int {
		return cmp.Or(cmp.Compare(slices.Index(triggerOrder, x.Kind), slices.Index(triggerOrder, y.Kind)),
			cmp.Compare(cat(x.Category), cat(y.Category)), cmp.Compare(modelOrder(s, x.Model), modelOrder(s, y.Model)))
	})
}

// evidence writes a significant comparison in words.
func evidence(c *Comparison, conf float64) string {
	what := c.Metric
	if c.Model != "" {
		what = c.Model + " " + what
	}
	s := fmt.Sprintf("%s: %s measured", what, formatValue(c.Unit, float64(c.Measured)))
	if c.Unit != UnitStatistic {
		s += fmt.Sprintf(" (%s interval %s, n = %s)", pct0(conf), formatInterval(c.Unit, c.Low, c.High), groupInt(c.N))
	}
	if c.Unit == UnitStatistic {
		s = fmt.Sprintf("%s: χ² = %.1f on %s requests", what, float64(c.Measured), groupInt(c.N))
	} else {
		s += fmt.Sprintf(" against %s (%s)", formatValue(c.Unit, float64(c.Assumed)), c.From)
	}
	return s + fmt.Sprintf("; %s, p = %s after Holm's correction", c.Method, formatP(c.PAdjusted))
}

// mixDetail names the categories whose share moved the most, by standardised residual.
func (a *analysis) mixDetail() string {
	type res struct {
		name     string
		r, share float64
		spec     float64
	}
	var rs []res
	n := float64(a.rep.Requests)
	for i, c := range a.s.Categories {
		p := float64(c.Share)
		if p <= 0 {
			continue
		}
		obs := float64(len(a.byCat[i]))
		rs = append(rs, res{name: c.Name, r: (obs - n*p) / math.Sqrt(n*p), share: obs / n, spec: p})
	}
	slices.SortFunc(rs, func(x, y res) int { return cmp.Compare(math.Abs(y.r), math.Abs(x.r)) })
	s := "; largest moves:"
	for i, r := range rs {
		if i > 0 && (i == 3 || math.Abs(r.r) < 2) { // the top three, if more than 2 standard errors off
			break
		}
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s %s (spec %s)", r.name, pct(r.share), pct(r.spec))
	}
	return s
}

// priceChanges lists every model price the spec sets to something other than the catalogue's.
// A model the catalogue does not list has nothing to compare with and is left out.
func priceChanges(s *spec.Spec) []PriceChange {
	var out []PriceChange
	for _, m := range s.Models {
		if !m.Resolved.InCatalog {
			continue
		}
		for _, pl := range spec.ModelPrices(m) {
			if pl.Differs && pl.Catalog != 0 {
				out = append(out, PriceChange{Model: m.Name, Price: pl.Name, Spec: pl.Effective, Catalog: pl.Catalog, Change: pl.Change()})
			}
		}
	}
	return out
}

// reviewDates returns the spec's review date and every category's own, each judged against
// today.
func reviewDates(s *spec.Spec, today time.Time) []ReviewDue {
	var out []ReviewDue
	add := func(c *spec.Category, cadence spec.Cadence) {
		last, due := s.LastReview(c)
		if due.IsZero() {
			return
		}
		r := ReviewDue{Last: last.Format(time.DateOnly), Due: due.Format(time.DateOnly), Cadence: cadence.String()}
		if c != nil {
			r.Category = c.Name
		}
		day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
		if day.After(due) { // as the routing document judges it
			r.Overdue = true
			r.DaysOverdue = int(day.Sub(due).Hours() / 24)
		}
		out = append(out, r)
	}
	add(nil, s.Review.Cadence)
	for _, c := range s.Categories {
		if c.Review == nil {
			continue
		}
		cad := s.Review.Cadence
		if !c.Review.Cadence.IsZero() {
			cad = c.Review.Cadence
		}
		add(c, cad)
	}
	return out
}
