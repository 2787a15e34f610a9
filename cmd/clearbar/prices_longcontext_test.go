package main

import (
	"strings"
	"testing"
)

// TestPricesCatalogShowsLongContextTiers: the catalogue listing shows a model's long-context
// prices, as the listing of a spec's models does, so that the tier is found before a spec
// names the model.
func TestPricesCatalogShowsLongContextTiers(t *testing.T) {
	code, out, errOut := run(t, "prices", "--catalog", "claude-sonnet-4-5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "LONG CONTEXT") || !strings.Contains(out, "above 200k: $6/M in, $22.5/M out") {
		t.Errorf("no long-context tier for claude-sonnet-4-5:\n%s", out)
	}
}
