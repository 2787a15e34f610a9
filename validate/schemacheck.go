package validate

import (
	"strings"
	"sync"
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
		err = &SchemaError{Reason: firstPerLocation(msg)}
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
	return strings.Join(kept, "; ")
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
