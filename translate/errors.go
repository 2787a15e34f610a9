package translate

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// Anthropic's error types (the "type" of the error object in {"type":"error","error":{…}}).
const (
	ErrInvalidRequest  = "invalid_request_error"
	ErrAuthentication  = "authentication_error"
	ErrBilling         = "billing_error"
	ErrPermission      = "permission_error"
	ErrNotFound        = "not_found_error"
	ErrConflict        = "conflict_error"
	ErrRequestTooLarge = "request_too_large"
	ErrRateLimit       = "rate_limit_error"
	ErrAPI             = "api_error"
	ErrTimeout         = "timeout_error"
	ErrOverloaded      = "overloaded_error"
)

// IsAnthropicErrorType reports whether t is one of Anthropic's error types.
func IsAnthropicErrorType(t string) bool {
	switch t {
	case ErrInvalidRequest, ErrAuthentication, ErrBilling, ErrPermission, ErrNotFound, ErrConflict,
		ErrRequestTooLarge, ErrRateLimit, ErrAPI, ErrTimeout, ErrOverloaded:
		return true
	}
	return false
}

// ClassForAnthropicError classifies an Anthropic error answer. The error type decides when it
// names a failure the status alone does not (an overloaded_error arrives as 529, or inside a
// 200 stream); otherwise the status does, as for any upstream (clearbar.ClassForStatus):
//
//	overloaded_error, api_error      Overloaded
//	rate_limit_error, billing_error  RateLimited (billing: the account is out of credit)
//	authentication_error             Auth
//	permission_error                 Auth
//	request_too_large                ContextTooLong
//	timeout_error                    Timeout
//	invalid_request_error            ClientError (the adapter refines "prompt is too long")
//	not_found_error, conflict_error  ClientError
func ClassForAnthropicError(status int, typ string) clearbar.FailureClass {
	switch typ {
	case ErrOverloaded, ErrAPI:
		return clearbar.Overloaded
	case ErrRateLimit, ErrBilling:
		return clearbar.RateLimited
	case ErrAuthentication, ErrPermission:
		return clearbar.Auth
	case ErrRequestTooLarge:
		return clearbar.ContextTooLong
	case ErrTimeout:
		return clearbar.Timeout
	case ErrInvalidRequest, ErrNotFound, ErrConflict:
		if status >= 200 && status < 300 || status >= 500 {
			return clearbar.ClientError
		}
	}
	return clearbar.ClassForStatus(status)
}

// AnthropicErrorType returns the Anthropic error type for a failure the gateway reports with
// the given HTTP status. A rate limit that retrying cannot lift (a spent quota or budget,
// Exhausted) is billing_error, whatever type the upstream's adapter gave it (Gemini's adapter
// types every RESOURCE_EXHAUSTED rate_limit_error). Otherwise a type already set on the error
// wins when it is an Anthropic one (an Anthropic upstream's own, such as overloaded_error
// mid-stream), unless it is the generic invalid_request_error on a status the table below
// types more precisely (a 404 is not_found_error) or on a 5xx (an upstream's refusal of the
// gateway's own credentials, answered 502, is api_error); the class decides for rate limits, overload and timeouts; the status for the
// rest, as Anthropic's table maps them (400
// invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
// 404 not_found_error, 409 conflict_error, 413 request_too_large, 429 rate_limit_error, other
// 4xx invalid_request_error, 5xx api_error).
func AnthropicErrorType(e *clearbar.Error, status int) string {
	if e.Class == clearbar.RateLimited && e.Exhausted() {
		return ErrBilling
	}
	if IsAnthropicErrorType(e.Type) && !(e.Type == ErrInvalidRequest && (specificStatus(status) || status >= 500)) {
		return e.Type
	}
	switch e.Class {
	case clearbar.RateLimited:
		if e.Exhausted() {
			return ErrBilling
		}
		return ErrRateLimit
	case clearbar.Overloaded:
		return ErrOverloaded
	case clearbar.Timeout:
		return ErrTimeout
	case clearbar.ContextTooLong:
		if status == http.StatusRequestEntityTooLarge {
			return ErrRequestTooLarge
		}
		return ErrInvalidRequest
	}
	switch status {
	case http.StatusUnauthorized:
		return ErrAuthentication
	case http.StatusPaymentRequired:
		return ErrBilling
	case http.StatusForbidden:
		return ErrPermission
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusRequestEntityTooLarge:
		return ErrRequestTooLarge
	case http.StatusTooManyRequests:
		return ErrRateLimit
	}
	if status < 500 {
		return ErrInvalidRequest
	}
	return ErrAPI
}

// specificStatus reports whether Anthropic's table gives the status a type of its own, which
// is more precise than a generic invalid_request_error set on the error (the gateway's own 404
// for an unknown model is not_found_error, as Anthropic answers).
func specificStatus(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound,
		http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return true
	}
	return false
}

// ErrorBody renders Anthropic's error envelope:
// {"type":"error","error":{"type":…,"message":…},"request_id":…} (request_id left out when "").
func ErrorBody(typ, message, requestID string) []byte {
	var w jw
	w.open('{')
	w.kstr("type", "error")
	w.key("error")
	w.open('{')
	w.kstr("type", typ)
	w.kstr("message", message)
	w.close('}')
	if requestID != "" {
		w.kstr("request_id", requestID)
	}
	w.close('}')
	return w.b
}

// ErrorFields are the parts of an upstream error object.
type ErrorFields struct {
	Type, Message string
	// Found says the body was JSON with an error object.
	Found bool
}

// ParseError reads an error body in Anthropic's envelope, {"type":"error","error":{"type",
// "message"}}, or in OpenAI's, {"error":{"type","message"}} (some proxies in front of Anthropic
// answer in it), or an error event's data, which is the same envelope. The fields are copies:
// they do not refer to body.
func ParseError(body []byte) ErrorFields {
	root, ok := parseObject(body)
	if !ok {
		return ErrorFields{}
	}
	e := root.Get("error")
	switch {
	case e.IsObject():
		return ErrorFields{Type: strings.Clone(e.Get("type").String()), Message: strings.Clone(e.Get("message").String()), Found: true}
	case e.Type == gjson.String:
		return ErrorFields{Message: strings.Clone(e.Str), Found: true}
	}
	return ErrorFields{}
}

// invalid returns the ClientError of a request that cannot be translated, naming the parameter
// as OpenAI and Anthropic both do (param "messages[2].content[0].type").
func invalid(param, format string, args ...any) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.ClientError, Status: http.StatusBadRequest, Type: ErrInvalidRequest,
		Code: "unsupported_value", Param: param, Message: fmt.Sprintf(format, args...)}
}

// badResponse returns the BadResponse error of an upstream answer that cannot be translated.
func badResponse(format string, args ...any) *clearbar.Error {
	return &clearbar.Error{Class: clearbar.BadResponse, Message: fmt.Sprintf(format, args...)}
}
