package stats

import (
	"math"
	"math/rand/v2"
)

// Z95 is the standard normal quantile at 0.95: a lognormal with median m and 95th percentile
// p has sigma = ln(p/m) / Z95.
const Z95 = 1.6448536269514722

// Lognormal is a distribution fitted to a median and a 95th percentile, as the spec states
// latencies and token counts. Sigma 0 is a constant; a median of 0 or less is always 0. The
// estimator draws from it and the simulated provider answers with it, so that both read an
// assumption the same way.
type Lognormal struct {
	Mu, Sigma float64
}

// FitLognormal returns the lognormal with median p50 and 95th percentile p95 (a constant when
// p95 ≤ p50).
func FitLognormal(p50, p95 float64) Lognormal {
	if p50 <= 0 {
		return Lognormal{Mu: math.Inf(-1)}
	}
	s := 0.0
	if p95 > p50 {
		s = math.Log(p95/p50) / Z95
	}
	return Lognormal{Mu: math.Log(p50), Sigma: s}
}

// Mean returns the distribution's mean.
func (l Lognormal) Mean() float64 {
	if math.IsInf(l.Mu, -1) {
		return 0
	}
	return math.Exp(l.Mu + l.Sigma*l.Sigma/2)
}

// Median returns the distribution's median.
func (l Lognormal) Median() float64 {
	if math.IsInf(l.Mu, -1) {
		return 0
	}
	return math.Exp(l.Mu)
}

// Sample draws one value.
func (l Lognormal) Sample(r *rand.Rand) float64 {
	if math.IsInf(l.Mu, -1) {
		return 0
	}
	if l.Sigma == 0 {
		return math.Exp(l.Mu)
	}
	return math.Exp(l.Mu + l.Sigma*r.NormFloat64())
}

// CDF returns P(X ≤ x).
func (l Lognormal) CDF(x float64) float64 {
	switch {
	case math.IsInf(l.Mu, -1) || l.Sigma == 0:
		if x >= l.Median() {
			return 1
		}
		return 0
	case x <= 0:
		return 0
	}
	return 0.5 * math.Erfc(-(math.Log(x)-l.Mu)/(l.Sigma*math.Sqrt2))
}

// Quantile returns the q-quantile (0 < q < 1).
func (l Lognormal) Quantile(q float64) float64 {
	if math.IsInf(l.Mu, -1) {
		return 0
	}
	return math.Exp(l.Mu + l.Sigma*math.Sqrt2*math.Erfinv(2*q-1))
}

// Band is a count that is fixed, or spread as a lognormal (a spec's token band: {in: 400} or
// {in: {p50: 300, p95: 1200}}).
type Band struct {
	Fixed  float64
	Dist   Lognormal
	IsDist bool
}

// NewBand returns a band: the lognormal fitted to p50 and p95 when dist, else fixed at p50.
func NewBand(p50, p95 float64, dist bool) Band {
	if !dist {
		return Band{Fixed: p50}
	}
	return Band{Dist: FitLognormal(p50, p95), IsDist: true}
}

// Mean returns the band's mean.
func (b Band) Mean() float64 {
	if b.IsDist {
		return b.Dist.Mean()
	}
	return b.Fixed
}

// Sample draws one value.
func (b Band) Sample(r *rand.Rand) float64 {
	if b.IsDist {
		return b.Dist.Sample(r)
	}
	return b.Fixed
}
