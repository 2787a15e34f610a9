package replay

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// res makes a result with a cost per item in dollars, for the metric tests.
func res(name string, cost, quality float64, opts ...func(*Result)) *Result {
	r := &Result{Name: name, Kind: "single", Items: 100, Quality: quality, Realisable: true, costNanos: cost * 1e9 * 100, Calls: map[string]float64{}}
	r.CostPerItem = clearbar.MoneyFromUSD(cost)
	for _, o := range opts {
		o(r)
	}
	return r
}

func kind(k string) func(*Result)         { return func(r *Result) { r.Kind = k } }
func strongShare(s float64) func(*Result) { return func(r *Result) { r.StrongShare = s } }
func hindsight() func(*Result)            { return func(r *Result) { r.Realisable = false } }
func pointNames(ps []Point) (out []string) {
	return mapNames(ps, func(p Point) string { return p.Policy })
}
func resultNames(rs []*Result) []string {
	return mapNames(rs, func(r *Result) string { return r.Name })
}

func mapNames[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func TestHull(t *testing.T) {
	tests := []struct {
		name        string
		explanation string
		points      []Point
		want        []string
	}{
		{"concave", "every point is a vertex", []Point{{"a", 1, 0.5}, {"b", 2, 0.8}, {"c", 4, 0.85}}, []string{"a", "b", "c"}},
		{"below a chord", "d is under the segment b–c, reachable by mixing b and c", []Point{{"a", 1, 0.5}, {"d", 3, 0.6}, {"b", 2, 0.8}, {"c", 4, 0.85}}, []string{"a", "b", "c"}},
		{"collinear", "a point on a segment adds nothing", []Point{{"a", 1, 0.5}, {"m", 2, 0.6}, {"b", 3, 0.7}}, []string{"a", "b"}},
		{"falling tail", "a dearer, worse model is never worth it: the envelope stays flat", []Point{{"a", 1, 0.5}, {"b", 2, 0.9}, {"c", 5, 0.7}}, []string{"a", "b"}},
		{"same cost", "of two points at one cost the better is kept", []Point{{"a", 1, 0.5}, {"a2", 1, 0.6}, {"b", 2, 0.7}}, []string{"a2", "b"}},
		{"cheapest is best", "one vertex", []Point{{"a", 1, 0.9}, {"b", 2, 0.8}}, []string{"a"}},
		{"empty", "nothing to hull", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pointNames(Hull(tt.points)); !slices.Equal(got, tt.want) {
				t.Errorf("Hull = %v, want %v (%s)", got, tt.want, tt.explanation)
			}
		})
	}
}

func TestAIQ(t *testing.T) {
	singles := []Point{{"a", 1, 0.5}, {"d", 3, 0.6}, {"b", 2, 0.8}, {"c", 4, 0.85}}
	zero := AIQ(singles, 1, 4)
	tests := []struct {
		name        string
		explanation string
		points      []Point
		lo, hi      float64
		want        float64
	}{
		{"zero router by hand", "(0.5+0.8)/2·1 + (0.8+0.85)/2·2 over a range of 3", singles, 1, 4, 2.3 / 3},
		{"the hull itself", "AIQ of the zero router's own vertices is the zero router's", Hull(singles), 1, 4, zero},
		{"starts dearer", "below its cheapest point a router reaches nothing", []Point{{"b", 2, 0.8}, {"c", 4, 0.85}}, 1, 4, 1.65 / 3},
		{"flat after", "above its dearest point a router keeps its best quality", []Point{{"a", 1, 0.5}, {"b", 2, 0.8}}, 1, 4, (0.65 + 0.8*2) / 3},
		{"beyond the range", "points past c_max are cut at c_max", []Point{{"a", 1, 0.5}, {"e", 7, 0.8}}, 1, 4, (0.5 + 0.65) / 2},
		{"no range", "c_max = c_min: the envelope's value there", singles, 2, 2, 0.8},
		{"empty", "no points, no quality", nil, 1, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AIQ(tt.points, tt.lo, tt.hi); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("AIQ = %v, want %v (%s)", got, tt.want, tt.explanation)
			}
		})
	}
	better := append(slices.Clone(singles), Point{"router", 1.5, 0.8})
	if AIQ(better, 1, 4) <= zero {
		t.Errorf("a router point above the zero router should raise AIQ above %v", zero)
	}
}

func TestFrontier(t *testing.T) {
	rs := []*Result{
		res("cheap", 0.001, 0.6),
		res("dominated", 0.002, 0.55),
		res("mid", 0.003, 0.8),
		res("same cost worse", 0.003, 0.7),
		res("oracle", 0.0005, 0.99, hindsight()),
		res("dear", 0.01, 0.85),
		res("dear and no better", 0.02, 0.85),
		{Name: "empty", Realisable: true, Calls: map[string]float64{}},
	}
	want := []string{"cheap", "mid", "dear"}
	if got := resultNames(Frontier(rs)); !slices.Equal(got, want) {
		t.Errorf("Frontier = %v, want %v (dominated points, the oracle and empty results are left out)", got, want)
	}
}

