package gemini

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

// errorFields are the parts of a Gemini error body.
type errorFields struct {
	message string
	// status is the google.rpc.Code name ("RESOURCE_EXHAUSTED"); code the numeric code, which
	// Gemini sets to the HTTP status.
	status string
	code   int
	// retryDelay is RetryInfo.retryDelay; reasons are the ErrorInfo reasons; perDay says a
	// QuotaFailure names a per-day quota.
	retryDelay time.Duration
	reasons    []string
	perDay     bool
	// found says the body was JSON in a known error shape.
	found bool
}

// parseErrorBody reads an error body in the shapes Gemini and the proxies in front of it use:
//
//	{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED", "details": [...]}}
//	[{"error": {...}}]                 streamGenerateContent without alt=sse
//	{"error": "text"}                  some proxies
//	{"message": "text"}                others
func parseErrorBody(body []byte) errorFields {
	var f errorFields
	if jsonguard.Check(body) != nil {
		return f
	}
	root := gjson.ParseBytes(body)
	if root.IsArray() {
		root = root.Get("0")
	}
	if !root.IsObject() {
		return f
	}
	e := root.Get("error")
	switch {
	case e.IsObject():
		f.found = true
		f.message = e.Get("message").String()
		f.status = e.Get("status").String()
		f.code = int(e.Get("code").Int())
		e.Get("details").ForEach(func(_, d gjson.Result) bool {
			switch typ := d.Get("@type").String(); {
			case strings.HasSuffix(typ, "google.rpc.RetryInfo"):
				if v, err := time.ParseDuration(d.Get("retryDelay").String()); err == nil && v > 0 {
					f.retryDelay = v
				}
			case strings.HasSuffix(typ, "google.rpc.ErrorInfo"):
				f.reasons = append(f.reasons, d.Get("reason").String())
			case strings.HasSuffix(typ, "google.rpc.QuotaFailure"):
				d.Get("violations").ForEach(func(_, v gjson.Result) bool {
					f.perDay = f.perDay || strings.Contains(v.Get("quotaId").String(), "PerDay")
					return true
				})
			}
			return true
		})
	case e.Type == gjson.String:
		f.found, f.message = true, e.Str
	case root.Get("message").Type == gjson.String:
		f.found, f.message = true, root.Get("message").Str
	}
	return f
}

// statusClasses maps google.rpc.Code names to failure classes; INVALID_ARGUMENT is refined by
// upstreamError.
var statusClasses = map[string]clearbar.FailureClass{
	"INVALID_ARGUMENT":    clearbar.ClientError,
	"FAILED_PRECONDITION": clearbar.ClientError,
	"OUT_OF_RANGE":        clearbar.ClientError,
	"NOT_FOUND":           clearbar.ClientError,
	"ALREADY_EXISTS":      clearbar.ClientError,
	"UNIMPLEMENTED":       clearbar.ClientError,
	"PERMISSION_DENIED":   clearbar.Auth,
	"UNAUTHENTICATED":     clearbar.Auth,
	"RESOURCE_EXHAUSTED":  clearbar.RateLimited,
	"UNAVAILABLE":         clearbar.Overloaded,
	"INTERNAL":            clearbar.Overloaded,
	"UNKNOWN":             clearbar.Overloaded,
	"ABORTED":             clearbar.Overloaded,
	"DATA_LOSS":           clearbar.Overloaded,
	"CANCELLED":           clearbar.Overloaded,
	"DEADLINE_EXCEEDED":   clearbar.Timeout,
}

// openAIType returns the OpenAI error type for a class, for clients that read it.
func openAIType(c clearbar.FailureClass, status string) string {
	switch {
	case c == clearbar.RateLimited:
		return "rate_limit_error"
	case status == "PERMISSION_DENIED":
		return "permission_error"
	case c == clearbar.Auth:
		return "authentication_error"
	case c == clearbar.ClientError || c == clearbar.ContextTooLong || c == clearbar.ContentPolicy:
		return "invalid_request_error"
	}
	return "server_error"
}

