package learn

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

var subjects = []string{"france", "peru", "kenya", "japan", "chile", "norway", "egypt", "canada", "india", "spain"}

// synthetic returns outcomes for an obvious rule: "weak" passes the short factual questions
// and fails the proofs; "strong" passes both. Costs: weak $0.0001, strong $0.001.
func synthetic(n int) iter.Seq[outcomes.Row] {
	return func(yield func(outcomes.Row) bool) {
		rng := rand.New(rand.NewPCG(7, 7))
		for i := range n {
			s := subjects[rng.IntN(len(subjects))]
			hard := i%2 == 1
			prompt := fmt.Sprintf("What is the capital of %s?", s)
			if hard {
				prompt = fmt.Sprintf("Prove step by step that the map of %s cannot be coloured with three colours, and explain each lemma.", s)
			}
			item := fmt.Sprintf("item-%d", i)
			weakPass, strongPass := !hard, true
			rows := []outcomes.Row{
				{Item: item, Task: "demo", Prompt: prompt, Model: "weak", Pass: &weakPass, Cost: clearbar.MoneyFromUSD(0.0001)},
				{Item: item, Task: "demo", Prompt: prompt, Model: "strong", Score: score(strongPass), Cost: clearbar.MoneyFromUSD(0.001)},
			}
			for _, r := range rows {
				if !yield(r) {
					return
				}
			}
		}
	}
}

func score(pass bool) *float64 {
	s := 0.0
	if pass {
		s = 1
	}
	return &s
}

func trainSynthetic(t testing.TB, opts TrainOptions) (*Model, *Report) {
	t.Helper()
	m, rep, err := Train(synthetic(300), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, rep
}

func TestTrainLearnsAnObviousRule(t *testing.T) {
	m, rep := trainSynthetic(t, TrainOptions{Seed: 1})
	if got := m.Models(); len(got) != 2 || got[0] != "weak" || got[1] != "strong" {
		t.Fatalf("models %v, want [weak strong] in order of appearance", got)
	}
	p := make([]float64, 2)
	m.Predict("What is the capital of Mongolia?", "", "demo", p)
	if p[0] < 0.8 || p[1] < 0.8 {
		t.Errorf("easy question: P(weak)=%.3f P(strong)=%.3f, want both high", p[0], p[1])
	}
	m.Predict("Prove step by step that the map of Mongolia cannot be coloured with three colours, and explain each lemma.", "", "demo", p)
	if p[0] > 0.2 || p[1] < 0.8 {
		t.Errorf("proof: P(weak)=%.3f P(strong)=%.3f, want weak low and strong high", p[0], p[1])
	}
	if rep.Items != 300 || rep.Rows != 600 || len(rep.Metrics) != 2 {
		t.Errorf("report counts %d items, %d rows, %d models", rep.Items, rep.Rows, len(rep.Metrics))
	}
	if w := rep.Metrics[0]; w.PassRate != 0.5 || w.AUC < 0.95 || w.LogLoss >= w.BaseLogLoss {
		t.Errorf("weak's held-out metrics %+v: want pass rate 0.5, AUC near 1, log loss under the baseline", w)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	a, _ := trainSynthetic(t, TrainOptions{Seed: 3})
	b, _ := trainSynthetic(t, TrainOptions{Seed: 3})
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if !bytes.Equal(ja, jb) {
		t.Error("two trainings with the same rows and seed differ")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, _ := trainSynthetic(t, TrainOptions{Seed: 1, Data: "synthetic"})
	path := filepath.Join(t.TempDir(), "router.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"What is the capital of Peru?", "Prove it step by step.", "", prompt400} {
		a, b := make([]float64, 2), make([]float64, 2)
		m.Predict(text, "sys", "demo", a)
		l.Predict(text, "sys", "demo", b)
		if a[0] != b[0] || a[1] != b[1] {
			t.Errorf("%q: predictions %v before saving, %v after loading", text, a, b)
		}
	}
	if info := l.Info(); info.Data != "synthetic" || info.Items != 300 || len(info.Metrics) != 2 || info.Folds != 5 {
		t.Errorf("training metadata did not survive: %+v", info)
	}
}

func TestDecodeRejectsForeignFiles(t *testing.T) {
	m, _ := trainSynthetic(t, TrainOptions{Seed: 1, Folds: 1})
	good, _ := m.MarshalJSON()
	tests := []struct {
		explanation string
		edit        func(string) string
		wantErr     string
	}{
		{"a file from a newer format", func(s string) string { return strings.Replace(s, `"version":1,"kind"`, `"version":2,"kind"`, 1) }, "retrain"},
		{"some other JSON", func(string) string { return `{"models":["a"]}` }, "not a file written by clearbar learn train"},
		{"weights cut short", func(s string) string { return strings.Replace(s, `"weights":"`, `"weights":"AAAA`, 1) }, "weights"},
		{"a duplicated candidate", func(s string) string { return strings.Replace(s, `"strong"`, `"weak"`, 1) }, "distinct"},
		{"not JSON at all", func(string) string { return "weights,bias\n1,2\n" }, "not a model file"},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.edit(string(good))))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.explanation, err, tt.wantErr)
		}
	}
	if _, err := Decode(good); err != nil {
		t.Errorf("the unedited file: %v", err)
	}
}

