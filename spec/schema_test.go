package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// schemaTestURL is the schema's $id; the tests compile Schema() under it.
const schemaTestURL = "https://clearbar.dev/schema/spec-v1.json"

// schemaMinimalSpec is the smallest file the schema accepts.
const schemaMinimalSpec = `version: 1
name: minimal
models:
  m: {provider: p, model: gpt-4.1-mini}
categories:
  - {name: c, share: 1, tokens: {in: 100, out: 10}, quality_bar: 0.9, route: {model: m}}
`

// compileSchemaAt compiles Schema() and returns the schema at a location inside it: "#" for the
// whole file, "#/$defs/route" for a route. Formats (date) are asserted, as editors do.
func compileSchemaAt(t *testing.T, loc string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaTestURL, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaTestURL + loc)
	if err != nil {
		t.Fatalf("compiling the schema at %s: %v", loc, err)
	}
	return sch
}

// schemaTree returns Schema() decoded as plain JSON values, for looking inside it.
func schemaTree(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatalf("schema.json is not a JSON object: %v", err)
	}
	return doc
}

// schemaLookup resolves a JSON pointer like "#/$defs/step/oneOf/1" in the decoded schema.
func schemaLookup(doc map[string]any, ptr string) (any, error) {
	var cur any = doc
	rest, ok := strings.CutPrefix(ptr, "#")
	if !ok {
		return nil, fmt.Errorf("%q is not a local JSON pointer", ptr)
	}
	for tok := range strings.SplitSeq(strings.TrimPrefix(rest, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[tok]; !ok {
				return nil, fmt.Errorf("%s: no %q", ptr, tok)
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("%s: no element %q", ptr, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%s: cannot step into %T with %q", ptr, cur, tok)
		}
	}
	return cur, nil
}

// schemaDefLocation is the location of a $defs entry, or of the whole schema for "".
func schemaDefLocation(def string) string {
	if def == "" {
		return "#"
	}
	return "#/$defs/" + def
}

// schemaInstance parses YAML the way a YAML language server sees it and converts it to the JSON
// data model the validator takes.
func schemaInstance(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("snippet is not YAML: %v\n%s", err, src)
	}
	return schemaJSONValue(v)
}

// schemaJSONValue converts a value decoded from YAML into JSON values: mappings get string keys,
// and timestamps (YAML reads 2026-11-01 as one) become the dates they were written as.
func schemaJSONValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = schemaJSONValue(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = schemaJSONValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = schemaJSONValue(e)
		}
		return out
	case time.Time:
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return v.Format(time.DateOnly)
		}
		return v.Format(time.RFC3339Nano)
	}
	return v
}

// schemaGoType returns the Go type the schema describes at a $defs entry ("" for the file).
func schemaGoType(t *testing.T, def string) reflect.Type {
	t.Helper()
	loc := schemaDefLocation(def)
	for typ, place := range schemaPlaces {
		if place.ref == loc {
			return typ
		}
	}
	t.Fatalf("no Go type is described at %s: add it to schemaPlaces", loc)
	return nil
}

// decodeAsGo decodes a snippet into the Go type the schema describes at def, as the loader does.
func decodeAsGo(t *testing.T, def, src string) error {
	t.Helper()
	v := reflect.New(schemaGoType(t, def))
	return yaml.Unmarshal([]byte(src), v.Interface())
}

// walkSchemas calls visit for every schema object in a schema tree: the root, $defs entries,
// properties and the subschemas of the applicator keywords.
func walkSchemas(node any, path string, visit func(path string, s map[string]any)) {
	s, ok := node.(map[string]any)
	if !ok {
		return
	}
	visit(path, s)
	for key, v := range s {
		switch key {
		case "$defs", "properties":
			m, _ := v.(map[string]any)
			for name, sub := range m {
				walkSchemas(sub, path+"/"+key+"/"+name, visit)
			}
		case "items", "additionalProperties", "propertyNames", "not", "if", "then", "else":
			walkSchemas(v, path+"/"+key, visit)
		case "allOf", "anyOf", "oneOf":
			l, _ := v.([]any)
			for i, sub := range l {
				walkSchemas(sub, fmt.Sprintf("%s/%s/%d", path, key, i), visit)
			}
		}
	}
}

