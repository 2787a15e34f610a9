package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

func TestDefaultParses(t *testing.T) {
	c := catalog.Default()
	if c.Len() <= 1000 {
		t.Fatalf("Default().Len() = %d, want > 1000", c.Len())
	}
	if got, want := c.SourceDate(), "2026-07-24"; got != want {
		t.Errorf("SourceDate() = %q, want %q", got, want)
	}
	if got, want := c.Source(), "BerriAI/litellm model_prices_and_context_window.json via RoCry/llm-api-price@8442b939"; got != want {
		t.Errorf("Source() = %q, want %q", got, want)
	}
	if got := c.License(); got != "MIT" {
		t.Errorf("License() = %q, want MIT", got)
	}
	if catalog.Default() != c {
		t.Error("Default() returned a different catalogue on the second call")
	}
}

// TestDefaultInvariants checks every embedded entry against the promises Entry's documentation makes.
func TestDefaultInvariants(t *testing.T) {
	var keys []string
	for e := range catalog.Default().All() {
		keys = append(keys, e.Key)
		if e.Key == "" || e.Provider == "" {
			t.Errorf("entry %q: empty key or provider %q", e.Key, e.Provider)
		}
		switch e.Mode {
		case catalog.ModeChat, catalog.ModeResponses:
			if e.IsEmbedding() || e.Dimensions != 0 {
				t.Errorf("entry %q: %s model with IsEmbedding %v, Dimensions %d", e.Key, e.Mode, e.IsEmbedding(), e.Dimensions)
			}
		case catalog.ModeEmbedding:
			if !e.IsEmbedding() || e.MaxOutputTokens != 0 || e.Dimensions < 0 {
				t.Errorf("entry %q: embedding model with IsEmbedding %v, MaxOutputTokens %d, Dimensions %d", e.Key, e.IsEmbedding(), e.MaxOutputTokens, e.Dimensions)
			}
		default:
			t.Errorf("entry %q: mode %q", e.Key, e.Mode)
		}
		for _, p := range []clearbar.Price{e.Input, e.Output, e.CachedInput, e.CacheWrite, e.Reasoning, e.InputAbove, e.OutputAbove, e.CachedInputAbove, e.CacheWriteAbove} {
			if p < 0 {
				t.Errorf("entry %q: negative price %d", e.Key, p)
			}
		}
		hasAbove := e.InputAbove+e.OutputAbove+e.CachedInputAbove+e.CacheWriteAbove > 0
		if (e.TierThreshold > 0) != hasAbove {
			t.Errorf("entry %q: TierThreshold %d inconsistent with *Above prices", e.Key, e.TierThreshold)
		}
		if got, ok := catalog.Default().Get(e.Key); !ok || got != e {
			t.Errorf("Get(%q) disagrees with All()", e.Key)
		}
	}
	if len(keys) != catalog.Default().Len() {
		t.Errorf("All() yielded %d entries, Len() = %d", len(keys), catalog.Default().Len())
	}
	if !slices.IsSorted(keys) {
		t.Error("All() is not in key order")
	}
}

