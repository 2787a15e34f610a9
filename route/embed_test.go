package route

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/embedtest"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

const embedDims = 16

// trainEmbeddingRouter trains a router on the synthetic items whose difficulty only their
// embeddings (from embedtest) carry, embedded by the spec model named model.
func trainEmbeddingRouter(t testing.TB, path, model string) {
	t.Helper()
	ds := learn.NewDataset("embedtest", slices.Values(embedtest.Rows(0, 400)), []string{"small", "strong"})
	embed := func(_ context.Context, texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, s := range texts {
			out[i] = embedtest.Vector(s, embedDims)
		}
		return out, nil
	}
	if _, err := learn.EmbedDataset(context.Background(), ds, embed, learn.EmbedOptions{Config: learn.EmbeddingConfig{Model: model}}); err != nil {
		t.Fatal(err)
	}
	cfg := learn.DefaultFeatures()
	cfg.Embedding = &learn.EmbeddingConfig{Model: model, Normalize: true}
	m, _, err := learn.TrainDataset(ds, learn.TrainOptions{Seed: 1, Features: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
}

const embedScoreSpec = `version: 1
name: embed-score-test
review: {last: 2026-11-01, cadence: monthly}
providers:
  p: {type: simulated}
  up: {type: openai-compatible, base_url: "BASE/v1"}
models:
  small:  {provider: p, model: gpt-4o-mini}
  strong: {provider: p, model: gpt-4o}
  embedder: {provider: EMBEDPROVIDER, model: text-embedding-3-small, price: {input: 0.02, output: 0}}
categories:
  - name: qa
    share: 1
    tokens: {in: 200, out: 50}
    quality_bar: 0.8
    route:
      score: ROUTE
    assume: {pass_rate: {small: 0.6, strong: 0.9}}
`

// embedRouter writes the spec with route, builds its providers (the fake upstream's
// OpenAI-compatible adapter) and returns a router with them, or the error.
func embedRouter(t *testing.T, dir string, up *embedtest.Server, route, embedProvider string, withProviders bool) (*Router, error) {
	t.Helper()
	file := filepath.Join(dir, "spec.yaml")
	src := strings.NewReplacer("BASE", up.URL, "ROUTE", route, "EMBEDPROVIDER", embedProvider).Replace(embedScoreSpec)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		return nil, err
	}
	if !withProviders {
		return New(s)
	}
	prov, err := openai.New(provider.Config{Provider: s.Provider("up"), Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return NewWith(s, Options{Providers: map[string]clearbar.Provider{"up": prov, "p": nil}})
}

func planCtx(t *testing.T, ctx context.Context, r *Router, text string) *clearbar.Decision {
	t.Helper()
	d := &clearbar.Decision{}
	if _, err := r.Plan(ctx, r.Spec().Category("qa"), input(text), nil, d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLearnedScoreRouteEmbeds routes by a router trained with embeddings: the score route
// embeds each request through the spec's provider and starts hard prompts (which only their
// embeddings reveal) on the strong model; when the upstream fails, times out, or the plan is
// a dry run, it scores without the embedding and the record says why.
func TestLearnedScoreRouteEmbeds(t *testing.T) {
	dir := t.TempDir()
	trainEmbeddingRouter(t, filepath.Join(dir, "router.json"), "embedder")
	up := embedtest.NewServer(t, embedDims)
	r, err := embedRouter(t, dir, up, "{router: router.json, models: [small, strong], threshold: 0.5, embed_timeout: 80ms}", "up", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Held-out prompts: the start follows their hidden difficulty.
	right, n := 0, 0
	for i := 1000; i < 1040; i++ {
		p := embedtest.Prompt(i)
		d := planCtx(t, ctx, r, p)
		e := d.Score.Embedding
		if e == nil || !e.Used || e.Model != "embedder" || e.Error != "" || e.Latency <= 0 {
			t.Fatalf("embedding record %+v", e)
		}
		want := "small"
		if embedtest.Hard(p) {
			want = "strong"
		}
		if d.Score.Start == want {
			right++
		}
		n++
	}
	if right < n*9/10 {
		t.Errorf("%d of %d held-out prompts started on the model their embedding calls for", right, n)
	}
	if got := up.Texts.Load(); got != int64(n) {
		t.Errorf("the upstream embedded %d texts for %d requests", got, n)
	}

	// The upstream fails: the prediction falls back, the record says why.
	p := embedtest.Prompt(2000)
	noEmb := make([]float64, 2)
	m, _ := learn.Load(filepath.Join(dir, "router.json"))
	m.Predict(p, "", "qa", noEmb)
	up.Fail.Store(true)
	d := planCtx(t, ctx, r, p)
	e := d.Score.Embedding
	if e == nil || e.Used || !strings.Contains(e.Error, "the embeddings call failed") || !strings.Contains(e.Error, "503") || e.Latency <= 0 {
		t.Errorf("failing upstream: record %+v", e)
	}
	if d.Score.PPass[0].P != noEmb[0] || d.Score.PPass[1].P != noEmb[1] {
		t.Errorf("fallback P(pass) %+v, want the model's prediction without a vector %v", d.Score.PPass, noEmb)
	}
	up.Fail.Store(false)

	// Too slow: the call is cut at embed_timeout.
	up.Delay.Store(int64(time.Second))
	start := time.Now()
	d = planCtx(t, ctx, r, p)
	if e := d.Score.Embedding; e == nil || e.Used || e.Error != "the embeddings call timed out after 80ms (embed_timeout)" || time.Since(start) > 900*time.Millisecond {
		t.Errorf("slow upstream: record %+v after %s", e, time.Since(start))
	}
	up.Delay.Store(0)

	// A dry run and a request without user text make no call.
	calls := up.Calls.Load()
	d = planCtx(t, Offline(ctx), r, p)
	if e := d.Score.Embedding; e == nil || e.Used || !strings.Contains(e.Error, "dry run") || e.Latency != 0 {
		t.Errorf("offline: record %+v", e)
	}
	d = planCtx(t, ctx, r, "")
	if e := d.Score.Embedding; e == nil || e.Used || !strings.Contains(e.Error, "no user message") {
		t.Errorf("no text: record %+v", e)
	}
	if up.Calls.Load() != calls {
		t.Errorf("offline or empty requests called the upstream")
	}

	// A router built without providers (replay, lint) scores without embeddings.
	r0, err := embedRouter(t, dir, up, "{router: router.json, models: [small, strong], threshold: 0.5}", "up", false)
	if err != nil {
		t.Fatal(err)
	}
	if e := planCtx(t, ctx, r0, p).Score.Embedding; e == nil || e.Used || !strings.Contains(e.Error, "without providers") {
		t.Errorf("no providers: record %+v", e)
	}
}

// TestLearnedScoreRouteEmbedErrors checks the spec errors of a router trained with embeddings.
func TestLearnedScoreRouteEmbedErrors(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, embedDims)
	trainEmbeddingRouter(t, filepath.Join(dir, "other.json"), "no-such-model")
	_, err := embedRouter(t, dir, up, "{router: other.json, models: [small, strong], threshold: 0.5}", "up", true)
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:17:") || !strings.Contains(err.Error(), "trained with embeddings of no-such-model: the spec has no model no-such-model") {
		t.Errorf("router embedding with a model the spec lacks: %v", err)
	}
	// By model id works too; on a provider that serves no embeddings, it is an error.
	trainEmbeddingRouter(t, filepath.Join(dir, "byid.json"), embedtest.Model)
	if _, err := embedRouter(t, dir, up, "{router: byid.json, models: [small, strong], threshold: 0.5}", "up", true); err != nil {
		t.Errorf("router naming its embedding model by model id: %v", err)
	}
	trainEmbeddingRouter(t, filepath.Join(dir, "sim.json"), "embedder")
	_, err = embedRouter(t, dir, up, "{router: sim.json, models: [small, strong], threshold: 0.5}", "p", true)
	if err == nil || !strings.Contains(err.Error(), "model embedder is served by provider p (type simulated), which does not serve embeddings") {
		t.Errorf("embedding model on a simulated provider: %v", err)
	}
	// Without providers too (spec check, replay): the provider's type says it serves none.
	_, err = embedRouter(t, dir, up, "{router: sim.json, models: [small, strong], threshold: 0.5}", "p", false)
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:17:") || !strings.Contains(err.Error(), "model embedder is served by provider p (type simulated), which does not serve embeddings") {
		t.Errorf("embedding model on a simulated provider, without providers: %v", err)
	}
	// embed_timeout is validated with the spec, at its line.
	_, err = embedRouter(t, dir, up, "{router: sim.json, models: [small, strong], threshold: 0.5, embed_timeout: 0s}", "up", true)
	if err == nil || !strings.Contains(err.Error(), "spec.yaml:17:") || !strings.Contains(err.Error(), "embed_timeout 0s must be between 1ms and 10s") {
		t.Errorf("embed_timeout 0s: %v", err)
	}
}

// fakeBreakers is a Breakers for tests: every key's breaker is open or closed as open says,
// and the outcomes reported are kept.
type fakeBreakers struct {
	open     bool
	allowed  []string
	outcomes []clearbar.FailureClass
}

func (f *fakeBreakers) Open(key string) (bool, string) { return f.open, "circuit breaker open" }

func (f *fakeBreakers) Allow(key string) (func(clearbar.FailureClass), bool) {
	if f.open {
		return nil, false
	}
	f.allowed = append(f.allowed, key)
	return func(c clearbar.FailureClass) { f.outcomes = append(f.outcomes, c) }, true
}

// probing is a Breakers whose breakers are half-open with their probe in flight: not open,
// yet they let no call through.
type probing struct{}

func (probing) Open(string) (bool, string)                       { return false, "" }
func (probing) Allow(string) (func(clearbar.FailureClass), bool) { return nil, false }

// healthOnly is a Health that cannot take outcomes: the score route only asks it whether the
// embedding model's breaker is open.
type healthOnly struct{ open bool }

func (h healthOnly) Open(key string) (bool, string) { return h.open, "circuit breaker open" }

// TestLearnedScoreRouteEmbedBreakerAndCost consults the embedding model's circuit breaker
// before the embeddings call: open, the route makes no call and scores without the
// embedding, saying why; closed, the call's outcome is reported to it, as a chat attempt's
// is. The call's tokens are priced at the embedding model's input price.
func TestLearnedScoreRouteEmbedBreakerAndCost(t *testing.T) {
	dir := t.TempDir()
	trainEmbeddingRouter(t, filepath.Join(dir, "router.json"), "embedder")
	up := embedtest.NewServer(t, embedDims)
	r, err := embedRouter(t, dir, up, "{router: router.json, models: [small, strong], threshold: 0.5}", "up", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, c, p := context.Background(), r.Spec().Category("qa"), embedtest.Prompt(3000)
	plan := func(h Health) *clearbar.ScoreEmbedding {
		t.Helper()
		d := &clearbar.Decision{}
		if _, err := r.Plan(ctx, c, input(p), h, d); err != nil {
			t.Fatal(err)
		}
		return d.Score.Embedding
	}

	b := &fakeBreakers{}
	e := plan(b)
	// 8 tokens at $0.02 per million: 160 nano-dollars.
	if !e.Used || e.Tokens != 8 || e.Cost != 160 {
		t.Errorf("closed breaker: record %+v; want the vector used, 8 tokens, cost 160 nano-dollars", e)
	}
	if !slices.Equal(b.allowed, []string{"up/embedder"}) || !slices.Equal(b.outcomes, []clearbar.FailureClass{clearbar.OK}) {
		t.Errorf("closed breaker: allowed %v, outcomes %v", b.allowed, b.outcomes)
	}
	up.Fail.Store(true)
	if e := plan(b); e.Used || e.Cost != 0 || len(b.outcomes) != 2 || !b.outcomes[1].IsProviderFailure() {
		t.Errorf("failing upstream: record %+v, outcomes %v; want a provider failure reported", e, b.outcomes)
	}
	up.Fail.Store(false)

	calls := up.Calls.Load()
	b.open = true
	if e := plan(b); e.Used || e.Error != "not embedded: circuit breaker open" || e.Latency != 0 {
		t.Errorf("open breaker: record %+v", e)
	}
	if e := plan(healthOnly{open: true}); e.Used || e.Error != "not embedded: circuit breaker open" {
		t.Errorf("open breaker seen through Health: record %+v", e)
	}
	if e := plan(probing{}); e.Used || e.Error != "not embedded: circuit breaker half-open: its probe request is in flight" || e.Latency != 0 {
		t.Errorf("half-open breaker, its probe in flight: record %+v", e)
	}
	if up.Calls.Load() != calls {
		t.Errorf("an open breaker let %d embeddings calls through", up.Calls.Load()-calls)
	}
	if e := plan(healthOnly{}); !e.Used {
		t.Errorf("closed breaker seen through Health: record %+v", e)
	}
}
