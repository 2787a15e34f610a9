// Package gemini is the adapter for Google's Gemini API (generativelanguage.googleapis.com):
// provider type "gemini". It speaks Gemini's own REST API, POST
// {base}/v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse with the key in
// the x-goog-api-key header, and translates both ways, so that OpenAI-dialect clients get OpenAI
// chat completions and chunks.
//
// # Requests
//
// The Gemini body is built from the client's OpenAI body (clearbar.Request.Body), read with gjson
// so that values pass byte for byte where both APIs express them (text, numbers, base64 data);
// a request without a Body, or in another dialect, is first written as an OpenAI body from its
// canonical fields (attachments, which the canonical form does not keep, are lost). The mapping:
//
//   - system and developer messages, wherever they are, become systemInstruction (one text part
//     each); a request with nothing else sends them as the user turn instead, and so does a
//     request to a Gemma model (gemma-…), which the Gemini API serves without system
//     instructions (the text opens the first user turn);
//   - user → role "user": text parts → text; image_url with a data: URL → inlineData; with an
//     http(s) or gs:// URL → fileData (Gemini fetches public and signed URLs itself; the gateway
//     never does); input_audio → inlineData audio/wav or audio/mp3; file with file_data (a data:
//     URL, or bare base64 typed by its filename) → inlineData; file with a file_id that is a
//     Gemini Files API name or URI → fileData. Other part types are a ClientError naming the part;
//   - assistant → role "model": text and refusal parts → text; tool_calls → functionCall parts
//     with args parsed from the arguments string (it must be a JSON object);
//   - tool → role "user" part functionResponse, whose name is looked up from the earlier
//     assistant tool call with that tool_call_id (an unknown id is a ClientError); content that
//     is a JSON object is sent as the response, anything else as {"result": "<content>"};
//   - consecutive messages that map to the same role are merged into one content;
//   - function tools → one functionDeclarations list, parameters converted to Gemini's OpenAPI
//     schema subset (see convertSchema for what is kept, rewritten and dropped); other tool
//     types are a ClientError;
//   - tool_choice none/auto/required → functionCallingConfig mode NONE/AUTO/ANY; a named function
//     → ANY with allowedFunctionNames; allowed_tools with mode required → ANY with the names,
//     with mode auto → AUTO with only those functions declared;
//   - web_search_options → grounding with Google Search, {"googleSearch": {}} in the tool set.
//     Its search_context_size is ignored (Gemini's search has no size) and so is user_location
//     (Gemini's search takes no approximate location; toolConfig.retrievalConfig takes
//     coordinates, which OpenAI's approximate location has not). Without function tools no
//     functionCallingConfig is sent, tool_choice then meaning nothing (Gemini refuses one
//     without function declarations). With function tools, Gemini 3 (and a model whose version
//     the adapter cannot read) gets both, with toolConfig.includeServerSideToolInvocations;
//     Gemini 2.x refuses the combination in generateContent, so the request is a ClientError
//     naming web_search_options and tools, to send one or the other or to use a Gemini 3
//     model. The searches Gemini 3 makes on the way (toolCall and toolResponse parts) are not
//     part of the OpenAI answer, so they are not sent back on the next turn;
//   - max_completion_tokens (else max_tokens) → maxOutputTokens; temperature, top_p, stop, n,
//     seed, presence_penalty, frequency_penalty → temperature, topP, stopSequences,
//     candidateCount, seed, presencePenalty, frequencyPenalty;
//   - response_format json_object → responseMimeType application/json; json_schema → the same
//     plus responseSchema (converted like tool parameters);
//   - reasoning_effort → thinkingConfig: thinkingLevel for Gemini 3 and later (none and
//     minimal → minimal, xhigh and max → high; a Pro model thinks at least at low, and Gemini
//     3.0 Pro, which has no medium, at high for medium), thinkingBudget
//     (none 0, minimal 512, low 1024, medium 8192, high 24576, xhigh and max 32768) for
//     Gemini 2.5 and models whose version the adapter cannot read, within the range Gemini
//     takes from the model: at least 128 for a Pro model, which cannot turn thinking off, at
//     most 24576 for a Flash model; nothing for older models.
//
// Clearbar's sidecar (translate.AnthropicKey, what an Anthropic client sent that only Anthropic
// can take) is removed by translate.ToOpenAIUpstream, which refuses, naming it, a parameter
// Gemini cannot honour (container, mcp_servers, …). The deprecated functions and function_call
// are a ClientError naming them: their answers would have to be in the deprecated form too.
//
// Dropped, because Gemini has no equivalent: logprobs, top_logprobs, logit_bias,
// parallel_tool_calls, user, safety_identifier, metadata, store, service_tier, modalities, audio,
// prediction, verbosity, prompt_cache_key, stream and stream_options (the
// endpoint says whether to stream; Gemini always reports usage), message names, image detail,
// the developer/system distinction, json_schema name and strict, tool strict flags, tool call ids
// (Gemini pairs function responses with calls by name and position; the adapter never sends ids)
// and every field the adapter does not know. reasoning_content in history is not sent back: the
// thought signatures carry the model's reasoning state.
//
// # Thought signatures
//
// Gemini 2.5 and 3 return an opaque thoughtSignature on parts, and Gemini 3 rejects a
// function-calling turn whose calls come back without theirs. The adapter smuggles them through
// OpenAI clients the way Gemini's own OpenAI-compatible endpoint does: a functionCall's signature
// in tool_calls[].extra_content.google.thought_signature, any other part's in the message's (or
// stream delta's) extra_content.google.thought_signature. On the way back it restores them on the
// functionCall parts and on the last text part of the assistant message. Because some clients
// send tool calls back with only their id, name and arguments (openai-go's
// ChatCompletionMessage.ToParam does), the adapter also remembers each call's signature by the
// call id it issued, in a bounded per-process cache (8 MiB, oldest out), and restores it from
// there when extra_content is missing. An assistant message whose tool calls still carry no
// signature at all (a history written by another model, an id this process never issued) gets
// Google's documented placeholder "skip_thought_signature_validator" on its first call, for
// Gemini 3 and models whose version the adapter cannot read.
//
// # Answers
//
// Text parts are joined into message.content; thought parts (Gemini sends them only when asked
// to include thoughts, which the adapter does not do) go to message.reasoning_content; parts of
// features the adapter does not use (inlineData from image models, executableCode) are dropped; functionCall parts become tool_calls with
// arguments = the args as compact JSON and an id "call_…" of the adapter's making (or Gemini's
// own id when it sends one). A candidate grounded with Google Search (groundingMetadata) gets
// message.annotations, as OpenAI's search models give them: for each of groundingSupports, one
// {type: url_citation, url_citation: {url, title, start_index, end_index}} per web source it
// names (groundingChunks[groundingChunkIndices].web.uri and .title), spanning its segment of
// the content. Gemini counts a segment's startIndex and endIndex in bytes of UTF-8; the
// annotations count Unicode code points, OpenAI's characters (the content sliced as a Python
// string), end exclusive. A segment whose indices do not hold its text is found by its text;
// one found neither way makes none. Finish reasons: STOP → "stop", or "tool_calls" when the
// candidate made function calls; MAX_TOKENS → "length"; SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT,
// SPII and the IMAGE_ variants → a ContentPolicy error (when every candidate was stopped so;
// otherwise those candidates finish with "content_filter"); MALFORMED_FUNCTION_CALL,
// UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, OTHER, NO_IMAGE → BadResponse; LANGUAGE and
// MISSING_THOUGHT_SIGNATURE → ClientError. A prompt blocked by promptFeedback.blockReason is
// ContentPolicy. Usage: prompt_tokens = promptTokenCount + toolUsePromptTokenCount,
// completion_tokens = candidatesTokenCount + thoughtsTokenCount, cached_tokens =
// cachedContentTokenCount, reasoning_tokens = thoughtsTokenCount. The id is Gemini's responseId
// (or a "chatcmpl-…" of the adapter's making), the model Gemini's modelVersion (or the call's
// model), created the time of the answer.
//
// # Streams
//
// Each Gemini event (a whole GenerateContentResponse with the new parts) becomes one chunk with
// the same id, object, created and model throughout; the first delta of a choice carries role
// "assistant"; a function call arrives whole, as one tool_calls delta with its full arguments.
// A grounded candidate's annotations go once, in the delta of the event that finishes it (or of
// the first later one that brings the grounding metadata), when the text its segments index
// into is whole; the last groundingMetadata seen counts, as Gemini sends it whole each time.
// Gemini repeats cumulative usageMetadata on many events: the adapter keeps the last and sends
// it once, in a final chunk with "choices": [], after the stream's end. Gemini sends no [DONE]:
// a stream succeeds when it ends cleanly after every candidate it started has a finish reason,
// and is StreamCut otherwise. A finish reason or block that maps to an error above ends the
// stream with that error.
//
// # Embeddings
//
// Embed (clearbar.Embedder, for POST /v1/embeddings and the learned router's embeddings) posts
// to {base}/v1beta/models/{model}:batchEmbedContents, with the key in x-goog-api-key as for
// chat, the body {"requests": [{"model": "models/{model}", "content": {"parts": [{"text"}]},
// "outputDimensionality", "taskType"}, ...]}: one request per input text, in order, at most 100
// per upstream request (Gemini's limit; more inputs go in further requests, one after the
// other, within the call's one timeout). OpenAI's dimensions → outputDimensionality; the
// client body's task_type (a Clearbar extension, e.g. "RETRIEVAL_QUERY") → taskType;
// encoding_format is applied by the adapter, not sent; user and every other field are
// dropped. Gemini embeds text only: token-id input is a ClientError naming input, and so are
// an empty input list and an empty text.
//
// The answer, {"embeddings": [{"values": [...]}, ...]}, becomes an OpenAI embeddings document,
// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model"}, the
// model being the call's (Gemini names none), each vector a JSON array of numbers (the
// shortest form that reads back as the same float32), or, when encoding_format is base64, a
// base64 string of its little-endian float32 values. Gemini's answer carries no token counts,
// so the document has no usage and EmbedResponse.HasUsage is false (a usageMetadata
// promptTokenCount on every answer would be reported as prompt_tokens). An answer without one
// vector of finite float32 numbers per input is BadResponse; errors are classified as below.
//
// # Errors
//
// Gemini's {"error": {"code", "message", "status", "details"}} (also wrapped in an array, as
// non-SSE streams send it) is classified by status: RESOURCE_EXHAUSTED → RateLimited (with
// RetryInfo.retryDelay as RetryAfter, and as CodeQuotaExhausted, not retried, when a per-day
// quota is spent); UNAVAILABLE, INTERNAL, UNKNOWN, ABORTED, DATA_LOSS, CANCELLED → Overloaded;
// DEADLINE_EXCEEDED → Timeout; PERMISSION_DENIED, UNAUTHENTICATED, and INVALID_ARGUMENT for an
// invalid or expired API key → Auth; INVALID_ARGUMENT saying the input is over the model's
// token limit → ContextTooLong; FAILED_PRECONDITION asking to enable billing (the free tier
// is not offered in the caller's region) → RateLimited with CodeQuotaExhausted, as a spent
// quota; other INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, NOT_FOUND → ClientError; without a status, by HTTP status (clearbar.ClassForStatus).
// Transport failures, timeouts and cancellation are classified as in provider/openai. Messages
// never contain the provider's keys, nor anything shaped like a Google API key.
package gemini

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
)

