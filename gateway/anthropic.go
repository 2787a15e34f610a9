package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/sse"
	"github.com/clearbar/clearbar/translate"
	"github.com/clearbar/clearbar/validate"
)

// The Anthropic ingress: POST /v1/messages, for clients built on Anthropic's SDKs.
//
// A Messages request is translated into an OpenAI chat request (translate.ToOpenAIRequest) and
// runs through the same pipeline as /v1/chat/completions (serveChat: keys and rate limits,
// DecodeChatRequest, Classify, Plan, run.complete or run.stream), so it is routed by the same
// spec to any upstream, OpenAI-format or Anthropic, and gets the same decision record
// (Dialect "anthropic", Path "/v1/messages") and X-Clearbar-* headers. The pipeline writes
// OpenAI; anthropicWriter stands in for the client's http.ResponseWriter and turns what it
// writes into Anthropic's format: a completion is kept back and translated
// (translate.ToAnthropicResponse), a stream is transcoded event by event as it is written
// (translate.AnthropicEvents), with event lines, contiguous block indices and a final
// message_delta carrying the usage. The stream path needs no change to the relay: the relay's
// own SSE output is the transcoder's input.
//
// Clients authenticate with x-api-key or Authorization: Bearer (the gateway's client keys,
// when the spec has any). anthropic-version 2023-06-01 and 2026-10-21 are accepted; a missing
// or other version is a 400, as Anthropic answers. With 2026-10-21, temperature, top_p and
// top_k are a 400 too, as Anthropic gives. Errors are in Anthropic's envelope,
// {"type":"error","error":{"type","message"},"request_id"}, with the error type from the
// failure (translate.AnthropicErrorType), the HTTP status the OpenAI route would give, and the
// same retry headers; every answer carries request-id (the decision id), which the SDKs
// expose as the request's id.
//
// Nothing an Anthropic client sends is lost on the way to an Anthropic upstream: what the
// OpenAI form cannot hold (thinking and its blocks with their signatures, cache_control,
// is_error, the system prompt's blocks, top_k and the other parameters without an OpenAI form,
// the anthropic-beta header) rides in the translated request's sidecar (translate.AnthropicKey),
// which the Anthropic adapter turns back into the client's request and every other adapter
// takes out, refusing what its model cannot honour. The Anthropic adapter answers such a
// request with the upstream's own message or events beside their OpenAI form, and
// anthropicWriter gives the client those, thinking blocks and block indices as they came. A
// member that is not a parameter of the Messages API is a 400, as Anthropic answers it; the
// translate package lists every field's fate, and requests using server tools or other
// untranslatable blocks get a 400 naming the parameter.

// headerAnthropicRequestID is the response header Anthropic's SDKs read the request id from.
const headerAnthropicRequestID = "Request-Id"

// AnthropicVersions are the anthropic-version values the ingress accepts.
var AnthropicVersions = []string{translate.Version20230601, translate.Version20261021}

// messages serves POST /v1/messages.
func (g *Gateway) messages(w http.ResponseWriter, r *http.Request) {
	seq, start := g.started.begin(g.now)
	defer g.started.end(seq, start) // a request that panics is no longer in flight either
	d := &clearbar.Decision{ID: newID(start), Time: start, Dialect: clearbar.DialectAnthropic, Path: r.URL.Path}
	w.Header()[headerAnthropicRequestID] = []string{d.ID}
	var sh shadowed
	status, err := g.serveMessages(w, r, d, start, &sh)
	if err != nil && status == 0 {
		g.decisionHeaders(w.Header(), d)
		status = writeAnthropicError(w, err, d.ID)
	}
	g.finishDecision(d, status, err, start, seq)
	g.submitShadow(&sh, d, err)
}

