// Package jsonkind names the kind of a JSON value decoded by encoding/json into an any, for
// errors that say what a document holds instead of what it should.
package jsonkind

// Of names the kind of v, a value encoding/json decoded into an any, with an article:
// "a JSON array", "a JSON string", "JSON null", "a JSON object".
func Of(v any) string {
	switch v.(type) {
	case []any:
		return "a JSON array"
	case string:
		return "a JSON string"
	case float64:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	case nil:
		return "JSON null"
	}
	return "a JSON object"
}
