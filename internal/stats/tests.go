package stats

import (
	"math"
	"sort"
)

// relErr is the tolerance within which an outcome counts as exactly as likely as the observed
// one in the two-sided exact tests (R uses the same).
const relErr = 1 + 1e-7

// BinomialTest returns the two-sided exact p-value of k successes in n trials under the
// hypothesis that the success probability is p0: the probability of every outcome no more
// likely than k. It is 1 when n is 0.
func BinomialTest(k, n int, p0 float64) float64 {
	switch {
	case n <= 0:
		return 1
	case p0 <= 0:
		return boolP(k == 0)
	case p0 >= 1:
		return boolP(k == n)
	}
	thr := binomialLogPMF(k, n, p0) + math.Log(relErr)
	m := float64(n) * p0
	switch {
	case float64(k) == m:
		return 1
	case float64(k) < m:
		// The mass function does not increase on [⌈m⌉, n]: the outcomes there at most as
		// likely as k are a suffix [j, n].
		lo := int(math.Ceil(m))
		j := lo + sort.Search(n-lo+1, func(i int) bool { return binomialLogPMF(lo+i, n, p0) <= thr })
		return math.Min(1, BinomialCDF(k, n, p0)+BinomialSF(j-1, n, p0))
	}
	// It does not decrease on [0, ⌊m⌋]: the outcomes there at most as likely are a prefix.
	hi := int(math.Floor(m))
	y := sort.Search(hi+1, func(i int) bool { return binomialLogPMF(i, n, p0) > thr })
	return math.Min(1, BinomialCDF(y-1, n, p0)+BinomialSF(k-1, n, p0))
}

func boolP(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

// FisherGreater returns the one-sided Fisher exact p-value that the rate k1/n1 is higher than
// the rate k2/n2: the probability, given the total k1+k2 of events, that at least k1 of them
// fall in the first sample (a hypergeometric tail).
func FisherGreater(k1, n1, k2, n2 int) float64 {
	N, K := n1+n2, k1+k2
	lo, hi := max(0, n1-(N-K)), min(K, n1)
	if k1 <= lo {
		return 1
	}
	if k1 > hi {
		return 0
	}
	logPMF := func(x int) float64 { return logChoose(K, x) + logChoose(N-K, n1-x) - logChoose(N, n1) }
	// ratio(x) = P(x+1)/P(x)
	ratio := func(x int) float64 {
		return float64(K-x) * float64(n1-x) / (float64(x+1) * float64(N-K-n1+x+1))
	}
	mode := int(math.Floor(float64(n1+1) * float64(K+1) / float64(N+2)))
	if k1 > mode {
		// Terms fall from k1 upward: sum the upper tail from its largest term.
		t := math.Exp(logPMF(k1))
		sum := t
		for x := k1; x < hi && t > sum*1e-17; x++ {
			t *= ratio(x)
			sum += t
		}
		return math.Min(1, sum)
	}
	// k1 is at or below the mode: 1 − P(X ≤ k1−1), summing that lower tail from its largest
	// term downward.
	t := math.Exp(logPMF(k1 - 1))
	sum := t
	for x := k1 - 1; x > lo && t > sum*1e-17; x-- {
		t /= ratio(x - 1)
		sum += t
	}
	return math.Max(0, 1-sum)
}

// QuantileTest returns the p-value of the hypothesis that the q-quantile of the continuous
// distribution sorted was drawn from lies in [lo, hi] (lo = hi tests a single value). If it
// is at most hi, the number of observations at or below hi is at least Binomial(n, q); if it
// is at least lo, the number below lo is at most Binomial(n, q). The p-value is twice the
// smaller of the two one-sided exact binomial tails, at most 1. sorted must be in increasing
// order.
func QuantileTest(sorted []float64, q, lo, hi float64) float64 {
	n := len(sorted)
	below := sort.SearchFloat64s(sorted, lo)
	up := QuantileAbove(sorted, q, hi)
	down := BinomialSF(below-1, n, q) // P(B ≥ below)
	return math.Min(1, 2*math.Min(up, down))
}

// QuantileAbove returns the one-sided exact p-value of the hypothesis that the q-quantile of
// the distribution is at most x0, against the alternative that it is above: the probability,
// were the quantile exactly x0, of seeing this few observations at or below x0. sorted must
// be in increasing order.
func QuantileAbove(sorted []float64, q, x0 float64) float64 {
	atOrBelow := sort.Search(len(sorted), func(i int) bool { return sorted[i] > x0 })
	return BinomialCDF(atOrBelow, len(sorted), q)
}

// Quantile returns the q-quantile of sorted observations: the ⌈qn⌉-th smallest. It is NaN
// for an empty sample.
func Quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(n))) - 1
	return sorted[min(max(i, 0), n-1)]
}