// serveMessages checks the Anthropic-specific parts of the request, translates it and runs
// the chat pipeline on it. Like serveChat, it returns status 0 with an error that is not yet
// written.
func (g *Gateway) serveMessages(w http.ResponseWriter, r *http.Request, d *clearbar.Decision, start time.Time, sh *shadowed) (int, error) {
	chat, err := g.anthropicRequest(w, r, false)
	if err != nil {
		return 0, err
	}
	inner := r.Clone(context.WithValue(r.Context(), messagesIngress{}, true))
	inner.Body = io.NopCloser(bytes.NewReader(chat))
	inner.ContentLength = int64(len(chat))
	inner.Header.Set("Content-Type", "application/json")

	aw := newAnthropicWriter(w)
	aw.d = d
	status, err := g.serveChat(aw, inner, d, start, sh)
	if aw.passed {
		// A stream went to the client: the transcoder wrote it; an upstream failure after the
		// first byte still needs its error event.
		if e := clearbar.AsError(err); err != nil && aw.failed && (e.Class != clearbar.Canceled || isShutdownCut(e)) {
			aw.fail(err)
		}
		return status, err
	}
	if err != nil || status == 0 {
		return status, err
	}
	out, terr := translate.ToAnthropicResponse(aw.body.Bytes())
	if terr != nil {
		e := clearbar.AsError(terr)
		return 0, &clearbar.Error{Class: clearbar.BadResponse, Status: http.StatusBadGateway, Message: "the answer cannot be expressed in Anthropic's format: " + e.Message, Err: terr}
	}
	w.WriteHeader(status)
	w.Write(out)
	return status, nil
}

// countTokens serves POST /v1/messages/count_tokens, as Anthropic's SDKs call it
// (messages.countTokens): the request's input tokens by the gateway's own estimate, the one
// routing and context-window checks use (route.EstimateTokens), since the model that will
// answer, and so its tokenizer, is not known before routing. It calls no model and records no
// decision. What /v1/messages refuses before routing it refuses too (an unknown
// clearbar/NAME is its 404), and, as Anthropic does, the parameters only /v1/messages takes
// (countTokensParams).
func (g *Gateway) countTokens(w http.ResponseWriter, r *http.Request) {
	id := w.Header().Get(headerRequestID)
	w.Header()[headerAnthropicRequestID] = []string{id}
	n, err := g.serveCountTokens(w, r)
	if err != nil {
		writeAnthropicError(w, err, id)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"input_tokens\":%d}", n)
}

func (g *Gateway) serveCountTokens(w http.ResponseWriter, r *http.Request) (int, error) {
	// A count_tokens request is a Messages request without max_tokens.
	chat, err := g.anthropicRequest(w, r, true)
	if err != nil {
		return 0, err
	}
	req, err := DecodeChatRequest(chat, g.messagesLimits())
	if err != nil {
		return 0, err
	}
	// A name in Clearbar's namespace that names nothing is the 404 /v1/messages gives.
	if err := g.aliases.check(req.Model); err != nil {
		return 0, err
	}
	return route.EstimateTokens(req), nil
}

// countTokensParams are the members of a count_tokens request body, as Anthropic's SDKs send
// them (MessageCountTokensParams, BetaMessageCountTokensParams); the other parameters of
// /v1/messages are refused there, as Anthropic refuses them.
var countTokensParams = map[string]bool{
	"model": true, "messages": true, "system": true, "tools": true, "tool_choice": true, "thinking": true,
	"cache_control": true, "output_config": true, "output_format": true, "speed": true,
	"mcp_servers": true, "context_management": true, "compaction": true,
}

// countTokensExtra refuses a member of a count_tokens body that only /v1/messages takes, such as
// max_tokens, in Anthropic's words.
func countTokensExtra(body []byte) error {
	var err error
	gjson.ParseBytes(body).ForEach(func(k, _ gjson.Result) bool {
		if !countTokensParams[k.Str] {
			err = badRequest(k.Str, "unsupported_value", "%s: Extra inputs are not permitted", k.Str)
		}
		return err == nil
	})
	return err
}

// anthropicToolSchemas refuses a tool whose input_schema is not a JSON Schema, as Anthropic does,
// naming the tool by its index among the request's tools (server tools included). The schemas
// are compiled as the chat ingress compiles function parameters (checkParameters), once each.
func anthropicToolSchemas(body []byte) error {
	var err error
	i := -1
	gjson.GetBytes(body, "tools").ForEach(func(_, t gjson.Result) bool {
		i++
		if typ := t.Get("type").Str; typ != "" && typ != "custom" {
			return true
		}
		s := t.Get("input_schema")
		if !s.Exists() || s.Type == gjson.Null {
			return true
		}
		if serr := validate.CheckSchema(s.Raw); serr != nil {
			err = badRequest(fmt.Sprintf("tools[%d].input_schema", i), "invalid_function_parameters",
				"tools.%d.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12 (https://json-schema.org/draft/2020-12): %s. Learn more about tool use at https://docs.claude.com/en/docs/tool-use.", i, serr)
		}
		return err == nil
	})
	return err
}

// messagesIngress marks, in its context, a request translated from /v1/messages.
type messagesIngress struct{}

