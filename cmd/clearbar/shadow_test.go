package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clearbar/clearbar/outcomes"
)

const shadowSpec = `version: 1
name: shadow-feeds-measurement
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 100000}
providers:
  sim: {type: simulated, simulate: {seed: 11, error_rate: 0}}
models:
  cand:   {provider: sim, model: gpt-4o-mini, latency: {p50: 400ms, p95: 900ms}}
  strong: {provider: sim, model: gpt-4o, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 60, out: 30}
    quality_bar: 0.9
    route: {model: strong, validate: [{max_length: 2000}]}
    assume:
      pass_rate: {strong: 0.96, cand: 0.9}
      validator: {detect: 1, false_alarm: 0}
    shadow: {models: [cand], sample: 1, daily_budget: 5}
    default: true
`

// TestShadowTrafficFeedsMeasurement runs clearbar serve with a shadowing category on the
// simulator, where the candidate's true pass rate is 0.7 while the spec assumes 0.9: the
// shadow rows measure it, and replay evaluates the candidate on the same items as the live
// model. The rows say a simulated provider answered ("simulated": true), so estimate
// --measured shows the candidate's pass rate without taking it for a contradiction.
func TestShadowTrafficFeedsMeasurement(t *testing.T) {
	dir := t.TempDir()
	specFile := filepath.Join(dir, "spec.yaml")
	// The simulator answers with the pass rate the spec assumes: run it with the candidate's
	// true rate, and keep the spec's (wrong) assumption for the estimate.
	simSpec := filepath.Join(dir, "sim.yaml")
	if err := os.WriteFile(specFile, []byte(shadowSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(simSpec, []byte(strings.Replace(shadowSpec, "cand: 0.9", "cand: 0.7", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rows := filepath.Join(dir, "shadow.outcomes.jsonl")
	addr, logs, stop := startServe(t, simSpec, "--time-scale", "0.001", "--trace", filepath.Join(dir, "t.db"), "--shadow-out", rows)
	if !strings.Contains(logs.String(), "shadow traffic: outcome rows appended to "+rows) {
		t.Errorf("start-up does not say where shadow rows go:\n%s", logs.String())
	}
	const n = 400
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, body := chat(t, addr, fmt.Sprintf(`{"model":"clearbar/qa","messages":[{"role":"user","content":"question %d"}]}`, i))
			if resp.StatusCode != 200 {
				t.Errorf("status %d: %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	var cand, pass, live int
	err := outcomes.ReadFile(rows, func(r outcomes.Row) error {
		if r.TimeScale != 0.001 {
			t.Errorf("%s row (source %s) answered at --time-scale 0.001 has time_scale %g", r.Model, r.Source, r.TimeScale)
		}
		switch r.Model {
		case "cand":
			cand++
			if r.Pass != nil && *r.Pass {
				pass++
			}
		case "strong":
			live++
		}
		return nil
	})
	if err != nil || cand != n || live != n {
		t.Fatalf("shadow rows: %d candidate, %d live, err %v; want %d each (shutdown must drain shadow calls)", cand, live, err, n)
	}
	p := float64(pass) / n
	if math.Abs(p-0.7) > 4.5*math.Sqrt(0.7*0.3/n) {
		t.Errorf("shadow measured the candidate's pass rate at %.3f; the simulator's is 0.7", p)
	}

	code, out, errOut := run(t, "estimate", specFile, "--measured", rows)
	if code != 0 || !strings.Contains(out, "cand") || !strings.Contains(out, "(0 contradict their assumption") ||
		!strings.Contains(out, fmt.Sprintf("%d of the %d rows of %s come from simulated providers", 2*n, 2*n, rows)) {
		t.Errorf("estimate --measured on shadow rows of the simulator: exit %d\n%s\n%s", code, out, errOut)
	}
	// Every latency of the run was answered at a time scale: shown, not tested, and the
	// assumption kept, the candidate's as the live model's.
	code, out, errOut = run(t, "estimate", specFile, "--measured", rows, "--format", "json")
	var est struct {
		Measured struct {
			Findings []struct {
				Model, What                 string
				Untested, Used, Contradicts bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &est); code != 0 || err != nil {
		t.Fatalf("estimate --measured --format json: exit %d, %v\n%s", code, err, errOut)
	}
	latencies := 0
	for _, f := range est.Measured.Findings {
		if strings.HasPrefix(f.What, "latency") {
			latencies++
			if !f.Untested || f.Used || f.Contradicts {
				t.Errorf("%s %s of calls at a time scale: untested %v, used %v, contradicts %v; want shown, not tested", f.Model, f.What, f.Untested, f.Used, f.Contradicts)
			}
		}
	}
	if latencies != 4 {
		t.Errorf("%d latency findings, want p50 and p95 of cand and strong", latencies)
	}
	code, out, errOut = run(t, "replay", specFile, "--outcomes", rows, "--category", "qa", "--format", "json")
	if code != 0 {
		t.Fatalf("replay on shadow rows: exit %d\n%s", code, errOut)
	}
	var rep struct {
		Items   int `json:"items"`
		Results []struct {
			Name    string  `json:"name"`
			Quality float64 `json:"quality"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var replayed float64 = -1
	for _, r := range rep.Results {
		if r.Name == "cand" {
			replayed = r.Quality
		}
	}
	if rep.Items != n || math.Abs(replayed-p) > 1e-9 {
		t.Errorf("replay: %d items, cand quality %v; want %d and the measured %v", rep.Items, replayed, n, p)
	}
}
