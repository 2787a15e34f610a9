// Package anthropic is the adapter for Anthropic's Messages API: provider type "anthropic".
//
// # Requests
//
// Every client request reaches an adapter in the OpenAI dialect (the gateway's Anthropic
// ingress translates Anthropic clients' requests to it), so the upstream body is the client's
// body translated by translate.ToAnthropicCall: system and developer messages hoisted into
// system, same-role messages merged, tool calls and results as tool_use and tool_result
// blocks, images and PDFs as blocks, max_tokens defaulted to translate.DefaultMaxTokens, stop
// as stop_sequences, user as metadata.user_id, the deprecated functions and function_call as
// tools and tool_choice. What Anthropic cannot express fails the call with a ClientError naming
// the parameter (n > 1, audio, custom tools, …), before anything is sent; what it would reject
// is dropped (logit_bias, seed, unknown fields, …). The package documentation of translate has
// the whole table.
//
// An Anthropic client's request carries a sidecar (translate.AnthropicKey) with what the OpenAI
// form cannot hold, so the upstream gets that client's request as it was sent: thinking and its
// blocks with their signatures, cache_control, is_error, the system prompt's blocks, top_k and
// the other parameters without an OpenAI form; its anthropic-beta header goes with the call.
// Such a request's answer keeps the upstream's own message (or each event of its stream)
// beside the OpenAI form, for the gateway to give that client as it came.
//
// A request in the Anthropic dialect with a body (clearbar.Request.Dialect "anthropic") is
// passed through as it is, with only model and stream set, so that an Anthropic client's
// fields reach an Anthropic upstream unchanged. A request without a body (built in code) is
// marshalled from its canonical fields, then translated.
//
// Calls are POST {base_url}/v1/messages with x-api-key (the active key), anthropic-version
// (the spec's api_version, default 2023-06-01) and Content-Type: application/json, and an
// Anthropic client's anthropic-beta from the sidecar; no client header is forwarded otherwise.
// With api_version 2026-10-21 or later, temperature, top_p and top_k are left out, as that
// version rejects them.
//
// # Keys
//
// As in provider/openai: the provider's keys (spec api_key, then api_keys) rotate on an Auth
// failure (401, 403), once within the same call, with compare-and-swap so that concurrent
// failures move the index once per key.
//
// # Answers
//
// Answers reach the gateway in OpenAI's format: Response.Body is the Anthropic message
// translated into a chat.completion (translate.ToOpenAIAnswer) and each stream chunk's Data
// a chat.completion.chunk (translate.OpenAIChunks), so the gateway, validators and OpenAI
// clients need not know which vendor answered. For an Anthropic client they also carry the
// message or event itself (translate.AnswerOptions.Native); for a request that offered the
// deprecated functions, the call is message.function_call (translate.AnswerOptions.Functions). Usage is in OpenAI's accounting: prompt tokens
// are input_tokens + cache_creation_input_tokens + cache_read_input_tokens, CachedTokens the
// cache reads, CacheWriteTokens the cache writes.
//
// # Errors
//
// Anthropic's error envelope, {"type":"error","error":{"type","message"}}, classifies by its
// type where the status alone does not tell (translate.ClassForAnthropicError):
// overloaded_error (529) and api_error are Overloaded, rate_limit_error RateLimited with the
// retry-after header, authentication_error and permission_error Auth, request_too_large and an
// invalid_request_error saying the prompt is too long ContextTooLong, billing_error (and the
// older "credit balance is too low" 400) RateLimited with Code insufficient_quota and no
// retry-after, other invalid_request_error and not_found_error ClientError, timeout_error
// Timeout. Error.Type keeps Anthropic's error type. Messages never contain the provider's
// keys, nor anything that looks like a key.
//
// # Streams
//
// Stream returns once the upstream answered 2xx with an event stream; the events become
// OpenAI chunks (see translate.OpenAIChunks). A stream succeeds only at message_stop: an
// error event mid-stream is StreamCut with the event's error type (overloaded_error, …), and
// an end of the stream before message_stop is StreamCut too.
package anthropic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/translate"
)

// Type is the provider type this package serves.
const Type = "anthropic"

// DefaultBaseURL is the base URL when the spec sets none; calls go to {base}/v1/messages.
const DefaultBaseURL = "https://api.anthropic.com"

// DefaultVersion is the anthropic-version sent when the spec sets no api_version.
const DefaultVersion = translate.Version20230601

// Limits on what is read from an upstream.
const (
	// maxErrorBody bounds the part of an error answer that is read.
	maxErrorBody = 1 << 20
)

// Provider is an Anthropic upstream. It is safe for concurrent use; its only mutable state is
// the active key index.
type Provider struct {
	name string
	// endpoint is the Messages URL: the base URL plus "/v1/messages".
	endpoint string
	version  string
	keys     *inflight.Keys
	client   *http.Client
	timeouts inflight.Timeouts
	// now is the clock for Retry-After dates and the translated answers' "created".
	now func() time.Time
}