// Type is the provider type this package serves.
const Type = "gemini"

// DefaultBaseURL is the base URL when the spec sets none.
const DefaultBaseURL = "https://generativelanguage.googleapis.com"

// apiVersion is the API version path appended to a base URL that names none.
const apiVersion = "/v1beta"

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 1 << 20

// Provider is a Gemini API upstream. It is safe for concurrent use; its only mutable state is
// the active key index.
type Provider struct {
	name string
	// root is the base URL with its API version path ("…/v1beta"), without a trailing slash.
	root     string
	keys     *inflight.Keys
	client   *http.Client
	timeouts inflight.Timeouts
	// now is the clock for created timestamps and Retry-After dates; newID makes response and
	// tool call ids ("chatcmpl-…", "call_…"). Tests replace both.
	now   func() time.Time
	newID func(prefix string) string
	// sigs remembers the signatures of the calls the adapter answered with (see
	// signatureCache); nil remembers none.
	sigs *signatureCache
}

// New builds the adapter for a provider of type "gemini". It is a provider.Constructor. The base
// URL defaults to DefaultBaseURL; "/v1beta" is appended unless its path already ends in an API
// version ("/v1", "/v1beta", "/v1alpha"). A provider without keys sends no key header (a proxy
// that adds its own). Timeouts are chosen as in provider/openai: the spec model's, else the
// provider's, else only the caller's context.
func New(cfg provider.Config) (clearbar.Provider, error) {
	sp := cfg.Provider
	if sp == nil {
		return nil, errors.New("gemini: no provider settings")
	}
	if sp.Type != Type {
		return nil, fmt.Errorf("the gemini adapter serves type %q, not %q", Type, sp.Type)
	}
	root, err := inflight.BaseURL(sp.BaseURL.Value, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	if last := root[strings.LastIndexByte(root, '/')+1:]; !isVersionSegment(last) {
		root += apiVersion
	}
	p := &Provider{
		name:     sp.Name,
		root:     root,
		client:   cfg.HTTP,
		timeouts: inflight.TimeoutsOf(sp, cfg.Spec),
		now:      time.Now,
		newID:    randomID,
		sigs:     newSignatureCache(defaultSignatureBytes),
	}
	if p.client == nil {
		p.client = provider.DefaultHTTPClient()
	}
	p.keys = inflight.KeysOf(sp)
	return p, nil
}

// isVersionSegment reports whether a path segment names a Gemini API version.
func isVersionSegment(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] < '0' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'z') {
			return false
		}
	}
	return true
}

