package main

import (
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
