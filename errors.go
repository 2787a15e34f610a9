package clearbar

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// FailureClass is the closed set of reasons a call can fail. Every error is classified once,
// where it happens, and each class has one action: the policy lives on the type, so retries
// and fallbacks are never decided from a bare status code.
type FailureClass uint8

// Failure classes. Provider failures say the upstream did not deliver; quality failures (added
// by validators) say it delivered something unusable; client errors say the request itself is
// wrong.
const (
	// OK is the zero value: no failure.
	OK FailureClass = iota
	// ClientError: the request is invalid (400, 404, 422 upstream, or rejected by the gateway).
	ClientError
	// Auth: the upstream rejected the credentials (401, 403).
	Auth
	// RateLimited: the upstream asked us to slow down (429); RetryAfter says for how long.
	RateLimited
	// Overloaded: the upstream is temporarily unable to serve (500, 502, 503, 529).
	Overloaded
	// Timeout: the call or its first token took longer than allowed (408, 504, deadlines).
	Timeout
	// Connection: no usable connection (refused, reset, DNS); the request may never have
	// reached the upstream.
	Connection
	// ContextTooLong: the input does not fit the model's context window.
	ContextTooLong
	// ContentPolicy: the upstream refused on content-policy grounds.
	ContentPolicy
	// BadResponse: the upstream answered with something unreadable (malformed JSON or SSE,
	// missing fields, an unexpected status).
	BadResponse
	// StreamCut: a stream ended before its terminator or reported an error mid-way.
	StreamCut
	// Canceled: the client went away. Not the upstream's fault: never counted against it.
	Canceled
	// Quality: the answer arrived but failed validation.
	Quality
	// Internal: a fault in Clearbar itself.
	Internal
)

var classNames = [...]string{
	OK: "ok", ClientError: "client_error", Auth: "auth", RateLimited: "rate_limited",
	Overloaded: "overloaded", Timeout: "timeout", Connection: "connection",
	ContextTooLong: "context_too_long", ContentPolicy: "content_policy",
	BadResponse: "bad_response", StreamCut: "stream_cut", Canceled: "canceled",
	Quality: "quality", Internal: "internal",
}

// FailureClasses lists every class, for metrics and exhaustive tests.
func FailureClasses() []FailureClass {
	out := make([]FailureClass, 0, len(classNames))
	for c := range classNames {
		out = append(out, FailureClass(c))
	}
	return out
}

func (c FailureClass) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", c)
}

// MarshalText implements encoding.TextMarshaler.
func (c FailureClass) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *FailureClass) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = FailureClass(i)
			return nil
		}
	}
	return fmt.Errorf("unknown failure class %q", b)
}

// Action is what the gateway does about a failure.
type Action uint8

// Actions.
const (
	// Fail ends the request with the error.
	Fail Action = iota
	// RetrySame tries the same model again after a backoff (honouring Retry-After), within
	// the request's retry budget, and falls back when the budget is spent.
	RetrySame
	// RotateKey tries the same model with the provider's next key, then falls back.
	RotateKey
	// FallBack moves to the next model of the failover chain.
	FallBack
	// Escalate moves to the next step of a cascade.
	Escalate
)

var actionNames = [...]string{Fail: "fail", RetrySame: "retry_same", RotateKey: "rotate_key", FallBack: "fall_back", Escalate: "escalate"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// Action returns the class's action.
func (c FailureClass) Action() Action {
	switch c {
	case RateLimited, Overloaded, Connection:
		return RetrySame
	case Auth:
		return RotateKey
	case Timeout, ContextTooLong, BadResponse, StreamCut:
		return FallBack
	case Quality:
		return Escalate
	}
	// OK, ClientError, ContentPolicy, Canceled, Internal.
	return Fail
}

// IsProviderFailure reports whether the class counts against the upstream's health (circuit
// breakers, availability): client errors, cancellations, quality failures and Clearbar's own
// faults do not.
func (c FailureClass) IsProviderFailure() bool {
	switch c {
	case RateLimited, Overloaded, Timeout, Connection, BadResponse, StreamCut, Auth:
		return true
	}
	return false
}

// Codes of errors that retrying cannot fix: an account out of credit (OpenAI's
// "insufficient_quota", a 402) or a budget Clearbar enforces. They are RateLimited, but the
// gateway falls back at once instead of retrying, and tells clients not to retry.
const (
	CodeQuotaExhausted = "insufficient_quota"
	CodeBudgetExceeded = "budget_exceeded"
	// CodeUnsupportedLocation: the upstream does not serve the API where the gateway runs
	// (Gemini's "User location is not supported"). It is Overloaded, the upstream unable to
	// serve, but no retry lifts it: the gateway falls back at once, as for a spent quota.
	CodeUnsupportedLocation = "unsupported_location"
)

// Error is Clearbar's one error type for failed calls and rejected requests.
type Error struct {
	Class FailureClass
	// Status is the upstream's HTTP status, or 0.
	Status int
	// Message is safe to show a client: it never contains credentials.
	Message string
	// Type, Code and Param are the OpenAI error fields to report, when known.
	Type, Code, Param string
	// RetryAfter is how long the upstream asked us to wait (0 when it did not say).
	RetryAfter time.Duration
	// Usage is what the failed call consumed, when the upstream reported it: an answer
	// blocked on content-policy grounds is still billed.
	Usage Usage
	// Provider and Model name the upstream that failed, when one did.
	Provider, Model string
	// Err is the underlying cause, for logs; it is not shown to clients.
	Err error
}

func (e *Error) Error() string {
	s := e.Class.String()
	if e.Provider != "" || e.Model != "" {
		s += " from " + e.Provider + "/" + e.Model
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (status %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Exhausted reports whether the error says an account or budget is spent, or that the
// upstream does not serve the gateway's location: waiting a few seconds will not help, so the
// same upstream is not retried.
func (e *Error) Exhausted() bool {
	return e.Code == CodeQuotaExhausted || e.Code == CodeBudgetExceeded || e.Code == CodeUnsupportedLocation
}

// Errorf returns an *Error of the given class with a formatted, client-safe message.
func Errorf(class FailureClass, format string, args ...any) *Error {
	return &Error{Class: class, Message: fmt.Sprintf(format, args...)}
}

// ClassOf classifies any error: an *Error's class, Canceled for context.Canceled, Timeout for
// context.DeadlineExceeded, Internal otherwise. A nil error is OK.
func ClassOf(err error) FailureClass {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	return Internal
}

// AsError returns err as an *Error, classifying it with ClassOf if it is not one.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Class: ClassOf(err), Message: "internal error", Err: err}
}

// ClassForStatus classifies an upstream HTTP status. Bodies can refine it (a 400 whose code is
// context_length_exceeded is ContextTooLong); see the adapters.
func ClassForStatus(status int) FailureClass {
	switch {
	case status >= 200 && status < 300:
		return OK
	case status == 401 || status == 403:
		return Auth
	case status == 408 || status == 504:
		return Timeout
	case status == 429:
		return RateLimited
	case status == 413:
		return ContextTooLong
	case status >= 500:
		return Overloaded
	case status >= 400:
		return ClientError
	}
	return BadResponse
}
