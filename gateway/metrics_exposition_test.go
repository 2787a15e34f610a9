package gateway

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestMetricsExpositionLints: what /metrics serves after traffic parses as Prometheus's text
// format and follows its conventions (units as suffixes, _total on counters, help on every
// metric), as promtool check metrics would say.
func TestMetricsExpositionLints(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(string, int) error { return overloaded() } // a retry and a fallback, beside a plain answer
	readAll(t, f.post(t, hello))
	readAll(t, f.post(t, `{"model":"clearbar/chat","messages":[{"role":"user","content":"hi"}]}`))
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "clearbar_fallbacks_total") {
		t.Fatalf("status %d:\n%s", resp.StatusCode, body)
	}
	problems, err := promlint.New(bytes.NewReader(body)).Lint()
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}
