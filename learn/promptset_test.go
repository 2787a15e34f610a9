package learn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// TestPromptSet: a set of few prompts keeps them all and tells every prompt exactly; a large
// one keeps PromptSetSize of them and estimates the share of training prompts among others
// from those it covers; it survives JSON, and a damaged one does not load.
func TestPromptSet(t *testing.T) {
	prompts := func(from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("question %d: what is %d + %d?", from+i, from+i, 2*(from+i))
		}
		return out
	}
	overlap := func(s *PromptSet, ps []string) Overlap {
		var o Overlap
		for _, p := range ps {
			o.Add(s, "", p)
		}
		return o
	}

	small := NewPromptSet(append(prompts(0, 300), prompts(0, 10)...)) // duplicates count once
	if small.Count != 300 || small.Bound != math.MaxUint64 {
		t.Fatalf("count %d, bound %x; want 300 and every hash covered", small.Count, small.Bound)
	}
	if o := overlap(small, prompts(200, 200)); o.Prompts != 200 || o.Covered != 200 || o.Trained != 100 {
		t.Errorf("half of 200 prompts in a small set: %+v, want all covered and 100 trained", o)
	}

	large := NewPromptSet(prompts(0, 40_000))
	if large.Count != 40_000 || len(large.low) != PromptSetSize || large.Bound == math.MaxUint64 {
		t.Fatalf("count %d, kept %d, bound %x", large.Count, len(large.low), large.Bound)
	}
	for _, tc := range []struct {
		from int
		want float64
	}{{0, 1}, {30_000, 0.5}, {40_000, 0}} {
		o := overlap(large, prompts(tc.from, 20_000))
		share, ok := o.Share()
		t.Logf("from %d: %+v, share %.3f", tc.from, o, share)
		if !ok || math.Abs(share-tc.want) > 0.05 || o.Covered < 1000 {
			t.Errorf("20,000 prompts from %d: %+v, share %.3f; want about %.1f", tc.from, o, share, tc.want)
		}
	}

	b, err := json.Marshal(large)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 23_000 {
		t.Errorf("the set takes %d bytes of JSON; want at most about 22 KB", len(b))
	}
	var back PromptSet
	if err := json.Unmarshal(b, &back); err != nil || back.Count != large.Count || back.Bound != large.Bound || !slices.Equal(back.low, large.low) {
		t.Fatalf("round trip: %v, %d %x", err, back.Count, back.Bound)
	}
	for _, bad := range []string{`{"count": 3, "bound": "zz", "hashes": ""}`, `{"count": 3, "bound": "ff", "hashes": "AAA"}`, `{"count": 0, "bound": "ff", "hashes": "AAAAAA=="}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil || !strings.Contains(err.Error(), "retrain") {
			t.Errorf("%s: error %v, want one saying to retrain", bad, err)
		}
	}
}

// TestTrainingInfoIdentifiesTheData: a model records the absolute path of its training file,
// whatever the working directory it was trained from, a fingerprint of its prompts (which
// tells its training prompts from others) and its task features; a model file written before
// those were recorded loads without them.
func TestTrainingInfoIdentifiesTheData(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "train.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewWriter(f)
	var trained []string
	for r := range synthetic(100) {
		if !slices.Contains(trained, r.Prompt) {
			trained = append(trained, r.Prompt)
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	f.Close()
	testdata := testdataDir(t)
	t.Chdir(dir)
	m, _, err := TrainFile("train.jsonl", TrainOptions{Seed: 1, Folds: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "router.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if m, err = Load(path); err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if info.Data != "train.jsonl" || info.DataPath != filepath.Join(dir, "train.jsonl") {
		t.Errorf("data %q, data path %q; want the name given and %s", info.Data, info.DataPath, filepath.Join(dir, "train.jsonl"))
	}
	if info.Prompts == nil || info.Prompts.Count != len(trained) {
		t.Fatalf("prompts %+v; want a fingerprint of %d prompts", info.Prompts, len(trained))
	}
	for _, p := range trained {
		if covered, in := info.Prompts.Contains(p); !covered || !in {
			t.Errorf("training prompt %q not found", p)
		}
	}
	if _, in := info.Prompts.Contains("What is the capital of Atlantis?"); in {
		t.Error("a prompt the model was not trained on is found")
	}
	// The synthetic rows have a task and no category.
	if info.TaskCount != 1 || !slices.Equal(info.Tasks, []string{"demo"}) || info.Uncategorised != 100 {
		t.Errorf("tasks %q (%d), uncategorised %d; want [demo] and 100", info.Tasks, info.TaskCount, info.Uncategorised)
	}
	if in, known := info.TrainedOn("Demo"); !in || !known {
		t.Errorf("TrainedOn(Demo) = %v, %v: task features ignore ASCII case", in, known)
	}
	if in, known := info.TrainedOn("qa"); in || !known {
		t.Errorf("TrainedOn(qa) = %v, %v; want false, known", in, known)
	}

	old, err := Load(filepath.Join(testdata, "router-before-embeddings.json"))
	if err != nil {
		t.Fatal(err)
	}
	if oi := old.Info(); oi.Prompts != nil || oi.DataPath != "" || oi.TaskCount != 0 {
		t.Errorf("an older file has %+v", oi)
	}
	if _, known := old.Info().TrainedOn("qa"); known {
		t.Error("an older file cannot say which tasks it was trained on")
	}
}

// testdataDir is the package's testdata directory, absolute, for tests that change directory.
func testdataDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "testdata")
}

// TestSaveMode: a new model file is readable by every user, as a gateway may run as another
// one; a replaced file keeps its permissions.
func TestSaveMode(t *testing.T) {
	m, _ := trainSynthetic(t, TrainOptions{Seed: 1, Folds: 1})
	dir := t.TempDir()
	path := filepath.Join(dir, "router.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("a new model file has mode %v (%v); want 0644", st.Mode().Perm(), err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("a replaced model file has mode %v (%v); want its own 0640", st.Mode().Perm(), err)
	}
}

// TestPromptSetByDigest: items are fingerprinted and looked up by their rows' prompt_hash, the
// SHA-256 of the prompt as first recorded, so that a copy of the outcomes whose prompts were
// normalised (a CSV reader turns \r\n into \n, keeping the digest) still tells the training
// prompts, and an item with only a digest is counted.
func TestPromptSetByDigest(t *testing.T) {
	recorded := "line one\r\nline two"
	normalised := strings.ReplaceAll(recorded, "\r\n", "\n")
	pass := true
	rows := []outcomes.Row{
		{Item: "a", Category: "qa", Prompt: normalised, PromptHash: outcomes.HashPrompt(recorded), Model: "m", Pass: &pass},
		{Item: "b", Category: "qa", Prompt: "other", PromptHash: outcomes.HashPrompt("other"), Model: "m", Pass: &pass},
	}
	var info TrainingInfo
	info.describeData(NewDataset("t", slices.Values(rows), nil))
	s := info.Prompts
	if covered, trained, ok := s.ContainsHash(outcomes.HashPrompt(recorded)); !ok || !covered || !trained {
		t.Errorf("ContainsHash of the recorded prompt's digest: %v %v %v, want all true", covered, trained, ok)
	}
	if _, _, ok := s.ContainsHash("0123456789abcdef"); ok {
		t.Error("ContainsHash read a 16-digit fingerprint as a SHA-256")
	}
	var o Overlap
	o.Add(s, outcomes.HashPrompt(recorded), recorded)   // the JSON Lines row
	o.Add(s, outcomes.HashPrompt(recorded), normalised) // its CSV copy
	o.Add(s, outcomes.HashPrompt("other"), "")          // a row with its digest only
	o.Add(s, "", "")                                    // nothing to tell it by: not counted
	if o.Prompts != 3 || o.Covered != 3 || o.Trained != 3 {
		t.Errorf("overlap %+v, want 3 prompts, all trained", o)
	}
}
