package spec

import (
	"slices"
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

// TestEditsKeepTheRestOfTheText: an edit changes only the lines it must. Blank lines, folded
// text and aligned comments elsewhere stay byte for byte, and a block score route is edited
// setting by setting, so that its comments stay and a setting the new value leaves out goes.
func TestEditsKeepTheRestOfTheText(t *testing.T) {
	const doc = `version: 1
name: edit

providers: {sim: {type: simulated}}

models:
  a: {provider: sim, model: gpt-4o-mini}
  b: {provider: sim, model: gpt-4o}

categories:
  - name: intent
    description: >-
      Folded text that
      stays as it is.
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.9            # aligned comment
    route:
      score:
        router: r.json          # from learn train
        models: [a, b]
        threshold: 0.5          # to be calibrated
    assume:
      pass_rate: {a: 0.8, b: 0.95}
`
	unchanged := func(t *testing.T, out []byte, changed ...string) {
		t.Helper()
		got := strings.Split(string(out), "\n")
		want := strings.Split(doc, "\n")
		var diff []string
		for _, l := range got {
			if !slices.Contains(want, l) {
				diff = append(diff, "+"+l)
			}
		}
		for _, l := range want {
			if !slices.Contains(got, l) {
				diff = append(diff, "-"+l)
			}
		}
		if !slices.Equal(diff, changed) {
			t.Errorf("changed lines %q, want %q:\n%s", diff, changed, out)
		}
	}
	out, err := SetInCategory([]byte(doc), "intent", []string{"assume", "score_share"}, map[string]float64{"a": 0.7, "b": 0.3})
	if err != nil {
		t.Fatal(err)
	}
	unchanged(t, out, "+      score_share: {a: 0.7, b: 0.3}")

	// Mappings missing on the path go into one added line, in flow style, with keys quoted as
	// YAML needs.
	out, err = SetInCategory([]byte(doc), "intent", []string{"assume", "latency", "gpt-4.1: mini"}, map[string]string{"p50": "1s", "p95": "2s"})
	if err != nil {
		t.Fatal(err)
	}
	unchanged(t, out, `+      latency: {'gpt-4.1: mini': {p50: 1s, p95: 2s}}`)
	out, err = SetInCategory([]byte(doc), "intent", []string{"review", "last"}, "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	unchanged(t, out, `+    review: {last: "2026-11-27"}`)

	out, err = SetRouteForm([]byte(doc), "intent", "score", map[string]any{"router": "r.json", "models": []string{"a", "b"}, "willingness_to_pay": 0.00184012})
	if err != nil {
		t.Fatal(err)
	}
	unchanged(t, out, "+        willingness_to_pay: 0.00184012          # to be calibrated", "-        threshold: 0.5          # to be calibrated")

	out, err = SetRouteForm([]byte(doc), "intent", "cascade", []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "    route:\n      cascade: [a, b]\n    assume:") {
		t.Errorf("the score route was not replaced by one line:\n%s", out)
	}
}

// TestEditsKeepCRLF: a spec written with CRLF line ends keeps them through an edit, in the
// lines the edit writes too (a new key, a new mapping, a route form), instead of ending up
// with mixed line ends.
func TestEditsKeepCRLF(t *testing.T) {
	crlf := []byte(strings.ReplaceAll(editDoc, "\n", "\r\n"))
	edits := map[string]func([]byte) ([]byte, error){
		"a value replaced": func(d []byte) ([]byte, error) {
			return SetInCategory(d, "intent", []string{"assume", "pass_rate", "a"}, 0.85)
		},
		"a mapping added": func(d []byte) ([]byte, error) {
			return SetInCategory(d, "intent", []string{"assume", "validator"}, map[string]any{"detect": 0.9, "false_alarm": 0.02})
		},
		"a block added": func(d []byte) ([]byte, error) {
			return SetInCategory(d, "intent", []string{"latency_budget"}, "2s")
		},
		"a route form": func(d []byte) ([]byte, error) {
			return SetRouteForm(d, "intent", "model", "b")
		},
	}
	for name, edit := range edits {
		out, err := edit(crlf)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, m := strings.Count(string(out), "\r\n"), strings.Count(string(out), "\n"); n != m || n == 0 {
			t.Errorf("%s: %d CRLF of %d line ends:\n%q", name, n, m, out)
		}
		if _, err := Parse(out, "edit.yaml", Options{}); err != nil {
			t.Errorf("%s: the edited spec does not load: %v", name, err)
		}
	}
	// A document with LF line ends stays LF.
	out, err := SetInCategory([]byte(editDoc), "intent", []string{"assume", "validator"}, map[string]any{"detect": 0.9})
	if err != nil || strings.Contains(string(out), "\r") {
		t.Errorf("an LF document got a CR (%v):\n%q", err, out)
	}
}

// TestSetInCategoryRefusesAlias: a value on the path that is an alias (*name) of one anchored
// elsewhere is not edited, which would edit every place that shares it; the error says so.
func TestSetInCategoryRefusesAlias(t *testing.T) {
	doc := strings.Replace(editDoc, "    assume: {pass_rate: {a: 0.8, b: 0.95}}\n", "    assume: *shared\n", 1)
	doc = strings.Replace(doc, "categories:\n", "x-shared: &shared {pass_rate: {a: 0.8, b: 0.95}}\ncategories:\n", 1)
	_, err := SetInCategory([]byte(doc), "intent", []string{"assume", "validator", "detect"}, 0.9)
	if err == nil || !strings.Contains(err.Error(), `assume is *shared, the value anchored at line 7, which other places may share: write it out in the category`) {
		t.Errorf("error %v; want one saying assume is an alias to write out", err)
	}
}
