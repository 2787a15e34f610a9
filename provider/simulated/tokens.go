package simulated

import (
	"math"
	"math/rand/v2"

	"github.com/clearbar/clearbar/internal/stats"
	"github.com/clearbar/clearbar/spec"
)

// The token maths is the estimator's (estimate/plan.go's callCost), on the same distributions
// (internal/stats), so that the usage a simulated provider reports costs, on average, what the
// estimate assumed a call costs.

// band is a token band as a distribution: a fixed count, or the lognormal fitted to its p50
// and p95.
type band = stats.Band

func newBand(b spec.Band) band { return stats.NewBand(b.P50, b.P95, b.Dist) }

// tokenModel is what the spec assumes about the tokens of one model's calls in one category.
type tokenModel struct {
	out    band
	hasOut bool // false when the category states no tokens.out (a spec built in code)
	// reasoning is the category's tokens.reasoning when the model bills reasoning tokens,
	// otherwise zero.
	reasoning band
	// cacheHit is the category's cache_hit when the model lists a cached-input price,
	// otherwise 0.
	cacheHit float64
}

// newTokenModel reads a category's token assumptions for a model, as the estimator prices
// them: reasoning tokens only for a model that bills them, cache hits for a model with a
// cached-input price (without one, cached tokens bill at the input price, so the estimate's
// cost is the same either way).
func newTokenModel(c *spec.Category, m *spec.Model) *tokenModel {
	t := c.Tokens
	tm := &tokenModel{out: newBand(t.Out), hasOut: t.Out.P50 > 0}
	if billsReasoning(m) {
		tm.reasoning = newBand(t.Reasoning)
	}
	if hasCachedPrice(m) {
		tm.cacheHit = min(max(float64(t.CacheHit), 0), 1)
	}
	return tm
}

// billsReasoning reports whether a model bills reasoning tokens: its resolved setting, which
// is its own reasoning: setting when it has one (a model built in code is never resolved).
func billsReasoning(m *spec.Model) bool {
	if m.Reasoning != nil {
		return *m.Reasoning
	}
	return m.Resolved.Reasoning
}

// hasCachedPrice reports whether a model lists a cached-input price: its resolved prices, or
// its own price override for a model the spec loader never resolved.
func hasCachedPrice(m *spec.Model) bool {
	if p := m.Price; p != nil && p.CachedInput != nil {
		return *p.CachedInput > 0
	}
	return m.Resolved.Prices.CachedInput > 0
}

// tokenDraw is one call's token counts, per choice (cached ones for the whole prompt).
type tokenDraw struct {
	out, reasoning, cached int
	capped                 bool // max tokens cut the draw
}

// draw draws one call's tokens: output tokens from tokens.out (textTokens, the stand-in
// answer's own count, when the category states none), reasoning tokens from
// tokens.reasoning, and cached prompt tokens as round(cache_hit × prompt tokens). A request's
// max tokens bounds output and reasoning together, as max_completion_tokens does, reasoning
// first.
func (tm *tokenModel) draw(r *rand.Rand, textTokens, promptTokens, maxTokens int) tokenDraw {
	d := tokenDraw{out: textTokens}
	if tm.hasOut {
		d.out = roundTokens(tm.out.Sample(r))
	}
	d.reasoning = roundTokens(tm.reasoning.Sample(r))
	d.cached = roundTokens(tm.cacheHit * float64(promptTokens))
	if maxTokens > 0 && d.out+d.reasoning > maxTokens {
		d.reasoning = min(d.reasoning, maxTokens)
		d.out = maxTokens - d.reasoning
		d.capped = true
	}
	return d
}

// meanTokens is the mean output plus reasoning tokens of a call, as the estimator reckons the
// time a failed call takes in the ttft form.
func (tm *tokenModel) meanTokens(textTokens int) float64 {
	out := float64(textTokens)
	if tm.hasOut {
		out = tm.out.Mean()
	}
	return out + tm.reasoning.Mean()
}

func roundTokens(x float64) int {
	if !(x > 0) {
		return 0
	}
	if x > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(math.Round(x))
}

// tokenSalt separates a call's token draws from its other draws: they come from their own
// PCG stream, seeded from the call's seeds, so that they are as reproducible as the rest and
// leave every other draw of the call (failures, quality, latency, ids) as it was.
const tokenSalt = 0x746f6b656e73 // "tokens"
