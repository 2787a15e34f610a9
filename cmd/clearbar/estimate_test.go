package main

import (
	"encoding/json"
	"fmt"
	"html"
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
		{[]string{"--samples", "9223372036854775807"}, "--samples 9223372036854775807 is above the maximum of 100,000,000"},
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
	// The example with its review overdue.
	data, err := os.ReadFile("../../examples/expert-assistant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "expert-assistant.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), "review: {last: 2026-11-27,", "review: {last: 2026-06-01,", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", file, "--samples", "20000", "--format", "csv")
	if code != 0 || !strings.HasPrefix(out, "policy,") || !strings.Contains(errOut, "warning: "+file+":10: the spec's review is overdue") {
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

// TestEstimateMeasuredReadsCSV: --measured takes an outcomes table as CSV, as clearbar
// outcomes convert --format csv writes it, as well as JSON Lines.
func TestEstimateMeasuredReadsCSV(t *testing.T) {
	var b strings.Builder
	b.WriteString("item,category,prompt,model,tokens_in,tokens_out,latency_ms,error,pass\n")
	for i := range 40 {
		fmt.Fprintf(&b, "q%d,draft,prompt %d,gpt-4.1-mini,1500,250,%d,,%v\n", i, i, 3000+i*10, i%2 == 0)
	}
	measured := filepath.Join(t.TempDir(), "draft.csv")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "json", "--samples", "6000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Findings []struct {
				Category, Model, What string
				Measured              float64
				N                     int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if strings.Contains(errOut, "graded eval rows") {
		t.Errorf("rows that are not eval's warned about: %s", errOut)
	}
	for _, f := range rep.Measured.Findings {
		if f.Category == "draft" && f.Model == "mini" && f.What == "pass rate" {
			if f.N != 40 || f.Measured != 0.5 {
				t.Errorf("pass rate %v of %d rows, want 0.5 of 40", f.Measured, f.N)
			}
			return
		}
	}
	t.Errorf("no pass-rate finding for mini in draft: %+v", rep.Measured.Findings)
}

// TestEstimateMeasuredEvalRetriesAreFailedCalls: an eval row is a pair's last call, and the
// calls before it that failed are its retries: they count against the model's measured
// availability, as the rows of a trace export, one per call, do.
func TestEstimateMeasuredEvalRetriesAreFailedCalls(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		retries := 0
		if i%4 == 0 {
			retries = 2
		}
		fmt.Fprintf(&b, `{"item": "q%d", "category": "draft", "prompt": "p%d", "model": "gpt-4.1-mini", "pass": true, "source": "eval", "graded_by": "checks", "retries": %d}`+"\n", i, i, retries)
	}
	measured := filepath.Join(t.TempDir(), "eval.jsonl")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "json", "--samples", "6000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Measured struct {
			Findings []struct {
				Category, Model, What string
				Measured              float64
				N                     int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, f := range rep.Measured.Findings {
		if f.Category == "draft" && f.Model == "mini" && f.What == "availability" {
			if f.N != 60 || math.Abs(f.Measured-40.0/60) > 1e-9 {
				t.Errorf("availability %v of %d calls, want 40 of 60 (20 retried)", f.Measured, f.N)
			}
			return
		}
	}
	t.Errorf("no availability finding for mini in draft: %+v", rep.Measured.Findings)
}

// TestEstimateMeasuredContradictionsInEveryFormat: the HTML page and the CSV say what the
// measurements contradict and what to write instead, and which rows matched nothing: the page
// in its table of measurements and its notes, the CSV, which has no table of findings, on
// stderr.
func TestEstimateMeasuredContradictionsInEveryFormat(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, `{"item": "q%d", "category": "draft", "prompt": "p%d", "model": "mini", "pass": %v}`+"\n", i, i, i%2 == 0)
	}
	b.WriteString(`{"item": "z", "category": "drafts", "prompt": "z", "model": "mini", "pass": true}` + "\n")
	measured := filepath.Join(t.TempDir(), "draft.jsonl")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "contradict mini's pass rate in draft: assumed 92.00%, measured 50.00% (95% interval 33.80%–66.20%, exact binomial, n 40): ../../examples/quickstart.yaml:63: write assume.pass_rate.mini: 0.5 in category draft"
	const unmatched = `categories the spec does not have were left out: "drafts" (1 row)`
	const row = "<tr><td>draft</td><td>mini</td><td>pass rate</td><td class=\"num\">92.00%</td><td class=\"num\">50.00%</td><td>33.80%–66.20%</td><td class=\"num\">40</td><td>yes</td><td><strong class=\"no\">contradicts</strong>: ../../examples/quickstart.yaml:63: write assume.pass_rate.mini: 0.5 in category draft</td></tr>"
	code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "html", "--samples", "6000")
	if page := html.UnescapeString(out); code != 0 || !strings.Contains(page, row) || !strings.Contains(page, unmatched) {
		t.Errorf("html: exit %d, want the table of measurements to have %q and the notes to say %q:\n%s", code, row, unmatched, errOut)
	}
	code, _, errOut = run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "csv", "--samples", "6000")
	if code != 0 || !strings.Contains(errOut, "measured: measurements from "+measured+" "+want) || !strings.Contains(errOut, unmatched) {
		t.Errorf("csv: exit %d, want stderr to say %q and %q:\n%s", code, want, unmatched, errOut)
	}
}

