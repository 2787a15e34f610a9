package translate

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestToAnthropicRefuses checks every request Anthropic cannot express: a ClientError naming
// the parameter, never a silent change of meaning.
func TestToAnthropicRefuses(t *testing.T) {
	user := `{"role":"user","content":"x"}`
	tests := []struct {
		explanation, body, param string
	}{
		{"n > 1 asks for several choices", `{"model":"m","n":2,"messages":[` + user + `]}`, "n"},
		{"audio input", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}`, "messages[0].content[0].type"},
		{"a file by OpenAI file id", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "messages[0].content[0].file.file_id"},
		{"a non-PDF file", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/csv;base64,YQ=="}}]}]}`, "messages[0].content[0].file.file_data"},
		{"an image that is neither http nor data", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/a.png"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"a data URL that is not base64", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"tool-call arguments that are not an object", `{"model":"m","messages":[` + user + `,{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[1].tool_calls[0].function.arguments"},
		{"a tool message without its call id", `{"model":"m","messages":[` + user + `,{"role":"tool","content":"r"}]}`, "messages[1].tool_call_id"},
		{"a deprecated function message answering no function_call", `{"model":"m","messages":[{"role":"function","name":"f","content":"r"}]}`, "messages[0].role"},
		{"a custom tool", `{"model":"m","messages":[` + user + `],"tools":[{"type":"custom","custom":{"name":"c"}}]}`, "tools[0].type"},
		{"allowed_tools", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}}`, "tool_choice.type"},
		{"an unknown tool_choice", `{"model":"m","messages":[` + user + `],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes"}`, "tool_choice"},
		{"json_schema without a schema", `{"model":"m","messages":[` + user + `],"response_format":{"type":"json_schema","json_schema":{"name":"n"}}}`, "response_format.json_schema.schema"},
		{"an unknown response_format", `{"model":"m","messages":[` + user + `],"response_format":{"type":"grammar"}}`, "response_format.type"},
		{"max_tokens that is not a positive integer", `{"model":"m","messages":[` + user + `],"max_tokens":1.5}`, "max_tokens"},
		{"messages that are not an array", `{"model":"m","messages":{}}`, "messages"},
		{"system parts that are not text", `{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]},` + user + `]}`, "messages[0].content[0].type"},
	}
	for _, tt := range tests {
		_, err := ToAnthropicRequest([]byte(tt.body), AnthropicOptions{})
		checkClientError(t, tt.explanation, err, tt.param)
	}
}

