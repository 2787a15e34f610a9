package replay_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/replay"
)

// oracleScorer scores each model by its actual grade on the item: a perfect router.
func oracleScorer(tb *replay.Table) replay.ScorerFunc {
	index := itemIndex(tb)
	return func(item *replay.Item, out []float64) {
		i := index[item.ID]
		for m := range out {
			out[m] = tb.Cell(i, m).Quality
		}
	}
}

func itemIndex(tb *replay.Table) map[string]int {
	index := make(map[string]int, tb.Len())
	for i := 0; i < tb.Len(); i++ {
		index[tb.Item(i).ID] = i
	}
	return index
}

func scoresOf(t *testing.T, tb *replay.Table, s replay.Scorer) *replay.Scores {
	t.Helper()
	sc, err := replay.ScoreTable(context.Background(), tb, s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestAPGRCurves measures routers with APGR: a random mix recovers exactly half the gap, a
// router that knows the answers more, one that is always wrong less, and one with no
// information sees only the two ends (so it is the random line again).
func TestAPGRCurves(t *testing.T) {
	tb, scores := syntheticTable(t, 3000, 2, 6)
	perfect := scoresOf(t, tb, oracleScorer(tb))
	index := itemIndex(tb)
	inverse := scoresOf(t, tb, replay.ScorerFunc(func(item *replay.Item, out []float64) {
		i := index[item.ID]
		for m := range out {
			out[m] = 1 - tb.Cell(i, m).Quality
		}
	}))
	flat := scoresOf(t, tb, replay.ScorerFunc(func(_ *replay.Item, out []float64) {
		for m := range out {
			out[m] = 0.5
		}
	}))
	noisy := scoresOf(t, tb, indexedScorer(scores))
	var qw, qs, qb, s1 float64
	for i := 0; i < tb.Len(); i++ {
		w, s := tb.Cell(i, 0).Quality, tb.Cell(i, 1).Quality
		qw, qs, qb = qw+w, qs+s, qb+math.Max(w, s)
		s1 += 1 - w
	}
	n := float64(tb.Len())
	qw, qs, qb, s1 = qw/n, qs/n, qb/n, s1/n
	perfectAPGR := (s1*((qw+qb)/2-qw) + (1-s1)*((qb+qs)/2-qw)) / (qs - qw)
	tests := []struct {
		name        string
		explanation string
		sweep       replay.Sweep
		lo, hi      float64
	}{
		{"random mix", "a straight line from weak to strong: exactly 0.5", replay.MixSweep{Weak: "m0", Strong: "m1"}, 0.5 - 1e-12, 0.5 + 1e-12},
		{"no information", "equal scores merge every threshold into all-weak and all-strong", replay.ThresholdSweep{Weak: "m0", Strong: "m1", Scores: flat}, 0.5 - 1e-12, 0.5 + 1e-12},
		{"perfect scorer", "sends exactly the items the weak model fails to the strong one: three points, (0, weak), (weak's failures, better of two), (1, strong)", replay.ThresholdSweep{Weak: "m0", Strong: "m1", Scores: perfect}, perfectAPGR - 1e-12, perfectAPGR + 1e-12},
		{"noisy scorer", "better than random, worse than perfect", replay.ThresholdSweep{Weak: "m0", Strong: "m1", Scores: noisy}, 0.5, 0.9},
		{"inverse scorer", "sends the items the weak model gets right to the strong one first", replay.ThresholdSweep{Weak: "m0", Strong: "m1", Scores: inverse}, -1, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.sweep.Sweep(tb)
			if err != nil {
				t.Fatal(err)
			}
			if c.APGR == nil || *c.APGR < tt.lo || *c.APGR > tt.hi {
				t.Errorf("APGR %v, want within [%v, %v]: %s", deref(c.APGR), tt.lo, tt.hi, tt.explanation)
			}
			first, last := c.Points[0], c.Points[len(c.Points)-1]
			if first.Share("m1") != 0 || last.Share("m1") != 1 {
				t.Errorf("the curve runs from %v to %v strong calls, want 0 to 1", first.Share("m1"), last.Share("m1"))
			}
			if first.Quality != c.WeakQuality || last.Quality != c.StrongQuality {
				t.Errorf("the curve's ends %v, %v are not the weak and strong qualities %v, %v", first.Quality, last.Quality, c.WeakQuality, c.StrongQuality)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestAPGR checks the formula on hand-made curves.
func TestAPGR(t *testing.T) {
	const qw, qs = 0.6, 0.9
	tests := []struct {
		name        string
		explanation string
		points      []replay.SharePoint
		want        float64
		ok          bool
	}{
		{"weak everywhere", "never recovers any of the gap", []replay.SharePoint{{0, qw}, {0.5, qw}, {1, qw}}, 0, true},
		{"strong everywhere", "the strong model's quality at every share", []replay.SharePoint{{0, qs}, {1, qs}}, 1, true},
		{"random", "a straight line from weak to strong", []replay.SharePoint{{0, qw}, {1, qs}}, 0.5, true},
		{"unsorted input", "points are sorted by share first", []replay.SharePoint{{1, qs}, {0, qw}, {0.5, 0.85}}, 2.0 / 3, true},
		{"partial span", "normalised by the shares the points span, as RouteLLM's script does", []replay.SharePoint{{0.2, 0.75}, {0.6, 0.75}}, 0.5, true},
		{"no gap", "the weak and strong qualities are equal", []replay.SharePoint{{0, 0.5}, {1, 0.5}}, 0, false},
		{"one point", "no span to average over", []replay.SharePoint{{0.3, 0.7}}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := qw, qs
			if tt.name == "no gap" {
				w, s = 0.5, 0.5
			}
			got, ok := replay.APGR(tt.points, w, s)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("APGR = %v, %v; want %v, %v (%s)", got, ok, tt.want, tt.ok, tt.explanation)
			}
		})
	}
}

// TestThresholdSweepShape checks the default thresholds: about N of them, strong calls
// running from 0 to 1 in order, and explicit thresholds taken as given.
func TestThresholdSweepShape(t *testing.T) {
	tb, scores := syntheticTable(t, 5000, 3, 7)
	sc := scoresOf(t, tb, indexedScorer(scores))
	c, err := replay.ThresholdSweep{Weak: "m0", Strong: "m2", Scores: sc}.Sweep(tb)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Points) < 95 || len(c.Points) > replay.DefaultThresholds+1 {
		t.Errorf("%d points, want about %d", len(c.Points), replay.DefaultThresholds)
	}
	for k := 1; k < len(c.Points); k++ {
		prev, cur := c.Points[k-1].Share("m2"), c.Points[k].Share("m2")
		if cur < prev || cur-prev > 0.03 {
			t.Errorf("strong share jumps from %v to %v between points %d and %d", prev, cur, k-1, k)
		}
	}
	c, err = replay.ThresholdSweep{Weak: "m0", Strong: "m2", Scores: sc, Thresholds: []float64{2, -1}}.Sweep(tb)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Points) != 2 || c.Points[0].Share("m2") != 0 || c.Points[1].Share("m2") != 1 {
		t.Errorf("thresholds -1 and 2 should give all-weak and all-strong, sorted: %v", names(c.Points))
	}
}

// TestWillingnessToPay: at λ = 0 the router picks the best score; at a huge λ, the cheapest
// model; the sweep spans both.
func TestWillingnessToPay(t *testing.T) {
	tb, _ := syntheticTable(t, 400, 4, 8)
	perfect := scoresOf(t, tb, oracleScorer(tb))
	oracle := mustEval(t, replay.Oracle{}, tb)
	best := mustEval(t, replay.WillingnessToPay{Scores: perfect, Lambda: 0}, tb)
	if best.Quality != oracle.Quality {
		t.Errorf("λ=0 with a perfect scorer: quality %v, want the oracle's %v", best.Quality, oracle.Quality)
	}
	cheap := mustEval(t, replay.WillingnessToPay{Scores: perfect, Lambda: 1e12}, tb)
	if cheap.Share("m0") != 1 {
		t.Errorf("a huge λ should pick the cheapest model every time: calls %v", cheap.Calls)
	}
	c, err := replay.WTPSweep{Scores: perfect, Weak: "m0", Strong: "m3"}.Sweep(tb)
	if err != nil {
		t.Fatal(err)
	}
	// The perfect scores are 0 or 1 and every item has the same prices: the decisions change
	// at a few values of λ only, which the sweep finds (duplicates merged).
	if len(c.Points) < 3 || len(c.Points) > replay.DefaultThresholds || c.APGR == nil || *c.APGR <= 0.5 {
		t.Errorf("wtp sweep: %d points, APGR %v; want 3 to %d points and APGR > 0.5 with a perfect scorer", len(c.Points), deref(c.APGR), replay.DefaultThresholds)
	}
	if _, err := (replay.WillingnessToPay{Scores: perfect, Lambda: -1}).Evaluate(tb); err == nil {
		t.Error("a negative λ should be rejected")
	}
}

// TestScoreTable asks the scorer once per item, maps NaN to the lowest score, and checks
// precomputed scores' size.
func TestScoreTable(t *testing.T) {
	tb, _ := syntheticTable(t, 50, 2, 9)
	calls := 0
	sc := scoresOf(t, tb, replay.ScorerFunc(func(item *replay.Item, out []float64) {
		calls++
		if len(out) != 2 || len(item.Models) != 2 {
			t.Fatalf("out has %d entries, item.Models %d; want 2", len(out), len(item.Models))
		}
		out[0], out[1] = math.NaN(), math.Inf(1)
	}))
	if calls != tb.Len() {
		t.Errorf("%d scorer calls for %d items", calls, tb.Len())
	}
	if sc.At(0, 0) >= -1e299 || math.IsInf(sc.At(0, 1), 0) {
		t.Errorf("NaN became %v and +Inf %v; want the lowest finite score and a finite one", sc.At(0, 0), sc.At(0, 1))
	}
	if _, err := replay.NewScores(tb, make([]float64, 3)); err == nil || !strings.Contains(err.Error(), "want 100") {
		t.Errorf("NewScores with 3 scores: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := replay.ScoreTable(ctx, tb, replay.ScorerFunc(func(*replay.Item, []float64) {})); err == nil {
		t.Error("ScoreTable should stop at a cancelled context")
	}
}
