package catalog

import (
	"cmp"

	"github.com/clearbar/clearbar"
)

// Entry is one model's list prices and limits, as the catalogue publishes them.
//
// An Entry is a plain value: copying it is cheap and safe, and nothing in it refers back to the
// [Catalog]. The zero Entry is a free model with unknown limits.
//
// Every price is a [clearbar.Price] (micro-dollars per million tokens, exact). Input and Output
// are always listed (0 means the catalogue lists the model as free); for the optional prices 0
// means "not listed", and the field says what applies instead.
type Entry struct {
	Key      string // catalogue key: "gpt-4o-mini", "gemini/gemini-2.5-flash", "claude-sonnet-4-20250514"
	Provider string // the catalogue's provider name ("openai", "anthropic", "gemini", "bedrock", …)
	// Mode is the API the model is served on: "chat", "responses" (OpenAI Responses API only),
	// or "embedding" (an embeddings endpoint such as OpenAI's /v1/embeddings; see
	// [Entry.IsEmbedding]).
	Mode string

	Input, Output clearbar.Price
	CachedInput   clearbar.Price // cache-read price; 0 when the catalogue lists none (or lists 0)
	CacheWrite    clearbar.Price // cache-creation price; 0 when none
	Reasoning     clearbar.Price // price per reasoning token; 0 means reasoning tokens bill at Output

	// Long-context tier: when a request's input exceeds TierThreshold tokens, the *Above prices
	// apply (TierThreshold 0 = no tier). The source's "_above_200k_tokens" fields give
	// TierThreshold 200000 ("_above_128k_tokens" 128000, and so on). An *Above price of 0 means
	// that component keeps its base price above the threshold.
	TierThreshold                     int
	InputAbove, OutputAbove           clearbar.Price
	CachedInputAbove, CacheWriteAbove clearbar.Price

	// CacheWrite1h is the price of a cache write kept for an hour (Anthropic's 1-hour cache,
	// twice the input price), CacheWrite1hAbove its price above the long-context tier; 0 when
	// the catalogue lists none (see [Entry.CacheWrite1hCost] for what applies then).
	CacheWrite1h, CacheWrite1hAbove clearbar.Price

	// WebSearch is the price of one search by the vendor's web search (Anthropic's web_search
	// server tool, an OpenAI search model's search, Gemini's grounding with Google Search) at
	// the default search context size, medium; 0 when the catalogue lists none.
	// WebSearchLow and WebSearchHigh are the prices at the low and high context sizes (OpenAI's
	// web_search_options.search_context_size); 0 means the medium price. See
	// [Entry.WebSearchCost].
	WebSearch, WebSearchLow, WebSearchHigh clearbar.Money
	// WebSearchPerQuery says the price is per search query where the vendor bills a grounded
	// prompt once however many queries it ran (Gemini 3, where Gemini 2.x bills per prompt).
	WebSearchPerQuery bool

	// Context window, in tokens; 0 when unknown. Where the source gives no max_input_tokens
	// (max_output_tokens), it falls back to the legacy max_tokens, as the source documents.
	MaxInputTokens, MaxOutputTokens int

	SupportsReasoning       bool
	SupportsFunctionCalling bool
	SupportsResponseSchema  bool
	SupportsVision          bool
	SupportsPromptCaching   bool

	// NoImageInput, NoAudioInput and NoPDFInput say the source states explicitly that the
	// model does not take such input (supports_vision, supports_audio_input or
	// supports_pdf_input false). SupportsVision false alone means only that the source does
	// not say it does: most entries leave the flags out.
	NoImageInput, NoAudioInput, NoPDFInput bool

	DeprecationDate string // "YYYY-MM-DD" or ""

	// Dimensions is an embedding model's output vector size (the source's output_vector_size),
	// 0 when unknown; always 0 for chat and responses models.
	Dimensions int
}

// Mode values: the APIs a catalogue entry's model is served on.
const (
	ModeChat      = "chat"
	ModeResponses = "responses"
	ModeEmbedding = "embedding"
)