func TestKnownEntries(t *testing.T) {
	tests := []struct {
		key  string
		want catalog.Entry
	}{
		{"gpt-4o-mini", catalog.Entry{
			Key: "gpt-4o-mini", Provider: "openai", Mode: "chat",
			Input: 150_000, Output: 600_000, CachedInput: 75_000,
			MaxInputTokens: 128_000, MaxOutputTokens: 16_384,
			SupportsFunctionCalling: true, SupportsResponseSchema: true, SupportsVision: true, SupportsPromptCaching: true,
		}},
		{"claude-sonnet-4-20250514", catalog.Entry{
			Key: "claude-sonnet-4-20250514", Provider: "anthropic", Mode: "chat",
			Input: 3_000_000, Output: 15_000_000, CachedInput: 300_000, CacheWrite: 3_750_000,
			TierThreshold: 200_000, InputAbove: 6_000_000, OutputAbove: 22_500_000, CachedInputAbove: 600_000, CacheWriteAbove: 7_500_000,
			CacheWrite1h:   6_000_000,  // a 1-hour cache write, twice the input price
			WebSearch:      10_000_000, // $0.01 a search
			MaxInputTokens: 1_000_000, MaxOutputTokens: 64_000,
			SupportsReasoning: true, SupportsFunctionCalling: true, SupportsResponseSchema: true, SupportsVision: true, SupportsPromptCaching: true,
			DeprecationDate: "2026-05-14",
		}},
		{"gemini/gemini-2.5-flash", catalog.Entry{
			Key: "gemini/gemini-2.5-flash", Provider: "gemini", Mode: "chat",
			Input: 300_000, Output: 2_500_000, CachedInput: 30_000, Reasoning: 2_500_000, WebSearch: 35_000_000,
			MaxInputTokens: 1_048_576, MaxOutputTokens: 65_535,
			SupportsReasoning: true, SupportsFunctionCalling: true, SupportsResponseSchema: true, SupportsVision: true, SupportsPromptCaching: true,
		}},
		{"text-embedding-3-small", catalog.Entry{ // embedding: input price, vector size, no output limit
			Key: "text-embedding-3-small", Provider: "openai", Mode: "embedding",
			Input: 20_000, MaxInputTokens: 8191, Dimensions: 1536,
		}},
		{"text-embedding-3-large", catalog.Entry{
			Key: "text-embedding-3-large", Provider: "openai", Mode: "embedding",
			Input: 130_000, MaxInputTokens: 8191, Dimensions: 3072,
		}},
		{"azure/text-embedding-3-small", catalog.Entry{ // the source gives no vector size here
			Key: "azure/text-embedding-3-small", Provider: "azure", Mode: "embedding",
			Input: 20_000, MaxInputTokens: 8191, DeprecationDate: "2026-04-30",
		}},
		{"gemini/gemini-embedding-001", catalog.Entry{
			Key: "gemini/gemini-embedding-001", Provider: "gemini", Mode: "embedding",
			Input: 150_000, MaxInputTokens: 2048, Dimensions: 3072,
		}},
		{"mistral/mistral-embed", catalog.Entry{ // the source lists no output price: written as 0
			Key: "mistral/mistral-embed", Provider: "mistral", Mode: "embedding",
			Input: 100_000, MaxInputTokens: 8192,
		}},
		{"o1-pro", catalog.Entry{ // mode "responses", kept because it has token prices
			Key: "o1-pro", Provider: "openai", Mode: "responses",
			Input: 150_000_000, Output: 600_000_000,
			MaxInputTokens: 200_000, MaxOutputTokens: 100_000,
			SupportsReasoning: true, SupportsFunctionCalling: true, SupportsResponseSchema: true, SupportsVision: true, SupportsPromptCaching: true,
		}},
	}
	for _, tt := range tests {
		got, ok := catalog.Default().Get(tt.key)
		if !ok {
			t.Errorf("Get(%q): not found", tt.key)
			continue
		}
		if got != tt.want {
			t.Errorf("Get(%q) =\n  %+v\nwant\n  %+v", tt.key, got, tt.want)
		}
	}
}

