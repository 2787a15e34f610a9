package translate

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

func TestResponsesToChat(t *testing.T) {
	body := `{"model":"m","instructions":"sys","input":[
		{"role":"developer","content":"dev"},
		{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"https://x/i.png","detail":"low"}]},
		{"role":"assistant","content":[{"type":"output_text","text":"b"}]},
		{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
		{"type":"function_call","call_id":"c2","name":"g","arguments":"{\"x\":1}"},
		{"type":"function_call_output","call_id":"c1","output":"r1"},
		{"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"r2"}]}],
		"max_output_tokens":50,"temperature":0.1,"top_p":0.9,"stream":true,"metadata":{"a":"b"},"store":false,
		"previous_response_id":null,"parallel_tool_calls":false,
		"tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object"},"strict":true}],
		"tool_choice":{"type":"function","name":"f"},
		"text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"},"strict":true}}}`
	chat, echo, err := ResponsesToChat([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c := gjson.ParseBytes(chat)
	checks := map[string]string{
		"model": "m", "messages.#": "6", "messages.0.role": "system", "messages.0.content": "sys",
		"messages.1.role": "developer", "messages.2.content.0.text": "a", "messages.2.content.1.image_url.url": "https://x/i.png",
		"messages.2.content.1.image_url.detail": "low", "messages.3.content": "b", "messages.3.tool_calls.#": "2",
		"messages.3.tool_calls.1.id": "c2", "messages.3.tool_calls.1.function.arguments": `{"x":1}`,
		"messages.4.role": "tool", "messages.4.tool_call_id": "c1", "messages.4.content": "r1", "messages.5.content": "r2",
		"max_completion_tokens": "50", "temperature": "0.1", "top_p": "0.9", "stream": "true", "stream_options.include_usage": "true",
		"metadata.a": "b", "parallel_tool_calls": "false", "tools.0.type": "function", "tools.0.function.name": "f",
		"tools.0.function.strict": "true", "tool_choice.function.name": "f", "response_format.type": "json_schema",
		"response_format.json_schema.name": "s", "store": "", "previous_response_id": "",
	}
	for path, want := range checks {
		if got := c.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q (%s)", path, got, want, chat)
		}
	}
	if string(echo.Instructions) != `"sys"` || string(echo.Metadata) != `{"a":"b"}` {
		t.Errorf("echo %+v", echo)
	}
	if c.Get("messages.5.tool_call_id").Str != "c2" {
		t.Errorf("messages %s", c.Get("messages").Raw)
	}
}

func TestResponsesToChatRefuses(t *testing.T) {
	tests := []struct{ body, param string }{
		{`{"model":"m","input":"x","previous_response_id":"resp_1"}`, "previous_response_id"},
		{`{"model":"m","input":"x","store":true}`, "store"},
		{`{"model":"m","input":"x","background":true}`, "background"},
		{`{"model":"m","input":"x","reasoning":{"summary":"auto"}}`, "reasoning"},
		{`{"model":"m","input":"x","conversation":"c"}`, "conversation"},
		{`{"model":"m","input":"x","include":["x"]}`, "include"},
		{`{"model":"m","input":"x","truncation":"auto"}`, "truncation"},
		{`{"model":"m","input":"x","tools":[{"type":"web_search"}]}`, "tools[0].type"},
		{`{"model":"m","input":"x","tools":[{"type":"function","name":"f","defer_loading":true}]}`, "tools[0].defer_loading"},
		{`{"model":"m","input":[{"type":"reasoning","id":"r"}]}`, "input[0].type"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, "input[0].content[0].type"},
		{`{"model":"m","input":[{"role":"tool","content":"x"}]}`, "input[0].role"},
		{`{"model":"m","input":"x","text":{"verbosity":"loud"}}`, "text.verbosity"},
		{`{"model":"m"}`, "input"},
		{`{"model":"m","input":"x","stream_options":{"include_usage":true}}`, "stream_options.include_usage"},
	}
	for _, tt := range tests {
		_, _, err := ResponsesToChat([]byte(tt.body))
		e := clearbar.AsError(err)
		if err == nil || e.Class != clearbar.ClientError || e.Status != 400 || e.Param != tt.param || e.Message == "" {
			t.Errorf("%s: %v (param %q), want param %q", tt.body, err, e.Param, tt.param)
		}
	}
}

func TestToResponsesResponse(t *testing.T) {
	chat := `{"id":"c","object":"chat.completion","created":7,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi",
		"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"length"}],
		"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}}}`
	out, err := ToResponsesResponse([]byte(chat), "D", ResponsesEcho{})
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(out)
	checks := map[string]string{
		"id": "resp_D", "object": "response", "created_at": "7", "model": "up", "status": "incomplete",
		"incomplete_details.reason": "max_output_tokens", "output.#": "2", "output.0.type": "message", "output.0.id": "msg_D",
		"output.0.content.0.type": "output_text", "output.0.content.0.text": "hi", "output.1.type": "function_call",
		"output.1.call_id": "call_1", "output.1.name": "f", "usage.input_tokens": "3", "usage.output_tokens": "2",
		"usage.total_tokens": "5", "usage.input_tokens_details.cached_tokens": "1", "usage.output_tokens_details.reasoning_tokens": "1",
		"tool_choice": "auto", "parallel_tool_calls": "true", "store": "false", "text.format.type": "text",
	}
	for path, want := range checks {
		if got := r.Get(path).String(); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
}

func TestResponsesEvents(t *testing.T) {
	var types []string
	var datas []gjson.Result
	e := NewResponsesEvents(func(ev string, data []byte) error {
		types = append(types, ev)
		d := gjson.ParseBytes(append([]byte(nil), data...))
		if d.Get("type").Str != ev || d.Get("sequence_number").Int() != int64(len(datas)) {
			t.Errorf("event %s: %s", ev, data)
		}
		datas = append(datas, d)
		return nil
	}, "D", ResponsesEcho{})
	chunks := []string{
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":"He"},"finish_reason":null}]}`,
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"llo"},"finish_reason":null}]}`,
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"k","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}`,
		`{"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}`,
		`{"id":"c","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}`,
	}
	for _, c := range chunks {
		if err := e.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.End(); err != nil {
		t.Fatal(err)
	}
	want := "response.created response.in_progress response.output_item.added response.content_part.added " +
		"response.output_text.delta response.output_text.delta response.output_text.done response.content_part.done " +
		"response.output_item.done response.output_item.added response.function_call_arguments.delta " +
		"response.function_call_arguments.delta response.function_call_arguments.done response.output_item.done response.completed"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	last := datas[len(datas)-1].Get("response")
	if last.Get("status").Str != "completed" || last.Get("output.0.content.0.text").Str != "Hello" || last.Get("output.1.arguments").Str != `{"a":1}` ||
		last.Get("output.1.call_id").Str != "k" || last.Get("output.1.output_index").Exists() || last.Get("usage.total_tokens").Int() != 7 || last.Get("model").Str != "up" {
		t.Errorf("completed %s", last.Raw)
	}
	if e.Fail("server_error", "x") != nil || len(types) != 15 {
		t.Errorf("Fail after End wrote an event")
	}

	// A failure before any chunk still opens the stream.
	types, datas = nil, nil
	e = NewResponsesEvents(func(ev string, data []byte) error {
		types = append(types, ev)
		datas = append(datas, gjson.ParseBytes(append([]byte(nil), data...)))
		return nil
	}, "D", ResponsesEcho{})
	e.Fail("server_error", "boom")
	if strings.Join(types, " ") != "response.created response.in_progress response.failed" || datas[2].Get("response.error.message").Str != "boom" ||
		datas[2].Get("response.status").Str != "failed" {
		t.Errorf("failed stream %v", types)
	}
}