// QuantileCI returns a distribution-free interval for the q-quantile from sorted observations,
// with coverage at least conf: the order statistics X₍ₗ₎ and X₍ᵤ₎ whose ranks bound a
// Binomial(n, q) count with that probability. A side the sample is too small to bound is
// infinite.
func QuantileCI(sorted []float64, q, conf float64) (lo, hi float64) {
	n := len(sorted)
	if n == 0 {
		return math.Inf(-1), math.Inf(1)
	}
	a := (1 - conf) / 2
	// P(X₍ₗ₎ > ξ) = P(B ≤ l−1) must stay below a, and P(X₍ᵤ₎ < ξ) = P(B ≥ u) too.
	l := BinomialQuantile(a, n, q) // 1-based rank: P(B ≤ l−1) < a
	u := BinomialQuantile(1-a, n, q) + 1
	lo, hi = math.Inf(-1), math.Inf(1)
	if l >= 1 {
		lo = sorted[l-1]
	}
	if u <= n {
		hi = sorted[u-1]
	}
	return lo, hi
}

// ClopperPearson returns the exact (Clopper–Pearson) interval for a proportion of k in n at
// confidence conf: the proportions under which k or fewer, and k or more, successes each have
// at least a (1−conf)/2 chance. Its coverage is at least conf for every proportion, near 0
// and 1 too, where the Wilson interval's falls short; [0, 1] for n = 0.
func ClopperPearson(k, n int, conf float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	tail := (1 - conf) / 2
	// search returns the p in [0, 1] where below(p) turns from true to false.
	search := func(below func(p float64) bool) float64 {
		a, b := 0.0, 1.0
		for range 60 {
			if mid := (a + b) / 2; below(mid) {
				a = mid
			} else {
				b = mid
			}
		}
		return (a + b) / 2
	}
	lo, hi = 0, 1
	if k > 0 {
		lo = search(func(p float64) bool { return BinomialSF(k-1, n, p) < tail })
	}
	if k < n {
		hi = search(func(p float64) bool { return BinomialCDF(k, n, p) > tail })
	}
	return lo, hi
}

// Wilson returns the Wilson score interval for a proportion of k in n at confidence conf.
func Wilson(k, n int, conf float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	z := NormalQuantile(1 - (1-conf)/2)
	p, nn := float64(k)/float64(n), float64(n)
	den := 1 + z*z/nn
	center := (p + z*z/(2*nn)) / den
	half := z * math.Sqrt(p*(1-p)/nn+z*z/(4*nn*nn)) / den
	return math.Max(0, center-half), math.Min(1, center+half)
}

// ZTest returns the two-sided p-value, by the normal approximation, of the hypothesis that
// the mean of an estimate est with standard error se lies in [lo, hi] (lo = hi tests a single
// value): twice the normal tail beyond est's distance from the interval, at most 1. A zero
// standard error gives 1 when est lies in the interval and 0 otherwise.
func ZTest(est, se, lo, hi float64) float64 {
	d := math.Max(0, math.Max(lo-est, est-hi))
	if se <= 0 {
		return boolP(d == 0)
	}
	return math.Min(1, 2*NormalSF(d/se))
}

// ChiSquareGOF is Pearson's goodness-of-fit test of counts against probabilities that sum to
// 1 (cells with probability 0 are left out). It returns the statistic, its degrees of freedom
// and the p-value.
func ChiSquareGOF(observed []int, probs []float64) (stat float64, df int, p float64) {
	n := 0
	for _, o := range observed {
		n += o
	}
	cells := 0
	for i, o := range observed {
		if probs[i] <= 0 {
			continue
		}
		e := float64(n) * probs[i]
		d := float64(o) - e
		stat += d * d / e
		cells++
	}
	df = cells - 1
	if df < 1 {
		return stat, df, 1
	}
	return stat, df, ChiSquareSF(stat, df)
}

// Holm returns Holm's step-down adjusted p-values, in the order given: rejecting every
// hypothesis whose adjusted p-value is at most α keeps the family-wise error rate at most α.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-rank)*ps[i]))
		adj[i] = running
	}
	return adj
}
