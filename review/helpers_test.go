package review

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/review/reviewtest"
	"github.com/clearbar/clearbar/spec"
)

// today is the date reviews in tests are made on: within the example specs' review cadence.
var today = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// window is the 30 days before today.
var windowStart = today.Add(-30 * 24 * time.Hour)

const supportTriage = "../examples/support-triage.yaml"

// specs and baselines cache loaded specs and their baseline estimates, which tests share
// (neither is modified after it is made).
var specs, baselines sync.Map

// load loads a spec file once for all tests.
func load(t testing.TB, file string) *spec.Spec {
	t.Helper()
	if s, ok := specs.Load(file); ok {
		return s.(*spec.Spec)
	}
	s, err := spec.Load(file, spec.Options{Today: today})
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	specs.Store(file, s)
	return s
}

func baseline(t testing.TB, s *spec.Spec) *estimate.Report {
	t.Helper()
	if b, ok := baselines.Load(s); ok {
		return b.(*estimate.Report)
	}
	b, err := Baseline(context.Background(), s, Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	baselines.Store(s, b)
	return b
}

// traffic generates n decisions over the 30 days before today.
func traffic(s *spec.Spec, n int, seed uint64, change reviewtest.Traffic) []*clearbar.Decision {
	change.Requests, change.Seed, change.Start, change.Span = n, seed, windowStart, 30*24*time.Hour
	return reviewtest.Generate(s, change)
}

// analyze reviews decisions without re-estimating.
func analyze(t testing.TB, s *spec.Spec, ds []*clearbar.Decision, opts Options) *Report {
	t.Helper()
	if opts.Today.IsZero() {
		opts.Today = today
	}
	r := New(s, opts)
	r.Add(ds...)
	rep, err := r.Analyze(baseline(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// fired reports whether a trigger of kind fired for category and model ("" matches any).
func fired(rep *Report, kind, category, model string) bool {
	for _, tr := range rep.Triggers {
		if tr.Kind == kind && (category == "" || tr.Category == category) && (model == "" || tr.Model == model) {
			return true
		}
	}
	return false
}

// comparison returns the comparison of metric for category and model, or nil.
func comparison(rep *Report, category, model, metric string) *Comparison {
	for _, cv := range rep.Categories {
		if cv.Name != category {
			continue
		}
		for _, c := range cv.Comparisons {
			if c.Model == model && c.Metric == metric {
				return c
			}
		}
	}
	return nil
}

// simulations returns how many seeded runs a statistical test makes: full, or fewer in short
// mode and under the race detector, where the point is to exercise the code, not to measure
// rates precisely.
func simulations(full int) int {
	if testing.Short() || raceEnabled {
		return max(10, full/10)
	}
	return full
}
