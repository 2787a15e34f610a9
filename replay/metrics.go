package replay

import (
	"cmp"
	"slices"
)

// Point is a policy's place on the cost/quality plane: mean cost per item in dollars and
// mean quality.
type Point struct {
	Policy  string  `json:"policy"`
	Cost    float64 `json:"cost_per_item_usd"`
	Quality float64 `json:"quality"`
}

// SharePoint is a router's quality at a share of calls to the strong model.
type SharePoint struct {
	Share   float64
	Quality float64
}

// APGR is RouteLLM's average performance gap recovered (Ong et al., "RouteLLM: Learning to
// Route LLMs with Preference Data", arXiv:2406.18665, §4): the performance gap recovered by a
// router at a share s of calls to the strong model is
//
//	PGR(s) = (Q(s) − Q_weak) / (Q_strong − Q_weak)
//
// and APGR is its average over the share of strong calls, ∫ PGR(s) ds. As in RouteLLM's
// evaluate.py, the integral is the trapezoid rule over the router's points sorted by share,
// normalised by the range of shares they span:
//
//	APGR = Σ_k (s_{k+1} − s_k)·((Q_k + Q_{k+1})/2 − Q_weak) / ((Q_strong − Q_weak)·(s_max − s_min))
//
// A curve over s from 0 to 1 that never beats the weak model scores 0; one at the strong
// model's quality everywhere scores 1; a random router (a Mix, a straight line from the weak
// to the strong model) scores exactly 0.5; a router better than random scores above 0.5.
// It reports false when there is no gap (Q_strong = Q_weak) or the points span no shares.
func APGR(points []SharePoint, qWeak, qStrong float64) (float64, bool) {
	pts := slices.Clone(points)
	slices.SortStableFunc(pts, func(a, b SharePoint) int { return cmp.Compare(a.Share, b.Share) })
	if len(pts) < 2 || qStrong == qWeak {
		return 0, false
	}
	span := pts[len(pts)-1].Share - pts[0].Share
	if !(span > 0) {
		return 0, false
	}
	var area float64
	for k := 0; k+1 < len(pts); k++ {
		a, b := pts[k], pts[k+1]
		area += (b.Share - a.Share) * ((a.Quality+b.Quality)/2 - qWeak)
	}
	return area / ((qStrong - qWeak) * span), true
}

// callPerformance returns the smallest share of strong calls at which the piecewise-linear
// curve through pts (sorted by share) reaches quality target.
func callPerformance(pts []SharePoint, target float64) (float64, bool) {
	if len(pts) == 0 {
		return 0, false
	}
	if pts[0].Quality >= target {
		return pts[0].Share, true
	}
	for k := 0; k+1 < len(pts); k++ {
		a, b := pts[k], pts[k+1]
		if a.Quality < target && b.Quality >= target {
			return a.Share + (target-a.Quality)/(b.Quality-a.Quality)*(b.Share-a.Share), true
		}
	}
	return 0, false
}

// Frontier returns the realisable results no other result beats on both cost and quality
// (a result with the same cost and a higher quality, or a lower cost and at least the same
// quality, dominates), sorted by cost. Results without items are left out.
func Frontier(results []*Result) []*Result {
	var rs []*Result
	for _, r := range results {
		if r.Realisable && r.Items > 0 {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b *Result) int {
		if c := cmp.Compare(a.CostUSD(), b.CostUSD()); c != 0 {
			return c
		}
		return cmp.Compare(b.Quality, a.Quality)
	})
	var out []*Result
	for _, r := range rs {
		if len(out) == 0 || r.Quality > out[len(out)-1].Quality {
			out = append(out, r)
		}
	}
	return out
}

// Hull returns the vertices of the non-decreasing concave envelope of points, sorted by
// cost: the best quality reachable at each cost by choosing one of the points' policies at
// random for each item (which makes every point on a segment between two points reachable)
// and by spending less than the budget. This is RouterBench's non-decreasing convex hull;
// over the single models it is the zero router. Between vertices the envelope is linear,
// and after the last it stays at the last vertex's quality.
func Hull(points []Point) []Point {
	pts := slices.Clone(points)
	slices.SortStableFunc(pts, func(a, b Point) int {
		if c := cmp.Compare(a.Cost, b.Cost); c != 0 {
			return c
		}
		return cmp.Compare(b.Quality, a.Quality)
	})
	var h []Point
	for _, p := range pts {
		if len(h) > 0 && h[len(h)-1].Cost == p.Cost {
			continue // same cost, lower quality
		}
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], p) >= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	// Past the best vertex the upper hull falls; the non-decreasing envelope stays flat.
	best := 0
	for i, p := range h {
		if p.Quality > h[best].Quality {
			best = i
		}
	}
	return h[:min(best+1, len(h))]
}

