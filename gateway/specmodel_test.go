package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/tidwall/gjson"
)

// TestSimulatedSpecModelsSharingAnID: two spec models with one model id on a simulated
// provider each answer with their own latency assumption, because the gateway's calls name
// the spec model.
func TestSimulatedSpecModelsSharingAnID(t *testing.T) {
	const src = `version: 1
name: shared-id
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.0001, seed: 3, error_rate: 0}}}
models:
  slow: {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 2s, p95: 3s}, tokens_per_second: 20}}
  fast: {provider: sim, model: gpt-4.1-mini, latency: {ttft: {p50: 100ms, p95: 200ms}, tokens_per_second: 1000}}
categories:
  - {name: a, share: 0.5, tokens: {in: 50, out: 100}, quality_bar: 0.5, route: {cascade: [slow]}, assume: {pass_rate: {slow: 0.9}}}
  - {name: b, share: 0.5, tokens: {in: 50, out: 100}, quality_bar: 0.5, route: {cascade: [fast]}, assume: {pass_rate: {fast: 0.9}}}
`
	s, err := spec.Parse([]byte(src), "shared.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := simulatedGateway(t, s)
	for _, tt := range []struct {
		category, model string
		atLeast, below  time.Duration
	}{
		// fast: time to first token p95 0.2s, then 100 tokens at 1000/s; slow: 100 tokens at
		// 20/s after its time to first token.
		{"a", "slow", 5 * time.Second, time.Hour},
		{"b", "fast", 0, time.Second},
	} {
		for range 3 {
			body := []byte(`{"model":"clearbar/` + tt.category + `","messages":[{"role":"user","content":"hello"}]}`)
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat, ok := simulated.LatencyOf(&clearbar.Response{Body: b})
			if resp.StatusCode != 200 || !ok || resp.Header.Get("X-Clearbar-Model") != tt.model {
				t.Fatalf("clearbar/%s: status %d, model %q: %s", tt.category, resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), b)
			}
			if lat < tt.atLeast || lat >= tt.below {
				t.Errorf("clearbar/%s answered by %s in a simulated %s; want at least %s and below %s, its own latency", tt.category, tt.model, lat, tt.atLeast, tt.below)
			}
		}
	}
}

// TestSimulatedStreamTruthWithoutUsage: a simulated stream reports its ground truth on the
// chunk that finishes the answer, so a client that did not ask for usage, and gets no usage
// chunk, still reads it in the last chunk it gets.
func TestSimulatedStreamTruthWithoutUsage(t *testing.T) {
	const src = `version: 1
name: truth
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.0001, seed: 3, error_rate: 0}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - {name: a, share: 1, tokens: {in: 50, out: 20}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 1}}}
`
	s, err := spec.Parse([]byte(src), "truth.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := simulatedGateway(t, s)
	for _, usage := range []bool{false, true} {
		body := `{"model":"clearbar/a","stream":true,"messages":[{"role":"user","content":"hello"}]}`
		if usage {
			body = `{"model":"clearbar/a","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello"}]}`
		}
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var last []byte
		for _, line := range bytes.Split(b, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok && !bytes.Equal(d, []byte("[DONE]")) {
				last = d
			}
		}
		if !gjson.GetBytes(last, "x_clearbar_simulation.good").Bool() {
			t.Errorf("include_usage %v: the last chunk has no ground truth (good: true): %s\nstream:\n%s", usage, last, b)
		}
	}
}
