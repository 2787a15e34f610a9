package catalog_test

import (
	"slices"
	"strings"
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
		{"openai", "text-embedding-3-small", "text-embedding-3-small", "embedding model: exact key"},
		{"azure-openai", "text-embedding-3-small", "azure/text-embedding-3-small", "Azure's own embedding listing"},
		{"gemini", "gemini-embedding-001", "gemini/gemini-embedding-001", "Gemini API embedding model, not Vertex AI's"},
		{"openai", "text-embedding-3", "", "no fuzzy match to an embedding model"},
		{"openai", "text-embedding-3-small-2099-01-01", "", "no dated-suffix stripping for embedding models"},
		{"gemini", "gemini-1.5-flash", "", "a chat model the source misfiles as embedding is left out"},
		{"openai", "gemini-flash-experimental", "", "likewise"},
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

// lookupProviderTypes are the provider types a routing spec may name, and "".
var lookupProviderTypes = []string{"openai", "anthropic", "gemini", "azure-openai", "openai-compatible", "simulated", "replay", ""}

// TestLookupChatNeverFindsEmbedding checks that no chat model id, nor a near miss of one, resolves
// to an embedding entry under any provider type: adding embedding models to the catalogue
// changed no chat lookup, and Lookup does no fuzzy matching that could land on one.
func TestLookupChatNeverFindsEmbedding(t *testing.T) {
	c := catalog.Default()
	embeddings := 0
	for e := range c.All() {
		if e.IsEmbedding() {
			embeddings++
			continue
		}
		id := strings.TrimPrefix(strings.TrimPrefix(e.Key, "gemini/"), "azure/")
		ids := []string{e.Key, id, id[:len(id)-1], id + "-2099-01-01", id + "-embedding", strings.ToUpper(id)}
		for _, pt := range lookupProviderTypes {
			for _, m := range ids {
				if got, ok := c.Lookup(pt, m); ok && got.IsEmbedding() {
					t.Errorf("Lookup(%q, %q) = embedding entry %q (chat entry %q)", pt, m, got.Key, e.Key)
				}
			}
			// The chat model's own id finds a chat entry: the prefixed one, or the key itself.
			if got, ok := c.Lookup(pt, e.Key); !ok || got.Key != e.Key && !strings.HasSuffix(got.Key, "/"+e.Key) {
				t.Errorf("Lookup(%q, %q) = %q, %v; want %q or a provider's own listing", pt, e.Key, got.Key, ok, e.Key)
			}
		}
	}
	if embeddings == 0 {
		t.Fatal("the catalogue has no embedding models; this test checks nothing")
	}
}

// TestLookupEmbeddingExactOnly checks that an embedding entry is found by its own key (or the
// provider's unprefixed model id) and by nothing close to it.
func TestLookupEmbeddingExactOnly(t *testing.T) {
	c := catalog.Default()
	for e := range c.All() {
		if !e.IsEmbedding() {
			continue
		}
		for _, pt := range lookupProviderTypes {
			for _, m := range []string{e.Key[:len(e.Key)-1], e.Key + "-latest", strings.ToUpper(e.Key)} {
				if got, ok := c.Lookup(pt, m); ok && got.Key == e.Key {
					t.Errorf("Lookup(%q, %q) = %q: a near miss found the embedding entry", pt, m, got.Key)
				}
			}
		}
		if got, ok := c.Lookup("", e.Key); !ok || got != e {
			t.Errorf("Lookup(\"\", %q) = %q, %v; want the entry itself", e.Key, got.Key, ok)
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
		{"text-embedding-3-smal", 3, "text-embedding-3-small", "embedding model typo"},
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
	// Typos of chat models suggest chat models: the embedding models are nowhere near.
	for _, typo := range []string{"gpt-4o-mni", "gpt-4.1-mni", "gemini-2.5-flsh", "claude-sonnet-4", "o3-mni"} {
		for _, key := range catalog.Default().Suggest(typo, 5) {
			if e, _ := catalog.Default().Get(key); e.IsEmbedding() {
				t.Errorf("Suggest(%q, 5) includes embedding model %q", typo, key)
			}
		}
	}
	if got := catalog.Default().Suggest("text-embedding-3-smal", 1); !slices.Equal(got, []string{"text-embedding-3-small"}) {
		t.Errorf("Suggest(text-embedding-3-smal, 1) = %q, want [text-embedding-3-small]", got)
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
