package estimate

import (
	"context"
	"testing"
	"time"

	"github.com/clearbar/clearbar/spec"
)

// plainRuns is how many plain estimates benchBreakEven times, for a steadier mean.
const plainRuns = 5

// benchBreakEven times, on the same machine in the same run, the plain estimate of s (the
// mean of plainRuns) and the estimate with the sensitivity at ±20% and the break-even search
// (--break-even), and reports both and their ratio.
func benchBreakEven(b *testing.B, s *spec.Spec, samples int) {
	ctx := context.Background()
	var plain, full time.Duration
	var runs, searches, found int
	for b.Loop() {
		t0 := time.Now()
		for range plainRuns {
			if _, err := Run(ctx, s, Options{Samples: samples, Today: testDay}); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		r, err := Run(ctx, s, Options{Samples: samples, Sensitivity: 0.2, Today: testDay})
		if err != nil {
			b.Fatal(err)
		}
		if err := FindBreakEvens(ctx, r); err != nil {
			b.Fatal(err)
		}
		plain, full = plain+t1.Sub(t0), full+time.Since(t1)
		runs, searches, found = r.Sensitivity.BreakEvenRuns, len(r.Sensitivity.BreakEvens), len(r.Sensitivity.BreakEvens)-r.Sensitivity.notFound()
	}
	n := float64(b.N)
	plain /= plainRuns
	b.ReportMetric(plain.Seconds()/n, "s-plain")
	b.ReportMetric(full.Seconds()/n, "s-break-even")
	b.ReportMetric(full.Seconds()/plain.Seconds(), "ratio")
	b.ReportMetric(float64(runs), "estimates")
	b.ReportMetric(float64(searches), "searches")
	b.ReportMetric(float64(found), "found")
}

// BenchmarkBreakEvenQuickstart: --break-even on examples/quickstart.yaml at the default
// samples, against the plain estimate.
func BenchmarkBreakEvenQuickstart(b *testing.B) {
	benchBreakEven(b, load(b, "../examples/quickstart.yaml"), DefaultSamples)
}

// BenchmarkBreakEven20Categories: --break-even on the 20-category benchmark spec at the
// default samples, against the plain estimate.
func BenchmarkBreakEven20Categories(b *testing.B) {
	benchBreakEven(b, benchSpec(b, 20), DefaultSamples)
}
