package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/embedtest"
	"github.com/clearbar/clearbar/learn"
	"github.com/clearbar/clearbar/outcomes"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

// learnEmbedSpec routes by the router the test trains, which does not exist yet when
// learn train first reads the spec.
const learnEmbedSpec = `version: 1
name: learn-embed
review: {last: 2026-11-01, cadence: monthly}
providers:
  sim: {type: simulated}
  up:  {type: openai-compatible, base_url: "BASE/v1"}
models:
  small:    {provider: sim, model: gpt-4o-mini}
  strong:   {provider: sim, model: gpt-4o}
  embedder: {provider: up, model: text-embedding-3-small, price: {input: 0.02, output: 0}}
  talker:   {provider: sim, model: gpt-4.1-mini}
categories:
  - name: qa
    share: 1
    tokens: {in: 200, out: 50}
    quality_bar: 0.8
    route:
      score: {router: router.json, models: [small, strong], threshold: 0.5}
    assume: {pass_rate: {small: 0.6, strong: 0.9}}
`

func writeRows(t *testing.T, path string, rows []outcomes.Row) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := outcomes.NewWriter(f)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestLearnTrainEmbed trains from the command line with --embed through a fake
// OpenAI-compatible embeddings upstream: the prompts are embedded in batches, cached next to
// the router (a rerun makes no call), and the router with the embedding block beats the one
// without on held-out prompts whose words say nothing of their difficulty.
func TestLearnTrainEmbed(t *testing.T) {
	dir := t.TempDir()
	const dims = 16
	up := embedtest.NewServer(t, dims)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 400))
	router := filepath.Join(dir, "router.json")
	args := []string{"learn", "train", "--outcomes", table, "--embed", "embedder", "--spec", specFile, "--out", router, "--folds", "3", "--embed-batch", "50", "--embed-concurrency", "3"}

	code, out, errOut := run(t, args...)
	if code != 0 {
		t.Fatalf("learn train --embed: exit %d\n%s\n%s", code, out, errOut)
	}
	cache := filepath.Join(dir, "router.embeddings.jsonl")
	for _, want := range []string{"embedded 400 distinct prompts with embedder: 0 from the cache " + cache + ", 8 calls", "WITHOUT EMBEDDING", "The router embeds each request with embedder (16 values)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if up.Calls.Load() != 8 || up.Texts.Load() != 400 {
		t.Errorf("upstream: %d calls of %d texts, want 8 of 400", up.Calls.Load(), up.Texts.Load())
	}
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no cache next to the router: %v", err)
	}
	first, _ := os.ReadFile(router)

	// A rerun reads every vector from the cache and trains the same router.
	code, out, errOut = run(t, args...)
	if code != 0 || !strings.Contains(out, "400 from the cache") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if up.Calls.Load() != 8 {
		t.Errorf("the rerun called the upstream %d more times", up.Calls.Load()-8)
	}
	if again, _ := os.ReadFile(router); string(again) != string(first) {
		t.Errorf("the rerun trained another router")
	}

	// Without --embed, for comparison.
	plainPath := filepath.Join(dir, "plain.json")
	if code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--out", plainPath, "--folds", "3"); code != 0 {
		t.Fatalf("learn train: exit %d\n%s\n%s", code, out, errOut)
	}
	withEmb, err := learn.Load(router)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := learn.Load(plainPath)
	if err != nil {
		t.Fatal(err)
	}
	if e := withEmb.Embedding(); e == nil || e.Model != "embedder" || e.Dims != dims || plain.Embedding() != nil {
		t.Fatalf("embedding blocks: %+v and %+v", e, plain.Embedding())
	}

	// Held-out prompts, embedded through the same provider adapter the gateway uses.
	s, err := spec.Load(specFile, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prov, err := openai.New(provider.Config{Provider: s.Provider("up"), Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	held := embedtest.Rows(400, 600)
	var texts []string
	for i := 0; i < len(held); i += 2 {
		texts = append(texts, held[i].Prompt)
	}
	resp, err := prov.(clearbar.Embedder).Embed(context.Background(), &clearbar.EmbedCall{Model: embedtest.Model, Input: texts})
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := resp.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	var lossEmb, lossPlain float64
	p := make([]float64, 2)
	for n, text := range texts {
		y := 1.0
		if embedtest.Hard(text) {
			y = 0
		}
		if !withEmb.PredictWith(text, "", "qa", vecs[n], p) {
			t.Fatal("the held-out vector was not used")
		}
		lossEmb += logLoss(p[0], y)
		plain.Predict(text, "", "qa", p)
		lossPlain += logLoss(p[0], y)
	}
	lossEmb /= float64(len(texts))
	lossPlain /= float64(len(texts))
	t.Logf("held-out log loss of the cheap model's P(pass): %.4f with embeddings, %.4f without", lossEmb, lossPlain)
	if lossEmb > 0.3 || lossEmb > lossPlain/2 {
		t.Errorf("held-out log loss %.4f with embeddings, %.4f without: the embedding router should win clearly", lossEmb, lossPlain)
	}

	// The spec that names the router now loads, and its router embeds through the provider.
	r, err := route.NewWith(s, route.Options{Providers: map[string]clearbar.Provider{"up": prov}})
	if err != nil {
		t.Fatalf("the spec's router: %v", err)
	}
	_ = r
}

func logLoss(p, y float64) float64 {
	p = min(max(p, 1e-6), 1-1e-6)
	return -(y*math.Log(p) + (1-y)*math.Log(1-p))
}

func TestLearnTrainEmbedErrors(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, 8)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 20))
	out := filepath.Join(dir, "router.json")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--embed", "embedder"}, 2, "--embed needs --spec"},
		{[]string{"--spec", specFile}, 2, "--spec is read only with --embed MODEL"},
		{[]string{"--embed", "embedder", "--spec", specFile, "--embed-batch", "0"}, 2, "--embed-batch 1..2048"},
		{[]string{"--embed", "nope", "--spec", specFile}, 2, "--embed nope: the spec " + specFile + " has no such model (models: small, strong, embedder, talker)"},
		{[]string{"--embed", "talker", "--spec", specFile}, 2, "model talker is served by provider sim (type simulated), which does not serve embeddings"},
	} {
		args := append([]string{"learn", "train", "--outcomes", table, "--out", out}, tc.args...)
		code, _, errOut := run(t, args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	// A failing upstream fails the run with what it said, after its retries.
	defer func(d time.Duration) { embedRetryBackoff = d }(embedRetryBackoff)
	embedRetryBackoff = time.Millisecond
	up.Fail.Store(true)
	code, _, errOut := run(t, "learn", "train", "--outcomes", table, "--out", out, "--embed", "embedder", "--spec", specFile)
	if code == 0 || !strings.Contains(errOut, "embedding texts 1 to 20 of 20 with embedder") || !strings.Contains(errOut, "the embeddings service is down") {
		t.Errorf("failing upstream: exit %d, %s", code, errOut)
	}

	// The help text documents the embeddings option.
	code, stdout, _ := run(t, "learn", "train", "--help")
	if code != 0 || !strings.Contains(stdout, "With --embed MODEL --spec SPEC.yaml") || !strings.Contains(stdout, "-embed-cache") {
		t.Errorf("help: exit %d\n%s", code, stdout)
	}
}

// TestEmbedRetryWait checks the waits between the retries of a failed embeddings call:
// embedRetryBackoff before the first, then twice and four times that, or the upstream's
// Retry-After when it is longer.
func TestEmbedRetryWait(t *testing.T) {
	defer func(d time.Duration) { embedRetryBackoff = d }(embedRetryBackoff)
	embedRetryBackoff = 250 * time.Millisecond
	down := &clearbar.Error{Class: clearbar.Overloaded, Message: "down"}
	for try, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second} {
		if got := embedRetryWait(try, down); got != want {
			t.Errorf("retry %d waits %s, want %s", try, got, want)
		}
	}
	limited := &clearbar.Error{Class: clearbar.RateLimited, Message: "slow down", RetryAfter: 3 * time.Second}
	if got := embedRetryWait(1, limited); got != 3*time.Second {
		t.Errorf("retry after a Retry-After of 3s waits %s", got)
	}
}
