package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestMetricRefusalsAreClientErrors: the gateway's own refusals of a client key (over its
// rate_limit, or no key) are the client's matter. The client still gets its 429 with
// rate_limit_error and Retry-After, but the decision's outcome is client_error, and /metrics
// counts them in clearbar_refused_total by reason and as outcome client_error, never as
// rate_limited, which is an upstream's rate limit. Before, the 429s were counted as
// clearbar_requests_total{outcome="rate_limited"}, and the dashboard as routing errors.
func TestMetricRefusalsAreClientErrors(t *testing.T) {
	const key, admin = "client-refused-key", "admin-refused-key"
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey(admin) + "\"]\n  clients:\n    - {name: app, hash: \"" + HashKey(key) + "\", rate_limit: 3/m}\n"
	})
	var ok, limited int
	for range 8 {
		resp := f.post(t, hello, "Authorization", "Bearer "+key)
		body := readAll(t, resp)
		switch resp.StatusCode {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			if !strings.Contains(string(body), `"rate_limit_error"`) || resp.Header.Get("Retry-After-Ms") == "" {
				t.Errorf("a refusal lost its type or its Retry-After: %s %v", body, resp.Header)
			}
			if d := f.rec.last(); d.Outcome != clearbar.ClientError || d.Status != http.StatusTooManyRequests {
				t.Errorf("refusal recorded as outcome %s, status %d; want client_error, 429", d.Outcome, d.Status)
			}
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	if ok != 3 || limited != 5 {
		t.Fatalf("%d answered, %d refused; want 3 and 5 at a rate limit of 3/m", ok, limited)
	}
	readAll(t, f.post(t, hello)) // no key: a 401
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(readAll(t, resp))
	for _, want := range []string{
		`clearbar_refused_total{reason="rate_limit"} 5`,
		`clearbar_refused_total{reason="key"} 1`,
		`clearbar_requests_total{category="",model="",outcome="client_error"} 6`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, "clearbar_re"))
		}
	}
	if strings.Contains(metrics, `outcome="rate_limited"`) {
		t.Errorf("the gateway's refusals read as upstream rate limits:\n%s", grepLines(metrics, "clearbar_requests_total"))
	}
}
