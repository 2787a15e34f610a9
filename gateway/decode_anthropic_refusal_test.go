package gateway

import (
	"testing"
)

// TestDecodeAnthropicRefusal: the decoded request carries the error the translation into
// Anthropic's form gives what it refuses, and names what the Anthropic and Gemini adapters
// drop from the answer (logprobs, audio output), for routing to leave those models out.
func TestDecodeAnthropicRefusal(t *testing.T) {
	const user = `{"role":"user","content":"hi"}`
	for _, tc := range []struct {
		name, body     string
		param, answers string
	}{
		{"text", `{"model":"m","messages":[` + user + `]}`, "", ""},
		{"n 1", `{"model":"m","n":1,"messages":[` + user + `]}`, "", ""},
		{"n 2", `{"model":"m","n":2,"messages":[` + user + `]}`, "n", ""},
		{"image", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]}`, "", ""},
		{"audio input", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`, "messages[0].content[0].type", ""},
		{"system image", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]},` + user + `]}`, "messages[0].content[0].type", ""},
		{"custom tool", `{"model":"m","messages":[` + user + `],"tools":[{"type":"custom","custom":{"name":"grammar"}}]}`, "tools[0].type", ""},
		{"custom tool call", `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c1","type":"custom","custom":{"name":"g","input":"x"}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`, "messages[1].tool_calls[0].type", ""},
		{"json_schema without schema", `{"model":"m","messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"out"}}}`, "response_format.json_schema.schema", ""},
		{"function message unanswered", `{"model":"m","functions":[{"name":"f"}],"messages":[` + user + `,{"role":"function","name":"f","content":"x"}]}`, "messages[1].role", ""},
		{"function_call arguments", `{"model":"m","functions":[{"name":"f"}],"messages":[` + user + `,{"role":"assistant","function_call":{"name":"f","arguments":"[1]"}},{"role":"function","name":"f","content":"x"}]}`, "messages[1].function_call.arguments", ""},
		{"logprobs", `{"model":"m","logprobs":true,"top_logprobs":3,"messages":[` + user + `]}`, "", "logprobs"},
		{"logprobs false", `{"model":"m","logprobs":false,"messages":[` + user + `]}`, "", ""},
		{"audio output", `{"model":"m","modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"},"messages":[` + user + `]}`, "", "modalities"},
		{"text output", `{"model":"m","modalities":["text"],"messages":[` + user + `]}`, "", ""},
	} {
		r, err := DecodeChatRequest([]byte(tc.body), DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		param := ""
		if r.AnthropicRefusal != nil {
			param = r.AnthropicRefusal.Param
		}
		if param != tc.param || r.OpenAIAnswer != tc.answers {
			t.Errorf("%s: refusal %v, answer param %q; want refusal of %q, %q", tc.name, r.AnthropicRefusal, r.OpenAIAnswer, tc.param, tc.answers)
		}
	}
}