// TestToOpenAIRefuses checks every Anthropic request the OpenAI format cannot express.
func TestToOpenAIRefuses(t *testing.T) {
	head := `{"model":"c","max_tokens":10,`
	user := `{"role":"user","content":"x"}`
	tests := []struct {
		explanation, body, param, version string
	}{
		{"max_tokens is required by Anthropic", `{"model":"c","messages":[` + user + `]}`, "max_tokens", ""},
		{"model is required", `{"max_tokens":1,"messages":[` + user + `]}`, "model", ""},
		{"messages are required", head + `"messages":[]}`, "messages", ""},
		{"temperature is an error with 2026-10-21", head + `"temperature":0.5,"messages":[` + user + `]}`, "temperature", Version20261021},
		{"top_p is an error with 2026-10-21", head + `"top_p":0.5,"messages":[` + user + `]}`, "top_p", Version20261021},
		{"top_k is an error with 2026-10-21", head + `"top_k":5,"messages":[` + user + `]}`, "top_k", Version20261021},
		{"an image in an assistant message", head + `"messages":[` + user + `,{"role":"assistant","content":[{"type":"image","source":{"type":"url","url":"https://x"}}]}]}`, "messages[1].content[0].type", ""},
		{"an unknown role", head + `"messages":[{"role":"tool","content":"x"}]}`, "messages[0].role", ""},
		{"a block without a type", head + `"messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type", ""},
		{"a tool result block without a type", head + `"messages":[` + user + `,{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"text":"x"}]}]}]}`, "messages[2].content[0].content[0].type", ""},
		{"a bad output_config.format", head + `"output_config":{"format":{"type":"regex"}},"messages":[` + user + `]}`, "output_config.format", ""},
		// Wrong types and Anthropic's ranges.
		{"tools that are not a list", head + `"tools":"x","messages":[` + user + `]}`, "tools", ""},
		{"a text block whose text is a number", head + `"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`, "messages[0].content[0].text", ""},
		{"an assistant text block whose text is a number", head + `"messages":[` + user + `,{"role":"assistant","content":[{"type":"text","text":5}]}]}`, "messages[1].content[0].text", ""},
		{"a system block whose text is a number", head + `"system":[{"type":"text","text":5}],"messages":[` + user + `]}`, "system[0].text", ""},
		{"a tool result whose text is a number", head + `"messages":[` + user + `,{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":5}]}]}]}`, "messages[2].content[0].content[0].text", ""},
		{"stop_sequences that are not a list", head + `"stop_sequences":"x","messages":[` + user + `]}`, "stop_sequences", ""},
		{"a stop sequence that is not a string", head + `"stop_sequences":["a",2],"messages":[` + user + `]}`, "stop_sequences.1", ""},
		{"temperature above 1", head + `"temperature":1.5,"messages":[` + user + `]}`, "temperature", ""},
		{"negative temperature", head + `"temperature":-0.1,"messages":[` + user + `]}`, "temperature", ""},
		{"temperature as a string", head + `"temperature":"hot","messages":[` + user + `]}`, "temperature", ""},
		{"top_p above 1", head + `"top_p":2,"messages":[` + user + `]}`, "top_p", ""},
		{"a fractional top_k", head + `"top_k":1.5,"messages":[` + user + `]}`, "top_k", ""},
		{"stream as a string", head + `"stream":"yes","messages":[` + user + `]}`, "stream", ""},
	}
	for _, tt := range tests {
		_, err := ToOpenAIRequest([]byte(tt.body), OpenAIOptions{Version: tt.version})
		checkClientError(t, tt.explanation, err, tt.param)
	}
	// An unknown role names the message in the message too, as Anthropic's errors do.
	_, err := ToOpenAIRequest([]byte(head+`"messages":[`+user+`,{"role":"assistant","content":"y"},`+user+`,{"role":"wizard","content":"x"}]}`), OpenAIOptions{})
	if e := clearbar.AsError(err); e.Param != "messages[3].role" || !strings.HasPrefix(e.Message, "messages[3].role: ") || !strings.Contains(e.Message, `"wizard"`) {
		t.Errorf("an unknown role: param %q message %q", e.Param, e.Message)
	}
	// 2023-06-01 takes the sampling parameters.
	if _, err := ToOpenAIRequest([]byte(head+`"temperature":0.5,"top_p":0.5,"top_k":5,"messages":[`+user+`]}`), OpenAIOptions{Version: Version20230601}); err != nil {
		t.Errorf("2023-06-01 with sampling parameters: %v", err)
	}
}

// jsonString returns s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func checkClientError(t *testing.T, explanation string, err error, param string) {
	t.Helper()
	var e *clearbar.Error
	switch {
	case err == nil:
		t.Errorf("%s: no error, want a ClientError for %s", explanation, param)
	case !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Status != http.StatusBadRequest:
		t.Errorf("%s: %v, want a 400 ClientError", explanation, err)
	case e.Param != param:
		t.Errorf("%s: param %q, want %q (%s)", explanation, e.Param, param, e.Message)
	case e.Message == "" || e.Type != ErrInvalidRequest:
		t.Errorf("%s: message %q, type %q", explanation, e.Message, e.Type)
	}
}

