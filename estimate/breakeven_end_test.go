package estimate

import (
	"strings"
	"testing"
)

// TestBreakEvenAtRangeEnd: a change found only at the end of the range searched (b's pass rate
// reaching 1, the quality bar, where its failure rate is 0) holds short of the end: the row
// says "< 1", not "≤ 1", which would read as the whole range.
func TestBreakEvenAtRangeEnd(t *testing.T) {
	src := strings.Replace(strings.Replace(twoModels, "quality_bar: 0.85", "quality_bar: 1", 1), "route: {model: a}", "route: {model: b}", 1)
	s := breakEvens(t, src, Options{Samples: 4000}).Sensitivity
	rows, _ := s.breakEvenRows(0)
	var saw, interior bool
	for _, r := range rows {
		switch {
		case r.Input == "pass rate of b in x" && strings.Contains(r.Move, "-100%"):
			saw = true
			if r.While != "< 1" {
				t.Errorf("%s %s: want < 1, the change is at the range's end", r.Input, r.While)
			}
		case strings.HasPrefix(r.While, "< ") || strings.HasPrefix(r.While, "> "):
			t.Errorf("%s %s: a change within the range reads ≤ or ≥", r.Input, r.While)
		default:
			interior = true
		}
	}
	if !saw || !interior {
		t.Errorf("rows %+v: want b's pass rate rising to 1 among others", rows)
	}
}
