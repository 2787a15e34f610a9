package drift

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// exactHypergeomUpper computes P(X ≥ x) with big rationals.
func exactHypergeomUpper(x, n, k, N int) float64 {
	sum := new(big.Int)
	for i := x; i <= min(n, k); i++ {
		t := new(big.Int).Binomial(int64(k), int64(i))
		sum.Add(sum, t.Mul(t, new(big.Int).Binomial(int64(N-k), int64(n-i))))
	}
	f, _ := new(big.Rat).SetFrac(sum, new(big.Int).Binomial(int64(N), int64(n))).Float64()
	return f
}

// exactBinomUpper computes P(X ≥ x) for p = num/den with big rationals.
func exactBinomUpper(x, n int, num, den int64) float64 {
	pow := func(r *big.Rat) []*big.Rat {
		out := []*big.Rat{big.NewRat(1, 1)}
		for i := 1; i <= n; i++ {
			out = append(out, new(big.Rat).Mul(out[i-1], r))
		}
		return out
	}
	p, q := pow(big.NewRat(num, den)), pow(big.NewRat(den-num, den))
	sum := new(big.Rat)
	for i := x; i <= n; i++ {
		t := new(big.Rat).SetInt(new(big.Int).Binomial(int64(n), int64(i)))
		sum.Add(sum, t.Mul(t, new(big.Rat).Mul(p[i], q[n-i])))
	}
	f, _ := sum.Float64()
	return f
}

func near(got, want, rel float64) bool {
	if want == 0 {
		return got < 1e-300
	}
	return math.Abs(got-want) <= rel*want
}

func TestHypergeomUpperIsExact(t *testing.T) {
	cases := []struct{ x, n, k, N int }{
		{0, 200, 30, 2200}, {3, 200, 30, 2200}, {12, 200, 30, 2200}, {25, 200, 30, 2200},
		{30, 200, 30, 2200}, {31, 200, 30, 2200}, {40, 200, 250, 2200}, {80, 200, 250, 2200},
		{199, 200, 2000, 2200}, {200, 200, 2100, 2200}, {5, 10, 8, 12}, {1, 1, 1, 1},
	}
	for _, c := range cases {
		got, want := hypergeomUpper(c.x, c.n, c.k, c.N), exactHypergeomUpper(c.x, c.n, c.k, c.N)
		if !near(got, want, 1e-9) {
			t.Errorf("hypergeomUpper(%d, %d, %d, %d) = %g, want %g", c.x, c.n, c.k, c.N, got, want)
		}
	}
}

func TestBinomUpperIsExact(t *testing.T) {
	cases := []struct {
		x, n     int
		num, den int64
	}{
		{0, 200, 1, 20}, {10, 200, 1, 20}, {20, 200, 1, 20}, {40, 200, 1, 20}, {200, 200, 1, 20},
		{60, 200, 17, 100}, {100, 200, 1, 2}, {3, 5, 1, 3}, {150, 200, 9, 10},
	}
	for _, c := range cases {
		got, want := binomUpper(c.x, c.n, float64(c.num)/float64(c.den)), exactBinomUpper(c.x, c.n, c.num, c.den)
		if !near(got, want, 1e-9) {
			t.Errorf("binomUpper(%d, %d, %d/%d) = %g, want %g", c.x, c.n, c.num, c.den, got, want)
		}
	}
	if binomUpper(1, 10, 0) != 0 || binomUpper(0, 10, 0) != 1 || binomUpper(11, 10, 0.5) != 0 || binomUpper(3, 10, 1) != 1 {
		t.Error("edge cases")
	}
}

func TestGammaQMatchesChiSquareClosedForms(t *testing.T) {
	for _, x := range []float64{0.01, 0.5, 1, 3, 7.5, 15, 40, 90} {
		// One degree of freedom: Q(1/2, x) = erfc(√x).
		if got, want := gammaQ(0.5, x), math.Erfc(math.Sqrt(x)); !near(got, want, 1e-9) {
			t.Errorf("gammaQ(0.5, %g) = %g, want %g", x, got, want)
		}
		// Even degrees of freedom: Q(k, x) = e^−x Σ_{i<k} x^i/i!.
		for k := 1; k <= 6; k++ {
			want, term := 0.0, 1.0
			for i := range k {
				if i > 0 {
					term *= x / float64(i)
				}
				want += term
			}
			want *= math.Exp(-x)
			if got := gammaQ(float64(k), x); !near(got, want, 1e-9) {
				t.Errorf("gammaQ(%d, %g) = %g, want %g", k, x, got, want)
			}
		}
	}
	if gammaQ(2, 0) != 1 {
		t.Error("gammaQ(2, 0) should be 1")
	}
}

