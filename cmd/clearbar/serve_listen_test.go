package main

import (
	"strings"
	"testing"
)

// TestServeListenPortAloneSaysWhatToWrite: --listen with a port alone is refused with the
// addresses to write instead, not Go's "missing port in address".
func TestServeListenPortAloneSaysWhatToWrite(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"18317", "write 127.0.0.1:18317 (this machine only) or :18317 (every interface)"},
		{"localhost", "write localhost:8080"},
		{"::1", "write [::1]:8080"},
	} {
		code, _, errOut := run(t, "serve", "--listen", tc.addr, "--trace", "none")
		if code == 0 || !strings.Contains(errOut, "--listen "+tc.addr+": an address is HOST:PORT") || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "missing port") {
			t.Errorf("--listen %s: exit %d: %s", tc.addr, code, errOut)
		}
	}
}
