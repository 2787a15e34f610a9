package spec

import (
	"strings"
	"testing"
)

const editDoc = `version: 1
name: edit
providers: {sim: {type: simulated}}
models:
  a: {provider: sim, model: gpt-4o-mini}
  b: {provider: sim, model: gpt-4o}
categories:
  # The intent category.
  - name: intent
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route:
      cascade: [a, b]
      validate: [{max_length: 100}] # keep answers short
      on_fail: retry_once
    assume: {pass_rate: {a: 0.8, b: 0.95}}
`

func TestSetInCategory(t *testing.T) {
	out, err := SetInCategory([]byte(editDoc), "intent", []string{"assume", "pass_rate", "a"}, 0.85)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out, "edit.yaml", Options{})
	if err != nil {
		t.Fatalf("edited spec does not load: %v\n%s", err, out)
	}
	if got := s.Category("intent").Assume.PassRate["a"]; got != 0.85 {
		t.Errorf("pass_rate.a = %v, want 0.85", got)
	}
	if !strings.Contains(string(out), "# The intent category.") || !strings.Contains(string(out), "# keep answers short") {
		t.Errorf("comments lost:\n%s", out)
	}
	if _, err := SetInCategory([]byte(editDoc), "nope", []string{"share"}, 1); err == nil || !strings.Contains(err.Error(), `no category "nope"`) {
		t.Errorf("unknown category: %v", err)
	}
}

func TestSetRouteForm(t *testing.T) {
	score := map[string]any{"heuristic": map[string]any{"tiers": []float64{0.4}}, "models": []string{"a", "b"}}
	out, err := SetRouteForm([]byte(editDoc), "intent", "score", score)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(out, "edit.yaml", Options{})
	if err != nil {
		t.Fatalf("edited spec does not load: %v\n%s", err, out)
	}
	r := s.Category("intent").Route
	if r.Kind() != "score" || len(r.Cascade) != 0 || len(r.Validate) != 1 || r.OnFail != OnFailRetryOnce || r.Score.Heuristic.Tiers[0] != 0.4 {
		t.Errorf("route after the edit: kind %s, cascade %v, validate %d, on_fail %q\n%s", r.Kind(), r.Cascade, len(r.Validate), r.OnFail, out)
	}
	if !strings.Contains(string(out), "# keep answers short") {
		t.Errorf("the validate comment was lost:\n%s", out)
	}
	if _, err := SetRouteForm([]byte(editDoc), "intent", "validate", nil); err == nil {
		t.Error("validate is not a route form")
	}
}
