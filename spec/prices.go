package spec

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

// PriceLine is one price of a model: the effective value and the catalogue's.
type PriceLine struct {
	Name      string         // "input", "output", "cached input", "cache write", "reasoning"
	Effective clearbar.Price // what estimates use
	Catalog   clearbar.Price // what the catalogue lists (0 = not listed)
	// Overridden says the spec sets this price; Differs that it differs from the catalogue.
	Overridden, Differs bool
	// Scaled says the spec sets no such price, but the input price it sets scaled the
	// catalogue's (the cached-input price: see [PriceOverride]).
	Scaled bool
}

// Change describes the difference from the catalogue, like "+25% vs catalogue $2/M", or "".
func (p PriceLine) Change() string {
	switch {
	case !p.Differs:
		return ""
	case p.Catalog == 0:
		return "not in catalogue"
	}
	change := fmt.Sprintf("%+.0f%% vs catalogue %s", (float64(p.Effective)/float64(p.Catalog)-1)*100, p.Catalog)
	if p.Scaled {
		change += " (scaled with the input price)"
	}
	return change
}

// ModelPrices returns the effective prices of a resolved model, each beside the catalogue's.
func ModelPrices(m *Model) []PriceLine {
	r := m.Resolved
	var o PriceOverride
	if m.Price != nil {
		o = *m.Price
	}
	line := func(name string, eff, cat clearbar.Price, set *PerMillion) PriceLine {
		pl := PriceLine{Name: name, Effective: eff, Catalog: cat, Overridden: set != nil}
		pl.Differs = pl.Overridden && (!r.InCatalog || eff != cat)
		return pl
	}
	cached := line("cached input", r.Prices.CachedInput, r.Catalog.CachedInput, o.CachedInput)
	if _, ok := scaledCachedInput(m, r.Catalog); ok && r.InCatalog {
		cached.Scaled = true
		cached.Differs = cached.Effective != cached.Catalog
	}
	return []PriceLine{
		line("input", r.Prices.Input, r.Catalog.Input, o.Input),
		line("output", r.Prices.Output, r.Catalog.Output, o.Output),
		cached,
		line("cache write", r.Prices.CacheWrite, r.Catalog.CacheWrite, o.CacheWrite),
		line("cache write (1 hour)", r.Prices.CacheWrite1h, r.Catalog.CacheWrite1h, o.CacheWrite1h),
		line("reasoning", r.Prices.Reasoning, r.Catalog.Reasoning, o.Reasoning),
	}
}

// TierChange describes where a model's long-context tier differs from the catalogue's, like
// "no long-context tier (catalogue: above 200k)"; "" when they agree.
func TierChange(m *Model) string {
	eff, cat := m.Resolved.Prices, m.Resolved.Catalog
	tier := func(e catalog.Entry) [4]clearbar.Price {
		return [4]clearbar.Price{e.InputAbove, e.OutputAbove, e.CachedInputAbove, e.CacheWriteAbove}
	}
	text := func(e catalog.Entry) string {
		return fmt.Sprintf("above %s: %s in, %s out", TokensK(e.TierThreshold), cmp.Or(e.InputAbove, e.Input), cmp.Or(e.OutputAbove, e.Output))
	}
	switch {
	case eff.TierThreshold == 0 && cat.TierThreshold == 0:
		return ""
	case eff.TierThreshold == 0:
		return "no long-context tier (catalogue: above " + TokensK(cat.TierThreshold) + ")"
	case cat.TierThreshold == 0 || !m.Resolved.InCatalog:
		return "long-context tier not in catalogue"
	case eff.TierThreshold != cat.TierThreshold || tier(eff) != tier(cat):
		return "long-context tier " + text(eff) + " vs catalogue's " + text(cat)
	}
	return ""
}

// LimitChanges describes where a model's token limits in the spec differ from the catalogue's,
// like "context window 32k vs catalogue 1,047k"; empty when they agree or the spec sets none.
func LimitChanges(m *Model) []string {
	r := m.Resolved
	var out []string
	limit := func(name string, set, cat int) {
		switch {
		case set == 0 || set == cat:
		case !r.InCatalog || cat == 0:
			out = append(out, fmt.Sprintf("%s %s, not in catalogue", name, TokensK(set)))
		default:
			out = append(out, fmt.Sprintf("%s %s vs catalogue %s", name, TokensK(set), TokensK(cat)))
		}
	}
	limit("context window", m.ContextWindow, r.Catalog.MaxInputTokens)
	limit("max output", m.MaxOutput, r.Catalog.MaxOutputTokens)
	return out
}

