package catalog_test

import (
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

func TestRequestCost(t *testing.T) {
	mini := catalog.Entry{Input: 150_000, Output: 600_000, CachedInput: 75_000} // gpt-4o-mini
	sonnet := catalog.Entry{                                                    // claude-sonnet-4-20250514
		Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000,
		TierThreshold: 200_000, InputAbove: 6_000_000, OutputAbove: 22_500_000, CachedInputAbove: 600_000,
	}
	flash := catalog.Entry{Input: 300_000, Output: 2_500_000, CachedInput: 30_000, Reasoning: 2_500_000} // gemini-2.5-flash
	noCache := catalog.Entry{Input: 1_000_000, Output: 2_000_000}
	reasoner := catalog.Entry{Input: 1_000_000, Output: 2_000_000, Reasoning: 5_000_000}
	partialTier := catalog.Entry{Input: 1_000_000, Output: 2_000_000, CachedInput: 100_000, TierThreshold: 1000, InputAbove: 3_000_000}

	tests := []struct {
		name                       string
		e                          catalog.Entry
		in, cached, out, reasoning int64
		want                       clearbar.Money
		why                        string
	}{
		{"zero tokens", mini, 0, 0, 0, 0, 0, "nothing used, nothing billed"},
		{"plain", mini, 1_000_000, 0, 1_000_000, 0, 750_000_000, "$0.15 + $0.60"},
		{"one token rounds", mini, 1, 0, 0, 0, 150, "150,000 pico = 150 nano"},
		{"sub-nano rounds half up", catalog.Entry{Input: 500}, 1, 0, 0, 0, 1, "500 pico-dollars → 1 nano-dollar"},
		{"cached", mini, 1_000_000, 400_000, 0, 0, 120_000_000, "600k at $0.15/M + 400k at $0.075/M = $0.09 + $0.03"},
		{"cached without a cache price bills at input", noCache, 1000, 1000, 0, 0, 1_000_000, "1000 tokens at $1/M = $0.001"},
		{"cached capped at input", mini, 1000, 5000, 0, 0, 75_000, "only 1000 tokens exist, all cached"},
		{"negative counts are zero", mini, -5, -1, -7, -9, 0, "no negative bills"},
		{"reasoning at its own price", reasoner, 0, 0, 1000, 1000, 7_000_000, "1000×$2/M + 1000×$5/M"},
		{"reasoning falls back to output", noCache, 0, 0, 1000, 1000, 4_000_000, "2000 tokens at $2/M"},
		{"flash reasoning", flash, 10_000, 0, 500, 2000, 3_000_000 + 1_250_000 + 5_000_000, "$0.003 in + $0.00125 out + $0.005 reasoning"},
		{"at threshold: base tier", sonnet, 200_000, 0, 1000, 0, 600_000_000 + 15_000_000, "200k is not above 200k"},
		{"above threshold: long tier", sonnet, 200_001, 0, 1000, 0, 1_200_006_000 + 22_500_000, "every input token at $6/M, output at $22.5/M"},
		{"above threshold with cache", sonnet, 300_000, 100_000, 0, 0, 1_200_000_000 + 60_000_000, "200k at $6/M + 100k cached at $0.6/M"},
		{"tier reasoning follows tiered output", sonnet, 300_000, 0, 0, 1000, 1_800_000_000 + 22_500_000, "no Reasoning price: reasoning bills at OutputAbove"},
		{"partial tier keeps unlisted prices", partialTier, 2000, 1000, 1000, 0, 3_000_000 + 100_000 + 2_000_000, "InputAbove only: cached stays $0.1/M, output stays $2/M"},
		{"free model", catalog.Entry{}, 1_000_000, 0, 1_000_000, 1_000_000, 0, "the zero Entry is free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.RequestCost(tt.in, tt.cached, tt.out, tt.reasoning)
			if got != tt.want {
				t.Errorf("RequestCost(%d, %d, %d, %d) = %d (%v), want %d (%v): %s",
					tt.in, tt.cached, tt.out, tt.reasoning, got, got, tt.want, tt.want, tt.why)
			}
		})
	}
}

func TestRequestCostEmbedded(t *testing.T) {
	e, ok := catalog.Default().Get("claude-sonnet-4-20250514")
	if !ok {
		t.Fatal("claude-sonnet-4-20250514 missing")
	}
	// 250k input (50k cached) and 2k output is in the long-context tier:
	// 200k × $6/M + 50k × $0.6/M + 2k × $22.5/M = $1.20 + $0.03 + $0.045.
	if got, want := e.RequestCost(250_000, 50_000, 2000, 0), clearbar.Money(1_275_000_000); got != want {
		t.Errorf("RequestCost = %v, want %v", got, want)
	}
}

