package gateway

import (
	"math"
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

// TestMetricsCostByClient: clearbar_client_cost_usd_total adds up each client key's requests,
// every call included, by category; a request without a client key is not counted there.
func TestMetricsCostByClient(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	call := func(client string, usd ...float64) {
		d := &clearbar.Decision{Category: "intent", Model: "strong", Outcome: clearbar.OK, Client: client}
		for _, c := range usd {
			d.Attempts = append(d.Attempts, clearbar.Attempt{Kind: clearbar.AttemptPrimary, Model: "nano", Provider: "sim", Cost: clearbar.MoneyFromUSD(c)})
		}
		m.observeDecision(d)
	}
	call("alpha", 0.001, 0.002)
	call("alpha", 0.004)
	call("beta", 0.5)
	call("", 7)
	got := map[string]float64{}
	for _, s := range gathered(t, reg, "clearbar_client_cost_usd_total") {
		got[labelOf(s, "client")+"/"+labelOf(s, "category")] = s.GetCounter().GetValue()
	}
	want := map[string]float64{"alpha/intent": 0.007, "beta/intent": 0.5}
	if len(got) != len(want) || math.Abs(got["alpha/intent"]-0.007) > 1e-12 || got["beta/intent"] != 0.5 {
		t.Errorf("client cost series %v, want %v", got, want)
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
