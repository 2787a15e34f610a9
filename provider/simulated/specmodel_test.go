package simulated_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/simulated"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// sharedIDSpec has two spec models with one model id and different assumptions: latency,
// availability and pass rate.
const sharedIDSpec = `version: 1
name: shared-id
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, seed: 11}}}
models:
  slow: {provider: sim, model: gpt-4.1-mini, availability: 0.5, latency: {ttft: {p50: 2s, p95: 3s}, tokens_per_second: 20}}
  fast: {provider: sim, model: gpt-4.1-mini, availability: 1, latency: {ttft: {p50: 100ms, p95: 200ms}, tokens_per_second: 1000}}
categories:
  - name: a
    share: 0.5
    tokens: {in: 100, out: 100}
    quality_bar: 0.1
    route: {cascade: [slow]}
    assume: {pass_rate: {slow: 0.2, fast: 0.2}}
  - name: b
    share: 0.5
    tokens: {in: 100, out: 100}
    quality_bar: 0.1
    route: {cascade: [fast]}
    assume: {pass_rate: {slow: 0, fast: 1}}
`

func loadSpec(t *testing.T, src string) (*spec.Spec, clearbar.Provider) {
	t.Helper()
	s, err := spec.Parse([]byte(src), "sim.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := simulated.New(provider.Config{Provider: s.Provider("sim"), Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

// simulationOf returns the ground truth a simulated answer reports.
func simulationOf(t *testing.T, body []byte) *simulated.Simulation {
	t.Helper()
	var b struct {
		Sim *simulated.Simulation `json:"x_clearbar_simulation"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return b.Sim
}

// TestSpecModelsSharingAnID: a call that names its spec model is answered with that model's
// latency, availability and pass rate, though another spec model has the same model id; a
// call that names only the id gets the first spec model's.
func TestSpecModelsSharingAnID(t *testing.T) {
	_, p := loadSpec(t, sharedIDSpec)
	ctx := context.Background()
	const n = 40
	type tally struct {
		failed, good int
		latency      time.Duration // the longest answer's simulated latency
	}
	calls := func(specModel, category string) tally {
		var tl tally
		for i := range n {
			resp, err := p.Complete(ctx, &clearbar.Call{Request: userRequest("hello"), Model: "gpt-4.1-mini", SpecModel: specModel, Category: category, Attempt: i + 1})
			if err != nil {
				tl.failed++
				continue
			}
			if sim := simulationOf(t, resp.Body); sim != nil && sim.Good {
				tl.good++
			}
			lat, ok := simulated.LatencyOf(resp)
			if !ok {
				t.Fatalf("%s: no simulated latency in %s", specModel, resp.Body)
			}
			tl.latency = max(tl.latency, lat)
		}
		return tl
	}
	// fast: time to first token p95 0.2s, 100 tokens at 1000/s; slow: at least 100 tokens at
	// 20/s, 5s, whatever its time to first token.
	if got := calls("fast", "b"); got.failed != 0 || got.good != n || got.latency > time.Second {
		t.Errorf("fast in b: %+v; want no failures (availability 1), every answer good (pass rate 1), each within 1s", got)
	}
	if got := calls("slow", "b"); got.failed == 0 || got.good != 0 || got.latency < 5*time.Second {
		t.Errorf("slow in b: %+v; want failures (availability 0.5), no good answer (pass rate 0), each over 5s", got)
	}
	if got := calls("", "b"); got.failed == 0 || got.good != 0 || got.latency < 5*time.Second {
		t.Errorf("by model id only, in b: %+v; want the first spec model's (slow's) assumptions", got)
	}
	if got := calls("elsewhere", "b"); got.failed == 0 || got.latency < 5*time.Second {
		t.Errorf("naming a spec model the provider does not have: %+v; want the model id's first spec model (slow)", got)
	}
}

// TestFailMetadataSharedID: clearbar_simulate_fail naming a spec model fails the calls for
// it, and not those for another spec model with the same model id.
func TestFailMetadataSharedID(t *testing.T) {
	_, p := loadSpec(t, sharedIDSpec)
	for _, tt := range []struct {
		fail, specModel string
		fails           bool
	}{
		{"fast", "fast", true},
		{"slow", "fast", false}, // fast never fails on its own (availability 1)
		{"gpt-4.1-mini", "fast", true},
	} {
		req := userRequest("hi")
		req.Metadata = map[string]string{simulated.FailMetadata: tt.fail}
		for range 5 {
			_, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "gpt-4.1-mini", SpecModel: tt.specModel})
			if failed := err != nil && classOf(err) == clearbar.Overloaded; failed != tt.fails {
				t.Errorf("%s=%q, call for %s: err %v, want failure %v", simulated.FailMetadata, tt.fail, tt.specModel, err, tt.fails)
			}
		}
	}
}

// TestSpecModelKeyedDraws: keyed calls (an eval's) for two spec models with one model id draw
// their fates apart, as calls for two model ids do, and each again the same.
func TestSpecModelKeyedDraws(t *testing.T) {
	_, p := loadSpec(t, sharedIDSpec)
	ids := func(specModel string) []string {
		var out []string
		for i := range 20 {
			resp, err := p.Complete(context.Background(), &clearbar.Call{Request: userRequest("hi"), Model: "gpt-4.1-mini", SpecModel: specModel, Key: string(rune('a' + i)), Attempt: 1})
			if err != nil {
				out = append(out, "failed")
				continue
			}
			out = append(out, resp.ID)
		}
		return out
	}
	fast, slow, again := ids("fast"), ids("slow"), ids("fast")
	same := 0
	for i := range fast {
		if fast[i] != again[i] {
			t.Fatalf("item %d: %s, then %s: a keyed call's fate must repeat", i, fast[i], again[i])
		}
		if fast[i] == slow[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d of %d items got the same answer id for fast and slow: their draws must differ", same, len(fast))
	}
}

// truthSpec validates one category's answers as JSON and not the other's, with perfect
// validators, so that only an injected fault makes an answer bad or fail validation.
const truthSpec = `version: 1
name: truth
review: {last: 2026-11-01, cadence: monthly}
providers: {sim: {type: simulated, simulate: {time_scale: 0.00001, seed: 5, error_rate: 0, invalid_json_rate: %s, cut_rate: %s}}}
models:
  m: {provider: sim, model: gpt-4.1-mini}
categories:
  - name: checked
    share: 0.5
    tokens: {in: 100, out: 20}
    quality_bar: 0.5
    route:
      cascade: [m]
      validate: [{json_schema: request}]
    assume:
      pass_rate: {m: 1}
      validator: {detect: 1, false_alarm: 0}
  - name: unchecked
    share: 0.5
    tokens: {in: 100, out: 20}
    quality_bar: 0.5
    route: {cascade: [m]}
    assume: {pass_rate: {m: 1}}
`

// streamTruth reads a stream to its end: the text, the ground truth its last chunk reports
// (nil when none) and the stream's error.
func streamTruth(t *testing.T, s clearbar.Stream) (string, *simulated.Simulation, error) {
	t.Helper()
	defer s.Close()
	var text strings.Builder
	var sim *simulated.Simulation
	for s.Next() {
		ch := s.Chunk()
		text.WriteString(ch.Text)
		if got := simulationOf(t, ch.Data); got != nil {
			sim = got
		}
	}
	return text.String(), sim, s.Err()
}

// TestSimulationTruthAsSent: the ground truth in the body describes the answer as sent. An
// answer broken by invalid_json_rate is not good, and is flagged where the category's
// validators check JSON, as the real validators then fail it; a cut stream sends no truth.
func TestSimulationTruthAsSent(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		invalid     string
		category    string
		good, flags bool
	}{
		{"0", "checked", true, false},
		{"1", "checked", false, true},
		{"0", "unchecked", true, false},
		{"1", "unchecked", false, false},
	} {
		s, p := loadSpec(t, fmt.Sprintf(truthSpec, tt.invalid, "0"))
		checker, err := validate.NewChecker(s, validate.Env{})
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := s.Category(tt.category).Route.MainValidators()
		for i := range 5 {
			req := userRequest("Give me a JSON object.")
			req.ResponseFormat.Type = "json_object"
			call := &clearbar.Call{Request: req, Model: "gpt-4.1-mini", SpecModel: "m", Category: tt.category, Attempt: i + 1}
			resp, err := p.Complete(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			sim := simulationOf(t, resp.Body)
			valid := json.Valid([]byte(resp.Text()))
			if sim == nil || sim.Good != tt.good || sim.Flagged != tt.flags || valid != (tt.invalid == "0") {
				t.Fatalf("invalid_json_rate %s, %s: truth %+v for %q; want good %v, flagged %v", tt.invalid, tt.category, sim, resp.Text(), tt.good, tt.flags)
			}
			if _, pass, _ := checker.Check(ctx, "m", req, resp, vs); pass == sim.Flagged {
				t.Errorf("invalid_json_rate %s, %s: the validators pass %v an answer flagged %v", tt.invalid, tt.category, pass, sim.Flagged)
			}

			call.Stream = true
			st, err := p.Stream(ctx, call)
			if err != nil {
				t.Fatal(err)
			}
			text, ssim, err := streamTruth(t, st)
			if err != nil || ssim == nil || ssim.Good != tt.good || ssim.Flagged != tt.flags || json.Valid([]byte(text)) != valid {
				t.Fatalf("invalid_json_rate %s, %s, streamed: truth %+v for %q (err %v); want good %v, flagged %v", tt.invalid, tt.category, ssim, text, err, tt.good, tt.flags)
			}
		}
	}

	_, p := loadSpec(t, fmt.Sprintf(truthSpec, "0", "1"))
	req := userRequest("Give me a JSON object.")
	req.ResponseFormat.Type = "json_object"
	st, err := p.Stream(ctx, &clearbar.Call{Request: req, Model: "gpt-4.1-mini", SpecModel: "m", Category: "checked", Stream: true, Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, sim, err := streamTruth(t, st); classOf(err) != clearbar.StreamCut || sim != nil {
		t.Errorf("a cut stream: err %v, truth %+v; want a StreamCut error and no truth", err, sim)
	}
}