func TestCostAt(t *testing.T) {
	rs := []*Result{res("weak", 0.001, 0.6), res("router", 0.002, 0.8), res("strong", 0.01, 0.9), res("oracle", 0.0001, 0.99, hindsight())}
	got := CostAt(rs, 0.9, 0.01, []float64{0.6, 0.8, 0.95, 1, 1.2})
	tests := []struct {
		explanation string
		reached     bool
		cost        float64
		lower       string
		upper       string
		cheapest    string
	}{
		{"0.54 ≤ weak's 0.6: the weak model alone", true, 0.001, "weak", "weak", "weak"},
		{"0.72: 60% of the way from weak to router", true, 0.001 + 0.6*0.001, "weak", "router", "router"},
		{"0.855: 55% of the way from router to strong", true, 0.002 + 0.55*0.008, "router", "strong", "strong"},
		{"0.9: the strong model", true, 0.01, "router", "strong", "strong"},
		{"1.08: beyond every policy (the oracle does not count)", false, 0, "", "", ""},
	}
	for i, tt := range tests {
		c := got[i]
		cheapest := ""
		if c.Cheapest != nil {
			cheapest = c.Cheapest.Policy
		}
		if c.Reached != tt.reached || math.Abs(c.Cost-tt.cost) > 1e-15 || c.Lower != tt.lower || c.Upper != tt.upper || cheapest != tt.cheapest {
			t.Errorf("fraction %v: %+v; want reached %v cost %v between %q and %q, cheapest %q (%s)", c.Fraction, c, tt.reached, tt.cost, tt.lower, tt.upper, tt.cheapest, tt.explanation)
		}
	}
	if s := got[1].Savings; math.Abs(s-(1-0.0016/0.01)) > 1e-12 {
		t.Errorf("savings %v, want 1 − 0.0016/0.01", s)
	}
}

func TestCalibrate(t *testing.T) {
	rs := []*Result{
		res("weak", 0.001, 0.6, strongShare(0)),
		res("t1", 0.002, 0.8, kind("threshold"), strongShare(0.2)),
		res("t2", 0.004, 0.86, kind("threshold"), strongShare(0.4)),
		res("cascade", 0.003, 0.86, kind("cascade"), strongShare(0.35)),
		res("strong", 0.01, 0.9, strongShare(1)),
		res("oracle", 0.0001, 0.99, hindsight(), strongShare(0.1)),
	}
	tests := []struct {
		name        string
		explanation string
		target      Target
		want        string
		err         string
	}{
		{"bar", "the cheapest that clears 0.85", Target{Objective: ClearBar, Quality: 0.85}, "cascade", ""},
		{"bar among thresholds", "Kinds limits the candidates", Target{Objective: ClearBar, Quality: 0.85, Kinds: []string{"threshold"}}, "t2", ""},
		{"bar too high", "the oracle is never a candidate", Target{Objective: ClearBar, Quality: 0.95}, "", "no policy reaches quality 95.00%: the best is strong at 90.00%"},
		{"strong share", "the best with at most 40% strong calls", Target{Objective: StrongShare, StrongShare: 0.4}, "cascade", ""},
		{"strong share none", "", Target{Objective: StrongShare, StrongShare: -0.1}, "", "outside 0..1"},
		{"budget", "the best at most $0.0025 per item", Target{Objective: Budget, Budget: clearbar.MoneyFromUSD(0.0025)}, "t1", ""},
		{"budget too low", "", Target{Objective: Budget, Budget: clearbar.MoneyFromUSD(0.0001)}, "", "the cheapest is weak at $0.00100; raise the budget"},
		{"no such kind", "", Target{Kinds: []string{"wtp"}}, "", "no results of kind wtp to calibrate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Calibrate(rs, tt.target)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			case c.Chosen.Name != tt.want:
				t.Errorf("chose %s, want %s (%s)", c.Chosen.Name, tt.want, tt.explanation)
			}
		})
	}
}

