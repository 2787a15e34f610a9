package replay

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/clearbar/clearbar"
)

// Objective is what calibration optimises.
type Objective int

// Objectives.
const (
	// ClearBar picks the cheapest point whose quality is at least Target.Quality (the
	// category's quality bar), breaking ties by higher quality.
	ClearBar Objective = iota
	// StrongShare picks the best-quality point that sends at most Target.StrongShare of the
	// items to the strong model, breaking ties by lower cost.
	StrongShare
	// Budget picks the best-quality point whose cost per item is at most Target.Budget,
	// breaking ties by lower cost.
	Budget
)

// String names the objective.
func (o Objective) String() string {
	switch o {
	case StrongShare:
		return "strong-share"
	case Budget:
		return "budget"
	}
	return "quality-bar"
}

// MarshalText implements encoding.TextMarshaler.
func (o Objective) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Target is what Calibrate aims at. Only the field of the chosen Objective is read.
type Target struct {
	Objective Objective `json:"objective"`
	// Quality is the bar for ClearBar, in [0, 1].
	Quality float64 `json:"quality,omitempty"`
	// StrongShare is the largest share of items the strong model may get, in [0, 1].
	StrongShare float64 `json:"strong_share,omitempty"`
	// Budget is the largest cost per item.
	Budget clearbar.Money `json:"budget_per_item_usd,omitempty"`
	// Kinds, when set, limits the candidates to results of these kinds (like "threshold"
	// to choose a router threshold); nil means every realisable result.
	Kinds []string `json:"kinds,omitempty"`
}

// Calibration is the point Calibrate chose, with its settings in Chosen.Params and
// Chosen.Models: what the lead writes into the spec.
type Calibration struct {
	Target     Target  `json:"target"`
	Chosen     *Result `json:"chosen"`
	Candidates int     `json:"candidates"`
	// Excluded are the results left out because they were evaluated on too few of the items
	// (see MinCoverage), with the items they cover.
	Excluded []Excluded `json:"excluded,omitempty"`
}

// Excluded is a result Calibrate left out for covering too few items.
type Excluded struct {
	Name  string `json:"name"`
	Items int    `json:"items"`
	Of    int    `json:"of"`
}

// MinCoverage is the share of the items (those the widest realisable result covers) a result
// must be evaluated on to be compared with the others: a calibration candidate, a point of the
// report's frontier, its best single model. Policies measured on different items are not
// comparable: a model with rows only for the requests a cascade escalated to it (as in a trace
// export) is measured on a selected few and would look better, or worse, than it is.
const MinCoverage = 0.95

// byCoverage splits results with items into wide ones, evaluated on at least MinCoverage of
// the items the widest realisable result covers (widest), and narrow ones: the one rule for
// which results may be compared. Without a realisable result, widest is over all of them.
func byCoverage(results []*Result) (wide, narrow []*Result, widest int) {
	for _, r := range results {
		if r.Realisable {
			widest = max(widest, r.Items)
		}
	}
	if widest == 0 {
		for _, r := range results {
			widest = max(widest, r.Items)
		}
	}
	for _, r := range results {
		switch {
		case r.Items == 0:
		case float64(r.Items) >= MinCoverage*float64(widest):
			wide = append(wide, r)
		default:
			narrow = append(narrow, r)
		}
	}
	return wide, narrow, widest
}

// byCoverageOf is byCoverage with widest at least compared: the items the widest policy of a
// report covers (Report.Compared), which a subset of its results (the candidates a calibration
// keeps) may not include. A result marked Narrow (by Run, against the whole report) is narrow
// whatever its items.
func byCoverageOf(results []*Result, compared int) (wide, narrow []*Result, widest int) {
	wide, narrow, widest = byCoverage(results)
	if compared <= widest && !slices.ContainsFunc(wide, func(r *Result) bool { return r.Narrow }) {
		return wide, narrow, widest
	}
	widest = max(widest, compared)
	var kept []*Result
	for _, r := range wide {
		if r.Narrow || float64(r.Items) < MinCoverage*float64(widest) {
			narrow = append(narrow, r)
		} else {
			kept = append(kept, r)
		}
	}
	return kept, narrow, widest
}

// Calibrate picks among results (single policies and curve points alike) the one that best
// meets target. Only realisable results with items are candidates: never the oracle. Nor is a
// result evaluated on fewer than MinCoverage of the items the widest realisable one covers, or
// one Run marked Narrow (against every policy of its report, which results may be a part of):
// those are listed in Calibration.Excluded, and named by Calibrate's errors.
//
// The choice is made in sample: a threshold chosen on the same items it is measured on looks
// better than it will do on new traffic. Calibrate on one split of the data and check the
// choice on another when the table is large enough.
func Calibrate(results []*Result, target Target) (*Calibration, error) {
	return calibrateAgainst(results, target, 0)
}

