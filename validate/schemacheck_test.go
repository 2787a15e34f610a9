package validate_test

import (
	"testing"

	"github.com/clearbar/clearbar/validate"
)

// TestCheckSchemaNamesBadTypes: a type that is not a JSON Schema type is named, and a Python
// type name (as BFCL writes tool schemas) gets the JSON Schema type to write instead.
func TestCheckSchemaNamesBadTypes(t *testing.T) {
	tests := []struct{ schema, want string }{
		{`{"type": "dict", "properties": {"a": {"type": "string"}}}`, `at '/type': "dict" is not a JSON Schema type: write "object"`},
		{`{"type": "object", "properties": {"a": {"type": "float"}}}`, `at '/properties/a/type': "float" is not a JSON Schema type: write "number"`},
		{`{"type": "object", "properties": {"a": {"type": "tuple"}, "b": {"type": "str"}}}`, `at '/properties/a/type': "tuple" is not a JSON Schema type: write "array"; at '/properties/b/type': "str" is not a JSON Schema type: write "string"`},
		{`{"type": "object", "properties": {"a": {"type": ["int", "null"]}}}`, `at '/properties/a/type/0': "int" is not a JSON Schema type: write "integer"`},
		{`{"type": "bool"}`, `at '/type': "bool" is not a JSON Schema type: write "boolean"`},
		{`{"type": "list"}`, `at '/type': "list" is not a JSON Schema type: write "array"`},
		{`{"type": "text"}`, `at '/type': "text" is not a JSON Schema type: write one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'`},
	}
	for _, tt := range tests {
		err := validate.CheckSchema(tt.schema)
		if err == nil || err.Error() != tt.want {
			t.Errorf("CheckSchema(%s) = %v\nwant %s", tt.schema, err, tt.want)
		}
	}
	if err := validate.CheckSchema(`{"type": "object", "properties": {"a": {"type": ["integer", "null"]}}}`); err != nil {
		t.Errorf("a valid schema: %v", err)
	}
}
