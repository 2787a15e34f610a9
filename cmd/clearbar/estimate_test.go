package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEstimateFlagsSayWhatTheyTake: a --volume, --samples or --seed the estimate cannot use
// as written is a usage error (exit 2) that says what to write, never a value silently
// replaced by another.
func TestEstimateFlagsSayWhatTheyTake(t *testing.T) {
	const quickstart = "../../examples/quickstart.yaml"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--volume", "0"}, "--volume 0: write the requests a month, at least 1, like --volume 1000000; leave --volume out to use the spec's volume"},
		{[]string{"--volume", "-10"}, "--volume -10: write the requests a month, at least 1"},
		{[]string{"--samples", "1"}, "--samples 1 is below the minimum of 6,000 for ../../examples/quickstart.yaml: each of its 3 categories gets at least 2,000 Monte Carlo draws; ask for 6,000 or more"},
		{[]string{"--samples", "5999"}, "--samples 5999 is below the minimum of 6,000"},
		{[]string{"--seed", "-1"}, `invalid value "-1" for flag -seed: the seed is a whole number from 1 to 18446744073709551615, like --seed 7`},
		{[]string{"--seed", "0"}, "the seed is a whole number from 1"},
		{[]string{"--sensitivity", "100%"}, `--sensitivity "100%": write a move above 0% and below 100%, like 20%`},
		{[]string{"--sensitivity", "0"}, `--sensitivity "0": write a move above 0% and below 100%`},
	} {
		code, _, errOut := run(t, append([]string{"estimate", quickstart}, tt.args...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("estimate %v: exit %d, want 2 with %q:\n%s", tt.args, code, tt.want, errOut)
		}
	}
	code, out, errOut := run(t, "estimate", quickstart, "--samples", "6000", "--volume", "5", "--seed", "42")
	if code != 0 || !strings.Contains(out, "5 requests/month · 6,000 Monte Carlo samples per policy · seed 42") {
		t.Errorf("estimate --samples 6000 --volume 5 --seed 42: exit %d\n%s%s", code, out, errOut)
	}
}

// TestEstimateOutExtensionSetsFormat: --out report.json writes JSON, as its name says.
func TestEstimateOutExtensionSetsFormat(t *testing.T) {
	dir := t.TempDir()
	for ext, prefix := range map[string]string{".json": "{", ".csv": "policy,", ".md": "# "} {
		path := filepath.Join(dir, "report"+ext)
		if code, _, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--samples", "20000", "--out", path); code != 0 {
			t.Fatalf("%s: exit %d: %s", ext, code, errOut)
		}
		data, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(data), prefix) {
			t.Errorf("--out report%s starts with %.40q, want %q", ext, data, prefix)
		}
	}
}

// TestEstimateOutExtensionNamesAFormat: without --format, an --out file whose extension names
// no report format is a usage error that lists the ones that do, rather than a table written
// into report.pdf; .txt, or no extension, is the table; --format decides whatever the name.
func TestEstimateOutExtensionNamesAFormat(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"report.pdf", "report.xlsx"} {
		path := filepath.Join(dir, name)
		code, _, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--samples", "6000", "--out", path)
		want := "is not a report format's extension: use one of .txt (table), .html, .htm, .json, .csv, .md, .markdown, or give --format"
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("--out %s: exit %d, want 2 with %q:\n%s", name, code, want, errOut)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("--out %s: the file was written all the same", name)
		}
	}
	for _, tt := range []struct{ name, format, prefix string }{
		{"report.txt", "", "Clearbar estimate: quickstart"},
		{"report", "", "Clearbar estimate: quickstart"},
		{"REPORT.JSON", "", "{"},
		{"report.pdf", "json", "{"},
	} {
		path := filepath.Join(dir, tt.name)
		args := []string{"estimate", "../../examples/quickstart.yaml", "--samples", "6000", "--out", path}
		if tt.format != "" {
			args = append(args, "--format", tt.format)
		}
		if code, _, errOut := run(t, args...); code != 0 {
			t.Fatalf("--out %s --format %q: exit %d: %s", tt.name, tt.format, code, errOut)
		}
		data, err := os.ReadFile(path)
		if err != nil || !strings.HasPrefix(string(data), tt.prefix) {
			t.Errorf("--out %s --format %q starts with %.40q, want %q", tt.name, tt.format, data, tt.prefix)
		}
	}
}

