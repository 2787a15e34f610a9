package main

import (
	"strings"
	"testing"
)

// TestKeysHashNeverRepeatsArguments: clearbar keys hash reads the key from standard input; a
// key written on the command line instead (as an argument, or one that looks like a flag) is
// refused without being repeated in the error, which terminals and CI logs keep.
func TestKeysHashNeverRepeatsArguments(t *testing.T) {
	for _, key := range []string{"sk-live-0123456789abcdef", "-sk-live-0123456789abcdef", "--key=sk-live-0123456789abcdef"} {
		code, stdout, stderr := run(t, "keys", "hash", key)
		if code != 2 || stdout != "" {
			t.Errorf("keys hash %s: exit %d, stdout %q; want exit 2 and nothing printed", key, code, stdout)
		}
		if strings.Contains(stderr, "0123456789abcdef") {
			t.Errorf("keys hash %s: the error repeats the key: %s", key, stderr)
		}
		if !strings.Contains(stderr, "standard input") {
			t.Errorf("keys hash %s: the error should say where the key goes: %s", key, stderr)
		}
	}
	if code, stdout, _ := run(t, "keys", "hash", "--help"); code != 0 || !strings.Contains(stdout, "keys hash") {
		t.Errorf("keys hash --help: exit %d, %q", code, stdout)
	}
}