// TestCacheWriteCost: writing to the prompt cache adds the cache-write price's excess over the
// input price, at the long-context tier's prices above its threshold, and nothing where the
// vendor does not bill writes apart.
func TestCacheWriteCost(t *testing.T) {
	claude := catalog.Entry{Input: 3_000_000, CacheWrite: 3_750_000, TierThreshold: 200_000, InputAbove: 6_000_000, CacheWriteAbove: 7_500_000}
	for _, tt := range []struct {
		name          string
		e             catalog.Entry
		input, writes int64
		want          clearbar.Money
	}{
		{"1,000 tokens written at $3.75/M over $3/M", claude, 2_000, 1_000, 750_000}, // $0.00075
		{"above the tier: $7.50/M over $6/M", claude, 300_000, 100_000, 150_000_000},
		{"writes capped at the input", claude, 100, 1_000, 75_000},
		{"no cache-write price", catalog.Entry{Input: 3_000_000}, 2_000, 1_000, 0},
		{"a write price below input (none billed apart)", catalog.Entry{Input: 3_000_000, CacheWrite: 300_000}, 2_000, 1_000, 0},
		{"negative counts", claude, -5, -5, 0},
	} {
		if got := tt.e.CacheWriteCost(tt.input, tt.writes); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestCacheWrite1hCost: a 1-hour cache write adds its price over the input price, from the
// catalogue where it lists one, else at twice the input price, as Anthropic bills it.
func TestCacheWrite1hCost(t *testing.T) {
	listed := catalog.Entry{Input: 3_000_000, CacheWrite: 3_750_000, CacheWrite1h: 6_000_000, TierThreshold: 200_000, InputAbove: 6_000_000, CacheWrite1hAbove: 12_000_000} // claude-sonnet-4-5
	unlisted := catalog.Entry{Input: 3_000_000, CacheWrite: 3_750_000, TierThreshold: 200_000, InputAbove: 6_000_000}
	baseOnly := catalog.Entry{Input: 3_000_000, CacheWrite1h: 6_000_000, TierThreshold: 200_000, InputAbove: 6_000_000} // claude-sonnet-4-20250514
	for _, tt := range []struct {
		name          string
		e             catalog.Entry
		input, writes int64
		want          clearbar.Money
	}{
		{"1,000 tokens at $6/M over $3/M", listed, 2_000, 1_000, 3_000_000},
		{"above the tier: $12/M over $6/M", listed, 300_000, 100_000, 600_000_000},
		{"unlisted: twice the input price", unlisted, 2_000, 1_000, 3_000_000},
		{"unlisted above the tier: twice the tier's input price", unlisted, 300_000, 100_000, 600_000_000},
		{"listed below the tier only: twice the tier's input price above it", baseOnly, 300_000, 100_000, 600_000_000},
		{"a price no higher than input bills nothing apart", catalog.Entry{Input: 3_000_000, CacheWrite1h: 3_000_000}, 2_000, 1_000, 0},
		{"writes capped at the input", listed, 100, 1_000, 300_000},
		{"negative counts", listed, -5, -5, 0},
	} {
		if got := tt.e.CacheWrite1hCost(tt.input, tt.writes); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestWebSearchCost: searches bill at the price of the request's context size, and a
// grounded prompt once unless the model's price is per query.
func TestWebSearchCost(t *testing.T) {
	search := catalog.Entry{WebSearch: 35_000_000, WebSearchLow: 30_000_000, WebSearchHigh: 50_000_000} // gpt-4o-search-preview
	gemini25 := catalog.Entry{WebSearch: 35_000_000}
	gemini3 := catalog.Entry{WebSearch: 14_000_000, WebSearchPerQuery: true}
	for _, tt := range []struct {
		name              string
		e                 catalog.Entry
		searches, prompts int64
		size              string
		want              clearbar.Money
	}{
		{"default size is medium", search, 1, 0, "", 35_000_000},
		{"medium", search, 1, 0, "medium", 35_000_000},
		{"low", search, 1, 0, "low", 30_000_000},
		{"high", search, 2, 0, "high", 100_000_000},
		{"a size without its own price bills at medium", gemini25, 1, 0, "high", 35_000_000},
		{"per grounded prompt, however many queries", gemini25, 3, 1, "", 35_000_000},
		{"per query where the catalogue says so", gemini3, 3, 1, "", 42_000_000},
		{"no price", catalog.Entry{}, 3, 1, "", 0},
		{"negative counts", search, -1, 0, "", 0},
	} {
		if got := tt.e.WebSearchCost(tt.searches, tt.prompts, tt.size); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