// TestToolIDPrefixes: tool-call ids take each format's prefix, call_X in OpenAI's and toolu_X in
// Anthropic's, in requests, answers and streams, so that an Anthropic client sees Anthropic's
// ids and the OpenAI-format route gets its own back; an id with neither prefix (or nothing
// after it) passes unchanged, and an Anthropic upstream's toolu_ id reaches it again as it was.
func TestToolIDPrefixes(t *testing.T) {
	// An Anthropic client's conversation, to the OpenAI format.
	history := func(id string) string {
		return `{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"x"},` +
			`{"role":"assistant","content":[{"type":"tool_use","id":` + jsonString(id) + `,"name":"f","input":{}}]},` +
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":` + jsonString(id) + `,"content":"r"}]}]}`
	}
	for anthropicID, openAIID := range map[string]string{
		"toolu_abc": "call_abc", "toolu_01A09q": "call_01A09q", "fc_1": "fc_1", "toolu_": "toolu_", "t": "t", `toolu_a"b`: `call_a"b`,
	} {
		o, err := ToOpenAIRequest([]byte(history(anthropicID)), OpenAIOptions{})
		if err != nil {
			t.Fatal(err)
		}
		call, result := gjson.GetBytes(o, "messages.1.tool_calls.0.id").Str, gjson.GetBytes(o, "messages.2.tool_call_id").Str
		if call != openAIID || result != openAIID {
			t.Errorf("Anthropic id %q: OpenAI tool call %q, tool message %q, want %q", anthropicID, call, result, openAIID)
		}
		// On to an Anthropic upstream: the id it gave.
		a, err := ToAnthropicRequest(o, AnthropicOptions{})
		if err != nil {
			t.Fatal(err)
		}
		use, res := gjson.GetBytes(a, "messages.1.content.0.id").Str, gjson.GetBytes(a, "messages.2.content.0.tool_use_id").Str
		if use != anthropicID || res != anthropicID {
			t.Errorf("Anthropic id %q back to Anthropic: tool_use %q, tool_result %q", anthropicID, use, res)
		}
	}
	// An OpenAI-format answer, to an Anthropic client.
	for openAIID, anthropicID := range map[string]string{"call_DdmO9": "toolu_DdmO9", "toolu_01A": "toolu_01A", "call_": "call_", "abc": "abc"} {
		body := `{"id":"chatcmpl-1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":` +
			jsonString(openAIID) + `,"type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`
		out, err := ToAnthropicResponse([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, "content.0.id").Str; got != anthropicID {
			t.Errorf("answer: OpenAI id %q is %q in Anthropic's format, want %q", openAIID, got, anthropicID)
		}
		var started string
		s := NewAnthropicEvents(func(typ string, data []byte) error {
			if typ == "content_block_start" {
				started = gjson.GetBytes(data, "content_block.id").Str
			}
			return nil
		})
		s.Chunk([]byte(`{"id":"chatcmpl-1","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":` + jsonString(openAIID) + `,"type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`))
		s.End()
		if started != anthropicID {
			t.Errorf("stream: OpenAI id %q is %q in Anthropic's format, want %q", openAIID, started, anthropicID)
		}
	}
}

// TestSamplingByVersion checks what happens to temperature and top_p per API version, and the
// other request settings that depend on nothing else.
func TestSamplingByVersion(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.7,"top_p":0.25,"max_tokens":7,"max_completion_tokens":9}`
	tests := []struct {
		explanation, version, temperature, topP string
	}{
		{"no version means 2023-06-01: kept, clamped to Anthropic's 0..1", "", "1", "0.25"},
		{"2023-06-01 takes both", Version20230601, "1", "0.25"},
		{"2026-10-21 rejects both, so they are dropped", Version20261021, "", ""},
		{"later versions drop them too", "2027-01-01", "", ""},
	}
	for _, tt := range tests {
		out, err := ToAnthropicRequest([]byte(body), AnthropicOptions{Version: tt.version})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, "temperature").Raw; got != tt.temperature {
			t.Errorf("%s: temperature %q, want %q", tt.explanation, got, tt.temperature)
		}
		if got := gjson.GetBytes(out, "top_p").Raw; got != tt.topP {
			t.Errorf("%s: top_p %q, want %q", tt.explanation, got, tt.topP)
		}
		if got := gjson.GetBytes(out, "max_tokens").Int(); got != 9 {
			t.Errorf("max_completion_tokens wins over max_tokens: got %d", got)
		}
	}
	out, _ := ToAnthropicRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}]}`), AnthropicOptions{MaxTokens: 123})
	if got := gjson.GetBytes(out, "max_tokens").Int(); got != 123 {
		t.Errorf("AnthropicOptions.MaxTokens is the default: got %d", got)
	}
}

