package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
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

// TestValidateCalibrateUpdateKeepsLayout: --update writes the measured detect and false_alarm
// over the values the spec has, where they are, and the date after them: a strength written
// as a block keeps its lines and their comments, one written in flow style its order and
// comment, and nothing else in the file changes.
func TestValidateCalibrateUpdateKeepsLayout(t *testing.T) {
	data, err := os.ReadFile("testdata/calibrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const flow = "      validator: {detect: 0.5, false_alarm: 0.5} # a placeholder until measured\n"
	if !strings.Contains(string(data), flow) {
		t.Fatalf("testdata/calibrate.yaml has no line %q", flow)
	}
	const block = "      validator:\n        detect: 0.5       # from the vendor's paper\n        false_alarm: 0.5  # a guess\n"
	for _, tt := range []struct{ before, after string }{
		{flow, "      validator: {detect: 0.667, false_alarm: 0.1, calibrated: 2026-11-27} # a placeholder until measured\n"},
		{block, "      validator:\n        detect: 0.667       # from the vendor's paper\n        false_alarm: 0.1  # a guess\n        calibrated: 2026-11-27\n"},
	} {
		specFile := filepath.Join(t.TempDir(), "calibrate.yaml")
		before := strings.Replace(string(data), flow, tt.before, 1)
		if err := os.WriteFile(specFile, []byte(before), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", "testdata/labelled.jsonl", "--update")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		got, _ := os.ReadFile(specFile)
		if want := strings.Replace(before, tt.before, tt.after, 1); string(got) != want {
			t.Errorf("updated spec:\n%s\nwant:\n%s", got, want)
		}
	}
}

// TestValidateCalibrateUsageErrors: a --format other than text or json, or a category the
// spec lacks, is a usage error that says what to write, given before anything is measured or
// written.
func TestValidateCalibrateUsageErrors(t *testing.T) {
	specFile := filepath.Join(t.TempDir(), "calibrate.yaml")
	data, err := os.ReadFile("testdata/calibrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--category", "extract", "--format", "yaml"}, `--format "yaml": use text or json`},
		{[]string{"--category", "extarct"}, `the spec has no category "extarct" (categories: extract)`},
	} {
		args := append([]string{"validate", "calibrate", specFile, "testdata/labelled.jsonl", "--update"}, tt.args...)
		code, out, errOut := run(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a usage error (2) saying %q", tt.args, code, out, errOut, tt.want)
		}
		if got, _ := os.ReadFile(specFile); string(got) != string(data) {
			t.Errorf("%v --update changed the spec:\n%s", tt.args, got)
		}
	}
}

// TestValidateCalibrateReadsCSV: the labelled answers may be a CSV table, as outcomes convert
// writes one, and measure what the same rows as JSON Lines do.
func TestValidateCalibrateReadsCSV(t *testing.T) {
	csvFile := filepath.Join(t.TempDir(), "labelled.csv")
	f, err := os.Create(csvFile)
	if err != nil {
		t.Fatal(err)
	}
	w := outcomes.NewCSVWriter(f)
	if err := outcomes.ReadFile("testdata/labelled.jsonl", w.Write); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, want, _ := run(t, "validate", "calibrate", "testdata/calibrate.yaml", "--category", "extract", "testdata/labelled.jsonl")
	code, got, errOut := run(t, "validate", "calibrate", "testdata/calibrate.yaml", "--category", "extract", csvFile)
	if code != 0 || got != want || !strings.Contains(got, "detect: 0.667, false_alarm: 0.100") {
		t.Errorf("from CSV: exit %d\n%s%s\nwant, as from JSON Lines:\n%s", code, got, errOut, want)
	}
}

// TestValidateCalibrateNeedsGoodAndBadAnswers: answers all labelled good measure no detection
// rate (0 of 0 is not 0), so none is suggested, and --update refuses to write one.
func TestValidateCalibrateNeedsGoodAndBadAnswers(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "calibrate.yaml")
	data, err := os.ReadFile("testdata/calibrate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var good strings.Builder
	rows, err := os.ReadFile("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(rows), "\n") {
		if strings.Contains(line, `"pass": true`) {
			good.WriteString(line + "\n")
		}
	}
	goodFile := filepath.Join(dir, "good.jsonl")
	if err := os.WriteFile(goodFile, []byte(good.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "validate", "calibrate", specFile, "--category", "extract", goodFile)
	if code != 0 || strings.Contains(out, "For the spec:") || !strings.Contains(out, "is good: without bad answers there is no detection rate to measure; add answers labelled bad") {
		t.Errorf("all good answers: exit %d\n%s", code, out)
	}
	code, _, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", goodFile, "--update")
	if code == 0 || !strings.Contains(errOut, "was not updated") {
		t.Errorf("--update on all good answers: exit %d, stderr %q; want a refusal", code, errOut)
	}
	if got, _ := os.ReadFile(specFile); string(got) != string(data) {
		t.Errorf("--update on all good answers changed the spec:\n%s", got)
	}
}

// TestValidateCalibrateSimulatedRows: rows of simulated answers (an eval run's, marked
// "simulated": true) measure the spec's own assumptions, not the validator: calibrate says so
// instead of suggesting a strength, and --update writes nothing.
func TestValidateCalibrateSimulatedRows(t *testing.T) {
	data, err := os.ReadFile("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		b.WriteString(strings.Replace(line, "{", `{"simulated": true, `, 1) + "\n")
	}
	dir := t.TempDir()
	rows := filepath.Join(dir, "simulated.jsonl")
	if err := os.WriteFile(rows, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "validate", "calibrate", "testdata/calibrate.yaml", "--category", "extract", rows)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "For the spec:") || !strings.Contains(out, "Nothing for the spec: ") || !strings.Contains(out, "come from simulated providers") || !strings.Contains(out, "gives back those assumptions") || strings.Contains(out, "flags no good answer") {
		t.Errorf("output:\n%s\nwant no strength for the spec, and a note that the answers are simulated and give back the spec's assumptions", out)
	}
	spec, _ := os.ReadFile("testdata/calibrate.yaml")
	specFile := filepath.Join(dir, "calibrate.yaml")
	if err := os.WriteFile(specFile, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "validate", "calibrate", specFile, "--category", "extract", rows, "--update")
	if got, _ := os.ReadFile(specFile); code == 0 || !strings.Contains(errOut, "was not updated") || string(got) != string(spec) {
		t.Errorf("--update on simulated rows: exit %d, stderr %q; want a refusal and the spec unchanged", code, errOut)
	}
}
