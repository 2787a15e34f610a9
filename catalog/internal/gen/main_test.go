package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/catalog"
)

// fixture is a miniature of LiteLLM's file: prices that float64 cannot hold exactly (1.5e-07,
// 3e-07, 0.1), one written with more digits than a pico-dollar, a long-context tier, the legacy
// max_tokens, embedding models (one with a vector size and an output limit that must go, one
// without an output price), 1-hour cache-write prices (one not twice the input price, which
// must go), web search prices by context size and per query, and entries that must be left out.
const fixture = `{
  "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "max_tokens": "LEGACY parameter", "mode": "one of: chat, embedding", "litellm_provider": "one of"},
  "zeta-chat": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1.5e-07, "output_cost_per_token": 3e-07,
    "cache_read_input_token_cost": 7.5e-08, "cache_creation_input_token_cost_above_1hr": 6e-06, "max_input_tokens": 128000, "max_output_tokens": 16384, "max_tokens": 16384,
    "supports_function_calling": true, "supports_vision": false, "supports_prompt_caching": true, "deprecation_date": "2026-01-31"},
  "alpha/tiered": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
    "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07, "input_cost_per_token_above_200k_tokens_priority": 1e-05,
    "output_cost_per_reasoning_token": 0.1, "max_tokens": 2000000.0, "supports_reasoning": true,
    "supports_vision": true, "supports_audio_input": false, "supports_pdf_input": false,
    "search_context_cost_per_query": {"search_context_size_low": 0.005, "search_context_size_medium": 0.01, "search_context_size_high": 0.03},
    "cache_creation_input_token_cost_above_1hr": 6e-06, "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05},
  "rounded": {"litellm_provider": "databricks", "mode": "chat", "input_cost_per_token": 2.9999900000000002e-06, "output_cost_per_token": 0},
  "respond": {"litellm_provider": "openai", "mode": "responses", "input_cost_per_token": 0.00015, "output_cost_per_token": 0.0006,
    "search_context_cost_per_query": {"search_context_size_low": 0.014, "search_context_size_medium": 0.014, "search_context_size_high": 0.014}, "web_search_billing_unit": "per_query"},
  "respond-unpriced": {"litellm_provider": "openai", "mode": "responses"},
  "embedder": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-08, "output_cost_per_token": 0.0,
    "input_cost_per_token_batches": 1e-08, "max_input_tokens": 8191, "max_output_tokens": 8191, "max_tokens": 8191, "output_vector_size": 1536},
  "embed-no-output": {"litellm_provider": "mistral", "mode": "embedding", "input_cost_per_token": 1e-07, "max_tokens": 8192},
  "embed-unpriced": {"litellm_provider": "github_copilot", "mode": "embedding", "max_input_tokens": 8191},
  "image-gen": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
  "no-output-price": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06},
  "null-output-price": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": null},
  "no-mode": {"litellm_provider": "openai", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
  "last_updated": "2026-07-24T18:23:43.215560+00:00"
}`

