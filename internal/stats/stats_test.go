package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The reference values below were computed with mpmath at 40 digits (exact sums for the
// binomial and hypergeometric cases).

func close(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	if want == 0 {
		if math.Abs(got) > rel {
			t.Errorf("%s = %g, want 0", name, got)
		}
		return
	}
	if math.Abs(got-want)/math.Abs(want) > rel {
		t.Errorf("%s = %.17g, want %.17g (relative error %.2g)", name, got, want, math.Abs(got-want)/math.Abs(want))
	}
}

func TestNormal(t *testing.T) {
	for _, c := range []struct{ p, x float64 }{
		{0.975, 1.9599639845400542}, {0.95, 1.6448536269514727}, {1e-10, -6.3613409024040562},
		{0.999999, 4.7534243088228989},
	} {
		close(t, "NormalQuantile", NormalQuantile(c.p), c.x, 1e-11) // p = 0.999999 is not exact in binary
		close(t, "NormalCDF", NormalCDF(c.x), c.p, 1e-13)
	}
	if NormalQuantile(0.5) != 0 {
		t.Errorf("NormalQuantile(0.5) = %g", NormalQuantile(0.5))
	}
	close(t, "NormalSF(6.3613409024040562)", NormalSF(6.3613409024040562), 1e-10, 1e-12)
}

func TestIncompleteGamma(t *testing.T) {
	for _, c := range []struct{ a, x, p, q float64 }{
		{0.5, 2, 0.95449973610364159, 0.045500263896358414},
		{3, 1.5, 0.19115316946194187, 0.80884683053805813},
		{10, 20, 0.99500458769169241, 0.0049954123083075872},
		{100, 90, 0.15822098918643017, 0.84177901081356983},
		{1e4, 1.01e4, 0.84134875044717962, 0.15865124955282038},
		{2.5, 0.1, 0.00088613878881244261, 0.99911386121118756},
	} {
		// x^a e^−x loses about a·1e-16 of relative precision in its exponent.
		close(t, "GammaP", GammaP(c.a, c.x), c.p, 1e-10)
		close(t, "GammaQ", GammaQ(c.a, c.x), c.q, 1e-10)
	}
}

func TestChiSquareSF(t *testing.T) {
	for _, c := range []struct {
		x    float64
		k    int
		want float64
	}{
		{3.841458820694124, 1, 0.05}, {20, 5, 0.0012497305630313754}, {150, 100, 0.00090393204235400909},
		{1e-3, 3, 0.99999159208094195}, {400, 10, 9.4132919911834761e-80},
	} {
		close(t, "ChiSquareSF", ChiSquareSF(c.x, c.k), c.want, 1e-10)
	}
	// Closed forms: 1 df is erfc(√(x/2)); 4 df is e^(−x/2)(1 + x/2).
	for _, x := range []float64{0.01, 0.7, 3, 12, 60} {
		close(t, "ChiSquareSF 1 df", ChiSquareSF(x, 1), math.Erfc(math.Sqrt(x/2)), 1e-12)
		close(t, "ChiSquareSF 4 df", ChiSquareSF(x, 4), math.Exp(-x/2)*(1+x/2), 1e-12)
	}
	if ChiSquareSF(0, 3) != 1 {
		t.Error("ChiSquareSF(0) != 1")
	}
}

func TestBeta(t *testing.T) {
	for _, c := range []struct{ a, b, x, want float64 }{
		{2, 3, 0.4, 0.5248}, {0.5, 0.5, 0.1, 0.20483276469913346},
		{1000, 2000, 0.34, 0.78121509116064273}, {5000, 5000, 0.49, 0.022742032324574546},
	} {
		close(t, "BetaI", BetaI(c.a, c.b, c.x), c.want, 1e-10)
	}
}

func TestBinomial(t *testing.T) {
	for _, c := range []struct {
		k, n int
		p    float64
		cdf  float64
	}{
		{7, 20, 0.5, 0.13158798217773438}, {880, 1000, 0.9, 0.021996144965794351},
		{9250, 10000, 0.93, 0.027110268589675906}, {3, 10, 0.01, 0.99999799872384306},
	} {
		close(t, "BinomialCDF", BinomialCDF(c.k, c.n, c.p), c.cdf, 1e-10)
		close(t, "BinomialSF", BinomialSF(c.k, c.n, c.p), 1-c.cdf, 1e-8)
	}
	// The CDF is the running sum of the mass function.
	sum := 0.0
	for k := 0; k <= 40; k++ {
		sum += math.Exp(binomialLogPMF(k, 40, 0.3))
		close(t, "BinomialCDF vs sum", BinomialCDF(k, 40, 0.3), sum, 1e-12)
	}
	if q := BinomialQuantile(0.5, 20, 0.5); q != 10 {
		t.Errorf("median of Binomial(20, .5) = %d, want 10", q)
	}
}

func TestBinomialTest(t *testing.T) {
	for _, c := range []struct {
		k, n int
		p    float64
		want float64
	}{
		{7, 20, 0.5, 0.26317596435546875},
		{682, 925, 0.75, 0.38249155957485168}, // R's binom.test(c(682, 243), p = 3/4)
		{3, 10, 0.1, 0.0701908264},
		{0, 50, 0.02, 0.62839828562539075},
		{60, 200, 0.2, 0.00073411647975380291},
		{45, 60, 0.9, 0.00066566384800148701},
	} {
		close(t, "BinomialTest", BinomialTest(c.k, c.n, c.p), c.want, 1e-9)
	}
	if p := BinomialTest(10, 20, 0.5); p != 1 {
		t.Errorf("BinomialTest at the mean = %g, want 1", p)
	}
	if BinomialTest(0, 0, 0.3) != 1 || BinomialTest(1, 5, 0) != 0 || BinomialTest(5, 5, 1) != 1 {
		t.Error("degenerate binomial tests are wrong")
	}
}

func TestPoissonCI(t *testing.T) {
	for _, c := range []struct {
		k      int
		conf   float64
		lo, hi float64
	}{
		{0, 0.95, 0, 3.68887945411394}, {5, 0.95, 1.62348639011842, 11.6683320793227},
		{100, 0.99, 76.1204958436892, 128.760580120102},
	} {
		lo, hi := PoissonCI(c.k, c.conf)
		close(t, "PoissonCI lo", lo, c.lo, 1e-9)
		close(t, "PoissonCI hi", hi, c.hi, 1e-9)
	}
}

func TestFisherGreater(t *testing.T) {
	for _, c := range []struct {
		k1, n1, k2, n2 int
		want           float64
	}{
		{10, 100, 3, 100, 0.040897026484489619},
		{30, 1000, 0, 1000, 7.4683278813045125e-10},
		{5, 50, 8, 50, 0.88319861580617038},
		{1, 10, 1, 10, 0.76315789473684211},
		{40, 5000, 25, 5000, 0.040346204042591978},
	} {
		close(t, "FisherGreater", FisherGreater(c.k1, c.n1, c.k2, c.n2), c.want, 1e-9)
	}
	if FisherGreater(0, 10, 5, 10) != 1 {
		t.Error("no events in the first sample must give 1")
	}
}

func TestQuantileCI(t *testing.T) {
	for _, c := range []struct {
		n      int
		q, c   float64
		lo, hi int // 1-based ranks; n+1 means unbounded
	}{
		{100, 0.5, 0.95, 40, 61}, {1000, 0.95, 0.99, 931, 968}, {30, 0.95, 0.99, 25, 31},
	} {
		xs := make([]float64, c.n)
		for i := range xs {
			xs[i] = float64(i + 1) // the i-th order statistic is i
		}
		lo, hi := QuantileCI(xs, c.q, c.c)
		wantHi := float64(c.hi)
		if c.hi > c.n {
			wantHi = math.Inf(1)
		}
		if lo != float64(c.lo) || hi != wantHi {
			t.Errorf("QuantileCI(n=%d, q=%g, %g) = [%g, %g], want ranks [%d, %g]", c.n, c.q, c.c, lo, hi, c.lo, wantHi)
		}
	}
}

// TestQuantileCICoverage checks the distribution-free promise: on exponential samples the
// interval covers the true quantile at least as often as it says.
func TestQuantileCICoverage(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	const runs, n, q, conf = 4000, 200, 0.95, 0.9
	truth := -math.Log(1 - q)
	covered := 0
	xs := make([]float64, n)
	for range runs {
		for i := range xs {
			xs[i] = r.ExpFloat64()
		}
		slices.Sort(xs)
		if lo, hi := QuantileCI(xs, q, conf); lo <= truth && truth <= hi {
			covered++
		}
	}
	// Coverage must be at least conf, up to sampling error (4 standard errors).
	if got := float64(covered) / runs; got < conf-4*math.Sqrt(conf*(1-conf)/runs) {
		t.Errorf("coverage %.3f below %.2f", got, conf)
	}
}

func TestQuantileTests(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	// 50 of 100 at or below 50.5: exactly the median.
	if p := QuantileTest(xs, 0.5, 50.5, 50.5); p != 1 {
		t.Errorf("QuantileTest at the median = %g, want 1", p)
	}
	// 60 of 100 below 60.5 against a median of 60.5: twice P(B ≥ 60), B ~ Binomial(100, .5).
	close(t, "QuantileTest", QuantileTest(xs, 0.5, 60.5, 60.5), 2*BinomialSF(59, 100, 0.5), 1e-12)
	// ... and 40 at or below 40.5, the other side.
	close(t, "QuantileTest", QuantileTest(xs, 0.5, 40.5, 40.5), 2*BinomialCDF(40, 100, 0.5), 1e-12)
	// A median claimed to lie in [45, 55] is not contradicted by a sample median of 50.
	if p := QuantileTest(xs, 0.5, 45, 55); p != 1 {
		t.Errorf("QuantileTest inside the interval = %g, want 1", p)
	}
	// 90 of 100 at or below 90 where the 95th percentile is claimed to be at most 90.
	close(t, "QuantileAbove", QuantileAbove(xs, 0.95, 90), BinomialCDF(90, 100, 0.95), 1e-15)
	if Quantile(xs, 0.95) != 95 || Quantile(xs, 0.5) != 50 {
		t.Errorf("Quantile: p95 %g, p50 %g", Quantile(xs, 0.95), Quantile(xs, 0.5))
	}
}

func TestWilson(t *testing.T) {
	lo, hi := Wilson(81, 263, 0.95) // a textbook example: 0.2553 to 0.3662
	close(t, "Wilson lo", lo, 0.2553, 1e-3)
	close(t, "Wilson hi", hi, 0.3662, 1e-3)
}

// TestClopperPearson: the exact interval, against the binomial tails solved for p by hand
// (exact sums), is wider than Wilson's near 1, and closed at the end a proportion of 0 or 1 is.
func TestClopperPearson(t *testing.T) {
	lo, hi := ClopperPearson(57, 60, 0.95)
	close(t, "57/60 lo", lo, 0.86075675327893, 1e-9)
	close(t, "57/60 hi", hi, 0.98956767035565, 1e-9)
	if wlo, whi := Wilson(57, 60, 0.95); !(lo < wlo && hi > whi) {
		t.Errorf("57/60: exact %.4f–%.4f, Wilson %.4f–%.4f; want the exact one wider", lo, hi, wlo, whi)
	}
	lo, hi = ClopperPearson(0, 10, 0.95)
	close(t, "0/10 hi", hi, 1-math.Pow(0.025, 0.1), 1e-9)
	if lo != 0 {
		t.Errorf("0/10: lo %g, want 0", lo)
	}
	lo, hi = ClopperPearson(10, 10, 0.95)
	close(t, "10/10 lo", lo, math.Pow(0.025, 0.1), 1e-9)
	if hi != 1 {
		t.Errorf("10/10: hi %g, want 1", hi)
	}
	if lo, hi := ClopperPearson(0, 0, 0.95); lo != 0 || hi != 1 {
		t.Errorf("no trials: %g–%g, want 0–1", lo, hi)
	}
}

func TestChiSquareGOF(t *testing.T) {
	// Mendel's peas: 315, 108, 101, 32 against 9:3:3:1 give χ² = 0.470, p = 0.925.
	stat, df, p := ChiSquareGOF([]int{315, 108, 101, 32}, []float64{9.0 / 16, 3.0 / 16, 3.0 / 16, 1.0 / 16})
	close(t, "stat", stat, 0.4700, 1e-3)
	close(t, "p", p, 0.9254, 1e-3)
	if df != 3 {
		t.Errorf("df = %d", df)
	}
}

func TestZTest(t *testing.T) {
	close(t, "ZTest", ZTest(1.96, 1, 0, 0), 0.05, 1e-4)
	close(t, "ZTest below", ZTest(-1.96, 1, 0, 0), 0.05, 1e-4)
	close(t, "ZTest with a margin", ZTest(2.96, 1, -1, 1), 0.05, 1e-4)
	if ZTest(0.5, 1, -1, 1) != 1 || ZTest(3, 0, 3, 3) != 1 || ZTest(3, 0, 0, 0) != 0 {
		t.Error("ZTest inside the interval, or with no standard error, is wrong")
	}
}

func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		close(t, "Holm", got[i], want[i], 1e-12)
	}
}