func TestPredictDoesNotAllocate(t *testing.T) {
	m, _ := trainSynthetic(t, TrainOptions{Seed: 1, Folds: 1})
	p := make([]float64, 2)
	m.Predict(prompt400, "", "demo", p)
	if n := testing.AllocsPerRun(200, func() { m.Predict(prompt400, "", "demo", p) }); n != 0 {
		t.Errorf("Predict allocates %v times per call", n)
	}
}

func TestTrainCalibratesATarget(t *testing.T) {
	m, rep := trainSynthetic(t, TrainOptions{Seed: 1, Target: &Target{Quality: 0.95}})
	c := rep.Rule
	if c == nil || c.WTP == nil || !c.Met {
		t.Fatalf("no willingness-to-pay rule meeting the target: %+v", c)
	}
	ch, err := c.WTP.Bind(m.Models())
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, 2)
	m.Predict("What is the capital of Oman?", "", "demo", p)
	if got := m.Models()[ch.Choose(p)]; got != "weak" {
		t.Errorf("easy question routed to %s, want weak", got)
	}
	m.Predict("Prove step by step that the map of Oman cannot be coloured with three colours, and explain each lemma.", "", "demo", p)
	if got := m.Models()[ch.Choose(p)]; got != "strong" {
		t.Errorf("proof routed to %s, want strong", got)
	}
	if c.Point.Cost > 0.0006 {
		t.Errorf("calibrated cost $%v per request; routing proofs alone to strong costs $0.00055", c.Point.Cost)
	}
}

func TestTrainFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "outcomes.jsonl.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	w := outcomes.NewWriter(zw)
	for r := range synthetic(100) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	// A row without prompt text cannot be featurised: it is skipped and reported.
	if err := w.Write(outcomes.Row{Item: "hidden", Model: "weak", PromptHash: outcomes.HashPrompt("secret"), Score: score(true)}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m, rep, err := TrainFile(path, TrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 1 || !strings.Contains(rep.SkipReason, "no prompt text") || m.Info().Data != path {
		t.Errorf("skipped %d (%s), data %q", rep.Skipped, rep.SkipReason, m.Info().Data)
	}
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "HELD-OUT LOG LOSS") {
		t.Errorf("report text %q, err %v", out.String(), err)
	}

	if _, _, err := TrainFile(filepath.Join(dir, "missing.jsonl"), TrainOptions{}); err == nil {
		t.Error("a missing file trained")
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"item\":\"x\"}\n"), 0o644)
	if _, _, err := TrainFile(bad, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a malformed table: error %v, want one naming line 1", err)
	}
}

