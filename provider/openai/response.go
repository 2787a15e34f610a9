package openai

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
)

// parseResponse reads a 2xx chat completion. The Response keeps data as its Body.
func (p *Provider) parseResponse(a *attempt, resp *http.Response, data []byte) (*clearbar.Response, *clearbar.Error) {
	if !gjson.ValidBytes(data) {
		return nil, a.fail(clearbar.BadResponse, resp.StatusCode, "the answer is not valid JSON", nil)
	}
	root := gjson.ParseBytes(data)
	if !root.IsObject() {
		return nil, a.fail(clearbar.BadResponse, resp.StatusCode, "the answer is not a JSON object", nil)
	}
	choices := root.Get("choices")
	if !choices.IsArray() {
		// Some servers answer errors with a 2xx status.
		if parseErrorBody(data).found {
			return nil, p.upstreamError(a, resp.StatusCode, resp.Header, data)
		}
		return nil, a.fail(clearbar.BadResponse, resp.StatusCode, "the answer has no choices", nil)
	}
	r := &clearbar.Response{
		Body:              data,
		ID:                root.Get("id").String(),
		Model:             root.Get("model").String(),
		UpstreamRequestID: resp.Header.Get("X-Request-Id"),
	}
	choices.ForEach(func(_, c gjson.Result) bool {
		msg := c.Get("message")
		ch := clearbar.Choice{
			Index:        int(c.Get("index").Int()),
			Text:         content(msg.Get("content")),
			Refusal:      msg.Get("refusal").String(),
			FinishReason: c.Get("finish_reason").String(),
		}
		msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			ch.ToolCalls = append(ch.ToolCalls, clearbar.ToolCall{
				ID:        tc.Get("id").String(),
				Name:      tc.Get("function.name").String(),
				Arguments: tc.Get("function.arguments").String(),
			})
			return true
		})
		r.Choices = append(r.Choices, ch)
		return true
	})
	if u := root.Get("usage"); u.IsObject() {
		r.Usage, r.HasUsage = parseUsage(u), true
	}
	return r, nil
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
		return a.transportError(err, "reading the answer")
	}
	if f := parseErrorBody(data); f.found {
		return p.upstreamError(a, resp.StatusCode, resp.Header, data)
	}
	return a.fail(clearbar.BadResponse, resp.StatusCode, "the provider answered a stream request with "+mt+", not an event stream", nil)
}
