package azure

import (
	"net/http"
	"strings"
)

// transport turns the requests of provider/openai into Azure requests: it adds the api-version
// query parameter and sends the key as api-key instead of Authorization: Bearer. It also copies
// apim-request-id into x-request-id on answers that have none. It is safe for concurrent use.
type transport struct {
	base       http.RoundTripper
	apiVersion string
}

// RoundTrip implements http.RoundTripper. It does not modify req: it sends a clone.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	q := r.URL.Query()
	q.Set("api-version", t.apiVersion)
	r.URL.RawQuery = q.Encode()
	if auth := r.Header.Get("Authorization"); auth != "" {
		r.Header.Del("Authorization")
		if key, ok := strings.CutPrefix(auth, "Bearer "); ok {
			r.Header.Set("Api-Key", key)
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.Header.Get("X-Request-Id") == "" {
		if id := resp.Header.Get("Apim-Request-Id"); id != "" {
			resp.Header.Set("X-Request-Id", id)
		}
	}
	return resp, err
}

var _ http.RoundTripper = (*transport)(nil)