// tokensK writes a token count in thousands, like "32k" or "1,047k"; counts under 1,000 whole.
func TokensK(n int) string {
	if n < 1000 {
		return fmt.Sprint(n)
	}
	k := n / 1000
	if k < 1000 {
		return fmt.Sprintf("%dk", k)
	}
	return fmt.Sprintf("%d,%03dk", k/1000, k%1000)
}

// Plausible prices, in dollars per million tokens: a price outside them, or one that differs
// from the catalogue's by priceUnitFactor or more, is most likely written in another unit.
const (
	minPlausiblePrice = 0.001
	maxPlausiblePrice = 1000
	priceUnitFactor   = 100
)

// priceUnits are the units a price is mistakenly written in, each with what turns it into
// dollars per million tokens.
var priceUnits = []struct {
	unit   string
	factor float64
}{
	{"per token", 1e6},
	{"per thousand tokens", 1e3},
	{"in cents", 1e-2},
	{"per billion tokens", 1e-3},
}

// checkPriceUnits warns about a price override that looks written in another unit than dollars
// per million tokens: one that differs from the catalogue's price for the same model by
// priceUnitFactor or more, either way, or, where the catalogue lists none, a non-zero one
// outside the plausible range. Prices are compared as written: one below a spec's precision
// would otherwise count as 0. A price of 0 (a self-hosted model) is never warned about, nor one
// that corrects an implausible catalogue price.
func (c *checker) checkPriceUnits(m *Model) {
	p, r := m.Price, m.Resolved
	type field struct {
		key     string // as written under price:
		name    string // in messages
		v       *PerMillion
		cat     clearbar.Price
		written map[string]string
		line    int
	}
	fields := []field{
		{"input", "input", p.Input, r.Catalog.Input, p.written, p.pos.Of("input")},
		{"output", "output", p.Output, r.Catalog.Output, p.written, p.pos.Of("output")},
		{"cached_input", "cached input", p.CachedInput, r.Catalog.CachedInput, p.written, p.pos.Of("cached_input")},
		{"cache_write", "cache write", p.CacheWrite, r.Catalog.CacheWrite, p.written, p.pos.Of("cache_write")},
		{"cache_write_1h", "1-hour cache write", p.CacheWrite1h, r.Catalog.CacheWrite1h, p.written, p.pos.Of("cache_write_1h")},
		{"reasoning", "reasoning", p.Reasoning, r.Catalog.Reasoning, p.written, p.pos.Of("reasoning")},
	}
	if lc := p.LongContext; lc != nil && !lc.None {
		fields = append(fields,
			field{"long_context.input", "long-context input", lc.Input, r.Catalog.InputAbove, lc.written, lc.pos.Of("input")},
			field{"long_context.output", "long-context output", lc.Output, r.Catalog.OutputAbove, lc.written, lc.pos.Of("output")},
			field{"long_context.cached_input", "long-context cached input", lc.CachedInput, r.Catalog.CachedInputAbove, lc.written, lc.pos.Of("cached_input")})
	}
	plausible := func(v float64) bool { return v >= minPlausiblePrice && v <= maxPlausiblePrice }
	for _, f := range fields {
		if f.v == nil {
			continue
		}
		text := f.written[f.key[strings.LastIndex(f.key, ".")+1:]]
		v, ok := writtenPrice(text)
		if !ok {
			text, v = strconv.FormatFloat(clearbar.Price(*f.v).PerMillion(), 'f', -1, 64), clearbar.Price(*f.v).PerMillion()
		}
		if v == 0 {
			continue
		}
		if cat := f.cat.PerMillion(); r.InCatalog && cat > 0 && (plausible(cat) || !plausible(v)) {
			if v/cat < priceUnitFactor && cat/v < priceUnitFactor {
				continue
			}
			c.warnf(f.line, "model %q: price.%s %s is %s the catalogue's %s for %s %s: prices are USD per million tokens;%s write the price per million tokens, or leave price.%s out to use the catalogue's",
				m.Name, f.key, text, factorText(v/cat), f.cat, r.Catalog.Key, f.name, unitGuess(text, v, cat, 1), f.key)
			continue
		}
		switch {
		case v < minPlausiblePrice:
			c.warnf(f.line, "model %q: price.%s %s is below $%g per million tokens, far cheaper than models are sold for: prices are USD per million tokens;%s write the price per million tokens, or 0 for a model that costs nothing to call",
				m.Name, f.key, text, minPlausiblePrice, unitGuess(text, v, 1, 2))
		case v > maxPlausiblePrice:
			c.warnf(f.line, "model %q: price.%s %s is above $%s per million tokens, far dearer than models are sold for: prices are USD per million tokens;%s write the price per million tokens",
				m.Name, f.key, text, groupDigits(maxPlausiblePrice), unitGuess(text, v, 1, 2))
		}
	}
}