// messagesLimits are the limits a translated /v1/messages request is read and decoded with:
// the gateway's, without OpenAI's own bounds that Anthropic does not share.
func (g *Gateway) messagesLimits() Limits {
	lim := g.limits
	lim.Messages = true
	// The client's body was held to MaxBody; its translation may be larger (a text
	// document is carried in both forms).
	lim.MaxBody *= 3
	return lim
}

// anthropicRequest checks an Anthropic request's key (first, so that a client without one
// learns nothing else) and version, reads its body and translates it into an OpenAI chat
// request, with its anthropic-beta header in the sidecar; countTokens says it is a
// count_tokens request, which has no max_tokens.
func (g *Gateway) anthropicRequest(w http.ResponseWriter, r *http.Request, countTokens bool) ([]byte, error) {
	if err := g.anthropicClient(r); err != nil {
		return nil, err
	}
	version, err := anthropicVersion(r)
	if err != nil {
		return nil, err
	}
	body, err := readBody(w, r, g.limits.MaxBody)
	if err != nil {
		return nil, err
	}
	return messagesToChat(body, version, r.Header, countTokens)
}

// messagesToChat translates a Messages request body, of anthropic-version version and with
// the headers h (its anthropic-beta), into an OpenAI chat request, refusing what Anthropic
// refuses that the translation does not read: a tool's input_schema that is not JSON Schema,
// and, for count_tokens, the parameters only /v1/messages takes.
func messagesToChat(body []byte, version string, h http.Header, countTokens bool) ([]byte, error) {
	chat, err := translate.ToOpenAIRequest(body, translate.OpenAIOptions{Version: version, CountTokens: countTokens, Beta: anthropicBeta(h)})
	if err != nil {
		return nil, err
	}
	if countTokens {
		if err := countTokensExtra(body); err != nil {
			return nil, err
		}
	}
	if err := anthropicToolSchemas(body); err != nil {
		return nil, err
	}
	return chat, nil
}

// anthropicBeta returns the request's anthropic-beta header, its values (one header or
// several) joined with commas; "" for none.
func anthropicBeta(h http.Header) string {
	var betas []string
	for _, v := range h.Values("Anthropic-Beta") {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				betas = append(betas, b)
			}
		}
	}
	return strings.Join(betas, ",")
}

// anthropicClient checks the client key of an Anthropic request; the 401 for a request
// without one names both ways Anthropic's SDKs send it.
func (g *Gateway) anthropicClient(r *http.Request) error {
	_, err := g.keys.client(r)
	if err != nil && presented(r) == "" {
		return unauthorized("this gateway needs an API key: send it as x-api-key: KEY or Authorization: Bearer KEY")
	}
	return err
}

// anthropicVersion returns the request's anthropic-version, or the 400 Anthropic gives when it
// is missing or not one the gateway accepts.
func anthropicVersion(r *http.Request) (string, error) {
	version := strings.TrimSpace(r.Header.Get("Anthropic-Version"))
	switch {
	case version == "":
		return "", badRequest("", "missing_required_header", "anthropic-version: header is required")
	case !supportedVersion(version):
		return "", unsupportedVersion(version)
	}
	return version, nil
}

// unsupportedVersion is the 400 for an anthropic-version the gateway does not accept, in
// Anthropic's words, with the versions it does.
func unsupportedVersion(version string) error {
	return badRequest("", "unsupported_version", "anthropic-version: %q is not a valid version (Clearbar accepts %s)", version, strings.Join(AnthropicVersions, ", "))
}

func supportedVersion(v string) bool {
	for _, s := range AnthropicVersions {
		if v == s {
			return true
		}
	}
	return false
}

// statusOverloaded is the status Anthropic gives an overloaded_error.
const statusOverloaded = 529

// writeAnthropicError sends an error in Anthropic's envelope, with the status and retry
// headers writeError would send to an OpenAI client.
func writeAnthropicError(w http.ResponseWriter, err error, requestID string) int {
	e := clearbar.AsError(err)
	status := statusFor(e)
	typ := translate.AnthropicErrorType(e, status)
	if typ == translate.ErrOverloaded && status >= 500 {
		// Anthropic answers an overloaded_error with 529, whatever the upstream said (an
		// Anthropic upstream's 529, another's 500 or 503): Anthropic's SDKs raise it as
		// OverloadedError and retry it as they retry every 5xx. The OpenAI ingress keeps 503.
		status = statusOverloaded
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if requestID != "" {
		h[headerAnthropicRequestID] = []string{requestID}
	}
	retryHeaders(h, err, e, status)
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(http.StatusServiceUnavailable)
	}
	w.WriteHeader(status)
	if e.Code == threadUnsupportedCode && e.Param == "thread" && status == http.StatusBadRequest {
		w.Write(threadUnsupportedBody(typ, msg, requestID))
		return status
	}
	w.Write(translate.ErrorBody(typ, msg, requestID))
	return status
}

