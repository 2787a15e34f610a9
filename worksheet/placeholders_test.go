package worksheet

import (
	"strings"
	"testing"
)

// TestImportPlaceholdersSayWhatTheEstimateMakesOfThem: a sheet of the playbook's twelve
// columns reads a validated route's estimated pass rate as its first model's own, which the
// route's validation and escalation raise: the import says so, and how to give the route's
// figure instead. A hand-written cost far from the estimate's at the row's tokens and the
// catalogue's prices is told; one near it (rounded) is not.
func TestImportPlaceholdersSayWhatTheEstimateMakesOfThem(t *testing.T) {
	const header = "task category,traffic share,quality threshold,primary model,fallback model,average tokens in,average tokens out,validation rule,estimated pass rate,estimated latency,estimated per-request cost,last review date\n"
	imp := func(rows string) []string {
		t.Helper()
		var warnings []string
		_, err := Import(strings.NewReader(header+rows), ImportOptions{File: "sheet.csv", Dir: ".", Warn: func(msg string) {
			if strings.HasPrefix(msg, "row ") {
				warnings = append(warnings, msg)
			}
		}})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		return warnings
	}
	// nano at 400 tokens in and 20 out costs $0.000048 a request at the catalogue's prices, and
	// the route's escalations to mini bring it to $0.0000555.
	got := imp("classify,70%,95%,gpt-4.1-nano,gpt-4.1-mini,400,20,json schema,96%,500ms,0.0099,2026-11-01\n" +
		"draft,30%,90%,gpt-4.1-mini,,1500,250,none,92%,3s,0.001,2026-11-01\n")
	if len(got) != 2 {
		t.Fatalf("warnings %q, want two about row 2", got)
	}
	if w := got[0]; !strings.HasPrefix(w, `row 2, "estimated pass rate": 96% was read as the pass rate of gpt-4.1-nano alone`) ||
		!strings.Contains(w, "the row estimates 97.") || !strings.HasSuffix(w, `write gpt-4.1-nano's own, lower, pass rate in a "primary pass rate" column`) {
		t.Errorf("pass-rate warning %q", w)
	}
	if w := got[1]; !strings.HasPrefix(w, `row 2, "estimated per-request cost": 0.0099 is 180× above the estimate's 0.0000555`) {
		t.Errorf("cost warning %q", w)
	}
	// A static route reads its first model's pass rate as the row's, rightly; costs near the
	// estimate's (draft: mini at 1500 in and 250 out costs $0.001) are not told.
	if got := imp("classify,70%,95%,gpt-4.1-nano,gpt-4.1-mini,400,20,none,96%,500ms,0.00005,2026-11-01\n" +
		"draft,30%,90%,gpt-4.1-mini,,1500,250,none,92%,3s,0.001,2026-11-01\n"); len(got) > 0 {
		t.Errorf("warnings %q, want none", got)
	}
}
