package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/internal/errfield"
	"github.com/clearbar/clearbar/retry"
	"github.com/clearbar/clearbar/route"
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
	if t := relayed(e, e.Type); t != "" && e.Class == clearbar.ClientError {
		return t
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

// relayed returns v, the type, code or param of e, as a client may see it: a field an upstream
// wrote (e names a provider) only when errfield.Safe passes it, else "". Adapters remove their
// own keys from these fields with the same rule (inflight's Keys.Field); this is the gateway's
// last check, for any adapter.
func relayed(e *clearbar.Error, v string) string {
	if e.Provider != "" && !errfield.Safe(v) {
		return ""
	}
	return v
}

// errorJSON renders an error in OpenAI's envelope.
func errorJSON(e *clearbar.Error, status int) []byte {
	code := relayed(e, e.Code)
	if code == "" && e.Class != clearbar.ClientError && e.Class != clearbar.OK {
		code = e.Class.String()
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	b, _ := json.Marshal(errorBody{errorObject{Message: msg, Type: typeFor(e, status), Param: nullable(relayed(e, e.Param)), Code: nullable(code)}})
	return b
}

// DescribeError says how the gateway answers a request that fails with err, for a person: the
// HTTP status, the error code and param when set, and the message, as in
// "HTTP 404 model_not_found (param model): the model clearbar/x does not exist on this gateway…".
func DescribeError(err error) string {
	e := clearbar.AsError(err)
	status := statusFor(e)
	s := fmt.Sprintf("HTTP %d", status)
	code := relayed(e, e.Code)
	if code == "" && e.Class != clearbar.ClientError {
		code = e.Class.String()
	}
	if code != "" {
		s += " " + code
	}
	if param := relayed(e, e.Param); param != "" {
		s += " (param " + param + ")"
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
//     saying when trying again makes sense (the upstream's wait, else, when every candidate was
//     left out for its circuit breaker, when the first of those lets a call through, else
//     DefaultExhaustedRetryAfter);
//   - a request whose every candidate was left out for its circuit breaker (the plan failed
//     open on one of them, or called none; see breakersOpenError) with a status SDKs would
//     retry: retry-after-ms saying when the first of those breakers lets a call through (or
//     the upstream's wait, if longer), so that the client does not retry into the open breaker;
//   - a request cut because the gateway shut down: retry-after-ms of a second (another replica,
//     or this one restarted, can serve it);
//   - a rate limit or overload the gateway did not retry itself: the upstream's wait, if it
//     gave one, as retry-after-ms and retry-after, and the client's SDK retries by the status;
//     a client key over its rate_limit (a client error with status 429): when its next
//     request is allowed.
func retryHeaders(h http.Header, err error, e *clearbar.Error, status int) {
	var ex *exhaustedError
	var open *breakersOpenError
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
			d = retry.ClientRetryAfter(ex.breakerWait)
		}
		if d <= 0 {
			d = DefaultExhaustedRetryAfter
		}
		setRetryAfter(h, d)
	case errors.As(err, &open) && sdkRetries(status):
		setRetryAfter(h, retry.ClientRetryAfter(max(e.RetryAfter, open.wait)))
	case e.Class == clearbar.RateLimited || e.Class == clearbar.Overloaded,
		e.Class == clearbar.ClientError && status == http.StatusTooManyRequests: // a key over its rate_limit
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
// it), with x-should-retry: false (see retryHeaders). breakerWait is breakersOpenError's wait
// when every candidate was left out for its breaker, else 0.
type exhaustedError struct {
	err         error
	breakerWait time.Duration
}

func (e *exhaustedError) Error() string { return e.err.Error() }
func (e *exhaustedError) Unwrap() error { return e.err }

// breakersOpenError is the error of a request that made at most one provider call because
// every candidate of its plan was left out for its circuit breaker: the plan kept one anyway
// (failing open) and it failed, or the breakers opened during the request and none was
// called. wait is how long until the first of those breakers lets a call through.
type breakersOpenError struct {
	err  error
	wait time.Duration
}

// Reasons a decision records for a model left out for its circuit breaker (route.ProbeInFlight
// is another).
const (
	breakerOpenReason   = "circuit breaker open"
	breakerOpenedReason = "circuit breaker open (opened during the request)"
)

// breakerSkip reports whether a skip's reason is a circuit breaker's (open, opened during the
// request, half-open with its probe in flight), or the plan's failing open on the model.
func breakerSkip(reason string) bool {
	switch reason {
	case breakerOpenReason, breakerOpenedReason, route.ProbeInFlight, route.FailedOpen:
		return true
	}
	return false
}

func (e *breakersOpenError) Error() string { return e.err.Error() }
func (e *breakersOpenError) Unwrap() error { return e.err }

// exhaustedError wraps err, the error a request ends with after its plan ran out, as an
// exhaustedError when the request made more than one provider call: the gateway already did
// what a client's retries would do; else as a breakersOpenError when every candidate was left
// out for its breaker.
func (r *run) exhaustedError(err error) error {
	calls := 0
	for i := range r.d.Attempts {
		if a := &r.d.Attempts[i]; !a.ValidatorCall() && a.Class != clearbar.Canceled {
			calls++
		}
	}
	if clearbar.ClassOf(err) == clearbar.Canceled {
		return err
	}
	wait, open := r.breakerWait()
	switch {
	case calls >= 2:
		if !open {
			wait = 0
		}
		return &exhaustedError{err, wait}
	case open:
		return &breakersOpenError{err, wait}
	}
	return err
}

// breakerWait reports whether every candidate of the plan was left out for its circuit
// breaker (each is among the decision's models skipped for one, see breakerSkip: the one a
// plan that failed open kept is too), and if so how long until the first breaker of those
// models lets a call through: the time until an open one half-opens, else
// DefaultExhaustedRetryAfter (a half-open breaker whose probe is in flight, or breakers
// closed since). Models skipped for another reason (a context window too small, an input or
// a parameter they cannot take, a score's start) do not count: their breakers say nothing of
// when trying again helps.
func (r *run) breakerWait() (time.Duration, bool) {
	if r.plan == nil || len(r.d.Skipped) == 0 {
		return 0, false
	}
	skipped := make(map[string]bool, len(r.d.Skipped))
	for _, s := range r.d.Skipped {
		if breakerSkip(s.Reason) {
			skipped[s.Model] = true
		}
	}
	n := 0
	for _, st := range r.plan.Steps {
		for _, m := range st.Candidates {
			if !skipped[m.Name] {
				return 0, false
			}
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	keys := make(map[string]bool, len(skipped))
	for name := range skipped {
		if m := r.g.spec.Model(name); m != nil {
			keys[route.Key(m)] = true
		}
	}
	now, wait := r.g.now(), time.Duration(0)
	for _, s := range r.g.breakers.Snapshot() {
		if !keys[s.Key] || s.State == health.Closed {
			continue
		}
		d := DefaultExhaustedRetryAfter
		if s.State == health.Open && !s.ReopensAt.IsZero() {
			d = s.ReopensAt.Sub(now)
		}
		if d > 0 && (wait == 0 || d < wait) {
			wait = d
		}
	}
	if wait <= 0 {
		wait = DefaultExhaustedRetryAfter
	}
	return wait, true
}
