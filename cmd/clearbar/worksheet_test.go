package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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

// TestWorksheetImportAsksForMissingPassRates: a playbook sheet whose fallback model no row
// gives a pass rate imports, but says on stderr which pass rates to write in, and the spec it
// wrote does not estimate until they are: estimate fails with the loader's file:line message
// instead of estimating with a pass rate nobody gave.
func TestWorksheetImportAsksForMissingPassRates(t *testing.T) {
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.csv")
	const csv = `task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date
intent,60%,95%,gpt-4.1-nano,gpt-4.1-mini,500,20,json schema,90%,300ms / 800ms,,2026-11-01
refund,40%,95%,claude-sonnet-4-5,gpt-4.1-nano,3000,400,none,97%,6s / 12s,,2026-11-01
`
	if err := os.WriteFile(sheet, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "spec.yaml")
	code, _, errOut := run(t, "worksheet", "import", sheet, "--out", out)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	// gpt-4.1-nano is the first model of intent, a cascade, whose estimated pass rate holds
	// escalations to gpt-4.1-mini: it is not nano's, so refund's fallback to nano gets none.
	if want := "warning: Pass rates missing, in intent (gpt-4.1-mini); refund (gpt-4.1-nano): no row of the worksheet gives one"; !strings.Contains(errOut, want) {
		t.Errorf("import stderr lacks %q:\n%s", want, errOut)
	}
	code, _, errOut = run(t, "estimate", out, "--samples", "20000")
	want := regexp.MustCompile(regexp.QuoteMeta(out) + `:\d+: category "intent" routes to "gpt-4\.1-mini" but assume\.pass_rate has no value for it`)
	if code == 0 || !want.MatchString(errOut) {
		t.Errorf("estimate of the imported spec: exit %d, %q; want it refused with %s", code, errOut, want)
	}
}

// TestWorksheetImportFromStdin: "-" reads the worksheet from standard input, so that an export
// pipes into an import; errors name it stdin.
func TestWorksheetImportFromStdin(t *testing.T) {
	_, sheet, errOut := run(t, "worksheet", "export", "../../examples/rag-assistant.yaml", "--samples", "20000")
	if !strings.HasPrefix(sheet, "task category,") {
		t.Fatalf("export: %s", errOut)
	}
	importStdin := func(in string) (int, string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(in),
			Now: func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }}
		return m.Run(context.Background(), []string{"worksheet", "import", "-"}), out.String(), errb.String()
	}
	code, out, errOut := importStdin(sheet)
	if code != 0 || !strings.HasPrefix(out, "# Imported from the routing worksheet stdin.") {
		t.Errorf("import -: exit %d, output %.80q: %s", code, out, errOut)
	}
	code, _, errOut = importStdin(strings.Replace(sheet, "task category,", "task categry,", 1))
	if want := `clearbar worksheet: stdin row 1, "task categry": unknown column`; code == 0 || !strings.HasPrefix(errOut, want) {
		t.Errorf("import - of a bad sheet: exit %d, stderr %q; want it to start with %q", code, errOut, want)
	}
}
