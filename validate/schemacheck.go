package validate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/clearbar/clearbar/internal/toolschema"
)

// CheckSchema reports whether raw is a JSON Schema that compiles, as the json_schema and
// tool_calls validators compile the schemas requests send (compileSchema: draft 2020-12 unless
// it says otherwise, references inside the schema only). The error says what is wrong, without
// naming the schema: "at '/properties/id/type': …".
//
// Results are cached by raw's text, so that a client sending the same tools on every turn has
// them compiled once. The cache holds at most maxCheckedSchemas schemas and maxCheckedBytes of
// them, and starts over when either would be exceeded; a larger schema is not kept.
func CheckSchema(raw string) error {
	checked.mu.RLock()
	err, ok := checked.m[raw]
	checked.mu.RUnlock()
	if ok {
		return err
	}
	if _, cerr := compileSchema([]byte(raw), checkedName); cerr != nil {
		msg := strings.TrimPrefix(cerr.Error(), "schema "+checkedName+" does not compile: ")
		msg = strings.ReplaceAll(strings.TrimPrefix(msg, "it is not valid JSON Schema: "), "clearbar:///"+checkedName, "")
		err = &SchemaError{Reason: nameBadTypes(firstPerLocation(msg), raw)}
	}
	if len(raw) > maxCheckedBytes {
		return err
	}
	checked.mu.Lock()
	if checked.m == nil || len(checked.m) >= maxCheckedSchemas || checked.bytes+len(raw) > maxCheckedBytes {
		checked.m, checked.bytes = make(map[string]error), 0
	}
	checked.m[strings.Clone(raw)] = err // raw may alias a buffer that is reused
	checked.bytes += len(raw)
	checked.mu.Unlock()
	return err
}

// firstPerLocation keeps the first of the broken rules compileSchema lists for each location
// ("at '/type': …; at '/type': …"): the meta-schema's alternatives each fail at the same place
// (a type that is neither one of the type names nor an array of them), and the first says it.
// The locations come in the order of the schema's locations, which the compiler, walking maps,
// does not keep: the same schema always gets the same message.
func firstPerLocation(msg string) string {
	parts := strings.Split(msg, "; ")
	seen := map[string]bool{}
	kept := parts[:0]
	for _, p := range parts {
		at, _, found := strings.Cut(p, ": ")
		if found && strings.HasPrefix(at, "at '") {
			if seen[at] {
				continue
			}
			seen[at] = true
		}
		kept = append(kept, p)
	}
	location := func(p string) string {
		if at, _, found := strings.Cut(p, ": "); found && strings.HasPrefix(at, "at '") {
			return at
		}
		return ""
	}
	slices.SortStableFunc(kept, func(a, b string) int { return strings.Compare(location(a), location(b)) })
	return strings.Join(kept, "; ")
}

// nameBadTypes rewrites the compiler's "at '/type': value must be one of …" for a type the
// schema names: it says which value is wrong and, for a Python type name (as the Berkeley
// Function Calling Leaderboard writes), which JSON Schema type to write instead: "at '/type':
// "dict" is not a JSON Schema type: write "object"". A type written as a list names each bad
// entry once.
func nameBadTypes(msg, raw string) string {
	const oneOf = "value must be one of "
	var doc any
	if !strings.Contains(msg, oneOf) || json.Unmarshal([]byte(raw), &doc) != nil {
		return msg
	}
	parts := strings.Split(msg, "; ")
	kept := parts[:0]
	for _, p := range parts {
		at, rule, _ := strings.Cut(p, ": ")
		ptr := strings.TrimSuffix(strings.TrimPrefix(at, "at '"), "'")
		if !strings.HasPrefix(rule, oneOf) || !strings.HasSuffix(ptr, "/type") && !isListEntry(ptr) {
			kept = append(kept, p)
			continue
		}
		v, ok := lookup(doc, ptr)
		switch t := v.(type) {
		case string:
			kept = append(kept, fmt.Sprintf("%s: %q is not a JSON Schema type: %s", at, t, suggestType(t)))
		case []any:
			// Its bad entries are reported at their own locations.
			if !slices.ContainsFunc(parts, func(q string) bool { return strings.HasPrefix(q, "at '"+ptr+"/") }) {
				kept = append(kept, p)
			}
		default:
			if !ok {
				kept = append(kept, p)
			} else {
				kept = append(kept, fmt.Sprintf("%s: %s is not a JSON Schema type: write one of %s", at, compact(v), strings.TrimPrefix(rule, oneOf)))
			}
		}
	}
	return strings.Join(kept, "; ")
}

// isListEntry reports whether ptr is an entry of a type list: ".../type/0".
func isListEntry(ptr string) bool {
	i := strings.LastIndex(ptr, "/")
	if i < 0 {
		return false
	}
	_, err := strconv.Atoi(ptr[i+1:])
	return err == nil && strings.HasSuffix(ptr[:i], "/type")
}

// suggestType says what to write instead of the type name t.
func suggestType(t string) string {
	if js, ok := toolschema.JSONType(t); ok {
		return fmt.Sprintf("write %q", js)
	}
	if t == "any" {
		return "leave type out to allow any value"
	}
	return "write one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'"
}

// lookup resolves the JSON Pointer ptr in doc.
func lookup(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch t := doc.(type) {
		case map[string]any:
			v, ok := t[tok]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			doc = t[i]
		default:
			return nil, false
		}
	}
	return doc, true
}

// compact writes v as short JSON.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// SchemaError is CheckSchema's error: why the schema does not compile.
type SchemaError struct{ Reason string }

func (e *SchemaError) Error() string { return e.Reason }

// checkedName is the name compileSchema gets from CheckSchema, which its errors leave out.
const checkedName = "checked"

const (
	maxCheckedSchemas = 1024
	maxCheckedBytes   = 8 << 20
)

// checked caches CheckSchema's results by schema text; a nil error is a schema that compiles.
var checked struct {
	mu    sync.RWMutex
	m     map[string]error
	bytes int
}
