package gemini

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/clearbar/clearbar/internal/jsonstr"
	"github.com/tidwall/gjson"
)

// Limits on schema conversion: a reference already being expanded on the current path (a
// recursive schema) becomes a plain object, and so does every reference once a schema has
// produced maxSchemaNodes nodes (a schema that references itself many times over would
// otherwise grow exponentially).
const maxSchemaNodes = 2000

// convertSchema converts a JSON Schema (tool parameters, a json_schema response format) into
// Gemini's Schema, a subset of OpenAPI 3.0:
//
//   - kept as they are: description, title, properties, items, minItems, maxItems, minLength,
//     maxLength, pattern, minimum, maximum, minProperties, maxProperties, default, example,
//     propertyOrdering, nullable, and enum when every value is a string;
//   - type: upper-cased; an array of types drops "null" for nullable: true and becomes anyOf
//     when more than one type is left;
//   - anyOf and oneOf → anyOf, with {"type": "null"} branches turned into nullable: true, and a
//     single branch left inlined; allOf → its branches merged (properties and required joined);
//   - local $ref ("#/$defs/X", "#/definitions/X", any "#/…" pointer) → the referenced schema,
//     inlined with the sibling keywords winning; a recursive reference → an untyped schema;
//   - const with a string → enum with that one value;
//   - a schema without a type gets the one its keywords imply (properties → OBJECT, items →
//     ARRAY, enum → STRING), keywords of another type than the schema's are dropped, and an
//     object without properties (a free-form map, which Gemini refuses) becomes an untyped
//     schema that accepts any value (see fitTypes);
//   - required: only the names that properties declares;
//   - format: kept only where Gemini takes it (date-time and enum for strings, int32 and int64
//     for integers, float and double for numbers);
//   - items given as an array (tuple validation) → its first schema;
//   - dropped: $schema, $id, $defs, definitions, $comment, additionalProperties,
//     patternProperties, unevaluatedProperties, propertyNames, dependentRequired,
//     dependentSchemas, dependencies, if, then, else, not, exclusiveMinimum, exclusiveMaximum,
//     multipleOf, uniqueItems, contains, minContains, maxContains, prefixItems, examples,
//     readOnly, writeOnly, deprecated, contentMediaType, contentEncoding, strict, enums with
//     other than string values, const with other than a string, and any other keyword.
//
// The result is a JSON object; a schema that is not an object converts to {}.
func convertSchema(s gjson.Result) json.RawMessage {
	c := &schemaConv{root: s}
	return c.convert(s).bytes()
}

// emptyObjectSchema reports whether a converted schema says nothing about its value's type (an
// object without properties, converted by fitTypes): Gemini wants such function parameters and
// response schemas left out.
func emptyObjectSchema(s json.RawMessage) bool {
	r := gjson.ParseBytes(s)
	if r.Get("anyOf").Exists() {
		return false
	}
	return !r.Get("type").Exists() && !r.Get("anyOf").Exists()
}

type schemaConv struct {
	root  gjson.Result
	stack []string // references being expanded
	nodes int
}

// obj is a JSON object under construction, keys in insertion order.
type obj struct {
	keys []string
	vals [][]byte
}

func (o *obj) set(k string, v []byte) {
	if i := slices.Index(o.keys, k); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *obj) get(k string) ([]byte, bool) {
	if i := slices.Index(o.keys, k); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

func (o *obj) del(k string) {
	if i := slices.Index(o.keys, k); i >= 0 {
		o.keys = slices.Delete(o.keys, i, i+1)
		o.vals = slices.Delete(o.vals, i, i+1)
	}
}

func (o *obj) bytes() []byte {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, k)
		b = append(b, ':')
		b = append(b, o.vals[i]...)
	}
	return append(b, '}')
}

// keyOrder is the order of keys in a converted schema, so that output does not depend on how
// references and branches were merged.
var keyOrder = []string{"type", "format", "title", "description", "nullable", "enum", "properties", "required", "propertyOrdering",
	"items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "minimum", "maximum", "minProperties", "maxProperties",
	"anyOf", "default", "example"}

// copied are the keywords kept byte for byte.
var copied = map[string]bool{
	"description": true, "title": true, "pattern": true, "default": true, "example": true, "propertyOrdering": true,
	"minimum": true, "maximum": true, "minItems": true, "maxItems": true, "minLength": true, "maxLength": true,
	"minProperties": true, "maxProperties": true,
}

// formats are the formats Gemini takes, by type.
var formats = map[string][]string{"STRING": {"date-time", "enum"}, "INTEGER": {"int32", "int64"}, "NUMBER": {"float", "double"}}

