package learn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/clearbar/clearbar/internal/embedtest"
	"github.com/clearbar/clearbar/outcomes"
)

// fakeEmbed is an in-process EmbedFunc with embedtest's vectors, counting calls and texts.
type fakeEmbed struct {
	dims         int
	mu           sync.Mutex
	calls, texts int
	fail         error
}

func (f *fakeEmbed) embed(_ context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.calls++
	f.texts += len(texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = embedtest.Vector(t, f.dims)
	}
	return out, nil
}

// embedDataset returns the synthetic items from..to-1 with their embeddings.
func embedDataset(t testing.TB, from, to, dims int) *Dataset {
	t.Helper()
	ds := NewDataset("embedtest", slices.Values(embedtest.Rows(from, to)), []string{"small", "strong"})
	f := &fakeEmbed{dims: dims}
	if _, err := EmbedDataset(context.Background(), ds, f.embed, EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}}); err != nil {
		t.Fatal(err)
	}
	return ds
}

func withEmbedding(model string) FeatureConfig {
	cfg := DefaultFeatures()
	cfg.Embedding = &EmbeddingConfig{Model: model, Normalize: true}
	return cfg
}

// heldOut returns a model's log loss and AUC for "small" on items, with their embeddings or
// (useEmb false) without.
func heldOut(m *Model, items []Item, useEmb bool) (logLoss, area float64, usedAll bool) {
	usedAll = true
	var ps, ys []float64
	out := make([]float64, 2)
	for _, it := range items {
		var emb []float32
		if useEmb {
			emb = it.Embedding
		}
		if !m.PredictWith(it.Prompt, "", it.Task, emb, out) {
			usedAll = false
		}
		p := min(max(out[0], 1e-6), 1-1e-6)
		y := it.Pass[0]
		logLoss -= y*math.Log(p) + (1-y)*math.Log(1-p)
		ps, ys = append(ps, out[0]), append(ys, y)
	}
	return logLoss / float64(len(items)), auc(ps, ys), usedAll
}

