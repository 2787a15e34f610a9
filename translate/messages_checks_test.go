package translate

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
)

// TestMessagesAnthropicChecks: /v1/messages refuses what Anthropic's API refuses, in its
// terms: a tool name outside its pattern, an empty message other than a final assistant
// prefill, and a tool_choice naming no tool of the request.
func TestMessagesAnthropicChecks(t *testing.T) {
	const tools = `"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]`
	for _, tt := range []struct {
		name, body, param, message string
	}{
		{"a tool name with a space", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"bad name!","input_schema":{"type":"object"}}]}`,
			"tools[0].name", `tools[0].name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$' (got "bad name!")`},
		{"a tool name of 129 characters", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"` + strings.Repeat("a", 129) + `","input_schema":{"type":"object"}}]}`,
			"tools[0].name", "String should match pattern"},
		{"an empty user message", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":""}]}`,
			"messages[0].content", "messages.0: all messages must have non-empty content except for the optional final assistant message"},
		{"an empty block list", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[]},{"role":"user","content":"more"}]}`,
			"messages[1].content", "messages.1: all messages must have non-empty content"},
		{"an empty assistant turn before the last", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":""},{"role":"user","content":"more"}]}`,
			"messages[1].content", "messages.1: all messages must have non-empty content"},
		{"tool_choice naming no tool", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],` + tools + `,"tool_choice":{"type":"tool","name":"nope"}}`,
			"tool_choice.name", `tool_choice.name: "nope" is not the name of a tool in tools (get_weather)`},
	} {
		_, err := ToOpenAIRequest([]byte(tt.body), OpenAIOptions{})
		e := clearbar.AsError(err)
		if err == nil || e.Status != 400 || e.Param != tt.param || !strings.Contains(e.Message, tt.message) {
			t.Errorf("%s: error %v (param %q); want a 400 on %s saying %q", tt.name, err, e.Param, tt.param, tt.message)
		}
	}
	for _, ok := range []struct{ name, body string }{
		{"an empty final assistant prefill", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":""}]}`},
		{"a tool name with digits, _ and -", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"get-weather_2","input_schema":{"type":"object"}}]}`},
		{"tool_choice naming a tool", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],` + tools + `,"tool_choice":{"type":"tool","name":"get_weather"}}`},
		{"tool_choice naming a server tool", `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"tool","name":"web_search"}}`},
	} {
		if _, err := ToOpenAIRequest([]byte(ok.body), OpenAIOptions{}); err != nil {
			t.Errorf("%s: refused: %v", ok.name, err)
		}
	}
}
