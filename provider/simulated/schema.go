package simulated

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SampleJSON returns a small JSON document that satisfies a JSON Schema, for simulated
// structured outputs and tool-call arguments. An empty schema gives "{}". It is safe for
// concurrent use.
//
// It reads the keywords structured outputs use: type (one or a list; "null" is taken only when
// nothing else is allowed), const and enum (the first value), properties (every declared
// property, in schema order) and required, additionalProperties, items and prefixItems with
// minItems/maxItems, anyOf/oneOf (the first branch that is not just null), allOf (merged),
// local $ref ("#/$defs/x", "#/definitions/x"), minimum/maximum (exclusive too, draft-4 booleans
// included) and multipleOf, minLength/maxLength, pattern (a string is built from the regular
// expression and checked against it) and the common formats (date-time, date, time, email,
// hostname, ipv4, ipv6, uri, uuid, duration).
//
// Strings are "sample", numbers 0 or the nearest allowed value, booleans true, and arrays have
// one item. Deeper than six levels, objects get their required properties only, arrays their
// minItems and anyOf its null branch, so that recursive schemas such as trees end.
//
// It does not try to satisfy not, if/then/else, uniqueItems, dependentRequired or patterns RE2
// cannot parse. An error means the schema is not JSON, uses a $ref that is not local or does
// not resolve, or nests deeper than 32 levels.
func SampleJSON(schema json.RawMessage) ([]byte, error) {
	schema = bytes.TrimSpace(schema)
	if len(schema) == 0 {
		return []byte("{}"), nil
	}
	if !json.Valid(schema) {
		return nil, fmt.Errorf("the schema is not valid JSON")
	}
	g := &schemaGen{root: schema}
	return g.value(nil, schema, 0)
}

// maxSchemaDepth bounds nesting; past shallowDepth the generator writes as little as the
// schema allows (required properties only, minItems items, a null branch when there is one),
// so that recursive schemas such as trees end.
const (
	maxSchemaDepth = 32
	shallowDepth   = 6
)

type schemaGen struct {
	root json.RawMessage
}

// schemaNode is the part of a schema the generator reads.
type schemaNode struct {
	Ref              string            `json:"$ref"`
	Type             json.RawMessage   `json:"type"`
	Const            json.RawMessage   `json:"const"`
	Enum             []json.RawMessage `json:"enum"`
	Properties       json.RawMessage   `json:"properties"`
	Required         []string          `json:"required"`
	AdditionalProps  json.RawMessage   `json:"additionalProperties"`
	Items            json.RawMessage   `json:"items"`
	PrefixItems      []json.RawMessage `json:"prefixItems"`
	MinItems         *int              `json:"minItems"`
	MaxItems         *int              `json:"maxItems"`
	AnyOf            []json.RawMessage `json:"anyOf"`
	OneOf            []json.RawMessage `json:"oneOf"`
	AllOf            []json.RawMessage `json:"allOf"`
	MinLength        *int              `json:"minLength"`
	MaxLength        *int              `json:"maxLength"`
	Pattern          string            `json:"pattern"`
	Format           string            `json:"format"`
	Minimum          *float64          `json:"minimum"`
	Maximum          *float64          `json:"maximum"`
	ExclusiveMinimum json.RawMessage   `json:"exclusiveMinimum"`
	ExclusiveMaximum json.RawMessage   `json:"exclusiveMaximum"`
	MultipleOf       *float64          `json:"multipleOf"`

	props []prop // Properties in schema order
}

type prop struct {
	name   string
	schema json.RawMessage
}

