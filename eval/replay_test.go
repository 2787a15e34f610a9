package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/replay"
	"github.com/clearbar/clearbar/spec"
)

// TestReplayedEstimatesAreRecordedAsEstimates: an eval of a replayed table whose row has no
// token counts but its cost (an imported RouterBench row) records the replay's estimated
// counts as estimates, no cached tokens, and the row's recorded cost, not the spec's price of
// the estimates; a row with its counts records them as measured, priced at the spec's prices
// when it records no cost.
func TestReplayedEstimatesAreRecordedAsEstimates(t *testing.T) {
	dir := t.TempDir()
	table := `{"item":"rb-1","prompt":"Which planet is largest?","model":"gpt-4.1-mini","response":"Jupiter","cost_usd":0.00012,"source":"routerbench"}
{"item":"rb-2","prompt":"Which planet is smallest?","model":"gpt-4.1-mini","response":"Mercury","tokens_in":12,"tokens_out":3,"source":"routerbench"}
`
	src := `version: 1
name: eval-replay
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  rec: {type: replay, outcomes: rb.jsonl}
models:
  small: {provider: rec, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: planets
    share: 1
    tokens: {in: 100, out: 20}
    quality_bar: 0.9
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
    why: Measured by the eval tests.
`
	set := `{"id": "q1", "prompt": "Which planet is largest?", "reference": "Jupiter"}
{"id": "q2", "prompt": "Which planet is smallest?", "reference": "Mercury"}
`
	for name, text := range map[string]string{"rb.jsonl": table, "spec.yaml": src, "set.jsonl": set} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := spec.Load(filepath.Join(dir, "spec.yaml"), spec.Options{Today: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("replay", replay.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cat := s.Category("planets")
	st, err := LoadSet(filepath.Join(dir, "set.jsonl"), Env{Spec: s, Category: cat})
	if err != nil {
		t.Fatal(err)
	}
	small := s.Model("small")
	r := &Runner{Category: cat, Models: []*spec.Model{small}, Providers: providers}
	path := filepath.Join(dir, "out.jsonl")
	if _, err := r.Run(context.Background(), st, openOutput(t, path)); err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, path)
	if len(recs) != 2 {
		t.Fatalf("%d rows, want 2", len(recs))
	}
	for _, rec := range recs {
		switch rec.Item {
		case "q1":
			if !rec.TokensEstimated || rec.TokensIn == 0 || rec.TokensOut == 0 || rec.TokensCached != nil || rec.Cost != clearbar.MoneyFromUSD(0.00012) {
				t.Errorf("the row without counts: tokens %d/%d (cached %v), estimated %v, cost %v; want the estimates marked as such, no cached tokens, and the recorded $0.00012",
					rec.TokensIn, rec.TokensOut, rec.TokensCached, rec.TokensEstimated, rec.Cost)
			}
		case "q2":
			want := small.Cost(clearbar.Usage{PromptTokens: 12, CompletionTokens: 3})
			if rec.TokensEstimated || rec.TokensIn != 12 || rec.TokensOut != 3 || rec.TokensCached == nil || rec.Cost != want || want == 0 {
				t.Errorf("the row with counts: tokens %d/%d, estimated %v, cost %v; want the recorded 12/3, measured, at the spec's price %v",
					rec.TokensIn, rec.TokensOut, rec.TokensEstimated, rec.Cost, want)
			}
		}
	}
}
