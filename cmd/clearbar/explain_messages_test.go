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
	code, _, errOut := run(t, "explain", "--dry-run", "--spec", "../../examples/quickstart.yaml", "--dialect", "anthropic", "--header", "anthropic-version: 2023-06-01",
		writeMessagesBody(t, `{"model":"clearbar/auto","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`))
	if code != 1 || !strings.Contains(errOut, "only Anthropic models take") {
		t.Errorf("a server tool: exit %d, stderr %s", code, errOut)
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