// randomID returns prefix and 24 random hex digits.
func randomID(prefix string) string {
	var b [12]byte
	for i := 0; i < len(b); i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return prefix + hex.EncodeToString(b[:])
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// endpoint returns the URL of a model's method. A model id is taken as "models/ID" unless it
// already names its collection ("models/…", "tunedModels/…").
func (p *Provider) endpoint(model, method string) string {
	path := model
	if !strings.Contains(model, "/") {
		path = "models/" + url.PathEscape(model)
	}
	return p.root + "/" + path + ":" + method
}

// Complete sends a non-streaming call (generateContent) and returns the answer translated to an
// OpenAI chat completion. Failures are classified as the package documentation says; a request
// the adapter cannot translate is a ClientError naming the offending parameter.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	body, err := p.upstreamBody(call)
	if err != nil {
		return nil, err
	}
	a := p.begin(ctx, call, 0)
	defer a.End()
	resp, err := p.send(a, p.endpoint(call.Model, "generateContent"), body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, e := a.ReadAnswer(resp)
	if e != nil {
		return nil, e
	}
	return p.parseResponse(a, resp, data)
}

// Stream sends a streaming call (streamGenerateContent?alt=sse). It returns once the upstream
// answered 2xx with an event stream; other answers are errors here, classified as for Complete.
// The stream's own failures are StreamCut (no finish reason before the end, an error event, a
// lost connection), BadResponse (an event that is not a JSON object), ContentPolicy and the
// other finish-reason classes, Timeout (no first chunk within call.TTFTTimeout, or the call's
// timeout) and Canceled.
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	body, err := p.upstreamBody(call)
	if err != nil {
		return nil, err
	}
	a := p.begin(ctx, call, call.TTFTTimeout)
	resp, err := p.send(a, p.endpoint(call.Model, "streamGenerateContent")+"?alt=sse", body, true)
	if err != nil {
		a.End()
		return nil, err
	}
	if e := p.checkStreamType(a, resp); e != nil {
		a.End()
		return nil, e
	}
	return newStream(a, resp), nil
}

// send posts body with the active key, and once more with the next key if that one is
// rejected (see inflight.Attempt.Send). It returns the response only for a 2xx status; the
// caller closes its body.
func (p *Provider) send(a *attempt, endpoint string, body []byte, stream bool) (*http.Response, error) {
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	return a.Send(p.client, p.keys, func(key string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(a.Ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		if key != "" {
			req.Header.Set("X-Goog-Api-Key", key)
		}
		return req, nil
	}, func(resp *http.Response) *clearbar.Error { return p.statusError(a, resp) })
}

// statusError reads at most maxErrorBody of a non-2xx answer, closes it and classifies it.
func (p *Provider) statusError(a *attempt, resp *http.Response) *clearbar.Error {
	data, e := a.ReadErrorBody(resp, maxErrorBody)
	if e != nil {
		return e
	}
	return p.upstreamError(a, resp.StatusCode, resp.Header, data)
}

var (
	_ clearbar.Provider    = (*Provider)(nil)
	_ provider.Constructor = New
)