// TestEstimateMeasuredTimeScaledLatencies: rows a trace export marks as answered at a time
// scale (time_scale, in JSON Lines and in CSV) have their latencies shown but not tested:
// forty calls at 9s against mini's assumed 400ms contradict nothing, and say why.
func TestEstimateMeasuredTimeScaledLatencies(t *testing.T) {
	var jl, csv strings.Builder
	csv.WriteString("item,category,prompt_hash,model,latency_ms,time_scale,source\n")
	for i := range 40 {
		fmt.Fprintf(&jl, `{"item": "d%d", "category": "draft", "prompt_hash": "0123456789abcdef", "model": "mini", "latency_ms": %d, "time_scale": 0.05, "source": "trace"}`+"\n", i, 9000+i)
		fmt.Fprintf(&csv, "d%d,draft,0123456789abcdef,mini,%d,0.05,trace\n", i, 9000+i)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"trace.jsonl": jl.String(), "trace.csv": csv.String()} {
		measured := filepath.Join(dir, name)
		if err := os.WriteFile(measured, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--format", "json", "--samples", "6000")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errOut)
		}
		var rep struct {
			Measured struct {
				Findings []struct {
					Category, Model, What string
					N                     int
					Contradicts, Used     bool
					Untested              bool
					Note                  string
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		n := 0
		for _, f := range rep.Measured.Findings {
			if f.Category != "draft" || f.Model != "mini" || !strings.HasPrefix(f.What, "latency") {
				continue
			}
			n++
			if f.N != 40 || f.Contradicts || f.Used || !f.Untested || !strings.Contains(f.Note, "40 calls answered at a time scale (serve --time-scale)") {
				t.Errorf("%s: %+v; want the 40 latencies shown, not used, not tested", name, f)
			}
		}
		if n != 2 {
			t.Errorf("%s: %d latency findings for mini in draft, want 2: %+v", name, n, rep.Measured.Findings)
		}
	}
}

// TestEstimateMeasuredCSVEvalRowsWarn: a CSV cannot say which eval rows the category's
// validators graded alone, so their pass is read as a grade, uncorrected for the validators'
// strength: the estimate warns, and names the file to give instead.
func TestEstimateMeasuredCSVEvalRowsWarn(t *testing.T) {
	var b strings.Builder
	b.WriteString("item,category,prompt,model,pass,source\n")
	for i := range 30 {
		fmt.Fprintf(&b, "q%d,draft,prompt %d,gpt-4.1-mini,true,eval\n", i, i)
	}
	measured := filepath.Join(t.TempDir(), "eval.csv")
	if err := os.WriteFile(measured, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "estimate", "../../examples/quickstart.yaml", "--measured", measured, "--samples", "6000")
	want := "warning: 30 graded eval rows of " + measured + " are read as grades: a CSV does not say which of them the category's validators graded alone"
	if code != 0 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, want stderr to say %q:\n%s", code, want, errOut)
	}
}
