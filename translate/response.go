package translate

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/internal/jsonstr"
)

// FinishReason maps an Anthropic stop_reason to an OpenAI finish_reason:
//
//	end_turn, stop_sequence, pause_turn   stop
//	max_tokens                            length
//	model_context_window_exceeded         length
//	tool_use                              tool_calls
//	refusal                               content_filter
//
// anything else (null, a future reason) is stop.
func FinishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	}
	return "stop"
}

// StopReason maps an OpenAI finish_reason to an Anthropic stop_reason: stop → end_turn,
// length → max_tokens, tool_calls and function_call → tool_use, content_filter → refusal,
// anything else → end_turn. OpenAI does not say which stop sequence ended an answer, so
// stop_sequence is never reported.
func StopReason(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

// AnthropicUsage reads an Anthropic usage object in OpenAI's accounting: Anthropic's
// input_tokens excludes the cached tokens, so the prompt is input_tokens +
// cache_creation_input_tokens + cache_read_input_tokens; CachedTokens are the cache reads,
// CacheWriteTokens the cache creations, CacheWrite1hTokens those of them kept for an hour
// (cache_creation.ephemeral_1h_input_tokens); ReasoningTokens come from output_tokens_details
// when the upstream reports them, WebSearches from server_tool_use.web_search_requests.
func AnthropicUsage(u gjson.Result) clearbar.Usage {
	in := u.Get("input_tokens").Int()
	cw := u.Get("cache_creation_input_tokens").Int()
	cr := u.Get("cache_read_input_tokens").Int()
	out := clearbar.Usage{
		PromptTokens:       int(in + cw + cr),
		CompletionTokens:   int(u.Get("output_tokens").Int()),
		CachedTokens:       int(cr),
		CacheWriteTokens:   int(cw),
		CacheWrite1hTokens: int(cacheWrite1h(u, cw)),
		WebSearches:        int(u.Get("server_tool_use.web_search_requests").Int()),
	}
	d := u.Get("output_tokens_details")
	for _, k := range []string{"thinking_tokens", "reasoning_tokens"} {
		if v := d.Get(k); v.Exists() {
			out.ReasoningTokens = int(v.Int())
			break
		}
	}
	return out
}

// cacheWrite1h reads the cache writes kept for an hour from an Anthropic usage object's
// cache_creation, which splits cache_creation_input_tokens (total) by lifetime; the count is
// capped at the total, so that no write bills twice.
func cacheWrite1h(u gjson.Result, total int64) int64 {
	return min(max(u.Get("cache_creation.ephemeral_1h_input_tokens").Int(), 0), max(total, 0))
}

// writeOpenAIUsage writes a usage object in OpenAI's shape: the cache writes as
// prompt_tokens_details.cache_write_tokens, those kept for an hour, when there are any, as
// cache_write_1h_tokens beside them.
func writeOpenAIUsage(w *jw, u clearbar.Usage) {
	w.open('{')
	w.kint("prompt_tokens", int64(u.PromptTokens))
	w.kint("completion_tokens", int64(u.CompletionTokens))
	w.kint("total_tokens", int64(u.Total()))
	w.key("prompt_tokens_details")
	w.open('{')
	w.kint("cached_tokens", int64(u.CachedTokens))
	w.kint("cache_write_tokens", int64(u.CacheWriteTokens))
	if u.CacheWrite1hTokens > 0 {
		w.kint("cache_write_1h_tokens", int64(u.CacheWrite1hTokens))
	}
	w.close('}')
	if u.ReasoningTokens > 0 {
		w.key("completion_tokens_details")
		w.open('{')
		w.kint("reasoning_tokens", int64(u.ReasoningTokens))
		w.close('}')
	}
	w.close('}')
}

// writeAnthropicUsage writes a usage in Anthropic's accounting: the cached tokens are taken
// out of input_tokens again.
func writeAnthropicUsage(w *jw, u clearbar.Usage) {
	w.open('{')
	w.kint("input_tokens", int64(max(u.PromptTokens-u.CachedTokens-u.CacheWriteTokens, 0)))
	w.kint("cache_creation_input_tokens", int64(u.CacheWriteTokens))
	w.kint("cache_read_input_tokens", int64(u.CachedTokens))
	w.kint("output_tokens", int64(u.CompletionTokens))
	w.close('}')
}

// AnswerOptions are the settings of an Anthropic to OpenAI answer translation
// (ToOpenAIAnswer).
type AnswerOptions struct {
	// Created is the document's "created" (Anthropic messages have no timestamp).
	Created int64
	// Native keeps the Anthropic message itself in the document, under AnthropicKey, for an
	// Anthropic client (AnthropicCall.Native): ToAnthropicResponse gives it back as it came,
	// thinking blocks, signatures, citations and stop_sequence included.
	Native bool
	// Functions answers a request that offered the deprecated functions in their form
	// (AnthropicCall.Functions): the first tool_use block is message.function_call {name,
	// arguments} and finish_reason tool_calls is function_call. The request allowed one call.
	Functions bool
}

// ToOpenAIResponse translates an Anthropic message into an OpenAI chat.completion:
// ToOpenAIAnswer with only Created set.
func ToOpenAIResponse(body []byte, created int64) (*clearbar.Response, error) {
	return ToOpenAIAnswer(body, AnswerOptions{Created: created})
}

// ToOpenAIAnswer translates an Anthropic message into an OpenAI chat.completion, returned as
// a clearbar.Response whose Body is the translated document and whose other fields are read
// from it: text blocks joined into the content, tool_use blocks into tool_calls with their
// input as the JSON-string arguments, stop_reason into finish_reason (FinishReason), usage
// into OpenAI's accounting (AnthropicUsage). A text block's web search citations
// (web_search_result_location) become message.annotations, url_citation {url, title,
// start_index, end_index} with the block's span of the content in Unicode code points (end
// exclusive), one per page the block cites. Thinking and server-tool blocks and other
// citations are dropped from the OpenAI form (opt.Native keeps the message whole beside it).
// The message id is kept. The Response does not refer to body.
func ToOpenAIAnswer(body []byte, opt AnswerOptions) (*clearbar.Response, error) {
	root, ok := parseObject(body)
	if !ok {
		return nil, badResponse("the answer is not a JSON object")
	}
	m := members(root, "id", "type", "model", "content", "stop_reason", "usage")
	if t := m["type"].String(); t != "message" || !m["content"].IsArray() {
		return nil, badResponse("the answer is not an Anthropic message (type %q)", t)
	}
	r := &clearbar.Response{ID: strings.Clone(m["id"].String()), Model: strings.Clone(m["model"].String())}
	var (
		text  strings.Builder
		calls jw
		anns  jw
		ch    clearbar.Choice
	)
	hasText, nAnns, runes := false, 0, 0
	calls.open('[')
	m["content"].ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").String() {
		case "text":
			tx := b.Get("text").String()
			text.WriteString(tx)
			hasText = true
			// The block's web search citations annotate its span of the joined content.
			start := runes
			runes += utf8.RuneCountInString(tx)
			if cs := b.Get("citations"); cs.IsArray() {
				var cites []urlCitation
				for _, c := range cs.Array() {
					if uc, ok := webCitation(c); ok {
						cites = addCitation(cites, uc)
					}
				}
				for _, c := range cites {
					if nAnns == 0 {
						anns.open('[')
					}
					writeAnnotation(&anns, c, start, runes)
					nAnns++
				}
			}
		case "tool_use":
			input := b.Get("input")
			args := "{}"
			if input.Exists() && input.Type != gjson.Null {
				args = input.Raw
			}
			tc := clearbar.ToolCall{ID: strings.Clone(b.Get("id").String()), Name: strings.Clone(b.Get("name").String()), Arguments: strings.Clone(args)}
			ch.ToolCalls = append(ch.ToolCalls, tc)
			calls.item()
			calls.open('{')
			calls.kstr("id", tc.ID)
			calls.kstr("type", "function")
			calls.key("function")
			calls.open('{')
			calls.kstr("name", tc.Name)
			calls.kstr("arguments", tc.Arguments)
			calls.close('}')
			calls.close('}')
		}
		return true
	})
	calls.close(']')
	if nAnns > 0 {
		anns.close(']')
	}
	ch.Text = text.String()
	ch.FinishReason = FinishReason(m["stop_reason"].String())
	legacy := opt.Functions && len(ch.ToolCalls) > 0
	if legacy && ch.FinishReason == "tool_calls" {
		ch.FinishReason = "function_call"
	}

	var w jw
	w.b = make([]byte, 0, len(body)+128)
	w.open('{')
	w.kstr("id", r.ID)
	w.kstr("object", "chat.completion")
	w.kint("created", opt.Created)
	w.kstr("model", r.Model)
	w.key("choices")
	w.open('[')
	w.item()
	w.open('{')
	w.kint("index", 0)
	w.key("message")
	w.open('{')
	w.kstr("role", "assistant")
	w.key("content")
	if hasText || len(ch.ToolCalls) == 0 {
		w.str(ch.Text)
	} else {
		w.null()
	}
	w.kraw("refusal", "null")
	if nAnns > 0 {
		w.kraw("annotations", string(anns.b))
	}
	switch {
	case legacy:
		fc := ch.ToolCalls[0]
		w.key("function_call")
		w.open('{')
		w.kstr("name", fc.Name)
		w.kstr("arguments", fc.Arguments)
		w.close('}')
	case len(ch.ToolCalls) > 0:
		w.kraw("tool_calls", string(calls.b))
	}
	w.close('}')
	w.kraw("logprobs", "null")
	w.kstr("finish_reason", ch.FinishReason)
	w.close('}')
	w.close(']')
	if u := m["usage"]; u.IsObject() {
		r.Usage, r.HasUsage = AnthropicUsage(u), true
		w.key("usage")
		writeOpenAIUsage(&w, r.Usage)
	}
	if opt.Native {
		w.kraw(AnthropicKey, string(bytes.TrimSpace(body)))
	}
	w.close('}')
	r.Body = w.b
	r.Choices = []clearbar.Choice{ch}
	return r, nil
}

