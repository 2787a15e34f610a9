package openai

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/retry"
	"github.com/tidwall/gjson"
)

// maxMessage bounds an error message taken from an upstream, in bytes.
const maxMessage = 1024

// errorFields are the parts of an upstream error body, whatever its shape.
type errorFields struct {
	message, typ, code, param string
	// numCode is a numeric code (llama.cpp, OpenRouter, Gemini, old vLLM), usually an HTTP
	// status; 0 when the code was a string or absent.
	numCode int
	// found says the body was JSON in a known error shape.
	found bool
}

// parseErrorBody reads an error body in any of the shapes upstreams use:
//
//	{"error": {"message", "type", "param", "code"}}     OpenAI, Azure, Anthropic, Gemini, new vLLM
//	{"error": "text"}                                   some proxies
//	{"object": "error", "message", "type", "code": 400} vLLM before mid-2025
//	{"detail": "text" | [{"loc", "msg"}] | {…}}         FastAPI servers
func parseErrorBody(body []byte) errorFields {
	var f errorFields
	if jsonguard.Check(body) != nil {
		return f
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return f
	}
	fill := func(o gjson.Result) {
		f.found = true
		f.message = o.Get("message").String()
		f.typ = o.Get("type").String()
		if st := o.Get("status"); f.typ == "" && st.Type == gjson.String {
			f.typ = st.Str // Gemini: "RESOURCE_EXHAUSTED"
		}
		switch c := o.Get("code"); c.Type {
		case gjson.String:
			f.code = c.Str
		case gjson.Number:
			f.numCode = int(c.Int())
		}
		if p := o.Get("param"); p.Type == gjson.String {
			f.param = p.Str
		}
	}
	e := root.Get("error")
	switch {
	case e.IsObject():
		fill(e)
	case e.Type == gjson.String:
		f.found, f.message = true, e.Str
	case root.Get("object").Str == "error" || root.Get("message").Exists():
		fill(root)
	case root.Get("detail").Exists():
		f.found = true
		d := root.Get("detail")
		switch {
		case d.IsArray():
			var parts []string
			d.ForEach(func(_, item gjson.Result) bool {
				msg := item.Get("msg").String()
				if loc := item.Get("loc"); loc.IsArray() {
					var path []string
					loc.ForEach(func(_, l gjson.Result) bool { path = append(path, l.String()); return true })
					msg = strings.Join(path, ".") + ": " + msg
				}
				parts = append(parts, msg)
				return true
			})
			f.message = strings.Join(parts, "; ")
		case d.IsObject():
			fill(d)
			if f.message == "" {
				f.message = d.Raw
			}
		default:
			f.message = d.String()
		}
	}
	return f
}

// upstreamError classifies an upstream's error answer. A 2xx status means an error object
// arrived in a success answer: it is BadResponse unless its numeric code names a status.
func (p *Provider) upstreamError(a *attempt, status int, h http.Header, body []byte) *clearbar.Error {
	f := parseErrorBody(body)
	class := clearbar.ClassForStatus(status)
	if status >= 200 && status < 300 {
		class = clearbar.BadResponse
		if f.numCode >= 400 && f.numCode < 600 {
			class = clearbar.ClassForStatus(f.numCode)
		}
	}
	e := a.Fail(class, status, "", nil)
	e.Type, e.Code, e.Param = p.field(f.typ), p.field(f.code), p.field(f.param)
	switch {
	case f.code == CodeInsufficientQuota || f.typ == CodeInsufficientQuota || status == http.StatusPaymentRequired:
		e.Class, e.Code = clearbar.RateLimited, CodeInsufficientQuota
	case (class == clearbar.ClientError || class == clearbar.BadResponse) && isContentPolicy(f):
		e.Class = clearbar.ContentPolicy
	case (class == clearbar.ClientError || class == clearbar.BadResponse) && isContextLength(f):
		e.Class = clearbar.ContextTooLong
	}
	if e.Code != CodeInsufficientQuota {
		e.RetryAfter = min(retry.ParseRetryAfter(h, p.now()), maxRetryAfter)
	}

	msg := p.redact(f.message)
	if msg == "" {
		msg = fmt.Sprintf("the provider answered %d %s", status, http.StatusText(status))
		if snippet := inflight.TextSnippet(h, body); snippet != "" && !f.found {
			msg += ": " + p.redact(snippet)
		} else if len(strings.TrimSpace(string(body))) == 0 {
			msg += " with an empty body"
		}
	}
	if e.Class == clearbar.Auth {
		// Say whose credentials: a client must not think its own key was wrong.
		msg = "the provider rejected the gateway's credentials: " + msg
	}
	e.Message = inflight.Truncate(msg, maxMessage)
	reqID := ""
	if id := h.Get("X-Request-Id"); id != "" {
		reqID = " (upstream request id " + inflight.Truncate(id, 128) + ")"
	}
	e.Err = fmt.Errorf("HTTP %d%s: %s", status, reqID, inflight.Truncate(p.redact(string(body)), 512))
	return e
}

// isContextLength reports whether an error says the input does not fit the context window.
func isContextLength(f errorFields) bool {
	if f.code == "context_length_exceeded" || f.typ == "context_length_exceeded" || f.typ == "exceed_context_size_error" {
		return true
	}
	m := strings.ToLower(f.message)
	for _, s := range []string{"maximum context length", "context length", "context_length", "context window", "context size", "prompt is too long"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isContentPolicy reports whether an error is a content-policy refusal (OpenAI's
// content_policy_violation, Azure's content_filter).
func isContentPolicy(f errorFields) bool {
	for _, s := range []string{f.code, f.typ} {
		s = strings.ToLower(s)
		if strings.Contains(s, "content_filter") || strings.Contains(s, "content_policy") {
			return true
		}
	}
	return false
}

// maxRetryAfter bounds a Retry-After value; the retry policy applies its own, smaller cap.
const maxRetryAfter = 24 * time.Hour

// keyLike matches OpenAI-style keys, whole or masked ("sk-proj-****abcd"), and bearer tokens.
var keyLike = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{4,}|(?i:bearer)\s+\S+`)

// redact removes the provider's keys, and anything that looks like a key, from s.
func (p *Provider) redact(s string) string {
	return p.keys.Redact(s, keyLike)
}

// field returns an upstream error's type, code or param to pass on to the client: as it is
// when it is shaped like one and holds nothing redact would remove, else "" (an upstream may
// echo the key it was sent in any of them).
func (p *Provider) field(s string) string {
	return p.keys.Field(s, keyLike)
}
