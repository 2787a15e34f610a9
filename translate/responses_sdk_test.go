package translate

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// What the openai SDK's helpers and ordinary Responses clients send, that /v1/responses
// refused though it can serve it: include reasoning.encrypted_content (the SDK's
// ResponsesToolRunner sends it on every request), an assistant message's refusal part (a
// response's own output sent back), the chat parameters of the same name, truncation
// "disabled", text.verbosity, max_tool_calls, and tool_choice allowed_tools.

// responsesOK translates body, failing the test on an error, and returns the chat request.
func responsesOK(t *testing.T, body string) (gjson.Result, ResponsesEcho) {
	t.Helper()
	chat, echo, err := ResponsesToChat([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return gjson.ParseBytes(chat), echo
}

// responsesRefused translates body, wanting a 400 naming param whose message has each of
// words.
func responsesRefused(t *testing.T, body, param string, words ...string) {
	t.Helper()
	_, _, err := ResponsesToChat([]byte(body))
	e := clearbar.AsError(err)
	if err == nil || e.Class != clearbar.ClientError || e.Status != 400 || e.Param != param {
		t.Errorf("%s: %v (param %q), want a 400 naming %q", body, err, e.Param, param)
		return
	}
	for _, w := range words {
		if !strings.Contains(e.Message, w) {
			t.Errorf("%s: message %q, want it to contain %q", body, e.Message, w)
		}
	}
}

func TestResponsesInclude(t *testing.T) {
	for _, inc := range []string{`["reasoning.encrypted_content"]`, `[]`, `null`, `["reasoning.encrypted_content","reasoning.encrypted_content"]`} {
		c, _ := responsesOK(t, `{"model":"m","input":"x","include":`+inc+`}`)
		if c.Get("include").Exists() {
			t.Errorf("include %s reached the chat request: %s", inc, c.Raw)
		}
	}
	// What the ResponsesToolRunner sends on its first request.
	responsesOK(t, `{"model":"m","input":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"},"strict":false}],"include":["reasoning.encrypted_content"]}`)

	responsesRefused(t, `{"model":"m","input":"x","include":["message.output_text.logprobs"]}`, "include", "message.output_text.logprobs", "log probabilities")
	responsesRefused(t, `{"model":"m","input":"x","include":["reasoning.encrypted_content","web_search_call.results"]}`, "include", "web_search_call.results", "include[1]")
	responsesRefused(t, `{"model":"m","input":"x","include":["message.input_image.image_url"]}`, "include", "message.input_image.image_url")
	responsesRefused(t, `{"model":"m","input":"x","include":["x"]}`, "include", `"x"`)
	responsesRefused(t, `{"model":"m","input":"x","include":"reasoning.encrypted_content"}`, "include", "array")
	responsesRefused(t, `{"model":"m","input":"x","include":[1]}`, "include", "strings")
}

func TestResponsesAssistantRefusal(t *testing.T) {
	c, echo := responsesOK(t, `{"model":"m","input":[{"role":"user","content":"q"},
		{"type":"message","role":"assistant","content":[{"type":"refusal","refusal":"no"}]},
		{"role":"user","content":"please"}]}`)
	m := c.Get("messages.1")
	if m.Get("role").Str != "assistant" || m.Get("refusal").Str != "no" || m.Get("content").Exists() {
		t.Errorf("assistant message %s, want refusal \"no\" and no content", m.Raw)
	}
	if len(echo.Sources) != 3 || echo.Sources[1].Item != 1 {
		t.Errorf("sources %+v", echo.Sources)
	}
	// A message item as a response holds it: its text and its refusal.
	c, _ = responsesOK(t, `{"model":"m","input":[{"role":"user","content":"q"},
		{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[
			{"type":"output_text","text":"I can say ","annotations":[],"logprobs":[]},{"type":"refusal","refusal":"that I won't"}]}]}`)
	m = c.Get("messages.1")
	if m.Get("content").Str != "I can say " || m.Get("refusal").Str != "that I won't" {
		t.Errorf("assistant message %s", m.Raw)
	}
	c, _ = responsesOK(t, `{"model":"m","input":[{"role":"assistant","content":[{"type":"output_text","text":"b"}]},{"role":"user","content":"q"}]}`)
	if m := c.Get("messages.0"); m.Get("content").Str != "b" || m.Get("refusal").Exists() {
		t.Errorf("assistant message %s", m.Raw)
	}

	responsesRefused(t, `{"model":"m","input":[{"role":"assistant","content":[{"type":"refusal"}]}]}`, "input[0].content[0].refusal")
	responsesRefused(t, `{"model":"m","input":[{"role":"assistant","content":[{"type":"input_image","image_url":"https://x/i.png"}]}]}`, "input[0].content[0].type", "input_image")
	// A refusal is the model's: a system or developer message holding one is refused still.
	responsesRefused(t, `{"model":"m","input":[{"role":"developer","content":[{"type":"refusal","refusal":"no"}]}]}`, "input[0].content[0].type", "refusal")
	responsesRefused(t, `{"model":"m","input":[{"role":"user","content":[{"type":"refusal","refusal":"no"}]}]}`, "input[0].content[0].type", "refusal")
}

func TestResponsesChatParams(t *testing.T) {
	c, echo := responsesOK(t, `{"model":"m","input":"x","service_tier":"flex","safety_identifier":"u-1","prompt_cache_key":"k","prompt_cache_retention":"24h",
		"truncation":"disabled","text":{"format":{"type":"text"},"verbosity":"low"},"max_tool_calls":3}`)
	checks := map[string]string{
		"service_tier": "flex", "safety_identifier": "u-1", "prompt_cache_key": "k", "prompt_cache_retention": "24h",
		"verbosity": "low", "truncation": "", "max_tool_calls": "", "text": "", "response_format": "",
	}
	for path, want := range checks {
		if got := c.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q (%s)", path, got, want, c.Raw)
		}
	}
	// The response object repeats them, but service_tier: a response's is the tier that served it.
	out, err := ToResponsesResponse([]byte(`{"id":"x","model":"m","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`), "d1", echo)
	if err != nil {
		t.Fatal(err)
	}
	o := gjson.ParseBytes(out)
	for path, want := range map[string]string{"safety_identifier": "u-1", "prompt_cache_key": "k", "prompt_cache_retention": "24h",
		"max_tool_calls": "3", "truncation": "disabled", "text.verbosity": "low", "service_tier": ""} {
		if got := o.Get(path).String(); got != want {
			t.Errorf("response %s = %q, want %q", path, got, want)
		}
	}
	// Events repeat them too.
	var created string
	ev := NewResponsesEvents(func(name string, data []byte) error {
		if name == "response.created" {
			created = string(data)
		}
		return nil
	}, "d1", echo)
	if err := ev.Chunk([]byte(`{"id":"x","model":"m","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`)); err != nil {
		t.Fatal(err)
	}
	if got := gjson.Get(created, "response.prompt_cache_key").Str; got != "k" {
		t.Errorf("response.created %s: want prompt_cache_key", created)
	}

	// A null member counts as absent; null verbosity too.
	c, _ = responsesOK(t, `{"model":"m","input":"x","service_tier":null,"truncation":null,"text":{"verbosity":null},"max_tool_calls":null,"top_logprobs":null}`)
	if c.Get("service_tier").Exists() || c.Get("verbosity").Exists() {
		t.Errorf("chat %s", c.Raw)
	}
	c, _ = responsesOK(t, `{"model":"m","input":"x","max_tool_calls":1}`)
	if c.Get("max_tool_calls").Exists() {
		t.Errorf("max_tool_calls reached the chat request: %s", c.Raw)
	}

	responsesRefused(t, `{"model":"m","input":"x","truncation":"auto"}`, "truncation", "never drops input", `"disabled"`)
	responsesRefused(t, `{"model":"m","input":"x","truncation":"sometimes"}`, "truncation", "sometimes")
	responsesRefused(t, `{"model":"m","input":"x","top_logprobs":2}`, "top_logprobs", "log probabilities")
	responsesRefused(t, `{"model":"m","input":"x","top_logprobs":0}`, "top_logprobs")
	responsesRefused(t, `{"model":"m","input":"x","max_tool_calls":0}`, "max_tool_calls", ">= 1")
	responsesRefused(t, `{"model":"m","input":"x","max_tool_calls":1.5}`, "max_tool_calls", "integer")
	responsesRefused(t, `{"model":"m","input":"x","text":{"verbosity":"loud"}}`, "text.verbosity", "loud")
	responsesRefused(t, `{"model":"m","input":"x","safety_identifier":7}`, "safety_identifier", "string")
	responsesRefused(t, `{"model":"m","input":"x","prompt_cache_key":{}}`, "prompt_cache_key", "string")
	if got := ResponsesParam("verbosity", nil); got != "text.verbosity" {
		t.Errorf("ResponsesParam(verbosity) = %q", got)
	}
}

func TestResponsesAllowedTools(t *testing.T) {
	tools := `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}},{"type":"function","name":"get_time","parameters":{"type":"object"}}]`
	choice := `{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"get_weather"}]}`
	// tool_choice before tools, and after.
	for _, body := range []string{
		`{"model":"m","input":"x",` + tools + `,"tool_choice":` + choice + `}`,
		`{"model":"m","input":"x","tool_choice":` + choice + `,` + tools + `}`,
	} {
		c, echo := responsesOK(t, body)
		tc := c.Get("tool_choice")
		if tc.Get("type").Str != "allowed_tools" || tc.Get("allowed_tools.mode").Str != "auto" ||
			tc.Get("allowed_tools.tools.#").Int() != 1 || tc.Get("allowed_tools.tools.0.type").Str != "function" ||
			tc.Get("allowed_tools.tools.0.function.name").Str != "get_weather" || tc.Get("mode").Exists() || tc.Get("tools").Exists() {
			t.Errorf("tool_choice %s, want chat's allowed_tools form", tc.Raw)
		}
		if string(echo.ToolChoice) != choice {
			t.Errorf("echo %s, want the Responses form", echo.ToolChoice)
		}
	}
	c, _ := responsesOK(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"get_time"},{"type":"function","name":"get_weather"}]}}`)
	if c.Get("tool_choice.allowed_tools.mode").Str != "required" || c.Get("tool_choice.allowed_tools.tools.1.function.name").Str != "get_weather" {
		t.Errorf("tool_choice %s", c.Get("tool_choice").Raw)
	}

	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"nope"}]}}`, "tool_choice.tools[0].name", "nope")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"image_generation"}]}}`, "tool_choice.tools[0].type", "image_generation")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"any","tools":[{"type":"function","name":"get_time"}]}}`, "tool_choice.mode", "any")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}}`, "tool_choice.tools")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"auto"}}`, "tool_choice.tools")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"get_time"}],"extra":1}}`, "tool_choice.extra")
	responsesRefused(t, `{"model":"m","input":"x",`+tools+`,"tool_choice":{"type":"mcp","server_label":"x"}}`, "tool_choice", "allowed_tools")
}