// ToAnthropicResponse translates an OpenAI chat.completion into an Anthropic message. A
// document that carries an Anthropic message under AnthropicKey (AnswerOptions.Native) is
// answered with that message, as the upstream sent it. Otherwise the message is made of the
// first choice's content (and refusal) as text blocks, its tool_calls as tool_use blocks (the
// arguments must be a JSON object), finish_reason as stop_reason (StopReason), usage in
// Anthropic's accounting. The model is kept, and the id, prefixed msg_ when it is not an
// Anthropic message id already (messageID). Other choices, logprobs,
// annotations, system_fingerprint and service_tier are dropped. The document may nest one
// level deeper than jsonguard.MaxDepth: the wrapped message may be that deep itself.
func ToAnthropicResponse(body []byte) ([]byte, error) {
	root, ok := parseWrapper(body)
	if !ok {
		return nil, badResponse("the answer is not a JSON object")
	}
	m := members(root, "id", "model", "choices", "usage", AnthropicKey)
	if native := m[AnthropicKey]; native.IsObject() && native.Get("type").String() == "message" {
		return []byte(native.Raw), nil // an Anthropic upstream's own message (AnswerOptions.Native)
	}
	var choice gjson.Result
	m["choices"].ForEach(func(_, c gjson.Result) bool {
		if idx := c.Get("index"); !idx.Exists() || idx.Int() == 0 {
			choice = c
			return false
		}
		return true
	})
	if !choice.Exists() {
		return nil, badResponse("the answer has no choices")
	}
	msg := choice.Get("message")
	var w jw
	w.b = make([]byte, 0, len(body)+128)
	w.open('{')
	w.kraw("id", messageID(m["id"]))
	w.kstr("type", "message")
	w.kstr("role", "assistant")
	w.key("model")
	w.strOf(m["model"])
	w.key("content")
	w.open('[')
	c := msg.Get("content")
	switch {
	case c.Type == gjson.String && c.Str != "":
		w.item()
		w.raw(string(textBlock(c.Raw)))
	case c.IsArray():
		c.ForEach(func(_, part gjson.Result) bool {
			typ := part.Get("type").String()
			if v := part.Get(typ); (typ == "text" || typ == "refusal") && v.String() != "" {
				w.item()
				w.raw(string(textBlock(rawString(v))))
			}
			return true
		})
	}
	if r := msg.Get("refusal"); r.Type == gjson.String && r.Str != "" {
		w.item()
		w.raw(string(textBlock(r.Raw)))
	}
	var err error
	msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		args := strings.TrimSpace(tc.Get("function.arguments").String())
		if args == "" {
			args = "{}"
		}
		if jsonguard.CheckString(args) != nil || !gjson.Parse(args).IsObject() {
			err = badResponse("a tool call's arguments are not a JSON object, which Anthropic's format needs")
			return false
		}
		w.item()
		w.open('{')
		w.kstr("type", "tool_use")
		w.key("id")
		w.toolID(tc.Get("id"), openAIToolIDPrefix, anthropicToolIDPrefix)
		w.key("name")
		w.strOf(tc.Get("function.name"))
		w.kraw("input", args)
		w.close('}')
		return true
	})
	if err != nil {
		return nil, err
	}
	w.close(']')
	w.kstr("stop_reason", StopReason(choice.Get("finish_reason").String()))
	w.kraw("stop_sequence", "null")
	w.key("usage")
	var u clearbar.Usage
	if uv := m["usage"]; uv.IsObject() {
		u = OpenAIUsage(uv)
	}
	writeAnthropicUsage(&w, u)
	w.close('}')
	return w.b, nil
}

