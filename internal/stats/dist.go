package stats

import (
	"math"
	"sort"
)

// NormalCDF returns P(Z ≤ x) for a standard normal Z.
func NormalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// NormalSF returns P(Z > x) for a standard normal Z, with full relative precision in the upper
// tail.
func NormalSF(x float64) float64 { return 0.5 * math.Erfc(x/math.Sqrt2) }

// NormalQuantile returns the x with P(Z ≤ x) = p, for 0 < p < 1 (−Inf at 0, +Inf at 1, NaN
// outside [0, 1]). math.Erfcinv is good to about 1e-9 in the far tails; one Halley step on
// the normal CDF brings the result to full precision.
func NormalQuantile(p float64) float64 {
	switch {
	case p <= 0 || p >= 1 || math.IsNaN(p):
		return -math.Sqrt2 * math.Erfcinv(2*p)
	case p > 0.5:
		return -NormalQuantile(1 - p) // 1−p is exact for p ≥ 0.5
	}
	x := -math.Sqrt2 * math.Erfcinv(2*p)
	pdf := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
	u := (NormalCDF(x) - p) / pdf
	return x - u/(1+x*u/2)
}

// ChiSquareSF returns P(X > x) for a chi-square variable X with k degrees of freedom.
func ChiSquareSF(x float64, k int) float64 {
	if x <= 0 {
		return 1
	}
	return GammaQ(float64(k)/2, x/2)
}

// maxIter bounds the series and continued fractions below; they converge in O(√a) steps, so
// this covers arguments up to about 10¹⁰.
const maxIter = 1_000_000

// eps is the relative precision the series and continued fractions stop at.
const eps = 1e-15

// tiny keeps Lentz's continued fractions away from division by zero.
const tiny = 1e-300

// GammaP returns the regularised lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), for
// a > 0 and x ≥ 0.
func GammaP(a, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	case x < a+1:
		return gammaSeries(a, x)
	}
	return 1 - gammaFraction(a, x)
}

// GammaQ returns the regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x), for
// a > 0 and x ≥ 0, without losing precision when it is small.
func GammaQ(a, x float64) float64 {
	switch {
	case x <= 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	case x < a+1:
		return 1 - gammaSeries(a, x)
	}
	return gammaFraction(a, x)
}

// gammaPrefix returns x^a e^−x / Γ(a) computed in logarithms.
func gammaPrefix(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	return math.Exp(a*math.Log(x) - x - lg)
}

// gammaSeries is P(a, x) by its power series, for x < a+1.
func gammaSeries(a, x float64) float64 {
	ap, del := a, 1/a
	sum := del
	for range maxIter {
		ap++
		del *= x / ap
		sum += del
		if math.Abs(del) < math.Abs(sum)*eps {
			break
		}
	}
	return sum * gammaPrefix(a, x)
}

// gammaFraction is Q(a, x) by its continued fraction (modified Lentz), for x ≥ a+1.
func gammaFraction(a, x float64) float64 {
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i <= maxIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return gammaPrefix(a, x) * h
}

// BetaI returns the regularised incomplete beta function I_x(a, b), for a, b > 0 and
// 0 ≤ x ≤ 1.
func BetaI(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	// The continued fraction converges quickly for x < (a+1)/(a+b+2); use the symmetry
	// I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
	if x < (a+1)/(a+b+2) {
		return front * betaFraction(a, b, x) / a
	}
	return 1 - front*betaFraction(b, a, 1-x)/b
}

// betaFraction is the continued fraction of the incomplete beta function (modified Lentz).
func betaFraction(a, b, x float64) float64 {
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

func binomialLogPMF(k, n int, p float64) float64 {
	switch {
	case k < 0 || k > n:
		return math.Inf(-1)
	case p <= 0:
		if k == 0 {
			return 0
		}
		return math.Inf(-1)
	case p >= 1:
		if k == n {
			return 0
		}
		return math.Inf(-1)
	}
	return logChoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// BinomialCDF returns P(X ≤ k) for X ~ Binomial(n, p).
func BinomialCDF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	return BetaI(float64(n-k), float64(k+1), 1-p)
}

// BinomialSF returns P(X > k) for X ~ Binomial(n, p), without cancellation when it is small.
func BinomialSF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 1
	case k >= n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return BetaI(float64(k+1), float64(n-k), p)
}

// BinomialQuantile returns the smallest k with P(X ≤ k) ≥ u, for X ~ Binomial(n, p).
func BinomialQuantile(u float64, n int, p float64) int {
	return sort.Search(n, func(k int) bool { return BinomialCDF(k, n, p) >= u })
}

// PoissonCDF returns P(X ≤ k) for X ~ Poisson(mu).
func PoissonCDF(k int, mu float64) float64 {
	switch {
	case k < 0:
		return 0
	case mu <= 0:
		return 1
	}
	return GammaQ(float64(k+1), mu)
}

// PoissonSF returns P(X > k) for X ~ Poisson(mu), without cancellation when it is small.
func PoissonSF(k int, mu float64) float64 {
	switch {
	case k < 0:
		return 1
	case mu <= 0:
		return 0
	}
	return GammaP(float64(k+1), mu)
}

// PoissonCI returns the exact (Garwood) interval for the mean of a Poisson count k at
// confidence conf: the means under which k or more, and k or fewer, events each have
// probability (1−conf)/2.
func PoissonCI(k int, conf float64) (lo, hi float64) {
	a := (1 - conf) / 2
	top := float64(k) + 20*math.Sqrt(float64(k)+1) + 20
	// solve finds the mean where f, which increases with it, crosses target.
	solve := func(f func(mu float64) float64, target float64) float64 {
		l, h := 0.0, top
		for range 200 {
			m := (l + h) / 2
			if f(m) < target {
				l = m
			} else {
				h = m
			}
		}
		return (l + h) / 2
	}
	if k > 0 {
		lo = solve(func(mu float64) float64 { return PoissonSF(k-1, mu) }, a) // P(X ≥ k) rises with mu
	}
	hi = solve(func(mu float64) float64 { return -PoissonCDF(k, mu) }, -a) // P(X ≤ k) falls with mu
	return lo, hi
}
