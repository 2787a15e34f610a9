package gateway

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestRateLimitSaysTheRealWait: a client over its rate limit is told when its next request
// is allowed, in the message, even when that is longer than the Retry-After the gateway sends
// (capped at a minute, for the SDKs' sake); the message says the header is capped then.
func TestRateLimitSaysTheRealWait(t *testing.T) {
	for _, tc := range []struct {
		limit      string
		n          int    // requests the limit admits at once
		wantWait   string // the message's wait: one refill period, rounded up to a second
		retryAfter string
		capped     bool
	}{
		{"3/h", 3, "next request allowed in 20m0s", "60", true},
		{"2/m", 2, "next request allowed in 30s", "30", false},
	} {
		t.Run(tc.limit, func(t *testing.T) {
			f := newFixture(t, func(src string) string {
				return src + "keys:\n  admin: [\"" + HashKey("admin-secret") + "\"]\n  clients:\n    - {name: web, hash: \"" +
					HashKey("client-secret") + "\", rate_limit: " + tc.limit + "}\n"
			})
			for i := range tc.n {
				if resp := f.post(t, hello, "Authorization", "Bearer client-secret"); resp.StatusCode != 200 {
					t.Fatalf("request %d of %d within the limit: %d %s", i+1, tc.n, resp.StatusCode, readAll(t, resp))
				} else {
					readAll(t, resp)
				}
			}
			resp := f.post(t, hello, "Authorization", "Bearer client-secret")
			body := readAll(t, resp)
			msg := gjson.GetBytes(body, "error.message").Str
			if resp.StatusCode != 429 || gjson.GetBytes(body, "error.code").Str != "client_rate_limited" {
				t.Fatalf("over the limit: %d %s", resp.StatusCode, body)
			}
			if !strings.Contains(msg, tc.wantWait) {
				t.Errorf("message %q does not say %q", msg, tc.wantWait)
			}
			if got := strings.Contains(msg, "Retry-After is capped at 60s"); got != tc.capped {
				t.Errorf("message %q: says Retry-After is capped: %v, want %v", msg, got, tc.capped)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
		})
	}
}
