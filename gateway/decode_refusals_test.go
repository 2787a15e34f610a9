package gateway

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// What DecodeChatRequest refuses because OpenAI refuses it too: tools that are not function
// (or custom) tools, a json_schema response_format whose schema is not JSON Schema, malformed
// messages and content parts, top-level parameters of the wrong type or outside their values,
// and tool results that answer no call or calls left unanswered. Each is a 400
// invalid_request_error naming the parameter; before, each was a 200 (or, on an Anthropic
// route, a part silently dropped or a misleading error).

const (
	drAsk   = `{"role":"user","content":"Weather in Paris and Rome?"}`
	drCalls = `{"role":"assistant","content":null,"tool_calls":[` +
		`{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
		`{"id":"c2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]}`
	drAnswer1 = `{"role":"tool","tool_call_id":"c1","content":"18°C"}`
	drAnswer2 = `{"role":"tool","tool_call_id":"c2","content":"24°C"}`
	drTool    = `{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}`
	drMsgs    = `"messages":[` + drAsk + `]`
)

// drMsg is a request whose messages are msgs, after the tools.
func drMsg(msgs ...string) string {
	return `"tools":[` + drTool + `],"messages":[` + strings.Join(msgs, ",") + `]`
}

func TestDecodeRefusesWhatOpenAIRefuses(t *testing.T) {
	long := strings.Repeat("k", 65)
	var meta17 strings.Builder
	for i := range 17 {
		if i > 0 {
			meta17.WriteByte(',')
		}
		meta17.WriteString(`"k` + string(rune('a'+i)) + `":"v"`)
	}
	tests := []struct {
		explanation string
		fields      string // the body's fields after model
		param, code string
		message     string // a part of the message
	}{
		// 1. tools.
		{"a tool that is a string", `"tools":["f"],` + drMsgs, "tools[0]", "invalid_type", "Invalid type for 'tools[0]': expected an object, but got a string instead."},
		{"a tool of an unknown type", `"tools":[{"type":"bogus","function":{"name":"f"}}],` + drMsgs, "tools[0].type", "invalid_value", `Invalid value for 'tools[0].type': "bogus". Supported values are: 'function' and 'custom'.`},
		{"a tool without a type", `"tools":[{"function":{"name":"f"}}],` + drMsgs, "tools[0].type", "missing_required_parameter", ""},
		{"an empty tools array", `"tools":[],` + drMsgs, "tools", "empty_array", "Invalid 'tools': empty array."},
		{"a function name with a space", `"tools":[` + drTool + `,{"type":"function","function":{"name":"get weather"}}],` + drMsgs, "tools[1].function.name", "invalid_value", "^[a-zA-Z0-9_-]{1,64}$"},
		{"a function name of 65 characters", `"tools":[{"type":"function","function":{"name":"` + long + `"}}],` + drMsgs, "tools[0].function.name", "string_above_max_length", "maximum length 64"},
		{"a function tool without a name", `"tools":[{"type":"function","function":{}}],` + drMsgs, "tools[0].function.name", "missing_required_parameter", ""},
		{"a function tool without its function", `"tools":[{"type":"function"}],` + drMsgs, "tools[0].function", "missing_required_parameter", ""},
		{"a custom tool whose name has a dot", `"tools":[{"type":"custom","custom":{"name":"a.b"}}],` + drMsgs, "tools[0].custom.name", "invalid_value", ""},
		// 2. response_format json_schema's schema.
		{"a json_schema schema with a misspelt type", `"response_format":{"type":"json_schema","json_schema":{"name":"order","strict":true,"schema":{"type":"objekt"}}},` + drMsgs,
			"response_format.json_schema.schema", "invalid_value", "Invalid schema for response_format 'order': at '/type'"},
		{"a json_schema schema that is a string", `"response_format":{"type":"json_schema","json_schema":{"name":"order","schema":"{}"}},` + drMsgs,
			"response_format.json_schema.schema", "invalid_type", "expected an object"},
		{"json_schema strict as a string", `"response_format":{"type":"json_schema","json_schema":{"name":"order","strict":"yes","schema":{"type":"object"}}},` + drMsgs,
			"response_format.json_schema.strict", "invalid_type", ""},
		// 3. messages and content parts.
		{"a content part of an unknown type", `"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"bogus"}]}]`,
			"messages[0].content[1].type", "invalid_value", `"bogus". Supported values are: 'text', 'image_url', 'input_audio', 'file' and 'refusal'.`},
		{"a content part without a type", `"messages":[{"role":"user","content":[{"text":"a"}]}]`, "messages[0].content[0].type", "missing_required_parameter", ""},
		{"a text part without text", `"messages":[{"role":"user","content":[{"type":"text"}]}]`, "messages[0].content[0].text", "missing_required_parameter", "Missing required parameter: 'messages[0].content[0].text'."},
		{"a refusal part without refusal", `"messages":[` + drAsk + `,{"role":"assistant","content":[{"type":"refusal"}]}]`, "messages[1].content[0].refusal", "missing_required_parameter", ""},
		{"a user message without content", `"messages":[{"role":"user"}]`, "messages[0].content", "missing_required_parameter", ""},
		{"a system message without content", `"messages":[{"role":"system"},` + drAsk + `]`, "messages[0].content", "missing_required_parameter", ""},
		{"a user message with content null", `"messages":[{"role":"user","content":null}]`, "messages[0].content", "invalid_type", "but got null instead"},
		{"empty content", `"messages":[{"role":"user","content":[]}]`, "messages[0].content", "empty_array", "Invalid 'messages[0].content': empty array."},
		{"an assistant message with neither content nor tool_calls", `"messages":[` + drAsk + `,{"role":"assistant"},` + drAsk + `]`, "messages[1].content", "missing_required_parameter", "unless it has tool_calls"},
		{"an assistant message with content null and no calls", `"messages":[` + drAsk + `,{"role":"assistant","content":null,"tool_calls":[]},` + drAsk + `]`, "messages[1].content", "missing_required_parameter", ""},
		{"a tool message without content", drMsg(drAsk, drCalls, `{"role":"tool","tool_call_id":"c1"}`, drAnswer2), "messages[2].content", "missing_required_parameter", ""},
		{"tool_calls that is an object", `"messages":[` + drAsk + `,{"role":"assistant","content":"x","tool_calls":{"id":"c1"}}]`, "messages[1].tool_calls", "invalid_type", "expected an array"},
		{"a tool call that is a string", drMsg(drAsk, `{"role":"assistant","content":null,"tool_calls":["c1"]}`), "messages[1].tool_calls[0]", "invalid_type", "expected an object"},
		{"tool-call arguments that are an object", drMsg(drAsk, `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}`, drAnswer1),
			"messages[1].tool_calls[0].function.arguments", "invalid_type", "expected a string, but got an object instead"},
		{"a tool call without arguments", drMsg(drAsk, `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather"}}]}`, drAnswer1),
			"messages[1].tool_calls[0].function.arguments", "missing_required_parameter", ""},
		{"a tool call without an id", drMsg(drAsk, `{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{}"}}]}`),
			"messages[1].tool_calls[0].id", "missing_required_parameter", ""},
		// 4. top-level parameters.
		{"seed as a string", `"seed":"42",` + drMsgs, "seed", "invalid_type", "expected an integer, but got a string instead"},
		{"seed as a decimal", `"seed":4.2,` + drMsgs, "seed", "invalid_type", ""},
		{"user as a number", `"user":42,` + drMsgs, "user", "invalid_type", "expected a string"},
		{"metadata as an array", `"metadata":["a"],` + drMsgs, "metadata", "invalid_type", "expected an object"},
		{"a metadata value that is a number", `"metadata":{"team":7},` + drMsgs, "metadata.team", "invalid_type", "expected a string"},
		{"seventeen metadata keys", `"metadata":{` + meta17.String() + `},` + drMsgs, "metadata", "object_above_max_properties", "at most 16 properties, but got an object with 17"},
		{"a metadata key of 65 characters", `"metadata":{"` + long + `":"v"},` + drMsgs, "metadata", "string_above_max_length", "maximum length 64"},
		{"a metadata value of 513 characters", `"metadata":{"team":"` + strings.Repeat("v", 513) + `"},` + drMsgs, "metadata.team", "string_above_max_length", "maximum length 512"},
		{"logit_bias as an array", `"logit_bias":[1],` + drMsgs, "logit_bias", "invalid_type", "expected an object"},
		{"a logit_bias that is a string", `"logit_bias":{"50256":"-100"},` + drMsgs, "logit_bias.50256", "invalid_type", "expected a number"},
		{"a logit_bias above 100", `"logit_bias":{"50256":101},` + drMsgs, "logit_bias.50256", "decimal_above_max_value", ""},
		{"parallel_tool_calls as a string", `"parallel_tool_calls":"false",` + drMsgs, "parallel_tool_calls", "invalid_type", "expected a boolean"},
		{"an unknown reasoning_effort", `"reasoning_effort":"extreme",` + drMsgs, "reasoning_effort", "invalid_value", "'none', 'minimal', 'low', 'medium', 'high', 'xhigh' and 'max'"},
		{"reasoning_effort as a number", `"reasoning_effort":1,` + drMsgs, "reasoning_effort", "invalid_type", ""},
		{"an unknown service_tier", `"service_tier":"gold",` + drMsgs, "service_tier", "invalid_value", "'auto', 'default', 'flex', 'scale' and 'priority'"},
		// 5. tool results and the calls they answer.
		{"a tool message with no call before it", drMsg(drAsk, drAnswer1), "messages[1].role", "invalid_value",
			"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."},
		{"a tool message after a user message that follows the calls", drMsg(drAsk, drCalls, drAnswer1, drAsk, drAnswer2), "messages", "invalid_value",
			"The following tool_call_ids did not have response messages: c2"},
		{"a tool message answering an id no call has", drMsg(drAsk, drCalls, drAnswer1, drAnswer2, `{"role":"tool","tool_call_id":"c9","content":"x"}`), "messages[4].tool_call_id", "invalid_value",
			"'tool_call_id' of 'c9' not found in 'tool_calls' of previous message."},
		{"calls left unanswered before the next user message", drMsg(drAsk, drCalls, drAsk), "messages", "invalid_value",
			"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: c1, c2"},
		{"one of two calls answered, at the end of the history", drMsg(drAsk, drCalls, drAnswer2), "messages", "invalid_value", "did not have response messages: c1"},
	}
	strict := DefaultLimits
	strict.ToolNames = true
	for _, tt := range tests {
		r, err := DecodeChatRequest([]byte(`{"model":"m",`+tt.fields+`}`), strict)
		var e *clearbar.Error
		if !errors.As(err, &e) || r != nil {
			t.Errorf("%s: %v; want a 400", tt.explanation, err)
			continue
		}
		if e.Status != 400 || e.Class != clearbar.ClientError || e.Type != "invalid_request_error" || e.Param != tt.param || e.Code != tt.code ||
			!strings.Contains(e.Message, tt.message) {
			t.Errorf("%s: %d %s param %q code %q: %s; want param %q code %q with %q", tt.explanation, e.Status, e.Type, e.Param, e.Code, e.Message, tt.param, tt.code, tt.message)
		}
	}
}

// TestDecodeAcceptsWhatOpenAIAccepts: next to each refusal, what OpenAI and the SDKs send
// legitimately still decodes.
func TestDecodeAcceptsWhatOpenAIAccepts(t *testing.T) {
	var meta16 strings.Builder
	for i := range 16 {
		if i > 0 {
			meta16.WriteByte(',')
		}
		meta16.WriteString(`"` + strings.Repeat(string(rune('a'+i)), 64) + `":"` + strings.Repeat("é", 512) + `"`)
	}
	tests := []struct{ explanation, fields string }{
		{"a custom tool beside a function", `"tools":[{"type":"custom","custom":{"name":"run_sql","description":"Runs a query"}},` + drTool + `],` + drMsgs},
		{"a valid json_schema", `"response_format":{"type":"json_schema","json_schema":{"name":"order","strict":true,"schema":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"],"additionalProperties":false}}},` + drMsgs},
		{"a json_schema without schema, or null", `"response_format":{"type":"json_schema","json_schema":{"name":"order","schema":null}},` + drMsgs},
		{"parallel calls answered in order", drMsg(drAsk, drCalls, drAnswer1, drAnswer2)},
		{"parallel calls answered out of order, then a new turn", drMsg(drAsk, drCalls, drAnswer2, drAnswer1, `{"role":"assistant","content":"Paris 18°C, Rome 24°C."}`, drAsk)},
		{"two rounds of calls", drMsg(drAsk, drCalls, drAnswer1, drAnswer2,
			`{"role":"assistant","content":"More?","tool_calls":[{"id":"c3","type":"function","function":{"name":"get_weather","arguments":"{}"}}]}`,
			`{"role":"tool","tool_call_id":"c3","content":[{"type":"text","text":"20°C"}]}`)},
		{"a custom tool call answered", `"tools":[{"type":"custom","custom":{"name":"run_sql"}}],"messages":[` + drAsk +
			`,{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"custom","custom":{"name":"run_sql","input":"select 1"}}]},` + drAnswer1 + `]`},
		{"an assistant refusal without content", `"messages":[` + drAsk + `,{"role":"assistant","refusal":"I can't.","tool_calls":null,"function_call":null},` + drAsk + `]`},
		{"the deprecated functions, answered by a function message", `"functions":[{"name":"get_weather"}],"messages":[` + drAsk +
			`,{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},{"role":"function","name":"get_weather","content":"18°C"}]`},
		{"content parts of every type", `"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_text","text":"b"},` +
			`{"type":"image_url","image_url":{"url":"https://example.com/a.png"}},{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},` +
			`{"type":"file","file":{"file_data":"data:application/pdf;base64,AAAA","filename":"a.pdf"}}]},` +
			`{"role":"assistant","content":[{"type":"text","text":"x"},{"type":"refusal","refusal":"no"},{"type":"output_text","text":"y"}]},` + drAsk + `]`},
		{"an empty string content", `"messages":[{"role":"system","content":""},{"role":"user","content":""}]`},
		{"a system message with content null (recorded requests have it)", `"messages":[{"role":"system","content":null},{"role":"developer","content":null},` + drAsk + `]`},
		{"typed top-level parameters", `"seed":-9007199254740991,"user":"u-1","metadata":{` + meta16.String() + `},"logit_bias":{"50256":-100,"1":2.5},` +
			`"parallel_tool_calls":false,"reasoning_effort":"max","service_tier":"flex",` + drMsgs},
		{"null top-level parameters", `"seed":null,"user":null,"metadata":null,"logit_bias":null,"parallel_tool_calls":null,"reasoning_effort":null,"service_tier":null,` + drMsgs},
	}
	for _, tt := range tests {
		if _, err := DecodeChatRequest([]byte(`{"model":"m",`+tt.fields+`}`), DefaultLimits); err != nil {
			t.Errorf("%s: %v", tt.explanation, err)
		}
	}
	// A request translated from /v1/messages may name a tool with up to 128 characters, as
	// Anthropic does, and its metadata is Anthropic's, not held to OpenAI's bounds.
	name := strings.Repeat("t", 128)
	body := `{"model":"m","tools":[{"type":"function","function":{"name":"` + name + `"}}],"metadata":{"clearbar_category":"` + strings.Repeat("c", 600) + `"},` + drMsgs + `}`
	if _, err := DecodeChatRequest([]byte(body), Limits{Messages: true, ToolNames: true}); err != nil {
		t.Errorf("a translated request with a tool named with 128 characters: %v", err)
	}
	strict := DefaultLimits
	strict.ToolNames = true
	if _, err := DecodeChatRequest([]byte(body), strict); err == nil {
		t.Error("a chat request with a tool named with 128 characters was accepted")
	}
	// Without Limits.ToolNames (eval and validate data sets), a name only Gemini takes passes;
	// a tool still needs a name.
	dotted := `{"model":"m","tools":[{"type":"function","function":{"name":"math.factorial"}}],` + drMsgs + `}`
	if _, err := DecodeChatRequest([]byte(dotted), DefaultLimits); err != nil {
		t.Errorf("a data set's tool named math.factorial: %v", err)
	}
	if _, err := DecodeChatRequest([]byte(dotted), strict); err == nil {
		t.Error("with ToolNames, a tool named math.factorial was accepted")
	}
	for _, fn := range []string{`{}`, `{"name":""}`, `{"name":7}`} {
		if _, err := DecodeChatRequest([]byte(`{"model":"m","tools":[{"type":"function","function":`+fn+`}],`+drMsgs+`}`), DefaultLimits); err == nil {
			t.Errorf("a function %s was accepted", fn)
		}
	}
}

// TestDecodeRefusalsEndToEnd: on an Anthropic route, a tool that is a string is the 400 naming
// tools[0] (it was "every function tool needs a name", from the translation), and content parts
// of an unknown type are refused rather than dropped; neither reaches an upstream. The Anthropic
// ingress's parallel tool_use / tool_result turns still pass.
func TestDecodeRefusalsEndToEnd(t *testing.T) {
	e := newAntEnv(t, "")
	for _, tt := range []struct{ explanation, body, param string }{
		{"a tool that is a string", `{"model":"clearbar/an","tools":["f"],` + drMsgs + `}`, "tools[0]"},
		{"a content part of an unknown type, to an OpenAI upstream", `{"model":"clearbar/oa","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"bogus","bogus":"x"}]}]}`, "messages[0].content[1].type"},
		{"a content part of an unknown type", `{"model":"clearbar/an","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"bogus","bogus":"x"}]}]}`, "messages[0].content[1].type"},
		{"an unanswered call", `{"model":"clearbar/an",` + drMsg(drAsk, drCalls, drAnswer1) + `}`, "messages"},
	} {
		before := e.an.count() + e.oa.count()
		resp := e.postTo(t, "/v1/chat/completions", tt.body, "Authorization", "Bearer "+antClientKey)
		body := readAll(t, resp)
		if resp.StatusCode != 400 || gjson.GetBytes(body, "error.param").Str != tt.param || gjson.GetBytes(body, "error.type").Str != "invalid_request_error" {
			t.Errorf("%s: %d %s, want a 400 naming %s", tt.explanation, resp.StatusCode, body, tt.param)
		}
		if e.an.count()+e.oa.count() != before {
			t.Errorf("%s: a refused request reached an upstream", tt.explanation)
		}
	}
	// Parallel tool_use answered by tool_result blocks, text after them, then another call
	// answered, on both kinds of upstream; a tool named with 100 characters, as Anthropic allows.
	name := strings.Repeat("w", 100)
	turn := `"messages":[` +
		`{"role":"user","content":"Weather in Paris and Rome?"},` +
		`{"role":"assistant","content":[{"type":"text","text":"Looking."},{"type":"tool_use","id":"toolu_1","name":"` + name + `","input":{"city":"Paris"}},{"type":"tool_use","id":"toolu_2","name":"` + name + `","input":{"city":"Rome"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"24°C"},{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18°C"}],"is_error":false},{"type":"text","text":"And Oslo?"}]},` +
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_3","name":"` + name + `","input":{"city":"Oslo"}}]},` +
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_3","content":"3°C"}]}]`
	tool := `{"name":"` + name + `","input_schema":{"type":"object"}}`
	for _, tt := range []struct{ model, tools string }{
		{"clearbar/an", tool + `,{"type":"web_search_20250305","name":"web_search"}`}, // a server tool too
		{"clearbar/oa", tool},
	} {
		model := tt.model
		resp := e.post(t, `{"model":"`+model+`","max_tokens":64,"tools":[`+tt.tools+`],`+turn+`}`)
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Errorf("%s: a translated tool turn: %d %s", model, resp.StatusCode, body)
		}
	}
}

// benchAgentTurn is an agent's turn: tools, parallel calls and their results, content parts
// and the typed parameters an SDK sends.
const benchAgentTurn = `{"model":"clearbar/chat","seed":7,"user":"u-42","metadata":{"team":"support"},"parallel_tool_calls":true,"reasoning_effort":"low",` +
	`"service_tier":"auto","logit_bias":{"50256":-100},"tools":[` + drTool + `],"messages":[{"role":"system","content":"Be brief."},` +
	`{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]},` +
	drCalls + `,` + drAnswer1 + `,` + drAnswer2 + `,{"role":"assistant","content":"Paris 18°C, Rome 24°C."},` + drAsk + `]}`

// BenchmarkDecodeChatRequestAgentTurn: what the checks of an agent's turn cost the ingress.
func BenchmarkDecodeChatRequestAgentTurn(b *testing.B) {
	body := []byte(benchAgentTurn)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChatRequest(body, DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
