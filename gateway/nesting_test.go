package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/translate"
)

// nestedArrays returns n arrays nested around 1.
func nestedArrays(n int) string { return strings.Repeat("[", n) + "1" + strings.Repeat("]", n) }

// nestingEndpoints are the ingress endpoints, each with a body whose deepest value is n
// arrays nested inside levels containers of the request itself. /v1/messages takes
// translate.MaxRequestDepth levels, the others jsonguard.MaxDepth.
var nestingEndpoints = []struct {
	path   string
	levels int
	body   func(n int) string
}{
	{"/v1/chat/completions", 1, func(n int) string {
		return `{"model":"clearbar/intent","messages":[{"role":"user","content":"hello"}],"x":` + nestedArrays(n) + `}`
	}},
	// A tool_use block's input: root, messages, message, content, block, input.
	{"/v1/messages", 6, func(n int) string {
		return `{"model":"clearbar/intent","max_tokens":10,"messages":[{"role":"user","content":"hello"},` +
			`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":` + nestedArrays(n) + `}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}]}`
	}},
	// A parameter the translation carries in its sidecar, two levels deeper.
	{"/v1/messages", 2, func(n int) string {
		return `{"model":"clearbar/intent","max_tokens":10,"messages":[{"role":"user","content":"hello"}],"context_management":{"edits":` + nestedArrays(n) + `}}`
	}},
	{"/v1/messages/count_tokens", 6, func(n int) string {
		return `{"model":"clearbar/intent","messages":[{"role":"user","content":"hello"},` +
			`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":` + nestedArrays(n) + `}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}]}`
	}},
	{"/v1/embeddings", 1, func(n int) string { return `{"model":"embed","input":"hello","x":` + nestedArrays(n) + `}` }},
}

// errorOf reads the error of an OpenAI-shaped or Anthropic-shaped error body.
func errorOf(t *testing.T, body []byte) (typ, code, msg string) {
	t.Helper()
	var e struct {
		Error struct{ Type, Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %.300s: %v", body, err)
	}
	return e.Error.Type, e.Error.Code, e.Error.Message
}

func postPath(t *testing.T, f *fixture, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp)
}

// TestNestedBodies: on every ingress, a body nested as deep as the limit is read as any other
// (on /v1/messages, also when the translation's sidecar holds part of it two levels deeper);
// one level more is OpenAI's 400 invalid_json (Anthropic's invalid_request_error on
// /v1/messages), saying the limit; and ten million levels, which overflowed gjson's validator's
// stack and killed the process, are refused the same way, at once.
func TestNestedBodies(t *testing.T) {
	f := newFixture(t, nil)
	for _, ep := range nestingEndpoints {
		limit := jsonguard.MaxDepth
		if strings.HasPrefix(ep.path, "/v1/messages") {
			limit = translate.MaxRequestDepth
		}
		resp, body := postPath(t, f, ep.path, ep.body(limit-ep.levels))
		if _, code, msg := errorOf(t, body); resp.StatusCode != http.StatusOK && ep.path != "/v1/embeddings" || code == "invalid_json" || strings.Contains(msg, "levels deep") {
			t.Errorf("%s at the limit: %d %.300s", ep.path, resp.StatusCode, body)
		}
		for _, n := range []int{limit - ep.levels + 1, 10_000_000} {
			start := time.Now()
			resp, body := postPath(t, f, ep.path, ep.body(n))
			took := time.Since(start)
			typ, code, msg := errorOf(t, body)
			anthropic := strings.HasPrefix(ep.path, "/v1/messages")
			if resp.StatusCode != http.StatusBadRequest || typ != "invalid_request_error" || !anthropic && code != "invalid_json" ||
				!strings.Contains(msg, fmt.Sprintf("nests arrays and objects more than %d levels deep", limit)) {
				t.Errorf("%s, %d levels: %d %s %s %q; want a 400 invalid_request_error invalid_json saying the limit", ep.path, n+ep.levels, resp.StatusCode, typ, code, msg)
			}
			// Not a speed target (those are benchmarks): a scan that is not linear in the
			// body would take hours on ten million levels, a linear one well under this even
			// under -race on a busy machine.
			if took > 30*time.Second {
				t.Errorf("%s, %d levels: took %v, as a scan that is not linear would", ep.path, n+ep.levels, took)
			}
		}
	}
}

// TestNestedText: tool-call arguments and tool results are JSON in a string, which adapters
// parse (Gemini's args and functionResponse, Anthropic's tool_use input): nested deeper than
// jsonguard.MaxDepth, they are a 400 naming the parameter.
func TestNestedText(t *testing.T) {
	deep, ok := nestedArrays(jsonguard.MaxDepth+1), nestedArrays(jsonguard.MaxDepth)
	call := func(args string) string {
		return `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"` + args + `"}}]},` +
			`{"role":"tool","tool_call_id":"c1","content":"done"}]}`
	}
	fn := func(args string) string {
		return `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"` + args + `"}}]}`
	}
	result := func(text string) string {
		return `{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
			`{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"` + text + `"}]}]}`
	}
	tests := []struct {
		explanation, body, param string
	}{
		{"tool-call arguments at the limit", call(ok), ""},
		{"tool-call arguments too deep", call(deep), "messages[1].tool_calls[0].function.arguments"},
		{"a function_call's arguments too deep", fn(deep), "messages[1].function_call.arguments"},
		{"a tool result at the limit", result(ok), ""},
		{"a tool result too deep", result(deep), "messages[2].content"},
		{"ten million levels of arguments", call(nestedArrays(10_000_000)), "messages[1].tool_calls[0].function.arguments"},
	}
	for _, tt := range tests {
		_, err := DecodeChatRequest([]byte(tt.body), DefaultLimits)
		if tt.param == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.explanation, err)
			}
			continue
		}
		var e *clearbar.Error
		if !errors.As(err, &e) || e.Status != 400 || e.Type != "invalid_request_error" || e.Param != tt.param || !strings.Contains(e.Message, "more than 512 levels deep") {
			t.Errorf("%s: %v, want a 400 on %s", tt.explanation, err, tt.param)
		}
	}
}