// cross is the z component of (a−o)×(b−o): ≥ 0 when a is on or below the segment o→b.
func cross(o, a, b Point) float64 {
	return (a.Cost-o.Cost)*(b.Quality-o.Quality) - (a.Quality-o.Quality)*(b.Cost-o.Cost)
}

// AIQ is RouterBench's average improvement in quality (Hu et al., "RouterBench: A Benchmark
// for Multi-LLM Routing System", arXiv:2403.12031, §3): the area under a router's
// quality-vs-cost curve, normalised by the cost range,
//
//	AIQ = 1/(c_max − c_min) · ∫_{c_min}^{c_max} R(c) dc
//
// where R is the non-decreasing concave envelope of the router's points (see Hull): linear
// between its vertices, flat after the last (a router can always spend less), and 0 below its
// cheapest point (it cannot run on less). Replay takes [c_min, c_max] as the cheapest and the
// dearest single model's mean cost per item, so every curve is measured over the same range;
// the zero router — the envelope of the single models, that is, every random mix of them —
// then never scores 0 anywhere, and a router's AIQ minus the zero router's is what routing
// adds over mixing models at random. (RouterBench's published script integrates from 0 to
// the largest cost instead; the ranking of routers is the same.) When c_max = c_min, AIQ is
// R(c_min).
func AIQ(points []Point, cmin, cmax float64) float64 {
	h := Hull(points)
	if len(h) == 0 {
		return 0
	}
	if !(cmax > cmin) {
		return envelopeAt(h, cmin)
	}
	var area float64
	for j := 0; j+1 < len(h); j++ {
		a, b := h[j], h[j+1]
		x0, x1 := max(a.Cost, cmin), min(b.Cost, cmax)
		if x1 > x0 {
			area += (envelopeAt(h, x0) + envelopeAt(h, x1)) / 2 * (x1 - x0)
		}
	}
	last := h[len(h)-1]
	if x0 := max(last.Cost, cmin); cmax > x0 {
		area += last.Quality * (cmax - x0)
	}
	return area / (cmax - cmin)
}

// envelopeAt evaluates the envelope with vertices h at cost c.
func envelopeAt(h []Point, c float64) float64 {
	if len(h) == 0 || c < h[0].Cost {
		return 0
	}
	for j := 0; j+1 < len(h); j++ {
		a, b := h[j], h[j+1]
		if c <= b.Cost {
			return a.Quality + (c-a.Cost)/(b.Cost-a.Cost)*(b.Quality-a.Quality)
		}
	}
	return h[len(h)-1].Quality
}

// CostAtQuality is the cheapest way to reach a share of the best single model's quality.
type CostAtQuality struct {
	// Fraction of the best single model's quality, and Target the quality it makes.
	Fraction float64 `json:"fraction"`
	Target   float64 `json:"target"`
	// Reached is false when no policy, nor any random mix of two, gets there.
	Reached bool `json:"reached"`
	// Cost is the mean cost per item in dollars on the frontier's envelope (see Hull) at
	// Target: a random mix of the policies Lower and Upper (the same policy when Target is
	// at a vertex), Share of the items going to Upper.
	Cost  float64 `json:"cost_per_item_usd"`
	Lower string  `json:"lower,omitempty"`
	Upper string  `json:"upper,omitempty"`
	Share float64 `json:"share"`
	// Cheapest is the cheapest single evaluated policy that reaches Target, when one does.
	Cheapest *Point `json:"cheapest,omitempty"`
	// Savings is 1 − Cost / the best single model's cost.
	Savings float64 `json:"savings"`
}

// CostAt finds, for each fraction x, the lowest cost at which the realisable results reach
// x × qBest, interpolating along the non-decreasing envelope of their frontier; bestCost is
// the best model's cost per item, for the savings.
func CostAt(results []*Result, qBest, bestCost float64, fractions []float64) []CostAtQuality {
	front := Frontier(results)
	pts := make([]Point, len(front))
	for i, r := range front {
		pts[i] = r.point()
	}
	h := Hull(pts)
	out := make([]CostAtQuality, 0, len(fractions))
	for _, x := range fractions {
		c := CostAtQuality{Fraction: x, Target: x * qBest}
		for _, r := range front {
			if r.Quality >= c.Target {
				p := r.point()
				c.Cheapest = &p
				break
			}
		}
		for j, v := range h {
			if v.Quality < c.Target {
				continue
			}
			c.Reached = true
			if j == 0 {
				c.Cost, c.Lower, c.Upper, c.Share = v.Cost, v.Policy, v.Policy, 1
				break
			}
			a := h[j-1]
			s := (c.Target - a.Quality) / (v.Quality - a.Quality)
			c.Cost, c.Lower, c.Upper, c.Share = a.Cost+s*(v.Cost-a.Cost), a.Policy, v.Policy, s
			break
		}
		if c.Reached && bestCost > 0 {
			c.Savings = 1 - c.Cost/bestCost
		}
		out = append(out, c)
	}
	return out
}
