package validate

import (
	"testing"

	"github.com/clearbar/clearbar"
)

// TestRedactAnswer: the quoted pieces of a reason that come from the answer are taken out; what
// the spec wrote and the answer does not hold stays.
func TestRedactAnswer(t *testing.T) {
	const answer = `{"id": "ord-7"} Hope this helps, Mrs Jones!`
	vs := []clearbar.Verdict{
		{Validator: "json_schema", Reason: `the answer has text after the JSON: "Hope this helps, Mrs Jo…"`},
		{Validator: "json_schema", Reason: `at '/id': 'ord-7' does not match pattern '^[0-9]+$'`},
		{Validator: "regex", Reason: `matches /Mrs \w+/ at "Mrs Jones"`},
		{Validator: "required_fields", Reason: `missing "total"`},
		{Validator: "refusal", Reason: `no quote at all`},
		{Validator: "restricted_phrases", Reason: `contains the restricted phrase "a \"quoted\" one"`},
	}
	RedactAnswer(vs, answer)
	want := []string{
		`the answer has text after the JSON: "…"`,
		`at '/id': "…" does not match pattern '^[0-9]+$'`,
		`matches /Mrs \w+/ at "…"`,
		`missing "total"`,
		`no quote at all`,
		`contains the restricted phrase "a \"quoted\" one"`,
	}
	for i, v := range vs {
		if v.Reason != want[i] {
			t.Errorf("%s: %q, want %q", v.Validator, v.Reason, want[i])
		}
	}
}