// parse decodes a schema object. Boolean schemas are reported by ok=false with the value.
func (g *schemaGen) parse(raw json.RawMessage) (n *schemaNode, boolean, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "true":
		return nil, true, false, nil
	case "false":
		return nil, false, false, nil
	}
	n = &schemaNode{}
	if err := json.Unmarshal(raw, n); err != nil {
		return nil, false, false, fmt.Errorf("a schema is not a JSON object: %w", err)
	}
	if len(n.Properties) > 0 {
		if err := eachMember(n.Properties, func(k string, v json.RawMessage) {
			n.props = append(n.props, prop{k, v})
		}); err != nil {
			return nil, false, false, fmt.Errorf("properties: %w", err)
		}
	}
	return n, false, true, nil
}

// resolve follows a node's local $ref chain, merging the referring node's own keywords over
// the target's (2020-12 allows keywords next to $ref).
func (g *schemaGen) resolve(n *schemaNode, depth int) (*schemaNode, error) {
	for n.Ref != "" {
		if depth++; depth > maxSchemaDepth {
			return nil, fmt.Errorf("$ref %q: references nest deeper than %d", n.Ref, maxSchemaDepth)
		}
		target, err := g.pointer(n.Ref)
		if err != nil {
			return nil, err
		}
		t, _, ok, err := g.parse(target)
		if err != nil {
			return nil, err
		}
		own := *n
		own.Ref = ""
		if !ok {
			return &own, nil
		}
		n = merge(&own, t)
		n.Ref = t.Ref // the target may refer on
	}
	return n, nil
}

// pointer resolves a local reference: "#" or a JSON pointer like "#/$defs/item".
func (g *schemaGen) pointer(ref string) (json.RawMessage, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, fmt.Errorf("$ref %q is not a local reference (only #/... is supported)", ref)
	}
	cur := g.root
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#"), "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil {
			var arr []json.RawMessage
			i, aerr := strconv.Atoi(tok)
			if json.Unmarshal(cur, &arr) != nil || aerr != nil || i < 0 || i >= len(arr) {
				return nil, fmt.Errorf("$ref %q does not resolve", ref)
			}
			cur = arr[i]
			continue
		}
		v, ok := obj[tok]
		if !ok {
			return nil, fmt.Errorf("$ref %q does not resolve: no %q", ref, tok)
		}
		cur = v
	}
	return cur, nil
}

// merge returns a with every keyword it lacks taken from b; properties and required are
// combined.
func merge(a, b *schemaNode) *schemaNode {
	m := *a
	if len(m.Type) == 0 {
		m.Type = b.Type
	}
	if len(m.Const) == 0 {
		m.Const = b.Const
	}
	if m.Enum == nil {
		m.Enum = b.Enum
	}
	seen := map[string]bool{}
	for _, p := range m.props {
		seen[p.name] = true
	}
	m.props = append([]prop(nil), m.props...)
	for _, p := range b.props {
		if !seen[p.name] {
			m.props = append(m.props, p)
		}
	}
	m.Required = append(append([]string(nil), m.Required...), b.Required...)
	if len(m.AdditionalProps) == 0 {
		m.AdditionalProps = b.AdditionalProps
	}
	if len(m.Items) == 0 {
		m.Items = b.Items
	}
	if m.PrefixItems == nil {
		m.PrefixItems = b.PrefixItems
	}
	m.MinItems = cmpPtr(m.MinItems, b.MinItems)
	m.MaxItems = cmpPtr(m.MaxItems, b.MaxItems)
	m.MinLength = cmpPtr(m.MinLength, b.MinLength)
	m.MaxLength = cmpPtr(m.MaxLength, b.MaxLength)
	m.Minimum = cmpPtr(m.Minimum, b.Minimum)
	m.Maximum = cmpPtr(m.Maximum, b.Maximum)
	m.MultipleOf = cmpPtr(m.MultipleOf, b.MultipleOf)
	if len(m.ExclusiveMinimum) == 0 {
		m.ExclusiveMinimum = b.ExclusiveMinimum
	}
	if len(m.ExclusiveMaximum) == 0 {
		m.ExclusiveMaximum = b.ExclusiveMaximum
	}
	if m.Pattern == "" {
		m.Pattern = b.Pattern
	}
	if m.Format == "" {
		m.Format = b.Format
	}
	if m.AnyOf == nil {
		m.AnyOf = b.AnyOf
	}
	if m.OneOf == nil {
		m.OneOf = b.OneOf
	}
	if m.AllOf == nil {
		m.AllOf = b.AllOf
	}
	return &m
}