// TestReportAUCNeedsBothOutcomes: a candidate that passes every item has no AUC (there is
// nothing to rank), and the report says "-" rather than the 0.5 of a router no better than
// chance.
func TestReportAUCNeedsBothOutcomes(t *testing.T) {
	_, rep := trainSynthetic(t, TrainOptions{Seed: 1})
	var out strings.Builder
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(out.String()) {
		f := strings.Fields(line)
		switch {
		case len(f) == 6 && f[0] == "strong" && f[5] != "-":
			t.Errorf("the always-passing candidate has AUC %s:\n%s", f[5], out.String())
		case len(f) == 6 && f[0] == "weak" && f[5] == "-":
			t.Errorf("the weak candidate has no AUC:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "\nstrong ") {
		t.Errorf("no row for strong:\n%s", out.String())
	}
}

func TestTrainOptionErrors(t *testing.T) {
	tests := []struct {
		explanation string
		opts        TrainOptions
		wantErr     string
	}{
		{"a target needs cross-validation", TrainOptions{Folds: 1, Target: &Target{Quality: 0.9}}, "folds"},
		{"a target needs a goal", TrainOptions{Target: &Target{}}, "exactly one"},
		{"a learning rate must be positive", TrainOptions{LearningRate: -1}, "learning rate"},
	}
	for _, tt := range tests {
		_, _, err := Train(synthetic(10), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tt.explanation, err, tt.wantErr)
		}
	}
	if _, _, err := Train(func(func(outcomes.Row) bool) {}, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("no rows: error %v", err)
	}
}

// TestTrainRefusesAnUngradedCandidate: a candidate none of whose rows is graded (every call
// failed) has no P(pass) to learn; training it would give it the other candidates' shared
// weights as its prediction, so Train refuses and says what to do.
func TestTrainRefusesAnUngradedCandidate(t *testing.T) {
	rows := func(yield func(outcomes.Row) bool) {
		for r := range synthetic(40) {
			if r.Model == "strong" {
				r.Pass, r.Score, r.Error = nil, nil, "timeout"
			}
			if !yield(r) {
				return
			}
		}
	}
	_, _, err := Train(rows, TrainOptions{Seed: 1})
	if err == nil || !strings.Contains(err.Error(), `model "strong" has no graded row among the 40 items`) || !strings.Contains(err.Error(), "--models") {
		t.Errorf("a candidate without a graded row: %v", err)
	}
}

func TestNewDatasetLabels(t *testing.T) {
	yes, no := true, false
	half := 0.4
	rows := []outcomes.Row{
		{Item: "a", Prompt: "p", Model: "m", Pass: &yes},
		{Item: "a", Prompt: "p", Model: "m", Pass: &no},    // a repeat: labels average
		{Item: "a", Prompt: "p", Model: "n", Score: &half}, // Score < 0.5 is a fail
		{Item: "b", Prompt: "q", Model: "m"},               // no grade: NaN
		{Item: "b", Prompt: "q", Model: "x"},               // not a candidate
	}
	ds := NewDataset("t", sliceSeq(rows), []string{"m", "n"})
	if len(ds.Items) != 2 || ds.Skipped != 1 {
		t.Fatalf("%d items, %d skipped", len(ds.Items), ds.Skipped)
	}
	a, b := ds.Items[0], ds.Items[1]
	if a.Pass[0] != 0.5 || a.Pass[1] != 0 || !math.IsNaN(b.Pass[0]) || !math.IsNaN(b.Pass[1]) {
		t.Errorf("labels a=%v b=%v, want [0.5 0] and [NaN NaN]", a.Pass, b.Pass)
	}
}

// benchModel builds a model with k candidates and random weights over the default features.
func benchModel(k int) *Model { return benchModelFor(DefaultFeatures(), k) }

// benchModelFor builds a model with k candidates and random weights over cfg's features.
func benchModelFor(cfg FeatureConfig, k int) *Model {
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, cfg.Dim()*k)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.1)
	}
	names := make([]string, k)
	for j := range names {
		names[j] = fmt.Sprintf("model-%d", j)
	}
	m, err := newModel(cfg, names, make([]float32, k), w, TrainingInfo{})
	if err != nil {
		panic(err)
	}
	return m
}

func BenchmarkPredict(b *testing.B) {
	for _, k := range []int{2, 11} {
		b.Run(fmt.Sprintf("models=%d", k), func(b *testing.B) {
			m := benchModel(k)
			p := make([]float64, k)
			b.ReportAllocs()
			for b.Loop() {
				m.Predict(prompt400, "You are a helpful assistant.", "support", p)
			}
		})
	}
}

func BenchmarkPredictParallel(b *testing.B) {
	m := benchModel(11)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		p := make([]float64, 11)
		for pb.Next() {
			m.Predict(prompt400, "You are a helpful assistant.", "support", p)
		}
	})
}

func TestModelIsTheMeanOfItsFolds(t *testing.T) {
	ds := NewDataset("synthetic", synthetic(300), nil)
	m, _, err := TrainDataset(ds, TrainOptions{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); !info.FoldMean || info.Folds != 5 {
		t.Errorf("training info %+v: want the mean of 5 folds", info)
	}
	// Retrain the folds by hand: the model's P(pass) is the Platt-scaled mean of their logits
	// (own weights plus the shared column).
	opts := TrainOptions{Seed: 4}.withDefaults()
	p := prepare(ds, opts.Features)
	idx := make([]int, len(ds.Items))
	for i := range idx {
		idx[i] = i
	}
	oof, folds := crossPredict(p, idx, opts, "cv")
	a, b := plattAll(ds, idx, oof)
	k := len(ds.Models)
	for _, text := range []string{"What is the capital of Oman?", "Prove step by step that it holds.", prompt400} {
		v := NewFeaturizer(opts.Features).Extract(text, "", "demo")
		got := make([]float64, k)
		m.PredictVector(v, got)
		for j := range k {
			var z float64
			for _, f := range folds {
				z += f.b[j] / float64(len(folds))
				for n, i := range v.Index {
					z += float64(v.Value[n]) * (f.w[int(i)*(k+1)+j] + f.w[int(i)*(k+1)+k]) / float64(len(folds))
				}
			}
			if want := sigmoid(a[j]*z + b[j]); math.Abs(got[j]-want) > 1e-4 {
				t.Errorf("%q, %s: P(pass) %.6f, want %.6f from the mean of the folds", text, ds.Models[j], got[j], want)
			}
		}
	}
	one, _, err := TrainDataset(ds, TrainOptions{Seed: 4, Folds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if info := one.Info(); info.FoldMean || info.Folds != 0 {
		t.Errorf("without cross-validation the training info says %+v", info)
	}
}
