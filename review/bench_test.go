package review

import (
	"context"
	"testing"

	"github.com/clearbar/clearbar/review/reviewtest"
)

// BenchmarkReview reviews 100,000 decisions of the support-triage example: "analyze" is the
// statistics and triggers (Add and Analyze, with the baseline estimate made once), "run"
// adds the re-estimate with the measurements and the spec diff.
func BenchmarkReview(b *testing.B) {
	s := load(b, supportTriage)
	base := baseline(b, s)
	ds := traffic(s, 100_000, 1, reviewtest.Traffic{PassRate: map[[2]string]float64{{"extract-order", "small"}: 0.75}})
	b.Run("analyze", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := New(s, Options{Today: today})
			r.Add(ds...)
			if _, err := r.Analyze(base); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := New(s, Options{Today: today, Baseline: base})
			r.Add(ds...)
			if _, err := r.Run(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
