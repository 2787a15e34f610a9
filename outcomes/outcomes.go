// Package outcomes is the outcomes table: one row per (item, model) saying what a model did on
// one prompt — its answer, tokens, cost, latency, failure and grade.
//
// Rows come from public benchmark data (ImportRouterBench, ImportRouteLLM), from Clearbar's own
// eval runs and from recorded traffic. The replay provider serves answers from a table, and
// the estimator can replace its pass-rate assumptions with the grades in one.
//
// On disk a table is JSON Lines, one Row per line, optionally gzip-compressed, or CSV
// (CSVWriter, ReadFile). Reader streams a file without loading it; Writer writes one. Readers
// ignore keys (and CSV columns) they do not know, so that files written by newer versions (the
// table will grow) stay readable, and so that eval runs can keep more in their rows; a key
// within a few letters of a known one, like "pas" or "itm", is taken for a misspelling of it
// and is an error that names both.
package outcomes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/clearbar/clearbar"
)

// Row is what one model did on one item. The zero value is not a valid row: Model and the
// prompt (Prompt or PromptHash) are required.
type Row struct {
	// Item identifies the prompt: a dataset sample id or a request id. (Item, Model) is unique
	// within a table.
	Item string `json:"item"`
	// Category is the spec category the item belongs to, when known.
	Category string `json:"category,omitempty"`
	// Task is the dataset task or subject, like "mmlu/abstract_algebra" or "arc-challenge".
	Task string `json:"task,omitempty"`
	// Prompt is the prompt text; it may be left out of tables that must not hold prompts, in
	// which case PromptHash alone identifies it.
	Prompt string `json:"prompt,omitempty"`
	// PromptHash is HashPrompt(Prompt) (64 hex digits). Writer and Reader fill it in from
	// Prompt when empty. Rows exported from decision records carry the gateway's 16-digit
	// prompt fingerprint instead, since the prompt itself is not kept.
	PromptHash string `json:"prompt_hash"`
	// Model names the model the answer came from: in rows of Clearbar's traffic (trace
	// exports, shadow traffic), the spec's name for it ("mini"), as decision records name it,
	// which tells apart two spec models of one provider model id (the same model at two
	// vendors); in eval runs and imported benchmarks, the provider's model id
	// ("gpt-4-1106-preview"). Readers that hold a spec (replay, estimate --measured) take a
	// spec model's name first, else its model id. The replay provider matches provider ids.
	Model string `json:"model"`
	// Response is the model's answer text.
	Response string `json:"response,omitempty"`
	// TokensIn and TokensOut are the call's prompt and completion tokens; 0 when unknown.
	TokensIn  int `json:"tokens_in,omitempty"`
	TokensOut int `json:"tokens_out,omitempty"`
	// TokensCached are the prompt tokens read from the provider's prompt cache, among
	// TokensIn; nil when the call's usage was not recorded (an imported benchmark row), so that
	// a table without them does not read as one whose prompts never hit the cache.
	TokensCached *int `json:"tokens_cached,omitempty"`
	// TokensReasoning are the reasoning tokens among TokensOut, as OpenAI's usage counts them;
	// 0 when none or unknown.
	TokensReasoning int `json:"tokens_reasoning,omitempty"`
	// TokensEstimated says the token counts are estimates, not counts the call reported: an
	// eval of a replayed answer whose recorded row had none (an imported benchmark row) records
	// the replay's estimate, from the prompt's and the answer's lengths. Readers that measure
	// token counts (estimate --measured) leave such rows' tokens out.
	TokensEstimated bool `json:"tokens_estimated,omitempty"`
	// Cost is what the call cost; 0 when unknown.
	Cost clearbar.Money `json:"cost_usd,omitempty"`
	// LatencyMS is the call's response time in milliseconds; 0 when unknown.
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// TimeScale is set when the call went to a provider simulated at a time scale (serve
	// --time-scale; see FromDecision): LatencyMS is then the recorded wall-clock time divided by
	// the scale, which divides the gateway's own overhead and queueing by it too, so it shows
	// the simulated latency but measures no model. Readers that measure latencies (estimate
	// --measured) leave such rows' latencies out. 0 when the call ran in real time.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Error is the failure class name (clearbar.FailureClass.String, like "rate_limited") when
	// the call failed; "" when it succeeded. "canceled" is a call cut before its answer was
	// whole, by the client going away or the gateway shutting down (Canceled): it says nothing
	// of the model, and readers that measure models leave it out.
	Error string `json:"error,omitempty"`
	// Score is the answer's grade from 0 (wrong) to 1 (right); nil means not graded.
	Score *float64 `json:"score,omitempty"`
	// Pass says whether the answer met the bar; nil means not judged.
	Pass *bool `json:"pass,omitempty"`
	// Source says where the row comes from: one of the Source constants.
	Source string `json:"source,omitempty"`
	// Verdicts are the validators' findings on the answer, when validators ran.
	Verdicts []clearbar.Verdict `json:"verdicts,omitempty"`
	// Request is the OpenAI chat completions request body the answer was given to, kept when
	// the prompt alone does not say what was asked (system messages, earlier turns, tools, a
	// response format), so that validators can be checked against the whole request
	// (clearbar validate calibrate). Eval runs record it.
	Request json.RawMessage `json:"request,omitempty"`
	// ToolCalls are the answer's tool calls, in order; Response then holds any text beside
	// them.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// Canceled reports whether the call was cut before its answer was whole, by the client going
// away or the gateway shutting down: neither a failure of the model nor an answer of it, so
// the estimator, review and replay leave the row out.
func (r *Row) Canceled() bool { return r.Error == clearbar.Canceled.String() }

// Usage returns the call's recorded token usage in Clearbar's form.
func (r *Row) Usage() clearbar.Usage {
	u := clearbar.Usage{PromptTokens: r.TokensIn, CompletionTokens: r.TokensOut, ReasoningTokens: r.TokensReasoning}
	if r.TokensCached != nil {
		u.CachedTokens = *r.TokensCached
	}
	return u
}

// Passed returns the row's pass verdict: Pass when the row has it, else a Score of at least
// 0.5; graded is false when the row has neither.
func (r *Row) Passed() (pass, graded bool) {
	switch {
	case r.Pass != nil:
		return *r.Pass, true
	case r.Score != nil:
		return *r.Score >= 0.5, true
	}
	return false, false
}

// SetUsage sets a row's token counts from a call's usage. A call that recorded prompt tokens
// recorded its cached ones too, even when none were cached.
func (r *Row) SetUsage(u clearbar.Usage) {
	r.TokensIn, r.TokensOut, r.TokensReasoning = u.PromptTokens, u.CompletionTokens, u.ReasoningTokens
	r.TokensCached = nil
	if u.PromptTokens > 0 {
		r.TokensCached = &u.CachedTokens
	}
}

// ToolCall is one tool call of an answer.
type ToolCall struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolCallsOf returns an answer's tool calls in the table's form (nil for none).
func ToolCallsOf(calls []clearbar.ToolCall) []ToolCall {
	var out []ToolCall
	for _, c := range calls {
		out = append(out, ToolCall{ID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	return out
}

// AnswerToolCalls returns the row's tool calls in Clearbar's form (nil for none).
func (r *Row) AnswerToolCalls() []clearbar.ToolCall {
	var out []clearbar.ToolCall
	for _, c := range r.ToolCalls {
		out = append(out, clearbar.ToolCall{ID: c.ID, Name: c.Name, Arguments: c.Arguments})
	}
	return out
}

// Sources of rows.
const (
	SourceRouterBench = "routerbench"
	SourceRouteLLM    = "routellm"
	SourceEval        = "eval"
	SourceTrace       = "trace"
	SourceShadow      = "shadow"
)

// HashPrompt returns the hex SHA-256 of a prompt's text, exactly as given: no whitespace or
// Unicode normalisation, so a prompt with a trailing newline is a different prompt.
func HashPrompt(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// fillHash sets the row's PromptHash from its Prompt when it has none.
func (r *Row) fillHash() {
	if r.PromptHash == "" && r.Prompt != "" {
		r.PromptHash = HashPrompt(r.Prompt)
	}
}
