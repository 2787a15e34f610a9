package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

	// The learn evaluate it advises embeds with the same model and reads the vectors it cached.
	evaluate := "clearbar learn evaluate --outcomes " + table + " --embed embedder --spec " + specFile + " --embed-cache " + cache + "\n"
	if !strings.Contains(out, evaluate) {
		t.Errorf("learn train does not advise %q:\n%s", evaluate, out)
	}
	evalArgs := append(strings.Fields(strings.TrimPrefix(evaluate, "clearbar ")), "--price", "small=0.1/0", "--price", "strong=10/0") // the rows have no costs
	if code, _, errOut := run(t, evalArgs...); code != 0 || up.Calls.Load() != 8 {
		t.Errorf("%s: exit %d, %d more embeddings calls\n%s", evaluate, code, up.Calls.Load()-8, errOut)
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

// TestLearnTrainEmbedCacheKeyEndpoint keys the vector cache by the provider's base URL: the
// same model id on another server is embedded again, not read from the first one's vectors.
func TestLearnTrainEmbedCacheKeyEndpoint(t *testing.T) {
	dir := t.TempDir()
	up1, up2 := embedtest.NewServer(t, 8), embedtest.NewServer(t, 8)
	specFile := filepath.Join(dir, "spec.yaml")
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 40))
	router := filepath.Join(dir, "router.json")
	args := []string{"learn", "train", "--outcomes", table, "--embed", "embedder", "--spec", specFile, "--out", router, "--folds", "2"}
	for i, up := range []*embedtest.Server{up1, up2, up2} {
		if err := os.WriteFile(specFile, []byte(strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s", i, code, out, errOut)
		}
		want := "embedder: 0 from the cache"
		if i == 2 {
			want = "embedder: 40 from the cache"
		}
		if !strings.Contains(out, want) {
			t.Errorf("run %d: output lacks %q:\n%s", i, want, out)
		}
	}
	if up1.Texts.Load() != 40 || up2.Texts.Load() != 40 {
		t.Errorf("the servers embedded %d and %d texts; want 40 each", up1.Texts.Load(), up2.Texts.Load())
	}
}

