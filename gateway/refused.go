package gateway

import (
	"errors"
	"net/http"

	"github.com/clearbar/clearbar"
)

// codeClientRateLimited is the error code of a request refused because its client key is over
// its rate_limit.
const codeClientRateLimited = "client_rate_limited"

// outcomeOf is the outcome a decision records for a request that ended with err after the
// attempts d holds. It is clearbar.ClassOf(err), except that the gateway's own refusal of a
// client key over its rate_limit, made before any model was called, is the client's matter:
// a ClientError, counted with the other client errors by the dashboard and the drift monitor
// (which leave it out of the error rate and the detectors) and not as an upstream's rate
// limit. The client still gets the 429 with rate_limit_error and its Retry-After.
func outcomeOf(err error, d *clearbar.Decision) clearbar.FailureClass {
	c := clearbar.ClassOf(err)
	var e *clearbar.Error
	if c == clearbar.RateLimited && len(d.Attempts) == 0 && errors.As(err, &e) && e.Code == codeClientRateLimited {
		return clearbar.ClientError
	}
	return c
}

// Reasons of clearbar_refused_total.
const (
	refusedKey       = "key"
	refusedRateLimit = "rate_limit"
)

// refusal says why the gateway refused a request for its client key before routing it: no
// key, or one it does not accept (401, 403), or a key over its rate_limit (429). It returns ""
// for every other decision, the client errors of malformed requests among them.
func refusal(d *clearbar.Decision) string {
	if d.Outcome != clearbar.ClientError || len(d.Attempts) > 0 {
		return ""
	}
	switch d.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return refusedKey
	case http.StatusTooManyRequests:
		return refusedRateLimit
	}
	return ""
}
