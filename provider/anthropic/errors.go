package anthropic

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/translate"
)

// maxMessage bounds an error message taken from an upstream, in bytes.
const maxMessage = 1024

// upstreamError classifies an upstream's error answer (see the package documentation). A 2xx
// status means an error envelope arrived in a success answer: its error type decides, else it
// is BadResponse.
func (p *Provider) upstreamError(a *attempt, status int, h http.Header, body []byte) *clearbar.Error {
	f := translate.ParseError(body)
	class := translate.ClassForAnthropicError(status, f.Type)
	if status >= 200 && status < 300 && !translate.IsAnthropicErrorType(f.Type) {
		class = clearbar.BadResponse
	}
	e := a.Fail(class, status, "", nil)
	e.Type = p.keys.Field(f.Type, keyLike)
	lower := strings.ToLower(f.Message)
	switch {
	case f.Type == translate.ErrBilling || status == http.StatusPaymentRequired || strings.Contains(lower, "credit balance is too low"):
		// The account is out of credit: retrying is useless until someone pays.
		e.Class, e.Code = clearbar.RateLimited, clearbar.CodeQuotaExhausted
	case (class == clearbar.ClientError || class == clearbar.BadResponse) && isContextLength(lower):
		e.Class = clearbar.ContextTooLong
	}
	if e.Code != clearbar.CodeQuotaExhausted {
		e.RetryAfter = min(retry.ParseRetryAfter(h, p.now()), maxRetryAfter)
	}

	msg := p.redact(f.Message)
	if msg == "" {
		msg = fmt.Sprintf("the provider answered %d %s", status, http.StatusText(status))
		if snippet := inflight.TextSnippet(h, body); snippet != "" && !f.Found {
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
	if id := h.Get("Request-Id"); id != "" {
		reqID = " (upstream request id " + inflight.Truncate(id, 128) + ")"
	}
	e.Err = fmt.Errorf("HTTP %d%s: %s", status, reqID, inflight.Truncate(p.redact(string(body)), 512))
	return e
}

// maxRetryAfter bounds a Retry-After value; the retry policy applies its own, smaller cap.
const maxRetryAfter = 24 * time.Hour

// isContextLength reports whether an invalid_request_error says the input does not fit the
// context window ("prompt is too long: 208310 tokens > 200000 maximum").
func isContextLength(lower string) bool {
	for _, s := range []string{"prompt is too long", "context window", "context length", "too many total text bytes"} {
		if strings.Contains(lower, s) {
			return true
		}
	}
	return false
}

// keyLike matches Anthropic and OpenAI style keys, whole or masked, and bearer tokens.
var keyLike = regexp.MustCompile(`sk-[A-Za-z0-9_*\-]{4,}|(?i:bearer)\s+\S+`)

// redact removes the provider's keys, and anything that looks like a key, from s.
func (p *Provider) redact(s string) string {
	return p.keys.Redact(s, keyLike)
}
