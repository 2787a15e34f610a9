package estimate

import (
	"context"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestSameCost: costs per request within 0.01% (or a nano-dollar) of each other tie.
func TestSameCost(t *testing.T) {
	for _, tt := range []struct {
		a, b float64
		tie  bool
	}{
		{1_730_000, 1_730_000, true},
		{1_730_000, 1_730_100, true}, // 0.006%
		{1_730_000, 1_730_400, false},
		{3, 4, true}, // a nano-dollar apart
		{3, 5, false},
	} {
		if got := sameCost(tt.a, tt.b); got != tt.tie {
			t.Errorf("sameCost(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.tie)
		}
	}
}

// TestBreakEvenSeesTheSensitivitysFlip: on support-triage, mid's latency 20% up changes the
// recommendation (cascade-by-price then routes intent through strong as a last step, which
// lowers its risk), and back again further up: the break-even search steps to the
// sensitivity's own move, so that it does not report the recommendation standing well past a
// move the sensitivity shows changing it.
func TestBreakEvenSeesTheSensitivitysFlip(t *testing.T) {
	r, err := Run(context.Background(), load(t, "../examples/support-triage.yaml"), Options{Samples: 30_000, Today: testDay, Sensitivity: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	flipped := false
	for _, f := range r.Sensitivity.Flips {
		flipped = flipped || f.Input == "latency of mid" && strings.HasPrefix(f.Change, "+20%")
	}
	if !flipped {
		t.Fatalf("the sensitivity no longer finds mid's latency +20%% changing the recommendation (pick another of its flips for this test): %+v", r.Sensitivity.Flips)
	}
	if err := FindBreakEvens(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, b := range r.Sensitivity.BreakEvens {
		if b.Input == "latency of mid" && b.Direction == "up" {
			if !b.Found || b.Move > 0.2+1e-9 {
				t.Errorf("break-even of mid's latency up: found %v at a move of %+.3f; the sensitivity's +20%% changes the recommendation", b.Found, b.Move)
			}
			return
		}
	}
	t.Errorf("no break-even search of mid's latency up: %+v", r.Sensitivity.BreakEvens)
}

// TestRecommendedTies: costs tie within 0.01% of the lowest, not of each other, so the choice
// does not depend on the order of the policies; among tied policies that clear, the lower risk
// wins, whatever their raw costs (lower for one that fails requests: no saving).
func TestRecommendedTies(t *testing.T) {
	pol := func(name string, served, raw, risk float64) *PolicyResult {
		p := &PolicyResult{Name: name, Clears: true, served: served}
		p.Total.Cost, p.Total.Risk = clearbar.Money(raw), clearbar.Money(risk)
		return p
	}
	// x serves at 10,000,000 n$, y 0.009% dearer, z 0.018% dearer: y ties with x, z does not.
	x, y, z := pol("x", 10_000_000, 10_000_000, 300), pol("y", 10_000_900, 10_000_900, 200), pol("z", 10_001_800, 10_001_800, 100)
	for _, order := range [][]*PolicyResult{{x, y, z}, {z, y, x}, {y, z, x}} {
		if got := recommended(order); got != y {
			t.Errorf("order %s %s %s: recommended %s, want y (ties with the cheapest, x, and has less risk; z is dearer than x by more than 0.01%%)", order[0].Name, order[1].Name, order[2].Name, got.Name)
		}
	}
	// f fails a few requests: its raw cost is lower, its served cost ties with g's; g has less
	// risk and wins.
	f, g := pol("f", 10_000_000, 9_999_800, 500), pol("g", 10_000_500, 10_000_500, 400)
	if got := recommended([]*PolicyResult{f, g}); got != g {
		t.Errorf("recommended %s, want g: a lower raw cost from failed requests is no saving", got.Name)
	}
}
