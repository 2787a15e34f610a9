package stats

import "math"

// MSPRTLogLR returns log Λ, the logarithm of the mixture likelihood ratio of the mixture
// sequential probability ratio test for a difference of means: est is the estimated difference,
// v its variance and tau2 the variance of the normal mixing distribution over the true
// difference (the size of difference the test is tuned to find). v must be positive.
func MSPRTLogLR(est, v, tau2 float64) float64 {
	return 0.5*math.Log(v/(v+tau2)) + tau2*est*est/(2*v*(v+tau2))
}

// MSPRTPValue returns min(1, 1/Λ): the always-valid p-value at one look. Keeping its running
// minimum over looks gives a p-value that is valid however often it is looked at.
func MSPRTPValue(est, v, tau2 float64) float64 {
	return math.Min(1, math.Exp(-MSPRTLogLR(est, v, tau2)))
}

// MSPRTHalfWidth returns the half-width of the always-valid confidence interval at level
// 1−alpha for a difference whose estimate has variance v: the estimates whose Λ stays below
// 1/alpha.
func MSPRTHalfWidth(v, tau2, alpha float64) float64 {
	return math.Sqrt(v * (v + tau2) / tau2 * (2*math.Log(1/alpha) + math.Log((v+tau2)/v)))
}

// MSPRTVariance returns the variance of the estimate at which a true difference of the given
// size is detected by the level-alpha test with probability power: the v solving
// |effect| = MSPRTHalfWidth(v) + z_power·√v. Since v shrinks as 1/n, the sample needed is the
// current one times v_now/MSPRTVariance. It returns 0 for a zero effect.
func MSPRTVariance(effect, tau2, alpha, power float64) float64 {
	effect = math.Abs(effect)
	if effect == 0 {
		return 0
	}
	z := NormalQuantile(power)
	f := func(v float64) float64 { return MSPRTHalfWidth(v, tau2, alpha) + z*math.Sqrt(v) }
	// f increases with v; bracket the root in log space and bisect.
	lo, hi := math.Log(effect*effect)-60, math.Log(effect*effect)
	for f(math.Exp(hi)) < effect {
		hi += 10
	}
	for range 200 {
		mid := (lo + hi) / 2
		if f(math.Exp(mid)) < effect {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp(lo)
}
