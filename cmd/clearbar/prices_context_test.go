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
