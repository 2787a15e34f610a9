package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
)

// TestMetricsTokensByKind: clearbar_tokens_total counts every kind of token a call reports,
// cache writes (which vendors bill apart from other input) included, under the model called.
func TestMetricsTokensByKind(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	m.observeDecision(&clearbar.Decision{Category: "chat", Model: "sonnet", Outcome: clearbar.OK, Attempts: []clearbar.Attempt{{
		Kind: clearbar.AttemptPrimary, Model: "sonnet", Provider: "anthropic", Class: clearbar.OK,
		Usage: clearbar.Usage{PromptTokens: 5000, CompletionTokens: 700, CachedTokens: 3000, CacheWriteTokens: 1500, ReasoningTokens: 200},
	}}})
	got := map[string]float64{}
	for _, s := range gathered(t, reg, "clearbar_tokens_total") {
		if labelOf(s, "model") != "sonnet" {
			t.Errorf("tokens counted under model %q", labelOf(s, "model"))
		}
		got[labelOf(s, "kind")] = s.GetCounter().GetValue()
	}
	want := map[string]float64{"prompt": 5000, "completion": 700, "cached": 3000, "cache_write": 1500, "reasoning": 200}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("clearbar_tokens_total{kind=%q} = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// TestMetricsNegativeUsageCountsAsNone: an upstream that reports a negative token count (a
// misbehaving OpenAI-compatible server) adds nothing to clearbar_tokens_total, whose counter
// would panic on it, and that panic would lose the answer and its decision.
func TestMetricsNegativeUsageCountsAsNone(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("observing a negative token count panicked: %v", p)
			}
		}()
		m.observeDecision(&clearbar.Decision{Category: "chat", Model: "m", Outcome: clearbar.OK, Attempts: []clearbar.Attempt{{
			Kind: clearbar.AttemptPrimary, Model: "m", Provider: "up", Class: clearbar.OK,
			Usage: clearbar.Usage{PromptTokens: -5, CompletionTokens: 3},
		}}})
	}()
	got := map[string]float64{}
	for _, s := range gathered(t, reg, "clearbar_tokens_total") {
		got[labelOf(s, "kind")] = s.GetCounter().GetValue()
	}
	if got["prompt"] != 0 || got["completion"] != 3 {
		t.Errorf("clearbar_tokens_total %v, want prompt 0 and completion 3", got)
	}
}
