package review

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/review/reviewtest"
)

// TestExperimentAANoPeekingBias runs many seeded A/A experiments (two identical arms) and
// reads every one after every request, which is what the running minimum of the always-valid
// p-value amounts to. The fraction of runs ever declared significant must stay at or below the
// nominal level, within binomial variation. The same runs read with a fixed-sample z test at
// every 100 requests show the peeking bias the sequential test avoids.
func TestExperimentAANoPeekingBias(t *testing.T) {
	s := load(t, "testdata/aa.yaml")
	base := baseline(t, s)
	const alpha = 0.05
	runs, n := simulations(200), 4_000
	declared := make([]bool, runs)
	naive := make([]bool, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			ds := traffic(s, n, uint64(5000+i), reviewtest.Traffic{})
			r := New(s, Options{Today: today, Alpha: alpha})
			r.Add(ds...)
			rep, err := r.Analyze(base)
			if err != nil {
				t.Error(err)
				return
			}
			ex := rep.Experiments[0]
			declared[i] = slices.ContainsFunc(ex.Comparisons, func(c *ArmComparison) bool { return c.Significant })
			naive[i] = naivePeeking(ds, alpha/float64(len(ex.Comparisons)))
		})
	}
	wg.Wait()
	count, naiveCount := 0, 0
	for i := range runs {
		if declared[i] {
			count++
		}
		if naive[i] {
			naiveCount++
		}
	}
	limit := stats.BinomialQuantile(0.999, runs, alpha)
	t.Logf("A/A: %d of %d runs declared a difference (limit %d); a z test read every 100 requests: %d", count, runs, limit, naiveCount)
	if count > limit {
		t.Errorf("%d of %d A/A runs declared a difference; at the nominal %g more than %d happens with probability < 0.001", count, runs, alpha, limit)
	}
	if runs >= 100 && naiveCount <= limit { // too few runs in short mode to show it reliably
		t.Errorf("the fixed-sample test read repeatedly declared only %d of %d: the simulation cannot show peeking bias", naiveCount, runs)
	}
}

// naivePeeking reads fixed-sample two-sample z tests of the experiment's metrics after every
// 100 requests and reports whether any reading rejected at level alpha.
func naivePeeking(ds []*clearbar.Decision, alpha float64) bool {
	var arms [2][3]stats.Moments
	for i, d := range ds {
		arm := armNumber(d.Arm) - 1
		arms[arm][0].Add(b2f(d.Outcome == clearbar.OK && !d.Flagged))
		arms[arm][1].Add(d.Cost.USD())
		arms[arm][2].Add(d.Latency.Seconds())
		if (i+1)%100 != 0 || arms[0][0].N() < ExperimentBurnIn || arms[1][0].N() < ExperimentBurnIn {
			continue
		}
		for k := range 3 {
			est, v := diff(&arms[0][k], &arms[1][k])
			if v > 0 && stats.ZTest(est, math.Sqrt(v), 0, 0) <= alpha {
				return true
			}
		}
	}
	return false
}

// TestExperimentABDetects runs A/B experiments with a real difference (a small model against a
// mid one: pass rate, cost and latency all differ) and checks each is declared, and that the
// traffic estimate made early on is of the right size.
func TestExperimentABDetects(t *testing.T) {
	s := load(t, "testdata/ab.yaml")
	const n, earlyN = 12_000, 400
	var ratios []float64
	for seed := range uint64(simulations(20)) {
		ds := traffic(s, n, 100+seed, reviewtest.Traffic{})
		rep := analyze(t, s, ds, Options{})
		ex := rep.Experiments[0]
		if len(ex.Arms) != 2 || ex.Arms[0].Label != "arm 1 (50%)" || ex.Arms[0].Weight != 0.5 || ex.Arms[1].Requests < n/3 {
			t.Fatalf("arms %+v %+v", ex.Arms[0], ex.Arms[1])
		}
		for _, c := range ex.Comparisons {
			if !c.Significant || c.MoreRequests != 0 {
				t.Errorf("seed %d: %s not declared after %d requests (p %g)", seed, c.Metric, n, c.P)
			}
			if !(float64(c.Low) > 0 || float64(c.High) < 0) {
				t.Errorf("seed %d: %s always-valid interval [%g, %g] holds 0", seed, c.Metric, float64(c.Low), float64(c.High))
			}
		}
		// mid passes more often, costs more and is slower than small.
		if d := ex.Comparisons; d[0].Difference <= 0 || d[1].Difference <= 0 || d[2].Difference <= 0 {
			t.Errorf("seed %d: differences %g, %g, %g; want all positive", seed, float64(d[0].Difference), float64(d[1].Difference), float64(d[2].Difference))
		}

		// Early on, the pass-rate difference is not yet significant and the review says how
		// much more traffic it needs; find when it actually became significant.
		early := analyze(t, s, ds[:earlyN], Options{}).Experiments[0].Comparisons[0]
		if early.Significant || !early.MoreRequests.Finite() || early.MoreRequests <= 0 {
			t.Fatalf("seed %d: after %d requests: significant %v, more %g", seed, earlyN, early.Significant, float64(early.MoreRequests))
		}
		// Once significant, always: the p-value is a running minimum, so bisection finds the
		// first prefix that is.
		at := earlyN + sort.Search(n-earlyN, func(i int) bool {
			return analyze(t, s, ds[:earlyN+i+1], Options{}).Experiments[0].Comparisons[0].Significant
		}) + 1
		ratios = append(ratios, float64(at-earlyN)/float64(early.MoreRequests))
	}
	// The estimate aims at 80% power for the observed difference, which is noisy early on:
	// the median run must become significant within the predicted traffic, give or take a
	// factor of three.
	slices.Sort(ratios)
	med := ratios[len(ratios)/2]
	t.Logf("actual/predicted extra traffic: median %.2f, range %.2f–%.2f", med, ratios[0], ratios[len(ratios)-1])
	if med < 1.0/3 || med > 3 {
		t.Errorf("median ratio of actual to predicted extra traffic %.2f", med)
	}
}