// threadUnsupportedCode is the error_code of Anthropic's refusal of a request that Threads
// cannot serve (the SDKs' ThreadUnsupportedRequestError), which Clearbar gives a request with
// thread on a route whose models keep no conversation (route.Plan).
const threadUnsupportedCode = "thread_unsupported_request"

// threadUnsupportedBody is Anthropic's error envelope with error.details {"error_code":
// "thread_unsupported_request"}: the Anthropic SDKs' thread and tool runner, with
// unsupportedRequestBehavior "continue_unthreaded" (the tool runner's), send the turn again
// without thread, with the whole conversation, when a 400 says so. details.unsupported, the
// request fields or settings Threads do not support, is left out: what stands in the way is
// the route, none of those.
func threadUnsupportedBody(typ, msg, requestID string) []byte {
	type details struct {
		ErrorCode string `json:"error_code"`
	}
	type inner struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		Details details `json:"details"`
	}
	body := struct {
		Type      string `json:"type"`
		Error     inner  `json:"error"`
		RequestID string `json:"request_id,omitempty"`
	}{Type: "error", Error: inner{Type: typ, Message: msg, Details: details{ErrorCode: threadUnsupportedCode}}, RequestID: requestID}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return translate.ErrorBody(typ, msg, requestID)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// anthropicWriter is the http.ResponseWriter the chat pipeline writes to on behalf of an
// Anthropic client. The pipeline writes OpenAI: either a chat.completion JSON body, or a
// text/event-stream of chat.completion.chunk data events ending with [DONE] or with an error
// event. A JSON body is kept back for the handler to translate once the pipeline returns. An
// event stream is passed through: its status and headers go to the client at once, and each
// event is transcoded into Anthropic's events as soon as it is complete, each flushed.
//
// The pipeline's error event is not transcoded: its error type is lost in the OpenAI envelope,
// so the handler writes the Anthropic error event from the pipeline's error instead (fail).
//
// An anthropicWriter is used by one goroutine at a time: the request's, or the keepalive's
// timer while it pings (the keepalive hands it back before the request writes again). The
// pings are comments, which become Anthropic's ping events.
type anthropicWriter struct {
	transcoder
	events *translate.AnthropicEvents
	// d is the request's decision, if known. A stream from an upstream that is not Anthropic's
	// reports its input tokens only at its end: its message_start carries the gateway's
	// estimate of the prompt's tokens (d.Features.TokensIn, known once the request is routed,
	// before the stream begins), as Anthropic's message_start carries the count, rather than 0;
	// message_delta then carries the upstream's counts, which Anthropic's SDKs take for the
	// final message.
	d *clearbar.Decision
}

// newAnthropicWriter returns the writer of an Anthropic client's answer on w.
func newAnthropicWriter(w http.ResponseWriter) *anthropicWriter {
	a := &anthropicWriter{}
	a.transcoder = transcoder{w: w, begin: func(out *sse.Writer) {
		a.events = translate.NewAnthropicEvents(out.WriteEvent)
		if a.d != nil && a.d.Features.TokensIn > 0 {
			a.events.InputUsage = &clearbar.Usage{PromptTokens: a.d.Features.TokensIn}
		}
		a.chunk, a.end = a.events.Chunk, a.events.End
		a.ping = func() error { return out.WriteEvent("ping", []byte(`{"type":"ping"}`)) }
	}}
	return a
}

// fail ends the client's stream with Anthropic's error event for a failure after the first
// byte; the error type comes from the failure itself (an Anthropic upstream's overloaded_error
// stays one).
func (a *anthropicWriter) fail(err error) {
	e := clearbar.AsError(err)
	msg := a.failMsg
	if msg == "" {
		msg = fmt.Sprintf("the upstream stream failed after the answer began: %s", e.Message)
	}
	if a.err == nil {
		a.err = a.events.Fail(translate.AnthropicErrorType(e, http.StatusBadGateway), msg)
	}
}

var (
	_ http.ResponseWriter             = (*anthropicWriter)(nil)
	_ interface{ FlushError() error } = (*anthropicWriter)(nil)
)
