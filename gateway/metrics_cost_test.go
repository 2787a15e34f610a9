package gateway

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/clearbar/clearbar"
)

// TestMetricsCostByModelCalled: clearbar_cost_usd_total charges each call to the model that
// was called: a cascade's rejected answer is the first model's cost, not the one that answered
// in the end, and a score route's embeddings call is the embedding model's; the series add up
// to the decision's cost.
func TestMetricsCostByModelCalled(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	d := &clearbar.Decision{
		Category: "intent", Model: "strong", Outcome: clearbar.OK,
		Attempts: []clearbar.Attempt{
			{Kind: clearbar.AttemptPrimary, Model: "nano", Provider: "sim", Class: clearbar.Quality,
				Usage: clearbar.Usage{PromptTokens: 9, CompletionTokens: 20}, Cost: clearbar.MoneyFromUSD(0.0000089)},
			{Kind: clearbar.AttemptEscalation, Model: "strong", Provider: "sim", Class: clearbar.OK,
				Usage: clearbar.Usage{PromptTokens: 9, CompletionTokens: 20}, Cost: clearbar.MoneyFromUSD(0.000327)},
		},
		Score: &clearbar.Score{Embedding: &clearbar.ScoreEmbedding{Model: "embedder", Used: true, Cost: clearbar.MoneyFromUSD(0.000001)}},
	}
	d.Cost = d.Attempts[0].Cost + d.Attempts[1].Cost + d.Score.Embedding.Cost
	m.observeDecision(d)

	got := map[string]float64{}
	for _, s := range gathered(t, reg, "clearbar_cost_usd_total") {
		got[labelOf(s, "category")+"/"+labelOf(s, "model")] = s.GetCounter().GetValue()
	}
	want := map[string]float64{"intent/nano": 0.0000089, "intent/strong": 0.000327, "intent/embedder": 0.000001}
	if len(got) != len(want) {
		t.Errorf("cost series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("clearbar_cost_usd_total %s = %g, want %g", k, got[k], v)
		}
	}
}

// gathered returns the series of the metric name that g holds.
func gathered(t *testing.T, g prometheus.Gatherer, name string) []*dto.Metric {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()
		}
	}
	return nil
}

// labelOf returns the value of a series' label, or "".
func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