func TestMoments(t *testing.T) {
	var m Moments
	for _, x := range []float64{1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16} {
		m.Add(x)
	}
	close(t, "mean", m.Mean(), 1e9+10, 1e-15)
	close(t, "var", m.Var(), 30, 1e-9)
	close(t, "se", m.SE(), math.Sqrt(30.0/4), 1e-9)
}

func TestMSPRT(t *testing.T) {
	// Λ reaches 1/α exactly at the edge of the always-valid interval.
	v, tau2, alpha := 0.0004, 0.0025, 0.05
	h := MSPRTHalfWidth(v, tau2, alpha)
	close(t, "p at the edge", MSPRTPValue(h, v, tau2), alpha, 1e-12)
	if MSPRTPValue(0, v, tau2) != 1 {
		t.Error("a zero difference must give p = 1")
	}
	// The variance that detects an effect with 50% power puts the effect on the boundary.
	eff := 0.05
	v50 := MSPRTVariance(eff, tau2, alpha, 0.5)
	close(t, "50% power boundary", MSPRTHalfWidth(v50, tau2, alpha), eff, 1e-9)
	if v80 := MSPRTVariance(eff, tau2, alpha, 0.8); v80 >= v50 {
		t.Errorf("80%% power needs a smaller variance (more data): %g >= %g", v80, v50)
	}
}

