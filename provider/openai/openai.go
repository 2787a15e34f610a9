// Package openai is the adapter for OpenAI's Chat Completions API and for the many servers that
// speak it (vLLM, SGLang, Ollama, llama.cpp, Together, Groq, OpenRouter, …): provider types
// "openai" and "openai-compatible".
//
// # Requests
//
// The upstream body is the client's own body (clearbar.Request.Body, OpenAI dialect), edited in
// place with sjson so that every field Clearbar does not know reaches the upstream with its value
// unchanged, byte for byte. Only these are rewritten:
//
//   - model is set to the call's model;
//   - stream is set to true by Stream; Complete sets it to false when the client sent it, and
//     removes stream_options (OpenAI rejects stream_options without stream);
//   - a stream always asks for stream_options.include_usage: true, also when the client sent
//     false, because every call is priced; the gateway drops the usage-only chunk for a client
//     that did not ask for it (clearbar.Request.IncludeUsage);
//   - metadata keys starting with "clearbar" (routing hints) are removed, and metadata itself
//     when nothing else is left;
//   - a body with duplicate model, stream, stream_options or metadata keys is rebuilt with one
//     of each (the last, as upstream JSON parsers read it), so that a second "model" key cannot
//     take the call to a model routing did not choose;
//   - Clearbar's sidecar (translate.AnthropicKey, what an Anthropic client sent that only
//     Anthropic can take) is removed by translate.ToOpenAIUpstream, and a call whose sidecar
//     holds a parameter this model cannot honour (container, mcp_servers, …) is a ClientError
//     naming it, before anything is sent.
//
// A request with no Body (built in code) or in another dialect is marshalled from its canonical
// fields instead. Requests carry Content-Type: application/json and, when the provider has
// keys, Authorization: Bearer <key>; no client header is ever forwarded.
//
// # Keys
//
// The adapter holds the provider's keys (spec api_key, then api_keys) and an active index shared
// by all calls. When the upstream rejects the active key (class Auth: 401 or 403), the adapter
// moves the index to the next key and sends the same call once more with it, within the same
// Complete or Stream. If that fails too, the Auth error is returned and the index has moved on
// again, so the caller's RotateKey action is simply another call. Concurrent failures move the
// index once per key (compare-and-swap), never past a key that another call just switched to.
//
// # Errors
//
// Every failure is a *clearbar.Error whose class comes from the status (clearbar.ClassForStatus)
// refined by the body; see Provider.Complete for the list. Error bodies in every known shape are
// read: OpenAI's {"error":{…}} envelope, vLLM's flat {"object":"error",…}, FastAPI's {"detail":…},
// numeric codes (llama.cpp, OpenRouter, Gemini), plain text and empty bodies. Messages never
// contain the provider's keys: they are redacted, as is anything that looks like an OpenAI key
// or a bearer token (OpenAI echoes a masked key in its 401 message).
//
// A 429 with code insufficient_quota (the account is out of credit) is RateLimited but must not
// be retried: it has RetryAfter 0 and Code CodeInsufficientQuota whatever the headers said; use
// IsQuotaExhausted to ask. A 402 (OpenRouter's "insufficient credits") is treated the same.
//
// # Streams
//
// Stream returns once the upstream answered 200 with an event stream. Each data event becomes a
// clearbar.Chunk whose Data is the upstream JSON, edited only where a client would be misled:
// cumulative usage on chunks that have choices (vLLM continuous_usage_stats, some proxies) is
// replaced by null and kept back; when the stream ends without a usage-only chunk, the last
// usage kept back is sent in a final chunk with "choices": [], so that a client sees one usage,
// once, at the end. An Azure-style first chunk with no choices and prompt_filter_results is
// skipped, and a top-level "error": null is removed (openai-go treats any error key as a stream
// error). A stream succeeds only at "data: [DONE]".
package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/tidwall/sjson"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
)

// DefaultBaseURL is the base URL of provider type "openai" when the spec sets none.
const DefaultBaseURL = "https://api.openai.com/v1"

// Provider types this package serves.
const (
	TypeOpenAI     = "openai"
	TypeCompatible = "openai-compatible"
)

// Limits on what is read from an upstream.
const (
	// maxErrorBody bounds the part of an error answer that is read; the rest is discarded
	// with the connection.
	maxErrorBody = 1 << 20
)

// Provider is an OpenAI-compatible upstream. It is safe for concurrent use; its only mutable
// state is the active key index.
type Provider struct {
	name string
	typ  string
	// completionTokens sends the token limit as max_completion_tokens whatever the type.
	completionTokens bool
	// endpoint is the chat completions URL: the base URL plus "/chat/completions".
	endpoint string
	keys     *inflight.Keys
	client   *http.Client
	timeouts inflight.Timeouts
	// now is the clock used for Retry-After dates.
	now func() time.Time
	// noStreamOptions is set once the upstream has rejected stream_options (older servers
	// do): streams are then sent without it, and usage is whatever the upstream reports.
	noStreamOptions atomic.Bool
}

