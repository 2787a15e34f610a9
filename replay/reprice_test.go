package replay_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/replay"
	"github.com/clearbar/clearbar/spec"
)

// TestRepriceSaysWhatItCannotPrice: --reprice prices rows at the spec's prices from their
// token counts; rows that record a cost but no tokens (imported benchmarks) keep their cost,
// and the report says how many, instead of the flag silently changing nothing.
func TestRepriceSaysWhatItCannotPrice(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: reprice
providers: {sim: {type: simulated}}
models:
  mini: {provider: sim, model: gpt-4.1-mini, price: {input: 1, output: 1}}
  strong: {provider: sim, model: gpt-4.1, price: {input: 10, output: 10}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.7
    route: {model: mini}
    assume: {pass_rate: {mini: 0.7, strong: 0.95}}
`), "reprice.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []outcomes.Row
	for i := range 20 {
		ok := true
		for _, m := range []string{"gpt-4.1-mini", "gpt-4.1"} {
			r := outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", PromptHash: fmt.Sprint("q", i), Model: m, Pass: &ok, Cost: 5000}
			if i < 5 {
				r.TokensIn, r.TokensOut = 100, 10 // these are priced again
			}
			rows = append(rows, r)
		}
	}
	note := func(reprice bool) string {
		rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "qa", Reprice: reprice})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range rep.Notes {
			if strings.Contains(n, "--reprice") {
				return n
			}
		}
		return ""
	}
	if got := note(true); !strings.Contains(got, "--reprice: 30 rows of spec models record a cost but no token counts") {
		t.Errorf("note %q; want the 30 rows without tokens counted", got)
	}
	if got := note(false); got != "" {
		t.Errorf("without --reprice: note %q", got)
	}
}

// TestCalibrationSaysWhichModelsItReplays: a calibration replays the models its category names,
// and says which of the rows' other models it left out, since its oracle and single models
// then differ from a plain replay's.
func TestCalibrationSaysWhichModelsItReplays(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: narrowed
providers: {sim: {type: simulated}}
models:
  mini: {provider: sim, model: gpt-4.1-mini}
  strong: {provider: sim, model: gpt-4.1}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.7
    route: {model: mini}
    assume: {pass_rate: {mini: 0.7, strong: 0.95}}
`), "narrowed.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var rows []outcomes.Row
	for i := range 20 {
		ok := i%2 == 0
		for _, m := range []string{"gpt-4.1-mini", "gpt-4.1", "other-1"} {
			rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", PromptHash: fmt.Sprint("q", i), Model: m, Pass: &ok, Cost: 5000})
		}
	}
	rep, err := replay.Run(context.Background(), s, source(rows), replay.Options{Category: "qa", Models: []string{"mini", "strong"}, ModelsOfCategory: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `the calibration replays the models category "qa" names (mini, strong): the rows' 1 other model (other-1) is left out`
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, want) }) {
		t.Errorf("notes %q; want %q", rep.Notes, want)
	}
}