// TestReplayRouterEmbedCache replays a router trained with embeddings on the vectors learn
// train cached, as the gateway predicts with the request's embedding: on prompts whose
// difficulty only their embeddings carry, its threshold router recovers most of the gap
// between the models. Items without a cached vector are counted: --calibrate refuses them,
// a plain replay warns.
func TestReplayRouterEmbedCache(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, 16)
	specFile := filepath.Join(dir, "spec.yaml")
	src := strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)
	if err := os.WriteFile(specFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 300))
	router := filepath.Join(dir, "router.json")
	if code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--embed", "embedder", "--spec", specFile, "--out", router, "--folds", "3"); code != 0 {
		t.Fatalf("learn train --embed: exit %d\n%s\n%s", code, out, errOut)
	}
	// Held-out items, embedded into the same cache by another training run.
	cache := filepath.Join(dir, "router.embeddings.jsonl")
	held := filepath.Join(dir, "held.outcomes.jsonl")
	writeRows(t, held, embedtest.Rows(300, 500))
	if code, out, errOut := run(t, "learn", "train", "--outcomes", held, "--embed", "embedder", "--spec", specFile, "--out", filepath.Join(dir, "other.json"), "--folds", "2", "--embed-cache", cache); code != 0 {
		t.Fatalf("learn train --embed on the held-out items: exit %d\n%s\n%s", code, out, errOut)
	}
	calls := up.Calls.Load()

	apgr := func(args ...string) (float64, string) {
		t.Helper()
		args = append([]string{"replay", specFile, "--outcomes", held, "--category", "qa", "--router", router, "--include", "threshold", "--format", "json"}, args...)
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		var rep struct {
			Curves []struct {
				Kind string  `json:"kind"`
				APGR float64 `json:"apgr"`
			} `json:"curves"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("replay --format json: %v\n%.500s", err, out)
		}
		for _, c := range rep.Curves {
			if c.Kind == "threshold" {
				return c.APGR, errOut
			}
		}
		t.Fatalf("no threshold curve:\n%.500s", out)
		return 0, ""
	}
	with, errOut := apgr()
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	without, _ := apgr("--embed-cache", empty)
	t.Logf("threshold router APGR on held-out items: %.3f with the cached embeddings, %.3f without", with, without)
	if with < 0.7 || without > 0.6 {
		t.Errorf("the threshold router's APGR is %.3f with the cached embeddings and %.3f without: replay should predict with them", with, without)
	}
	if !strings.Contains(errOut, "200 of 200 items with their embeddings from "+cache) {
		t.Errorf("stderr does not say where the vectors came from:\n%s", errOut)
	}
	if up.Calls.Load() != calls {
		t.Errorf("replay called the embeddings upstream")
	}

	// Twenty items the cache lacks.
	more := filepath.Join(dir, "more.outcomes.jsonl")
	writeRows(t, more, append(embedtest.Rows(0, 300), embedtest.Rows(600, 620)...))
	code, _, errOut := run(t, "replay", specFile, "--outcomes", more, "--category", "qa", "--router", router, "--calibrate", "--include", "threshold")
	if code == 0 || !strings.Contains(errOut, "20 of 320 items have no vector in the embeddings cache") || !strings.Contains(errOut, "--calibrate") {
		t.Errorf("calibrating with missing vectors: exit %d\n%s", code, errOut)
	}
	if data, _ := os.ReadFile(specFile); string(data) != src {
		t.Errorf("the spec was changed:\n%s", data)
	}
	code, _, errOut = run(t, "replay", specFile, "--outcomes", more, "--category", "qa", "--router", router, "--include", "threshold")
	if code != 0 || !strings.Contains(errOut, "20 of 320 items have no vector in the embeddings cache") {
		t.Errorf("replay with missing vectors: exit %d\n%s", code, errOut)
	}

	// The cache is found next to the router, or named; a router with embeddings needs the spec.
	code, _, errOut = run(t, "replay", specFile, "--outcomes", table, "--router", router, "--embed-cache", filepath.Join(dir, "none.jsonl"))
	if code == 0 || !strings.Contains(errOut, "none.jsonl") {
		t.Errorf("a missing cache: exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "replay", "--outcomes", table, "--router", router)
	if code != 2 || !strings.Contains(errOut, "was trained with embeddings of embedder: give the SPEC") {
		t.Errorf("no spec: exit %d\n%s", code, errOut)
	}

	// The spec's own score route uses the same router, and replay scores it with the same
	// vectors, as the gateway scores with the request's embedding; with an empty cache it
	// decides without them, and the report counts those decisions.
	specRoute := func(args ...string) (quality float64, notes []string) {
		t.Helper()
		args = append([]string{"replay", specFile, "--outcomes", held, "--category", "qa", "--include", "spec", "--format", "json"}, args...)
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		var rep struct {
			Notes   []string
			Results []struct {
				Kind    string
				Quality float64
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Kind == "spec" {
				return r.Quality, rep.Notes
			}
		}
		t.Fatalf("no spec route in the replay:\n%.800s", out)
		return 0, nil
	}
	unembedded := func(n string) bool { return strings.Contains(n, " of its decisions were made without them") }
	withVectors, notes := specRoute()
	if slices.ContainsFunc(notes, unembedded) {
		t.Errorf("the spec route was scored without the cached embeddings: %q", notes)
	}
	withoutVectors, notes := specRoute("--embed-cache", empty)
	if !slices.ContainsFunc(notes, func(n string) bool { return unembedded(n) && strings.Contains(n, "200 of its decisions") }) {
		t.Errorf("the report does not count the spec route's decisions made without a vector: %q", notes)
	}
	t.Logf("the spec route's quality on held-out items: %.3f with the cached embeddings, %.3f without", withVectors, withoutVectors)
	if withVectors <= withoutVectors {
		t.Errorf("the spec route's quality is %.3f with the cached embeddings and %.3f without: replay should score it with them", withVectors, withoutVectors)
	}
}

// TestLearnEvaluateEmbed evaluates a router with embeddings on the seeded test half: on
// prompts whose difficulty only their embeddings carry, it routes better than the same router
// without them, and a rerun takes every vector from the cache next to the table.
func TestLearnEvaluateEmbed(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, 16)
	specFile := filepath.Join(dir, "spec.yaml")
	src := strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)
	src = strings.Replace(src, "score: {router: router.json, models: [small, strong], threshold: 0.5}", "model: small", 1)
	if err := os.WriteFile(specFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	rows := embedtest.Rows(0, 400)
	for i := range rows {
		rows[i].Cost = clearbar.MoneyFromUSD(0.0001)
		if rows[i].Model == "strong" {
			rows[i].Cost = clearbar.MoneyFromUSD(0.002)
		}
	}
	writeRows(t, table, rows)
	// learned returns the deployable operating point's cost in % of the strong model's.
	learned := func(out string) float64 {
		t.Helper()
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "| learned, ") {
				q, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(strings.Split(line, "|")[5]), "%"), 64)
				if err != nil {
					t.Fatal(err)
				}
				return q
			}
		}
		t.Fatalf("no learned row in:\n%s", out)
		return 0
	}
	code, plain, errOut := run(t, "learn", "evaluate", "--outcomes", table)
	if code != 0 {
		t.Fatalf("without embeddings: exit %d\n%s", code, errOut)
	}
	code, with, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--embed", "embedder", "--spec", specFile)
	if code != 0 {
		t.Fatalf("with embeddings: exit %d\n%s", code, errOut)
	}
	if cache := filepath.Join(dir, "qa.outcomes.embeddings.jsonl"); !fileExists(cache) {
		t.Errorf("no cache at %s", cache)
	}
	// Both operating points aim at 95% of the strong model's quality; with the embeddings the
	// router gets there for much less.
	c, p := learned(with), learned(plain)
	t.Logf("deployable point's cost: %.1f%% of the strong model's with embeddings, %.1f%% without", c, p)
	if c > p-10 {
		t.Errorf("the deployable point costs %.1f%% of the strong model with embeddings and %.1f%% without; want a clear saving\n%s", c, p, with)
	}
	calls := up.Calls.Load()
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--embed", "embedder", "--spec", specFile); code != 0 || up.Calls.Load() != calls {
		t.Errorf("rerun: exit %d, %d more calls (want 0)\n%s", code, up.Calls.Load()-calls, errOut)
	}
	if code, _, errOut := run(t, "learn", "evaluate", "--outcomes", table, "--embed", "embedder"); code != 2 || !strings.Contains(errOut, "go together") {
		t.Errorf("--embed without --spec: exit %d\n%s", code, errOut)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestLearnEvaluateEmbedDimensions: learn evaluate takes learn train's --embed-dimensions, so
// that a router trained on shortened vectors is evaluated on the same ones: the evaluate that
// learn train advises names the length, asks the upstream for it and reads the vectors
// training cached under it (no call), while without the flag the vectors of the model's own
// length are others, not in the cache. A negative length is refused as learn train refuses it.
func TestLearnEvaluateEmbedDimensions(t *testing.T) {
	dir := t.TempDir()
	up := embedtest.NewServer(t, 16)
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(learnEmbedSpec, "BASE", up.URL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeRows(t, table, embedtest.Rows(0, 200))
	router := filepath.Join(dir, "router.json")
	code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--embed", "embedder", "--spec", specFile, "--embed-dimensions", "8", "--out", router, "--folds", "2")
	if code != 0 {
		t.Fatalf("learn train --embed-dimensions 8: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "The router embeds each request with embedder (8 values)") {
		t.Errorf("the router does not embed with 8 values:\n%s", out)
	}
	calls := up.Calls.Load()
	cache := filepath.Join(dir, "router.embeddings.jsonl")
	evaluate := "clearbar learn evaluate --outcomes " + table + " --embed embedder --spec " + specFile + " --embed-dimensions 8 --embed-cache " + cache + "\n"
	if !strings.Contains(out, evaluate) {
		t.Fatalf("learn train does not advise %q:\n%s", evaluate, out)
	}
	evalArgs := append(strings.Fields(strings.TrimPrefix(evaluate, "clearbar ")), "--price", "small=0.1/0", "--price", "strong=10/0")
	code, _, errOut = run(t, evalArgs...)
	if code != 0 || up.Calls.Load() != calls || !strings.Contains(errOut, "200 from the cache") {
		t.Errorf("%s: exit %d, %d more embeddings calls\n%s", evaluate, code, up.Calls.Load()-calls, errOut)
	}
	// The model's own length is another vector: evaluating without the flag embeds again.
	plain := slices.DeleteFunc(slices.Clone(evalArgs), func(a string) bool { return a == "--embed-dimensions" || a == "8" })
	if code, _, errOut := run(t, plain...); code != 0 || up.Calls.Load() == calls || !strings.Contains(errOut, "0 from the cache") {
		t.Errorf("without --embed-dimensions: exit %d, %d more embeddings calls\n%s", code, up.Calls.Load()-calls, errOut)
	}
	for _, cmd := range []string{"train", "evaluate"} {
		code, _, errOut := run(t, "learn", cmd, "--outcomes", table, "--embed", "embedder", "--spec", specFile, "--embed-dimensions", "-1", "--out", filepath.Join(dir, "neg"))
		if code != 2 || !strings.Contains(errOut, "--embed-dimensions must be ≥ 0") {
			t.Errorf("learn %s --embed-dimensions -1: exit %d\n%s", cmd, code, errOut)
		}
	}
}