// New builds the adapter for a provider of type "openai" or "openai-compatible". It is a
// provider.Constructor. The base URL defaults to DefaultBaseURL for "openai" and is required
// for "openai-compatible"; it must be an http or https URL. A provider without keys sends no
// Authorization header (local servers). cfg.HTTP nil means provider.DefaultHTTPClient().
//
// Each call is bounded by the timeout of the spec model that names this provider and the
// call's model id, else by the provider's timeout, else only by the caller's context. When
// several spec models name the same model id with different timeouts, the longest is used.
func New(cfg provider.Config) (clearbar.Provider, error) {
	sp := cfg.Provider
	if sp == nil {
		return nil, errors.New("openai: no provider settings")
	}
	def := ""
	switch sp.Type {
	case TypeOpenAI:
		def = DefaultBaseURL
	case TypeCompatible:
	default:
		return nil, fmt.Errorf("the openai adapter serves types %q and %q, not %q", TypeOpenAI, TypeCompatible, sp.Type)
	}
	base, err := inflight.BaseURL(sp.BaseURL.Value, def)
	switch {
	case err != nil:
		return nil, err
	case base == "":
		return nil, errors.New("openai-compatible provider needs base_url")
	}
	p := &Provider{
		name:     sp.Name,
		typ:      sp.Type,
		endpoint: base + "/chat/completions",
		keys:     inflight.KeysOf(sp),
		client:   cfg.HTTP,
		timeouts: inflight.TimeoutsOf(sp, cfg.Spec),
		now:      time.Now,
	}
	if p.client == nil {
		p.client = provider.DefaultHTTPClient()
	}
	return p, nil
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// Complete sends a non-streaming call and returns the whole answer. Response.Body is the
// upstream's bytes, unchanged. Failures, by class:
//
//   - ClientError: 400, 404, 422 and other 4xx; a request body that is not a JSON object.
//   - Auth: 401, 403 (after one try with the next key, if there is one).
//   - RateLimited: 429, with RetryAfter from retry-after-ms or retry-after (seconds or a date);
//     insufficient_quota and 402 with RetryAfter 0 and Code "insufficient_quota".
//   - Overloaded: 5xx except 504. Timeout: 408, 504, the call's timeout, the caller's deadline.
//   - ContextTooLong: 413, or a 4xx whose code is context_length_exceeded or whose message
//     speaks of the context length or window.
//   - ContentPolicy: a 4xx whose code or type is content_filter or content_policy_violation.
//   - Connection: no response (refused, reset, closed, DNS, TLS), or the body was cut.
//   - BadResponse: a 2xx that is not a chat completion (malformed JSON, no choices, an error
//     object; its numeric code, when it has one, classifies it instead), or over 64 MiB.
//   - Canceled: the caller's context was canceled.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	body, err := p.upstreamBody(call, false)
	if err != nil {
		return nil, err
	}
	a := p.begin(ctx, call, 0)
	defer a.End()
	resp, err := p.send(a, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, e := a.ReadAnswer(resp)
	if e != nil {
		return nil, e
	}
	r, e := p.parseResponse(a, resp, data)
	if e != nil {
		return nil, e
	}
	return r, nil
}

// Stream sends a streaming call. It returns once the upstream answered 2xx with an event stream;
// any other answer is an error here, classified as for Complete (a 2xx JSON or HTML body is
// BadResponse, or the error its error object describes). The stream's own failures are:
//
//   - StreamCut: the stream ended without [DONE] (cleanly, inside an event, or by a lost
//     connection), or sent an error event (a data chunk with a top-level error object).
//   - BadResponse: a chunk that is not a JSON object, or an event over 32 MiB.
//   - Timeout: no first chunk within call.TTFTTimeout (counted from the request, so a slow
//     status line counts too), or the call's timeout, which bounds the whole stream.
//   - Canceled: the caller's context was canceled, or the stream was closed while reading.
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	body, err := p.upstreamBody(call, true)
	if err != nil {
		return nil, err
	}
	if p.noStreamOptions.Load() {
		body, _ = sjson.DeleteBytes(body, "stream_options")
	}
	a := p.begin(ctx, call, call.TTFTTimeout)
	resp, err := p.send(a, body, true)
	if err != nil && !p.noStreamOptions.Load() && rejectsStreamOptions(err) {
		// The upstream predates stream_options: remember, and send the stream without it.
		a.End()
		p.noStreamOptions.Store(true)
		body, _ = sjson.DeleteBytes(body, "stream_options")
		a = p.begin(ctx, call, call.TTFTTimeout)
		resp, err = p.send(a, body, true)
	}
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
// rejected. It returns the response only for a 2xx status; the caller closes its body.
func (p *Provider) send(a *attempt, body []byte, stream bool) (*http.Response, error) {
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	return p.post(a, p.endpoint, body, accept)
}

// post posts body to url with the active key (see inflight.Attempt.Send).
func (p *Provider) post(a *attempt, url string, body []byte, accept string) (*http.Response, error) {
	return a.Send(p.client, p.keys, func(key string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(a.Ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
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

// IsQuotaExhausted reports whether err is an upstream's "out of credit" answer: class
// RateLimited with Code CodeInsufficientQuota. Retrying the same provider is useless until
// someone pays; fall back instead.
func IsQuotaExhausted(err error) bool {
	var e *clearbar.Error
	return errors.As(err, &e) && e.Class == clearbar.RateLimited && e.Code == CodeInsufficientQuota
}

// CodeInsufficientQuota is the Code of an error that says the account is out of credit.
const CodeInsufficientQuota = clearbar.CodeQuotaExhausted

var (
	_ clearbar.Provider    = (*Provider)(nil)
	_ provider.Constructor = New
)

// rejectsStreamOptions reports whether an upstream refused a call because of stream_options.
func rejectsStreamOptions(err error) bool {
	var e *clearbar.Error
	return errors.As(err, &e) && e.Class == clearbar.ClientError &&
		(e.Param == "stream_options" || strings.Contains(e.Message, "stream_options"))
}