func TestLeftOut(t *testing.T) {
	tests := []struct {
		key, why string
	}{
		{"sample_spec", "the source's schema documentation"},
		{"last_updated", "the source's timestamp"},
		{"github_copilot/text-embedding-3-small", "mode embedding without an input price"},
		{"gemini/gemini-1.5-flash", "a chat model the source files as an embedding model"},
		{"gemini-flash-experimental", "a chat model the source files as an embedding model"},
		{"dall-e-3", "mode image_generation"},
	}
	for _, tt := range tests {
		if _, ok := catalog.Default().Get(tt.key); ok {
			t.Errorf("Get(%q) found an entry; want it left out (%s)", tt.key, tt.why)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const header = `{"header":{"source":"test","source_date":"2026-01-02","license":"MIT","generated_by":"hand"},"entries":[`
	const good = `{"key":"m","provider":"p","mode":"chat","input":"1","output":"2"}`
	tests := []struct {
		name, doc, wantErr string
	}{
		{"bad price names the key", header + `{"key":"bad-model","provider":"p","mode":"chat","input":"0.1.5","output":"2"}]}`, `"bad-model"`},
		{"more than six decimals would round", header + `{"key":"fine-model","provider":"p","mode":"chat","input":"0.0000001","output":"2"}]}`, `"fine-model"`},
		{"float-style price", header + `{"key":"exp-model","provider":"p","mode":"chat","input":"1e-7","output":"2"}]}`, `"exp-model"`},
		{"missing output", header + `{"key":"half-model","provider":"p","mode":"chat","input":"1"}]}`, `"half-model": missing output`},
		{"unknown field", header + `{"key":"typo-model","provider":"p","mode":"chat","input":"1","output":"2","ouptut":"3"}]}`, `"typo-model"`},
		{"wrong type names the key", header + `{"key":"num-model","provider":"p","mode":"chat","input":0.1,"output":"2"}]}`, `"num-model"`},
		{"duplicate key", header + good + ",\n" + good + `]}`, `"m": duplicate key`},
		{"tier without prices", header + `{"key":"tier-model","provider":"p","mode":"chat","input":"1","output":"2","tier_threshold":200000}]}`, `"tier-model"`},
		{"above prices without tier", header + `{"key":"above-model","provider":"p","mode":"chat","input":"1","output":"2","input_above":"2"}]}`, `"above-model"`},
		{"bad deprecation date", header + `{"key":"old-model","provider":"p","mode":"chat","input":"1","output":"2","deprecation_date":"soon"}]}`, `"old-model"`},
		{"unknown mode", header + `{"key":"cmp-model","provider":"p","mode":"completion","input":"1","output":"2"}]}`, `"cmp-model": mode "completion"`},
		{"vector size on a chat model", header + `{"key":"vec-model","provider":"p","mode":"chat","input":"1","output":"2","output_vector_size":1536}]}`, `"vec-model": output_vector_size`},
		{"negative vector size", header + `{"key":"neg-model","provider":"p","mode":"embedding","input":"1","output":"0","output_vector_size":-1}]}`, `"neg-model": negative output_vector_size`},
		{"output limit on an embedding model", header + `{"key":"emb-model","provider":"p","mode":"embedding","input":"1","output":"0","max_output_tokens":8191}]}`, `"emb-model": max_output_tokens`},
		{"no header", `{"entries":[` + good + `]}`, "missing header"},
		{"trailing data", header + good + `]} {}`, "after"},
		{"not JSON", `prices`, "catalog:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Parse(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseSortsAndIndexes(t *testing.T) {
	doc := `{"header":{"source":"s","source_date":"","license":"MIT","generated_by":"hand"},"entries":[
{"key":"b","provider":"p","mode":"chat","input":"1","output":"2"},
{"key":"a","provider":"p","mode":"chat","input":"0.000001","output":"123456.5"}]}`
	c, err := catalog.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for e := range c.All() {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("keys = %q, want [a b]", keys)
	}
	a, _ := c.Get("a")
	if a.Input != 1 || a.Output != 123_456_500_000 {
		t.Errorf("a: Input %d Output %d, want 1 and 123456500000", a.Input, a.Output)
	}
}

// TestDefaultEmbeddingModels checks that the catalogue holds embedding models, marked as such, and
// that an embedding call is priced at the input price alone.
func TestDefaultEmbeddingModels(t *testing.T) {
	n := 0
	for e := range catalog.Default().All() {
		if e.IsEmbedding() {
			n++
		}
	}
	if n < 100 {
		t.Errorf("the catalogue has %d embedding models, want over 100", n)
	}
	for _, key := range []string{"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002", "gemini/gemini-embedding-001", "azure/text-embedding-3-large", "voyage/voyage-3.5"} {
		if e, ok := catalog.Default().Get(key); !ok || !e.IsEmbedding() {
			t.Errorf("Get(%q) = %+v, %v; want an embedding entry", key, e, ok)
		}
	}
	for _, key := range []string{"gpt-4o-mini", "o1-pro", "gemini/gemini-2.5-flash"} {
		if e, ok := catalog.Default().Get(key); !ok || e.IsEmbedding() {
			t.Errorf("Get(%q) = mode %q, %v; want a chat entry", key, e.Mode, ok)
		}
	}
	// 1M tokens embedded with text-embedding-3-small: $0.02.
	e, _ := catalog.Default().Get("text-embedding-3-small")
	if got, want := e.RequestCost(1_000_000, 0, 0, 0), clearbar.Money(20_000_000); got != want {
		t.Errorf("RequestCost(1M) = %v, want %v", got, want)
	}
}

func TestParseEmbedding(t *testing.T) {
	doc := `{"header":{"source":"s","source_date":"","license":"MIT","generated_by":"hand"},"entries":[
{"key":"emb","provider":"p","mode":"embedding","input":"0.02","output":"0","max_input_tokens":8191,"output_vector_size":1536}]}`
	c, err := catalog.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Entry{Key: "emb", Provider: "p", Mode: "embedding", Input: 20_000, MaxInputTokens: 8191, Dimensions: 1536}
	if got, _ := c.Get("emb"); got != want || !got.IsEmbedding() {
		t.Errorf("Get(emb) = %+v, want %+v", got, want)
	}
}

func TestNilCatalogIsEmpty(t *testing.T) {
	var c *catalog.Catalog
	if c.Len() != 0 || c.Source() != "" || c.SourceDate() != "" {
		t.Error("nil Catalog is not empty")
	}
	if _, ok := c.Get("gpt-4o-mini"); ok {
		t.Error("nil Catalog: Get found an entry")
	}
	if _, ok := c.Lookup("openai", "gpt-4o-mini"); ok {
		t.Error("nil Catalog: Lookup found an entry")
	}
	if s := c.Suggest("gpt-4o-mini", 3); s != nil {
		t.Errorf("nil Catalog: Suggest = %q", s)
	}
	for range c.All() {
		t.Error("nil Catalog: All yielded an entry")
	}
	var zero catalog.Catalog
	if zero.Len() != 0 {
		t.Error("zero Catalog is not empty")
	}
	if _, ok := zero.Lookup("gemini", "gemini-2.5-flash"); ok {
		t.Error("zero Catalog: Lookup found an entry")
	}
}