// upstreamError classifies an error answer. A 2xx status means an error object arrived in a
// success answer: it is classified by its own status, else BadResponse.
func (p *Provider) upstreamError(a *attempt, status int, h http.Header, body []byte) *clearbar.Error {
	f := parseErrorBody(body)
	class, known := statusClasses[f.status]
	if !known {
		class = clearbar.ClassForStatus(status)
		if status >= 200 && status < 300 {
			class = clearbar.BadResponse
			if f.code >= 400 && f.code < 600 {
				class = clearbar.ClassForStatus(f.code)
			}
		}
	}
	e := a.Fail(class, status, "", nil)
	switch {
	case isKeyRejected(f):
		e.Class = clearbar.Auth
	case (class == clearbar.ClientError || class == clearbar.BadResponse) && isContextLength(f.message):
		e.Class, e.Code = clearbar.ContextTooLong, "context_length_exceeded"
	case class == clearbar.RateLimited && f.perDay:
		e.Code = clearbar.CodeQuotaExhausted
	case f.status == "FAILED_PRECONDITION" && isLocationUnsupported(f.message):
		// Gemini does not serve the API from the gateway's location: the request is fine, and
		// another provider may serve it; no retry lifts it.
		e.Class, e.Code = clearbar.Overloaded, clearbar.CodeUnsupportedLocation
	case f.status == "FAILED_PRECONDITION" && isBillingPrecondition(f.message):
		// The project cannot use the API until billing is enabled ("free tier is not
		// available in your country"): the account's problem, not the request's, and no
		// retry lifts it; fall back, as for a spent quota.
		e.Class, e.Code = clearbar.RateLimited, clearbar.CodeQuotaExhausted
	}
	e.Type = openAIType(e.Class, f.status)
	if e.Code == "" && f.status != "" {
		e.Code = p.keys.Field(strings.ToLower(f.status), keyLike)
	}
	if e.Code != clearbar.CodeQuotaExhausted {
		e.RetryAfter = min(retry.ParseRetryAfter(h, p.now()), maxRetryAfter)
		if e.RetryAfter == 0 {
			e.RetryAfter = min(f.retryDelay, maxRetryAfter)
		}
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
	switch {
	case e.Class == clearbar.Auth:
		msg = "the provider rejected the gateway's credentials: " + msg
	case e.Code == clearbar.CodeUnsupportedLocation:
		msg = "Gemini does not serve the API from the gateway's location (" + msg + "); the request goes to another provider where the route has one: run the gateway in a region Gemini serves, or route to another provider"
	}
	e.Message = inflight.Truncate(msg, maxMessage)
	e.Err = fmt.Errorf("HTTP %d: %s", status, inflight.Truncate(p.redact(string(body)), 512))
	return e
}

// isKeyRejected reports whether an error says the API key is invalid or expired: Gemini
// answers those with 400 INVALID_ARGUMENT, not 401.
func isKeyRejected(f errorFields) bool {
	for _, r := range f.reasons {
		if r == "API_KEY_INVALID" || r == "API_KEY_EXPIRED" {
			return true
		}
	}
	m := strings.ToLower(f.message)
	return strings.Contains(m, "api key not valid") || strings.Contains(m, "api key expired")
}

// isContextLength reports whether an error says the input is over the model's token limit.
func isContextLength(msg string) bool {
	m := strings.ToLower(msg)
	for _, s := range []string{"input token count", "exceeds the maximum number of tokens", "too many tokens", "context length", "context window"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// maxRetryAfter bounds a Retry-After value; the retry policy applies its own, smaller cap.
const maxRetryAfter = 24 * time.Hour

// keyLike matches Google API keys ("AIza" and 35 more characters) and bearer tokens.
var keyLike = regexp.MustCompile(`AIza[0-9A-Za-z_\-]{20,}|(?i:bearer)\s+\S+`)

// redact removes the provider's keys, and anything that looks like a key, from s.
func (p *Provider) redact(s string) string {
	return p.keys.Redact(s, keyLike)
}

// isLocationUnsupported reports whether a FAILED_PRECONDITION message says Gemini does not
// serve the API where the caller is ("User location is not supported for the API use.").
func isLocationUnsupported(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "location is not supported")
}

// isBillingPrecondition reports whether a FAILED_PRECONDITION message says the project needs
// billing, which Gemini answers where its free tier is not offered.
func isBillingPrecondition(msg string) bool {
	lower := strings.ToLower(msg)
	return strings.Contains(lower, "billing") || strings.Contains(lower, "free tier")
}
