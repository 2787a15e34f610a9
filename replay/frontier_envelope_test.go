package replay

import (
	"slices"
	"testing"
)

// TestFrontierLeavesOutWhatAMixBeats is the reported replay: the reference pair's random mix
// "mix nano/strong 70%" (91.70% at $0.00269) beats no listed policy on both cost and quality,
// but the mix of mini and strong that the cost of reaching the best model's quality uses
// reaches 93.10% at $0.00172. The frontier, of policies no policy nor random mix of two beats,
// leaves it out, and keeps the envelope's vertices.
func TestFrontierLeavesOutWhatAMixBeats(t *testing.T) {
	pts := []Point{
		{Policy: "nano", Cost: 0.0002, Quality: 0.70},
		{Policy: "mini", Cost: 0.0008, Quality: 0.90},
		{Policy: "mix nano/strong 70%", Cost: 0.00269, Quality: 0.917},
		{Policy: "strong", Cost: 0.0037, Quality: 0.97},
	}
	var rs []*Result
	for _, p := range pts {
		rs = append(rs, &Result{Name: p.Policy, Realisable: true, Items: 100, costNanos: p.Cost * 100 * 1e9, Quality: p.Quality})
	}
	var frontier []Point
	for _, r := range Frontier(rs) {
		frontier = append(frontier, r.point())
	}
	got := onEnvelope(frontier)
	var names []string
	for _, p := range got {
		names = append(names, p.Policy)
	}
	if want := []string{"nano", "mini", "strong"}; !slices.Equal(names, want) {
		t.Errorf("frontier %v, want %v", names, want)
	}
	// A point on a segment of the envelope is beaten by no mix: it stays.
	mid := []Point{{Policy: "a", Cost: 1, Quality: 0.5}, {Policy: "b", Cost: 2, Quality: 0.6}, {Policy: "c", Cost: 3, Quality: 0.7}}
	if got := onEnvelope(slices.Clone(mid)); len(got) != 3 {
		t.Errorf("onEnvelope(%v) = %v: a point on a segment was left out", mid, got)
	}
}
