package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// decodeJSON reads one JSON value, numbers kept as written (json.Number), so that they
// compare by value, not by their float64 rounding.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// jsonEqual reports whether two decoded JSON values are the same value: numbers compared by
// value (5, 5.0 and 5e0 are equal; "5" is a string, not a number), objects whatever the order
// of their keys, arrays element by element in order, strings exactly.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		return ok && numberEqual(a, b)
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	default: // string, bool, nil
		return a == b
	}
}

// numberEqual compares two JSON numbers exactly, as rationals.
func numberEqual(a, b json.Number) bool {
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	if !ok1 || !ok2 {
		return a == b
	}
	return x.Cmp(y) == 0
}

// compactJSON renders a decoded JSON value on one line, keys sorted, for verdicts.
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// showJSON renders a decoded JSON value for a verdict, on one line, clipped to 60 bytes as
// quote clips text.
func showJSON(v any) string { return clip(compactJSON(v)) }

// answerJSON decodes an answer's text as JSON, white space around it ignored, or says why it
// is not JSON.
func answerJSON(text string) (any, string) {
	t := strings.TrimSpace(text)
	if t == "" {
		return nil, "the answer has no text"
	}
	v, err := decodeJSON([]byte(t))
	if err != nil {
		if strings.HasPrefix(t, "```") {
			return nil, "the answer is not JSON: it is wrapped in a Markdown code fence"
		}
		return nil, fmt.Sprintf("the answer is not JSON (%v): %s", strings.TrimPrefix(err.Error(), "json: "), quote(t))
	}
	return v, ""
}

// JSONEqual passes an answer whose text is a JSON document equal to Want as a JSON value (see
// jsonEqual): key order, white space and the form of numbers do not matter; case, types,
// extra or missing keys do. Written {"json": true}, Want is the item's reference; written
// {"json": {...}} or {"json": [...]}, the object or array given.
type JSONEqual struct {
	Want any
}

// Name implements Grader.
func (g JSONEqual) Name() string { return "json " + showJSON(g.Want) }

// Grade implements Grader.
func (g JSONEqual) Grade(_ context.Context, in *Input) Verdict {
	got, why := answerJSON(in.Response.Text())
	if why != "" {
		return passFail(g.Name(), false, toolCallsInstead(in, why))
	}
	if jsonEqual(got, g.Want) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, "the answer is "+showJSON(got)+": "+jsonDifference(got, g.Want, ""))
}

// jsonDifference says where got first differs from want ("" at the top).
func jsonDifference(got, want any, at string) string {
	where := "the answer"
	if at != "" {
		where = strconv.Quote(at)
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s is %s, not an object", where, jsonKind(got))
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if _, ok := g[k]; !ok {
				return fmt.Sprintf("%s has no key %q", where, k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s has key %q, which the reference has not", where, k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if !jsonEqual(g[k], w[k]) {
				return jsonDifference(g[k], w[k], joinPath(at, k))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s is %s, not an array", where, jsonKind(got))
		}
		if len(g) != len(w) {
			return fmt.Sprintf("%s has %d elements, the reference %d", where, len(g), len(w))
		}
		for i := range w {
			if !jsonEqual(g[i], w[i]) {
				return jsonDifference(g[i], w[i], joinPath(at, strconv.Itoa(i)))
			}
		}
	}
	return fmt.Sprintf("%s is %s, the reference %s", where, showJSON(got), showJSON(want))
}

func joinPath(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

// jsonKind names a decoded JSON value's kind, for messages.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// JSONPath passes an answer whose text is a JSON document with the value Equals at Path: keys
// separated by dots, array elements by their index from 0 ("items.0.name"). The value is
// compared as JSONEqual compares documents; the rest of the answer is not looked at.
type JSONPath struct {
	Path   string
	Equals any
}

// Name implements Grader.
func (g JSONPath) Name() string {
	return "json_path " + strconv.Quote(g.Path) + " = " + showJSON(g.Equals)
}

// Grade implements Grader.
func (g JSONPath) Grade(_ context.Context, in *Input) Verdict {
	doc, why := answerJSON(in.Response.Text())
	if why != "" {
		return passFail(g.Name(), false, toolCallsInstead(in, why))
	}
	got, why := lookupPath(doc, g.Path)
	if why != "" {
		return passFail(g.Name(), false, why)
	}
	if jsonEqual(got, g.Equals) {
		return passFail(g.Name(), true, "")
	}
	return passFail(g.Name(), false, fmt.Sprintf("%q is %s", g.Path, showJSON(got)))
}

// lookupPath returns the value at a dotted path of a decoded JSON document, or says why there
// is none.
func lookupPath(doc any, path string) (any, string) {
	cur := doc
	at := ""
	for _, k := range strings.Split(path, ".") {
		at = joinPath(at, k)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[k]
			if !ok {
				return nil, fmt.Sprintf("the answer has no %q", at)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Sprintf("the answer has no %q (an array of %d)", at, len(c))
			}
			cur = c[i]
		default:
			return nil, fmt.Sprintf("the answer has no %q: the value before is %s", at, jsonKind(cur))
		}
	}
	return cur, ""
}

// setPath returns doc with the value at a dotted path set to v, creating objects on the way
// (an array index out of range cannot be set: ok is false). doc is modified.
func setPath(doc any, path string, v any) (any, bool) {
	keys := strings.Split(path, ".")
	var set func(cur any, i int) (any, bool)
	set = func(cur any, i int) (any, bool) {
		if i == len(keys) {
			return v, true
		}
		switch c := cur.(type) {
		case map[string]any:
			nv, ok := set(c[keys[i]], i+1)
			c[keys[i]] = nv
			return c, ok
		case []any:
			j, err := strconv.Atoi(keys[i])
			if err != nil || j < 0 || j >= len(c) {
				return c, false
			}
			nv, ok := set(c[j], i+1)
			c[j] = nv
			return c, ok
		}
		nv, ok := set(nil, i+1)
		return map[string]any{keys[i]: nv}, ok
	}
	return set(doc, 0)
}

// jsonReference reports whether a reference is a JSON object or array, as a JSON answer's
// reference usually is.
func jsonReference(ref string) bool {
	t := strings.TrimSpace(ref)
	if !strings.HasPrefix(t, "{") && !strings.HasPrefix(t, "[") {
		return false
	}
	_, err := decodeJSON([]byte(t))
	return err == nil
}

var (
	_ Grader = JSONEqual{}
	_ Grader = JSONPath{}
)
