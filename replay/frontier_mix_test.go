package replay_test

import (
	"context"
	"testing"

	"github.com/clearbar/clearbar/replay"
)

// TestFrontierHoldsNoPointAMixBeats: on the fixture, no point of the frontier is beaten, at
// its cost, by a random mix of two of the policies compared (single ones and curve points), as
// the cost of reaching the best model's quality mixes them: the reference pair's mix curve
// alone does not make a point cheaper-and-better-proof.
func TestFrontierHoldsNoPointAMixBeats(t *testing.T) {
	reports := map[string]*replay.Report{"routers": fixtureReport(t)}
	for name, opts := range map[string]replay.Options{"intent": {Category: "intent"}, "all": {}} {
		rep, err := replay.Run(context.Background(), fixtureSpec(t), source(fixtureRows(t)), opts)
		if err != nil {
			t.Fatal(err)
		}
		reports[name] = rep
	}
	for opts, rep := range reports {
		var pts []replay.Point
		for _, r := range rep.All() {
			if r.Realisable && !r.Narrow && r.Items > 0 {
				pts = append(pts, replay.Point{Policy: r.Name, Cost: r.CostUSD(), Quality: r.Quality})
			}
		}
		if len(rep.Frontier) == 0 {
			t.Fatalf("%s: no frontier", opts)
		}
		for _, p := range rep.Frontier {
			for _, a := range pts {
				for _, b := range pts {
					if !(a.Cost <= p.Cost && p.Cost <= b.Cost && a.Cost < b.Cost) {
						continue
					}
					mix := a.Quality + (p.Cost-a.Cost)/(b.Cost-a.Cost)*(b.Quality-a.Quality)
					if mix > p.Quality+1e-9 {
						t.Errorf("%s: frontier point %s (%.4f at $%.6f) is beaten by mixing %s and %s (%.4f at the same cost)",
							opts, p.Policy, p.Quality, p.Cost, a.Policy, b.Policy, mix)
					}
				}
			}
		}
	}
}
