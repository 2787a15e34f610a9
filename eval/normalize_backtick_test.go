package eval

import "testing"

// TestNormalizeBacktick: a label a model writes as Markdown code matches the label, as one in
// bold does; other symbols stay (a+b is not ab).
func TestNormalizeBacktick(t *testing.T) {
	for in, want := range map[string]string{"`card_arrival`": "card arrival", "**card_arrival**": "card arrival", "a+b": "a+b", "```json\n{\"a\":1}\n```": "json a 1"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
