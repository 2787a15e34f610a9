package learn

import (
	"fmt"
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
		{"a future extraction version is refused", func(c *FeatureConfig) { c.Version = FeatureVersion + 1 }, "retrain"},
		{"tail bytes need version 2", func(c *FeatureConfig) { c.Version = 1 }, "version 2"},
		{"the tail must leave room for the head", func(c *FeatureConfig) { c.TailBytes = c.MaxTextBytes }, "less than max_text_bytes"},
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

// prompt5K is a 5,000-byte request: pseudo-random words (so that most of them hash to
// distinct buckets, the worst case for the weight matrix's cache), in sentences and lines,
// ending with a question.
var prompt5K = func() string {
	var b strings.Builder
	x := uint64(12345)
	next := func() uint64 {
		x = x*6364136223846793005 + 1442695040888963407
		return x >> 33
	}
	const question = "\nGiven all of the above, which of the three options is the safest, and why?"
	for b.Len() < 5000-len(question) {
		n := 2 + int(next()%9)
		for range n {
			b.WriteByte(byte('a' + next()%26))
		}
		switch next() % 16 {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString(", ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()[:5000-len(question)] + question
}()

func TestPromptIs5KB(t *testing.T) {
	if len(prompt5K) != 5000 {
		t.Fatalf("prompt5K is %d bytes", len(prompt5K))
	}
}

// replaceAt returns text with the bytes at i replaced by r.
func replaceAt(text string, i int, r string) string { return text[:i] + r + text[i+len(r):] }

func TestTailWindow(t *testing.T) {
	cfg := DefaultFeatures() // the first 512 and the last 1024 bytes
	extract := func(cfg FeatureConfig, text string) []int32 {
		v := NewFeaturizer(cfg).Extract(text, "", "")
		v.Compact()
		return slices.Clone(v.Index)
	}
	base := extract(cfg, prompt5K)
	tests := []struct {
		explanation string
		at          int
		changes     bool
	}{
		{"a word at the start is read", 0, true},
		{"a word just before the head's end is read", 480, true},
		{"the middle of a long text is skipped", 2500, false},
		{"a word just before the tail is skipped", 5000 - 1024 - 40, false},
		{"a word in the tail is read", 4500, true},
		{"the question at the end is read", 4990, true},
	}
	for _, tt := range tests {
		got := extract(cfg, replaceAt(prompt5K, tt.at, "zq"))
		if changed := !slices.Equal(got, base); changed != tt.changes {
			t.Errorf("%s: vector changed %v, want %v", tt.explanation, changed, tt.changes)
		}
	}
	// The cuts move to word boundaries: a word straddling the head's end is left out whole
	// (replacing it changes nothing), and one straddling the tail's start too.
	long := strings.Repeat("ab ", 170) + "xxxxxxxxxxxxxxxxxxxx" + strings.Repeat(" cd", 1000) // 510..530 is one word
	other := strings.Replace(long, "xxxxxxxxxxxxxxxxxxxx", "yyyyyyyyyyyyyyyyyyyy", 1)
	if !slices.Equal(extract(cfg, long), extract(cfg, other)) {
		t.Error("a word cut by the head's end was hashed")
	}
	tailStart := len(long) - 1024
	split := replaceAt(long, tailStart-10, "zzzzzzzzzzzzzzzzzzzz")
	splitOther := replaceAt(long, tailStart-10, "wwwwwwwwwwwwwwwwwwww")
	if !slices.Equal(extract(cfg, split), extract(cfg, splitOther)) {
		t.Error("a word cut by the tail's start was hashed")
	}
	// Version 1 reads a prefix only.
	v1 := cfg
	v1.Version, v1.TailBytes = 1, 0
	if !slices.Equal(extract(v1, prompt5K), extract(v1, replaceAt(prompt5K, 4990, "zq"))) {
		t.Error("a version-1 configuration read the end of a long text")
	}
	if slices.Equal(extract(v1, prompt5K), extract(v1, replaceAt(prompt5K, 1400, "zq"))) {
		t.Error("a version-1 configuration did not read its 1536-byte prefix")
	}
	// Options read in the tail give the stem's length in the whole text.
	q := strings.Repeat("word ", 1000) + "Which one?\nA. one\nB. two\nC. three\nD. four"
	v := NewFeaturizer(cfg).Extract(q, "", "")
	stem := strings.Index(q, "A. one")
	var got float32
	for n, i := range v.Index {
		if i == int32(1<<cfg.HashBits)+fStem {
			got = v.Value[n]
		}
	}
	if want := float32(logScale(stem, 16384)); got != want {
		t.Errorf("stem feature %v, want %v (%d bytes before the first option)", got, want, stem)
	}
}

func BenchmarkPredict5KB(b *testing.B) {
	v1 := DefaultFeatures()
	v1.Version, v1.MaxTextBytes, v1.TailBytes = 1, 16384, 0
	for _, tc := range []struct {
		name string
		cfg  FeatureConfig
	}{
		// The configuration every model had before feature version 2: a 16 KiB prefix.
		{"v1-prefix-16KiB", v1},
		{"default", DefaultFeatures()},
	} {
		for _, k := range []int{2, 11} {
			b.Run(fmt.Sprintf("%s/models=%d", tc.name, k), func(b *testing.B) {
				m := benchModelFor(tc.cfg, k)
				p := make([]float64, k)
				b.ReportAllocs()
				for b.Loop() {
					m.Predict(prompt5K, "You are a helpful assistant.", "support", p)
				}
			})
		}
	}
}

func BenchmarkRequestShare5KB(b *testing.B) {
	b.SetBytes(int64(len(prompt5K)))
	for b.Loop() {
		RequestShare(prompt5K)
	}
}

// TestStructuralWindow: StructuralWindow is what the default features read of a request's
// structure, the same as Structural for a short text, and it reads a long text's end.
func TestStructuralWindow(t *testing.T) {
	short := "Explain step by step why 2 + 2 = 4. Why?"
	if StructuralWindow(short, "Be brief.") != Structural(short, "Be brief.") {
		t.Error("a short text's structure differs from Structural's")
	}
	long := strings.Repeat("The river runs past the old mill. ", 600) + "\nExplain step by step, and compare. Why? How?"
	st := StructuralWindow(long, "")
	if st[fQuestions] == 0 || st[fReasoning] == 0 {
		t.Errorf("the question at the end of a long text was not read: %v", st)
	}
	f := NewFeaturizer(DefaultFeatures())
	v := f.Extract(long, "", "")
	base := int32(1 << DefaultFeatures().HashBits)
	for k, idx := range v.Index {
		if idx >= base && v.Value[k] != float32(st[idx-base]) {
			t.Errorf("feature %s: the Featurizer has %v, StructuralWindow %v", StructuralNames[idx-base], v.Value[k], st[idx-base])
		}
	}
}

func TestEveryCueWordIsFound(t *testing.T) {
	hash := func(ns uint64, w string) uint64 {
		h := uint64(fnvOffset ^ ns)
		for i := range len(w) {
			h = (h ^ uint64(lower(w[i]))) * fnvPrime
		}
		return fmix(h)
	}
	all := map[string]bool{}
	for _, words := range cueWords {
		for _, w := range words {
			all[w] = true
		}
	}
	for c, words := range cueWords {
		for _, w := range words {
			for _, ns := range []uint64{nsWord, nsSystem, 0} {
				for _, form := range []string{w, strings.ToUpper(w), strings.ToUpper(w[:1]) + w[1:]} {
					if got := lookupCue(hash(ns, form), form); got != c {
						t.Errorf("%q in namespace %#x: cue %d, want %d", form, ns, got, c)
					}
				}
				// A longer word that starts like a cue word is not one.
				if got := lookupCue(hash(ns, w+"s"), w+"s"); got != cueOther && !all[w+"s"] {
					t.Errorf("%q in namespace %#x: cue %d, want none", w+"s", ns, got)
				}
			}
		}
	}
	// The scan finds them in the user message and in the system prompt.
	if st := Structural("", "Please EXPLAIN."); st[slices.Index(StructuralNames[:], "reasoning")] == 0 {
		t.Error("a cue word in the system prompt was not counted")
	}
}
