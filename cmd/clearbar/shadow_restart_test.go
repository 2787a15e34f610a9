package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// serveShadowRun serves until n requests (of at most 40 tokens out, which bounds each shadow
// call's reservation) are answered, then stops it, and returns its logs.
func serveShadowRun(t *testing.T, n int, args ...string) string {
	t.Helper()
	addr, logs, stop := startServe(t, args...)
	for i := range n {
		resp, body := chat(t, addr, fmt.Sprintf(`{"model":"clearbar/qa","max_tokens":40,"messages":[{"role":"user","content":"question %d"}]}`, i))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	return logs.String()
}

// shadowSpent sums what the candidates' rows of a shadow output charged the daily budget, and
// counts them.
func shadowSpent(t *testing.T, path string) (clearbar.Money, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum clearbar.Money
	n := 0
	for line := range bytes.Lines(b) {
		if gjson.GetBytes(line, "source").String() != outcomes.SourceShadow {
			continue
		}
		var m clearbar.Money
		if err := m.UnmarshalJSON([]byte(gjson.GetBytes(line, "shadow_spent_usd").Raw)); err != nil {
			t.Fatalf("candidate row without what it spent: %s", line)
		}
		sum += m
		n++
	}
	return sum, n
}

// TestShadowBudgetAcrossServeRestarts: two runs of clearbar serve on the same shadow output
// the same UTC day spend one daily budget between them, not one each.
func TestShadowBudgetAcrossServeRestarts(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(strings.Replace(shadowSpec, "daily_budget: 5", "daily_budget: 0.0004", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "sb.jsonl")
	args := []string{specFile, "--time-scale", "0.001", "--trace", "none", "--shadow-out", rows}
	serveShadowRun(t, 40, args...)
	first, calls := shadowSpent(t, rows)
	if calls == 0 || calls == 40 {
		t.Fatalf("the first run shadowed %d of 40 requests: want the budget to stop it part way", calls)
	}
	logs := serveShadowRun(t, 40, args...)
	total, _ := shadowSpent(t, rows)
	if budget := clearbar.Money(400_000); total > budget {
		t.Errorf("two runs the same day spent %v on shadow calls (the first %v), over the daily budget %v\n%s", total, first, budget, logs)
	}
	if !strings.Contains(logs, "today's spending read back") {
		t.Errorf("the second run does not say it read back the day's spending:\n%s", logs)
	}
}

// TestShadowOutBesideTheSpec: without --shadow-out, shadow rows go beside the spec file, as its
// server.trace does, whatever the working directory; start-up says where, in full.
func TestShadowOutBesideTheSpec(t *testing.T) {
	dir, wd := t.TempDir(), t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specFile, []byte(shadowSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(wd)
	logs := serveShadowRun(t, 3, filepath.Join("..", filepath.Base(dir), "spec.yaml"), "--time-scale", "0.001", "--trace", "none")
	want := filepath.Join(dir, "shadow.outcomes.jsonl")
	if _, n := shadowSpent(t, want); n != 3 {
		t.Errorf("%d candidate rows beside the spec, want 3", n)
	}
	if _, err := os.Stat(filepath.Join(wd, "shadow.outcomes.jsonl")); err == nil {
		t.Error("shadow rows written in the working directory")
	}
	if !strings.Contains(logs, "shadow traffic: outcome rows appended to "+want+"\n") {
		t.Errorf("start-up does not say where shadow rows go (%s):\n%s", want, logs)
	}
}