func TestGenerateFixture(t *testing.T) {
	var out bytes.Buffer
	sum, err := generate(strings.NewReader(fixture), &out, config{Origin: "fixture"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 12 || sum.Kept != 6 || sum.KeptEmbedding != 2 || sum.SourceDate != "2026-07-24" {
		t.Errorf("summary = %+v, want Total 12, Kept 6, KeptEmbedding 2, SourceDate 2026-07-24", sum)
	}
	if len(sum.Warnings) != 2 || !strings.Contains(sum.Warnings[0], "rounded: input_cost_per_token") ||
		!strings.Contains(sum.Warnings[1], "zeta-chat: cache_creation_input_token_cost_above_1hr $6/M is not twice the input price $0.15/M") {
		t.Errorf("warnings = %q, want one about rounded's input price and one about zeta-chat's 1-hour cache-write price", sum.Warnings)
	}

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2+6+1 { // header, "entries":[, one line per entry, ]}
		t.Errorf("output has %d lines, want one per entry plus three:\n%s", len(lines), out.String())
	}

	c, err := catalog.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("catalog.Parse of the generated file: %v\n%s", err, out.String())
	}
	if c.Source() != "fixture" || c.SourceDate() != "2026-07-24" || c.License() != "MIT" {
		t.Errorf("header = %q %q %q", c.Source(), c.SourceDate(), c.License())
	}
	want := []catalog.Entry{
		{Key: "alpha/tiered", Provider: "anthropic", Mode: "chat", Input: 3_000_000, Output: 15_000_000,
			Reasoning: 100_000_000_000, TierThreshold: 200_000, InputAbove: 6_000_000, OutputAbove: 22_500_000, CachedInputAbove: 600_000,
			CacheWrite1h: 6_000_000, CacheWrite1hAbove: 12_000_000,
			WebSearch: 10_000_000, WebSearchLow: 5_000_000, WebSearchHigh: 30_000_000, MaxInputTokens: 2_000_000, MaxOutputTokens: 2_000_000, SupportsReasoning: true,
			SupportsVision: true, NoAudioInput: true, NoPDFInput: true},
		{Key: "embed-no-output", Provider: "mistral", Mode: "embedding", Input: 100_000, MaxInputTokens: 8192},
		{Key: "embedder", Provider: "openai", Mode: "embedding", Input: 20_000, MaxInputTokens: 8191, Dimensions: 1536},
		{Key: "respond", Provider: "openai", Mode: "responses", Input: 150_000_000, Output: 600_000_000, WebSearch: 14_000_000, WebSearchPerQuery: true},
		{Key: "rounded", Provider: "databricks", Mode: "chat", Input: 2_999_990, Output: 0},
		{Key: "zeta-chat", Provider: "openai", Mode: "chat", Input: 150_000, Output: 300_000, CachedInput: 75_000,
			MaxInputTokens: 128_000, MaxOutputTokens: 16_384, SupportsFunctionCalling: true, SupportsPromptCaching: true,
			NoImageInput: true, DeprecationDate: "2026-01-31"},
	}
	var got []catalog.Entry
	for e := range c.All() {
		got = append(got, e)
	}
	if len(got) != len(want) {
		t.Fatalf("generated %d entries, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d =\n  %+v\nwant\n  %+v", i, got[i], want[i])
		}
	}
	if e, _ := c.Get("zeta-chat"); e.Input != clearbar.Price(150_000) {
		t.Errorf("1.5e-07 $/token became %d, want exactly 150000", e.Input)
	}

	// Deterministic: the same input gives the same bytes.
	var again bytes.Buffer
	if _, err := generate(strings.NewReader(fixture), &again, config{Origin: "fixture"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Error("two runs on the same input differ")
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"not an object", `[1,2]`, "not a JSON object"},
		{"negative price names the entry", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": -1e-06, "output_cost_per_token": 1e-06}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": input_cost_per_token`},
		{"price as text", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": "cheap", "output_cost_per_token": 1e-06}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad"`},
		{"fractional token count", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "max_tokens": 1.5}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": max_tokens`},
		{"flag as text", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "supports_vision": "yes"}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": supports_vision`},
		{"duplicate key", `{"a": {"mode": "embedding"}, "a": {"mode": "embedding"}}`, `duplicate key "a"`},
		{"no last_updated", `{"a": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}}`, "-date"},
		{"nothing kept", `{"a": {"mode": "embedding"}, "last_updated": "2026-07-24T18:23:43Z"}`, "no chat entries"},
		{"fractional vector size", `{"bad": {"litellm_provider": "x", "mode": "embedding", "input_cost_per_token": 1e-08, "output_vector_size": 1536.5}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": output_vector_size`},
		{"embedding price as text", `{"bad": {"litellm_provider": "x", "mode": "embedding", "input_cost_per_token": "cheap"}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": input_cost_per_token`},
		{"web search price as text", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "search_context_cost_per_query": "cheap"}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": search_context_cost_per_query`},
		{"negative web search price", `{"bad": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06, "search_context_cost_per_query": {"search_context_size_medium": -0.01}}, "last_updated": "2026-07-24T18:23:43Z"}`, `entry "bad": search_context_cost_per_query`},
		{"truncated", `{"a": {"mode": "chat"`, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generate(strings.NewReader(tt.src), &bytes.Buffer{}, config{Origin: "test"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("generate error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestGenerateDateFlag(t *testing.T) {
	src := `{"a": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}}`
	sum, err := generate(strings.NewReader(src), &bytes.Buffer{}, config{Origin: "test", Date: "2026-01-02"})
	if err != nil || sum.SourceDate != "2026-01-02" {
		t.Errorf("generate with -date = %+v, %v", sum, err)
	}
}

func TestMultipleTiersDropped(t *testing.T) {
	src := `{"two-tiers": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06,
	  "input_cost_per_token_above_128k_tokens": 2e-06, "input_cost_per_token_above_256k_tokens": 3e-06},
	  "one": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
	  "last_updated": "2026-07-24T18:23:43Z"}`
	var out bytes.Buffer
	sum, err := generate(strings.NewReader(src), &out, config{Origin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Kept != 1 || len(sum.Warnings) != 1 || !strings.Contains(sum.Warnings[0], "two-tiers: dropped") {
		t.Errorf("summary = %+v, want two-tiers dropped with a warning", sum)
	}
}

func TestMisfiledDropped(t *testing.T) {
	src := `{"gemini/chat-model": {"litellm_provider": "gemini", "mode": "embedding", "input_cost_per_token": 7.5e-08, "output_cost_per_token": 0},
	  "fixed": {"litellm_provider": "x", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
	  "real-embedder": {"litellm_provider": "x", "mode": "embedding", "input_cost_per_token": 1e-08},
	  "last_updated": "2026-07-24T18:23:43Z"}`
	cfg := config{Origin: "test", Misfiled: map[string]misfiling{
		"gemini/chat-model": {"embedding", "it is a chat model"},
		"fixed":             {"embedding", "it was misfiled"},
		"gone":              {"embedding", "it was misfiled"},
	}}
	var out bytes.Buffer
	sum, err := generate(strings.NewReader(src), &out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("gemini/chat-model"); ok {
		t.Error("the misfiled entry was kept")
	}
	if e, ok := c.Get("fixed"); !ok || e.Mode != "chat" {
		t.Errorf("Get(fixed) = %+v, %v: an entry the source no longer misfiles is kept as it is", e, ok)
	}
	if e, ok := c.Get("real-embedder"); !ok || !e.IsEmbedding() {
		t.Errorf("Get(real-embedder) = %+v, %v: want an embedding entry", e, ok)
	}
	want := []string{
		`fixed: on the misfiled list as mode "embedding", but the source now gives mode "chat"`,
		`gemini/chat-model: dropped: the source files it as mode "embedding", but it is a chat model`,
		`gone: on the misfiled list, but not in the source`,
	}
	if len(sum.Warnings) != len(want) {
		t.Fatalf("warnings = %q, want %d", sum.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(sum.Warnings[i], w) {
			t.Errorf("warning %d = %q, want it to start %q", i, sum.Warnings[i], w)
		}
	}
}

func TestRunMissingSource(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "nowhere", "model_prices_and_context_window.json")
	out := filepath.Join(dir, "catalog.json")
	err := run(src, out, config{Origin: "test"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), src) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("run with a missing source: error %v, want one naming %s", err, src)
	}
	if _, statErr := os.Stat(out); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("run with a missing source wrote %s", out)
	}
}

func TestRunWritesFile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.json")
	out := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(src, []byte(fixture), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := run(src, out, config{Origin: "fixture"}, &log); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Parse(bytes.NewReader(data)); err != nil {
		t.Errorf("written file does not parse: %v", err)
	}
	if !strings.Contains(log.String(), "6 entries of 12 in the source, 2 of them embedding models") || !strings.Contains(log.String(), "warning: rounded") {
		t.Errorf("log = %q, want the counts and the rounding warning", log.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("run left %d files in the output directory, want src.json and catalog.json only", len(entries))
	}
}

// sharedSource is the upstream file, relative to this package's directory (catalog/internal/gen):
// the data lives beside the repository, in /work/shared.
const sharedSource = "../../../../shared/data/llm_prices/model_prices_and_context_window.json"

// TestCommittedCatalogIsCurrent checks that catalog/catalog.json is exactly what the generator
// makes of the shared source, so that nobody edits it by hand or forgets to regenerate.
func TestCommittedCatalogIsCurrent(t *testing.T) {
	f, err := os.Open(sharedSource)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("source data %s is absent (it lives outside the repository); cannot check catalog.json against it", sharedSource)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want bytes.Buffer
	sum, err := generate(f, &want, config{Origin: defaultOrigin, Misfiled: misfiled})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range sum.Warnings {
		if strings.Contains(w, "misfiled list") {
			t.Errorf("stale misfiled list: %s", w)
		}
	}
	got, err := os.ReadFile("../../catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("catalog/catalog.json (%d bytes) differs from the generator's output (%d bytes) for %s: run go generate ./catalog",
			len(got), want.Len(), sharedSource)
	}
}
