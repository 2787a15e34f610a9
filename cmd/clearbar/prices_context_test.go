package main

import (
	"strings"
	"testing"
)

// TestPricesContextWindowExact: a context window that is no round number of thousands is shown
// in full (gpt-4.1-nano's 1,047,576 tokens), not cut to thousands (1,047k); a round one in
// thousands.
func TestPricesContextWindowExact(t *testing.T) {
	code, out, errOut := run(t, "prices", "../../examples/cross-vendor.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1,047,576") || strings.Contains(out, "1,047k") || !strings.Contains(out, "200k") {
		t.Errorf("prices should show nano's context as 1,047,576 and sonnet's as 200k:\n%s", out)
	}
}

// TestPricesListsTheCatalogue: prices --catalog lists the catalogue's models, by a search of
// key or provider, so that a spec's model ids can be found without a spec.
func TestPricesListsTheCatalogue(t *testing.T) {
	code, out, errOut := run(t, "prices", "--catalog", "gpt-4.1-mini")
	if code != 0 || !strings.Contains(out, "KEY") || !strings.Contains(out, "gpt-4.1-mini ") || strings.Contains(out, "claude") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "prices", "--catalog", "no-such-model-anywhere"); code != 2 || !strings.Contains(errOut, "no model of the catalogue has") {
		t.Errorf("a search that finds nothing: exit %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "prices"); code != 2 || !strings.Contains(errOut, "list the catalogue with --catalog") {
		t.Errorf("no spec and no --catalog: exit %d, %s", code, errOut)
	}
}
