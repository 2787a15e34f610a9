package shadow

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestShadowCandidateSharingAnID: a candidate with the model id of the live model is called as
// its own spec model, so that a simulated provider answers with its own latency assumption.
func TestShadowCandidateSharingAnID(t *testing.T) {
	src := strings.NewReplacer("SAMPLE", "1", "BUDGET", "100", "error_rate: 0}", "error_rate: 0, time_scale: 0.0001}",
		"cand:   {provider: sim, model: gpt-4o-mini, latency: {p50: 1ms, p95: 2ms}}",
		"cand:   {provider: sim, model: gpt-4o, latency: {p50: 1s, p95: 1100ms}}").Replace(testSpec)
	f := fixtureOf(t, src)
	var out bytes.Buffer
	sh, err := New(Options{Spec: f.s, Providers: f.providers, Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := range n {
		req, d := request(i)
		d.TimeScale = 0.0001
		sh.Submit(f.s.Category("x"), req, d)
	}
	if err := sh.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := readRows(&out)
	if err != nil {
		t.Fatal(err)
	}
	cands := 0
	for _, r := range rows {
		if r.Model != "cand" {
			continue
		}
		cands++
		// cand's simulated latency is about 1s to 1.1s; the live model's (strong's), 1ms.
		if r.LatencyMS < 800 || r.LatencyMS > 1300 {
			t.Errorf("candidate row latency %gms, want about cand's simulated 1s", r.LatencyMS)
		}
	}
	if cands != n {
		t.Fatalf("%d candidate rows, want %d", cands, n)
	}
}
