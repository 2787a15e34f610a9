package gateway

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/replay"
	"github.com/clearbar/clearbar/spec"
)

// TestReplayedEstimatesAreRecordedAtTheirRecordedCost: an answer replayed from a row without
// token counts (an imported benchmark's) is recorded with its usage marked estimated and
// costed at the row's recorded cost, complete or streamed, validated or not; a row with its
// counts is costed at the spec's prices, not estimated.
func TestReplayedEstimatesAreRecordedAtTheirRecordedCost(t *testing.T) {
	dir := t.TempDir()
	table := `{"item":"a","prompt":"Which is right? A) x B) y","model":"gpt-4.1-mini","response":"B","cost_usd":0.000125,"source":"routerbench"}
{"item":"b","prompt":"Say hi","model":"gpt-4.1-mini","response":"Hi!","tokens_in":9,"tokens_out":3,"cost_usd":0.5,"source":"eval"}
`
	if err := os.WriteFile(filepath.Join(dir, "rec.jsonl"), []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := `version: 1
name: replayed
providers:
  rec: {type: replay, outcomes: rec.jsonl}
models:
  small: {provider: rec, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: small}
    assume: {pass_rate: {small: 0.9}}
  - name: checked
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: small, validate: [{max_length: 1000}]}
    assume: {pass_rate: {small: 0.9}}
`
	file := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse([]byte(doc), file, spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := replay.New(provider.Config{Provider: s.Providers[0], Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	gw, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"rec": p}, Recorder: rec, Decisions: rec})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{gw: gw, rec: rec, srv: httptest.NewServer(gw)}
	t.Cleanup(f.srv.Close)

	small := s.Model("small")
	for _, tc := range []struct {
		prompt, category string
		stream           bool
		estimated        bool
		cost             func(clearbar.Usage) clearbar.Money
	}{
		{"Which is right? A) x B) y", "qa", false, true, func(clearbar.Usage) clearbar.Money { return clearbar.MoneyFromUSD(0.000125) }},
		{"Which is right? A) x B) y", "qa", true, true, func(clearbar.Usage) clearbar.Money { return clearbar.MoneyFromUSD(0.000125) }},
		{"Which is right? A) x B) y", "checked", true, true, func(clearbar.Usage) clearbar.Money { return clearbar.MoneyFromUSD(0.000125) }},
		{"Say hi", "qa", false, false, small.Cost},
		{"Say hi", "checked", true, false, small.Cost},
	} {
		body := `{"model":"clearbar/` + tc.category + `","messages":[{"role":"user","content":"` + tc.prompt + `"}]` + map[bool]string{true: `,"stream":true`}[tc.stream] + `}`
		resp := f.post(t, body)
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || tc.stream && !strings.Contains(string(out), "[DONE]") {
			t.Fatalf("%q in %s (stream %v): %d %s", tc.prompt, tc.category, tc.stream, resp.StatusCode, out)
		}
		d := rec.last()
		if d == nil || len(d.Attempts) != 1 {
			t.Fatalf("%q in %s (stream %v): decision %+v", tc.prompt, tc.category, tc.stream, d)
		}
		a := d.Attempts[0]
		if want := tc.cost(a.Usage); a.UsageEstimated != tc.estimated || a.Cost != want || d.Cost != want {
			t.Errorf("%q in %s (stream %v): usage %+v estimated %v, cost %v (decision %v); want estimated %v, cost %v",
				tc.prompt, tc.category, tc.stream, a.Usage, a.UsageEstimated, a.Cost, d.Cost, tc.estimated, want)
		}
	}
}
