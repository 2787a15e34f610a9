// Package review compares what production traffic shows with what a routing spec assumes,
// says which assumptions moved, and what the re-estimated best policy is.
//
// A review reads a window of decision records (Read pages through a trace store), keeps a
// compact record of each request and of each model call (Review.Add), and then (Review.Run):
//
//  1. estimates the spec as written, for the figures its own routes are expected to reach;
//  2. compares every measurement with its assumption and tests whether the difference is real;
//  3. lists the recalculation triggers that fired, with their evidence;
//  4. analyses the experiments of split routes;
//  5. re-estimates with the measurements and writes the recommended change as a diff of the
//     spec file.
//
// # What is compared, and how
//
// Every test below is exact or rests on a large-sample normal approximation that is stated;
// a figure with fewer than MinSamples observations is shown but not tested. Cost, tokens and
// latency quantiles are tested against an interval, the assumption ± Options.Tolerance (5% by
// default), rather than a point: a month of traffic makes a 1% drift significant, and it is
// not worth a recalculation. The tests below then ask whether the figure lies outside the
// interval, each p-value being twice the one-sided tail beyond the nearer end.
//
// Traffic mix: the categories' request counts against the spec's shares, by Pearson's
// chi-square goodness-of-fit test, χ² = Σ (Oᵢ − n·pᵢ)² / (n·pᵢ) on k−1 degrees of freedom
// (made when every category expects at least 5 requests).
//
// Pass rates: production traffic has no grades, only validator verdicts. A validator that
// flags a bad answer with probability d and a good one with probability f (the category's
// assume.validator) passes answers at the rate v = q(1−f) + (1−q)(1−d) when a model's true pass
// rate is q. Each model's verdicts in each category are tested against the v its assumed q
// implies, by the exact binomial test; the pass rate reported is the q the measured rate
// implies, q̂ = (v̂ − (1−d)) / (d − f), its interval the Wilson interval of v̂ mapped the same
// way. Unvalidated routes say nothing about pass rates.
//
// Escalation, fallback and retries: the estimator's closed form gives, for the spec's own
// routes, the probability that a request escalates past its first step and that a provider
// failure moves it to a fallback model, and the expected provider retries per request. The
// escalation rate is tested against it by the two-sided exact binomial test (a route on which
// a request can escalate more than once, on the mean number of escalations by the z test).
// Fewer fallbacks and retries than assumed are no reason to recalculate, so the fallback rate
// is tested for a rise by the one-sided exact binomial test, and retries by the one-sided
// exact Poisson test of their total against n times the expected rate.
//
// Cost per request (against the estimate) and tokens in and out per call (against the
// category's token bands, as the estimator reads them): the z test z = (x̄ − μ₀)/(s/√n). The
// prompt cache's share of input tokens (against the category's cache_hit; shown when either
// is above 0) is a ratio of sums, Σcached/Σprompt, tested the same way with the delta
// method's standard error.
//
// Latency: each model's p50 and p95 in each category against the quantiles of its latency
// assumption (as the estimator reads it: a lognormal fitted to p50 and p95, or time to first
// token plus the mean output tokens over tokens per second). If ξ₀ is the true q-quantile of a
// continuous distribution, the number of observations below it is Binomial(n, q) whatever the
// distribution, so the test is exact and distribution-free; the intervals are the order
// statistics that bound that binomial count. A category's end-to-end p95 is tested against
// its latency budget one-sided: were p95 at the budget, at least 95% of requests would finish
// within it, and P(Binomial(n, 0.95) ≤ observed count) is the p-value. End-to-end quantiles
// are also shown beside the estimator's simulation, for context, untested.
//
// Rises: the requests of each category are split into an earlier and a recent half, and the
// fallback rate and the malformed-output rate (requests with a bad_response failure or a
// failed JSON Schema or required-fields check) are tested for a rise by the one-sided Fisher
// exact test.
//
// Prompt templates: a template hash (Decision.TemplateHash) that the earlier half of a
// category's requests never used and that carries at least Options.MinTemplateShare (5% by
// default) of the recent half is a new template version; its rise from nothing is tested by the one-sided Fisher exact
// test.
//
// Facts are not tested: a model price the spec sets to something other than the catalogue's
// (spec.ModelPrices), and a review date plus cadence that has passed (the spec's, and each
// category's own) are triggers by themselves.
//
// # The false-alarm level
//
// A review makes dozens of tests. Holm's step-down correction is applied over all of them: with
// p-values p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted p₍ᵢ₎ is maxⱼ≤ᵢ min(1, (m−j+1)·p₍ⱼ₎), and a difference
// is significant when its adjusted p-value is at most α. Whatever the dependence between the
// tests, the probability that traffic behaving exactly as the spec assumes fires any
// statistical trigger is then at most α (Options.Alpha, DefaultAlpha = 1%). Intervals are
// shown at 1−α for each figure alone.
//
// # Re-estimate and spec change
//
// The decisions are turned into outcome rows (outcomes.FromDecision) and fed to the estimator
// as clearbar estimate --measured does, so measured latencies, tokens and provider failures
// replace the assumptions. Pass rates are the exception: a verdict is not a grade, so rows
// carry no pass/fail, and instead each pass rate whose difference is significant is replaced,
// in the spec file, by the measured q̂. When the re-estimate recommends another policy than the
// estimate of the spec as written, each category whose own route no longer clears its bar and
// budget, or costs more than the recommended policy's clearing route, gets that route. The
// edits change only the text of the values they set, so the unified diff shows them and
// nothing else, and the edited spec is loaded to check it.
//
// # Experiments
//
// For a category whose route is a weighted split, each arm (Decision.Arm) is compared with the
// first arm on pass rate (answered and not flagged by validation), cost per request and mean
// latency, by the mixture sequential probability ratio test of Johari, Pekelis and Walsh
// ("Always valid inference", 2017). With θ̂ the difference of the arms' means, V = s²_A/n_A +
// s²_B/n_B its variance and a normal mixing distribution N(0, τ²) over the true difference,
//
//	Λ = √(V/(V+τ²)) · exp(τ²θ̂² / (2V(V+τ²)))
//
// is a martingale of mean 1 when the arms do not differ, so the probability that it ever
// exceeds 1/α is at most α (Ville's inequality). The review computes Λ after every request of
// the window in time order and keeps the running minimum of 1/Λ as the always-valid p-value:
// reading the report every day, or after every request, does not inflate false positives, as
// repeatedly reading a fixed-sample test does. τ is 5 points for pass rates and 20% of the
// estimator's figure for cost and latency; the tests start once each arm has
// ExperimentBurnIn requests, and α is shared equally (Bonferroni) over an experiment's
// comparisons. The always-valid interval is θ̂ ± √(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))).
// The traffic still needed is the sample at which a difference as large as the one observed
// would be detected with probability ExperimentPower: V shrinks as 1/n, so it is the current
// sample times V/V*, where V* solves |θ̂| = halfwidth(V*) + z_power·√V*. A chi-square test of
// the arms' request counts against the split's weights flags a sample ratio mismatch.
package review
