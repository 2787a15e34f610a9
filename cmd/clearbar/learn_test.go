package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLearnFilterErrors: a category, task or model that matches no row of the table is an
// error that names it and lists what the table has, not "the outcomes table is empty" or a
// row's model that "is not a candidate".
func TestLearnFilterErrors(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "qa.outcomes.jsonl")
	writeQAOutcomes(t, table, 20)
	for _, cmd := range []string{"train", "evaluate"} {
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--category", "nope"}, []string{`--category "nope"`, "none of the 40 rows", "categories in the table: qa"}},
			{[]string{"--task", "nope"}, []string{`--task "nope"`, "none of the 40 rows"}},
			{[]string{"--models", "gpt-4o-mini,strong"}, []string{`model "strong"`, "gpt-4o, gpt-4o-mini"}},
		} {
			args := append([]string{"learn", cmd, "--outcomes", table, "--out", filepath.Join(dir, "out")}, tc.args...)
			code, _, errOut := run(t, args...)
			if code != 2 {
				t.Errorf("learn %s %v: exit %d, want 2: %s", cmd, tc.args, code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("learn %s %v: %q does not say %q", cmd, tc.args, errOut, w)
				}
			}
		}
	}
}
