package eval

import (
	"strings"
	"testing"
)

// TestReadSetWarnsOfJSONReferencesTheValidatorsFail: an item whose right answer is its JSON
// reference (a json check of it, or json_path checks of it), or the value of a json check, is
// checked against the category's validators (a JSON Schema that requires "id") as a reference
// matched as text is; an item whose right answer is no document the reference gives (a
// contains check, a json_path check of a text reference, a reference its own checks fail) is
// not.
func TestReadSetWarnsOfJSONReferencesTheValidatorsFail(t *testing.T) {
	f := loadFixture(t, "testdata/recover.yaml", "extract")
	text := `{"id": "json", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"json": true}]}
{"id": "json-good", "prompt": "x", "reference": "{\"id\": \"a\"}", "checks": [{"json": true}]}
{"id": "path", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"json_path": "name", "equals": "a"}]}
{"id": "path-good", "prompt": "x", "reference": "{\"id\": \"a\", \"name\": \"a\"}", "checks": [{"json_path": "name", "equals": "a"}]}
{"id": "value", "prompt": "x", "checks": [{"json": {"name": "a"}}]}
{"id": "value-same", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"json": {"name": "a"}}]}
{"id": "path-text", "prompt": "x", "reference": "a", "checks": [{"json_path": "name", "equals": "a"}]}
{"id": "path-wrong", "prompt": "x", "reference": "{\"name\": \"b\"}", "checks": [{"json_path": "name", "equals": "a"}]}
{"id": "contains", "prompt": "x", "reference": "{\"name\": \"a\"}", "checks": [{"contains": "a"}]}
`
	set, err := readSet(text, f.env)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`set.jsonl:1: item "json": the category's validators fail the reference itself (`,
		`set.jsonl:3: item "path": the category's validators fail the reference itself (`,
		`set.jsonl:5: item "value": the category's validators fail the expected JSON {"name":"a"} itself (`,
		`set.jsonl:6: item "value-same": the category's validators fail the reference itself (`,
	}
	if len(set.Warnings) != len(want) {
		t.Fatalf("warnings %q: want %d, for the items whose right answer the schema fails", set.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(set.Warnings[i], w) || !strings.Contains(set.Warnings[i], "so they flag every answer that matches it") {
			t.Errorf("warning %d: %q; want it to start %q", i, set.Warnings[i], w)
		}
	}
	if !strings.HasSuffix(set.Warnings[2], "make the expected JSON an answer they pass") {
		t.Errorf("warning %q: want it to say to change the expected JSON", set.Warnings[2])
	}
}