// IsEmbedding reports whether the entry is an embedding model (Mode "embedding"): it turns text
// into a vector and cannot answer a chat request. Its Input is the price of the tokens
// embedded; an embedding call has no output tokens, so Output (what the source lists, 0 for
// nearly all) never applies. MaxInputTokens is the longest input it embeds, MaxOutputTokens is
// 0, and Dimensions is the vector size where the source gives it. RequestCost and ExpectedCost
// apply as they are, with zero output and reasoning tokens.
func (e Entry) IsEmbedding() bool { return e.Mode == ModeEmbedding }

// RequestCost is the cost of one request with the given token counts at this entry's list
// prices, in exact integer arithmetic (each component is priced with [clearbar.Price.Cost] and
// rounded to the nearest nano-dollar before they are added).
//
//   - inputTokens includes cachedTokens: the cached ones bill at CachedInput when it is listed,
//     else at Input; the rest bill at Input.
//   - outputTokens are the visible output tokens and bill at Output.
//   - reasoningTokens are hidden reasoning ("thinking") tokens, billed in addition to
//     outputTokens: at Reasoning when listed, else at Output. Callers holding a provider's usage
//     report in which output already includes reasoning (OpenAI's completion_tokens, for one)
//     pass outputTokens minus reasoningTokens.
//   - the long-context tier applies to the whole request when inputTokens > TierThreshold > 0:
//     InputAbove, CachedInputAbove and OutputAbove replace Input, CachedInput and Output where
//     they are listed (the reasoning price has no tier; unlisted reasoning follows the output price).
//
// Negative counts count as zero, and cachedTokens is capped at inputTokens. Cache writes bill
// as input here; [Entry.CacheWriteCost] is what writing them to the cache adds.
func (e Entry) RequestCost(inputTokens, cachedTokens, outputTokens, reasoningTokens int64) clearbar.Money {
	inputTokens = max(inputTokens, 0)
	cachedTokens = min(max(cachedTokens, 0), inputTokens)
	outputTokens = max(outputTokens, 0)
	reasoningTokens = max(reasoningTokens, 0)

	in, cached, out, reasoning := e.rates(inputTokens > int64(e.TierThreshold))
	return in.Cost(inputTokens-cachedTokens) +
		cached.Cost(cachedTokens) +
		out.Cost(outputTokens) +
		reasoning.Cost(reasoningTokens)
}

// CacheWriteCost is what writing writeTokens of a request's inputTokens to the prompt cache
// adds to its [Entry.RequestCost], which bills them as input: the difference between CacheWrite
// and Input (CacheWriteAbove and InputAbove above the long-context tier) for each. It is zero
// when the entry lists no cache-write price, or one no higher than its input price (vendors
// that do not bill writes apart). writeTokens is capped at inputTokens.
func (e Entry) CacheWriteCost(inputTokens, writeTokens int64) clearbar.Money {
	inputTokens = max(inputTokens, 0)
	writeTokens = min(max(writeTokens, 0), inputTokens)
	in, write := e.Input, e.CacheWrite
	if e.TierThreshold > 0 && inputTokens > int64(e.TierThreshold) {
		in = cmp.Or(e.InputAbove, in)
		write = cmp.Or(e.CacheWriteAbove, write)
	}
	if write <= in {
		return 0
	}
	return write.Cost(writeTokens) - in.Cost(writeTokens)
}

