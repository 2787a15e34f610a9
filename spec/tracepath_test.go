package spec

import (
	"path/filepath"
	"testing"
)

// TestTracePath: server.trace is relative to the spec's directory, as the spec's other files
// are, so that serve and review started anywhere use one store.
func TestTracePath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x.db")
	for _, tt := range []struct{ file, trace, want string }{
		{"conf/spec.yaml", "data/decisions.db", filepath.Join("conf", "data", "decisions.db")},
		{"conf/spec.yaml", abs, abs},
		{"conf/spec.yaml", "none", "none"},
		{"conf/spec.yaml", "", ""},
		{"", "decisions.db", "decisions.db"}, // an embedded spec: the working directory
	} {
		s := &Spec{File: tt.file, Server: Server{Trace: tt.trace}}
		if got := s.TracePath(); got != tt.want {
			t.Errorf("file %q, trace %q: %q, want %q", tt.file, tt.trace, got, tt.want)
		}
	}
}
