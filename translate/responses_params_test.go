package translate

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestResponsesParam: a chat parameter path an error of the chat pipeline names is mapped back
// to the Responses request's own, through the sources ResponsesToChat records.
func TestResponsesParam(t *testing.T) {
	// instructions (chat message 0), input[0] a user message (1), input[1] an assistant
	// message joined by the function_call items input[2] and input[3] (2), input[4] and
	// input[5] their outputs (3, 4), input[6] a function_call alone (5), input[7] its output (6).
	_, echo, err := ResponsesToChat([]byte(`{"model":"m","instructions":"be brief","input":[
		{"role":"user","content":[{"type":"input_text","text":"a"}]},
		{"role":"assistant","content":"let me see"},
		{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
		{"type":"function_call","call_id":"c2","name":"f","arguments":"{}"},
		{"type":"function_call_output","call_id":"c1","output":"r1"},
		{"type":"function_call_output","call_id":"c2","output":"r2"},
		{"type":"function_call","call_id":"c3","name":"f","arguments":"{}"},
		{"type":"function_call_output","call_id":"c3","output":"r3"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	src := echo.Sources
	if len(src) != 7 {
		t.Fatalf("sources %+v", src)
	}
	for param, want := range map[string]string{
		"max_completion_tokens":       "max_output_tokens",
		"max_tokens":                  "max_output_tokens",
		"messages":                    "input",
		"messages[0]":                 "input",
		"messages[0].content":         "input",
		"messages[1].content[0].type": "input[0].content[0].type",
		"messages[1].role":            "input[0].role",
		"messages[2].content":         "input[1].content",
		"messages[2].tool_calls[0].function.arguments": "input[2].arguments",
		"messages[2].tool_calls[1].function.name":      "input[3].name",
		"messages[2].tool_calls[1].id":                 "input[3].call_id",
		"messages[2].tool_calls[1]":                    "input[3]",
		"messages[3].content":                          "input[4].output",
		"messages[4].tool_call_id":                     "input[5].call_id",
		"messages[4].role":                             "input[5]",
		"messages[5]":                                  "input",
		"messages[5].tool_calls[0].function.arguments": "input[6].arguments",
		"messages[6].content":                          "input[7].output",
		"messages[7].content":                          "input",
		"messages[x].content":                          "messages[x].content",
		"tools[2].function.parameters":                 "tools[2].parameters",
		"tools[0].function.name":                       "tools[0].name",
		"tools[0].function":                            "tools[0]",
		"tools[1].type":                                "tools[1].type",
		"response_format":                              "text.format",
		"response_format.type":                         "text.format.type",
		"response_format.json_schema":                  "text.format",
		"response_format.json_schema.name":             "text.format.name",
		"response_format.json_schema.schema":           "text.format.schema",
		"model":                                        "model",
		"":                                             "",
		"temperature":                                  "temperature",
	} {
		if got := ResponsesParam(param, src); got != want {
			t.Errorf("%q: %q, want %q", param, got, want)
		}
	}
	// Without instructions, input[j] is chat message j; a string input is input[0].
	_, echo, err = ResponsesToChat([]byte(`{"model":"m","input":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}`))
	if err != nil || ResponsesParam("messages[1].content", echo.Sources) != "input[1].content" {
		t.Errorf("no instructions: %v %+v", err, echo.Sources)
	}
	_, echo, err = ResponsesToChat([]byte(`{"model":"m","instructions":"","input":"x"}`))
	if err != nil || ResponsesParam("messages[0].content", echo.Sources) != "input[0].content" {
		t.Errorf("string input, empty instructions: %v %+v", err, echo.Sources)
	}
}

// TestResponsesToChatErrors: the translation's own refusals name the parameter, with OpenAI's
// code for a wrong JSON type or a malformed body, its minimum for max_output_tokens, and its
// refusal of a function_call_output answering no function_call.
func TestResponsesToChatErrors(t *testing.T) {
	for _, tc := range []struct{ body, param, code, msg string }{
		{`{"model":"m","input":42}`, "input", "invalid_type", ""},
		{`{"model":"m","input":[42]}`, "input[0]", "invalid_type", ""},
		{`{"model":7,"input":"x"}`, "model", "invalid_type", ""},
		{`{"model":"m","input":"x","stream":"yes"}`, "stream", "invalid_type", ""},
		{`{"model":"m","input":"x","temperature":"hot"}`, "temperature", "invalid_type", ""},
		{`{"model":"m","input":"x","tools":{}}`, "tools", "invalid_type", ""},
		{`{"model":"m","input":[{"role":"user","content":7}]}`, "input[0].content", "invalid_type", ""},
		{`{"model":"m",`, "", "invalid_json", "the request body is not valid JSON"},
		{`[1]`, "", "invalid_json", "the request body must be a JSON object"},
		{`{"model":"m","input":"x","max_output_tokens":0}`, "max_output_tokens", "integer_below_min_value",
			"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 0 instead."},
		{`{"model":"m","input":"x","max_output_tokens":15}`, "max_output_tokens", "integer_below_min_value", ""},
		{`{"model":"m","input":[{"role":"user","content":"a"},{"type":"function_call_output","call_id":"zz","output":"r"}]}`, "input", "",
			"No tool call found for function call output with call_id zz."},
		{`{"model":"m","input":[{"type":"function_call_output","call_id":"c1","output":"r"},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}]}`, "input", "",
			"No tool call found for function call output with call_id c1."},
	} {
		_, _, err := ResponsesToChat([]byte(tc.body))
		if err == nil {
			t.Errorf("%s: no error", tc.body)
			continue
		}
		ce := clearbar.AsError(err)
		if ce.Status != 400 || ce.Param != tc.param || ce.Code != tc.code || tc.msg != "" && ce.Message != tc.msg {
			t.Errorf("%s: status %d param %q code %q message %q", tc.body, ce.Status, ce.Param, ce.Code, ce.Message)
		}
	}
	// What passes: max_output_tokens 16, an output answering an earlier call.
	for _, body := range []string{
		`{"model":"m","input":"x","max_output_tokens":16}`,
		`{"model":"m","input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"r"}]}`,
	} {
		chat, _, err := ResponsesToChat([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
		} else if !gjson.ValidBytes(chat) {
			t.Errorf("%s: %s", body, chat)
		}
	}
}