func TestChiSquareMix(t *testing.T) {
	scratch := make([][2]float64, 0, 4)
	// Equal shares: nothing to see.
	if p, ok := chiSquareMix([]int32{140, 60, 0}, []int32{1400, 600, 0}, scratch); !ok || p < 0.99 {
		t.Errorf("equal mixes: p = %g, %v", p, ok)
	}
	// 70/30 → 55/45 on 200 against 2000 is far out.
	if p, ok := chiSquareMix([]int32{110, 90, 0}, []int32{1400, 600, 0}, scratch); !ok || p > 1e-4 {
		t.Errorf("shifted mix: p = %g, %v", p, ok)
	}
	// A single model, in window and reference alike, is no change (see
	// TestMixTestWhenPoolingLeavesOneColumn).
	if p, ok := chiSquareMix([]int32{200, 0}, []int32{2000, 0}, scratch); !ok || p != 1 {
		t.Errorf("one model: p = %g, %v", p, ok)
	}
	// A rare model is pooled rather than inflating the statistic: one call of it in the
	// window against none in the reference is not a shift.
	if p, ok := chiSquareMix([]int32{139, 60, 1}, []int32{1400, 600, 0}, scratch); !ok || p < 0.5 {
		t.Errorf("rare model: p = %g, %v", p, ok)
	}
}

func TestMannWhitneyUpper(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(h *hist, n int, median time.Duration) {
		for range n {
			h[latencyBin(time.Duration(float64(median)*math.Exp(0.5*r.NormFloat64())))]++
		}
	}
	var same, ref, slow hist
	fill(&ref, 2000, 800*time.Millisecond)
	fill(&same, 200, 800*time.Millisecond)
	fill(&slow, 200, 1600*time.Millisecond)
	if p := mannWhitneyUpper(&same, &ref); p < 0.001 {
		t.Errorf("same distribution: p = %g", p)
	}
	if p := mannWhitneyUpper(&slow, &ref); p > 1e-10 {
		t.Errorf("doubled latency: p = %g", p)
	}
	if p := mannWhitneyUpper(&ref, &slow); p < 0.999 {
		t.Errorf("faster window should not look slower: p = %g", p)
	}
	var one, other hist
	one[10], other[10] = 200, 2000
	if p := mannWhitneyUpper(&one, &other); p != 1 {
		t.Errorf("all tied: p = %g", p)
	}
}

func TestLatencyBinsAndQuantiles(t *testing.T) {
	if latencyBin(0) != 0 || latencyBin(999*time.Microsecond) != 0 || latencyBin(time.Millisecond) != 1 || latencyBin(time.Hour) != nBins-1 {
		t.Error("bin edges")
	}
	for _, d := range []time.Duration{3 * time.Millisecond, 250 * time.Millisecond, 1700 * time.Millisecond, 40 * time.Second} {
		lo, hi := binBounds(int(latencyBin(d)))
		if s := d.Seconds(); s < lo*(1-1e-9) || s >= hi*(1+1e-9) {
			t.Errorf("%v in bin [%g, %g)", d, lo, hi)
		}
		if got := latencyBin(2 * d); int(got)-int(latencyBin(d)) != binsPerDoubling {
			t.Errorf("doubling %v moved %d bins", d, int(got)-int(latencyBin(d)))
		}
	}
	var h hist
	for i := 1; i <= 1000; i++ {
		h[latencyBin(time.Duration(i)*time.Millisecond)]++
	}
	for _, c := range []struct{ q, want float64 }{{0.5, 0.5}, {0.95, 0.95}} {
		got, ok := h.quantile(c.q)
		if !ok || math.Abs(got-c.want)/c.want > 0.1 {
			t.Errorf("quantile(%g) = %g, want about %g", c.q, got, c.want)
		}
	}
	var empty hist
	if _, ok := empty.quantile(0.5); ok {
		t.Error("quantile of an empty histogram")
	}
}

func TestRingMovesCodesFromWindowToReference(t *testing.T) {
	ring := newRing(3, 4)
	m := &ringModel{r: &ring}
	for c := uint8(1); c <= 20; c++ {
		m.push(t, c)
	}
}

// ringModel mirrors a ring's window and reference with plain slices, and checks each push
// against them: what it moves and drops, and its counts.
type ringModel struct {
	r        *ring
	win, ref []uint8
}

func (m *ringModel) push(t *testing.T, c uint8) {
	t.Helper()
	moved, hm, gone, hg := m.r.push(c)
	m.win = append(m.win, c)
	if hm {
		if moved != m.win[0] {
			t.Fatalf("push %d moved %d, want %d", c, moved, m.win[0])
		}
		m.win = m.win[1:]
		m.ref = append(m.ref, moved)
	}
	if hg {
		if gone != m.ref[0] {
			t.Fatalf("push %d dropped %d, want %d", c, gone, m.ref[0])
		}
		m.ref = m.ref[1:]
	}
	if w, ref := m.r.counts(); w != len(m.win) || ref != len(m.ref) {
		t.Fatalf("push %d: counts %d, %d; want %d, %d", c, w, ref, len(m.win), len(m.ref))
	}
}
