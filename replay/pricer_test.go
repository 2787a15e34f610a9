package replay_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

// pricedSpec declares two models priced per token and a category with a typical output of 8
// tokens, for the willingness-to-pay router to price each request as the gateway does.
const pricedSpec = `version: 1
name: priced
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated}}
models:
  small:  {provider: sim, model: small-1, price: {input: 0.6, output: 0.6}}
  strong: {provider: sim, model: strong-1, price: {input: 10, output: 30}}
categories:
  - name: qa
    share: 1
    tokens: {in: 300, out: 8}
    quality_bar: 0.8
    route: {model: strong}
    assume: {pass_rate: {small: 0.6, strong: 0.95}}
`

// TestSpecPricerPricesEachRequest: the willingness-to-pay router decides each item on the
// cost the gateway's score route computes for the request, its prompt's estimated input
// tokens at each model's input price plus the category's typical output at its output price,
// so that at one λ a short prompt goes to the strong model and a long one, whose strong call
// costs more, to the small one; on the models' mean costs both go the same way. Models the
// spec does not declare are left to their mean cost.
func TestSpecPricerPricesEachRequest(t *testing.T) {
	s, err := spec.Parse([]byte(pricedSpec), "priced.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	short, long := "What is 2 + 2?", strings.Repeat("Some context. ", 400)+"What is 2 + 2?"
	var rows []outcomes.Row
	for _, p := range []string{short, long} {
		for _, m := range []string{"small-1", "strong-1", "other"} {
			pass := m != "small-1"
			rows = append(rows, outcomes.Row{Item: fmt.Sprint(len(p)), Category: "qa", Prompt: p, Model: m, TokensIn: len(p) / 4, TokensOut: 8, Cost: 1000, Pass: &pass})
		}
	}
	tb := tableOf(t, s, rows, "qa")
	pricer := replay.SpecPricer(s, s.Category("qa"), tb.Models())
	out := make([]float64, len(tb.Models()))
	for i := range tb.Len() {
		it := tb.Item(i)
		pricer(it, out)
		req := clearbar.Request{Messages: []clearbar.Message{{Role: "user", Text: it.Prompt}}}
		tokens := float64(route.EstimateTokens(&req))
		want := map[string]float64{"small": 0.6e-6*tokens + 0.6e-6*8, "strong": 10e-6*tokens + 30e-6*8}
		for m, name := range tb.Models() {
			if w, ok := want[name]; ok && math.Abs(out[m]-w) > 1e-15 || !ok && !math.IsNaN(out[m]) {
				t.Errorf("item %s, %s: priced %v, want %v", it.ID, name, out[m], w)
			}
		}
	}

	// P(pass) 0.5 for small and 0.9 for strong on both items: at λ = 0.4/0.0005 = 800 the
	// strong model is worth its price when its call costs less than $0.0005 more.
	scores, err := replay.ScoreTable(context.Background(), tb, replay.ScorerFunc(func(it *replay.Item, out []float64) {
		for m, name := range it.Models {
			out[m] = map[string]float64{"small": 0.5, "strong": 0.9}[name]
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	models := []string{"small", "strong"}
	perItem := mustEval(t, replay.WillingnessToPay{Models: models, Scores: scores, Lambda: 800, Pricer: pricer}, tb)
	if perItem.Share("strong") != 0.5 {
		t.Errorf("priced per request: strong share %v, want the short prompt only (0.5)", perItem.Share("strong"))
	}
	for _, lambda := range []float64{100, 800, 5000} {
		if mean := mustEval(t, replay.WillingnessToPay{Models: models, Scores: scores, Lambda: lambda}, tb); mean.Share("strong") != 0 && mean.Share("strong") != 1 {
			t.Errorf("on mean costs at λ %v: strong share %v, want both items decided alike", lambda, mean.Share("strong"))
		}
	}

	// Run prices so with a category, and sweeps λ where the decisions change.
	rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "qa", Models: models,
		Scorer: replay.ScorerFunc(func(it *replay.Item, out []float64) { copy(out, []float64{0.5, 0.9}) }), Include: []string{replay.KindWTP}})
	if err != nil {
		t.Fatal(err)
	}
	var shares []float64
	for _, c := range rep.Curves {
		for _, p := range c.Points {
			shares = append(shares, p.Share("strong"))
		}
	}
	if !containsFloat(shares, 0.5) {
		t.Errorf("the swept willingness-to-pay router never sends the short prompt alone to the strong model: shares %v", shares)
	}
}

func containsFloat(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestWTPSweepSpreadsOverDecisions: the willingness-to-pay sweep places its λ where the
// items' decisions change, so that its points spread over the strong share, a point or two
// apart, as the threshold sweep's do, wherever the switch points lie (placed on a sample of
// them when there are many); and it has a point with λ = 0's decisions and a finite λ.
func TestWTPSweepSpreadsOverDecisions(t *testing.T) {
	// The fewest settings a sweep can have.
	rows, scores := synthetic(500, 2, 11)
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		c, err := replay.WTPSweep{N: n, Scores: scoresOf(t, tb, indexedScorer(scores)), Weak: "m0", Strong: "m1"}.Sweep(tb)
		if err != nil || len(c.Points) == 0 || len(c.Points) > n {
			t.Errorf("N=%d: %d points, %v", n, len(c.Points), err)
		}
	}

	for _, n := range []int{4000, 30_000} {
		rows, scores := synthetic(n, 2, 11)
		tb, err := replay.NewTable(rows, replay.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc := scoresOf(t, tb, indexedScorer(scores))
		c, err := replay.WTPSweep{Scores: sc, Weak: "m0", Strong: "m1"}.Sweep(tb)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Points) < replay.DefaultThresholds*9/10 {
			t.Errorf("%d items: %d points of %d", n, len(c.Points), replay.DefaultThresholds)
		}
		var widest float64
		for k := 1; k < len(c.Points); k++ {
			widest = max(widest, c.Points[k].Share("m1")-c.Points[k-1].Share("m1"))
		}
		if widest > 0.03 {
			t.Errorf("%d items: the sweep's strong share jumps by %.1f points between neighbours; want at most 3", n, 100*widest)
		}
		zero, finite, cheapest := -1.0, -1.0, 1.0
		for _, p := range c.Points {
			switch l := *p.Params.Lambda; {
			case l == 0:
				zero = p.Share("m1")
			case finite < 0 || p.Share("m1") > finite:
				finite = p.Share("m1")
			}
			cheapest = min(cheapest, p.Share("m1"))
		}
		if zero < 0 || finite != zero || cheapest != 0 {
			t.Errorf("%d items: λ = 0 sends %.3f to the strong model, the largest share at a λ > 0 is %.3f, the smallest %.3f; want the first two equal and the last 0", n, zero, finite, cheapest)
		}
	}
}

// checkingScorer scores every model but one, and says so.
type checkingScorer struct{ unknown string }

func (c checkingScorer) Score(_ *replay.Item, out []float64) {}

func (c checkingScorer) CheckModels(models []string) error {
	for _, m := range models {
		if m == c.unknown {
			return errors.New("no prediction for model " + m)
		}
	}
	return nil
}

// TestModelCheckerStopsScoring: a scorer that cannot score one of the table's models stops
// ScoreTable and Run with its own error, rather than scoring the model at random.
func TestModelCheckerStopsScoring(t *testing.T) {
	rows, _ := synthetic(50, 3, 5)
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := replay.ScoreTable(context.Background(), tb, checkingScorer{"m2"}); err == nil || err.Error() != "no prediction for model m2" {
		t.Errorf("ScoreTable: %v", err)
	}
	if _, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Scorer: checkingScorer{"m2"}}); err == nil || err.Error() != "no prediction for model m2" {
		t.Errorf("Run: %v", err)
	}
	if _, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Scorer: checkingScorer{"m9"}}); err != nil {
		t.Errorf("Run with a scorer of every model: %v", err)
	}
}

