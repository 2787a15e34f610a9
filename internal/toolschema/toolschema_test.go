package toolschema

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want, why string
	}{
		{`{"type":"dict","properties":{"base":{"type":"integer"},"h":{"type":"float"},"tags":{"type":"tuple","items":{"type":"str"}}},"required":["base"]}`,
			`{"type":"object","properties":{"base":{"type":"integer"},"h":{"type":"number"},"tags":{"type":"array","items":{"type":"string"}}},"required":["base"]}`,
			"a BFCL schema becomes JSON Schema, nested types included"},
		{`{"type":"object","properties":{"x":{"type":"any"}}}`, `{"type":"object","properties":{"x":{}}}`, "any drops the type"},
		{`{"type":"object"}`, `{"type":"object"}`, "JSON Schema is left alone"},
		{`not json`, `not json`, "invalid JSON is returned as is"},
	} {
		got := Normalize([]byte(tc.in))
		var a, b any
		if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(tc.want), &b) != nil {
			if string(got) != tc.want {
				t.Errorf("%s: got %s", tc.why, got)
			}
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: got %s, want %s", tc.why, got, tc.want)
		}
	}
}
