package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateCalibrateSimulatedCSV: a table of simulated answers converted to CSV (clearbar
// outcomes convert) still says they are simulated, so that validate calibrate refuses to write
// a strength from it, as it does from the eval's JSON Lines.
func TestValidateCalibrateSimulatedCSV(t *testing.T) {
	data, err := os.ReadFile("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		b.WriteString(strings.Replace(line, "{", `{"simulated": true, `, 1) + "\n")
	}
	dir := t.TempDir()
	rows, csvRows := filepath.Join(dir, "simulated.jsonl"), filepath.Join(dir, "simulated.csv")
	if err := os.WriteFile(rows, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "outcomes", "convert", rows, "--out", csvRows); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	spec, _ := os.ReadFile("testdata/calibrate.yaml")
	specFile := filepath.Join(dir, "calibrate.yaml")
	if err := os.WriteFile(specFile, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "validate", "calibrate", specFile, "--category", "extract", csvRows, "--update")
	if got, _ := os.ReadFile(specFile); code == 0 || !strings.Contains(errOut, "come from simulated providers") || string(got) != string(spec) {
		t.Errorf("--update on the CSV of simulated rows: exit %d, stdout\n%s\nstderr %q; want a refusal and the spec unchanged", code, out, errOut)
	}
}