// messageID returns the Anthropic message id, as a JSON string, of an answer whose id is id:
// the id itself when it already is one (msg_…, as an Anthropic upstream's are), else "msg_"
// and the id (an OpenAI upstream's chatcmpl-…), since Anthropic's message ids all start with
// msg_; "msg_clearbar" when the answer has none.
func messageID(id gjson.Result) string {
	s := id.String()
	switch {
	case s == "":
		return `"msg_clearbar"`
	case strings.HasPrefix(s, "msg_"):
		return strings.Clone(rawString(id))
	}
	return string(jsonstr.Append(nil, "msg_"+s))
}

// OpenAIUsage reads an OpenAI usage object.
func OpenAIUsage(u gjson.Result) clearbar.Usage {
	out := clearbar.Usage{
		PromptTokens:     int(u.Get("prompt_tokens").Int()),
		CompletionTokens: int(u.Get("completion_tokens").Int()),
		CachedTokens:     int(u.Get("prompt_tokens_details.cached_tokens").Int()),
		CacheWriteTokens: int(u.Get("prompt_tokens_details.cache_write_tokens").Int()),
		ReasoningTokens:  int(u.Get("completion_tokens_details.reasoning_tokens").Int()),
	}
	out.CacheWrite1hTokens = int(min(u.Get("prompt_tokens_details.cache_write_1h_tokens").Int(), int64(out.CacheWriteTokens)))
	return out
}
