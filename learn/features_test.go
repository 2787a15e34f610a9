package learn

import (
	"slices"
	"strings"
	"testing"
)

// prompt400 is a 400-character request of the kind the gateway routes.
var prompt400 = `I have a Go service that reads JSON from a queue and writes rows to Postgres.
Under load, the p99 latency jumps from 40ms to 900ms. Explain step by step what could cause
this, compare batching inserts with COPY, and tell me which metrics to add first?
Here is the loop:
` + "```go\nfor msg := range ch { db.Exec(q, msg.ID, msg.Body); }\n```" + `
Answer in at most 5 bullet points, and keep each one short and concrete.`

func TestPromptIs400Bytes(t *testing.T) {
	if n := len(prompt400); n < 390 || n > 410 {
		t.Fatalf("prompt400 is %d bytes; the benchmarks promise about 400", n)
	}
}

func TestFeatureHashingIsStable(t *testing.T) {
	// The hashes are part of the model file format: a change here silently breaks every
	// saved model. These values were computed once and are pinned.
	f := NewFeaturizer(DefaultFeatures())
	v := f.Extract("Hello, World! Hello again.", "", "mmlu/anatomy")
	got := make([]int32, len(v.Index))
	copy(got, v.Index)
	want := []int32{4205, 54019, 53035, 4205, 59593, 21711, 11270, 590, 52891, 15763, 61141, 61361, 64212, 11262, 50320, 8495, 45916, 8719, 33810, 65536, 65537, 65550}
	if !slices.Equal(got, want) {
		t.Errorf("indices changed:\n got %#v\nwant %#v", got, want)
	}
	// Case does not matter; a second Featurizer gives the same vector.
	w := NewFeaturizer(DefaultFeatures()).Extract("hello, world! HELLO again.", "", "mmlu/anatomy")
	if !slices.Equal(w.Index, want) {
		t.Errorf("lower-cased text hashes differently: %v", w.Index)
	}
	// The same word in the user text and in the system prompt lands in different buckets.
	u := NewFeaturizer(DefaultFeatures()).Extract("", "hello", "")
	if slices.Contains(u.Index, want[0]) {
		t.Errorf("system word shares the user word's bucket %d", want[0])
	}
}

func TestStructuralFeatures(t *testing.T) {
	tests := []struct {
		explanation string
		text        string
		feature     string
		want        float64
	}{
		{"four lettered options count as options, 4/4", "Which?\nA. one\nB. two\nC) three\n(D) four", "options", 1},
		{"an option-like line inside prose does not count", "I got an A. Nice.", "options", 0},
		{"options with digits", "Sum?\nA. 1\nB. 2\nC. x\nD. y", "numeric_options", 0.5},
		{"one question mark of four", "Why is the sky blue?", "questions", 0.25},
		{"step by step is a reasoning cue; explain another; 2 of 3", "Explain it step by step", "reasoning", 2.0 / 3},
		{"'step' alone is not a reasoning cue", "one step at a time", "reasoning", 0},
		{"a code fence is worth 3 of 8 code markers", "```\nx\n```", "code", 6.0 / 8},
		{"how many is a math cue", "How many apples are left?", "math", 1.0 / 8},
		{"list items at line starts", "- a\n- b\n* c\n1. d\n2) e\n3. f", "list", 1},
		{"digits share, times 4", "ab12", "digits", 1},
		{"empty text has no length", "", "length", 0},
		{"the stem ends where the options start", "Q\nA. x", "stem", logScale(2, 16384)},
	}
	for _, tt := range tests {
		st := Structural(tt.text, "")
		j := slices.Index(StructuralNames[:], tt.feature)
		if j < 0 {
			t.Fatalf("no feature %q", tt.feature)
		}
		if d := st[j] - tt.want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: %s(%q) = %v, want %v", tt.explanation, tt.feature, tt.text, st[j], tt.want)
		}
	}
}

func TestExtractMatchesStructural(t *testing.T) {
	f := NewFeaturizer(DefaultFeatures())
	v := f.Extract(prompt400, "You are terse.", "")
	st := Structural(prompt400, "You are terse.")
	base := int32(1 << 16)
	got := Structure{}
	for n, i := range v.Index {
		if i >= base {
			got[i-base] = float64(v.Value[n])
		}
	}
	for j := range st {
		if d := got[j] - st[j]; d > 1e-6 || d < -1e-6 {
			t.Errorf("%s: vector has %v, Structural %v", StructuralNames[j], got[j], st[j])
		}
	}
}

func TestExtractDoesNotAllocate(t *testing.T) {
	f := NewFeaturizer(DefaultFeatures())
	f.Extract(prompt400, "system", "task")
	if n := testing.AllocsPerRun(100, func() { f.Extract(prompt400, "system", "task") }); n != 0 {
		t.Errorf("Extract allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { Structural(prompt400, "system") }); n != 0 {
		t.Errorf("Structural allocates %v times per call", n)
	}
}

func TestCompactMergesCollisions(t *testing.T) {
	v := Vector{Index: []int32{5, 2, 5, 9, 2}, Value: []float32{1, 2, -1, 3, 0.5}}
	v.Compact()
	if !slices.Equal(v.Index, []int32{2, 9}) || !slices.Equal(v.Value, []float32{2.5, 3}) {
		t.Errorf("Compact = %v %v, want [2 9] [2.5 3] (index 5 cancels out)", v.Index, v.Value)
	}
}

func TestMaxTextBytesBoundsTheScan(t *testing.T) {
	cfg := DefaultFeatures()
	cfg.MaxTextBytes = 64
	f := NewFeaturizer(cfg)
	long := strings.Repeat("word ", 10000)
	v := f.Extract(long, "", "")
	if len(v.Index) > 64 {
		t.Errorf("%d features from a text capped at 64 bytes", len(v.Index))
	}
}

func TestFeatureConfigValidate(t *testing.T) {
	tests := []struct {
		explanation string
		mutate      func(*FeatureConfig)
		wantErr     string
	}{
		{"the defaults are valid", func(*FeatureConfig) {}, ""},
		{"a future extraction version is refused", func(c *FeatureConfig) { c.Version = 2 }, "retrain"},
		{"too few hash bits", func(c *FeatureConfig) { c.HashBits = 4 }, "hash_bits 4"},
		{"a file with other structural features is refused", func(c *FeatureConfig) { c.Structural = []string{"length"} }, "structural features"},
	}
	for _, tt := range tests {
		c := DefaultFeatures()
		tt.mutate(&c)
		err := c.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.explanation, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", tt.explanation, err, tt.wantErr)
		}
	}
}

func BenchmarkFeatures(b *testing.B) {
	f := NewFeaturizer(DefaultFeatures())
	b.ReportAllocs()
	b.SetBytes(int64(len(prompt400)))
	for b.Loop() {
		f.Extract(prompt400, "", "support")
	}
}
