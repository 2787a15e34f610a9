package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
)

// functionsRequest is a request offering the deprecated functions, as the gateway decodes it.
func functionsRequest(body string) *clearbar.Request {
	return &clearbar.Request{
		Dialect:    clearbar.DialectOpenAI,
		Model:      "alias",
		Messages:   []clearbar.Message{{Role: "user", Text: "Weather?"}},
		Tools:      []clearbar.Tool{{Name: "get_weather", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice: "get_weather",
		Functions:  true,
		Body:       []byte(body),
	}
}

// TestFunctionCallAnswer: an answer in the deprecated form has its call among the choice's
// ToolCalls (validators judge it), and its body reaches the client unchanged.
func TestFunctionCallAnswer(t *testing.T) {
	const answer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,` +
		`"message":{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
		`"finish_reason":"function_call"}],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}`
	var sent []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeOpenAI, "k-000000000001")
	body := `{"model":"alias","messages":[{"role":"user","content":"Weather?"}],"functions":[{"name":"get_weather","description":"d","parameters":{"type":"object"}}],"function_call":{"name":"get_weather"}}`
	resp, err := p.Complete(context.Background(), &clearbar.Call{Request: functionsRequest(body), Model: "gpt-4o"})
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	want := clearbar.ToolCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}
	if len(c.ToolCalls) != 1 || c.ToolCalls[0] != want || c.FinishReason != "function_call" || c.Text != "" {
		t.Errorf("choice %+v: want the call %+v and finish_reason function_call", c, want)
	}
	if string(resp.Body) != answer {
		t.Errorf("body %s, want the upstream's", resp.Body)
	}
	// The functions go upstream as the client sent them, and nothing is added from Tools.
	if gjson.GetBytes(sent, "tools").Exists() || gjson.GetBytes(sent, "tool_choice").Exists() ||
		gjson.GetBytes(sent, "functions").Raw != gjson.Get(body, "functions").Raw || gjson.GetBytes(sent, "function_call.name").Str != "get_weather" {
		t.Errorf("sent %s: want the client's functions and function_call, no tools", sent)
	}
}

// TestCanonicalFunctions: a request built in code whose tools are functions is sent with
// functions and function_call, so that the upstream answers in their form.
func TestCanonicalFunctions(t *testing.T) {
	for _, tt := range []struct{ choice, want string }{
		{"get_weather", `{"name":"get_weather"}`}, {"auto", `"auto"`}, {"none", `"none"`}, {"", ""}, {"required", ""},
	} {
		req := functionsRequest("")
		req.ToolChoice = tt.choice
		b, err := (&Provider{typ: TypeOpenAI}).upstreamBody(&clearbar.Call{Request: req, Model: "m"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if gjson.GetBytes(b, "tools").Exists() || gjson.GetBytes(b, "tool_choice").Exists() ||
			gjson.GetBytes(b, "functions").Raw != `[{"name":"get_weather","description":"d","parameters":{"type":"object"}}]` ||
			gjson.GetBytes(b, "function_call").Raw != tt.want {
			t.Errorf("choice %q: body %s; want functions and function_call %s, no tools", tt.choice, b, tt.want)
		}
	}
}

// TestFunctionCallChunks: a stream in the deprecated form passes as it came, with its finish
// reason.
func TestFunctionCallChunks(t *testing.T) {
	var cp chunkParser
	var c clearbar.Chunk
	for _, data := range []string{
		`{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":""}},"finish_reason":null}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{"function_call":{"arguments":"{\"city\":\"Paris\"}"}},"finish_reason":null}]}`,
		`{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"function_call"}]}`,
	} {
		if kind, _ := cp.parse([]byte(data), &c); kind != chunkData || string(c.Data) != data {
			t.Errorf("chunk %s: kind %d, data %s; want it delivered unchanged", data, kind, c.Data)
		}
	}
	if c.FinishReason != "function_call" {
		t.Errorf("finish reason %q", c.FinishReason)
	}
}