func (c *schemaConv) convert(s gjson.Result) *obj {
	c.nodes++
	o := &obj{}
	if !s.IsObject() {
		return o
	}
	var ref, format string
	var anyOf, allOf, required, typ gjson.Result
	nullable := false
	s.ForEach(func(k, v gjson.Result) bool {
		switch key := k.Str; {
		case key == "$ref":
			ref = v.Str
		case key == "type":
			typ = v
		case key == "nullable":
			nullable = v.Type == gjson.True
		case key == "anyOf", key == "oneOf" && !anyOf.Exists():
			anyOf = v
		case key == "allOf":
			allOf = v
		case key == "required":
			required = v
		case key == "format":
			format = v.Str
		case key == "const":
			if v.Type == gjson.String {
				o.set("enum", append(append([]byte{'['}, v.Raw...), ']'))
			}
		case key == "enum":
			if v.IsArray() && allStrings(v) {
				o.set("enum", compact(v.Raw))
			}
		case key == "properties":
			if v.IsObject() {
				props := &obj{}
				v.ForEach(func(pk, pv gjson.Result) bool {
					props.set(pk.Str, c.convert(pv).bytes())
					return true
				})
				o.set("properties", props.bytes())
			}
		case key == "items":
			if v.IsArray() {
				v = v.Get("0")
			}
			if v.IsObject() {
				o.set("items", c.convert(v).bytes())
			}
		case copied[key]:
			o.set(key, compact(v.Raw))
		}
		return true
	})

	switch {
	case typ.Type == gjson.String:
		o.set("type", quoted(strings.ToUpper(typ.Str)))
	case typ.IsArray():
		var types []string
		typ.ForEach(func(_, t gjson.Result) bool {
			if t.Str == "null" {
				nullable = true
			} else if t.Str != "" {
				types = append(types, strings.ToUpper(t.Str))
			}
			return true
		})
		switch len(types) {
		case 0:
			o.set("type", quoted("NULL"))
		case 1:
			o.set("type", quoted(types[0]))
		default:
			// One branch per type, each with the keywords that belong to its type.
			branches := make([][]byte, len(types))
			for i, t := range types {
				b := &obj{keys: []string{"type"}, vals: [][]byte{quoted(t)}}
				for _, k := range slices.Clone(o.keys) {
					if typedKeys[k] == t {
						v, _ := o.get(k)
						b.set(k, v)
					}
				}
				if t == "OBJECT" && required.IsArray() {
					b.set("required", c.required(b, required))
				}
				fitTypes(b)
				branches[i] = sorted(b).bytes()
			}
			for k := range typedKeys {
				o.del(k)
			}
			required = gjson.Result{}
			o.set("anyOf", joinArray(branches))
		}
	}
	if anyOf.IsArray() {
		var branches []*obj
		anyOf.ForEach(func(_, b gjson.Result) bool {
			if isNullSchema(b) {
				nullable = true
				return true
			}
			branches = append(branches, c.convert(b))
			return true
		})
		switch len(branches) {
		case 0:
		case 1:
			merge(o, branches[0])
		default:
			bs := make([][]byte, len(branches))
			for i, b := range branches {
				bs[i] = b.bytes()
			}
			o.set("anyOf", joinArray(bs))
		}
	}
	if allOf.IsArray() {
		allOf.ForEach(func(_, b gjson.Result) bool {
			merge(o, c.convert(b))
			return true
		})
	}
	if ref != "" {
		merge(o, c.resolve(ref))
	}
	if required.IsArray() {
		o.set("required", c.required(o, required))
	}
	if req, ok := o.get("required"); ok && string(req) == "[]" {
		o.del("required")
	}
	fitTypes(o)
	if format != "" {
		t, _ := o.get("type")
		if slices.Contains(formats[strings.Trim(string(t), `"`)], format) {
			o.set("format", quoted(format))
		}
	}
	if nullable {
		o.set("nullable", []byte("true"))
	}
	return sorted(o)
}

// typedKeys are the keywords Gemini allows on one type only ("properties: only allowed for
// OBJECT type").
var typedKeys = map[string]string{
	"properties": "OBJECT", "required": "OBJECT", "propertyOrdering": "OBJECT", "minProperties": "OBJECT", "maxProperties": "OBJECT",
	"items": "ARRAY", "minItems": "ARRAY", "maxItems": "ARRAY",
}

