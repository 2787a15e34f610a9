package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestExplainDryRunMessagesBody: a dry run of an Anthropic Messages body decides on what the
// gateway's /v1/messages sees (its system prompt, image and tools translated), as serve does,
// not on the body read as a chat completions request.
func TestExplainDryRunMessagesBody(t *testing.T) {
	p := filepath.Join(t.TempDir(), "messages.json")
	body := `{"model":"clearbar/auto","max_tokens":100,"system":"You answer for the support team.",
"messages":[{"role":"user","content":[{"type":"text","text":"What does this receipt say?"},
{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}],
"tools":[{"name":"lookup","description":"Look an order up.","input_schema":{"type":"object"}}]}`
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"--dialect", "anthropic"}} {
		code, out, errOut := run(t, append([]string{"explain", "--dry-run", "--spec", "../../examples/quickstart.yaml", "--format", "json", p}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var d clearbar.Decision
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		f := d.Features
		if d.Dialect != clearbar.DialectAnthropic || d.Path != "/v1/messages" || f.Images != 1 || !f.Tools || f.Messages != 2 || f.TokensIn < 765 {
			t.Errorf("%v: dialect %q path %q, features %+v: want the Messages request's system prompt, image and tool", args, d.Dialect, d.Path, f)
		}
	}
	code, out, errOut := run(t, "explain", "--dry-run", "--spec", "../../examples/quickstart.yaml", "--dialect", "anthropic", "--header", "anthropic-version: 2023-06-01",
		writeMessagesBody(t, `{"model":"clearbar/auto","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`))
	// The quickstart's models are the simulator's own, which takes what any model takes.
	if code != 0 {
		t.Errorf("a server tool on simulated models: exit %d, stderr %s", code, errOut)
	}
	// On a route of OpenAI models only, it is the gateway's 400.
	onlyOpenAI := filepath.Join(t.TempDir(), "openai.yaml")
	if err := os.WriteFile(onlyOpenAI, []byte(`version: 1
name: only-openai
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers: {oa: {type: openai, api_key: "k"}}
models:
  mini: {provider: oa, model: gpt-4.1-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: mini}
    assume: {pass_rate: {mini: 0.9}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "explain", "--dry-run", "--spec", onlyOpenAI,
		writeMessagesBody(t, `{"model":"clearbar/qa","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`))
	if code != 1 || !strings.Contains(errOut, "the request has tools[0] (type web_search_20250305), which only Anthropic models take") {
		t.Errorf("a server tool on OpenAI models only: exit %d, stderr %s", code, errOut)
	}
	// On a route with a Claude model, the server tool leaves the OpenAI models out of the
	// plan, as the gateway's /v1/messages does.
	code, out, errOut = run(t, "explain", "--dry-run", "--spec", "../../examples/cross-vendor.yaml", "--format", "json",
		writeMessagesBody(t, `{"model":"clearbar/extract-order","max_tokens":100,"messages":[{"role":"user","content":"Order 12?"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`))
	var d clearbar.Decision
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.Plan) == 0 || d.Plan[0] != "sonnet" || len(d.Skipped) == 0 {
		t.Errorf("a server tool on a route with a Claude model: exit %d, plan %v, skipped %v, stderr %s", code, d.Plan, d.Skipped, errOut)
	}
}

func writeMessagesBody(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "req.json")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