func cmpPtr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// value appends a JSON value satisfying raw to buf.
func (g *schemaGen) value(buf []byte, raw json.RawMessage, depth int) ([]byte, error) {
	if depth > maxSchemaDepth {
		return nil, fmt.Errorf("the schema nests deeper than %d levels", maxSchemaDepth)
	}
	n, _, ok, err := g.parse(raw)
	if err != nil {
		return nil, err
	}
	if !ok {
		// true accepts anything; false accepts nothing, so no value is right.
		return append(buf, "null"...), nil
	}
	if n, err = g.resolve(n, depth); err != nil {
		return nil, err
	}
	// Fold the combinators into the node: allOf entirely, anyOf/oneOf by their first branch.
	for len(n.AllOf) > 0 || len(n.AnyOf) > 0 || len(n.OneOf) > 0 {
		if depth++; depth > maxSchemaDepth {
			return nil, fmt.Errorf("the schema nests deeper than %d levels", maxSchemaDepth)
		}
		subs := n.AllOf
		own := *n
		own.AllOf = nil
		if len(subs) == 0 {
			alts := n.AnyOf
			if len(alts) == 0 {
				alts = n.OneOf
			}
			own.AnyOf, own.OneOf = nil, nil
			subs = []json.RawMessage{pickBranch(alts, depth > shallowDepth)}
		}
		merged := &own
		for _, sub := range subs {
			sn, _, ok, err := g.parse(sub)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if sn, err = g.resolve(sn, depth); err != nil {
				return nil, err
			}
			merged = merge(merged, sn)
		}
		n = merged
	}
	if len(n.Const) > 0 {
		return appendCompact(buf, n.Const)
	}
	if len(n.Enum) > 0 {
		return appendCompact(buf, n.Enum[0])
	}
	switch schemaType(n) {
	case "object":
		return g.object(buf, n, depth)
	case "array":
		return g.array(buf, n, depth)
	case "integer":
		return strconv.AppendFloat(buf, numberFor(n, true), 'f', -1, 64), nil
	case "number":
		return strconv.AppendFloat(buf, numberFor(n, false), 'f', -1, 64), nil
	case "boolean":
		return append(buf, "true"...), nil
	case "null":
		return append(buf, "null"...), nil
	}
	return appendString(buf, stringFor(n)), nil
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(buf, b...)
}

func appendCompact(buf []byte, raw json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, err
	}
	return append(buf, b.Bytes()...), nil
}

// pickBranch returns the first alternative that is not {"type": "null"} (or the first), or,
// when shallow, the null alternative if there is one.
func pickBranch(alts []json.RawMessage, shallow bool) json.RawMessage {
	isNull := func(a json.RawMessage) bool {
		var n struct {
			Type json.RawMessage `json:"type"`
		}
		return json.Unmarshal(a, &n) == nil && string(bytes.TrimSpace(n.Type)) == `"null"`
	}
	for _, a := range alts {
		if isNull(a) == shallow {
			return a
		}
	}
	return alts[0]
}

// schemaType returns the type to generate: the first non-null type listed, or one inferred
// from the keywords present, or "" for a string.
func schemaType(n *schemaNode) string {
	var types []string
	var one string
	if json.Unmarshal(n.Type, &one) == nil {
		types = []string{one}
	} else {
		_ = json.Unmarshal(n.Type, &types)
	}
	for _, t := range types {
		if t != "null" {
			return t
		}
	}
	if len(types) > 0 {
		return "null"
	}
	switch {
	case len(n.props) > 0 || len(n.Required) > 0 || len(n.AdditionalProps) > 0:
		return "object"
	case len(n.Items) > 0 || len(n.PrefixItems) > 0 || n.MinItems != nil:
		return "array"
	case n.Minimum != nil || n.Maximum != nil || n.MultipleOf != nil || len(n.ExclusiveMinimum) > 0:
		return "number"
	}
	return ""
}