// TestMSPRTAlwaysValid runs the sequential test on null data, looking after every
// observation: the fraction of runs that ever reject must stay at or below α.
func TestMSPRTAlwaysValid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	const runs, n, alpha, tau2 = 1000, 2000, 0.05, 0.04
	rejected := 0
	for range runs {
		sum := 0.0
		for i := 1; i <= n; i++ {
			sum += r.NormFloat64() - r.NormFloat64() // a pair of arms, unit variance each
			if MSPRTPValue(sum/float64(i), 2/float64(i), tau2) <= alpha {
				rejected++
				break
			}
		}
	}
	limit := alpha + 3*math.Sqrt(alpha*(1-alpha)/runs)
	if got := float64(rejected) / runs; got > limit {
		t.Errorf("false rejections under continuous monitoring: %.3f > %.3f", got, limit)
	}
}

// TestRatio checks the ratio of sums and its delta-method standard error against a two-pass
// computation, and that its 95% interval covers the population ratio about 95% of the time.
func TestRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var r Ratio
	var xs, ys []float64
	for range 500 {
		y := 500 + 1000*rng.Float64()
		x := y * (0.3 + 0.4*rng.Float64())
		r.Add(x, y)
		xs, ys = append(xs, x), append(ys, y)
	}
	var sx, sy float64
	for i := range xs {
		sx, sy = sx+xs[i], sy+ys[i]
	}
	q, my := sx/sy, sy/float64(len(ys))
	var v float64
	for i := range xs {
		d := xs[i] - q*ys[i]
		v += d * d
	}
	se := math.Sqrt(v/float64(len(xs)-1)/float64(len(xs))) / my
	close(t, "Value", r.Value(), q, 1e-12)
	close(t, "SE", r.SE(), se, 1e-9)

	// Coverage: x = y·U(0.3, 0.7) has the population ratio 0.5.
	covered, trials := 0, 2000
	for range trials {
		var s Ratio
		for range 50 {
			y := 500 + 1000*rng.Float64()
			s.Add(y*(0.3+0.4*rng.Float64()), y)
		}
		if math.Abs(s.Value()-0.5) <= 1.96*s.SE() {
			covered++
		}
	}
	if c := float64(covered) / float64(trials); c < 0.93 || c > 0.97 {
		t.Errorf("coverage of the 95%% interval %.3f, want about 0.95", c)
	}
	var empty Ratio
	if !math.IsNaN(empty.Value()) || !math.IsNaN(empty.SE()) {
		t.Errorf("empty ratio %v ± %v, want NaN", empty.Value(), empty.SE())
	}
}