// TestEstimateCSVWarnsOnStderr: a CSV report has no place for the spec's warnings, so they go
// to stderr rather than nowhere.
func TestEstimateCSVWarnsOnStderr(t *testing.T) {
	code, out, errOut := run(t, "estimate", "../../examples/expert-assistant.yaml", "--samples", "20000", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "policy,") || !strings.Contains(errOut, "warning: ../../examples/expert-assistant.yaml:10: the spec's review is overdue") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestEstimateBreakEven: --break-even adds the break-even points to the sensitivity analysis,
// which it runs at ±20% when --sensitivity does not say otherwise.
func TestEstimateBreakEven(t *testing.T) {
	const quickstart = "../../examples/quickstart.yaml"
	code, out, errOut := run(t, "estimate", quickstart, "--samples", "6000", "--break-even")
	if code != 0 || !strings.Contains(out, "Sensitivity (each input moved ±20%") ||
		!strings.Contains(out, "Break-even points (each input moved alone until the recommendation changes") ||
		!strings.Contains(out, "cascade-by-price stays recommended while, nearest first:") {
		t.Errorf("estimate --break-even: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = run(t, "estimate", quickstart, "--samples", "6000", "--break-even", "--sensitivity", "10%", "--format", "json")
	if code != 0 || !strings.Contains(out, `"move": 0.1,`) || !strings.Contains(out, `"break_evens": [`) {
		t.Errorf("estimate --break-even --sensitivity 10%% --format json: exit %d\n%.2000s%s", code, out, errOut)
	}
	code, out, _ = run(t, "estimate", quickstart, "--samples", "6000", "--sensitivity", "20%")
	if code != 0 || strings.Contains(out, "Break-even") {
		t.Errorf("estimate --sensitivity 20%% without --break-even: exit %d, searched break-evens all the same", code)
	}
}

// TestEstimateMeasuredCorrectsEvalVerdicts: an eval row graded by the category's validators
// alone passes when they accept the answer, and validators that miss a fifth of the bad
// answers and flag a tenth of the good ones accept 0.9·0.9 + 0.1·0.2 = 83% of the answers of
// a model whose pass rate is 90%. estimate --measured corrects such rows for the validators'
// strength, as it corrects decision records' verdicts, and so agrees with the assumed 90%;
// taken for grades, they would contradict it. Rows graded by a reference are grades.
func TestEstimateMeasuredCorrectsEvalVerdicts(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(`version: 1
name: verdicts
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  sim: {type: simulated}
models:
  small: {provider: sim, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
  strong: {provider: sim, model: gpt-4.1, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: extract
    share: 1
    tokens: {in: 100, out: 20}
    quality_bar: 0.8
    route:
      model: small
      validate: [{max_length: 2000}]
    assume:
      pass_rate: {small: 0.9, strong: 0.5}
      validator: {detect: 0.8, false_alarm: 0.1}
    why: Measured by the estimate tests.
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	const n = 1000
	for i := range n {
		// small: graded by the validators alone, 830 of 1000 accepted. strong: graded by a
		// reference (the validators' verdict recorded beside it), 500 of 1000 passed.
		fmt.Fprintf(&b, `{"item": "q%d", "category": "extract", "prompt": "p%d", "model": "gpt-4.1-mini", "pass": %v, "source": "eval", "graded_by": "validators", "checks": [{"check": "validators (at most 2000 characters)", "pass": %[3]v}]}`+"\n", i, i, i < 830)
		fmt.Fprintf(&b, `{"item": "q%d", "category": "extract", "prompt": "p%d", "model": "gpt-4.1", "pass": %v, "source": "eval", "graded_by": "checks", "checks": [{"check": "validators (at most 2000 characters)", "pass": false}, {"check": "normalized \"a\"", "pass": %[3]v}]}`+"\n", i, i, i%2 == 0)
	}
	measured := filepath.Join(dir, "eval.jsonl")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", specPath, "--measured", measured, "--format", "json", "--samples", "20000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Findings []struct {
				Model, What, Note   string
				Measured, Low, High float64
				Contradicts         bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := map[string]float64{"small": 0.9, "strong": 0.5}
	seen := 0
	for _, f := range rep.Measured.Findings {
		if f.What != "pass rate" {
			continue
		}
		seen++
		if w := want[f.Model]; f.Contradicts || math.Abs(f.Measured-w) > 1e-9 {
			t.Errorf("%s: measured pass rate %.4f (%.4f–%.4f), contradicts %v, note %q; want %v", f.Model, f.Measured, f.Low, f.High, f.Contradicts, f.Note, w)
		}
		if verdicts := strings.Contains(f.Note, "validator verdicts"); verdicts != (f.Model == "small") {
			t.Errorf("%s: note %q; want the verdicts corrected for small's rows, graded by the validators alone, and only for them", f.Model, f.Note)
		}
	}
	if seen != 2 {
		t.Errorf("%d pass-rate findings, want 2: %+v", seen, rep.Measured.Findings)
	}
}
