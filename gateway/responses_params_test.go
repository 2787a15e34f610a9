package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// postResponses sends a raw /v1/responses body to the gateway with the client key.
func postResponses(t *testing.T, e *e2e, body string) (int, gjson.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v1/responses", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+clientKey)
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, gjson.ParseBytes(b)
}

// TestResponsesErrorsNameResponsesParams: a /v1/responses request the chat pipeline refuses is
// answered naming the Responses parameter the client sent, in param and in the message, never
// the chat completions parameter it was translated into; the translation's own refusals carry
// OpenAI's codes. Before the fix, each named max_completion_tokens, messages,
// tools[0].function.parameters or response_format.json_schema.name, or had the code
// unsupported_value.
func TestResponsesErrorsNameResponsesParams(t *testing.T) {
	e := newE2E(t, setup{})
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	cases := []struct {
		name, body, param, code, msg string
	}{
		{"max_output_tokens too large", `{"model":"clearbar/chat","input":"x","max_output_tokens":99999999}`,
			"max_output_tokens", "invalid_value", "max_output_tokens is too large: 99999999."},
		{"max_output_tokens 0", `{"model":"clearbar/chat","input":"x","max_output_tokens":0}`,
			"max_output_tokens", "integer_below_min_value", "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 0 instead."},
		{"max_output_tokens a string", `{"model":"clearbar/chat","input":"x","max_output_tokens":"many"}`,
			"max_output_tokens", "invalid_type", "'max_output_tokens'"},
		{"tool parameters", `{"model":"clearbar/chat","input":"x","tools":[{"type":"function","name":"f","parameters":{"type":"objekt"}}]}`,
			"tools[0].parameters", "invalid_function_parameters", "Invalid schema for function 'f'"},
		{"json_schema without name", `{"model":"clearbar/chat","input":"x","text":{"format":{"type":"json_schema","schema":{"type":"object"}}}}`,
			"text.format.name", "missing_required_parameter", "Missing required parameter: 'text.format.name'."},
		{"input a number", `{"model":"clearbar/chat","input":42}`, "input", "invalid_type", "input must be"},
		{"malformed JSON", `{"model":"clearbar/chat",`, "", "invalid_json", "not valid JSON"},
		{"not an object", `[]`, "", "invalid_json", "must be a JSON object"},
		{"empty input", `{"model":"clearbar/chat","input":[]}`, "input", "missing_required_parameter", "input is required"},
		{"output without its call", `{"model":"clearbar/chat","input":[{"role":"user","content":"hi"},{"type":"function_call_output","call_id":"zz","output":"r"}]}`,
			"input", "", "No tool call found for function call output with call_id zz."},
		// instructions are chat message 0, so the output, input[1], is chat message 2.
		{"output too deep, after instructions", `{"model":"clearbar/chat","instructions":"be brief","input":[
			{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
			{"type":"function_call_output","call_id":"c1","output":"` + deep + `"}]}`,
			"input[1].output", "invalid_value", "Invalid value for 'input[1].output'"},
		{"arguments too deep", `{"model":"clearbar/chat","input":[{"role":"user","content":"hi"},
			{"type":"function_call","call_id":"c1","name":"f","arguments":"` + deep + `"},
			{"type":"function_call_output","call_id":"c1","output":"r"}]}`,
			"input[1].arguments", "invalid_value", "Invalid value for 'input[1].arguments'"},
	}
	for _, tc := range cases {
		status, body := postResponses(t, e, tc.body)
		er := body.Get("error")
		if status != 400 || er.Get("type").Str != "invalid_request_error" || er.Get("param").Str != tc.param || er.Get("code").Str != tc.code ||
			!strings.Contains(er.Get("message").Str, tc.msg) {
			t.Errorf("%s: status %d error %s", tc.name, status, er.Raw)
		}
		for _, chat := range []string{"max_completion_tokens", "messages", "function.", "response_format", "unsupported_value"} {
			if strings.Contains(er.Raw, chat) {
				t.Errorf("%s: the error names %s: %s", tc.name, chat, er.Raw)
			}
		}
	}
	if n := len(e.up.received()); n != 0 {
		t.Errorf("%d upstream calls", n)
	}
	// The chat completions endpoint still names its own parameters.
	resp := e.post(t, context.Background(), `{"model":"clearbar/chat","messages":[{"role":"user","content":"x"}],"max_completion_tokens":99999999}`)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || gjson.GetBytes(b, "error.param").Str != "max_completion_tokens" {
		t.Errorf("chat: status %d %s", resp.StatusCode, b)
	}
	// max_output_tokens 16 and an output answering its call are served.
	if status, body := postResponses(t, e, `{"model":"clearbar/chat","input":[{"role":"user","content":"hi"},
		{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
		{"type":"function_call_output","call_id":"c1","output":"r"}],"max_output_tokens":16}`); status != 200 {
		t.Errorf("valid request: status %d %s", status, body.Raw)
	}
}
