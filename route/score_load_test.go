package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/spec"
)

// TestScoreRouterFileErrors: a router file the gateway cannot use is an error at the
// router's line that names the file once, says what is wrong with it, and says once how to
// get one that works.
func TestScoreRouterFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "router.json")
	trainRouter(t, path)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not JSON", "{nope", "score router router.json: not a model file: invalid character 'n' looking for beginning of object key string; train one with clearbar learn train"},
		{"another version", strings.Replace(string(good), `"version":1,"kind"`, `"version":2,"kind"`, 1), "score router router.json: model file version 2 is not supported (this build reads version 1); retrain the model with this build"},
	} {
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := scoreRouter(t, dir, "{router: router.json, models: [small, strong], threshold: 0.5}")
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		msg := err.Error()
		if !strings.Contains(msg, "spec.yaml:") || !strings.HasSuffix(msg, tc.want) || strings.Count(msg, "router.json") != 1 || strings.Count(msg, "train one with")+strings.Count(msg, "retrain") != 1 {
			t.Errorf("%s: %q; want spec.yaml:LINE, the file named once and %q", tc.name, msg, tc.want)
		}
	}
}

// TestScoreRouterFileGone: a router file that goes away between loading the spec and building
// the router (a deploy replacing it) is named once, as the spec names it.
func TestScoreRouterFileGone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "router.json")
	trainRouter(t, path)
	file := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(scoreBase, "ROUTE", "{router: router.json, models: [small, strong], threshold: 0.5}", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err = New(s)
	if err == nil || !strings.Contains(err.Error(), "score router router.json cannot be read (no such file or directory): train one with clearbar learn train") || strings.Count(err.Error(), "router.json") != 1 {
		t.Errorf("a router file gone: %v", err)
	}
}
