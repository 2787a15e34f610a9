package openai

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/tidwall/gjson"
)

// parseResponse reads a 2xx chat completion. The Response keeps data as its Body, and its
// strings point into data, which must not change afterwards. It reads the document in one pass
// over the top-level keys rather than a lookup per field. A call in the deprecated form
// (message.function_call, the answer to a request's functions) is one of the choice's
// ToolCalls, without an ID, so that validators judge it as any other call. An answer nesting
// arrays and objects more than jsonguard.MaxDepth levels deep, in itself or in a call's
// arguments (which validators and translators parse), is BadResponse: recursive parsers must
// not meet it.
func (p *Provider) parseResponse(a *attempt, resp *http.Response, data []byte) (*clearbar.Response, *clearbar.Error) {
	if msg := jsonFailure(data, "the answer"); msg != "" {
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, msg, nil)
	}
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the answer is not a JSON object", nil)
	}
	r := &clearbar.Response{Body: data, UpstreamRequestID: resp.Header.Get("X-Request-Id")}
	var choices, usage gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			r.ID = v.String()
		case "model":
			r.Model = v.String()
		case "choices":
			choices = v
		case "usage":
			usage = v
		}
		return true
	})
	if !choices.IsArray() {
		// Some servers answer errors with a 2xx status.
		if parseErrorBody(data).found {
			return nil, p.upstreamError(a, resp.StatusCode, resp.Header, data)
		}
		return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, "the answer has no choices", nil)
	}
	choices.ForEach(func(_, c gjson.Result) bool {
		var ch clearbar.Choice
		c.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "index":
				ch.Index = int(v.Int())
			case "finish_reason":
				ch.FinishReason = v.String()
			case "message":
				v.ForEach(func(mk, mv gjson.Result) bool {
					switch mk.Str {
					case "content":
						ch.Text = content(mv)
					case "refusal":
						ch.Refusal = mv.String()
					case "tool_calls":
						mv.ForEach(func(_, tc gjson.Result) bool {
							ch.ToolCalls = append(ch.ToolCalls, clearbar.ToolCall{
								ID:        tc.Get("id").String(),
								Name:      tc.Get("function.name").String(),
								Arguments: tc.Get("function.arguments").String(),
							})
							return true
						})
					case "function_call":
						if mv.IsObject() {
							ch.ToolCalls = append(ch.ToolCalls, clearbar.ToolCall{
								Name:      mv.Get("name").String(),
								Arguments: mv.Get("arguments").String(),
							})
						}
					}
					return true
				})
			}
			return true
		})
		r.Choices = append(r.Choices, ch)
		return true
	})
	for _, ch := range r.Choices {
		for _, c := range ch.ToolCalls {
			if jsonguard.TooDeepString(c.Arguments, jsonguard.MaxDepth) {
				return nil, a.Fail(clearbar.BadResponse, resp.StatusCode, tooDeepArguments, nil)
			}
		}
	}
	if usage.IsObject() {
		r.Usage, r.HasUsage = parseUsage(usage), true
		requestedSearch(a.Call).count(&r.Usage, r.Model)
	}
	return r, nil
}

// webSearch is the web search a chat completion request asked for, which OpenAI bills per
// call: web_search_options, and its search_context_size ("low", "medium", "high"), which sets
// the price.
type webSearch struct {
	asked bool
	size  string
}

// requestedSearch reads the web search a call's request asks for.
func requestedSearch(call *clearbar.Call) webSearch {
	if call == nil || call.Request == nil {
		return webSearch{}
	}
	wso := gjson.GetBytes(call.Request.Body, "web_search_options")
	if !wso.IsObject() {
		return webSearch{}
	}
	return webSearch{asked: true, size: wso.Get("search_context_size").Str}
}

// count adds the call's search to a usage: one search for a chat completion that asked for
// one with web_search_options, or that a search model answered (gpt-4o-search-preview and
// its kin: a served model named "…-search-…"), since a search model searches before every
// answer and OpenAI bills each such call once. OpenAI's usage does not say whether it
// searched, so this count is the billing rule applied to the request, not a reported count.
func (w webSearch) count(u *clearbar.Usage, model string) {
	if !w.asked && !strings.Contains(model, "-search-") {
		return
	}
	u.WebSearches = max(u.WebSearches, 1)
	u.WebSearchContext = w.size
}

// tooDeepArguments is the failure of an answer whose tool-call arguments nest too deep.
var tooDeepArguments = jsonguard.Describe(jsonguard.ErrTooDeep, "a tool call's arguments")

// jsonFailure checks the JSON of an answer or a stream chunk or event (what names it) before
// gjson reads it: "" when it is valid and nested at most jsonguard.MaxDepth levels deep
// (deeper nesting would exhaust the stack of gjson's validator and end the process), else the
// failure in jsonguard.Describe's words.
func jsonFailure(data []byte, what string) string {
	return jsonguard.Describe(jsonguard.Check(data), what)
}

// content returns a message's text: a string, or the text parts of a content array joined
// (some servers answer with parts).
func content(c gjson.Result) string {
	if !c.IsArray() {
		return c.String()
	}
	var parts []string
	c.ForEach(func(_, part gjson.Result) bool {
		if t := part.Get("text"); t.Exists() {
			parts = append(parts, t.String())
		}
		return true
	})
	return strings.Join(parts, "\n")
}

// parseUsage reads an OpenAI usage object. Cached tokens also come from DeepSeek's
// prompt_cache_hit_tokens when prompt_tokens_details is absent.
func parseUsage(u gjson.Result) clearbar.Usage {
	out := clearbar.Usage{
		PromptTokens:     int(u.Get("prompt_tokens").Int()),
		CompletionTokens: int(u.Get("completion_tokens").Int()),
		CachedTokens:     int(u.Get("prompt_tokens_details.cached_tokens").Int()),
		CacheWriteTokens: int(u.Get("prompt_tokens_details.cache_write_tokens").Int()),
		ReasoningTokens:  int(u.Get("completion_tokens_details.reasoning_tokens").Int()),
	}
	if out.CachedTokens == 0 {
		out.CachedTokens = int(u.Get("prompt_cache_hit_tokens").Int())
	}
	// Part of the cache writes (as a Clearbar gateway upstream reports them).
	out.CacheWrite1hTokens = int(min(u.Get("prompt_tokens_details.cache_write_1h_tokens").Int(), int64(out.CacheWriteTokens)))
	// A count below zero (a broken upstream's) counts as none.
	for _, n := range []*int{&out.PromptTokens, &out.CompletionTokens, &out.CachedTokens, &out.CacheWriteTokens, &out.CacheWrite1hTokens, &out.ReasoningTokens} {
		*n = max(*n, 0)
	}
	return out
}

// checkStreamType rejects a 2xx answer to a stream request that is plainly not an event
// stream: JSON (a server that ignored "stream": true, or an error object) or HTML (a captive
// portal or proxy page). Other types are read as events, since some servers label their
// streams loosely.
func (p *Provider) checkStreamType(a *attempt, resp *http.Response) *clearbar.Error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/html" {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	if err != nil {
		return a.TransportError(err, "reading the answer")
	}
	if f := parseErrorBody(data); f.found {
		return p.upstreamError(a, resp.StatusCode, resp.Header, data)
	}
	return a.Fail(clearbar.BadResponse, resp.StatusCode, "the provider answered a stream request with "+mt+", not an event stream", nil)
}
