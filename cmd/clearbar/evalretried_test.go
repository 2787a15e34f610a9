package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestEvalReportsRetriedCalls: a call that failed with a provider error and succeeded when
// retried is no failed pair (ERRORS 0), but the report says it was retried, in the run's
// line and under the table, so that it can be reconciled with estimate --measured, which
// counts an eval row's retries as failed calls.
func TestEvalReportsRetriedCalls(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if first {
			w.Header().Set("Retry-After-Ms", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error": {"message": "slow down", "type": "rate_limit_exceeded"}}`)
			return
		}
		io.WriteString(w, `{"id": "c", "object": "chat.completion", "model": "gpt-4.1-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "refund"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	os.WriteFile(specPath, []byte(`version: 1
name: retried
review: {last: 2026-11-01, cadence: monthly, owner: evals}
volume: {per_month: 1000}
providers:
  api: {type: openai-compatible, base_url: "`+srv.URL+`/v1"}
models:
  small: {provider: api, model: gpt-4.1-mini, latency: {p50: 800ms, p95: 2s}}
categories:
  - name: intent
    share: 1
    tokens: {in: 10, out: 1}
    quality_bar: 0.9
    route: {model: small}
    assume: {pass_rate: {small: 0.8}}
    why: Measured by the eval tests.
`), 0o644)
	var set strings.Builder
	for i := range 3 {
		fmt.Fprintf(&set, `{"id": "i%d", "prompt": "Which intent is ticket %d?", "reference": "refund"}`+"\n", i, i)
	}
	setPath := filepath.Join(dir, "set.jsonl")
	os.WriteFile(setPath, []byte(set.String()), 0o644)
	args := []string{specPath, "--category", "intent", "--set", setPath, "--progress", "never", "--concurrency", "1", "--retries", "2"}
	code, out, errOut := runEvalCmd(t, append(args, "--out", filepath.Join(dir, "o.jsonl"))...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"3 pairs run now (0 failed calls, 1 failed and retried), 0 resumed",
		"small in intent: 1 call(s) failed and were retried; ERRORS counts only calls that failed after their retries",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant %q", out, want)
		}
	}
	mu.Lock()
	calls = 0
	mu.Unlock()
	code, out, errOut = runEvalCmd(t, append(args, "--out", filepath.Join(dir, "o2.jsonl"), "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Failed  int `json:"failed_calls"`
		Retried int `json:"retried_calls"`
		Models  []struct {
			Errors  int `json:"errors"`
			Retried int `json:"retried"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Retried != 1 || len(rep.Models) != 1 || rep.Models[0].Errors != 0 || rep.Models[0].Retried != 1 {
		t.Errorf("JSON report %s: want no failed calls, 1 retried, in the run and the model's summary", out)
	}
}
