package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/internal/embedtest"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

const scoreEmbedSpec = `version: 1
name: score-embed-test
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  chat: {type: simulated}
  up:   {type: openai-compatible, base_url: "%s/v1"}
models:
  small:    {provider: chat, model: gpt-4o-mini}
  strong:   {provider: chat, model: gpt-4o}
  embedder: {provider: up, model: text-embedding-3-small, price: {input: 0.02, output: 0}}
categories:
  - name: qa
    default: true
    share: 1
    tokens: {in: 200, out: 50}
    quality_bar: 0.8
    route:
      score: {router: router.json, models: [small, strong], threshold: 0.5, embed_timeout: 500ms}
    assume: {pass_rate: {small: 0.6, strong: 0.9}}
`

// scoreEmbedGateway returns a gateway serving scoreEmbedSpec, whose score route's router was
// trained with embeddings of the fake upstream up, and the recorder of its decisions.
func scoreEmbedGateway(t *testing.T) (*Gateway, *embedtest.Server, *memRecorder) {
	t.Helper()
	dir := t.TempDir()
	const dims = 16
	ds := learn.NewDataset("embedtest", slices.Values(embedtest.Rows(0, 400)), []string{"small", "strong"})
	vec := func(_ context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, s := range texts {
			out[i] = embedtest.Vector(s, dims)
		}
		return out, nil
	}
	if _, err := learn.EmbedDataset(context.Background(), ds, vec, learn.EmbedOptions{Config: learn.EmbeddingConfig{Model: "embedder"}}); err != nil {
		t.Fatal(err)
	}
	cfg := learn.DefaultFeatures()
	cfg.Embedding = &learn.EmbeddingConfig{Model: "embedder", Normalize: true}
	m, _, err := learn.TrainDataset(ds, learn.TrainOptions{Seed: 1, Features: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(filepath.Join(dir, "router.json")); err != nil {
		t.Fatal(err)
	}

	up := embedtest.NewServer(t, dims)
	file := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(scoreEmbedSpec, "%s", up.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emb, err := openaiadapter.New(provider.Config{Provider: s.Provider("up"), Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	gw, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"chat": newFake("chat"), "up": emb}, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	return gw, up, rec
}

// TestScoreRouteEmbedsRequests serves chat completions on a score route whose learned router
// was trained with embeddings: each request is embedded through the spec's OpenAI-compatible
// provider before it is routed, and the decision record says whether the embedding was used,
// why not, and how long the call took (counted as upstream time).
func TestScoreRouteEmbedsRequests(t *testing.T) {
	gw, up, rec := scoreEmbedGateway(t)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)

	var hard, easy string
	for i := 5000; hard == "" || easy == ""; i++ {
		if p := embedtest.Prompt(i); embedtest.Hard(p) {
			hard = p
		} else {
			easy = p
		}
	}
	chat := func(prompt string) (*http.Response, *clearbar.Decision) {
		t.Helper()
		body := `{"model":"clearbar/qa","messages":[{"role":"system","content":"Be kind."},{"role":"user","content":` + jsonString(prompt) + `}]}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, rec.last()
	}

	for prompt, want := range map[string]string{hard: "strong", easy: "small"} {
		resp, d := chat(prompt)
		if resp.StatusCode != 200 || d.Score == nil || d.Score.Start != want || d.Model != want {
			t.Fatalf("%.40q: status %d, score %+v, answered by %s; want a start on %s", prompt, resp.StatusCode, d.Score, d.Model, want)
		}
		e := d.Score.Embedding
		if e == nil || !e.Used || e.Model != "embedder" || e.Latency <= 0 || e.Error != "" {
			t.Fatalf("embedding record %+v", e)
		}
		if d.Upstream < e.Latency {
			t.Errorf("upstream time %s does not count the embeddings call's %s", d.Upstream, e.Latency)
		}
	}
	if got := up.Texts.Load(); got != 2 {
		t.Errorf("the embeddings upstream saw %d texts for 2 requests", got)
	}

	// The upstream fails: the request is still routed and answered, without the embedding.
	up.Fail.Store(true)
	resp, d := chat(hard)
	e := d.Score.Embedding
	if resp.StatusCode != 200 || e == nil || e.Used || !strings.Contains(e.Error, "the embeddings call failed") || !strings.Contains(e.Error, "HTTP 503") {
		t.Fatalf("failing embeddings upstream: status %d, record %+v", resp.StatusCode, e)
	}
	var b bytes.Buffer
	if err := WriteExplanation(&b, d); err != nil || !strings.Contains(b.String(), "embedding   embedder, not used: the embeddings call failed") {
		t.Errorf("explanation:\n%s", b.String())
	}
	up.Fail.Store(false)

	// A dry run calls no model, the embedding one included.
	calls := up.Calls.Load()
	dd, err := DryRun(gw, []byte(`{"model":"clearbar/qa","messages":[{"role":"user","content":`+jsonString(hard)+`}]}`), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if e := dd.Score.Embedding; e == nil || e.Used || !strings.Contains(e.Error, "dry run") || up.Calls.Load() != calls {
		t.Errorf("dry run: record %+v, %d upstream calls", e, up.Calls.Load()-calls)
	}
}

// TestScoreRouteEmbedTimeWhenNoPlan counts the embeddings call as upstream time, not gateway
// overhead, when the request fails after it was scored: here no model of the route can take
// the request.
func TestScoreRouteEmbedTimeWhenNoPlan(t *testing.T) {
	gw, up, rec := scoreEmbedGateway(t)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	up.Delay.Store(int64(60 * time.Millisecond))
	body := `{"model":"clearbar/qa","max_tokens":100000000,"messages":[{"role":"user","content":` + jsonString(embedtest.Prompt(7000)) + `}]}`
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := rec.last()
	if resp.StatusCode != 400 || d.Score == nil || d.Score.Embedding == nil || d.Score.Embedding.Latency < 60*time.Millisecond {
		t.Fatalf("status %d, score %+v; want a 400 after the embeddings call", resp.StatusCode, d.Score)
	}
	if e := d.Score.Embedding; d.Upstream < e.Latency || d.Overhead >= e.Latency {
		t.Errorf("upstream %s, overhead %s: the embeddings call's %s is upstream time", d.Upstream, d.Overhead, e.Latency)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestScoreRouteEmbedBreakerAndCost puts the score route's embeddings call under the
// embedding model's circuit breaker, like any attempt: its failures open the breaker, and
// while it is open requests are scored without the embedding at once, with no call. The
// call's tokens are priced at the embedding model's input price and counted in the
// decision's cost, its cost header and its explanation.
func TestScoreRouteEmbedBreakerAndCost(t *testing.T) {
	gw, up, rec := scoreEmbedGateway(t)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	chat := func(prompt string) (*http.Response, *clearbar.Decision) {
		t.Helper()
		body := `{"model":"clearbar/qa","messages":[{"role":"user","content":` + jsonString(prompt) + `}]}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, rec.last()
	}

	resp, d := chat(embedtest.Prompt(8000))
	e := d.Score.Embedding
	// 8 tokens at $0.02 per million: 160 nano-dollars.
	if resp.StatusCode != 200 || !e.Used || e.Tokens != 8 || e.Cost != 160 {
		t.Fatalf("status %d, embedding record %+v; want 8 tokens costing 160 nano-dollars", resp.StatusCode, e)
	}
	var attempts clearbar.Money
	for _, a := range d.Attempts {
		attempts += a.Cost
	}
	if d.Cost != attempts+e.Cost {
		t.Errorf("decision cost %d, attempts %d + embeddings %d", d.Cost, attempts, e.Cost)
	}
	if got := resp.Header.Get(headerCost); got != d.Cost.Decimal() {
		t.Errorf("cost header %q, decision cost %s", got, d.Cost.Decimal())
	}
	var b bytes.Buffer
	if err := WriteExplanation(&b, d); err != nil || !strings.Contains(b.String(), "8 tokens, $0.000000160") {
		t.Errorf("explanation:\n%s", b.String())
	}

	// Five failures in a row open the embedding model's breaker (the default settings); then
	// requests are scored without the embedding and make no call.
	up.Fail.Store(true)
	for i := range 5 {
		if resp, d := chat(embedtest.Prompt(8001 + i)); resp.StatusCode != 200 || d.Score.Embedding.Used {
			t.Fatalf("failing upstream: status %d, record %+v", resp.StatusCode, d.Score.Embedding)
		}
	}
	if st := gw.breakers.Get("up/embedder").State(gw.now()); st != health.Open {
		t.Fatalf("the embedding model's breaker is %v after 5 failed calls", st)
	}
	calls := up.Calls.Load()
	up.Fail.Store(false)
	start := time.Now()
	resp, d = chat(embedtest.Prompt(8010))
	if e := d.Score.Embedding; resp.StatusCode != 200 || e.Used || e.Error != "not embedded: circuit breaker open" || e.Latency != 0 || e.Cost != 0 {
		t.Errorf("open breaker: status %d, record %+v", resp.StatusCode, e)
	}
	if up.Calls.Load() != calls || time.Since(start) > 400*time.Millisecond {
		t.Errorf("an open breaker let the call through (%d calls, %s)", up.Calls.Load()-calls, time.Since(start))
	}
}