func (g *schemaGen) object(buf []byte, n *schemaNode, depth int) ([]byte, error) {
	buf = append(buf, '{')
	written := map[string]bool{}
	var err error
	sep := func() {
		if len(written) > 0 {
			buf = append(buf, ',')
		}
	}
	shallow := depth > shallowDepth
	for _, p := range n.props {
		if written[p.name] || string(bytes.TrimSpace(p.schema)) == "false" {
			continue
		}
		if shallow && !slices.Contains(n.Required, p.name) {
			continue
		}
		sep()
		buf = appendString(buf, p.name)
		buf = append(buf, ':')
		if buf, err = g.value(buf, p.schema, depth+1); err != nil {
			return nil, fmt.Errorf("property %q: %w", p.name, err)
		}
		written[p.name] = true
	}
	// Required names without a declared schema take additionalProperties' schema.
	for _, name := range n.Required {
		if written[name] {
			continue
		}
		sep()
		buf = appendString(buf, name)
		buf = append(buf, ':')
		extra := n.AdditionalProps
		if len(extra) == 0 || string(bytes.TrimSpace(extra)) == "false" {
			buf = append(buf, `"sample"`...)
		} else if buf, err = g.value(buf, extra, depth+1); err != nil {
			return nil, fmt.Errorf("property %q: %w", name, err)
		}
		written[name] = true
	}
	return append(buf, '}'), nil
}

func (g *schemaGen) array(buf []byte, n *schemaNode, depth int) ([]byte, error) {
	prefix := n.PrefixItems
	items := n.Items
	if t := bytes.TrimSpace(items); len(t) > 0 && t[0] == '[' {
		// Draft 4-7 tuple form: items is a list of schemas.
		if err := json.Unmarshal(t, &prefix); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		items = nil
	}
	count := 1
	if depth > shallowDepth {
		count = 0
	}
	if n.MinItems != nil && *n.MinItems > count {
		count = *n.MinItems
	}
	count = max(count, len(prefix))
	if string(bytes.TrimSpace(items)) == "false" {
		count = len(prefix)
	}
	if n.MaxItems != nil && *n.MaxItems < count {
		count = max(*n.MaxItems, 0)
	}
	buf = append(buf, '[')
	var err error
	for i := 0; i < count; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		s := items
		if i < len(prefix) {
			s = prefix[i]
		}
		if len(s) == 0 {
			s = json.RawMessage("{}")
		}
		if buf, err = g.value(buf, s, depth+1); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
	}
	return append(buf, ']'), nil
}

// bound reads an exclusive bound: a number (2019+), or true meaning the inclusive bound is
// exclusive (draft 4).
func bound(raw json.RawMessage, inclusive *float64) (v float64, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	if string(raw) == "true" && inclusive != nil {
		return *inclusive, true
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, false
	}
	return v, true
}

