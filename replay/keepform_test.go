package replay

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestCalibrationKeepsAValidatedScoreRoute: a score route that validates its answers (and
// escalates those its validators flag) is calibrated against itself only: the threshold and
// willingness-to-pay routers replayed beside it validate nothing, so a setting calibrated on
// them, written into the validated route, is a route the replay never measured.
func TestCalibrationKeepsAValidatedScoreRoute(t *testing.T) {
	s, err := spec.Parse([]byte(`version: 1
name: scored
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini}
  b: {provider: sim, model: gpt-4o}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.8
    route:
      score: {heuristic: {tiers: [0.5]}, models: [a, b]}
      validate: [{max_length: 100}]
    assume: {pass_rate: {a: 0.8, b: 0.9}, score_share: {a: 0.5, b: 0.5}}
`), "scored.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	results := func() []*Result {
		return []*Result{
			{Name: "spec", Kind: KindSpec, Realisable: true},
			{Name: "threshold 0.5", Kind: KindThreshold, Realisable: true},
			{Name: "wtp λ=2", Kind: KindWTP, Realisable: true},
			{Name: "single a", Kind: KindSingle, Realisable: true},
			{Name: "cascade a → b", Kind: KindCascade, Realisable: true, Params: Params{Strength: &Strength{Detect: 0.8}}},
			{Name: "oracle", Kind: "oracle"},
		}
	}
	names := func(rs []*Result) string {
		var n []string
		for _, r := range rs {
			if r.Realisable {
				n = append(n, r.Name)
			}
		}
		return strings.Join(n, ", ")
	}
	rep := &Report{}
	if got := names(keepRouteForm(results(), s.Category("qa").Route, nil, rep)); got != "spec" {
		t.Errorf("calibration candidates %q, want the spec's own route only", got)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "only the spec's own route competes") || !strings.Contains(rep.Notes[0], "--include cascade,single,threshold,wtp") {
		t.Errorf("notes %q", rep.Notes)
	}
	if got := names(keepRouteForm(results(), s.Category("qa").Route, []string{KindThreshold}, &Report{})); got != "spec, threshold 0.5" {
		t.Errorf("with --include threshold: %q", got)
	}
}

// TestNoPolicyReachesNamesWhatTheFormLeftOut: when no candidate reaches the bar, the note names
// the results the route's form left out that would, and how to let them compete.
func TestNoPolicyReachesNamesWhatTheFormLeftOut(t *testing.T) {
	spec := &Result{Name: "spec", Kind: KindSpec, Realisable: true, Items: 100, Quality: 0.83}
	gpt4 := &Result{Name: "single gpt4", Kind: KindSingle, Realisable: true, Items: 100, Quality: 0.88}
	narrow := &Result{Name: "single other", Kind: KindSingle, Realisable: true, Items: 10, Quality: 0.99, Narrow: true}
	weak := &Result{Name: "single weak", Kind: KindSingle, Realisable: true, Items: 100, Quality: 0.6}
	got := formLeftOutReaching([]*Result{spec, gpt4, narrow, weak}, []*Result{spec}, 0.85)
	if want := "; left out as they would change the route's form, single gpt4 (88.00%) reach it: --include single to let one replace the route"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := formLeftOutReaching([]*Result{spec, weak}, []*Result{spec}, 0.85); got != "" {
		t.Errorf("nothing left out reaches the bar, yet %q", got)
	}
}
