package eval

import (
	"bytes"
	"strings"
	"testing"
)

// TestPassRateSaysHowManyItIsOf: when a pass rate is of fewer answers than the model's items
// (the rest graded by the validators alone, or not graded), its cell says how many, so that
// ITEMS is not read as the interval's base.
func TestPassRateSaysHowManyItIsOf(t *testing.T) {
	var b bytes.Buffer
	sums := []Summary{
		{Category: "c", Model: "m", Items: 25, Graded: 10, Passed: 10, PassRate: 1, PassRateCI: [2]float64{0.722, 1}},
		{Category: "c", Model: "n", Items: 25, Graded: 25, Passed: 20, PassRate: 0.8, PassRateCI: [2]float64{0.61, 0.91}},
	}
	if err := WriteText(&b, sums); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "100.0% (72.2%–100.0%) of 10") || strings.Contains(out, "91.0%) of") {
		t.Errorf("the pass-rate cells do not say how many answers they are of only where fewer than the items:\n%s", out)
	}
}
