package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

// TestReplayFormatFromOut: --out names the report's format by its extension, as estimate's
// and review's do (a page into report.html, JSON into report.json), and a --format that
// contradicts it is refused rather than written into a file named for another.
func TestReplayFormatFromOut(t *testing.T) {
	dir := t.TempDir()
	var rows []outcomes.Row
	for i := range 30 {
		pass := i%3 != 0
		rows = append(rows, outcomes.Row{Item: fmt.Sprint("q", i), Prompt: fmt.Sprint("question ", i), Model: "a", Pass: &pass, Cost: 1000},
			outcomes.Row{Item: fmt.Sprint("q", i), Prompt: fmt.Sprint("question ", i), Model: "b", Pass: new(true), Cost: 10000})
	}
	table := filepath.Join(dir, "rows.jsonl")
	writeRows(t, table, rows)
	for ext, want := range map[string]string{".html": "<!DOCTYPE html>", ".json": "{", ".txt": "Clearbar replay"} {
		out := filepath.Join(dir, "report"+ext)
		if code, _, errOut := run(t, "replay", "--outcomes", table, "--out", out); code != 0 {
			t.Fatalf("--out %s: exit %d: %s", out, code, errOut)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(strings.TrimSpace(string(b)), want) {
			t.Errorf("--out report%s starts %.40q, want %q", ext, b, want)
		}
	}
	code, _, errOut := run(t, "replay", "--outcomes", table, "--format", "text", "--out", filepath.Join(dir, "r.html"))
	if code != 2 || !strings.Contains(errOut, "--format text contradicts --out") {
		t.Errorf("--format text --out r.html: exit %d, %s", code, errOut)
	}
}
