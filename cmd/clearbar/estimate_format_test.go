package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEstimateRefusesAFormatContradictingOut is the reported --format csv --out x.json, which
// wrote CSV into a .json file: a --format that contradicts the format --out's extension names
// is refused, as outcomes refuses one, and nothing is written; one that agrees (an alias
// included), or a name whose extension names no format, is written.
func TestEstimateRefusesAFormatContradictingOut(t *testing.T) {
	dir := t.TempDir()
	const spec = "../../examples/quickstart.yaml"
	for _, tt := range []struct {
		format, out string
		refused     bool
	}{
		{"csv", "x.json", true},
		{"json", "x.csv", true},
		{"html", "REPORT.MD", true},
		{"table", "x.html", true},
		{"csv", "x.csv", false},
		{"md", "x.md", false},
		{"text", "x.txt", false},
		{"json", "x", false},
	} {
		out := filepath.Join(dir, tt.out)
		code, _, errOut := run(t, "estimate", spec, "--samples", "6000", "--format", tt.format, "--out", out)
		_, statErr := os.Stat(out)
		if !tt.refused {
			if code != 0 || statErr != nil {
				t.Errorf("--format %s --out %s: exit %d (%v): %s", tt.format, tt.out, code, statErr, errOut)
			}
			continue
		}
		if code != 2 || statErr == nil {
			t.Errorf("--format %s --out %s: exit %d, file written %v: want it refused as a usage error", tt.format, tt.out, code, statErr == nil)
		}
		if !strings.Contains(errOut, "--format "+tt.format+" contradicts --out "+out) {
			t.Errorf("--format %s --out %s: stderr %q: want the contradiction named", tt.format, tt.out, errOut)
		}
	}
}
