package simulated_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clearbar/clearbar/provider/simulated"
)

// validator compiles a JSON Schema, asserting formats too.
func validator(t *testing.T, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatalf("schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("mem://schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem://schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	return sch
}

// checkAgainst validates a generated document against its schema.
func checkAgainst(t *testing.T, schema []byte, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("generated %s, which is not JSON: %v", doc, err)
	}
	if err := validator(t, schema).Validate(inst); err != nil {
		t.Errorf("generated %s, which the schema rejects:\n%v", doc, err)
	}
}

func TestSampleJSONValidates(t *testing.T) {
	tests := []struct {
		name, schema, want, explanation string
	}{
		{"intent", `{"type":"object","required":["intent","confidence"],"additionalProperties":false,
			"properties":{"intent":{"type":"string","enum":["refund","shipping"]},"confidence":{"type":"number","minimum":0,"maximum":1}}}`,
			`{"intent":"refund","confidence":0}`, "first enum value; numbers are 0 when allowed; properties in schema order"},
		{"nested refs", `{"type":"object","required":["customer","orders"],
			"properties":{"customer":{"$ref":"#/$defs/person"},"orders":{"type":"array","minItems":3,"items":{"$ref":"#/$defs/order"}}},
			"$defs":{"person":{"type":"object","required":["name","age"],"properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":18}}},
			"order":{"type":"object","required":["id","paid"],"properties":{"id":{"type":"string","format":"uuid"},"paid":{"type":"boolean"}}}}}`,
			"", "local $ref to $defs; minItems 3; integer minimum; uuid format"},
		{"nullable", `{"type":"object","required":["a","b","c"],"properties":{"a":{"type":["string","null"]},
			"b":{"anyOf":[{"type":"null"},{"type":"integer","minimum":5}]},"c":{"type":"null"}}}`,
			`{"a":"sample","b":5,"c":null}`, "null is chosen only when nothing else is allowed"},
		{"allOf", `{"allOf":[{"type":"object","required":["x"],"properties":{"x":{"type":"string"}}},{"required":["y"],"properties":{"y":{"type":"integer","multipleOf":7,"minimum":1}}}]}`,
			`{"x":"sample","y":7}`, "allOf branches are merged; the smallest multiple above the minimum"},
		{"const", `{"type":"object","required":["v","k"],"properties":{"v":{"const":{"a":[1, 2]}},"k":{"enum":[3,"x"]}}}`,
			`{"v":{"a":[1,2]},"k":3}`, "const and enum values are copied, compacted"},
		{"exclusive bounds", `{"type":"object","required":["i","n","m"],"properties":{"i":{"type":"integer","exclusiveMinimum":10,"multipleOf":4},
			"n":{"type":"number","exclusiveMaximum":-1},"m":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.5}}}`,
			`{"i":12,"n":-2,"m":0.25}`, "2020-12 numeric exclusive bounds"},
		{"integer step", `{"type":"integer","multipleOf":1.5,"minimum":1}`, `3`, "an integer multiple of 1.5 is a multiple of 3"},
		{"strings", `{"type":"object","properties":{"when":{"type":"string","format":"date-time"},"day":{"type":"string","format":"date"},
			"mail":{"type":"string","format":"email"},"url":{"type":"string","format":"uri"},"ip":{"type":"string","format":"ipv4"},
			"long":{"type":"string","minLength":12},"short":{"type":"string","maxLength":3}}}`,
			`{"when":"2025-01-01T00:00:00Z","day":"2025-01-01","mail":"sample@example.com","url":"https://example.com/sample","ip":"192.0.2.1","long":"samplexxxxxx","short":"sam"}`,
			"formats are valid (asserted); optional properties are written too; lengths are respected"},
		{"patterns", `{"type":"object","properties":{"order":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{6,}$"},
			"alt":{"type":"string","pattern":"^(foo|bar)baz\\d+$"},"csv":{"type":"string","pattern":"^[^,]+$"},"vat":{"type":"string","pattern":"^[A-Z]{2}[0-9A-Z]{6,12}$"}}}`,
			`{"order":"AA-000000","alt":"foobaz0","csv":"a","vat":"AAAAAAAA"}`, "strings are built from the pattern"},
		{"tuple", `{"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false}`,
			`["sample",0]`, "prefixItems, and no more items when items is false"},
		{"max items", `{"type":"array","items":{"type":"string"},"maxItems":0}`, `[]`, "maxItems 0 wins over the default single item"},
		{"draft 4", `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["n","t"],
			"properties":{"n":{"type":"number","minimum":3,"exclusiveMinimum":true},"t":{"type":"array","items":[{"type":"boolean"},{"type":"string"}]}}}`,
			`{"n":4,"t":[true,"sample"]}`, "draft-4 boolean exclusiveMinimum and tuple items"},
		{"recursive", `{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","required":["name"],
			"properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}}}`,
			"", "a tree schema ends: deep down, only required properties are written"},
		{"linked list", `{"$defs":{"cell":{"type":"object","required":["v","next"],"properties":{"v":{"type":"integer"},
			"next":{"anyOf":[{"$ref":"#/$defs/cell"},{"type":"null"}]}}}},"$ref":"#/$defs/cell"}`,
			"", "a required recursive property ends on its null branch"},
		{"any", `{}`, `"sample"`, "an empty schema allows anything"},
		{"true", `true`, `null`, "so does true"},
		{"inferred", `{"properties":{"a":{"minimum":2}},"required":["a"]}`, `{"a":2}`, "no type: object and number are inferred from the keywords"},
		{"additional", `{"type":"object","required":["extra"],"additionalProperties":{"type":"integer"}}`, `{"extra":0}`,
			"a required name without a declared schema takes additionalProperties'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := simulated.SampleJSON(json.RawMessage(tt.schema))
			if err != nil {
				t.Fatalf("SampleJSON: %v (%s)", err, tt.explanation)
			}
			if tt.want != "" && string(doc) != tt.want {
				t.Errorf("got  %s\nwant %s\n(%s)", doc, tt.want, tt.explanation)
			}
			checkAgainst(t, []byte(tt.schema), doc)
		})
	}
}

