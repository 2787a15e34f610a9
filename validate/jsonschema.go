package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// compiledSchema is a JSON Schema (draft 2020-12 unless it says otherwise) ready to validate.
type compiledSchema struct {
	schema *jsonschema.Schema
}

// compileSchema compiles one schema document. References resolve only inside the document
// (and to the standard meta-schemas, which the library embeds): an external $ref or $schema
// (file, http, https or any other URL) fails the compile without being read, because schemas
// come from client requests and tool definitions, and loading them must not read the
// gateway's files or make network calls. Spec-file schemas get the same rule, so a schema
// behaves the same wherever it is written.
func compileSchema(raw []byte, name string) (*compiledSchema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema %s is not JSON: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseExternal{})
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := "clearbar:///" + strings.ReplaceAll(name, " ", "_")
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	s, err := c.Compile(url)
	var invalid *jsonschema.SchemaValidationError
	if errors.As(err, &invalid) {
		// The library's message is a tree over several lines; each broken rule is one part
		// of a line here, so that the error stays on its file:line.
		var ve *jsonschema.ValidationError
		if errors.As(invalid.Err, &ve) {
			return nil, fmt.Errorf("schema %s does not compile: it is not valid JSON Schema: %s", name, strings.Join(leafErrors(ve), "; "))
		}
	}
	if le := (*jsonschema.LoadURLError)(nil); errors.As(err, &le) && errors.Is(le.Err, errExternalRef) {
		err = le.Err // it names the reference already
	}
	if err != nil {
		return nil, fmt.Errorf("schema %s does not compile: %w", name, err)
	}
	return &compiledSchema{schema: s}, nil
}

// refuseExternal is a jsonschema.URLLoader that loads nothing. The compiler asks it only for
// documents it does not already have: neither the schema itself nor an embedded meta-schema.
type refuseExternal struct{}

// errExternalRef is the cause of every refused load.
var errExternalRef = errors.New("Clearbar resolves only references inside the schema")

func (refuseExternal) Load(url string) (any, error) {
	// A relative reference resolves against the schema's own name ("clearbar:///NAME"): it is
	// shown as the path it names.
	return nil, fmt.Errorf("external $ref %s is not loaded: %w: copy what it refers to into the schema, under \"$defs\", and refer to it as \"#/$defs/NAME\"", strings.TrimPrefix(url, "clearbar:///"), errExternalRef)
}

var _ jsonschema.URLLoader = refuseExternal{}

// validate checks a JSON text against the schema, returning a reason when it fails.
func (cs *compiledSchema) validate(text string) (string, bool) {
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return notJSON(text, err), false
	}
	if err := cs.schema.Validate(inst); err != nil {
		return schemaReason(err), false
	}
	return "", true
}

// notJSON explains why an answer is not JSON, noticing the common near-misses.
func notJSON(text string, err error) string {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return "the answer is empty, not JSON"
	case strings.HasPrefix(t, "```"):
		return "the JSON is wrapped in a Markdown code fence"
	case !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") && (strings.Contains(t, "{") || strings.Contains(t, "[")):
		return "the answer has text around the JSON"
	}
	// A whole JSON value followed by more: a note after it, or a second value.
	dec := json.NewDecoder(strings.NewReader(t))
	var v any
	if dec.Decode(&v) == nil {
		if rest := t[dec.InputOffset():]; strings.TrimSpace(rest) != "" {
			return fmt.Sprintf("the answer has text after the JSON: %q", clip(strings.TrimSpace(rest), 40))
		}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at byte %d: %v", se.Offset, se)
	}
	return "not valid JSON: " + err.Error()
}

// schemaReason turns a validation error into one line per failed constraint.
func schemaReason(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	s := strings.Join(leafErrors(ve), "; ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return "does not match the schema: " + s
}

// leafErrors lists the failed constraints of a validation error, one line each, like
// "at '/confidence': maximum: got 1.2, want 1".
func leafErrors(ve *jsonschema.ValidationError) []string {
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			lines := strings.Split(strings.TrimSpace(e.Error()), "\n")
			msg := strings.TrimSpace(strings.TrimPrefix(lines[len(lines)-1], "- "))
			leaves = append(leaves, msg)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return leaves
}

type jsonSchemaValidator struct {
	name        string
	fixed       *compiledSchema // from a file or inline
	fromRequest bool
	cache       schemaCache
	// file is the schema file's content in canonical form (keys sorted, compact), nil for
	// an inline schema or the request's (see Checker.Reads).
	file json.RawMessage
}

// Reads implements reader: a schema file's content, canonical.
func (v *jsonSchemaValidator) Reads() json.RawMessage { return v.file }

func newJSONSchema(cfg spec.ValidatorConfig, env Env) (Validator, error) {
	c := cfg.(*spec.JSONSchema)
	v := &jsonSchemaValidator{name: c.Summary(), fromRequest: c.FromRequest}
	var raw []byte
	switch {
	case c.FromRequest:
		return v, nil
	case c.Path != "":
		data, err := env.read(env.resolve(c.Path))
		if err != nil {
			return nil, fmt.Errorf("json_schema %s: %w", c.Path, err)
		}
		raw = data
	default:
		raw = c.Inline
	}
	name := c.Path
	if name == "" {
		name = "(inline)"
	}
	s, err := compileSchema(raw, name)
	if err != nil {
		return nil, err
	}
	v.fixed = s
	if c.Path != "" {
		var doc any
		if err := json.Unmarshal(raw, &doc); err == nil {
			v.file, _ = json.Marshal(doc)
		}
	}
	return v, nil
}

func (v *jsonSchemaValidator) Name() string { return v.name }

// noRequestSchema is the reason of a json_schema validator that takes its schema from the
// request, on a request that asks for none.
const noRequestSchema = "the request asks for no JSON schema; nothing to check"

// notApplicable implements applier: a validator that takes its schema from the request does not
// apply to a request that asks for no JSON.
func (v *jsonSchemaValidator) notApplicable(req *clearbar.Request) string {
	if rf := req.ResponseFormat; v.fromRequest && !(rf.Type == "json_schema" && len(rf.Schema) > 0) && rf.Type != "json_object" {
		return noRequestSchema
	}
	return ""
}

func (v *jsonSchemaValidator) Check(_ context.Context, in *Input) clearbar.Verdict {
	s := v.fixed
	if v.fromRequest {
		rf := in.Request.ResponseFormat
		switch {
		case rf.Type == "json_schema" && len(rf.Schema) > 0:
			var err error
			if s, err = v.cache.get(rf.Schema); err != nil {
				return clearbar.Verdict{Validator: v.name, Pass: false, Reason: "the request's schema does not compile: " + err.Error()}
			}
		case rf.Type == "json_object":
			s = nil // any JSON object
		default:
			return clearbar.Verdict{Validator: v.name, Pass: true, Reason: noRequestSchema, NotApplicable: true}
		}
	}
	text := in.Response.Text()
	if s == nil {
		var obj map[string]any
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			return clearbar.Verdict{Validator: v.name, Pass: false, Reason: notJSON(text, err)}
		}
		return clearbar.Verdict{Validator: v.name, Pass: true}
	}
	if reason, ok := s.validate(text); !ok {
		return clearbar.Verdict{Validator: v.name, Pass: false, Reason: reason}
	}
	return clearbar.Verdict{Validator: v.name, Pass: true}
}