// New builds the adapter for a provider of type "anthropic". It is a provider.Constructor. The
// base URL defaults to DefaultBaseURL and must be an http or https URL (a trailing "/v1" is
// accepted and not doubled); api_version defaults to DefaultVersion. cfg.HTTP nil means
// provider.DefaultHTTPClient(). Timeouts are as in provider/openai: the spec model's timeout
// for the call's model id, else the provider's, else only the caller's context.
func New(cfg provider.Config) (clearbar.Provider, error) {
	sp := cfg.Provider
	if sp == nil {
		return nil, errors.New("anthropic: no provider settings")
	}
	if sp.Type != Type {
		return nil, fmt.Errorf("the anthropic adapter serves type %q, not %q", Type, sp.Type)
	}
	base, err := inflight.BaseURL(sp.BaseURL.Value, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	base = strings.TrimSuffix(base, "/v1")
	p := &Provider{
		name:     sp.Name,
		endpoint: base + "/v1/messages",
		version:  strings.TrimSpace(sp.APIVersion),
		client:   cfg.HTTP,
		timeouts: inflight.TimeoutsOf(sp, cfg.Spec),
		now:      time.Now,
	}
	if p.version == "" {
		p.version = DefaultVersion
	}
	if p.client == nil {
		p.client = provider.DefaultHTTPClient()
	}
	p.keys = inflight.KeysOf(sp)
	return p, nil
}

// Name returns the provider's name in the spec.
func (p *Provider) Name() string { return p.name }

// Complete sends a non-streaming call and returns the whole answer, its Body a translated
// chat.completion. Failures, by class:
//
//   - ClientError: a request Anthropic cannot express (before any call); 400, 404, 409 and
//     other 4xx answers.
//   - Auth: 401, 403 (after one try with the next key, if there is one).
//   - RateLimited: 429, with RetryAfter from retry-after-ms or retry-after; billing errors
//     with RetryAfter 0 and Code "insufficient_quota".
//   - Overloaded: 529, 500 and other 5xx except 504. Timeout: 504, timeout_error, the call's
//     timeout, the caller's deadline.
//   - ContextTooLong: 413, or a 400 saying the prompt is too long.
//   - Connection: no response, or the body was cut.
//   - BadResponse: a 2xx that is not an Anthropic message, or over 64 MiB.
//   - Canceled: the caller's context was canceled.
func (p *Provider) Complete(ctx context.Context, call *clearbar.Call) (*clearbar.Response, error) {
	ac, err := p.upstreamBody(call, false)
	if err != nil {
		return nil, err
	}
	a := p.begin(ctx, call, 0)
	defer a.End()
	resp, err := p.send(a, ac, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, e := a.ReadAnswer(resp)
	if e != nil {
		return nil, e
	}
	return p.parseResponse(a, resp, data, ac)
}

// Stream sends a streaming call. It returns once the upstream answered 2xx with an event
// stream; any other answer is an error here, classified as for Complete. The stream's own
// failures are:
//
//   - StreamCut: an error event (Type is its error type, such as overloaded_error), or the end
//     of the stream before message_stop (cleanly, inside an event, or by a lost connection).
//   - BadResponse: an event that is not a JSON object, an event before message_start, or an
//     event over 32 MiB.
//   - Timeout: no first chunk within call.TTFTTimeout, or the call's timeout.
//   - Canceled: the caller's context was canceled, or the stream was closed while reading.
func (p *Provider) Stream(ctx context.Context, call *clearbar.Call) (clearbar.Stream, error) {
	ac, err := p.upstreamBody(call, true)
	if err != nil {
		return nil, err
	}
	a := p.begin(ctx, call, call.TTFTTimeout)
	resp, err := p.send(a, ac, true)
	if err != nil {
		a.End()
		return nil, err
	}
	if e := p.checkStreamType(a, resp); e != nil {
		a.End()
		return nil, e
	}
	return newStream(a, resp, ac), nil
}

// send posts the call's body with the active key (and its anthropic-beta header, when the
// client sent one), and once more with the next key if that one is rejected (see
// inflight.Attempt.Send). It returns the response only for a 2xx status; the caller closes its
// body.
func (p *Provider) send(a *attempt, ac translate.AnthropicCall, stream bool) (*http.Response, error) {
	body := ac.Body
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	return a.Send(p.client, p.keys, func(key string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(a.Ctx, http.MethodPost, p.endpoint, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		h := req.Header
		h["Content-Type"] = []string{"application/json"}
		h["Anthropic-Version"] = []string{p.version}
		h["Accept"] = []string{accept}
		if ac.Beta != "" {
			h["Anthropic-Beta"] = []string{ac.Beta}
		}
		if key != "" {
			h["X-Api-Key"] = []string{key}
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
