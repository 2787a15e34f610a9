package jsonkind

import (
	"encoding/json"
	"testing"
)

func TestOf(t *testing.T) {
	for doc, want := range map[string]string{
		`[1]`: "a JSON array", `"x"`: "a JSON string", `1.5`: "a JSON number", `true`: "a JSON boolean", `null`: "JSON null", `{}`: "a JSON object",
	} {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatal(err)
		}
		if got := Of(v); got != want {
			t.Errorf("Of(%s) = %q, want %q", doc, got, want)
		}
	}
}
