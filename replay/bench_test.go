package replay_test

import (
	"context"
	"testing"

	"github.com/clearbar/clearbar/replay"
)

// BenchmarkReplay20kx11x100 is the benchmark: build a 20,000-item × 11-model table
// from outcomes rows, score it with a Scorer serving precomputed scores, and replay every
// policy Run includes — the 11 single models, the oracle, the mix curve, the cascades, the
// threshold router at 100 thresholds and the willingness-to-pay router over all 11 models at
// 100 lambdas — then the frontier, the zero router, APGR, AIQ and the cost at 90/95/99% of the
// best model. The budget is 1 s an operation.
func BenchmarkReplay20kx11x100(b *testing.B) {
	rows, scores := synthetic(20_000, 11, 42)
	scorer := indexedScorer(scores)
	src := source(rows)
	opts := replay.Options{Scorer: scorer, Thresholds: 100}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := replay.Run(context.Background(), nil, src, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Curves) != 3 || len(rep.Curves[1].Points) < 95 {
			b.Fatalf("curves %d", len(rep.Curves))
		}
	}
}

// BenchmarkThresholdSweep20k is the sweep alone: 100 thresholds over a built 20,000 × 11
// table and its precomputed scores.
func BenchmarkThresholdSweep20k(b *testing.B) {
	rows, scores := synthetic(20_000, 11, 42)
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	sc, err := replay.ScoreTable(context.Background(), tb, indexedScorer(scores))
	if err != nil {
		b.Fatal(err)
	}
	sweep := replay.ThresholdSweep{Weak: "m0", Strong: "m10", Scores: sc, N: 100}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sweep.Sweep(tb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWTPSweep20kx11 is the N-model router alone: 100 lambdas over 20,000 × 11 cells.
func BenchmarkWTPSweep20kx11(b *testing.B) {
	rows, scores := synthetic(20_000, 11, 42)
	tb, err := replay.NewTable(rows, replay.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	sc, err := replay.ScoreTable(context.Background(), tb, indexedScorer(scores))
	if err != nil {
		b.Fatal(err)
	}
	sweep := replay.WTPSweep{Scores: sc, N: 100, Weak: "m0", Strong: "m10"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := sweep.Sweep(tb); err != nil {
			b.Fatal(err)
		}
	}
}
