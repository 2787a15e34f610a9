package simulated_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// draws asks p for n answers of model m (gpt-4.1-mini) in category, to the requests req makes
// (one per attempt), and checks with the category's real validators that each passes exactly
// when the simulator did not draw it to be flagged. It returns how many were flagged, how many
// passed, and their completion tokens in all.
func draws(t *testing.T, s *spec.Spec, p clearbar.Provider, category string, n int, req func() *clearbar.Request) (flagged, passed, outTokens int) {
	t.Helper()
	checker, err := validate.NewChecker(s, validate.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vs, _ := s.Category(category).Route.MainValidators()
	for i := range n {
		r := req()
		resp, err := p.Complete(ctx, &clearbar.Call{Request: r, Model: "gpt-4.1-mini", SpecModel: "m", Category: category, Attempt: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		sim := simulationOf(t, resp.Body)
		if sim == nil {
			t.Fatalf("%s: no simulation record", category)
		}
		verdicts, pass, _ := checker.Check(ctx, "m", r, resp, vs)
		if pass == sim.Flagged {
			t.Fatalf("%s: an answer drawn flagged %v passes validation %v: %q (%d characters): %+v", category, sim.Flagged, pass, resp.Text(), utf8.RuneCountInString(resp.Text()), verdicts)
		}
		if sim.Flagged {
			flagged++
		} else {
			passed++
		}
		outTokens += resp.Usage.CompletionTokens
	}
	return flagged, passed, outTokens
}
