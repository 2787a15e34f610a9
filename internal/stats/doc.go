// Package stats holds the few statistical distributions and tests Clearbar's reviews need,
// written on the standard library's math package: no statistics dependency is taken for a
// dozen functions.
//
// # Distributions
//
// The normal distribution uses math.Erfc and math.Erfcinv, which keep full relative precision
// in the tails: NormalSF(x) = erfc(x/√2)/2 and NormalQuantile(p) = −√2·erfcinv(2p).
//
// The chi-square survival function is the regularised upper incomplete gamma function,
// ChiSquareSF(x; k) = Q(k/2, x/2), computed by its power series when x < a+1 and by Lentz's
// continued fraction otherwise (Numerical Recipes §6.2). Binomial tails are regularised
// incomplete beta functions, P(X ≤ k) = I₁₋ₚ(n−k, k+1), computed by the continued fraction
// of Numerical Recipes §6.4, and Poisson tails are incomplete gammas, P(X ≤ k) = Q(k+1, μ).
// Each costs O(√n) operations at most, so a test on a million requests is as cheap as one on
// a hundred.
//
// # Tests
//
// The two-sided exact BinomialTest adds the probabilities of every outcome no more likely than
// the one observed, as R's binom.test does; the outcomes on the far side of the mode are
// found by bisection, since the mass function is unimodal. PoissonCI is the exact (Garwood)
// interval for a Poisson mean.
// FisherGreater is the one-sided Fisher exact test that a rate rose between two samples. A
// QuantileTest asks whether the q-quantile of a continuous distribution lies in [lo, hi]: if
// it is x₀, the number of observations below x₀ is Binomial(n, q) whatever the distribution,
// and QuantileCI inverts the same fact into a distribution-free interval between two order
// statistics. ZTest, like QuantileTest, takes an interval, so that a difference can be
// required to exceed a tolerance before it counts. ChiSquareGOF is Pearson's goodness-of-fit test. Holm adjusts a family of
// p-values so that rejecting every adjusted p-value at or below α keeps the probability of
// any false rejection at or below α, whatever the dependence between the tests.
//
// # Sequential tests
//
// MSPRT is the mixture sequential probability ratio test of Johari, Pekelis and Walsh
// ("Always valid inference", 2017) for a difference of two means θ, with the estimate θ̂ and
// its variance V (σ²_A/n_A + σ²_B/n_B) and a normal mixing distribution N(0, τ²) over θ:
//
//	Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²)))
//
// Under θ = 0, Λ is a non-negative martingale with mean 1, so by Ville's inequality the
// chance that it ever reaches 1/α is at most α: the test may be looked at after every
// observation without inflating its false-positive rate. 1/Λ (kept at its running minimum) is
// an always-valid p-value, and inverting the boundary gives the always-valid interval
// θ̂ ± √(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))).
package stats
