package replay

import (
	"strings"
	"testing"
)

// TestShortNameKeepsSettings: a spec's route evaluated with an assumed validator and with its
// validators are told apart on the chart: the label keeps the settings in parentheses, and a
// name too long for a label is shortened before them.
func TestShortNameKeepsSettings(t *testing.T) {
	models := []string{"mistralai/mixtral-8x7b-chat", "gpt-4-1106-preview"}
	assumed := &Result{Name: "spec: mistralai/mixtral-8x7b-chat → gpt-4-1106-preview (assumed d=0.7 f=0.1)", Kind: KindSpec, Models: models}
	real := &Result{Name: "spec: mistralai/mixtral-8x7b-chat → gpt-4-1106-preview (validators)", Kind: KindSpec, Models: models}
	if got, want := shortName(assumed), "spec: mixtral-8x7b-chat → gpt-4-1106-preview (assumed d=0.7 f=0.1)"; got != want {
		t.Errorf("shortName = %q, want %q", got, want)
	}
	if got, want := shortName(real), "spec: mixtral-8x7b-chat → gpt-4-1106-preview (validators)"; got != want {
		t.Errorf("shortName = %q, want %q", got, want)
	}
	long := &Result{Name: "spec: " + strings.Repeat("a-model → ", 10) + "last (assumed d=0.7 f=0.1)", Kind: KindSpec}
	got := shortName(long)
	if n := len([]rune(got)); n > maxLabel || !strings.HasSuffix(got, "… (assumed d=0.7 f=0.1)") {
		t.Errorf("shortName of a long name = %q (%d characters): want at most %d, ending with its settings", got, n, maxLabel)
	}
}
