package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// fakeVendors are an OpenAI-format and an Anthropic-format upstream on loopback. The OpenAI
// one answers gpt-4.1-nano with prose around the JSON (which fails the order schema) and
// other models with the order; the Anthropic one answers with the order as a text block.
type fakeVendors struct {
	openai, anthropic *httptest.Server
	mu                sync.Mutex
	calls             map[string]int // by upstream model
	anthropicHeaders  http.Header
}

const orderJSON = `{"order_id":"AB-123456","items":[{"sku":"KB-1","quantity":2}],"total":59.9}`

func newFakeVendors(t *testing.T) *fakeVendors {
	f := &fakeVendors{calls: map[string]int{}}
	f.openai = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		f.count(req.Model)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-openai-test" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"bad path or key","type":"invalid_request_error"}}`)
			return
		}
		content := orderJSON
		if req.Model == "gpt-4.1-nano" {
			content = "Sure! Here is the order: " + orderJSON
		}
		msg, _ := json.Marshal(content)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"`+req.Model+`",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":`+string(msg)+`},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}`)
	}))
	f.anthropic = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		f.count(req.Model)
		f.mu.Lock()
		f.anthropicHeaders = r.Header.Clone()
		f.mu.Unlock()
		if r.URL.Path != "/v1/messages" || r.Header.Get("X-Api-Key") != "sk-ant-test" {
			w.WriteHeader(401)
			io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
			return
		}
		text, _ := json.Marshal(orderJSON)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_fake_1")
		io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"`+req.Model+`",`+
			`"content":[{"type":"text","text":`+string(text)+`}],"stop_reason":"end_turn","stop_sequence":null,`+
			`"usage":{"input_tokens":130,"output_tokens":45}}`)
	}))
	t.Cleanup(f.openai.Close)
	t.Cleanup(f.anthropic.Close)
	return f
}

func (f *fakeVendors) count(model string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[model]++
}

func (f *fakeVendors) n(model string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[model]
}

// TestCrossVendorExample runs examples/cross-vendor.yaml end to end against fake vendors: an
// OpenAI SDK client's extraction goes to OpenAI's nano, fails the order schema, escalates to
// Anthropic's Claude through the Anthropic adapter, and comes back as an OpenAI answer.
func TestCrossVendorExample(t *testing.T) {
	f := newFakeVendors(t)
	t.Setenv("OPENAI_API_KEY", "sk-openai-test")
	t.Setenv("ANTHROPIC_API_KEY", "sk-ant-test")
	t.Setenv("OPENAI_BASE_URL", f.openai.URL+"/v1")
	t.Setenv("ANTHROPIC_BASE_URL", f.anthropic.URL)
	dir := t.TempDir()
	addr, logs, stop := startServe(t, "../../examples/cross-vendor.yaml", "--trace", dir+"/t.db", "--shadow-out", dir+"/shadow.jsonl")

	client := openai.NewClient(option.WithBaseURL("http://"+addr+"/v1"), option.WithAPIKey("unused"))
	var resp *http.Response
	completion, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/extract-order",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.UserMessage("Ticket: I ordered two KB-1 keyboards, order AB-123456, paid 59.90. Extract the order."),
		},
	}, option.WithResponseInto(&resp))
	if err != nil {
		t.Fatalf("openai-go: %v\n%s", err, logs.String())
	}
	if got := completion.Choices[0].Message.Content; got != orderJSON {
		t.Errorf("answer %q, want Claude's order JSON", got)
	}
	h := resp.Header
	if h.Get("X-Clearbar-Model") != "sonnet" || h.Get("X-Clearbar-Attempts") != "2" || h.Get("X-Clearbar-Category") != "extract-order" {
		t.Errorf("decision headers: model %q attempts %q category %q", h.Get("X-Clearbar-Model"), h.Get("X-Clearbar-Attempts"), h.Get("X-Clearbar-Category"))
	}
	if completion.Usage.PromptTokens != 130 || completion.Usage.CompletionTokens != 45 {
		t.Errorf("usage %+v: want Claude's, in OpenAI's accounting", completion.Usage)
	}
	if f.n("gpt-4.1-nano") != 1 || f.n("claude-sonnet-4-5") != 1 {
		t.Errorf("upstream calls %v: want nano once, then Claude once", f.calls)
	}
	if v := f.anthropicHeaders.Get("Anthropic-Version"); v == "" {
		t.Error("the Anthropic adapter sent no anthropic-version")
	}
	code, out, errOut := run(t, "explain", h.Get("X-Clearbar-Decision-Id"), "--url", "http://"+addr)
	if code != 0 || !strings.Contains(out, "escalated after failed validation") || !strings.Contains(out, "answered by sonnet on anthropic") || !strings.Contains(out, "FAIL JSON Schema schemas/order.json") {
		t.Errorf("explain: exit %d\n%s%s", code, out, errOut)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
}
