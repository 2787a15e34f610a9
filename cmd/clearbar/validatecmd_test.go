package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/validate"
)

// TestValidateCalibrateAgree: an agreement check is calibrated against the checker's recorded
// answers to the same items (its rows, in any order, named by spec model or provider model
// id), never by calling it; an answer whose checker has no row, or that is the checker's own,
// is left out and counted.
//
//	item  mixtral (labelled)   yi's row       agree
//	q1    B, good              B              passes
//	q2    C, bad               B              detects
//	q3    D, bad               D              misses
//	q4    A, good              C              false alarm
//	q5    B, good              (none)         unchecked
func TestValidateCalibrateAgree(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "agree.yaml")
	os.WriteFile(specFile, []byte(`version: 1
name: agree
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated}}
models:
  mixtral: {provider: sim, model: gpt-4.1-nano, latency: {p50: 1s, p95: 2s}}
  yi: {provider: sim, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
  gpt4: {provider: sim, model: gpt-4.1, latency: {p50: 1s, p95: 2s}}
categories:
  - name: arc
    share: 1
    tokens: {in: 100, out: 5}
    quality_bar: 0.9
    route:
      cascade: [{model: mixtral, validate: [{agree: {model: yi, answer: choice}}]}, gpt4]
    assume:
      pass_rate: {mixtral: 0.7, gpt4: 0.95}
      validator: {detect: 0.5, false_alarm: 0.5}
`), 0o644)
	const q = "Which gas do plants take in?\nA) oxygen\nB) carbon dioxide\nC) nitrogen\nD) helium\nAnswer:"
	var rows strings.Builder
	add := func(item, model, answer string, pass bool) {
		fmt.Fprintf(&rows, `{"item": %q, "prompt": %q, "model": %q, "response": %q, "pass": %v, "cost_usd": 0.00002, "latency_ms": 300}`+"\n", item, q, model, answer, pass)
	}
	add("q2", "gpt-4.1-mini", "B", true) // yi's row, by its provider model id, before the answer it checks
	for _, r := range [][3]string{{"q1", "B", "true"}, {"q2", "C", "false"}, {"q3", "D", "false"}, {"q4", "A", "true"}, {"q5", "B", "true"}} {
		add(r[0], "mixtral", r[1], r[2] == "true")
	}
	add("q1", "yi", "The answer is (B).", true)
	add("q3", "yi", "D", false)
	add("q4", "yi", "C", false)
	outcomesFile := filepath.Join(dir, "labelled.jsonl")
	os.WriteFile(outcomesFile, []byte(rows.String()), 0o644)

	for _, tt := range []struct {
		args      []string
		unchecked int
		why       string
	}{
		{[]string{"--model", "mixtral"}, 1, "q5 has no row of yi"},
		{nil, 5, "q5, and yi's own four answers, which yi cannot check"},
	} {
		args := append([]string{"validate", "calibrate", specFile, "--category", "arc", outcomesFile, "--format", "json"}, tt.args...)
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var res []validate.Strength
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		ag := res[0]
		if ag.Validator != "agree: agrees with yi on the choice" || ag.Good != 2 || ag.Bad != 2 || ag.Detected != 1 || ag.FalseAlarms != 1 ||
			ag.Unchecked != tt.unchecked || ag.CheckCalls != 4 || ag.CheckCost == 0 {
			t.Errorf("%v: %+v; want 2 good (1 flagged), 2 bad (1 detected), %d unchecked (%s), 4 of yi's rows used", tt.args, ag, tt.unchecked, tt.why)
		}
	}
	// --model takes the spec's name of a model whose rows carry its provider model id: yi's four
	// answers, one recorded as gpt-4.1-mini, none of which yi can check.
	code, out, errOut := run(t, "validate", "calibrate", specFile, "--category", "arc", outcomesFile, "--model", "yi", "--format", "json")
	var res []validate.Strength
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || len(res) == 0 || res[0].Unchecked != 4 {
		t.Errorf("--model yi: exit %d, %+v, %v: want yi's 4 answers, the one recorded by model id too\n%s", code, res, err, errOut)
	}
	code, out, errOut = run(t, "validate", "calibrate", specFile, "--category", "arc", outcomesFile, "--model", "mixtral")
	if code != 0 || !strings.Contains(out, "agree: agrees with yi on the choice: 1 answer left out: its checker has no recorded answer to the same item") {
		t.Errorf("exit %d: %s\n%s", code, out, errOut)
	}
}

// TestValidateCalibrateRefusesOldEvalRows: a file whose only rows an eval run wrote before
// rows said how they were graded, of an item with a reference beside the validators, is
// refused as circular too: their pass needed the validators. The remedy is not checks the item
// already has but a run of clearbar eval, which grades those rows again by the reference alone.
func TestValidateCalibrateRefusesOldEvalRows(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "calibrate.yaml")
	data, err := os.ReadFile("testdata/calibrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old.jsonl")
	row := `{"item": "v2", "prompt": "extract", "model": "gpt-4o-mini", "response": "{\"id\": \"7\"}", "pass": true, "checks": [{"check": "normalized \"{\\\"id\\\": \\\"7\\\"}\"", "pass": true, "score": 1}, {"check": "validators (JSON Schema (inline))", "pass": true, "score": 1}]}` + "\n"
	if err := os.WriteFile(old, []byte(row), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", old)
	if code == 0 || !strings.Contains(errOut, "given by validators themselves") || !strings.Contains(errOut, "rows an eval run wrote before rows said how they were graded") ||
		!strings.Contains(errOut, "run clearbar eval again, which also grades the older rows again by their reference or checks alone") {
		t.Errorf("with only old eval rows of an item with a reference: exit %d\n%s", code, errOut)
	}
}
