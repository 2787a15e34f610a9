package gemini

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestConvertSchema(t *testing.T) {
	tests := []struct{ explanation, in, want string }{
		{"types are upper-cased, required kept",
			`{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]}`},
		{"required names without a property are dropped, and an empty list with them",
			`{"type":"object","properties":{"a":{"type":"string"}},"required":["b"]}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING"}}}`},
		{"a nullable type array",
			`{"type":["integer","null"],"minimum":0}`,
			`{"type":"INTEGER","nullable":true,"minimum":0}`},
		{"several types: one anyOf branch each, with the keywords of its type",
			`{"type":["object","array","null"],"properties":{"a":{"type":"string"}},"required":["a"],"items":{"type":"number"},"maxItems":3}`,
			`{"nullable":true,"anyOf":[{"type":"OBJECT","properties":{"a":{"type":"STRING"}},"required":["a"]},{"type":"ARRAY","items":{"type":"NUMBER"},"maxItems":3}]}`},
		{"oneOf is anyOf; a null branch is nullable",
			`{"oneOf":[{"type":"string"},{"type":"boolean"},{"type":"null"}]}`,
			`{"nullable":true,"anyOf":[{"type":"STRING"},{"type":"BOOLEAN"}]}`},
		{"a single branch left is inlined under the parent's own keywords",
			`{"description":"maybe","anyOf":[{"type":"string","description":"inner"},{"type":"null"}]}`,
			`{"type":"STRING","description":"maybe","nullable":true}`},
		{"allOf branches merge their properties and required",
			`{"allOf":[{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]},{"properties":{"b":{"type":"integer"}},"required":["b"]}]}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"INTEGER"}},"required":["a","b"]}`},
		{"definitions refs resolve; siblings win",
			`{"type":"object","properties":{"x":{"$ref":"#/definitions/X","description":"here"}},"definitions":{"X":{"type":"string","description":"there","maxLength":5}}}`,
			`{"type":"OBJECT","properties":{"x":{"type":"STRING","description":"here","maxLength":5}}}`},
		{"a pointer with escapes",
			`{"type":"object","properties":{"x":{"$ref":"#/$defs/a~1b"}},"$defs":{"a/b":{"type":"boolean"}}}`,
			`{"type":"OBJECT","properties":{"x":{"type":"BOOLEAN"}}}`},
		{"an unresolvable ref says nothing",
			`{"type":"object","properties":{"x":{"$ref":"https://example.com/s.json"},"y":{"type":"string"}}}`,
			`{"type":"OBJECT","properties":{"x":{},"y":{"type":"STRING"}}}`},
		{"properties without a type make an object",
			`{"properties":{"a":{"type":"string"}}}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING"}}}`},
		{"items without a type make an array",
			`{"items":{"type":"string"}}`,
			`{"type":"ARRAY","items":{"type":"STRING"}}`},
		{"an enum without a type is a string enum; non-string enums are dropped",
			`{"type":"object","properties":{"a":{"enum":["x","y"]},"b":{"type":"integer","enum":[1,2]}}}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING","enum":["x","y"]},"b":{"type":"INTEGER"}}}`},
		{"keywords of another type are dropped (properties only on OBJECT)",
			`{"type":"string","properties":{"a":{}},"required":["a"],"items":{"type":"string"}}`,
			`{"type":"STRING"}`},
		{"a free-form map loses its type",
			`{"type":"object","description":"labels","additionalProperties":{"type":"string"}}`,
			`{"description":"labels"}`},
		{"formats Gemini does not take are dropped",
			`{"type":"object","properties":{"a":{"type":"string","format":"uri"},"b":{"type":"integer","format":"int64"},"c":{"type":"number","format":"int32"}}}`,
			`{"type":"OBJECT","properties":{"a":{"type":"STRING"},"b":{"type":"INTEGER","format":"int64"},"c":{"type":"NUMBER"}}}`},
		{"JSON-Schema-only keywords are dropped",
			`{"$schema":"x","$id":"y","$comment":"z","type":"number","exclusiveMinimum":0,"multipleOf":2,"not":{},"if":{},"then":{},"else":{},"examples":[1],"readOnly":true,"deprecated":true}`,
			`{"type":"NUMBER"}`},
		{"kept keywords pass compacted, in a fixed order",
			`{"example":"e","default":"d","pattern":"^a$","maxLength":9,"minLength":1,"title":"T","description":"D","type":"string"}`,
			`{"type":"STRING","title":"T","description":"D","minLength":1,"maxLength":9,"pattern":"^a$","default":"d","example":"e"}`},
		{"a schema that is not an object", `true`, `{}`},
	}
	for _, tt := range tests {
		got := string(convertSchema(gjson.Parse(tt.in)))
		if got != tt.want {
			t.Errorf("%s:\n in   %s\n got  %s\n want %s", tt.explanation, tt.in, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: not JSON: %s", tt.explanation, got)
		}
	}
}

// TestConvertSchemaRecursion checks that recursive and self-multiplying schemas stay bounded.
func TestConvertSchemaRecursion(t *testing.T) {
	rec := `{"$ref":"#/$defs/T","$defs":{"T":{"type":"object","properties":{"v":{"type":"string"},"left":{"$ref":"#/$defs/T"},"right":{"$ref":"#/$defs/T"}}}}}`
	got := string(convertSchema(gjson.Parse(rec)))
	want := `{"type":"OBJECT","properties":{"v":{"type":"STRING"},"left":{},"right":{}}}`
	if got != want {
		t.Errorf("recursive schema:\n got  %s\n want %s", got, want)
	}
	// Each level references the next twice: 2^30 nodes if every reference were expanded.
	var b strings.Builder
	b.WriteString(`{"$ref":"#/$defs/L0","$defs":{`)
	for i := range 30 {
		if i > 0 {
			b.WriteByte(',')
		}
		next := `{"type":"string"}`
		if i < 29 {
			next = `{"$ref":"#/$defs/L` + itoa(i+1) + `"}`
		}
		b.WriteString(`"L` + itoa(i) + `":{"type":"object","properties":{"a":` + next + `,"b":` + next + `}}`)
	}
	b.WriteString(`}}`)
	out := convertSchema(gjson.Parse(b.String()))
	if !json.Valid(out) || len(out) > 1<<20 {
		t.Errorf("exponential schema: %d bytes", len(out))
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
