package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainDryRunSplitSaysTheArmIsDrawn: a dry run of a request whose category splits its
// traffic says that the arm it shows was drawn for this run, not fixed for the request.
func TestExplainDryRunSplitSaysTheArmIsDrawn(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "    route: {model: mini}\n", "    route: {split: [{weight: 0.5, model: mini}, {weight: 0.5, model: strong}]}\n", 1)
	specFile := filepath.Join(dir, "split.yaml")
	reqFile := filepath.Join(dir, "req.json")
	if err := os.WriteFile(specFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(mustAbs(t, "../../examples"), "schemas"), filepath.Join(dir, "schemas")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reqFile, []byte(`{"model":"clearbar/auto","messages":[{"role":"user","content":"Can you help me write back?"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "explain", "--dry-run", "--spec", specFile, reqFile)
	if code != 0 || !strings.Contains(out, "split arm") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, `category "draft" splits its traffic 2 ways, drawing an arm at random for each request`) {
		t.Errorf("stderr %q: want the note that the arm is drawn", errOut)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