// TestSchemaCompiles checks that schema.json is a valid draft 2020-12 schema and keeps its own
// house rules.
func TestSchemaCompiles(t *testing.T) {
	compileSchemaAt(t, "#")
	doc := schemaTree(t)

	t.Run("header", func(t *testing.T) {
		want := map[string]string{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"$id":     schemaTestURL,
		}
		for key, w := range want {
			if got := doc[key]; got != w {
				t.Errorf("%s = %v, want %s", key, got, w)
			}
		}
		for _, key := range []string{"title", "description"} {
			if s, _ := doc[key].(string); s == "" {
				t.Errorf("the schema has no %s", key)
			}
		}
	})

	t.Run("every object is closed and documented", func(t *testing.T) {
		// The loader rejects unknown keys, so every object of the file format lists its keys
		// and forbids others; editors show the descriptions on hover. (Mappings from names to
		// settings, like models, have a schema for additionalProperties instead.)
		walkSchemas(doc, "#", func(path string, s map[string]any) {
			if s["type"] != "object" {
				return
			}
			props, ok := s["properties"].(map[string]any)
			if !ok {
				// An inline JSON Schema and a test's request body are the objects whose keys are open.
				if s["additionalProperties"] == nil && path != "#/$defs/jsonSchemaValidator/anyOf/2/properties/inline" && path != "#/$defs/jsonObject" {
					t.Errorf("%s: an object with neither properties nor additionalProperties", path)
				}
				return
			}
			if s["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties must be false (the loader rejects unknown keys)", path)
			}
			for name, p := range props {
				if d, _ := p.(map[string]any)["description"].(string); strings.TrimSpace(d) == "" {
					t.Errorf("%s/properties/%s has no description", path, name)
				}
			}
		})
	})

	t.Run("every $defs entry is used", func(t *testing.T) {
		used := map[string]bool{}
		walkSchemas(doc, "#", func(_ string, s map[string]any) {
			if ref, ok := s["$ref"].(string); ok {
				used[ref] = true
			}
		})
		defs, _ := doc["$defs"].(map[string]any)
		for name := range defs {
			if !used["#/$defs/"+name] {
				t.Errorf("$defs/%s is never referenced", name)
			}
		}
	})
}