// writtenPrice reads a price as written in a spec ("0.0000004", "$2.50", "1,000"), in dollars
// per million tokens, without the rounding of its decoded value.
func writtenPrice(s string) (float64, bool) {
	s = strings.NewReplacer("$", "", ",", "", "_", "").Replace(strings.TrimSpace(s))
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && v >= 0 && !math.IsInf(v, 0)
}

// factorText says how a price compares with another, like "1/1,000,000 of" or "1,000 times".
func factorText(ratio float64) string {
	if ratio >= 1 {
		return groupDigits(int64(math.Round(ratio))) + " times"
	}
	return "1/" + groupDigits(int64(math.Round(1/ratio))) + " of"
}

// unitGuess names the unit that, converted to dollars per million tokens, brings a price
// written as text (v) closest to ref, like " did you write it per token? 0.0000004 per token is
// 0.4 per million;", or "" when none comes within orders (powers of ten) of it.
func unitGuess(text string, v, ref, orders float64) string {
	best, dist := -1, orders
	for i, u := range priceUnits {
		if d := math.Abs(math.Log10(v * u.factor / ref)); d <= dist {
			best, dist = i, d
		}
	}
	if best < 0 {
		return ""
	}
	u := priceUnits[best]
	per := strconv.FormatFloat(v*u.factor, 'g', 6, 64)
	if u.unit == "in cents" {
		return fmt.Sprintf(" did you write it in cents? %s cents is %s dollars;", text, per)
	}
	return fmt.Sprintf(" did you write it %s? %s %s is %s per million;", u.unit, text, u.unit, per)
}

// scaledCachedInput returns the cached-input price of a model whose spec price sets input but
// not cached_input: the catalogue's cached-input price scaled by the ratio of the spec's input
// price to the catalogue's, so that the provider's discount on cached tokens is kept (a spec
// that halves the input price halves the cached-input price too). ok is false where the spec
// sets cached_input or no input price, or the catalogue lists no cached-input or input price.
func scaledCachedInput(m *Model, entry catalog.Entry) (clearbar.Price, bool) {
	p := m.Price
	if p == nil || p.Input == nil || p.CachedInput != nil || entry.CachedInput <= 0 || entry.Input <= 0 {
		return 0, false
	}
	// cached × input ÷ catalogue input, rounded to the nearest pico-dollar per token, exactly.
	n := new(big.Int).Mul(big.NewInt(int64(entry.CachedInput)), big.NewInt(int64(clearbar.Price(*p.Input))))
	d := big.NewInt(int64(entry.Input))
	n.Add(n, new(big.Int).Rsh(d, 1))
	n.Quo(n, d)
	if !n.IsInt64() {
		return clearbar.Price(math.MaxInt64), true
	}
	return clearbar.Price(n.Int64()), true
}

// checkCachedAboveInput warns about a cached-input price above the model's input price, as
// the spec leaves them: providers discount input read from the prompt cache, so cached tokens
// costing more than uncached ones is most likely a slip (the two swapped, or a unit).
func (c *checker) checkCachedAboveInput(m *Model) {
	p, r := m.Price, m.Resolved.Prices
	if p == nil || p.CachedInput == nil || r.CachedInput <= r.Input {
		return
	}
	c.warnf(p.pos.Of("cached_input"), "model %q: price.cached_input %s is above its input price %s: input read from the prompt cache would cost more than uncached input, where providers discount it; write a cached-input price no higher than the input price (did you swap them?), or leave cached_input out to scale the catalogue's with the input price",
		m.Name, r.CachedInput, r.Input)
}
