package simulated

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/clearbar/clearbar/spec"
)

func dur(s string) spec.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return spec.Duration(d)
}

// quantile returns the q-quantile of sorted xs.
func quantile(xs []float64, q float64) float64 { return xs[int(q*float64(len(xs)-1))] }

func TestLatencySampleQuantiles(t *testing.T) {
	const n = 40_000
	tests := []struct {
		name                 string
		lat                  spec.Latency
		outTokens, reasoning int
		p50, p95             float64 // expected quantiles of the total time, seconds
		gen                  float64 // expected generation time, seconds; -1: a share of the total
		explanation          string
	}{
		{"quantiles", spec.Latency{P50: dur("800ms"), P95: dur("2s")}, 100, 0, 0.8, 2.0, -1,
			"the lognormal fitted to p50/p95 reproduces them; the stream waits TTFTShare of it before the first chunk"},
		{"ttft", spec.Latency{TTFT: &spec.Quantiles{P50: dur("400ms"), P95: dur("1.2s")}, TokensPerSecond: 80}, 160, 0, 2.4, 3.2, 2,
			"time to first token is lognormal; generation is exactly tokens / tokens_per_second (160/80 = 2s)"},
		{"ttft reasoning", spec.Latency{TTFT: &spec.Quantiles{P50: dur("400ms"), P95: dur("1.2s")}, TokensPerSecond: 80}, 160, 240, 5.4, 6.2, 2,
			"reasoning tokens come before the first chunk (240/80 = 3s more to wait); generation is the visible tokens' 2s"},
		{"constant", spec.Latency{P50: dur("1s"), P95: dur("1s")}, 10, 0, 1, 1, -1,
			"p95 = p50 means no spread at all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLatency(tt.lat)
			r := rand.New(rand.NewPCG(1, 2))
			totals := make([]float64, n)
			for i := range totals {
				ttft, gen := l.sample(r, tt.outTokens, tt.reasoning)
				switch {
				case tt.gen >= 0 && gen != tt.gen:
					t.Fatalf("generation time %v, want %v: %s", gen, tt.gen, tt.explanation)
				case tt.gen < 0 && math.Abs(ttft-TTFTShare*(ttft+gen)) > 1e-12:
					t.Fatalf("ttft %v of total %v, want the %v share: %s", ttft, ttft+gen, TTFTShare, tt.explanation)
				}
				totals[i] = ttft + gen
			}
			slices.Sort(totals)
			for _, q := range []struct{ q, want float64 }{{0.5, tt.p50}, {0.95, tt.p95}} {
				if got := quantile(totals, q.q); math.Abs(got-q.want) > 0.03*q.want {
					t.Errorf("q%.2f = %.3fs, want %.3fs ±3%%: %s", q.q, got, q.want, tt.explanation)
				}
			}
		})
	}
}

func TestLatencySamplesForm(t *testing.T) {
	l := newLatency(spec.Latency{Samples: []spec.Duration{dur("100ms"), dur("200ms"), dur("400ms")}})
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[float64]int{}
	for range 3000 {
		ttft, gen := l.sample(r, 50, 0)
		seen[math.Round((ttft+gen)*1000)/1000]++
	}
	for _, want := range []float64{0.1, 0.2, 0.4} {
		if c := seen[want]; c < 900 || c > 1100 {
			t.Errorf("sample %vs drawn %d times of 3000, want about 1000 (a uniform pick of a measured time)", want, c)
		}
	}
	if len(seen) != 3 {
		t.Errorf("drew %d distinct times, want only the 3 samples: %v", len(seen), seen)
	}
}

func TestLatencyFailure(t *testing.T) {
	tests := []struct {
		lat         spec.Latency
		outTokens   int
		want        float64
		explanation string
	}{
		{spec.Latency{P50: dur("800ms"), P95: dur("2s"), FailAfter: dur("50ms")}, 10, 0.05, "fail_after is how long a failure takes"},
		{spec.Latency{P50: dur("800ms"), P95: dur("2s")}, 10, 0.8, "otherwise the median response time"},
		{spec.Latency{TTFT: &spec.Quantiles{P50: dur("500ms"), P95: dur("1s")}, TokensPerSecond: 100}, 50, 1.0, "ttft form: median ttft + tokens/tps"},
		{spec.Latency{Samples: []spec.Duration{dur("1s"), dur("3s")}}, 10, 2, "samples form: their mean"},
	}
	for _, tt := range tests {
		l := newLatency(tt.lat)
		if got := l.failure(float64(tt.outTokens)); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("failure() = %v, want %v: %s", got, tt.want, tt.explanation)
		}
	}
}

func TestScaled(t *testing.T) {
	tests := []struct {
		sec, scale float64
		want       time.Duration
	}{
		{2, 1, 2 * time.Second},
		{2, 0.01, 20 * time.Millisecond},
		{0.5, 1e-9, 0}, // below a nanosecond: no wait at all
		{-1, 1, 0},
		{math.NaN(), 1, 0},
		{1e300, 1, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := scaled(tt.sec, tt.scale); got != tt.want {
			t.Errorf("scaled(%v, %v) = %v, want %v", tt.sec, tt.scale, got, tt.want)
		}
	}
}