// numberFor returns 0, or the number nearest 0 within the node's bounds and multipleOf.
func numberFor(n *schemaNode, integer bool) float64 {
	lo, hi := math.Inf(-1), math.Inf(1)
	loEx, hiEx := false, false
	if n.Minimum != nil {
		lo = *n.Minimum
	}
	if n.Maximum != nil {
		hi = *n.Maximum
	}
	if v, ok := bound(n.ExclusiveMinimum, n.Minimum); ok && v >= lo {
		lo, loEx = v, true
	}
	if v, ok := bound(n.ExclusiveMaximum, n.Maximum); ok && v <= hi {
		hi, hiEx = v, true
	}
	step := 0.0
	if n.MultipleOf != nil && *n.MultipleOf > 0 {
		step = *n.MultipleOf
	}
	if integer {
		if step == 0 {
			step = 1
		}
		// An integer that is a multiple of a fraction: the smallest whole multiple of it.
		for k := 1.0; k <= 1000 && step != math.Trunc(step); k++ {
			if v := *n.MultipleOf * k; v == math.Trunc(v) {
				step = v
			}
		}
	}
	above := func(v float64) bool { return v > lo || (!loEx && v == lo) }
	below := func(v float64) bool { return v < hi || (!hiEx && v == hi) }
	v := 0.0
	if !above(v) {
		switch {
		case step > 0:
			if v = math.Ceil(lo/step) * step; !above(v) {
				v += step
			}
		case !loEx:
			v = lo
		case lo+1 < hi:
			v = lo + 1
		default:
			v = lo + (hi-lo)/2
		}
	}
	if !below(v) {
		switch {
		case step > 0:
			if v = math.Floor(hi/step) * step; !below(v) {
				v -= step
			}
		case !hiEx:
			v = hi
		case hi-1 > lo:
			v = hi - 1
		default:
			v = lo + (hi-lo)/2
		}
	}
	return v
}

var formatSamples = map[string]string{
	"date-time":     "2025-01-01T00:00:00Z",
	"date":          "2025-01-01",
	"time":          "00:00:00Z",
	"email":         "sample@example.com",
	"idn-email":     "sample@example.com",
	"hostname":      "example.com",
	"idn-hostname":  "example.com",
	"ipv4":          "192.0.2.1",
	"ipv6":          "2001:db8::1",
	"uri":           "https://example.com/sample",
	"iri":           "https://example.com/sample",
	"uri-reference": "https://example.com/sample",
	"iri-reference": "https://example.com/sample",
	"uuid":          "00000000-0000-4000-8000-000000000000",
	"duration":      "P1D",
}

func stringFor(n *schemaNode) string {
	s := "sample"
	if f, ok := formatSamples[n.Format]; ok {
		s = f
	}
	if n.Pattern != "" {
		if p, ok := sampleForPattern(n.Pattern); ok {
			s = p
		}
	}
	if n.MinLength != nil {
		if k := *n.MinLength - utf8.RuneCountInString(s); k > 0 {
			s += strings.Repeat("x", k)
		}
	}
	if n.MaxLength != nil && utf8.RuneCountInString(s) > *n.MaxLength {
		s = string([]rune(s)[:max(*n.MaxLength, 0)])
	}
	return s
}

// sampleForPattern builds a short string that matches a regular expression: the fewest
// repetitions, the first alternative, a plain character from each class. It reports false
// when RE2 cannot parse the pattern or the result does not match.
func sampleForPattern(pattern string) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	writeRegexpSample(&b, re.Simplify())
	s := b.String()
	if ok, _ := regexp.MatchString(pattern, s); !ok {
		return "", false
	}
	return s, true
}

func writeRegexpSample(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(classSample(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture, syntax.OpPlus:
		writeRegexpSample(b, re.Sub[0])
	case syntax.OpRepeat:
		for i := 0; i < re.Min; i++ {
			writeRegexpSample(b, re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			writeRegexpSample(b, sub)
		}
	case syntax.OpAlternate:
		writeRegexpSample(b, re.Sub[0])
	}
	// OpStar, OpQuest, anchors, word boundaries and empty matches add nothing.
}

// classSample picks a readable rune from a character class given as [lo, hi] pairs.
func classSample(ranges []rune) rune {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	for _, r := range "aA0x_-. " {
		if in(r) {
			return r
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i+1] >= '!' {
			return max(ranges[i], '!')
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'a'
}

// eachMember calls fn for every member of a JSON object, in document order.
func eachMember(obj json.RawMessage, fn func(key string, v json.RawMessage)) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		fn(key, v)
	}
	return nil
}