// TestWebSearchOptions: OpenAI's web_search_options becomes Anthropic's web search tool,
// after the client's function tools, with its approximate user location; without tools it is
// the only tool.
func TestWebSearchOptions(t *testing.T) {
	const fn = `{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}`
	for _, tc := range []struct{ name, extra, want string }{
		{"alone", `"web_search_options":{"search_context_size":"high"}`, `[{"type":"web_search_20250305","name":"web_search"}]`},
		{"after the function tools", `"tools":[` + fn + `],"web_search_options":{"user_location":{"type":"approximate","approximate":{"city":"Paris","country":"FR","region":""}}}`,
			`[{"name":"f","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search","user_location":{"type":"approximate","city":"Paris","country":"FR"}}]`},
	} {
		out, err := ToAnthropicRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"news?"}],`+tc.extra+`}`), AnthropicOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := gjson.GetBytes(out, "tools").Raw; got != tc.want {
			t.Errorf("%s: tools %s, want %s", tc.name, got, tc.want)
		}
		if bytes.Contains(out, []byte("search_context_size")) || bytes.Contains(out, []byte("web_search_options")) {
			t.Errorf("%s: OpenAI's options reached Anthropic: %s", tc.name, out)
		}
	}
}

// TestToolChoice is the tool_choice table in both directions.
func TestToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"f"}}]`
	tests := []struct {
		openAI, anthropic string
	}{
		{`"tool_choice":"auto"`, `{"type":"auto"}`},
		{`"tool_choice":"required"`, `{"type":"any"}`},
		{`"tool_choice":"none"`, `{"type":"none"}`},
		{`"tool_choice":{"type":"function","function":{"name":"f"}}`, `{"type":"tool","name":"f"}`},
		{`"parallel_tool_calls":false`, `{"type":"auto","disable_parallel_tool_use":true}`},
		{`"tool_choice":"required","parallel_tool_calls":false`, `{"type":"any","disable_parallel_tool_use":true}`},
		{`"tool_choice":"none","parallel_tool_calls":false`, `{"type":"none"}`},
		{`"parallel_tool_calls":true`, ``},
	}
	for _, tt := range tests {
		body := `{"model":"m","messages":[{"role":"user","content":"x"}],` + tools + `,` + tt.openAI + `}`
		out, err := ToAnthropicRequest([]byte(body), AnthropicOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, "tool_choice").Raw; got != tt.anthropic {
			t.Errorf("%s: tool_choice %s, want %s", tt.openAI, got, tt.anthropic)
		}
	}
	// Without tools, tool_choice means nothing and Anthropic would reject it.
	out, _ := ToAnthropicRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required"}`), AnthropicOptions{})
	if gjson.GetBytes(out, "tool_choice").Exists() {
		t.Errorf("tool_choice without tools was sent: %s", out)
	}
}

// TestFinishAndStopReasons is the stop_reason table and its inverse.
func TestFinishAndStopReasons(t *testing.T) {
	for stop, finish := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop", "max_tokens": "length",
		"model_context_window_exceeded": "length", "tool_use": "tool_calls", "refusal": "content_filter", "": "stop", "future": "stop",
	} {
		if got := FinishReason(stop); got != finish {
			t.Errorf("FinishReason(%q) = %q, want %q", stop, got, finish)
		}
	}
	for finish, stop := range map[string]string{
		"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use", "content_filter": "refusal", "": "end_turn",
	} {
		if got := StopReason(finish); got != stop {
			t.Errorf("StopReason(%q) = %q, want %q", finish, got, stop)
		}
	}
}