// CacheWrite1hCost is what writing writeTokens of a request's inputTokens to the 1-hour
// prompt cache adds to its [Entry.RequestCost], which bills them as input: the difference
// between the 1-hour write price and Input (InputAbove above the long-context tier) for each,
// as [Entry.CacheWriteCost] does for 5-minute writes. writeTokens is capped at inputTokens.
//
// The 1-hour write price is CacheWrite1h (CacheWrite1hAbove above the tier). Where the
// catalogue lists none, it is twice the input price that applies (Input, or InputAbove above
// the tier), as Anthropic, the one vendor with a 1-hour cache, documents it: the catalogue
// lacks the price for some Claude models, and a spec that sets a model's input price keeps
// the catalogue's 1-hour price only while it lists one.
func (e Entry) CacheWrite1hCost(inputTokens, writeTokens int64) clearbar.Money {
	inputTokens = max(inputTokens, 0)
	writeTokens = min(max(writeTokens, 0), inputTokens)
	in, write := e.Input, e.CacheWrite1h
	if e.TierThreshold > 0 && inputTokens > int64(e.TierThreshold) {
		switch {
		case e.InputAbove != 0:
			// The base 1-hour price is twice the base input price, not the tier's: unlisted,
			// the tier's is twice InputAbove.
			in, write = e.InputAbove, e.CacheWrite1hAbove
		case e.CacheWrite1hAbove != 0:
			write = e.CacheWrite1hAbove
		}
	}
	if write == 0 {
		write = 2 * in
	}
	if write <= in {
		return 0
	}
	return write.Cost(writeTokens) - in.Cost(writeTokens)
}

// WebSearchPrice is the price of one web search at a search context size ("low", "medium",
// "high"; "" is the default, medium): WebSearchLow or WebSearchHigh where listed, else
// WebSearch.
func (e Entry) WebSearchPrice(contextSize string) clearbar.Money {
	switch contextSize {
	case "low":
		return cmp.Or(e.WebSearchLow, e.WebSearch)
	case "high":
		return cmp.Or(e.WebSearchHigh, e.WebSearch)
	}
	return e.WebSearch
}

// WebSearchCost is the price of a call's web searches: searches queries in groundedPrompts
// grounded answers, at the search context size contextSize (see [Entry.WebSearchPrice]).
// A vendor that bills a grounded prompt once (groundedPrompts > 0, Gemini) is billed per
// prompt unless WebSearchPerQuery says the model's price is per query; every other call per
// search. Negative counts count as zero.
func (e Entry) WebSearchCost(searches, groundedPrompts int64, contextSize string) clearbar.Money {
	n := max(searches, 0)
	if groundedPrompts > 0 && !e.WebSearchPerQuery {
		n = groundedPrompts
	}
	return e.WebSearchPrice(contextSize).Times(n)
}

// rates returns the prices that apply to a request, above or below the long-context tier,
// with unlisted cache and reasoning prices replaced by the prices they bill at.
func (e Entry) rates(aboveTier bool) (in, cached, out, reasoning clearbar.Price) {
	in, cached, out = e.Input, e.CachedInput, e.Output
	if e.TierThreshold > 0 && aboveTier {
		if e.InputAbove != 0 {
			in = e.InputAbove
		}
		if e.CachedInputAbove != 0 {
			cached = e.CachedInputAbove
		}
		if e.OutputAbove != 0 {
			out = e.OutputAbove
		}
	}
	if cached == 0 {
		cached = in
	}
	reasoning = e.Reasoning
	if reasoning == 0 {
		reasoning = out
	}
	return in, cached, out, reasoning
}

// ExpectedCost is RequestCost for average token counts, which need not be whole numbers: the
// expected cost of requests whose token counts have these means. cacheHit is the fraction of
// input tokens read from the prompt cache. The tier is chosen by inputTokens, so callers with
// a spread of input sizes around the tier threshold average ExpectedCost over that spread.
func (e Entry) ExpectedCost(inputTokens, cacheHit, outputTokens, reasoningTokens float64) clearbar.Money {
	in, cached, out, reasoning := e.rates(e.TierThreshold > 0 && inputTokens > float64(e.TierThreshold))
	cacheHit = min(max(cacheHit, 0), 1)
	inputTokens, outputTokens, reasoningTokens = max(inputTokens, 0), max(outputTokens, 0), max(reasoningTokens, 0)
	return in.CostF(inputTokens*(1-cacheHit)) + cached.CostF(inputTokens*cacheHit) +
		out.CostF(outputTokens) + reasoning.CostF(reasoningTokens)
}