// TestCalibrateLeavesOutNarrowResults: a result measured on a few of the items (a model with
// rows only for what a cascade escalated to it, as in a trace export) is not compared with the
// others, however good it looks there, and the calibration says so.
func TestCalibrateLeavesOutNarrowResults(t *testing.T) {
	narrow := res("strong", 0.01, 1, strongShare(1))
	narrow.Items = 7
	rs := []*Result{res("weak", 0.001, 0.6), res("cascade", 0.003, 0.86, kind("cascade")), narrow}
	c, err := Calibrate(rs, Target{Objective: ClearBar, Quality: 0.95})
	if err == nil || !strings.Contains(err.Error(), "the best is cascade at 86.00%") {
		t.Fatalf("calibration %+v, error %v: strong, on 7 of 100 items, must not be chosen", c, err)
	}
	c, err = Calibrate(rs, Target{Objective: ClearBar, Quality: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if c.Chosen.Name != "cascade" || !slices.Equal(c.Excluded, []Excluded{{Name: "strong", Items: 7, Of: 100}}) || c.Candidates != 2 {
		t.Errorf("chose %s among %d, excluded %+v", c.Chosen.Name, c.Candidates, c.Excluded)
	}
}

// TestCalibrateErrorsNameNarrowResults: when nothing meets the target, the error names the
// results left out for covering too few items, with their coverage, and says how to compare
// them: the one left out may be what would have met it.
func TestCalibrateErrorsNameNarrowResults(t *testing.T) {
	narrow := res("strong", 0.01, 1, strongShare(1))
	narrow.Items = 7
	rs := []*Result{res("weak", 0.001, 0.6, strongShare(0.1)), res("cascade", 0.003, 0.86, kind("cascade"), strongShare(0.35)), narrow}
	for i := range 5 {
		p := res(fmt.Sprintf("threshold %d", i), 0.002, 0.9, kind("threshold"), strongShare(0.5))
		p.Items = 30
		rs = append(rs, p)
	}
	const (
		all    = "; left out for covering too few items: strong (7 of 100 items), threshold 0, threshold 1, threshold 2 and 2 more (30 of 100 items); "
		record = "record their answers to every item (clearbar eval, or shadow traffic) to compare them"
	)
	tests := []struct {
		name   string
		target Target
		want   string
	}{
		{"bar", Target{Objective: ClearBar, Quality: 0.95},
			"no policy reaches quality 95.00%: the best is cascade at 86.00%; lower the bar, add a stronger model, or use a better scorer" + all + record},
		{"strong share", Target{Objective: StrongShare, StrongShare: 0.05},
			"no policy sends at most 5.0% of the items to the strong model: the fewest is weak with 10.0%" + all + record},
		{"budget", Target{Objective: Budget, Budget: clearbar.MoneyFromUSD(0.0005)},
			"no policy costs at most $0.000500 per item: the cheapest is weak at $0.00100; raise the budget" + all + record},
		{"kind", Target{Objective: ClearBar, Quality: 0.8, Kinds: []string{"threshold"}},
			"no results of kind threshold to calibrate; left out for covering too few items: threshold 0, threshold 1, threshold 2 and 2 more (30 of 100 items); " + record},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Calibrate(rs, tt.target)
			if err == nil || err.Error() != tt.want {
				t.Errorf("calibration %+v, error\n%v\nwant\n%s", c, err, tt.want)
			}
		})
	}
	// Without narrow results, the errors are as they were.
	if _, err := Calibrate(rs[:2], Target{Objective: ClearBar, Quality: 0.95}); err == nil || strings.Contains(err.Error(), "left out") {
		t.Errorf("error %v, want one that names nothing left out", err)
	}
}

// TestWeightedQuantile compares the selection with sorting: unit weights give the
// nearest-rank quantile; weights move it.
func TestWeightedQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 19, 20, 21, 100, 1001} {
		xs := make([]wv, n)
		vals := make([]float64, n)
		for i := range xs {
			v := math.Round(rng.Float64()*50) / 10 // ties on purpose
			xs[i], vals[i] = wv{v, 1}, v
		}
		slices.Sort(vals)
		for _, p := range []float64{0, 0.5, 0.95, 1} {
			rank := max(int(math.Ceil(p*float64(n))), 1)
			if got := weightedQuantile(slices.Clone(xs), p); got != vals[rank-1] {
				t.Errorf("n=%d p=%v: %v, want the rank-%d value %v", n, p, got, rank, vals[rank-1])
			}
		}
	}
	weighted := []wv{{1, 0.9}, {10, 0.06}, {100, 0.04}}
	if got := weightedQuantile(slices.Clone(weighted), 0.95); got != 10 {
		t.Errorf("p95 of 1 (90%%), 10 (6%%), 100 (4%%) = %v, want 10", got)
	}
	if got := weightedQuantile(slices.Clone(weighted), 0.97); got != 100 {
		t.Errorf("p97 = %v, want 100", got)
	}
}

func TestQuantileThresholds(t *testing.T) {
	tests := []struct {
		name        string
		explanation string
		scores      []float64
		n           int
		want        []float64
	}{
		{"evenly", "ranks 0, 2, 4 of 4 scores and one above the top", []float64{0.4, 0.1, 0.3, 0.2}, 3, []float64{0.1, 0.3, 1}},
		{"ties", "equal scores merge into one threshold", []float64{0.5, 0.5, 0.5, 0.5}, 5, []float64{0.5, 1}},
		{"one", "a single threshold still gets the all-strong end", []float64{0.2, 0.7}, 1, []float64{1}},
		{"shortest", "each threshold is the shortest decimal above the next lower score", []float64{0.123456, 0.71234, 0.712391, 0.8}, 3, []float64{0.1, 0.71239, 1}},
		{"negative", "scores below zero, the top one too", []float64{-3.25, -2.5}, 2, []float64{-4, 1}},
		{"near one", "the all-strong threshold of probabilities stays a probability", []float64{0.2, 0.9999}, 2, []float64{0.2, 1}},
		{"exactly one", "a score of exactly 1 leaves no probability above it", []float64{0.2, 1}, 2, []float64{0.2, 2}},
		{"none", "no items", nil, 10, []float64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantileThresholds(tt.scores, tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("quantileThresholds = %v, want %v (%s)", got, tt.want, tt.explanation)
			}
		})
	}
}
