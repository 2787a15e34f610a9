package clearbar

// Usage is a call's token counts, in OpenAI's accounting: CachedTokens are part of
// PromptTokens and ReasoningTokens part of CompletionTokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	CachedTokens     int `json:"cached_tokens,omitempty"`
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	// CacheWrite1hTokens are the cache writes kept for an hour (Anthropic's
	// cache_creation.ephemeral_1h_input_tokens), part of CacheWriteTokens as CachedTokens are
	// part of PromptTokens: the rest of CacheWriteTokens are 5-minute writes. Anthropic bills
	// them higher.
	CacheWrite1hTokens int `json:"cache_write_1h_tokens,omitempty"`
	ReasoningTokens    int `json:"reasoning_tokens,omitempty"`
	// WebSearches counts the searches the vendor's web search ran for the call, which it
	// bills per search: Anthropic's usage.server_tool_use.web_search_requests, one for an
	// OpenAI search model's chat completion, Gemini's grounding queries
	// (groundingMetadata.webSearchQueries).
	WebSearches int `json:"web_searches,omitempty"`
	// GroundedPrompts counts the answers grounded in those searches (0 or 1 a call; Gemini
	// only): Gemini 2.x bills a grounded prompt once however many queries it ran, Gemini 3
	// each query (the price catalogue's entry says which, catalog.Entry.WebSearchPerQuery).
	GroundedPrompts int `json:"grounded_prompts,omitempty"`
	// WebSearchContext is the search context size the request asked for ("low", "medium",
	// "high"; OpenAI's web_search_options.search_context_size), which sets the price of a
	// search where the catalogue lists one by size; "" is the vendor's default, medium.
	WebSearchContext string `json:"web_search_context,omitempty"`
}

// Total returns prompt plus completion tokens.
func (u Usage) Total() int { return u.PromptTokens + u.CompletionTokens }

// TokensOfBytes estimates the tokens in n bytes of text at one token per four bytes, rounded
// up: the usual rule of thumb for English with OpenAI's tokenizers (code and other scripts run
// higher). Clearbar uses it where it has no tokenizer and no count from the upstream: routing
// on size, simulations, and usage an upstream bills but does not report.
func TokensOfBytes(n int) int { return (n + 3) / 4 }

// IsZero reports whether no tokens were counted.
func (u Usage) IsZero() bool { return u == Usage{} }

// Response is a provider's complete (non-streaming) answer.
type Response struct {
	// Body is the answer as an OpenAI chat.completion JSON document, ready to send to an
	// OpenAI-dialect client (the gateway may still add its own fields).
	Body []byte
	// ID and Model are the upstream's response id and served model.
	ID, Model string
	Choices   []Choice
	// Usage is the upstream's token accounting; HasUsage is false when it sent none.
	Usage    Usage
	HasUsage bool
	// UsageEstimated says some of Usage's counts are Clearbar's estimates, not counts the
	// answer came with: a replayed answer whose recorded row has no token counts. The estimate
	// is reported in Body's usage like a count; callers that record measurements (clearbar
	// eval) mark it as estimated.
	UsageEstimated bool
	// RecordedCost is what the answer cost when it was recorded, when the provider knows it (a
	// replayed row's cost_usd); 0 when it does not. clearbar eval takes it for the answer's
	// cost when Usage is estimated; counted tokens it prices at the spec's prices.
	RecordedCost Money
	// UpstreamRequestID is the provider's request id header, for support tickets.
	UpstreamRequestID string
}

// Choice is one answer of a response.
type Choice struct {
	Index        int
	Text         string
	Refusal      string
	ToolCalls    []ToolCall
	FinishReason string
}

// Text returns the first choice's text, or "".
func (r *Response) Text() string {
	if len(r.Choices) == 0 {
		return ""
	}
	return r.Choices[0].Text
}

// Chunk is one event of a streamed answer.
type Chunk struct {
	// Data is the event as an OpenAI chat.completion.chunk JSON document (the SSE data
	// payload, without "data: "). It is valid until the stream's next call to Next.
	Data []byte
	// Text is the content delta of the first choice, FinishReason its finish reason when set.
	Text         string
	FinishReason string
	// Reasoning is the length in bytes of the reasoning (thinking) text the first choice's
	// delta carries (reasoning_content): what a cut stream's usage estimate counts beside Text.
	Reasoning int
	// Usage is set on the chunk that carries the stream's usage.
	Usage *Usage
}

// Stream is a streamed answer. Next advances to the next chunk and reports false at the end
// of the stream or on an error, which Err then returns; a stream that ended without its
// terminator returns an error of class StreamCut. Close releases the connection and may be
// called at any time, also before the end. A Stream is used by one goroutine.
type Stream interface {
	Next() bool
	Chunk() *Chunk
	Err() error
	Close() error
}