// calibrateAgainst is Calibrate with coverage measured against at least compared items (see
// byCoverageOf): Run calibrates a subset of its report's results, from which the widest
// policy (a single model a validated route may not be replaced with) may be gone.
func calibrateAgainst(results []*Result, target Target, compared int) (*Calibration, error) {
	wide, narrow, widest := byCoverageOf(results, compared)
	candidate := func(r *Result) bool {
		return r.Realisable && (target.Kinds == nil || slices.Contains(target.Kinds, r.Kind))
	}
	var cands []*Result
	for _, r := range wide {
		if candidate(r) {
			cands = append(cands, r)
		}
	}
	var excluded []Excluded
	for _, r := range narrow {
		if candidate(r) {
			excluded = append(excluded, Excluded{Name: r.Name, Items: r.Items, Of: widest})
		}
	}
	// left says which candidates coverage left out, for an error: they may be the ones that
	// would have met the target.
	left := ""
	if len(excluded) > 0 {
		left = "; left out for covering too few items: " + describeExcluded(excluded) + "; " + recordRows
	}
	if len(cands) == 0 {
		what := "results"
		if target.Kinds != nil {
			what = "results of kind " + strings.Join(target.Kinds, ", ")
		}
		switch {
		case left != "":
			return nil, fmt.Errorf("no %s to calibrate%s", what, left)
		case target.Kinds != nil:
			return nil, fmt.Errorf("no %s to calibrate: include those policies", what)
		}
		return nil, fmt.Errorf("no results to calibrate")
	}
	byCost := func(a, b *Result) int { return cmp.Compare(a.CostUSD(), b.CostUSD()) }
	byQuality := func(a, b *Result) int { return cmp.Compare(b.Quality, a.Quality) }
	var ok []*Result
	var order func(a, b *Result) int
	switch target.Objective {
	case ClearBar:
		if !(target.Quality >= 0 && target.Quality <= 1) {
			return nil, fmt.Errorf("quality bar %v is outside 0..1", target.Quality)
		}
		for _, r := range cands {
			if r.Quality >= target.Quality {
				ok = append(ok, r)
			}
		}
		order = func(a, b *Result) int { return cmp.Or(byCost(a, b), byQuality(a, b)) }
		if len(ok) == 0 {
			best := slices.MinFunc(cands, byQuality)
			return nil, fmt.Errorf("no policy reaches quality %.2f%%: the best is %s at %.2f%%; lower the bar, add a stronger model, or use a better scorer%s",
				target.Quality*100, best.Name, best.Quality*100, left)
		}
	case StrongShare:
		if !(target.StrongShare >= 0 && target.StrongShare <= 1) {
			return nil, fmt.Errorf("strong share %v is outside 0..1", target.StrongShare)
		}
		for _, r := range cands {
			if r.StrongShare <= target.StrongShare+1e-12 {
				ok = append(ok, r)
			}
		}
		order = func(a, b *Result) int { return cmp.Or(byQuality(a, b), byCost(a, b)) }
		if len(ok) == 0 {
			least := slices.MinFunc(cands, func(a, b *Result) int { return cmp.Compare(a.StrongShare, b.StrongShare) })
			return nil, fmt.Errorf("no policy sends at most %.1f%% of the items to the strong model: the fewest is %s with %.1f%%%s",
				target.StrongShare*100, least.Name, least.StrongShare*100, left)
		}
	case Budget:
		for _, r := range cands {
			if r.CostPerItem <= target.Budget {
				ok = append(ok, r)
			}
		}
		order = func(a, b *Result) int { return cmp.Or(byQuality(a, b), byCost(a, b)) }
		if len(ok) == 0 {
			cheapest := slices.MinFunc(cands, byCost)
			return nil, fmt.Errorf("no policy costs at most %v per item: the cheapest is %s at %v; raise the budget%s", target.Budget, cheapest.Name, cheapest.CostPerItem, left)
		}
	default:
		return nil, fmt.Errorf("unknown objective %d", target.Objective)
	}
	// Among equals, a willingness to pay of λ = 0 (the highest score, whatever the price) comes
	// last: a spec's willingness_to_pay (1/λ) cannot be infinite, and a λ > 0 that routes the
	// items the same way can be written.
	unbounded := func(r *Result) bool { return r.Params.Lambda != nil && *r.Params.Lambda == 0 }
	tied := func(a, b *Result) int {
		return cmp.Or(order(a, b), cmp.Compare(btoi(unbounded(a)), btoi(unbounded(b))))
	}
	return &Calibration{Target: target, Chosen: slices.MinFunc(ok, tied), Candidates: len(cands), Excluded: excluded}, nil
}

// recordRows says what to do about results measured on too few items.
const recordRows = "record their answers to every item (clearbar eval, or shadow traffic) to compare them"

// describeExcluded names excluded results briefly, grouped by the items they cover: at most
// three names a group, and how many more.
func describeExcluded(ex []Excluded) string {
	type cover struct{ items, of int }
	var order []cover
	names := map[cover][]string{}
	for _, x := range ex {
		c := cover{x.Items, x.Of}
		if names[c] == nil {
			order = append(order, c)
		}
		names[c] = append(names[c], x.Name)
	}
	var parts []string
	for _, c := range order {
		n := names[c]
		list := strings.Join(n[:min(len(n), 3)], ", ")
		if len(n) > 3 {
			list += fmt.Sprintf(" and %d more", len(n)-3)
		}
		parts = append(parts, fmt.Sprintf("%s (%d of %d items)", list, c.items, c.of))
	}
	return strings.Join(parts, ", ")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