// TestUsageArithmetic checks the accounting both ways: Anthropic's input_tokens excludes the
// cache, OpenAI's prompt_tokens includes it.
func TestUsageArithmetic(t *testing.T) {
	u := AnthropicUsage(gjson.Parse(`{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":7,"output_tokens_details":{"thinking_tokens":3},"server_tool_use":{"web_search_requests":2}}`))
	want := clearbar.Usage{PromptTokens: 330, CompletionTokens: 7, CachedTokens: 300, CacheWriteTokens: 20, ReasoningTokens: 3, WebSearches: 2}
	if u != want {
		t.Errorf("AnthropicUsage = %+v, want %+v", u, want)
	}
	var w jw
	writeAnthropicUsage(&w, u)
	if got := string(w.b); got != `{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":7}` {
		t.Errorf("back to Anthropic: %s", got)
	}
}

// TestOpenAIChunksEdges covers the stream events that are not in the golden files.
func TestOpenAIChunksEdges(t *testing.T) {
	start := `{"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":3,"output_tokens":1}}}`

	var tr OpenAIChunks
	if _, err := tr.Event("content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`)); clearbar.ClassOf(err) != clearbar.BadResponse {
		t.Errorf("a delta before message_start: %v, want BadResponse", err)
	}
	tr = OpenAIChunks{}
	if _, err := tr.Event("", []byte(`not json`)); clearbar.ClassOf(err) != clearbar.BadResponse {
		t.Errorf("malformed data: %v, want BadResponse", err)
	}
	tr = OpenAIChunks{}
	tr.Event("", []byte(start)) // no event line: the data's type is read
	if !tr.started {
		t.Error("an event without an event line was not read by its data type")
	}
	_, err := tr.Event("error", []byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`))
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.StreamCut || e.Type != ErrOverloaded || !strings.Contains(e.Message, "Overloaded") {
		t.Errorf("error event: %v, want StreamCut overloaded_error", err)
	}

	// A tool_use block that starts with its whole input and gets no deltas.
	tr = OpenAIChunks{}
	tr.Event("message_start", []byte(start))
	tr.Event("content_block_start", []byte(`{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":1}}}`))
	chunks, _ := tr.Event("content_block_stop", []byte(`{"type":"content_block_stop","index":0}`))
	if len(chunks) != 1 || gjson.GetBytes(chunks[0].Data, "choices.0.delta.tool_calls.0.function.arguments").String() != `{"a":1}` {
		t.Errorf("a whole input at block start was not sent as the arguments: %+v", chunks)
	}
	// message_delta may carry input counts; they replace message_start's.
	// So do the web searches of Anthropic's server tool.
	tr.Event("message_delta", []byte(`{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":50,"cache_read_input_tokens":5,"output_tokens":9,"server_tool_use":{"web_search_requests":3}}}`))
	chunks, _ = tr.Event("message_stop", []byte(`{"type":"message_stop"}`))
	if len(chunks) != 1 || chunks[0].Usage == nil || *chunks[0].Usage != (clearbar.Usage{PromptTokens: 55, CompletionTokens: 9, CachedTokens: 5, WebSearches: 3}) {
		t.Errorf("usage chunk %+v", chunks)
	}
	if !tr.Done() {
		t.Error("not done after message_stop")
	}
	if chunks, err := tr.Event("content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}`)); len(chunks) != 0 || err != nil {
		t.Errorf("events after message_stop are ignored: %+v %v", chunks, err)
	}
}

// TestAnthropicEventsEdges covers the event writer's edges: an empty stream, known input usage,
// a failure, text that waits for a tool call's arguments.
func TestAnthropicEventsEdges(t *testing.T) {
	var got []event
	emit := func(typ string, data []byte) error {
		got = append(got, event{typ, append([]byte(nil), data...)})
		return nil
	}
	s := NewAnthropicEvents(emit)
	s.InputUsage = &clearbar.Usage{PromptTokens: 30, CachedTokens: 10}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	m, err := accumulate(got)
	if err != nil {
		t.Fatalf("an empty stream: %v", err)
	}
	if m.StopReason != "end_turn" || m.Usage != [4]int64{20, 0, 10, 0} || len(m.Content) != 0 {
		t.Errorf("an empty stream: %v", m)
	}
	if !strings.Contains(string(got[0].data), `"input_tokens":20`) {
		t.Errorf("message_start lacks the known input usage: %s", got[0].data)
	}

	got = nil
	s = NewAnthropicEvents(emit)
	s.Chunk([]byte(`{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}`))
	s.Fail(ErrOverloaded, "gone")
	if last := got[len(got)-1]; last.typ != "error" || gjson.GetBytes(last.data, "error.type").String() != ErrOverloaded {
		t.Errorf("Fail wrote %s %s", last.typ, last.data)
	}
	if err := s.End(); err != nil || got[len(got)-1].typ != "error" {
		t.Error("End after Fail must write nothing")
	}

	// Text arriving inside a tool call's arguments waits for the block to close.
	got = nil
	s = NewAnthropicEvents(emit)
	for _, c := range []string{
		`{"id":"c2","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}}]}`,
		`{"id":"c2","model":"m","choices":[{"index":0,"delta":{"content":"between"}}]}`,
		`{"id":"c2","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}`,
		`{"id":"c2","model":"m","choices":[{"index":0,"delta":{"content":" after"}}]}`,
		`{"id":"c2","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"type":"function","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`,
	} {
		if err := s.Chunk([]byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	s.End()
	m, err = accumulate(got)
	if err != nil {
		t.Fatal(err)
	}
	want := []block{
		{Type: "tool_use", ID: "toolu_1", Name: "f", Input: `{"a":1}`},
		{Type: "text", Text: "between after"},
		{Type: "tool_use", ID: "toolu_c2_2", Name: "g", Input: `{}`},
	}
	if len(m.Content) != len(want) {
		t.Fatalf("content %v, want %v", m.Content, want)
	}
	for i := range want {
		if m.Content[i] != want[i] {
			t.Errorf("block %d: %+v, want %+v", i, m.Content[i], want[i])
		}
	}
	if m.StopReason != "tool_use" {
		t.Errorf("stop reason %q", m.StopReason)
	}
}

// TestErrorTypes checks the error-type tables both ways.
func TestErrorTypes(t *testing.T) {
	for _, tt := range []struct {
		status int
		typ    string
		class  clearbar.FailureClass
	}{
		{529, ErrOverloaded, clearbar.Overloaded},
		{200, ErrOverloaded, clearbar.Overloaded},
		{500, ErrAPI, clearbar.Overloaded},
		{429, ErrRateLimit, clearbar.RateLimited},
		{402, ErrBilling, clearbar.RateLimited},
		{401, ErrAuthentication, clearbar.Auth},
		{403, ErrPermission, clearbar.Auth},
		{413, ErrRequestTooLarge, clearbar.ContextTooLong},
		{504, ErrTimeout, clearbar.Timeout},
		{400, ErrInvalidRequest, clearbar.ClientError},
		{404, ErrNotFound, clearbar.ClientError},
		{409, ErrConflict, clearbar.ClientError},
		{200, ErrInvalidRequest, clearbar.ClientError},
		{503, "", clearbar.Overloaded},
	} {
		if got := ClassForAnthropicError(tt.status, tt.typ); got != tt.class {
			t.Errorf("ClassForAnthropicError(%d, %q) = %s, want %s", tt.status, tt.typ, got, tt.class)
		}
	}
	for _, tt := range []struct {
		e      clearbar.Error
		status int
		want   string
	}{
		{clearbar.Error{Class: clearbar.ClientError}, 400, ErrInvalidRequest},
		{clearbar.Error{Class: clearbar.ClientError}, 401, ErrAuthentication},
		{clearbar.Error{Class: clearbar.ClientError}, 403, ErrPermission},
		{clearbar.Error{Class: clearbar.ClientError}, 404, ErrNotFound},
		// The gateway's own 404 for an unknown model carries OpenAI's generic type, which is
		// also Anthropic's: the status is more precise.
		{clearbar.Error{Class: clearbar.ClientError, Type: ErrInvalidRequest, Code: "model_not_found"}, 404, ErrNotFound},
		{clearbar.Error{Class: clearbar.ClientError, Type: ErrInvalidRequest}, 405, ErrInvalidRequest},
		{clearbar.Error{Class: clearbar.ClientError}, 413, ErrRequestTooLarge},
		{clearbar.Error{Class: clearbar.ClientError}, 415, ErrInvalidRequest},
		{clearbar.Error{Class: clearbar.RateLimited}, 429, ErrRateLimit},
		{clearbar.Error{Class: clearbar.RateLimited, Code: clearbar.CodeQuotaExhausted}, 429, ErrBilling},
		// Gemini's spent per-day quota: the adapter's OpenAI type, which is also an Anthropic
		// one, must not make it retryable-looking.
		{clearbar.Error{Class: clearbar.RateLimited, Type: ErrRateLimit, Code: clearbar.CodeQuotaExhausted}, 429, ErrBilling},
		{clearbar.Error{Class: clearbar.RateLimited, Type: ErrRateLimit}, 429, ErrRateLimit},
		{clearbar.Error{Class: clearbar.Overloaded}, 503, ErrOverloaded},
		{clearbar.Error{Class: clearbar.Timeout}, 504, ErrTimeout},
		{clearbar.Error{Class: clearbar.BadResponse}, 502, ErrAPI},
		{clearbar.Error{Class: clearbar.StreamCut, Type: ErrOverloaded}, 502, ErrOverloaded},
		{clearbar.Error{Class: clearbar.StreamCut, Type: "server_error"}, 502, ErrAPI},
		{clearbar.Error{Class: clearbar.Internal}, 500, ErrAPI},
		// An upstream refusing the gateway's own key, which the client is answered with a 502:
		// the upstream's generic type is not the client's error.
		{clearbar.Error{Class: clearbar.Auth, Type: ErrInvalidRequest}, 502, ErrAPI},
	} {
		if got := AnthropicErrorType(&tt.e, tt.status); got != tt.want {
			t.Errorf("AnthropicErrorType(%s %q, %d) = %q, want %q", tt.e.Class, tt.e.Type, tt.status, got, tt.want)
		}
	}
	for id, want := range map[string]string{
		"chatcmpl-abc": "msg_chatcmpl-abc", "msg_01XF": "msg_01XF", "Zk8xaL-3B": "msg_Zk8xaL-3B", "": "msg_clearbar", `a"b`: `msg_a"b`,
	} {
		out, err := ToAnthropicResponse([]byte(`{"id":` + jsonString(id) + `,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`))
		if err != nil || gjson.GetBytes(out, "id").Str != want {
			t.Errorf("message id of %q: %s %v, want %q", id, gjson.GetBytes(out, "id").Raw, err, want)
		}
	}
	b := ErrorBody(ErrOverloaded, `say "hi"`, "req_1")
	if string(b) != `{"type":"error","error":{"type":"overloaded_error","message":"say \"hi\""},"request_id":"req_1"}` {
		t.Errorf("ErrorBody = %s", b)
	}
	if f := ParseError(b); !f.Found || f.Type != ErrOverloaded || f.Message != `say "hi"` {
		t.Errorf("ParseError = %+v", f)
	}
}
