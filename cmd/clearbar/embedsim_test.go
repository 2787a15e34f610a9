package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/embedtest"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

// TestProviderTypesEmbedsMatchAdapters: spec.ProviderTypes, which spec check consults to know
// which providers serve embeddings without building them, lists exactly the types this
// build's registry has, and says Embeds of exactly those whose adapter is a clearbar.Embedder.
func TestProviderTypesEmbedsMatchAdapters(t *testing.T) {
	var names []string
	for _, pt := range spec.ProviderTypes {
		names = append(names, pt.Name)
	}
	slices.Sort(names)
	if got := registry().Types(); !slices.Equal(got, names) {
		t.Fatalf("the registry has types %v, spec.ProviderTypes %v", got, names)
	}
	dir := t.TempDir()
	pass := true
	writeRows(t, filepath.Join(dir, "recorded.jsonl"), []outcomes.Row{{Item: "q", Category: "c", Prompt: "hi", Model: "m", Response: "hello", Pass: &pass}})
	// Each type's required settings, with values its constructor takes.
	values := map[string]string{"base_url": `"http://127.0.0.1:9/v1"`, "api_version": "2024-10-21", "outcomes": "recorded.jsonl"}
	for _, pt := range spec.ProviderTypes {
		settings := []string{"type: " + pt.Name}
		for _, need := range pt.Needs {
			v, ok := values[need]
			if !ok {
				t.Fatalf("provider type %s needs %s: give the test a value for it", pt.Name, need)
			}
			settings = append(settings, need+": "+v)
		}
		src := fmt.Sprintf(`version: 1
name: types
review: {last: 2026-11-01}
providers: {p: {%s}}
models: {m: {provider: p, model: gpt-4o-mini}}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
`, strings.Join(settings, ", "))
		s, err := spec.Parse([]byte(src), filepath.Join(dir, "spec.yaml"), spec.Options{})
		if err != nil {
			t.Fatalf("%s: %v", pt.Name, err)
		}
		p, err := registry().New(provider.Config{Provider: s.Provider("p"), Spec: s})
		if err != nil {
			t.Fatalf("%s: %v", pt.Name, err)
		}
		if _, embeds := p.(clearbar.Embedder); embeds != pt.Embeds || spec.ServesEmbeddings(pt.Name) != embeds {
			t.Errorf("provider type %s: the adapter serves embeddings: %v; spec.ProviderTypes says %v", pt.Name, embeds, pt.Embeds)
		}
	}
}

// embedRouterSpec routes by a learned router trained with the embeddings of model embedder,
// which is on provider EMBEDDER.
const embedRouterSpec = `version: 1
name: embed-router
review: {last: 2026-11-01, cadence: monthly}
providers:
  sim: {type: simulated}
  up:  {type: openai-compatible, base_url: "BASE/v1"}
models:
  small:    {provider: sim, model: gpt-4o-mini}
  strong:   {provider: sim, model: gpt-4o}
  embedder: {provider: EMBEDDER, model: text-embedding-3-small, price: {input: 0.02, output: 0}}
categories:
  - name: qa
    share: 1
    tokens: {in: 200, out: 50}
    quality_bar: 0.8
    route:
      score: {router: router.json, models: [small, strong], threshold: 0.5}
    assume: {pass_rate: {small: 0.6, strong: 0.9}}
`

// trainEmbedRouter trains router.json in dir with learn train --embed through the fake
// upstream up, and returns the spec that routes by it with its embedding model on provider
// embedder, written to dir/spec.yaml.
func trainEmbedRouter(t *testing.T, dir string, up *embedtest.Server) (specFor func(embedder string) string) {
	t.Helper()
	specFor = func(embedder string) string {
		t.Helper()
		f := filepath.Join(dir, "spec.yaml")
		src := strings.NewReplacer("BASE", up.URL, "EMBEDDER", embedder).Replace(embedRouterSpec)
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 60))
	if code, _, errOut := run(t, "learn", "train", "--outcomes", table, "--out", filepath.Join(dir, "router.json"),
		"--embed", "embedder", "--spec", specFor("up")); code != 0 {
		t.Fatalf("learn train --embed: exit %d\n%s", code, errOut)
	}
	return specFor
}

// TestEmbeddingRouterChecks: spec check refuses a router's embedding model on a provider that
// serves no embeddings, as serve does, at the route's line; serve --simulate serves a valid
// spec with such a router, scoring without the embedding (the simulator serves none) and
// saying so in the decision record, without calling the embeddings upstream.
func TestEmbeddingRouterChecks(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, 8)
	specFor := trainEmbedRouter(t, dir, up)

	bad := specFor("sim")
	const want = "model embedder is served by provider sim (type simulated), which does not serve embeddings"
	for _, cmd := range [][]string{{"spec", "check", bad}, {"serve", bad, "--trace", "none", "--listen", "127.0.0.1:0"}} {
		if code, _, errOut := run(t, cmd...); code != 1 || !strings.Contains(errOut, bad+":") || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, want 1 with %s:LINE and %q:\n%s", cmd[0], code, bad, want, errOut)
		}
	}

	good := specFor("up")
	if code, out, errOut := run(t, "spec", "check", good); code != 0 {
		t.Fatalf("spec check of the valid spec: exit %d\n%s%s", code, out, errOut)
	}
	calls := up.Calls.Load()
	db := filepath.Join(dir, "clearbar.db")
	addr, logs, stop := startServe(t, good, "--simulate", "--trace", db)
	resp, body := chat(t, addr, `{"model":"clearbar/qa","messages":[{"role":"user","content":"`+embedtest.Prompt(5000)+`"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	if n := up.Calls.Load() - calls; n != 0 {
		t.Errorf("serve --simulate made %d embeddings calls", n)
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sc := d.Score; sc == nil || sc.Embedding == nil || sc.Embedding.Used ||
		sc.Embedding.Error != "not embedded: provider up is simulated (serve --simulate), and the simulator serves no embeddings" || len(sc.PPass) != 2 {
		t.Errorf("score record %+v", sc)
	}
}
