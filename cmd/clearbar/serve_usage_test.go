package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestServeUsageNamesEveryFlag: serve's usage line names every flag serve -h lists.
func TestServeUsageNamesEveryFlag(t *testing.T) {
	_, out, errOut := run(t, "serve", "-h")
	text := out + errOut
	usage, _, _ := strings.Cut(text[strings.Index(text, "Usage: clearbar serve"):], "\n")
	flags := regexp.MustCompile(`(?m)^  (--[a-z-]+)`).FindAllStringSubmatch(text, -1)
	if len(flags) < 5 {
		t.Fatalf("serve -h lists %d flags:\n%s", len(flags), text)
	}
	for _, f := range flags {
		if !strings.Contains(usage+" ", "["+f[1]+" ") && !strings.Contains(usage, "["+f[1]+"]") {
			t.Errorf("the usage line %q does not name %s", usage, f[1])
		}
	}
}
