package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWorksheetExportFlagsSayWhatTheyTake: worksheet export refuses a --samples or --seed
// that clearbar estimate refuses, with estimate's own message, instead of estimating with
// another value than the one asked for; and its usage names both flags.
func TestWorksheetExportFlagsSayWhatTheyTake(t *testing.T) {
	const quickstart = "../../examples/quickstart.yaml"
	for _, args := range [][]string{{"--seed", "0"}, {"--seed", "-1"}, {"--samples", "-1"}, {"--samples", "10"}, {"--samples", "5999"}} {
		code, out, errOut := run(t, append([]string{"worksheet", "export", quickstart}, args...)...)
		if code != 2 || out != "" {
			t.Errorf("worksheet export %v: exit %d, output %q; want 2 and no worksheet", args, code, out)
		}
		_, _, estErr := run(t, append([]string{"estimate", quickstart}, args...)...)
		want, _, _ := strings.Cut(strings.TrimPrefix(estErr, "clearbar estimate: "), " (usage:")
		if want == "" || !strings.HasPrefix(errOut, "clearbar worksheet: "+want) {
			t.Errorf("worksheet export %v says %q; want estimate's message %q", args, errOut, want)
		}
	}
	code, out, errOut := run(t, "worksheet", "export", quickstart, "--samples", "6000", "--seed", "42")
	if code != 0 || !strings.HasPrefix(out, "task category,") {
		t.Errorf("worksheet export --samples 6000 --seed 42: exit %d: %s", code, errOut)
	}
	code, out, _ = run(t, "worksheet", "-h")
	if code != 0 || !strings.Contains(out, "clearbar worksheet export SPEC.yaml [--out sheet.csv] [--samples N] [--seed N]") {
		t.Errorf("worksheet -h: exit %d, usage %q; want the export flags in it", code, out)
	}
}

// TestWorksheetExportNotesWhatIsLost: export says on stderr which of the spec's sections the
// worksheet does not carry, so that nobody learns it from an import that quietly lacks them.
func TestWorksheetExportNotesWhatIsLost(t *testing.T) {
	sheet := filepath.Join(t.TempDir(), "sheet.csv")
	code, _, errOut := run(t, "worksheet", "export", "../../examples/support-triage.yaml", "--out", sheet, "--samples", "20000")
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"note: ../../examples/support-triage.yaml: named policies (policies: before-routing) are not in a worksheet",
		"note: ../../examples/support-triage.yaml: match rules (match: in intent, extract-order, order-status, sensitive) are not in a worksheet",
		"note: ../../examples/support-triage.yaml: golden tests (tests:, 4 of them) are not in a worksheet",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("export stderr lacks %q:\n%s", want, errOut)
		}
	}
}
