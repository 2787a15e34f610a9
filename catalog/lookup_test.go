package catalog_test

import (
	"slices"
	"testing"

	"github.com/clearbar/clearbar/catalog"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		provider, model string
		wantKey         string // "" = no match
		why             string
	}{
		{"openai", "gpt-4o-mini", "gpt-4o-mini", "exact key"},
		{"anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-20250514", "exact key, dated snapshot"},
		{"gemini", "gemini-2.5-flash", "gemini/gemini-2.5-flash", "gemini prefix wins over Vertex AI's unprefixed key"},
		{"gemini", "gemini-2.0-flash-001", "gemini/gemini-2.0-flash-001", "unprefixed key is Vertex AI at a different price"},
		{"gemini", "gemini/gemini-2.5-flash", "gemini/gemini-2.5-flash", "already prefixed: exact key"},
		{"azure-openai", "gpt-4o-mini", "azure/gpt-4o-mini", "Azure's own listing, not OpenAI's price"},
		{"openai-compatible", "deepseek/deepseek-chat", "deepseek/deepseek-chat", "any key can be named exactly"},
		{"", "gpt-4o-mini", "gpt-4o-mini", "no provider type: exact key"},
		{"simulated", "gpt-4o-mini", "gpt-4o-mini", "simulated: exact key"},
		{"openai", "no-such-model", "", "unknown model"},
		{"openai", "gpt-4o-mini-2099-01-01", "", "unknown dated snapshot: no fallback to the alias"},
		{"anthropic", "claude-sonnet-4", "", "alias not in the catalogue: no fallback to a snapshot"},
		{"openai", "GPT-4o-mini", "", "case matters"},
		{"openai", "gpt-4o-mni", "", "no fuzzy match"},
		{"openai", " gpt-4o-mini", "", "no trimming"},
		{"gemini", "", "", "empty model"},
	}
	for _, tt := range tests {
		e, ok := catalog.Default().Lookup(tt.provider, tt.model)
		switch {
		case tt.wantKey == "" && ok:
			t.Errorf("Lookup(%q, %q) = %q, want no match (%s)", tt.provider, tt.model, e.Key, tt.why)
		case tt.wantKey != "" && (!ok || e.Key != tt.wantKey):
			t.Errorf("Lookup(%q, %q) = %q, %v, want %q (%s)", tt.provider, tt.model, e.Key, ok, tt.wantKey, tt.why)
		}
	}
}

func TestLookupLongModel(t *testing.T) {
	// Longer than Lookup's stack buffer: must still work.
	long := string(make([]byte, 300))
	if _, ok := catalog.Default().Lookup("gemini", long); ok {
		t.Error("found a 300-byte model")
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		model   string
		n       int
		wantHas string // "" = want no suggestions
		why     string
	}{
		{"gpt-4o-mni", 3, "gpt-4o-mini", "one letter missing"},
		{"GPT-4o-mini", 3, "gpt-4o-mini", "case differs"},
		{"gemini-2.5-flsh", 5, "gemini/gemini-2.5-flash", "typo, matched without the prefix"},
		{"claude-sonnet-4", 5, "claude-sonnet-4-20250514", "alias: suggest the dated snapshot"},
		{"zzzzzzzzzzzzzzzzzzzz", 3, "", "nothing close"},
		{"gpt-4o-mini", 0, "", "n = 0"},
	}
	for _, tt := range tests {
		got := catalog.Default().Suggest(tt.model, tt.n)
		if len(got) > tt.n {
			t.Errorf("Suggest(%q, %d) returned %d keys", tt.model, tt.n, len(got))
		}
		if tt.wantHas == "" {
			if got != nil {
				t.Errorf("Suggest(%q, %d) = %q, want nil (%s)", tt.model, tt.n, got, tt.why)
			}
			continue
		}
		if !slices.Contains(got, tt.wantHas) {
			t.Errorf("Suggest(%q, %d) = %q, want it to contain %q (%s)", tt.model, tt.n, got, tt.wantHas, tt.why)
		}
	}
	// The first-party key ranks first when resellers list the same model id.
	if got := catalog.Default().Suggest("gpt-4o-mni", 1); !slices.Equal(got, []string{"gpt-4o-mini"}) {
		t.Errorf("Suggest(gpt-4o-mni, 1) = %q, want [gpt-4o-mini]", got)
	}
	if a, b := catalog.Default().Suggest("claude-opus", 5), catalog.Default().Suggest("claude-opus", 5); !slices.Equal(a, b) {
		t.Errorf("Suggest is not deterministic: %q vs %q", a, b)
	}
}

func BenchmarkLookup(b *testing.B) {
	c := catalog.Default()
	cases := []struct{ name, provider, model string }{
		{"exact", "openai", "gpt-4o-mini"},
		{"gemini-prefix", "gemini", "gemini-2.5-flash"},
		{"miss", "azure-openai", "no-such-model-2099-01-01"},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Lookup(bc.provider, bc.model)
			}
		})
	}
}

func BenchmarkSuggest(b *testing.B) {
	c := catalog.Default()
	b.ReportAllocs()
	for b.Loop() {
		c.Suggest("gemini-2.5-flsh", 5)
	}
}