// fitTypes makes a converted schema's type and keywords agree, as Gemini requires: a schema
// without a type (and without anyOf) gets the one its keywords imply (properties → OBJECT, items
// → ARRAY, enum → STRING); keywords of another type are dropped; and an object without
// properties (a free-form map, which Gemini refuses: "properties: should be non-empty for
// OBJECT type") loses its type and object keywords, so that it accepts any value.
func fitTypes(o *obj) {
	tv, hasType := o.get("type")
	if _, hasAnyOf := o.get("anyOf"); !hasType && !hasAnyOf {
		for _, infer := range [...][2]string{{"properties", "OBJECT"}, {"items", "ARRAY"}, {"enum", "STRING"}} {
			if _, ok := o.get(infer[0]); ok {
				tv, hasType = quoted(infer[1]), true
				o.set("type", tv)
				break
			}
		}
	}
	if !hasType {
		return
	}
	t := strings.Trim(string(tv), `"`)
	for k, kt := range typedKeys {
		if kt != t {
			o.del(k)
		}
	}
	if props, ok := o.get("properties"); t == "OBJECT" && (!ok || string(props) == "{}") {
		for _, k := range []string{"type", "properties", "required", "propertyOrdering", "minProperties", "maxProperties"} {
			o.del(k)
		}
	}
}

// resolve converts the schema a local reference points to.
func (c *schemaConv) resolve(ref string) *obj {
	if slices.Contains(c.stack, ref) || c.nodes > maxSchemaNodes {
		return &obj{keys: []string{"type"}, vals: [][]byte{quoted("OBJECT")}}
	}
	target, ok := pointer(c.root, ref)
	if !ok {
		return &obj{}
	}
	c.stack = append(c.stack, ref)
	defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	return c.convert(target)
}

// required keeps the required names that the (converted) properties declare.
func (c *schemaConv) required(o *obj, req gjson.Result) []byte {
	props, hasProps := o.get("properties")
	var names [][]byte
	req.ForEach(func(_, n gjson.Result) bool {
		if n.Type != gjson.String {
			return true
		}
		if hasProps && !gjson.GetBytes(props, gjson.Escape(n.Str)).Exists() {
			return true
		}
		names = append(names, jsonstr.Append(nil, n.Str))
		return true
	})
	return joinArray(names)
}

// merge adds src's keys to dst: properties are joined, required lists united, and any other
// key dst already has is kept.
func merge(dst, src *obj) {
	for i, k := range src.keys {
		v := src.vals[i]
		have, ok := dst.get(k)
		switch {
		case !ok:
			dst.set(k, v)
		case k == "properties":
			joined := &obj{}
			for _, b := range [][]byte{have, v} {
				gjson.ParseBytes(b).ForEach(func(pk, pv gjson.Result) bool {
					if _, dup := joined.get(pk.Str); !dup {
						joined.set(pk.Str, []byte(pv.Raw))
					}
					return true
				})
			}
			dst.set(k, joined.bytes())
		case k == "required":
			var names [][]byte
			seen := map[string]bool{}
			for _, b := range [][]byte{have, v} {
				gjson.ParseBytes(b).ForEach(func(_, n gjson.Result) bool {
					if !seen[n.Str] {
						seen[n.Str] = true
						names = append(names, []byte(n.Raw))
					}
					return true
				})
			}
			dst.set(k, joinArray(names))
		}
	}
}

// pointer follows a local JSON pointer ("#/$defs/Item") from root.
func pointer(root gjson.Result, ref string) (gjson.Result, bool) {
	rest, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return gjson.Result{}, false
	}
	cur := root
	for _, seg := range strings.Split(strings.TrimPrefix(rest, "/"), "/") {
		if seg == "" {
			continue
		}
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
		var next gjson.Result
		found := false
		cur.ForEach(func(k, v gjson.Result) bool {
			if k.Str == seg {
				next, found = v, true
				return false
			}
			return true
		})
		if !found {
			return gjson.Result{}, false
		}
		cur = next
	}
	return cur, cur.IsObject()
}

// sorted orders a schema's keys by keyOrder.
func sorted(o *obj) *obj {
	out := &obj{keys: make([]string, 0, len(o.keys)), vals: make([][]byte, 0, len(o.vals))}
	for _, k := range keyOrder {
		if v, ok := o.get(k); ok {
			out.keys, out.vals = append(out.keys, k), append(out.vals, v)
		}
	}
	return out
}

func isNullSchema(b gjson.Result) bool {
	return b.IsObject() && b.Get("type").Str == "null" && len(b.Map()) == 1
}

func allStrings(v gjson.Result) bool {
	ok := true
	v.ForEach(func(_, e gjson.Result) bool {
		ok = e.Type == gjson.String
		return ok
	})
	return ok
}

func quoted(s string) []byte { return jsonstr.Append(nil, s) }

func joinArray(items [][]byte) []byte {
	b := []byte{'['}
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// compact returns raw JSON without insignificant whitespace.
func compact(raw string) []byte {
	if !strings.ContainsAny(raw, " \t\r\n") {
		return []byte(raw)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return []byte(raw)
	}
	return buf.Bytes()
}
