package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar/gateway"
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

// TestKeysHashHashesEachLine: keys hash reads one key a line and prints one hash a line, in
// order, so that a file of keys never becomes one hash of them all (which no request's key
// could match); spaces around a key and a final newline are not part of any key, and a blank
// line gives a blank line, so that line N of the output is the hash of line N of the input.
func TestKeysHashHashesEachLine(t *testing.T) {
	hashKeys := func(stdin string) (int, string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errb, Stdin: strings.NewReader(stdin), Now: time.Now}
		return m.Run(context.Background(), []string{"keys", "hash"}), out.String(), errb.String()
	}
	for _, tc := range []struct {
		stdin string
		keys  []string
	}{
		{"k1\nk2\n", []string{"k1", "k2"}},
		{"k1\r\n\n  k2  \n\n", []string{"k1", "", "k2"}},
		{"\n\nk3\n", []string{"", "", "k3"}},
		{"only-key", []string{"only-key"}},
	} {
		code, out, errOut := hashKeys(tc.stdin)
		var want strings.Builder
		for _, k := range tc.keys {
			if k != "" {
				want.WriteString(gateway.HashKey(k))
			}
			want.WriteString("\n")
		}
		if code != 0 || out != want.String() {
			t.Errorf("keys hash < %q: exit %d\n%s%s\nwant the hashes of %q, one a line:\n%s", tc.stdin, code, out, errOut, tc.keys, want.String())
		}
	}
	for _, stdin := range []string{"", "\n \n"} {
		if code, out, errOut := hashKeys(stdin); code != 2 || out != "" || !strings.Contains(errOut, "standard input") {
			t.Errorf("keys hash < %q: exit %d, stdout %q, stderr %q; want exit 2 asking for a key", stdin, code, out, errOut)
		}
	}
}
