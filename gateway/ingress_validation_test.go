package gateway_test

// What POST /v1/chat/completions refuses before routing because OpenAI refuses it too, so that
// a client gets the same 400 naming the parameter whichever upstream its route reaches (an
// OpenAI-compatible one, Anthropic, Gemini or Azure OpenAI, which would otherwise each do
// something different with it: ignore it, drop it, or answer a question that was never asked),
// and what the SDKs legitimately send that must still pass.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// worldRoutes are a healthy category of each kind of upstream of the world.
var worldRoutes = []string{"clearbar/oa", "clearbar/an", "clearbar/ge", "clearbar/az"}

// postWorldChat sends a raw chat completions body to the world's gateway with the client key.
func postWorldChat(t *testing.T, w *world, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", w.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+worldClientKey)
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// A tool-call turn: the user asks, the assistant calls get_weather (call_1); extra is the tool
// message answering it, without its closing brace.
const (
	ingressTools   = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	ingressAsk     = `{"role":"user","content":"Weather in Paris?"}`
	ingressCall    = `{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`
	ingressToolMsg = `{"role":"tool","content":"18°C, sunny"`
)

// TestChatIngressRejectsWhatOpenAIRejects: each request is a 400 invalid_request_error whose
// param names the offending parameter (with its index path), on every kind of upstream, and
// reaches none of them. Before the fix all of them but the named function were 200s.
func TestChatIngressRejectsWhatOpenAIRejects(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	const toolTurn = `"messages":[` + ingressAsk + `,` + ingressCall + `,` + ingressToolMsg
	long := strings.Repeat("a", 65)
	tests := []struct {
		explanation string
		fields      string // the body's fields after model
		param, code string
		message     string // a part of the message
	}{
		// 1. tool_choice that needs a tool, in a request without one.
		{"tool_choice required without tools: the upstream would drop it or answer in text",
			`"tool_choice":"required",` + msgs, "tool_choice", "invalid_value", "tool_choice requires tools"},
		{"tool_choice required with an empty tools array is still a request without tools",
			`"tools":[],"tool_choice":"required",` + msgs, "tool_choice", "invalid_value", "tool_choice requires tools"},
		{"a named function without tools says the same",
			`"tool_choice":{"type":"function","function":{"name":"get_weather"}},` + msgs, "tool_choice", "invalid_value", "tool_choice requires tools"},
		// 2. tool messages need the id of the call they answer.
		{"a tool message without tool_call_id: no upstream can pair it with its call",
			ingressTools + `,` + toolTurn + `}]`, "messages[2].tool_call_id", "missing_required_parameter", "messages[2].tool_call_id"},
		{"tool_call_id null is as missing",
			ingressTools + `,` + toolTurn + `,"tool_call_id":null}]`, "messages[2].tool_call_id", "missing_required_parameter", "tool_call_id of the call it answers"},
		{"an empty tool_call_id names no call",
			ingressTools + `,` + toolTurn + `,"tool_call_id":""}]`, "messages[2].tool_call_id", "missing_required_parameter", ""},
		{"tool_call_id as a number is the wrong type",
			ingressTools + `,` + toolTurn + `,"tool_call_id":1}]`, "messages[2].tool_call_id", "invalid_type", "expected a string"},
		// 3. response_format types OpenAI does not have.
		{"response_format type xml is not a format",
			`"response_format":{"type":"xml"},` + msgs, "response_format.type", "invalid_value", "'text', 'json_object' and 'json_schema'"},
		{"response_format without a type",
			`"response_format":{},` + msgs, "response_format.type", "missing_required_parameter", "'text', 'json_object' and 'json_schema'"},
		{"response_format as a string is the wrong type",
			`"response_format":"json_object",` + msgs, "response_format", "invalid_type", ""},
		// 4. json_schema needs its name, ^[a-zA-Z0-9_-]{1,64}$.
		{"json_schema without name: OpenAI requires it",
			`"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}},` + msgs, "response_format.json_schema.name", "missing_required_parameter", ""},
		{"a json_schema name with a space does not match the pattern",
			`"response_format":{"type":"json_schema","json_schema":{"name":"my schema","schema":{"type":"object"}}},` + msgs, "response_format.json_schema.name", "invalid_value", "^[a-zA-Z0-9_-]{1,64}$"},
		{"an empty json_schema name (openai-go's zero value) does not match the pattern",
			`"response_format":{"type":"json_schema","json_schema":{"name":"","schema":{"type":"object"}}},` + msgs, "response_format.json_schema.name", "invalid_value", ""},
		{"a json_schema name of 65 characters is too long",
			`"response_format":{"type":"json_schema","json_schema":{"name":"` + long + `","schema":{"type":"object"}}},` + msgs, "response_format.json_schema.name", "string_above_max_length", "maximum length 64"},
		{"a json_schema name that is not a string",
			`"response_format":{"type":"json_schema","json_schema":{"name":7,"schema":{"type":"object"}}},` + msgs, "response_format.json_schema.name", "invalid_type", ""},
		{"type json_schema without the json_schema object",
			`"response_format":{"type":"json_schema"},` + msgs, "response_format.json_schema", "missing_required_parameter", ""},
		// 5. stop: at most 4 strings.
		{"five stop sequences: OpenAI takes four",
			`"stop":["a","b","c","d","e"],` + msgs, "stop", "array_above_max_length", "maximum length 4, but got an array with length 5"},
		{"stop as a number",
			`"stop":5,` + msgs, "stop", "invalid_type", ""},
		{"a stop sequence that is not a string names its index",
			`"stop":["a",1],` + msgs, "stop[1]", "invalid_type", ""},
		// 6. top_logprobs: 0–20, and only with logprobs: true.
		{"top_logprobs above 20",
			`"logprobs":true,"top_logprobs":21,` + msgs, "top_logprobs", "integer_above_max_value", "<= 20"},
		{"negative top_logprobs",
			`"logprobs":true,"top_logprobs":-1,` + msgs, "top_logprobs", "integer_below_min_value", ">= 0"},
		{"top_logprobs without logprobs",
			`"top_logprobs":5,` + msgs, "top_logprobs", "invalid_value", "only allowed when logprobs is true"},
		{"top_logprobs with logprobs false",
			`"logprobs":false,"top_logprobs":5,` + msgs, "top_logprobs", "invalid_value", "only allowed when logprobs is true"},
		{"logprobs as a string is the wrong type",
			`"logprobs":"yes",` + msgs, "logprobs", "invalid_type", ""},
		// 7. stream_options only with stream: true.
		{"stream_options without stream",
			`"stream_options":{"include_usage":true},` + msgs, "stream_options", "invalid_value", "stream_options is only allowed when stream is true"},
		{"stream_options with stream false",
			`"stream":false,"stream_options":{"include_usage":true},` + msgs, "stream_options", "invalid_value", "stream_options is only allowed when stream is true"},
	}
	for _, model := range worldRoutes {
		for _, tt := range tests {
			before := w.upstreamCount()
			status, body := postWorldChat(t, w, `{"model":"`+model+`",`+tt.fields+`}`)
			e := gjson.GetBytes(body, "error")
			if status != 400 || e.Get("param").Str != tt.param || e.Get("code").Str != tt.code || e.Get("type").Str != "invalid_request_error" ||
				!strings.Contains(e.Get("message").Str, tt.message) {
				t.Errorf("%s, %s: %d %s, want 400 param %q code %q with %q", model, tt.explanation, status, body, tt.param, tt.code, tt.message)
			}
			if after := w.upstreamCount(); after != before {
				t.Errorf("%s, %s: a refused request reached an upstream", model, tt.explanation)
			}
		}
	}
}

// TestChatIngressAcceptsWhatSDKsSend: the values next to the refused ones that the SDKs (and
// OpenAI) accept still route and are answered, on every kind of upstream.
func TestChatIngressAcceptsWhatSDKsSend(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		explanation string
		fields      string
	}{
		{"stream_options null without stream, as openai-node serializes an unset option", `"stream_options":null,` + msgs},
		{"stream_options with stream true", `"stream":true,"stream_options":{"include_usage":true},` + msgs},
		{"stop null", `"stop":null,` + msgs},
		{"stop as one string", `"stop":"x",` + msgs},
		{"four stop sequences, OpenAI's most", `"stop":["a","b","c","d"],` + msgs},
		{"response_format text", `"response_format":{"type":"text"},` + msgs},
		{"response_format json_object", `"response_format":{"type":"json_object"},` + msgs},
		{"response_format null", `"response_format":null,` + msgs},
		{"a json_schema name of 64 letters, digits, underscores and dashes",
			`"response_format":{"type":"json_schema","json_schema":{"name":"` + strings.Repeat("Ab9_-", 12) + `abcd","schema":{"type":"object","properties":{"id":{"type":"string"}}}}},` + msgs},
		{"logprobs true with top_logprobs 0", `"logprobs":true,"top_logprobs":0,` + msgs},
		{"logprobs true with top_logprobs 20", `"logprobs":true,"top_logprobs":20,` + msgs},
		{"top_logprobs null without logprobs", `"top_logprobs":null,` + msgs},
		{"tool_choice auto with tools", ingressTools + `,"tool_choice":"auto",` + msgs},
		{"tool_choice none with tools", ingressTools + `,"tool_choice":"none",` + msgs},
		{"tool_choice required with tools", ingressTools + `,"tool_choice":"required",` + msgs},
	}
	for _, model := range worldRoutes {
		for _, tt := range tests {
			if status, body := postWorldChat(t, w, `{"model":"`+model+`",`+tt.fields+`}`); status != 200 {
				t.Errorf("%s, %s: %d %s", model, tt.explanation, status, body)
			}
		}
	}
	// A tool message with its tool_call_id, answering the call before it. Gemini 3 refuses a
	// function call that comes back without its thought signature, which this hand-written
	// history lacks (openai_world_sdk_test.go covers Gemini's tool turns), so its route is
	// left out here.
	turn := ingressTools + `,"messages":[` + ingressAsk + `,` + ingressCall + `,` + ingressToolMsg + `,"tool_call_id":"call_1"}]`
	for _, model := range []string{"clearbar/oa", "clearbar/an", "clearbar/az"} {
		if status, body := postWorldChat(t, w, `{"model":"`+model+`",`+turn+`}`); status != 200 {
			t.Errorf("%s, a tool message with its tool_call_id: %d %s", model, status, body)
		}
	}
}

