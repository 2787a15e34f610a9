package worksheet

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestSplitCascadeArmRoundTrip: a split whose first arm is a validated cascade exports the
// arm as a cascade row, its route cell "split cascade retry_once", and imports as that cascade,
// with the category's fallback as its failover.
func TestSplitCascadeArmRoundTrip(t *testing.T) {
	const src = `version: 1
name: split
review: {last: 2026-10-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  b: {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 2s}}
categories:
  - name: ab
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      split:
        - {weight: 0.7, cascade: [a, b], validate: [{max_length: 4000}], on_fail: retry_once}
        - {weight: 0.3, model: b}
    fallback: [b]
    assume: {pass_rate: {a: 0.9, b: 0.95}}
`
	s, err := spec.Parse([]byte(src), "split.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Rows(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.Route != "split cascade retry_once" || r.PrimaryModel != "a=gpt-4o-mini" || r.FallbackModel != "b=gpt-4o" ||
		r.CascadeFailover != "b=gpt-4o" || r.ValidationRule != "at most 4000 characters" {
		t.Errorf("split row = %+v", r)
	}
	if g := strings.Join(Gaps(s), "\n"); !strings.Contains(g, "the row holds only the first arm (cascade, weight 0.7 of 2 arms), and import reads it as the category's route") {
		t.Errorf("Gaps = %s", g)
	}
	_, s2 := reimport(t, export(t, s), "split.yaml")
	c := s2.Categories[0]
	if c.Route.Kind() != "cascade" || len(c.Route.Cascade) != 2 || c.Route.OnFail != spec.OnFailRetryOnce || len(c.Fallback) != 1 {
		t.Errorf("imported route %+v, fallback %v; want the first arm's cascade, retry_once, fallback b", c.Route, c.Fallback)
	}
}

// TestDerivedSharesAreRounded: the shares of a spec with pipelines, derived as shares of model
// calls, are written without floating-point noise, still sum to 1 within the loader's
// tolerance, and the sheet imports.
func TestDerivedSharesAreRounded(t *testing.T) {
	for _, f := range []string{"../examples/rag-assistant.yaml", "../examples/expert-assistant.yaml"} {
		s := load(t, f)
		rows, err := Rows(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i, r := range rows {
			x, err := strconv.ParseFloat(r.TrafficShare, 64)
			if err != nil {
				t.Fatalf("%s %s: share %q: %v", f, r.Category, r.TrafficShare, err)
			}
			sum += x
			if digits := len(strings.TrimLeft(strings.Replace(r.TrafficShare, ".", "", 1), "0")); digits > 8 {
				t.Errorf("%s %s: share %q has %d significant digits", f, r.Category, r.TrafficShare, digits)
			}
			if math.Abs(x-float64(s.Categories[i].Share)) > 1e-6 {
				t.Errorf("%s %s: share %q, spec's %v", f, r.Category, r.TrafficShare, float64(s.Categories[i].Share))
			}
		}
		if math.Abs(sum-1) > shareTolerance {
			t.Errorf("%s: shares sum to %v", f, sum)
		}
		_, s2 := reimport(t, export(t, s), f)
		for i, c := range s2.Categories {
			if math.Abs(float64(c.Share)-float64(s.Categories[i].Share)) > 1e-6 {
				t.Errorf("%s %s: imported share %v, spec's %v", f, c.Name, float64(c.Share), float64(s.Categories[i].Share))
			}
		}
	}
	// A spec's own shares are written as stated.
	if rows, err := Rows(load(t, "../examples/quickstart.yaml"), nil); err != nil || rows[0].TrafficShare != "0.6" {
		t.Errorf("quickstart intent share: %v %v", rows, err)
	}
}
