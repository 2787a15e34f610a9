package gateway

import (
	"encoding/json"
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

// writeError sends an OpenAI-shaped error. Retry headers follow what SDKs understand:
// retry-after-ms and retry-after (capped at 60 s: openai-go gives up entirely above two
// minutes), and x-should-retry when the gateway knows better than the status.
func writeError(w http.ResponseWriter, err error) int {
	e := clearbar.AsError(err)
	status := statusFor(e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.Class == clearbar.RateLimited || e.Class == clearbar.Overloaded {
		if e.Exhausted() {
			h.Set("X-Should-Retry", "false")
		} else if d := retry.ClientRetryAfter(e.RetryAfter); d > 0 {
			h.Set("Retry-After-Ms", strconv.FormatInt(d.Milliseconds(), 10))
			h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
		}
	}
	w.WriteHeader(status)
	w.Write(errorJSON(e, status))
	return status
}
