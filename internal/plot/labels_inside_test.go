package plot

import (
	"fmt"
	"strings"
	"testing"
)

// TestPlaceLabelsStayInside: in a crowded plot, where every place around a mark near the edge
// overlaps something, a label is still placed inside the area, and a label wider than the area
// is shortened to fit it, ending in "…".
func TestPlaceLabelsStayInside(t *testing.T) {
	area := Box{X0: 64, Y0: 28, X1: 346, Y1: 216}
	var marks []Mark
	var texts []string
	for i := range 6 {
		for j := range 4 {
			marks = append(marks, Mark{X: 250 + 18*float64(i), Y: 40 + 45*float64(j), R: 5})
			texts = append(texts, fmt.Sprintf("score, heuristic tiers 0.%d: nano → sonnet", i*4+j))
		}
	}
	marks = append(marks, Mark{X: 100, Y: 120, R: 5})
	long := strings.Repeat("a very long route label ", 4)
	texts = append(texts, long)
	labels := PlaceLabels(marks, texts, nil, nil, nil, area)
	for i, l := range labels {
		if l.Text == "" {
			t.Errorf("label %q was left out", texts[i])
			continue
		}
		if e := l.Extent(l.Text); e.Outside(area) > 0 {
			t.Errorf("label %q at %+v covers %+v, outside the area %+v", l.Text, l, e, area)
		}
	}
	if got := labels[len(labels)-1].Text; got == long || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("a label wider than the area reads %q; want it shortened, ending in …", got)
	}
}

// TestPlaceLabelsOptional: an optional label with no clear place is left out; one with a
// clear place, and a label that is not optional, are placed.
func TestPlaceLabelsOptional(t *testing.T) {
	area := Box{X0: 0, Y0: 0, X1: 400, Y1: 200}
	marks := []Mark{{X: 200, Y: 100, R: 5}, {X: 202, Y: 101, R: 5}, {X: 50, Y: 150, R: 5}}
	texts := []string{"the first model", "a cascade on top of it", "a lone cascade"}
	// Walls of marks around the first two leave no clear place for the second's label.
	for x := 100.0; x <= 300; x += 6 {
		for _, y := range []float64{70, 82, 94, 106, 118, 130} {
			marks = append(marks, Mark{X: x, Y: y, R: 3})
			texts = append(texts, "")
		}
	}
	optional := make([]bool, len(marks))
	optional[1], optional[2] = true, true
	labels := PlaceLabels(marks, texts, nil, optional, nil, area)
	if labels[0].Text != texts[0] {
		t.Errorf("a label that is not optional was left out: %+v", labels[0])
	}
	if labels[1].Text != "" {
		t.Errorf("an optional label with no clear place was placed: %+v", labels[1])
	}
	if labels[2].Text != texts[2] {
		t.Errorf("an optional label with a clear place was left out: %+v", labels[2])
	}
}