// TestEmbeddingBeatsWordsOnHeldOut trains on prompts whose words say nothing of their
// difficulty and whose embeddings do: the router with an embedding block predicts held-out
// items well, the one without cannot, and without a vector the embedding router falls back to
// about the base rate.
func TestEmbeddingBeatsWordsOnHeldOut(t *testing.T) {
	const dims = 32
	train := embedDataset(t, 0, 600, dims)
	test := embedDataset(t, 600, 900, dims)

	plain, _, err := TrainDataset(train, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	withEmb, rep, err := TrainDataset(train, TrainOptions{Seed: 1, Features: withEmbedding("embedder")})
	if err != nil {
		t.Fatal(err)
	}
	e := withEmb.Embedding()
	if e == nil || e.Dims != dims || e.Model != "embedder" || !e.Normalize || !(e.Scale > 0) || plain.Embedding() != nil {
		t.Fatalf("embedding block %+v; plain model's %+v", e, plain.Embedding())
	}
	if info := withEmb.Info(); info.EmbedDropout != 0.1 {
		t.Errorf("training info records embedding dropout %v, want the default 0.1", info.EmbedDropout)
	}

	var base float64
	for _, it := range test.Items {
		base += it.Pass[0]
	}
	base /= float64(len(test.Items))
	baseLoss := -(base*math.Log(base) + (1-base)*math.Log(1-base))

	plainLoss, plainAUC, _ := heldOut(plain, test.Items, false)
	embLoss, embAUC, used := heldOut(withEmb, test.Items, true)
	fbLoss, fbAUC, fbUsed := heldOut(withEmb, test.Items, false)
	t.Logf("held-out small: base rate %.3f (log loss %.4f); words only: log loss %.4f AUC %.3f; with embedding: %.4f AUC %.3f; embedding router without vectors: %.4f AUC %.3f",
		base, baseLoss, plainLoss, plainAUC, embLoss, embAUC, fbLoss, fbAUC)
	if !used || fbUsed {
		t.Fatalf("PredictWith reported used=%v with vectors and %v without", used, fbUsed)
	}
	if embAUC < 0.9 || embLoss > 0.6*baseLoss {
		t.Errorf("with embeddings: AUC %.3f, log loss %.4f (base %.4f); want AUC ≥ 0.9 and a log loss under 60%% of the base", embAUC, embLoss, baseLoss)
	}
	if plainAUC > 0.65 {
		t.Errorf("words alone reach AUC %.3f on prompts whose words are uninformative: the test data leaks", plainAUC)
	}
	if embLoss >= plainLoss-0.1 {
		t.Errorf("the embedding router's held-out log loss %.4f does not beat the words-only router's %.4f", embLoss, plainLoss)
	}
	// Without a vector, the block contributes nothing: the prediction for an average
	// embedding, near the base rate, no worse than the words-only router by much.
	if fbLoss > baseLoss+0.05 || fbLoss > plainLoss+0.05 {
		t.Errorf("fallback log loss %.4f; base %.4f, words only %.4f", fbLoss, baseLoss, plainLoss)
	}
	// The report's fallback figures are the out-of-fold ones of the same thing.
	m0 := rep.Metrics[0]
	if m0.FallbackLogLoss == 0 || m0.FallbackLogLoss < m0.LogLoss || m0.FallbackAUC > 0.7 || m0.AUC < 0.9 {
		t.Errorf("report metrics %+v", m0)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "WITHOUT EMBEDDING") {
		t.Errorf("report without the fallback columns:\n%s", text.String())
	}

	// A vector of the wrong length, or holding NaN, is not used either.
	out, want := make([]float64, 2), make([]float64, 2)
	it := test.Items[0]
	withEmb.Predict(it.Prompt, "", it.Task, want)
	for _, bad := range [][]float32{it.Embedding[:dims-1], append(slices.Clone(it.Embedding[:dims-1]), float32(math.NaN())), make([]float32, dims)} {
		if withEmb.PredictWith(it.Prompt, "", it.Task, bad, out) || !slices.Equal(out, want) {
			t.Errorf("a bad vector (len %d) was used: %v, want the fallback %v", len(bad), out, want)
		}
		if err := e.CheckVector(bad); err == nil {
			t.Errorf("CheckVector accepts a bad vector of %d values", len(bad))
		}
	}
}

// TestEmbeddingModelFile saves and loads a model with an embedding block: the same
// predictions, with and without a vector.
func TestEmbeddingModelFile(t *testing.T) {
	ds := embedDataset(t, 0, 200, 16)
	m, _, err := TrainDataset(ds, TrainOptions{Seed: 2, Folds: 2, Features: withEmbedding("embedder")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "router.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if blk, ok := f["embedding_block"]; !ok || !bytes.Contains(blk, []byte(`"fallback_scale":[`)) || !bytes.Contains(f["features"], []byte(`"embedding":{"model":"embedder","dims":16`)) {
		t.Errorf("model file features %s, embedding block %.100s", f["features"], blk)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]float64, 2), make([]float64, 2)
	for _, it := range ds.Items[:20] {
		for _, emb := range [][]float32{it.Embedding, nil} {
			ua := m.PredictWith(it.Prompt, "", it.Task, emb, a)
			ub := back.PredictWith(it.Prompt, "", it.Task, emb, b)
			if ua != ub || ua != (emb != nil) || !slices.Equal(a, b) {
				t.Fatalf("loaded model predicts %v (used %v), trained %v (used %v)", b, ub, a, ua)
			}
		}
	}

	// A file whose embedding block lost its mean, or whose mean has the wrong length, is refused.
	for name, edit := range map[string]func(map[string]json.RawMessage){
		"no block": func(f map[string]json.RawMessage) { delete(f, "embedding_block") },
		"short mean": func(f map[string]json.RawMessage) {
			f["embedding_block"] = json.RawMessage(`{"mean":"AAAAAA==","fallback_scale":[1,1],"fallback_bias":[0,0]}`)
		},
		"no calibration": func(f map[string]json.RawMessage) {
			f["embedding_block"] = bytes.Replace(f["embedding_block"], []byte(`"fallback_bias":[`), []byte(`"fallback_bias":[],"x":[`), 1)
		},
		"no scale": func(f map[string]json.RawMessage) {
			f["features"] = bytes.Replace(f["features"], []byte(`"scale":`), []byte(`"scale":0,"x":`), 1)
		},
	} {
		g := map[string]json.RawMessage{}
		for k, v := range f {
			g[k] = v
		}
		edit(g)
		b, _ := json.Marshal(g)
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: Decode accepted the file", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestModelFileBeforeEmbeddings loads a model file written before embedding blocks existed:
// it predicts exactly as it did then, and saves back byte for byte.
func TestModelFileBeforeEmbeddings(t *testing.T) {
	const path = "testdata/router-before-embeddings.json"
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Embedding() != nil || m.Features().Embedding != nil || m.Features().Dim() != 1<<10+NumStructural {
		t.Fatalf("features %+v", m.Features())
	}
	// What the model predicted when the file was written.
	for _, tc := range []struct {
		prompt        string
		small, strong float64
	}{
		{"What is the capital of Peru?", 0.9999863124200514, 0.9999998398720481},
		{"Prove step by step that there are infinitely many primes.", 0.8544899433704988, 0.9999991711449563},
		{"", 0.9437279825976077, 0.9999966534280714},
	} {
		out := make([]float64, 2)
		m.Predict(tc.prompt, "Be brief.", "qa", out)
		if out[0] != tc.small || out[1] != tc.strong {
			t.Errorf("%q: P(pass) %v, want %v %v as when the file was written", tc.prompt, out, tc.small, tc.strong)
		}
		with := make([]float64, 2)
		if m.PredictWith(tc.prompt, "Be brief.", "qa", []float32{1, 2, 3}, with) || !slices.Equal(with, out) {
			t.Errorf("%q: a model without an embedding block used a vector: %v", tc.prompt, with)
		}
	}
	want, _ := os.ReadFile(path)
	got, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(got, '\n'), want) {
		t.Errorf("the file does not save back byte for byte")
	}
}

// TestTrainEmbeddingErrors checks the errors of training with an embedding block.
func TestTrainEmbeddingErrors(t *testing.T) {
	ds := embedDataset(t, 0, 40, 8)
	missing := *ds
	missing.Items = slices.Clone(ds.Items)
	missing.Items[3].Embedding = nil
	short := *ds
	short.Items = slices.Clone(ds.Items)
	short.Items[5].Embedding = short.Items[5].Embedding[:4]
	for name, tc := range map[string]struct {
		ds   *Dataset
		opts TrainOptions
		want string
	}{
		"missing vector": {&missing, TrainOptions{Features: withEmbedding("e")}, `item "t3" has no embedding`},
		"short vector":   {&short, TrainOptions{Features: withEmbedding("e")}, `item "t5": the vector has 4 values; the router was trained on 8`},
		"no model":       {ds, TrainOptions{Features: withEmbedding("")}, "embedding: model is missing"},
		"dropout":        {ds, TrainOptions{Features: withEmbedding("e"), EmbedDropout: 1}, "embedding dropout 1 must be less than 1"},
		"dropout NaN":    {ds, TrainOptions{Features: withEmbedding("e"), EmbedDropout: math.NaN()}, "embedding dropout NaN is not a number"},
	} {
		_, _, err := TrainDataset(tc.ds, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestEmbedDatasetCache embeds through a cache file: a rerun makes no call, another
// dimensions setting is another key, a last line cut short is dropped and a corrupt line
// elsewhere is an error.
func TestEmbedDatasetCache(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "router.embeddings.jsonl")
	rows := embedtest.Rows(0, 50)
	rows = append(rows, rows[:10]...) // repeated items: no extra text
	newDS := func() *Dataset { return NewDataset("x", slices.Values(rows), nil) }
	f := &fakeEmbed{dims: 8}
	opts := EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}, CacheModel: "openai:" + embedtest.Model, Batch: 7, Concurrency: 3, Cache: cache}

	ds := newDS()
	st, err := EmbedDataset(context.Background(), ds, f.embed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if st != (EmbedStats{Texts: 50, Cached: 0, Calls: 8}) || f.calls != 8 || f.texts != 50 {
		t.Fatalf("first run: %+v, %d calls of %d texts", st, f.calls, f.texts)
	}
	for _, it := range ds.Items {
		if !slices.Equal(it.Embedding, embedtest.Vector(it.Prompt, 8)) {
			t.Fatalf("item %s: wrong vector", it.ID)
		}
	}

	ds2 := newDS()
	st, err = EmbedDataset(context.Background(), ds2, f.embed, opts)
	if err != nil || st != (EmbedStats{Texts: 50, Cached: 50}) || f.calls != 8 {
		t.Fatalf("rerun: %+v %v, %d calls in all", st, err, f.calls)
	}
	for i := range ds.Items {
		if !slices.Equal(ds.Items[i].Embedding, ds2.Items[i].Embedding) {
			t.Fatalf("item %d: the cached vector differs", i)
		}
	}

	// An interrupted write: the last line cut short is dropped and its text embedded again.
	data, _ := os.ReadFile(cache)
	lines := bytes.SplitAfter(data, []byte("\n"))
	cut := append(bytes.Join(lines[:len(lines)-2], nil), lines[len(lines)-2][:20]...)
	if err := os.WriteFile(cache, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	f.calls, f.texts = 0, 0
	if st, err := EmbedDataset(context.Background(), newDS(), f.embed, opts); err != nil || st.Cached != 49 || f.texts != 1 {
		t.Fatalf("after a cut line: %+v %v, %d texts embedded", st, err, f.texts)
	}
	if _, err := EmbedDataset(context.Background(), newDS(), f.embed, opts); err != nil {
		t.Fatalf("the repaired cache does not read back: %v", err)
	}

	// Another dimensions setting asks again.
	o := opts
	o.Config.Dimensions = 4
	f4 := &fakeEmbed{dims: 4}
	if st, err := EmbedDataset(context.Background(), newDS(), f4.embed, o); err != nil || st.Cached != 0 || f4.texts != 50 {
		t.Fatalf("dimensions 4: %+v %v", st, err)
	}

	// A corrupt line in the middle is an error naming the file and line.
	data, _ = os.ReadFile(cache)
	lines = bytes.SplitAfter(data, []byte("\n"))
	lines[2] = []byte("not json\n")
	os.WriteFile(cache, bytes.Join(lines, nil), 0o644)
	if _, err := EmbedDataset(context.Background(), newDS(), f.embed, opts); err == nil || !strings.Contains(err.Error(), cache+":3: not a cache line") {
		t.Errorf("corrupt cache: %v", err)
	}

	// A failing endpoint stops the run with an error that says which texts.
	bad := &fakeEmbed{dims: 8, fail: fmt.Errorf("503 service unavailable")}
	o = opts
	o.Cache = ""
	if _, err := EmbedDataset(context.Background(), newDS(), bad.embed, o); err == nil || !strings.Contains(err.Error(), "with embedder: 503 service unavailable") {
		t.Errorf("failing endpoint: %v", err)
	}
}

func TestEmbeddingInput(t *testing.T) {
	e := &EmbeddingConfig{MaxTextBytes: 30}
	if got := e.Input("short"); got != "short" {
		t.Errorf("short text: %q", got)
	}
	long := strings.Repeat("é", 20) + "THE QUESTION?"
	got := e.Input(long)
	if !strings.HasPrefix(got, "éééé") || !strings.HasSuffix(got, "THE QUESTION?") || !strings.Contains(got, "\n…\n") || len(got) > 30+len("\n…\n") {
		t.Errorf("long text cut to %q", got)
	}
	if !utf8Valid(got) {
		t.Errorf("cut inside a character: %q", got)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// benchEmbeddingModel builds a model with k candidates, random weights and an embedding block
// of dims values.
func benchEmbeddingModel(k, dims int) (*Model, []float32) {
	cfg := DefaultFeatures()
	cfg.Embedding = &EmbeddingConfig{Model: "text-embedding-3-small", Dims: dims, Normalize: true, Scale: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, cfg.Dim()*k)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.1)
	}
	mean, emb := make([]float32, dims), make([]float32, dims)
	for i := range mean {
		mean[i] = float32(rng.NormFloat64() * 0.01)
		emb[i] = float32(rng.NormFloat64())
	}
	names := make([]string, k)
	for j := range names {
		names[j] = fmt.Sprintf("model-%d", j)
	}
	m, err := newModelBlock(cfg, names, make([]float32, k), w, embBlock{mean: mean, fbScale: make([]float32, k), fbBias: make([]float32, k)}, TrainingInfo{})
	if err != nil {
		panic(err)
	}
	return m, emb
}

// BenchmarkPredictWith times PredictWith with a 1536-value embedding (OpenAI's
// text-embedding-3-small) and a 400-character prompt.
func BenchmarkPredictWith(b *testing.B) {
	for _, k := range []int{2, 11} {
		b.Run(fmt.Sprintf("models=%d/dims=1536", k), func(b *testing.B) {
			m, emb := benchEmbeddingModel(k, 1536)
			p := make([]float64, k)
			b.ReportAllocs()
			for b.Loop() {
				if !m.PredictWith(prompt400, "You are a helpful assistant.", "support", emb, p) {
					b.Fatal("the vector was not used")
				}
			}
		})
	}
}

func TestPredictWithDoesNotAllocate(t *testing.T) {
	m, emb := benchEmbeddingModel(2, 1536)
	p := make([]float64, 2)
	m.PredictWith(prompt400, "", "support", emb, p)
	if n := testing.AllocsPerRun(100, func() { m.PredictWith(prompt400, "", "support", emb, p) }); n != 0 {
		t.Errorf("PredictWith allocates %v times per call", n)
	}
}

// TestEmbedDatasetCacheLastLineWithoutNewline resumes from a cache whose last line is whole
// but lost its newline (a run stopped between writing a vector and its line end): the vector
// is kept, and the lines appended after it stay lines of their own.
func TestEmbedDatasetCacheLastLineWithoutNewline(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "router.embeddings.jsonl")
	newDS := func(n int) *Dataset { return NewDataset("x", slices.Values(embedtest.Rows(0, n)), nil) }
	f := &fakeEmbed{dims: 8}
	opts := EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}, Batch: 4, Cache: cache}
	if _, err := EmbedDataset(context.Background(), newDS(10), f.embed, opts); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cache)
	if err := os.WriteFile(cache, bytes.TrimSuffix(data, []byte("\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	f.texts = 0
	if st, err := EmbedDataset(context.Background(), newDS(20), f.embed, opts); err != nil || st.Cached != 10 || f.texts != 10 {
		t.Fatalf("resuming: %+v %v, %d texts embedded", st, err, f.texts)
	}
	f.texts = 0
	ds := newDS(20)
	if st, err := EmbedDataset(context.Background(), ds, f.embed, opts); err != nil || st.Cached != 20 || f.texts != 0 {
		t.Fatalf("reading back: %+v %v, %d texts embedded", st, err, f.texts)
	}
	for _, it := range ds.Items {
		if !slices.Equal(it.Embedding, embedtest.Vector(it.Prompt, 8)) {
			t.Fatalf("item %s: wrong vector", it.ID)
		}
	}
}

// TestEmbedDatasetBatchBytes keeps every call within the input a call may carry (OpenAI's
// 300,000 tokens, a token covering at least one byte), however many texts a batch may hold.
func TestEmbedDatasetBatchBytes(t *testing.T) {
	var rows []outcomes.Row
	yes := true
	for i := range 100 {
		p := strings.Repeat(embedtest.Prompt(i)+" ", 200) // cut to DefaultEmbedTextBytes
		rows = append(rows, outcomes.Row{Item: fmt.Sprint(i), Prompt: p, Model: "m", Pass: &yes})
	}
	ds := NewDataset("long", slices.Values(rows), nil)
	var mu sync.Mutex
	most, texts := 0, 0
	embed := func(_ context.Context, in []string) ([][]float32, error) {
		n := 0
		for _, s := range in {
			n += len(s)
		}
		mu.Lock()
		most, texts = max(most, n), texts+len(in)
		mu.Unlock()
		out := make([][]float32, len(in))
		for i, s := range in {
			out[i] = embedtest.Vector(s, 4)
		}
		return out, nil
	}
	st, err := EmbedDataset(context.Background(), ds, embed, EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}, Batch: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if most > maxEmbedBatchBytes || texts != 100 || st.Calls < 3 {
		t.Errorf("%d calls, the largest of %d bytes, %d texts in all; want at most %d bytes a call", st.Calls, most, texts, maxEmbedBatchBytes)
	}
}

// TestPredictVectorWithEmbeddingBlock checks that PredictVector, like Predict, predicts for
// a model with an embedding block through its calibration without a vector.
func TestPredictVectorWithEmbeddingBlock(t *testing.T) {
	ds := embedDataset(t, 0, 200, 16)
	m, _, err := TrainDataset(ds, TrainOptions{Seed: 2, Folds: 2, Features: withEmbedding("embedder")})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFeaturizer(m.Features())
	want, got := make([]float64, 2), make([]float64, 2)
	for _, it := range ds.Items[:20] {
		m.Predict(it.Prompt, "", it.Task, want)
		m.PredictVector(f.Extract(it.Prompt, "", it.Task), got)
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-12 {
				t.Fatalf("item %s: PredictVector %v, Predict %v", it.ID, got, want)
			}
		}
	}
}

// TestEmbedDatasetKeyEndpoint keys the cache by the provider's endpoint too: two servers of
// one model id do not share vectors, spellings of one base URL do, and options without an
// endpoint keep the keys of caches written before the endpoint was part of the key.
func TestEmbedDatasetKeyEndpoint(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "router.embeddings.jsonl")
	newDS := func() *Dataset { return NewDataset("x", slices.Values(embedtest.Rows(0, 10)), nil) }
	f := &fakeEmbed{dims: 8}
	opts := EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}, CacheModel: "openai-compatible:" + embedtest.Model, Cache: cache}

	a := opts
	a.Endpoint = "http://127.0.0.1:9001/v1"
	if st, err := EmbedDataset(context.Background(), newDS(), f.embed, a); err != nil || st.Cached != 0 || f.texts != 10 {
		t.Fatalf("server a: %+v %v", st, err)
	}
	b := opts
	b.Endpoint = "http://127.0.0.1:9002/v1"
	if st, err := EmbedDataset(context.Background(), newDS(), f.embed, b); err != nil || st.Cached != 0 || f.texts != 20 {
		t.Fatalf("server b shares server a's vectors: %+v %v", st, err)
	}
	a.Endpoint = " HTTP://127.0.0.1:9001/v1/ "
	if st, err := EmbedDataset(context.Background(), newDS(), f.embed, a); err != nil || st.Cached != 10 || f.texts != 20 {
		t.Fatalf("another spelling of server a's base URL: %+v %v", st, err)
	}

	// Without an endpoint the key is the one caches had before it counted.
	if _, err := EmbedDataset(context.Background(), newDS(), f.embed, opts); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cache)
	old := embedKey(opts.CacheModel, 0, embedtest.Prompt(0))
	h := sha256.Sum256([]byte(opts.CacheModel + "\x000\x00" + embedtest.Prompt(0)))
	if old != hex.EncodeToString(h[:]) || !bytes.Contains(data, []byte(old)) {
		t.Errorf("the key without an endpoint changed")
	}
}