// TestSDKIngressValidation: openai-go, as a program uses it, gets each refusal as an
// *openai.Error with the param, which it does not retry; and the same requests made right pass.
func TestSDKIngressValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	client := openai.NewClient(option.WithBaseURL(w.srv.URL+"/v1"), option.WithAPIKey(worldClientKey),
		option.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
	ctx := context.Background()
	weather := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather"})
	tests := []struct {
		explanation string
		params      openai.ChatCompletionNewParams
		set         []option.RequestOption
		param       string // "" when the request must pass
	}{
		{"tool_choice required without tools",
			openai.ChatCompletionNewParams{ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}, nil, "tool_choice"},
		{"tool_choice required with tools passes",
			openai.ChatCompletionNewParams{Tools: []openai.ChatCompletionToolUnionParam{weather},
				ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}}, nil, ""},
		{"a tool message whose tool_call_id was left out",
			openai.ChatCompletionNewParams{Tools: []openai.ChatCompletionToolUnionParam{weather}, Messages: []openai.ChatCompletionMessageParamUnion{
				openai.UserMessage("Weather in Paris?"),
				{OfAssistant: &openai.ChatCompletionAssistantMessageParam{ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID: "call_1", Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}}},
				openai.ToolMessage("18°C", "call_1"),
			}}, []option.RequestOption{option.WithJSONDel("messages.2.tool_call_id")}, "messages[2].tool_call_id"},
		{"response_format xml",
			openai.ChatCompletionNewParams{}, []option.RequestOption{option.WithJSONSet("response_format", map[string]any{"type": "xml"})}, "response_format.type"},
		{"a json_schema format without its name (openai-go sends the zero value, \"\")",
			openai.ChatCompletionNewParams{ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{
				JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{Schema: map[string]any{"type": "object"}}}}}, nil, "response_format.json_schema.name"},
		{"a json_schema format with its name passes",
			openai.ChatCompletionNewParams{ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{
				JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{Name: "answer", Schema: map[string]any{"type": "object"}}}}}, nil, ""},
		{"five stop sequences",
			openai.ChatCompletionNewParams{Stop: openai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"a", "b", "c", "d", "e"}}}, nil, "stop"},
		{"one stop string passes",
			openai.ChatCompletionNewParams{Stop: openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("x")}}, nil, ""},
		{"top_logprobs 21",
			openai.ChatCompletionNewParams{Logprobs: openai.Bool(true), TopLogprobs: openai.Int(21)}, nil, "top_logprobs"},
		{"top_logprobs without logprobs",
			openai.ChatCompletionNewParams{TopLogprobs: openai.Int(3)}, nil, "top_logprobs"},
		{"logprobs with top_logprobs 0 passes",
			openai.ChatCompletionNewParams{Logprobs: openai.Bool(true), TopLogprobs: openai.Int(0)}, nil, ""},
		{"stream_options on a request that is not streamed",
			openai.ChatCompletionNewParams{StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}}, nil, "stream_options"},
	}
	for _, tt := range tests {
		p := tt.params
		p.Model = "clearbar/oa"
		if p.Messages == nil {
			p.Messages = userMessage("hi")
		}
		var attempts attemptLog
		_, err := client.Chat.Completions.New(ctx, p, append(tt.set, attempts.option())...)
		if tt.param == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.explanation, err)
			}
			continue
		}
		var ae *openai.Error
		if !errors.As(err, &ae) {
			t.Errorf("%s: error %v, want a 400 naming %s", tt.explanation, err, tt.param)
			continue
		}
		if ae.StatusCode != 400 || ae.Param != tt.param || ae.Type != "invalid_request_error" {
			t.Errorf("%s: status %d param %q type %q, want 400 %q", tt.explanation, ae.StatusCode, ae.Param, ae.Type, tt.param)
		}
		if len(attempts.statuses) != 1 {
			t.Errorf("%s: %d attempts, want 1", tt.explanation, len(attempts.statuses))
		}
	}
}