// countingChecker counts the CheckModels calls of a scorer of every model.
type countingChecker struct{ checks *int }

func (c countingChecker) Score(_ *replay.Item, out []float64) {}

func (c countingChecker) CheckModels([]string) error { *c.checks++; return nil }

// TestRunChecksModelsOnce: Run leaves the model check to ScoreTable, so that a checker
// builds its index of the table's models once.
func TestRunChecksModelsOnce(t *testing.T) {
	rows, _ := synthetic(50, 3, 5)
	var n int
	if _, err := replay.Run(context.Background(), nil, source(rows), replay.Options{Scorer: countingChecker{&n}}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("CheckModels called %d times, want 1", n)
	}
}

// TestSpecPricerBoundToModels: a SpecPricer prices the models it was built for, in their
// order, and refuses an item of a table with its models in another order rather than price
// the wrong models.
func TestSpecPricerBoundToModels(t *testing.T) {
	s, err := spec.Parse([]byte(pricedSpec), "priced.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pass := true
	var rows []outcomes.Row
	for _, m := range []string{"small-1", "strong-1"} {
		rows = append(rows, outcomes.Row{Item: "a", Category: "qa", Prompt: "What is 2 + 2?", Model: m, TokensIn: 4, TokensOut: 8, Cost: 1000, Pass: &pass})
	}
	tb := tableOf(t, s, rows, "qa")
	models := tb.Models()
	reversed := slices.Clone(models)
	slices.Reverse(reversed)
	out := make([]float64, len(models))
	forward := replay.SpecPricer(s, s.Category("qa"), models)
	forward(tb.Item(0), out)
	first := out[0]
	backward := replay.SpecPricer(s, s.Category("qa"), reversed)
	defer func() {
		if recover() == nil {
			t.Errorf("a pricer of %v priced an item of a table of %v (first column %v)", reversed, models, out[0])
		}
	}()
	backward(tb.Item(0), out)
	if out[0] == first {
		t.Errorf("the same price for %s and %s", models[0], reversed[0])
	}
}

// TestWTPSweepSkipsModelsNeverChosen: a model whose (price, score) lies below the line
// between a cheaper and a dearer one is chosen at no λ, so the λ where it would trade with
// its neighbours decides nothing: the sweep places its points only where a decision changes,
// and every one of them moves some items.
func TestWTPSweepSkipsModelsNeverChosen(t *testing.T) {
	const n = 2000
	var rows []outcomes.Row
	v := make([]float64, 0, 3*n)
	for i := range n {
		for m := range 3 {
			pass := i%(m+2) == 0
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprint("q", i), Model: fmt.Sprint("m", m), Cost: clearbar.Money(1000 * (m + 1)), Pass: &pass})
		}
	}
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.Len() {
		var k int
		fmt.Sscanf(tb.Item(i).ID, "q%d", &k)
		// m1 lies one tenth of the way from m0's score to m2's, at half m2's extra price:
		// below the chord, never the best choice.
		a, d := float64(k%97)/200, 0.05+float64(k%89)/100
		row := make([]float64, 3)
		row[tb.Index("m0")], row[tb.Index("m1")], row[tb.Index("m2")] = a, a+d/10, a+d
		v = append(v, row...)
	}
	sc, err := replay.NewScores(tb, v)
	if err != nil {
		t.Fatal(err)
	}
	c, err := replay.WTPSweep{Models: []string{"m0", "m1", "m2"}, Scores: sc, Weak: "m0", Strong: "m2"}.Sweep(tb)
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for k, p := range c.Points {
		if p.Calls["m1"] > 0 {
			t.Fatalf("λ=%v sends %.3f of the items to m1, which no λ should choose", *p.Params.Lambda, p.Calls["m1"])
		}
		if k > 0 && p.Share("m2") == c.Points[k-1].Share("m2") {
			same++
		}
	}
	if same > len(c.Points)/10 {
		t.Errorf("%d of %d points decide as the point before them: λ placed where no decision changes", same, len(c.Points))
	}
}
