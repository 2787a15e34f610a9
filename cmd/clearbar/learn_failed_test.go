package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// TestLearnTrainSaysFailedCallsAreLeftOut: learn train's pass rates leave out failed calls,
// which replay counts as failed items; the report says so under the table, naming the models
// whose calls failed, and says nothing when none did.
func TestLearnTrainSaysFailedCallsAreLeftOut(t *testing.T) {
	dir := t.TempDir()
	var rows []outcomes.Row
	for i := range 40 {
		pass := i%3 != 0
		for _, m := range []string{"small", "big"} {
			r := outcomes.Row{Item: fmt.Sprint("q", i), Category: "qa", Prompt: fmt.Sprintf("Question %d?", i), Model: m, Cost: 10_000, Pass: &pass}
			if m == "small" && i < 3 {
				r.Pass, r.Error = nil, "overloaded"
			}
			rows = append(rows, r)
		}
	}
	table := filepath.Join(dir, "qa.jsonl")
	writeRows(t, table, rows)
	code, out, errOut := run(t, "learn", "train", "--outcomes", table, "--out", filepath.Join(dir, "r.json"), "--folds", "2")
	if code != 0 {
		t.Fatalf("learn train: exit %d\n%s", code, errOut)
	}
	if want := "PASS RATE is over graded answers, leaving out failed calls (small 3); replay counts a failed call as a failed item"; !strings.Contains(out, want) {
		t.Errorf("learn train:\n%s\nwant %q", out, want)
	}
	writeRows(t, table, rows[6:])
	if code, out, errOut = run(t, "learn", "train", "--outcomes", table, "--out", filepath.Join(dir, "r.json"), "--folds", "2"); code != 0 || strings.Contains(out, "failed calls") {
		t.Errorf("learn train without failed calls: exit %d\n%s%s\nwant nothing of failed calls", code, out, errOut)
	}
}