// TestSampleJSONExampleSchemas generates answers for the example specs' schemas: a cascade
// validated by one of them must accept what the simulator answers.
func TestSampleJSONExampleSchemas(t *testing.T) {
	files, _ := filepath.Glob("../../examples/schemas/*.json")
	if len(files) == 0 {
		t.Skip("no example schemas in ../../examples/schemas")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			schema, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := simulated.SampleJSON(schema)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainst(t, schema, doc)
		})
	}
}

func TestSampleJSONErrors(t *testing.T) {
	tests := []struct {
		schema, want, explanation string
	}{
		{`{"type":`, "not valid JSON", "a broken schema"},
		{`{"$ref":"https://example.com/s.json"}`, "is not a local reference", "no network fetches"},
		{`{"$ref":"#/$defs/missing"}`, `does not resolve`, "a dangling reference"},
		{`{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`, "deeper than", "a reference loop"},
		{`{"type":"object","required":["a"],"properties":{"a":{"$ref":"#/$defs/a"}},"$defs":{"a":{"type":"object","required":["b"],"properties":{"b":{"$ref":"#/$defs/a"}}}}}`,
			"deeper than", "an infinitely deep required structure"},
		{`[1]`, "not a JSON object", "a schema must be an object or a boolean"},
	}
	for _, tt := range tests {
		_, err := simulated.SampleJSON(json.RawMessage(tt.schema))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("SampleJSON(%s) error = %v, want %q (%s)", tt.schema, err, tt.want, tt.explanation)
		}
	}
	if doc, err := simulated.SampleJSON(nil); err != nil || string(doc) != "{}" {
		t.Errorf("SampleJSON(nil) = %s, %v; want {} (a tool without parameters takes no arguments)", doc, err)
	}
}
