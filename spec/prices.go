package spec

import (
	"cmp"
	"fmt"

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
}

// Change describes the difference from the catalogue, like "+25% vs catalogue $2/M", or "".
func (p PriceLine) Change() string {
	switch {
	case !p.Differs:
		return ""
	case p.Catalog == 0:
		return "not in catalogue"
	}
	return fmt.Sprintf("%+.0f%% vs catalogue %s", (float64(p.Effective)/float64(p.Catalog)-1)*100, p.Catalog)
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
	return []PriceLine{
		line("input", r.Prices.Input, r.Catalog.Input, o.Input),
		line("output", r.Prices.Output, r.Catalog.Output, o.Output),
		line("cached input", r.Prices.CachedInput, r.Catalog.CachedInput, o.CachedInput),
		line("cache write", r.Prices.CacheWrite, r.Catalog.CacheWrite, o.CacheWrite),
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
