package gateway

import "net/http"

// RequireAdmin returns h behind the admin-key check that guards GET /v1/decisions/{id},
// /v1/admin/health and /metrics, for handlers mounted beside the gateway (the dashboard's API): when the
// spec configures keys, a request must carry an admin key (Authorization: Bearer KEY, or
// x-api-key); without keys everyone may call h. A rejected request gets the gateway's JSON
// error: 401 without a key or with a key that is none of the gateway's, 403 with a client's key.
func (g *Gateway) RequireAdmin(h http.Handler) http.Handler { return g.admin(h.ServeHTTP) }
