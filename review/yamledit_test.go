package review

import (
	"strings"
	"testing"
)

const editDoc = `# A spec.
version: 1
categories:
  - name: a   # first
    route:
      cascade: [small, mid]   # cheap first
      validate:
        - {json_schema: schemas/a.json}
      on_fail: retry_once

    fallback: [strong]
    assume:
      pass_rate: {small: 0.9, "mid": 0.95}
    why: >-
      Folded text that must
      stay as it is.
  - name: b
    route: {model: mid}
    assume:
      pass_rate:
        mid: 0.9
        strong: '0.97'
`

func TestEditInPlace(t *testing.T) {
	for _, c := range []struct {
		name string
		e    edit
		want string // the changed lines, as they read after the edit
		gone string // text that must be gone
	}{
		{"a flow mapping's value", edit{"a", []string{"assume", "pass_rate", "small"}, "0.812"}, "      pass_rate: {small: 0.812, \"mid\": 0.95}\n", ""},
		{"a flow sequence", edit{"a", []string{"route", "cascade"}, "[small, strong]"}, "      cascade: [small, strong]   # cheap first\n", ""},
		{"a block mapping, replaced whole", edit{"a", []string{"route"}, "{model: mid}"}, "    route: {model: mid}\n\n    fallback: [strong]\n", "validate"},
		{"a block mapping's value", edit{"b", []string{"assume", "pass_rate", "mid"}, "0.8"}, "        mid: 0.8\n", ""},
		{"a quoted scalar", edit{"b", []string{"assume", "pass_rate", "strong"}, "0.9"}, "        strong: 0.9\n", "'0.97'"},
		{"a key added to a flow mapping", edit{"b", []string{"route", "fallback"}, "[strong]"}, "    route: {model: mid, fallback: [strong]}\n", ""},
		{"a key added to a block mapping", edit{"b", []string{"fallback"}, "[strong]"}, "        strong: '0.97'\n    fallback: [strong]\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, note, err := applyEdits([]byte(editDoc), []edit{c.e})
			if err != nil || note != "" {
				t.Fatalf("error %v, note %q", err, note)
			}
			got := string(out)
			if !strings.Contains(got, c.want) {
				t.Errorf("lacks %q:\n%s", c.want, got)
			}
			if c.gone != "" && strings.Contains(got, c.gone) {
				t.Errorf("still has %q:\n%s", c.gone, got)
			}
			// Everything else is untouched: the comments and the folded text survive.
			for _, keep := range []string{"# A spec.\n", "  - name: a   # first\n", "    why: >-\n      Folded text that must\n      stay as it is.\n"} {
				if !strings.Contains(got, keep) {
					t.Errorf("lost %q", keep)
				}
			}
		})
	}
}

// TestEditFallsBackToReencoding: a path through mappings the document lacks is added in place,
// in flow style; an edit that cannot be made in place (a key added to an empty mapping) is
// made by spec.SetInCategory, and the note says the document was re-encoded.
func TestEditFallsBackToReencoding(t *testing.T) {
	out, note, err := applyEdits([]byte(editDoc), []edit{{"b", []string{"assume", "latency", "mid"}, "{p50: 1s, p95: 3s}"}})
	if err != nil {
		t.Fatal(err)
	}
	if note != "" || !strings.Contains(string(out), "        strong: '0.97'\n      latency: {mid: {p50: 1s, p95: 3s}}\n") {
		t.Errorf("note %q:\n%s", note, out)
	}
	empty := strings.Replace(editDoc, "    route: {model: mid}\n", "    route: {model: mid}\n    failure_impact: {}\n", 1)
	out, note, err = applyEdits([]byte(empty), []edit{{"b", []string{"failure_impact", "bad_answer"}, "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "re-encoded") || !strings.Contains(string(out), "bad_answer: 2") {
		t.Errorf("note %q:\n%s", note, out)
	}
	if _, _, err := applyEdits([]byte(editDoc), []edit{{"zzz", []string{"route"}, "x"}}); err == nil {
		t.Error("an unknown category must be an error")
	}
}
