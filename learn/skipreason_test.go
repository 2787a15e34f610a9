package learn

import (
	"slices"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// TestSkipReasonNamesEveryModelLeftOut: rows of models that are not candidates are counted by
// model, not put down to the first one met.
func TestSkipReasonNamesEveryModelLeftOut(t *testing.T) {
	var rows []outcomes.Row
	for i, m := range []string{"a", "x", "y", "y", "z", "z", "z", "w", "a"} {
		rows = append(rows, outcomes.Row{Item: string(rune('0' + i)), Prompt: "p", Model: m})
	}
	ds := NewDataset("t", slices.Values(rows), []string{"a"})
	if want := `rows of 4 models that are not candidates: "z" 3, "y" 2, "w" 1, and 1 more`; ds.Skipped != 7 || ds.SkipReason != want {
		t.Errorf("skipped %d, reason %q; want 7, %q", ds.Skipped, ds.SkipReason, want)
	}
}
