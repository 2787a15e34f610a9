package main

import (
	"strings"
	"testing"
)

// TestFlaggedUsageShowsTheDefault: the usage line of clearbar flagged -h shows the --since the
// command uses when none is given.
func TestFlaggedUsageShowsTheDefault(t *testing.T) {
	code, out, errOut := run(t, "flagged", "-h")
	if code != 0 {
		t.Fatalf("clearbar flagged -h: exit %d\n%s%s", code, out, errOut)
	}
	help := out + errOut
	if !strings.Contains(help, "[--since 168h]") || !strings.Contains(help, "(default 168h0m0s)") {
		t.Errorf("the usage line and the flag's default disagree:\n%s", help)
	}
}
