package main

import (
	"net"
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

// TestServeBusyPortSaysWhatToDo: a port another process listens on is refused with what to do
// about it, not the bare bind error.
func TestServeBusyPortSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := run(t, "serve", "--listen", ln.Addr().String(), "--trace", "none")
	if code == 0 || !strings.Contains(errOut, "another process listens on "+ln.Addr().String()) || !strings.Contains(errOut, "--listen 127.0.0.1:PORT") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
