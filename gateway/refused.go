package gateway

import (
	"net/http"

	"github.com/clearbar/clearbar"
)

// codeClientRateLimited is the error code of a request refused because its client key is over
// its rate_limit.
const codeClientRateLimited = "client_rate_limited"

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