// TestEmbedDatasetWrongLength writes no vector of the wrong length to the cache: a rerun
// must not find it and train on it.
func TestEmbedDatasetWrongLength(t *testing.T) {
	for _, dims := range []int{8, 0} {
		cache := filepath.Join(t.TempDir(), "router.embeddings.jsonl")
		ds := NewDataset("x", slices.Values(embedtest.Rows(0, 6)), nil)
		bad := ds.Items[3].Prompt
		embed := func(_ context.Context, texts []string) ([][]float32, error) {
			out := make([][]float32, len(texts))
			for i, s := range texts {
				out[i] = embedtest.Vector(s, 8)
				if s == bad {
					out[i] = out[i][:5]
				}
			}
			return out, nil
		}
		_, err := EmbedDataset(context.Background(), ds, embed, EmbedOptions{Config: EmbeddingConfig{Model: "embedder", Dims: dims}, Batch: 1, Concurrency: 1, Cache: cache})
		if err == nil || !strings.Contains(err.Error(), "5 values") {
			t.Errorf("dims %d: a vector of 5 values among vectors of 8: %v", dims, err)
		}
		c, err := openEmbedCache(cache)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.vecs {
			if len(v) != 8 {
				t.Errorf("dims %d: the cache holds a vector of %d values under %s", dims, len(v), k)
			}
		}
		if len(c.vecs) != 3 {
			t.Errorf("dims %d: the cache holds %d vectors, want the 3 received before the bad one", dims, len(c.vecs))
		}
		c.close()
	}
}

