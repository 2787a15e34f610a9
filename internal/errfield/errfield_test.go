package errfield

import "testing"

func TestSafe(t *testing.T) {
	for v, want := range map[string]bool{
		"invalid_api_key":          true,
		"messages[0].content":      true,
		"RESOURCE_EXHAUSTED":       true,
		"rate_limit_exceeded":      true,
		"gpt-4o-2024-08-06":        true,
		"":                         false,
		"tk_live_9f8e7d6c5b4a3210": false,
		"key 123":                  false,
		"sk-proj-abc123def456":     false,
		"1234567890123":            false,
		"a\nb":                     false,
	} {
		if got := Safe(v); got != want {
			t.Errorf("Safe(%q) = %v, want %v", v, got, want)
		}
	}
	long := ""
	for range 65 {
		long += "a"
	}
	if Safe(long) || !Safe(long[:64]) {
		t.Error("the 64-character bound")
	}
}