// TestSchemaAcceptsExamples checks that the schema accepts every example spec, read as an editor
// reads YAML.
func TestSchemaAcceptsExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no ../examples/*.yaml files found")
	}
	// The package's own valid fixtures are specs too (the .bad. ones are meant to fail).
	fixtures, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range fixtures {
		if !strings.Contains(filepath.Base(f), ".bad.") {
			files = append(files, f)
		}
	}
	sch := compileSchemaAt(t, "#")
	for _, file := range files {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(schemaInstance(t, string(data))); err != nil {
				t.Errorf("the schema rejects %s:\n%v", file, err)
			}
		})
	}
}

// TestSchemaAcceptsForms checks that the schema accepts each form a value may be written in,
// and that the loader's decoder accepts the same snippet: the two agree on what is valid.
func TestSchemaAcceptsForms(t *testing.T) {
	tests := []struct {
		def         string // the $defs entry the snippet is checked against; "" for the whole file
		yaml        string
		explanation string
	}{
		{"", schemaMinimalSpec, "version, name, models and categories are all a file needs"},
		{"band", "350", "a plain number of tokens is an average"},
		{"band", "8k", "k means thousands"},
		{"band", "1.5M", "M means millions"},
		{"band", "1_500", "underscores group digits (YAML 1.1 reads a number)"},
		{"band", `"1_500"`, "underscores group digits (YAML 1.2, as editors use, reads text)"},
		{"band", "{p50: 1500, p95: 6k}", "p50 and p95 give a distribution"},
		{"probability", "0.95", "a fraction"},
		{"probability", "1", "0 and 1 are probabilities too"},
		{"probability", "96%", "a percentage"},
		{"probability", "99.5 %", "a percentage with decimals and a space"},
		{"duration", "800ms", "milliseconds"},
		{"duration", "1.5s", "fractional seconds"},
		{"duration", "1h30m", "several units, as Go writes durations"},
		{"date", "2026-11-01", "YAML reads it as a timestamp; editors and the schema see the date"},
		{"cadence", "quarterly", "a named cadence"},
		{"cadence", "45d", "a number of days"},
		{"cadence", "6w", "a number of weeks"},
		{"usd", "0.20", "dollars as a number"},
		{"usd", "25", "whole dollars"},
		{"usd", "$0.50", "dollars with a dollar sign"},
		{"perMillion", "0.15", "dollars per million tokens"},
		{"perMillion", "$2.50", "with a dollar sign"},
		{"step", "mini", "a cascade step can be just a model name"},
		{"step", "{model: strong, validate: [{max_length: 200}], on_fail: retry_once}", "or a mapping with its own validators"},
		{"route", "{model: mini}", "static routing"},
		{"scoreRoute", "{router: router.json, models: [mini, strong], threshold: 0.5, embed_timeout: 150ms}", "a learned router trained with embeddings, with its call's timeout"},
		{"route", "{cascade: [nano, strong], validate: [{json_schema: schemas/intent.json}], on_exhausted: fail}", "a validated cascade"},
		{"route", "{split: [{weight: 0.9, model: mini}, {weight: 0.1, cascade: [nano, strong], on_fail: retry_once}]}", "a split into a static arm and a cascade arm"},
		{"route", "{split: [{weight: 50%, model: mini}, {weight: 50 %, model: strong}]}", "split weights as percentages, as the loader reads them"},
		{"route", "{split: [{weight: 12.5%, model: mini}, {weight: 87.5%, model: strong}]}", "percentage weights with decimals"},
		{"policyRoute", "{model: strong, fallback: []}", "an empty fallback list removes the category's fallbacks"},
		{"policyRoute", "{split: [{weight: 0.5, model: a}, {weight: 0.5, model: b}], fallback: [c]}", "a policy may split and set fallbacks"},
		{"validator", "{json_schema: request}", "the schema in the request's response_format"},
		{"validator", "{json_schema: {inline: {type: object, required: [label]}}}", "an inline JSON Schema"},
		{"validator", `{required_fields: ["order.id", "items[].sku"]}`, "field paths with dots and []"},
		{"validator", `{regex: {must_not: ["(?i)as an ai"]}}`, "only must_not patterns"},
		{"validator", "{length: {min_chars: 10, max_tokens: 300}}", "some of the length bounds"},
		{"validator", "{restricted_phrases: [guaranteed, risk-free]}", "phrases"},
		{"validator", "{citations: true}", "shorthand for {required: true}"},
		{"validator", `{citations: {required: false, pattern: '\(([0-9]+)\)'}}`, "optional citations with a custom pattern"},
		{"validator", "{tool_calls: none}", "a mode"},
		{"validator", "{tool_calls: {mode: allowed}}", "a mode as a mapping"},
		{"validator", "{tool_calls: {}}", "the default mode (required)"},
		{"validator", "{refusal: true}", "refusal takes true"},
		{"validator", "{refusal: {}}", "or an empty mapping"},
		{"validator", "{judge: {model: strong, rubric: Answers the question asked., threshold: 80%, tokens: {in: 500, out: 30}}}", "a judge with every setting"},
		{"validator", "{agree: {model: yi-34b, answer: choice}}", "an agreement check on the option picked"},
		{"latency", "{p50: 800ms, p95: 2s}", "quantiles of the whole response"},
		{"latency", "{ttft: {p50: 400ms, p95: 1.2s}, tokens_per_second: 80, fail_after: 10s}", "time to first token plus a token rate"},
		{"latency", "{samples: [700ms, 900ms, 1.4s]}", "measured response times"},
		{"latency", "{p50: 800ms, p95: 2s, samples: []}", "an empty samples list is not a form of its own"},
		{"provider", "{type: replay, outcomes: outcomes.jsonl}", "replay needs an outcomes file"},
		{"provider", "{type: azure-openai, base_url: https://x.openai.azure.com, api_version: 2024-10-21}", "azure-openai needs base_url and api_version (which YAML reads as a date)"},
		{"provider", `{type: openai, api_key: "${OPENAI_API_KEY}", base_url: "${OPENAI_BASE_URL:-https://api.openai.com/v1}", timeout: 30s}`, "environment references"},
		{"model", "{provider: sim, model: gpt-4.1-mini, price: {input: 0.40, output: $1.60}, reasoning: false, context_window: 1047576, fallback: [mini-azure]}", "a model with overrides"},
		{"assumptions", "{pass_rate: {nano: 93%, strong: 0.985}, validator: {detect: 0.8, false_alarm: 0.02}, latency: {nano: {p50: 300ms, p95: 900ms}}}", "every kind of assumption"},
		{"review", "{last: 2026-11-01, cadence: 6w, owner: support-platform}", "a review"},
		{"policy", "{description: All on the strong model., routes: {draft: {model: strong}}}", "a policy"},
	}
	for _, tt := range tests {
		t.Run(schemaDefLocation(tt.def)+"/"+tt.explanation, func(t *testing.T) {
			if err := compileSchemaAt(t, schemaDefLocation(tt.def)).Validate(schemaInstance(t, tt.yaml)); err != nil {
				t.Errorf("the schema rejects %s (%s):\n%v", tt.yaml, tt.explanation, err)
			}
			if err := decodeAsGo(t, tt.def, tt.yaml); err != nil {
				t.Errorf("the loader rejects %s (%s), which the schema accepts: %v", tt.yaml, tt.explanation, err)
			}
		})
	}
}

// TestSchemaRejects checks mistakes the schema must catch. Each row pairs a snippet the schema
// accepts with the same snippet carrying one mistake, so a row cannot pass for another reason.
func TestSchemaRejects(t *testing.T) {
	const category = "{name: c, share: 0.5, tokens: {in: 100, out: 10}, quality_bar: 0.95, route: {model: m}}"
	tests := []struct {
		def         string // the $defs entry the snippets are checked against; "" for the whole file
		valid       string
		invalid     string
		explanation string
	}{
		{"", schemaMinimalSpec, schemaMinimalSpec + "owner: platform\n",
			"unknown top-level key: owner belongs under review"},
		{"", schemaMinimalSpec, strings.Replace(schemaMinimalSpec, "version: 1", "version: 2", 1),
			"this schema describes version 1 only"},
		{"category", category, strings.Replace(category, "}}", "}, budget: 2s}", 1),
			"unknown category key: the key is latency_budget"},
		{"category", category, strings.Replace(category, "quality_bar: 0.95, ", "", 1),
			"a category needs a quality_bar"},
		{"validator", "{max_length: 200}", "{max_length: 200, regex: {must: [x]}}",
			"a validator names exactly one kind: write two list items instead"},
		{"validator", "{max_length: 200}", "{max_len: 200}",
			"unknown validator kind"},
		{"longContextPrice", "{above: 128k, input: 2}", "{above: 128k}",
			"a long-context tier sets at least one price"},
		{"validator", "{refusal: true}", "{refusal: false}",
			"refusal takes true; leave it out to turn it off"},
		{"validator", "{agree: {model: b, answer: number}}", "{agree: {model: b, answer: letter}}",
			"agree compares by choice, number or text"},
		{"validator", "{agree: {model: b, answer: text}}", "{agree: {model: b}}",
			"agree has no default answer kind"},
		{"route", "{cascade: [a, b], on_fail: retry_once}", "{cascade: [a, b], on_fail: retry}",
			"on_fail is escalate or retry_once"},
		{"route", "{cascade: [a, {model: b, on_fail: retry_once}]}", "{cascade: [a, {model: b, retries: 2}]}",
			"a cascade step mapping takes model, validate and on_fail only"},
		{"route", "{model: a}", "{model: a, cascade: [a, b]}",
			"a route is exactly one of model, cascade and split"},
		{"route", "{split: [{weight: 0.5, model: a}, {weight: 0.5, model: b}]}",
			"{split: [{weight: 0.5, model: a}, {weight: 0.5, split: [{weight: 1, model: b}]}]}",
			"a split arm cannot split again"},
		{"route", "{split: [{weight: 50%, model: a}, {weight: 50%, model: b}]}", "{split: [{weight: 0%, model: a}, {weight: 100%, model: b}]}",
			"a split weight is more than 0%"},
		{"route", "{split: [{weight: 50%, model: a}, {weight: 50%, model: b}]}", "{split: [{weight: 150%, model: a}, {weight: 50%, model: b}]}",
			"a split weight is at most 100%"},
		{"route", "{split: [{weight: 0.5, model: a}, {weight: 0.5, model: b}]}", "{split: [{weight: half, model: a}, {weight: 0.5, model: b}]}",
			"a split weight is a number or a percentage"},
		{"volume", "{per_month: 1000000}", "{per_month: 0}",
			"a volume of 0 is an error: leave volume out for the default"},
		{"latency", "{ttft: {p50: 400ms, p95: 1.2s}, tokens_per_second: 80}", "{ttft: {p50: 400ms, p95: 1.2s}, tokens_per_second: 0}",
			"tokens_per_second is more than 0"},
		{"provider", "{type: openai}", "{type: open-ai}",
			"provider type must be one of ProviderTypes"},
		{"provider", "{type: simulated}", "{type: simulated, api_key: sk-123}",
			"a setting must apply to the provider's type: the simulator takes no API key"},
		{"provider", "{type: openai-compatible, base_url: http://localhost:8000/v1}", "{type: openai-compatible}",
			"openai-compatible needs base_url"},
		{"retry", "{backoff: 500ms}", "{backoff: 500}",
			"a duration needs a unit: 500 could mean ms or s"},
		{"scoreRoute", "{router: r.json, models: [a, b], threshold: 0.5, embed_timeout: 150ms}", "{router: r.json, models: [a, b], threshold: 0.5, embed_timeout: 150}",
			"embed_timeout is a duration with a unit"},
		{"scoreRoute", "{router: r.json, models: [a, b], threshold: 0.5, embed_timeout: 150ms}", "{router: r.json, models: [a, b], threshold: 0.5, embed_timout: 150ms}",
			"a misspelt embed_timeout is an unknown key"},
		{"category", category, strings.Replace(category, "0.95", "1.5", 1),
			"a probability is at most 1 (write 0.95 or 95%)"},
		{"strength", "{detect: 80%}", "{detect: 180%}",
			"a percentage is at most 100%"},
		{"tokens", "{in: {p50: 1500, p95: 6000}, out: 250}", "{in: {p50: 1500}, out: 250}",
			"a token distribution needs both p50 and p95"},
		{"latency", "{p50: 800ms, p95: 2s}", "{p50: 800ms}",
			"p50 alone is no latency form: add p95"},
		{"review", "{last: 2026-11-01}", "{last: 2026-31-01}",
			"a date is YYYY-MM-DD"},
		{"model", "{provider: p, model: gpt-4.1-mini}", "{provider: p}",
			"a model needs the provider's model id"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", schemaDefLocation(tt.def), tt.explanation), func(t *testing.T) {
			sch := compileSchemaAt(t, schemaDefLocation(tt.def))
			if err := sch.Validate(schemaInstance(t, tt.valid)); err != nil {
				t.Fatalf("the schema rejects the valid snippet %s, so the row proves nothing:\n%v", tt.valid, err)
			}
			if err := decodeAsGo(t, tt.def, tt.valid); err != nil {
				t.Fatalf("the loader rejects the valid snippet %s: %v", tt.valid, err)
			}
			err := sch.Validate(schemaInstance(t, tt.invalid))
			if err == nil {
				t.Fatalf("the schema accepts %s; it must not: %s", tt.invalid, tt.explanation)
			}
			t.Logf("%s\n%v", tt.invalid, err)
		})
	}
}

// schemaPlaces says where the schema describes each Go type of the file format. A property of
// that type must be {"$ref": ref}. object is the schema object whose properties must be exactly
// the type's YAML keys; it is "" for types written as a scalar or a list, whose forms
// TestSchemaAcceptsForms and TestSchemaRejects check.
var schemaPlaces = map[reflect.Type]struct{ ref, object string }{
	reflect.TypeFor[Spec]():             {"#", "#"},
	reflect.TypeFor[Review]():           {"#/$defs/review", "#/$defs/review"},
	reflect.TypeFor[Volume]():           {"#/$defs/volume", "#/$defs/volume"},
	reflect.TypeFor[Retry]():            {"#/$defs/retry", "#/$defs/retry"},
	reflect.TypeFor[Provider]():         {"#/$defs/provider", "#/$defs/provider"},
	reflect.TypeFor[Model]():            {"#/$defs/model", "#/$defs/model"},
	reflect.TypeFor[PriceOverride]():    {"#/$defs/priceOverride", "#/$defs/priceOverride"},
	reflect.TypeFor[Latency]():          {"#/$defs/latency", "#/$defs/latency"},
	reflect.TypeFor[Quantiles]():        {"#/$defs/quantiles", "#/$defs/quantiles"},
	reflect.TypeFor[Category]():         {"#/$defs/category", "#/$defs/category"},
	reflect.TypeFor[Pipeline]():         {"#/$defs/pipeline", "#/$defs/pipeline"},
	reflect.TypeFor[Tokens]():           {"#/$defs/tokens", "#/$defs/tokens"},
	reflect.TypeFor[Impact]():           {"#/$defs/impact", "#/$defs/impact"},
	reflect.TypeFor[Route]():            {"#/$defs/route", "#/$defs/route"},
	reflect.TypeFor[Step]():             {"#/$defs/step", "#/$defs/step/oneOf/1"},
	reflect.TypeFor[Arm]():              {"#/$defs/arm", "#/$defs/arm"},
	reflect.TypeFor[Validator]():        {"#/$defs/validator", "#/$defs/validator"},
	reflect.TypeFor[Assumptions]():      {"#/$defs/assumptions", "#/$defs/assumptions"},
	reflect.TypeFor[Strength]():         {"#/$defs/strength", "#/$defs/strength"},
	reflect.TypeFor[Simulate]():         {"#/$defs/simulate", "#/$defs/simulate"},
	reflect.TypeFor[Match]():            {"#/$defs/match", "#/$defs/match"},
	reflect.TypeFor[ScoreRoute]():       {"#/$defs/scoreRoute", "#/$defs/scoreRoute"},
	reflect.TypeFor[Heuristic]():        {"#/$defs/heuristic", "#/$defs/heuristic"},
	reflect.TypeFor[ScoreMix]():         {"#/$defs/scoreMix", "#/$defs/scoreMix"},
	reflect.TypeFor[Shadow]():           {"#/$defs/shadow", "#/$defs/shadow"},
	reflect.TypeFor[Drift]():            {"#/$defs/drift", "#/$defs/drift"},
	reflect.TypeFor[Keys]():             {"#/$defs/keys", "#/$defs/keys"},
	reflect.TypeFor[ClientKey]():        {"#/$defs/clientKey", "#/$defs/clientKey"},
	reflect.TypeFor[Server]():           {"#/$defs/server", "#/$defs/server"},
	reflect.TypeFor[Test]():             {"#/$defs/test", "#/$defs/test"},
	reflect.TypeFor[TestExpect]():       {"#/$defs/testExpect", "#/$defs/testExpect"},
	reflect.TypeFor[JSONValue]():        {"#/$defs/jsonObject", ""},
	reflect.TypeFor[Policy]():           {"#/$defs/policy", "#/$defs/policy"},
	reflect.TypeFor[PolicyRoute]():      {"#/$defs/policyRoute", "#/$defs/policyRoute"},
	reflect.TypeFor[Band]():             {"#/$defs/band", "#/$defs/band/oneOf/1"},
	reflect.TypeFor[LongContextPrice](): {"#/$defs/longContextPrice", "#/$defs/longContextPrice/oneOf/1"},

	// Scalars with their own YAML forms.
	reflect.TypeFor[Ref]():        {"#/$defs/ref", ""},
	reflect.TypeFor[Duration]():   {"#/$defs/duration", ""},
	reflect.TypeFor[Prob]():       {"#/$defs/probability", ""},
	reflect.TypeFor[Date]():       {"#/$defs/date", ""},
	reflect.TypeFor[Cadence]():    {"#/$defs/cadence", ""},
	reflect.TypeFor[USD]():        {"#/$defs/usd", ""},
	reflect.TypeFor[PerMillion](): {"#/$defs/perMillion", ""},
	reflect.TypeFor[TokenCount](): {"#/$defs/tokenCount", ""},
	reflect.TypeFor[EnvString]():  {"#/$defs/envString", ""},
	reflect.TypeFor[SecretRef]():  {"#/$defs/secretRef", ""},

	// The settings of each validator kind.
	reflect.TypeFor[JSONSchema]():        {"#/$defs/jsonSchemaValidator", "#/$defs/jsonSchemaValidator/anyOf/2"},
	reflect.TypeFor[RequiredFields]():    {"#/$defs/requiredFieldsValidator", ""},
	reflect.TypeFor[Regex]():             {"#/$defs/regexValidator", "#/$defs/regexValidator"},
	reflect.TypeFor[MaxLength]():         {"#/$defs/maxLengthValidator", ""},
	reflect.TypeFor[Length]():            {"#/$defs/lengthValidator", "#/$defs/lengthValidator"},
	reflect.TypeFor[RestrictedPhrases](): {"#/$defs/restrictedPhrasesValidator", ""},
	reflect.TypeFor[Citations]():         {"#/$defs/citationsValidator", "#/$defs/citationsValidator/oneOf/1"},
	reflect.TypeFor[ToolCalls]():         {"#/$defs/toolCallsValidator", "#/$defs/toolCallsValidator/oneOf/1"},
	reflect.TypeFor[Refusal]():           {"#/$defs/refusalValidator", "#/$defs/refusalValidator/oneOf/1"},
	reflect.TypeFor[Judge]():             {"#/$defs/judgeValidator", "#/$defs/judgeValidator"},
	reflect.TypeFor[JudgeTokens]():       {"#/$defs/judgeTokens", "#/$defs/judgeTokens"},
	reflect.TypeFor[Agree]():             {"#/$defs/agreeValidator", "#/$defs/agreeValidator"},
}

// schemaNamedMappings are the Go lists written in YAML as mappings from a name to settings.
var schemaNamedMappings = map[reflect.Type]reflect.Type{
	reflect.TypeFor[Providers](): reflect.TypeFor[Provider](),
	reflect.TypeFor[Models]():    reflect.TypeFor[Model](),
	reflect.TypeFor[Policies]():  reflect.TypeFor[Policy](),
}

// schemaKey is one YAML key of a mapping and the Go type of its value. A key whose value has no
// Go type of its own names the schema it must $ref instead, or neither when any value goes.
type schemaKey struct {
	name string
	typ  reflect.Type
	ref  string
}

// taggedSchemaKeys lists a struct's YAML keys from its yaml tags, as decodeStrict reads them.
func taggedSchemaKeys(t reflect.Type) []schemaKey {
	var keys []schemaKey
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
		case strings.Contains(opts, "inline"):
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			keys = append(keys, taggedSchemaKeys(ft)...)
		case f.IsExported():
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			keys = append(keys, schemaKey{name: name, typ: f.Type})
		}
	}
	return keys
}

// schemaHandDecoded gives the YAML keys of the types that decode their mappings by hand (see
// their UnmarshalYAML methods in decode.go and validators.go) rather than from yaml tags.
var schemaHandDecoded = map[reflect.Type]func() []schemaKey{
	reflect.TypeFor[Arm](): func() []schemaKey {
		// A weight, then the route's keys except split: an arm cannot split again.
		keys := []schemaKey{{name: "weight", ref: "#/$defs/weight"}}
		for _, k := range taggedSchemaKeys(reflect.TypeFor[Route]()) {
			if k.name != "split" {
				keys = append(keys, k)
			}
		}
		return keys
	},
	reflect.TypeFor[PolicyRoute](): func() []schemaKey {
		// The route's keys plus fallback.
		return append(taggedSchemaKeys(reflect.TypeFor[Route]()), schemaKey{name: "fallback", typ: reflect.TypeFor[[]Ref]()})
	},
	reflect.TypeFor[Validator](): func() []schemaKey {
		// One key per registered kind, whose value is that kind's settings.
		var keys []schemaKey
		for _, kind := range ValidatorKinds() {
			keys = append(keys, schemaKey{name: kind, typ: reflect.TypeOf(validatorKinds[kind]()).Elem()})
		}
		return keys
	},
	reflect.TypeFor[Band](): func() []schemaKey {
		return []schemaKey{{name: "p50", ref: "#/$defs/tokenCount"}, {name: "p95", ref: "#/$defs/tokenCount"}}
	},
	reflect.TypeFor[JSONSchema](): func() []schemaKey {
		return []schemaKey{{name: "inline"}} // any JSON Schema
	},
	reflect.TypeFor[Refusal](): func() []schemaKey {
		return []schemaKey{{name: "mismatch", typ: reflect.TypeFor[bool]()}} // or {}
	},
}

// schemaCoverage walks Go types and the schema side by side.
type schemaCoverage struct {
	t       *testing.T
	doc     map[string]any
	visited map[reflect.Type]bool
}

func (c *schemaCoverage) lookup(ptr string) map[string]any {
	v, err := schemaLookup(c.doc, ptr)
	if err != nil {
		c.t.Errorf("%v", err)
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.t.Errorf("%s is not a schema object", ptr)
	}
	return m
}

// object checks that the schema object for t has exactly t's YAML keys as properties, then
// checks each property's schema against the Go type of its value.
func (c *schemaCoverage) object(t reflect.Type) {
	if c.visited[t] {
		return
	}
	c.visited[t] = true
	place := schemaPlaces[t]
	if place.object == "" {
		return
	}
	obj := c.lookup(place.object)
	if obj == nil {
		return
	}
	props, _ := obj["properties"].(map[string]any)
	var keys []schemaKey
	if hand, ok := schemaHandDecoded[t]; ok {
		keys = hand()
	} else {
		keys = taggedSchemaKeys(t)
		var names []string
		for _, k := range keys {
			names = append(names, k.name)
		}
		if !slices.Equal(names, yamlKeys(t)) {
			c.t.Errorf("Go type %s: the test reads the YAML keys %v, but the loader accepts %v", t, names, yamlKeys(t))
		}
	}
	for _, k := range keys {
		p, ok := props[k.name].(map[string]any)
		if !ok {
			c.t.Errorf("Go type %s has the YAML key %q, but %s has no such property: add it to schema.json", t, k.name, place.object)
			continue
		}
		where := place.object + "/properties/" + k.name
		switch {
		case k.ref != "":
			if p["$ref"] != k.ref {
				c.t.Errorf("%s: $ref is %v, want %s", where, p["$ref"], k.ref)
			}
		case k.typ != nil:
			c.value(k.typ, p, where)
		}
	}
	for name := range props {
		if !slices.ContainsFunc(keys, func(k schemaKey) bool { return k.name == name }) {
			c.t.Errorf("%s has the property %q, but Go type %s has no such YAML key: remove it from schema.json", place.object, name, t)
		}
	}
}

// value checks that a property's schema describes values of Go type t.
func (c *schemaCoverage) value(t reflect.Type, s map[string]any, where string) {
	if s == nil {
		c.t.Errorf("%s: no schema for Go type %s", where, t)
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if elem, ok := schemaNamedMappings[t]; ok {
		c.wantType(s, "object", where, t)
		sub, _ := s["additionalProperties"].(map[string]any)
		c.value(elem, sub, where+"/additionalProperties")
		return
	}
	if place, ok := schemaPlaces[t]; ok {
		if s["$ref"] != place.ref {
			c.t.Errorf("%s: Go type %s is described at %s, but the schema here has $ref %v", where, t, place.ref, s["$ref"])
		}
		c.object(t)
		return
	}
	switch t.Kind() {
	case reflect.Slice:
		c.wantType(s, "array", where, t)
		sub, _ := s["items"].(map[string]any)
		c.value(t.Elem(), sub, where+"/items")
	case reflect.Map:
		c.wantType(s, "object", where, t)
		sub, _ := s["additionalProperties"].(map[string]any)
		c.value(t.Elem(), sub, where+"/additionalProperties")
	case reflect.String:
		c.wantType(s, "string", where, t)
	case reflect.Bool:
		c.wantType(s, "boolean", where, t)
	case reflect.Int, reflect.Int64, reflect.Uint64:
		c.wantType(s, "integer", where, t)
	case reflect.Float64:
		c.wantType(s, "number", where, t)
	default:
		c.t.Errorf("%s: Go type %s has no place in the schema: add it to schemaPlaces", where, t)
	}
}

// wantType checks a schema's type, following a $ref to a shared definition like onFail.
func (c *schemaCoverage) wantType(s map[string]any, want, where string, t reflect.Type) {
	for range 10 {
		ref, ok := s["$ref"].(string)
		if !ok {
			break
		}
		if s = c.lookup(ref); s == nil {
			return
		}
	}
	if s["type"] != want {
		c.t.Errorf("%s: Go type %s is written as JSON type %s, but the schema says %v", where, t, want, s["type"])
	}
}

// TestSchemaCoversTypes walks the Go types of the file format from Spec down and checks that
// every YAML key of every mapping is a property in the schema, with a schema for the same kind
// of value, and that the schema has no property the Go types lack. Adding a field to a type, or
// a validator kind to the registry, without describing it in schema.json fails this test.
func TestSchemaCoversTypes(t *testing.T) {
	c := &schemaCoverage{t: t, doc: schemaTree(t), visited: map[reflect.Type]bool{}}
	c.object(reflect.TypeFor[Spec]())
	for typ, place := range schemaPlaces {
		if !c.visited[typ] {
			t.Errorf("schemaPlaces lists %s (at %s), but no field of the file format has that type", typ, place.ref)
		}
	}
}

// TestSchemaMatchesGoValues checks the schema's enums, patterns and defaults against the Go
// values they are copied from.
func TestSchemaMatchesGoValues(t *testing.T) {
	var providerTypes []string
	for _, pt := range ProviderTypes {
		providerTypes = append(providerTypes, pt.Name)
	}
	tests := []struct {
		ptr         string
		want        any
		explanation string
	}{
		{"#/properties/version/const", Version, "the schema describes the format version this package reads"},
		{"#/$defs/providerType/enum", providerTypes, "provider types are ProviderTypes, in order"},
		{"#/$defs/onFail/enum", []string{OnFailEscalate, OnFailRetryOnce}, "on_fail values"},
		{"#/$defs/onExhausted/enum", []string{ExhaustedDeliver, ExhaustedFail}, "on_exhausted values"},
		{"#/$defs/toolCallMode/enum", toolCallModes, "tool_calls modes"},
		{"#/$defs/answerKind/enum", AnswerKinds, "agree answer kinds"},
		{"#/$defs/name/pattern", nameRE.String(), "names of providers, models, categories and policies"},
		{"#/$defs/requiredFieldsValidator/items/pattern", fieldPathRE.String(), "required_fields paths"},
		{"#/$defs/retry/properties/attempts/default", DefaultRetryAttempts, "DefaultRetryAttempts"},
		{"#/$defs/drift/properties/window/default", DefaultDriftWindow, "DefaultDriftWindow"},
		{"#/$defs/drift/properties/reference/default", DefaultDriftReference, "DefaultDriftReference"},
		{"#/$defs/drift/properties/false_alarm/default", DefaultDriftFalseAlarm, "DefaultDriftFalseAlarm"},
		{"#/$defs/shadow/properties/concurrency/default", DefaultShadowConcurrency, "DefaultShadowConcurrency"},
		{"#/$defs/retry/properties/backoff/default", FormatDuration(DefaultRetryBackoff), "DefaultRetryBackoff"},
		{"#/$defs/scoreRoute/properties/embed_timeout/default", FormatDuration(DefaultEmbedTimeout), "DefaultEmbedTimeout"},
		{"#/$defs/provider/properties/availability/default", DefaultAvailability, "DefaultAvailability"},
		{"#/$defs/route/properties/on_fail/default", OnFailEscalate, "a route escalates by default"},
		{"#/$defs/arm/properties/on_fail/default", OnFailEscalate, "an arm is a route"},
		{"#/$defs/policyRoute/properties/on_fail/default", OnFailEscalate, "a policy route is a route"},
		{"#/$defs/route/properties/on_exhausted/default", ExhaustedDeliver, "a route delivers by default"},
		{"#/$defs/arm/properties/on_exhausted/default", ExhaustedDeliver, "an arm is a route"},
		{"#/$defs/policyRoute/properties/on_exhausted/default", ExhaustedDeliver, "a policy route is a route"},
		{"#/$defs/judgeValidator/properties/threshold/default", DefaultJudgeThreshold, "DefaultJudgeThreshold"},
		{"#/$defs/judgeTokens/properties/in/default", DefaultJudgeExtraIn, "DefaultJudgeExtraIn"},
		{"#/$defs/judgeTokens/properties/out/default", DefaultJudgeOut, "DefaultJudgeOut"},
		{"#/$defs/citationsValidator/oneOf/1/properties/pattern/default", DefaultCitationPattern, "DefaultCitationPattern"},
	}
	doc := schemaTree(t)
	for _, tt := range tests {
		got, err := schemaLookup(doc, tt.ptr)
		if err != nil {
			t.Errorf("%v (%s)", err, tt.explanation)
			continue
		}
		if want := asJSON(t, tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v (%s)", tt.ptr, got, want, tt.explanation)
		}
	}

	t.Run("provider settings by type", func(t *testing.T) {
		// Each type's if/then says which settings it needs and which it takes, as ProviderTypes does.
		conds, _ := doc["$defs"].(map[string]any)["provider"].(map[string]any)["allOf"].([]any)
		if len(conds) != len(ProviderTypes) {
			t.Errorf("provider has %d if/then conditions, want one per provider type (%d)", len(conds), len(ProviderTypes))
		}
		for i, pt := range ProviderTypes {
			ptr := fmt.Sprintf("#/$defs/provider/allOf/%d", i)
			checks := []struct {
				ptr  string
				want any
			}{
				{ptr + "/if/properties/type/const", pt.Name},
				{ptr + "/then/propertyNames/enum", append([]string{"type"}, pt.Allows...)},
			}
			if len(pt.Needs) > 0 {
				checks = append(checks, struct {
					ptr  string
					want any
				}{ptr + "/then/required", pt.Needs})
			} else if _, err := schemaLookup(doc, ptr+"/then/required"); err == nil {
				t.Errorf("%s/then/required is set, but provider type %s needs nothing", ptr, pt.Name)
			}
			for _, ck := range checks {
				got, err := schemaLookup(doc, ck.ptr)
				if err != nil {
					t.Errorf("provider type %s: %v", pt.Name, err)
					continue
				}
				if want := asJSON(t, ck.want); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v (provider type %s)", ck.ptr, got, want, pt.Name)
				}
			}
		}
	})
}

// asJSON returns v as encoding/json decodes it from its JSON form, for comparing with the
// decoded schema.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
