// Package toolschema reads function parameter schemas as tools send them. Most are JSON
// Schema; some datasets and frameworks (the Berkeley Function Calling Leaderboard, for one)
// write Python type names instead: "dict", "float", "tuple", "any". Normalize maps them to
// JSON Schema so that validators and simulators read both.
package toolschema

import "encoding/json"

var pythonTypes = map[string]string{
	"dict": "object", "float": "number", "int": "integer", "str": "string", "bool": "boolean",
	"list": "array", "tuple": "array",
}

// Normalize returns raw with Python type names replaced by JSON Schema types ("any" removes the
// type constraint). A schema that is not valid JSON, or needs no change, is returned as is.
func Normalize(raw []byte) []byte {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return raw
	}
	if !rewrite(doc) {
		return raw
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return raw
	}
	return out
}

// rewrite changes types in place and reports whether it changed anything.
func rewrite(v any) bool {
	changed := false
	switch t := v.(type) {
	case map[string]any:
		if typ, ok := t["type"].(string); ok {
			if js, known := pythonTypes[typ]; known {
				t["type"], changed = js, true
			} else if typ == "any" {
				delete(t, "type")
				changed = true
			}
		}
		for _, e := range t {
			changed = rewrite(e) || changed
		}
	case []any:
		for _, e := range t {
			changed = rewrite(e) || changed
		}
	}
	return changed
}

// JSONType returns the JSON Schema type for a Python type name ("dict" → "object"), and false
// for a name that is not one. "any", which stands for no type, is not one.
func JSONType(python string) (string, bool) {
	js, ok := pythonTypes[python]
	return js, ok
}