// TestEmbedStatsCountsCallsMade counts in EmbedStats.Calls the calls made, not those planned:
// after a failure the batches not yet sent are not called.
func TestEmbedStatsCountsCallsMade(t *testing.T) {
	ds := NewDataset("x", slices.Values(embedtest.Rows(0, 10)), nil)
	f := &fakeEmbed{dims: 8, fail: fmt.Errorf("down")}
	calls := 0
	embed := func(ctx context.Context, texts []string) ([][]float32, error) {
		calls++ // one call at a time (Concurrency 1)
		return f.embed(ctx, texts)
	}
	st, err := EmbedDataset(context.Background(), ds, embed, EmbedOptions{Config: EmbeddingConfig{Model: "embedder"}, Batch: 1, Concurrency: 1})
	if err == nil || st.Calls != calls || calls != 1 {
		t.Errorf("%+v, %v: %d calls made", st, err, calls)
	}
}

// TestReadEmbedCache looks up, as replay does, the vectors learn train cached for prompts.
func TestReadEmbedCache(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "router.embeddings.jsonl")
	f := &fakeEmbed{dims: 8}
	opts := EmbedOptions{Config: EmbeddingConfig{Model: "embedder", MaxTextBytes: 40}, CacheModel: "openai-compatible:m", Endpoint: "http://127.0.0.1:1/v1", Cache: cache}
	ds := NewDataset("x", slices.Values(embedtest.Rows(0, 10)), nil)
	if _, err := EmbedDataset(context.Background(), ds, f.embed, opts); err != nil {
		t.Fatal(err)
	}
	c, err := ReadEmbedCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range ds.Items {
		if v := c.Vector(opts, it.Prompt); !slices.Equal(v, it.Embedding) {
			t.Fatalf("item %s: looked up %v", it.ID, v)
		}
	}
	if v := c.Vector(opts, embedtest.Prompt(99)); v != nil {
		t.Errorf("a prompt never embedded has a vector")
	}
	other := opts
	other.Endpoint = "http://127.0.0.1:2/v1"
	if v := c.Vector(other, ds.Items[0].Prompt); v != nil {
		t.Errorf("another endpoint's lookup found a vector")
	}
	if _, err := ReadEmbedCache(filepath.Join(t.TempDir(), "none.jsonl")); err == nil {
		t.Errorf("a missing cache file reads")
	}
}
