package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/retry"
)

// statusFor maps a failure to the HTTP status the client gets. This is the one place where
// failure classes become statuses.
func statusFor(e *clearbar.Error) int {
	switch e.Class {
	case clearbar.ClientError:
		if e.Status >= 400 && e.Status < 500 {
			return e.Status
		}
		return http.StatusBadRequest
	case clearbar.ContextTooLong:
		return http.StatusBadRequest
	case clearbar.ContentPolicy:
		return http.StatusBadRequest
	case clearbar.Auth:
		// An upstream rejecting the gateway's key is the gateway's problem, not the client's.
		if e.Status == 0 {
			return http.StatusUnauthorized
		}
		return http.StatusBadGateway
	case clearbar.RateLimited:
		return http.StatusTooManyRequests
	case clearbar.Overloaded:
		return http.StatusServiceUnavailable
	case clearbar.Timeout:
		return http.StatusGatewayTimeout
	case clearbar.Connection, clearbar.BadResponse, clearbar.StreamCut, clearbar.Quality:
		return http.StatusBadGateway
	case clearbar.Canceled:
		if isShutdownCut(e) {
			return http.StatusServiceUnavailable
		}
		return 499 // client closed request; never seen by the client
	}
	return http.StatusInternalServerError
}

// typeFor returns the OpenAI error type for a failure.
func typeFor(e *clearbar.Error, status int) string {
	if e.Type != "" && e.Class == clearbar.ClientError {
		return e.Type
	}
	switch {
	case e.Class == clearbar.RateLimited:
		return "rate_limit_error"
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status < 500:
		return "invalid_request_error"
	}
	return "server_error"
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// errorJSON renders an error in OpenAI's envelope.
func errorJSON(e *clearbar.Error, status int) []byte {
	code := e.Code
	if code == "" && e.Class != clearbar.ClientError && e.Class != clearbar.OK {
		code = e.Class.String()
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	b, _ := json.Marshal(errorBody{errorObject{Message: msg, Type: typeFor(e, status), Param: nullable(e.Param), Code: nullable(code)}})
	return b
}

// DescribeError says how the gateway answers a request that fails with err, for a person: the
// HTTP status, the error code and param when set, and the message, as in
// "HTTP 404 model_not_found (param model): the model clearbar/x does not exist on this gateway…".
func DescribeError(err error) string {
	e := clearbar.AsError(err)
	status := statusFor(e)
	s := fmt.Sprintf("HTTP %d", status)
	code := e.Code
	if code == "" && e.Class != clearbar.ClientError {
		code = e.Class.String()
	}
	if code != "" {
		s += " " + code
	}
	if e.Param != "" {
		s += " (param " + e.Param + ")"
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	return s + ": " + msg
}

// writeError sends an OpenAI-shaped error, with the retry headers of retryHeaders.
func writeError(w http.ResponseWriter, err error) int {
	e := clearbar.AsError(err)
	status := statusFor(e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	retryHeaders(h, err, e, status)
	w.WriteHeader(status)
	w.Write(errorJSON(e, status))
	return status
}

// retryHeaders sets the retry headers of an error answer, in the terms SDKs understand:
// retry-after-ms and retry-after (capped at 60 s: openai-go gives up entirely above two
// minutes), and x-should-retry when the gateway knows better than the status:
//
//   - a spent quota or budget (Exhausted): x-should-retry: false, since waiting will not help;
//   - a request whose plan the gateway already exhausted (its own retries and fallbacks all
//     failed; see exhaustedError) with a status SDKs would retry: x-should-retry: false, so that
//     the client does not run the whole plan again two more times at once, and retry-after-ms
//     saying when trying again makes sense (the upstream's wait, else DefaultExhaustedRetryAfter);
//   - a request cut because the gateway shut down: retry-after-ms of a second (another replica,
//     or this one restarted, can serve it);
//   - a rate limit or overload the gateway did not retry itself: the upstream's wait, if it
//     gave one, as retry-after-ms and retry-after, and the client's SDK retries by the status.
func retryHeaders(h http.Header, err error, e *clearbar.Error, status int) {
	var ex *exhaustedError
	switch {
	case (e.Class == clearbar.RateLimited || e.Class == clearbar.Overloaded) && e.Exhausted():
		h.Set("X-Should-Retry", "false")
	case isShutdownCut(e):
		// This replica is going away; another (or this one, restarted) can serve the retry.
		setRetryAfter(h, e.RetryAfter)
	case errors.As(err, &ex) && sdkRetries(status):
		h.Set("X-Should-Retry", "false")
		d := retry.ClientRetryAfter(e.RetryAfter)
		if d <= 0 {
			d = DefaultExhaustedRetryAfter
		}
		setRetryAfter(h, d)
	case e.Class == clearbar.RateLimited || e.Class == clearbar.Overloaded:
		if d := retry.ClientRetryAfter(e.RetryAfter); d > 0 {
			setRetryAfter(h, d)
		}
	}
}

func setRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
	h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
}

// sdkRetries reports whether the OpenAI and Anthropic SDKs retry a status on their own: 408,
// 409, 429 and every 5xx.
func sdkRetries(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
}

// DefaultExhaustedRetryAfter is the retry-after-ms of a request whose plan the gateway
// exhausted when no upstream said how long to wait.
const DefaultExhaustedRetryAfter = time.Second

// exhaustedError is the error of a request the gateway tried more than once (retries,
// fallbacks, escalations) without an answer: the client gets the first failure (it wraps
// it), with x-should-retry: false (see retryHeaders).
type exhaustedError struct{ err error }

func (e *exhaustedError) Error() string { return e.err.Error() }
func (e *exhaustedError) Unwrap() error { return e.err }

// exhaustedError wraps err, the error a request ends with after its plan ran out, as an
// exhaustedError when the request made more than one provider call: the gateway already did
// what a client's retries would do.
func (r *run) exhaustedError(err error) error {
	calls := 0
	for i := range r.d.Attempts {
		if a := &r.d.Attempts[i]; !a.ValidatorCall() && a.Class != clearbar.Canceled {
			calls++
		}
	}
	if calls < 2 || clearbar.ClassOf(err) == clearbar.Canceled {
		return err
	}
	return &exhaustedError{err}
}