// TestExperimentSampleRatioMismatch loses a tenth of one arm's records: the arms' traffic no
// longer matches the split's weights, and the review says so.
func TestExperimentSampleRatioMismatch(t *testing.T) {
	s := load(t, "testdata/ab.yaml")
	var kept []*clearbar.Decision
	for i, d := range traffic(s, 8_000, 9, reviewtest.Traffic{}) {
		if armNumber(d.Arm) == 2 && i%10 == 0 {
			continue
		}
		kept = append(kept, d)
	}
	ex := analyze(t, s, kept, Options{}).Experiments[0]
	if !ex.SampleRatioMismatch || float64(ex.SampleRatioP) > 1e-4 {
		t.Errorf("mismatch %v, p %g", ex.SampleRatioMismatch, float64(ex.SampleRatioP))
	}
	if !slices.ContainsFunc(ex.Notes, func(n string) bool { return strings.Contains(n, "sample ratio mismatch") }) {
		t.Errorf("notes %v", ex.Notes)
	}
}

// TestExperimentConstantDifferenceIsDeclared gives each arm of a split a cost that never
// varies, as under serve --simulate, where every answer of a category has the same tokens: one
// arm costs twice the other on every request. With no variance the difference is known
// exactly, so the comparison must be significant with an interval of the difference itself,
// not "no difference observed". Arms whose costs are equal and constant show no difference.
func TestExperimentConstantDifferenceIsDeclared(t *testing.T) {
	s := load(t, "testdata/aa.yaml")
	cost1 := clearbar.MoneyFromUSD(0.001)
	for _, tc := range []struct {
		name       string
		cost2      clearbar.Money
		difference bool
	}{
		{"arm 2 costs twice arm 1", 2 * cost1, true},
		{"arms cost the same", cost1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ds []*clearbar.Decision
			for i := range 400 {
				arm, cost := "arm 1 (50%)", cost1
				if i%2 == 1 {
					arm, cost = "arm 2 (50%)", tc.cost2
				}
				ds = append(ds, &clearbar.Decision{ID: fmt.Sprint("d", i), Time: windowStart.Add(time.Duration(i) * time.Minute),
					Category: "chat", Arm: arm, Model: "mid", Outcome: clearbar.OK, Cost: cost,
					Latency: time.Duration(400+i%7*50) * time.Millisecond})
			}
			ex := analyze(t, s, ds, Options{}).Experiments[0]
			c := ex.Comparisons[1]
			if c.Metric != "cost per request" {
				t.Fatalf("comparison 1 is %q", c.Metric)
			}
			want := (tc.cost2 - cost1).USD()
			if math.Abs(float64(c.Difference)-want) > 1e-12 {
				t.Errorf("difference %g, want %g", float64(c.Difference), want)
			}
			if c.Significant != tc.difference {
				t.Errorf("significant %v (p %g), want %v", c.Significant, c.P, tc.difference)
			}
			if !tc.difference {
				return
			}
			if c.MoreRequests != 0 || math.Abs(float64(c.Low)-want) > 1e-12 || math.Abs(float64(c.High)-want) > 1e-12 {
				t.Errorf("more requests %g, interval [%g, %g]; want 0 and [%g, %g]", float64(c.MoreRequests), float64(c.Low), float64(c.High), want, want)
			}
		})
	}
}

// TestExperimentExactDifferenceNeedsNoVarianceAtTheEnd: arms whose costs differ by a constant
// through the burn-in, and then vary widely, no longer differ exactly: the comparison is as
// significant as the sequential test says, not declared at the first look and kept, so that a
// significant comparison never has an interval that holds 0.
func TestExperimentExactDifferenceNeedsNoVarianceAtTheEnd(t *testing.T) {
	s := load(t, "testdata/aa.yaml")
	cost1 := clearbar.MoneyFromUSD(0.001)
	var ds []*clearbar.Decision
	for i := range 600 {
		arm, cost := "arm 1 (50%)", cost1
		if i%2 == 1 {
			arm, cost = "arm 2 (50%)", cost1+cost1/100
		}
		if i >= 2*(ExperimentBurnIn+20) && i/2%2 == 1 {
			cost *= 10 // past the burn-in, both arms' costs vary
		}
		ds = append(ds, &clearbar.Decision{ID: fmt.Sprint("d", i), Time: windowStart.Add(time.Duration(i) * time.Minute),
			Category: "chat", Arm: arm, Model: "mid", Outcome: clearbar.OK, Cost: cost,
			Latency: time.Duration(400+i%7*50) * time.Millisecond})
	}
	c := analyze(t, s, ds, Options{}).Experiments[0].Comparisons[1]
	if c.Metric != "cost per request" {
		t.Fatalf("comparison 1 is %q", c.Metric)
	}
	if c.Significant || c.P == 0 || !(float64(c.Low) < 0 && float64(c.High) > 0) {
		t.Errorf("significant %v (p %g), interval [%g, %g]; want no exact difference declared once the costs vary, and 0 in the interval", c.Significant, c.P, float64(c.Low), float64(c.High))
	}
}
