package translate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/sse"
)

// fidelityRequests are Anthropic requests with everything the OpenAI form cannot hold. Through
// ToOpenAIRequest and back through ToAnthropicCall each must come back as it was sent (the model
// and stream, which the adapter sets, aside).
var fidelityRequests = map[string]string{
	"thinking tool turn": `{"model":"c","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":2048},
		"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"Be careful."}],
		"tools":[{"name":"bash","description":"Run a command","input_schema":{"type":"object","properties":{"cmd":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},
			{"type":"custom","name":"read","input_schema":{"type":"object"},"defer_loading":true}],
		"tool_choice":{"type":"auto"},
		"messages":[
			{"role":"user","content":[{"type":"text","text":"List the files.","cache_control":{"type":"ephemeral"}}]},
			{"role":"assistant","content":[{"type":"thinking","thinking":"I should run ls.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
				{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
				{"type":"text","text":"Running ls."},{"type":"tool_use","id":"toolu_01","name":"bash","input":{"cmd":"ls"},"cache_control":{"type":"ephemeral"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"permission denied","is_error":true,"cache_control":{"type":"ephemeral"}},
				{"type":"text","text":"Try again."}]},
			{"role":"assistant","content":[{"type":"thinking","thinking":"Use sudo?","signature":"sig2"},{"type":"tool_use","id":"toolu_02","name":"bash","input":{"cmd":"sudo ls"}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_02","content":[{"type":"text","text":"a.txt","cache_control":{"type":"ephemeral"}},{"type":"text","text":"b.txt"}],"is_error":false}]}]}`,
	"error result as blocks": `{"model":"c","max_tokens":100,"messages":[{"role":"user","content":"go"},
		{"role":"assistant","content":[{"type":"tool_use","id":"toolu_x","name":"f","input":{}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_x","content":[{"type":"text","text":"boom"},{"type":"text","text":"trace"}],"is_error":true}]}],
		"tools":[{"name":"f","input_schema":{"type":"object"}}]}`,
	"parameters without an OpenAI form": `{"model":"c","max_tokens":2000,"temperature":0.2,"top_k":5,"service_tier":"standard_only","speed":"fast",
		"cache_control":{"type":"ephemeral"},"context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"container":"cntr_1",
		"mcp_servers":[{"type":"url","url":"https://mcp.example","name":"ex"}],"inference_geo":"us",
		"output_config":{"effort":"low","format":{"type":"json_schema","schema":{"type":"object"}}},
		"metadata":{"user_id":"u-1"},"stop_sequences":["END"],
		"system":"Plain system.","messages":[{"role":"user","content":"Hi"}]}`,
	"one system block, assistant blocks in their order": `{"model":"c","max_tokens":100,
		"system":[{"type":"text","text":"Only block.","cache_control":{"type":"ephemeral"}}],
		"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"Notes."},"title":"notes","context":"ctx","citations":{"enabled":true}},
			{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"},"title":"a.pdf","cache_control":{"type":"ephemeral"}},
			{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"},"cache_control":{"type":"ephemeral"}},
			{"type":"text","text":"Read them."}]},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_a","name":"f","input":{"x":1}},{"type":"text","text":"First, "},{"type":"text","text":"then.","citations":[{"type":"char_location","cited_text":"Notes.","document_index":0,"start_char_index":0,"end_char_index":6}]}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"ok"}]}],
		"tools":[{"name":"f","input_schema":{"type":"object"}}]}`,
	"web search": `{"model":"c","max_tokens":1024,
		"tools":[{"name":"lookup","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search","max_uses":3,"allowed_domains":["example.com"]},
			{"type":"text_editor_20250728","name":"str_replace_based_edit_tool"},{"name":"note","input_schema":{"type":"object"}}],
		"tool_choice":{"type":"tool","name":"web_search","disable_parallel_tool_use":true},
		"messages":[{"role":"user","content":"What is new in Go?"},
			{"role":"assistant","content":[{"type":"text","text":"Searching."},
				{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"Go release notes"}},
				{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://example.com/go","title":"Go","encrypted_content":"EqgfCioIARgBIiQ3","page_age":"1 day"}]},
				{"type":"text","text":"Go 1.26 is out.","citations":[{"type":"web_search_result_location","url":"https://example.com/go","title":"Go","encrypted_index":"Eo8BCio","cited_text":"Go 1.26"}]}]},
			{"role":"user","content":"And before that?"}]}`,
	"only tools of Anthropic's types": `{"model":"c","max_tokens":1024,"tools":[{"type":"web_search_20250305","name":"web_search"}],"tool_choice":{"type":"any"},
		"messages":[{"role":"user","content":"Search."}]}`,
	"content only Anthropic takes": `{"model":"c","max_tokens":100,"tools":[{"name":"screenshot","input_schema":{"type":"object"}}],
		"messages":[{"role":"user","content":[{"type":"text","text":"Compare."},
				{"type":"document","source":{"type":"url","url":"https://example.com/a.pdf"},"title":"a"},
				{"type":"image","source":{"type":"file","file_id":"file_011"}},
				{"type":"search_result","source":"https://example.com/kb","title":"KB","content":[{"type":"text","text":"Reset with the button."}],"citations":{"enabled":true}}]},
			{"role":"assistant","content":[{"type":"tool_use","id":"toolu_s","name":"screenshot","input":{}}]},
			{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_s","content":[{"type":"text","text":"Screen:"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}}],"is_error":true},
				{"type":"text","text":"What do you see?"}]}]}`,
	"thinking alone in an assistant turn": `{"model":"c","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":1024},
		"messages":[{"role":"user","content":"Think."},{"role":"assistant","content":[{"type":"redacted_thinking","data":"xyz"}]},{"role":"user","content":"Go on."}]}`,
}

// TestAnthropicFidelity: an Anthropic client's request reaches an Anthropic upstream with
// everything it sent (§1 of the brief that asked for it): thinking and its blocks with their
// signatures, cache_control on system blocks, tools and content blocks, is_error, the system
// prompt's blocks, the parameters without an OpenAI form, and the anthropic-beta header.
func TestAnthropicFidelity(t *testing.T) {
	for name, body := range fidelityRequests {
		t.Run(name, func(t *testing.T) {
			o, err := ToOpenAIRequest([]byte(body), OpenAIOptions{Beta: "interleaved-thinking-2025-05-14,context-management-2025-06-27"})
			if err != nil {
				t.Fatal(err)
			}
			call, err := ToAnthropicCall(o, AnthropicOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, o)
			}
			if !call.Native || call.Beta != "interleaved-thinking-2025-05-14,context-management-2025-06-27" || call.Functions {
				t.Errorf("native %v beta %q functions %v", call.Native, call.Beta, call.Functions)
			}
			var want, got any
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(call.Body, &got); err != nil {
				t.Fatalf("%v\n%s", err, call.Body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the request changed on its way:\n got %s\nwant %s\nvia %s", call.Body, compact(body), o)
			}
		})
	}
}

// TestSidecarBeta: the beta header the sidecar carries becomes a header of the upstream call;
// one that would break it (a line break) is refused.
func TestSidecarBeta(t *testing.T) {
	_, err := ToAnthropicCall([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"clearbar_anthropic":{"beta":"a\r\nX-Evil: 1"}}`), AnthropicOptions{})
	checkClientError(t, "a beta header with a line break", err, AnthropicKey+".beta")
}

// TestAnthropicToOpenAIUpstream: what an OpenAI-format model gets of an Anthropic client's
// request. The sidecar never reaches it; every parameter without an OpenAI form is dropped or
// refused, as the table in the package documentation says, and each of them is covered here.
func TestAnthropicToOpenAIUpstream(t *testing.T) {
	values := map[string]string{
		"output_config": `{"effort":"low"}`, "output_format": `{"type":"json_schema","schema":{"type":"object"}}`,
		"thinking": `{"type":"enabled","budget_tokens":1024}`, "top_k": `5`, "service_tier": `"auto"`, "speed": `"fast"`,
		"cache_control": `{"type":"ephemeral"}`, "diagnostics": `{"previous_message_id":"msg_1"}`,
		"context_management": `{"edits":[]}`, "fallbacks": `"default"`, "fallback_credit_token": `"tok"`,
		"container": `"c1"`, "mcp_servers": `[]`, "compaction": `{"type":"enabled"}`, "thread": `{"type":"create"}`,
		"billing_policy": `{"type":"billing_policy","bill_to":"self"}`, "inference_geo": `"us"`,
	}
	base := `{"model":"c","max_tokens":2048,"messages":[{"role":"user","content":"Hi"}]`
	plain, err := ToOpenAIRequest([]byte(base+`}`), OpenAIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plainUp, err := ToOpenAIUpstream(plain)
	if err != nil || bytes.Contains(plainUp, []byte(AnthropicKey)) {
		t.Fatalf("a plain request: %v %s", err, plainUp)
	}
	for _, p := range messagesParams {
		if p.fate == translated {
			continue
		}
		v, ok := values[p.name]
		if !ok {
			t.Errorf("%s: no value to test it with", p.name)
			continue
		}
		o, err := ToOpenAIRequest([]byte(base+`,"`+p.name+`":`+v+`}`), OpenAIOptions{})
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		if got := gjson.GetBytes(o, AnthropicKey+".params."+p.name).Raw; got != v {
			t.Errorf("%s: the sidecar carries %s, want %s", p.name, got, v)
		}
		up, err := ToOpenAIUpstream(o)
		switch p.fate {
		case dropped:
			if err != nil {
				t.Errorf("%s is dropped for an OpenAI-format model, but: %v", p.name, err)
			} else if bytes.Contains(up, []byte(AnthropicKey)) || gjson.GetBytes(up, p.name).Exists() {
				t.Errorf("%s reached the OpenAI-format model: %s", p.name, up)
			}
		case refused:
			checkClientError(t, p.name+" is refused for an OpenAI-format model", err, p.name)
		}
	}
	// Only the sidecar is taken out: the rest of the body is byte for byte what it was.
	o, _ := ToOpenAIRequest([]byte(base+`,"top_k":5}`), OpenAIOptions{})
	if up, _ := ToOpenAIUpstream(o); !bytes.Equal(up, plainUp) {
		t.Errorf("the OpenAI body changed beyond the sidecar:\n%s\n%s", up, plainUp)
	}
}

// TestAnthropicOnlyToOpenAIForm: what the OpenAI form makes of what it cannot hold: an error
// tool result says so in its content (ToolErrorPrefix); thinking blocks, cache_control and the
// beta header are left to the sidecar.
func TestAnthropicOnlyToOpenAIForm(t *testing.T) {
	o, err := ToOpenAIRequest([]byte(fidelityRequests["thinking tool turn"]), OpenAIOptions{Beta: "b1"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := ToOpenAIUpstream(o)
	if err != nil {
		t.Fatal(err)
	}
	msgs := gjson.GetBytes(up, "messages").Array()
	var tools []string
	for _, m := range msgs {
		if m.Get("role").String() == "tool" {
			tools = append(tools, m.Get("content").Raw)
		}
	}
	if want := []string{`"Error: permission denied"`, `[{"type":"text","text":"a.txt"},{"type":"text","text":"b.txt"}]`}; !reflect.DeepEqual(tools, want) {
		t.Errorf("tool messages %v, want %v", tools, want)
	}
	for _, s := range []string{"thinking", "signature", "redacted", "cache_control", "is_error", "b1", "defer_loading"} {
		if bytes.Contains(up, []byte(s)) {
			t.Errorf("%q reached the OpenAI-format model: %s", s, up)
		}
	}
	o, _ = ToOpenAIRequest([]byte(fidelityRequests["error result as blocks"]), OpenAIOptions{})
	if got := gjson.GetBytes(o, "messages.2.content").Raw; got != `[{"type":"text","text":"Error: boom"},{"type":"text","text":"trace"}]` {
		t.Errorf("an error result's blocks: %s", got)
	}
	o, _ = ToOpenAIRequest([]byte(`{"model":"c","max_tokens":9,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","is_error":true}]}]}`), OpenAIOptions{})
	if got := gjson.GetBytes(o, "messages.0.content").Raw; got != `"Error: "` {
		t.Errorf("an error result without content: %s", got)
	}
}

// TestMessagesValidation: what Anthropic refuses, the translation refuses the same way (§3 of
// the brief): members that are not parameters of the Messages API, metadata other than user_id
// and routing hints, a forced tool_choice without tools, thinking budgets out of Anthropic's
// bounds.
func TestMessagesValidation(t *testing.T) {
	user := `"messages":[{"role":"user","content":"x"}]`
	tests := []struct {
		explanation, body, param, message string
		opt                               OpenAIOptions
	}{
		{"an unknown member", `{"model":"c","max_tokens":10,"foo":1,` + user + `}`, "foo", "foo: Extra inputs are not permitted", OpenAIOptions{}},
		{"an OpenAI parameter", `{"model":"c","max_tokens":10,"n":2,` + user + `}`, "n", "n: Extra inputs are not permitted", OpenAIOptions{}},
		{"a metadata member other than user_id", `{"model":"c","max_tokens":10,"metadata":{"user_id":"u","team":"a"},` + user + `}`, "metadata.team", "metadata.team: Extra inputs are not permitted", OpenAIOptions{}},
		{"a message member other than role and content", `{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"x","name":"bob"}]}`, "messages[0].name", "messages[0].name: Extra inputs are not permitted", OpenAIOptions{}},
		{"tool_choice any without tools", `{"model":"c","max_tokens":10,"tool_choice":{"type":"any"},` + user + `}`, "tool_choice", "tool_choice may only be specified while providing tools.", OpenAIOptions{}},
		{"tool_choice tool with an empty tools list", `{"model":"c","max_tokens":10,"tools":[],"tool_choice":{"type":"tool","name":"f"},` + user + `}`, "tool_choice", "tool_choice may only be specified while providing tools.", OpenAIOptions{}},
		{"a budget below 1024", `{"model":"c","max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":1023},` + user + `}`, "thinking.budget_tokens", "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024", OpenAIOptions{}},
		{"a budget equal to max_tokens", `{"model":"c","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":2048},` + user + `}`, "thinking.budget_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`.", OpenAIOptions{}},
		{"a budget above max_tokens", `{"model":"c","max_tokens":1500,"thinking":{"type":"enabled","budget_tokens":4096},` + user + `}`, "thinking.budget_tokens", "`max_tokens` must be greater than `thinking.budget_tokens`.", OpenAIOptions{}},
		{"enabled thinking without a budget", `{"model":"c","max_tokens":1500,"thinking":{"type":"enabled"},` + user + `}`, "thinking.budget_tokens", "thinking.enabled.budget_tokens: Field required", OpenAIOptions{}},
		{"a budget below 1024 when counting tokens", `{"model":"c","thinking":{"type":"enabled","budget_tokens":10},` + user + `}`, "thinking.budget_tokens", "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024", OpenAIOptions{CountTokens: true}},
		{"thinking in a user message", `{"model":"c","max_tokens":10,"messages":[{"role":"user","content":[{"type":"thinking","thinking":"x","signature":"s"}]}]}`, "messages[0].content[0].type", "", OpenAIOptions{}},
	}
	for _, tt := range tests {
		_, err := ToOpenAIRequest([]byte(tt.body), tt.opt)
		checkClientError(t, tt.explanation, err, tt.param)
		if e := clearbar.AsError(err); tt.message != "" && e.Message != tt.message {
			t.Errorf("%s: message %q, want %q", tt.explanation, e.Message, tt.message)
		}
	}
	for _, ok := range []struct {
		explanation, body string
		opt               OpenAIOptions
	}{
		{"a budget under max_tokens", `{"model":"c","max_tokens":2049,"thinking":{"type":"enabled","budget_tokens":2048},` + user + `}`, OpenAIOptions{}},
		{"adaptive thinking", `{"model":"c","max_tokens":10,"thinking":{"type":"adaptive"},` + user + `}`, OpenAIOptions{}},
		{"tool_choice auto without tools", `{"model":"c","max_tokens":10,"tool_choice":{"type":"auto"},` + user + `}`, OpenAIOptions{}},
		{"routing hints and user_id in metadata", `{"model":"c","max_tokens":10,"metadata":{"user_id":"u","clearbar_category":"x"},` + user + `}`, OpenAIOptions{}},
		{"a count_tokens request with thinking and no max_tokens", `{"model":"c","thinking":{"type":"enabled","budget_tokens":2048},` + user + `}`, OpenAIOptions{CountTokens: true}},
	} {
		if _, err := ToOpenAIRequest([]byte(ok.body), ok.opt); err != nil {
			t.Errorf("%s: %v", ok.explanation, err)
		}
	}
	if _, err := ToOpenAIRequest([]byte(`{"model":"c",`+user+`}`), OpenAIOptions{}); err == nil {
		t.Error("max_tokens is required outside count_tokens")
	}
}

// TestLegacyFunctions: OpenAI's deprecated functions and function_call reach Anthropic as tools
// and tool_choice (§2 of the brief), one call at a time as the deprecated form makes them, and
// the answer comes back in their form.
func TestLegacyFunctions(t *testing.T) {
	fns := `"functions":[{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"noop"}]`
	user := `"messages":[{"role":"user","content":"Weather in Paris?"}]`
	for _, tt := range []struct {
		explanation, functionCall, choice string
	}{
		{"no function_call", ``, `{"type":"auto","disable_parallel_tool_use":true}`},
		{"auto", `,"function_call":"auto"`, `{"type":"auto","disable_parallel_tool_use":true}`},
		{"none", `,"function_call":"none"`, `{"type":"none"}`},
		{"a named function", `,"function_call":{"name":"get_weather"}`, `{"type":"tool","name":"get_weather","disable_parallel_tool_use":true}`},
	} {
		call, err := ToAnthropicCall([]byte(`{"model":"m",`+fns+tt.functionCall+`,`+user+`}`), AnthropicOptions{})
		if err != nil {
			t.Errorf("%s: %v", tt.explanation, err)
			continue
		}
		if !call.Functions {
			t.Errorf("%s: not marked as a functions request", tt.explanation)
		}
		if got := gjson.GetBytes(call.Body, "tools").Raw; got != `[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"noop","input_schema":{"type":"object","properties":{}}}]` {
			t.Errorf("%s: tools %s", tt.explanation, got)
		}
		if got := gjson.GetBytes(call.Body, "tool_choice").Raw; got != tt.choice {
			t.Errorf("%s: tool_choice %s, want %s", tt.explanation, got, tt.choice)
		}
	}
	for _, tt := range []struct{ explanation, body, param string }{
		{"functions and tools together", `{"model":"m",` + fns + `,"tools":[{"type":"function","function":{"name":"f"}}],` + user + `}`, "functions"},
		{"function_call without functions", `{"model":"m","function_call":"auto",` + user + `}`, "function_call"},
		{"an unknown function_call", `{"model":"m",` + fns + `,"function_call":"sometimes",` + user + `}`, "function_call"},
		{"a function without a name", `{"model":"m","functions":[{"description":"x"}],` + user + `}`, "functions[0].name"},
		{"a legacy call in the history whose arguments are not an object", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"[1]"}}]}`, "messages[1].function_call.arguments"},
		{"a function message no call comes before", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"function","name":"noop","content":"r"}]}`, "messages[1].role"},
		// A tool_use without its tool_result is a 400 at Anthropic: the call is refused here,
		// naming its message, unless the history ends with it.
		{"a function call no function message answers", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}},{"role":"user","content":"y"}]}`, "messages[1].function_call"},
		{"a function call answered only after the next turn", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}},{"role":"assistant","content":"hm"},{"role":"function","name":"noop","content":"r"}]}`, "messages[1].function_call"},
		// A function message is not paired with a call of another name.
		{"a function message naming no pending call", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}},{"role":"function","name":"get_weather","content":"r"}]}`, "messages[2].name"},
		// A function message answers only the assistant message just before it.
		{"a function message after a new turn", `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}},{"role":"function","name":"noop","content":"r"},{"role":"user","content":"y"},{"role":"function","name":"noop","content":"r"}]}`, "messages[4].role"},
	} {
		_, err := ToAnthropicCall([]byte(tt.body), AnthropicOptions{})
		checkClientError(t, tt.explanation, err, tt.param)
	}

	// The next turn: the history holds the function_call the answer gave (it has no id) and
	// the function message with its result. Each becomes a tool_use and the tool_result
	// answering it, with an id made up from the call's place in the history.
	followUp := `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"Weather in Paris and Rome?"},` +
		`{"role":"assistant","content":"Let me check.","function_call":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
		`{"role":"function","name":"get_weather","content":"sunny"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}},` +
		`{"role":"function","name":"get_weather","content":"rain"}]}`
	call, err := ToAnthropicCall([]byte(followUp), AnthropicOptions{})
	if err != nil {
		t.Fatalf("a follow-up turn of a functions conversation: %v", err)
	}
	if got, want := gjson.GetBytes(call.Body, "messages").Raw, `[{"role":"user","content":"Weather in Paris and Rome?"},`+
		`{"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_clearbar_fn_1","name":"get_weather","input":{"city":"Paris"}}]},`+
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_clearbar_fn_1","content":"sunny"}]},`+
		`{"role":"assistant","content":[{"type":"tool_use","id":"toolu_clearbar_fn_3","name":"get_weather","input":{"city":"Rome"}}]},`+
		`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_clearbar_fn_3","content":"rain"}]}]`; got != want {
		t.Errorf("the follow-up's messages:\n got %s\nwant %s", got, want)
	}

	// A result answers the call of the assistant message just before it, not an earlier call
	// of the same name; a call the history ends with needs no result.
	redo := `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"Weather?"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},` +
		`{"role":"function","name":"get_weather","content":"sunny"},` +
		`{"role":"user","content":"never mind"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},` +
		`{"role":"function","name":"get_weather","content":"rain"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}}]}`
	if call, err := ToAnthropicCall([]byte(redo), AnthropicOptions{}); err != nil {
		t.Errorf("a call repeated after a new turn: %v", err)
	} else if got := gjson.GetBytes(call.Body, "messages.4.content.0.tool_use_id").String(); got != "toolu_clearbar_fn_4" {
		t.Errorf("the second result answers %q, want toolu_clearbar_fn_4: %s", got, gjson.GetBytes(call.Body, "messages").Raw)
	}
	// (The test above without the first function message: the second call, not the first,
	// gets the result, and the first is refused.)
	stale := `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"Weather?"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},` +
		`{"role":"user","content":"never mind"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{}"}},` +
		`{"role":"function","name":"get_weather","content":"rain"}]}`
	_, err = ToAnthropicCall([]byte(stale), AnthropicOptions{})
	checkClientError(t, "a call left unanswered before a new turn", err, "messages[1].function_call")

	// The ids made up for function calls are not any of the client's tool ids as they go to
	// Anthropic (call_X goes as toolu_X, other ids as they are).
	clash := `{"model":"m",` + fns + `,"messages":[{"role":"user","content":"x"},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_clearbar_fn_5","type":"function","function":{"name":"noop","arguments":"{}"}},{"id":"toolu_clearbar_fn_5_","type":"function","function":{"name":"noop","arguments":"{}"}},{"id":"call_fn_5","type":"function","function":{"name":"noop","arguments":"{}"}}]},` +
		`{"role":"tool","tool_call_id":"call_clearbar_fn_5","content":"a"},{"role":"tool","tool_call_id":"toolu_clearbar_fn_5_","content":"b"},{"role":"tool","tool_call_id":"call_fn_5","content":"c"},` +
		`{"role":"assistant","content":null,"function_call":{"name":"noop","arguments":"{}"}},` +
		`{"role":"function","name":"noop","content":"d"}]}`
	if call, err := ToAnthropicCall([]byte(clash), AnthropicOptions{}); err != nil {
		t.Errorf("client ids like made-up ones: %v", err)
	} else {
		ids := map[string]bool{}
		for _, id := range gjson.GetBytes(call.Body, "messages.#.content.#(type==\"tool_use\")#.id|@flatten").Array() {
			if ids[id.Str] {
				t.Errorf("tool_use id %s twice: %s", id.Str, gjson.GetBytes(call.Body, "messages").Raw)
			}
			ids[id.Str] = true
		}
		if len(ids) != 4 || !strings.HasPrefix(gjson.GetBytes(call.Body, "messages.3.content.0.id").String(), "toolu_clearbar_fn_5") ||
			gjson.GetBytes(call.Body, "messages.3.content.0.id").String() != gjson.GetBytes(call.Body, "messages.4.content.0.tool_use_id").String() {
			t.Errorf("the made-up id and its result: %s", gjson.GetBytes(call.Body, "messages").Raw)
		}
	}

	// The answer: the tool_use is a function_call, finish_reason function_call.
	answer := `{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}`
	r, err := ToOpenAIAnswer([]byte(answer), AnswerOptions{Functions: true})
	if err != nil {
		t.Fatal(err)
	}
	msg := gjson.GetBytes(r.Body, "choices.0.message")
	if msg.Get("function_call").Raw != `{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}` || msg.Get("tool_calls").Exists() ||
		gjson.GetBytes(r.Body, "choices.0.finish_reason").String() != "function_call" || msg.Get("content").String() != "Let me check." {
		t.Errorf("a functions answer: %s", r.Body)
	}
	if ch := r.Choices[0]; ch.FinishReason != "function_call" || len(ch.ToolCalls) != 1 {
		t.Errorf("the canonical choice: %+v", ch)
	}

	// The stream: function_call fragments, finish_reason function_call.
	tr := OpenAIChunks{Functions: true}
	var deltas []string
	finish := ""
	r2 := sse.NewReader(strings.NewReader(toolStream))
	for r2.Next() {
		chunks, err := tr.Event(r2.Event().Type, r2.Event().Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range chunks {
			if d := gjson.GetBytes(c.Data, "choices.0.delta.function_call"); d.Exists() {
				deltas = append(deltas, d.Raw)
			}
			if strings.Contains(string(c.Data), "tool_calls") {
				t.Errorf("a tool_calls delta in a functions stream: %s", c.Data)
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
	}
	if want := []string{`{"name":"get_weather","arguments":""}`, `{"arguments":"{\"city\":"}`, `{"arguments":"\"Paris\"}"}`}; !reflect.DeepEqual(deltas, want) || finish != "function_call" {
		t.Errorf("function_call deltas %v finish %q", deltas, finish)
	}
}

// toolStream is an Anthropic stream with a text block and a tool_use block.
const toolStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\":\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

// thinkingStream is an Anthropic stream with thinking (and its signature), redacted thinking,
// text and a tool call, as Anthropic sends it with extended thinking on.
const thinkingStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":50,\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":200,\"output_tokens\":1}}}\n\n" +
	"event: ping\ndata: {\"type\":\"ping\"}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me think\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\" about ls.\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"EmwKAhgB\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"Running ls.\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":3,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"bash\",\"input\":{}}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"cmd\\\":\\\"ls\\\"}\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":3}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

// TestNativeStream: an Anthropic upstream's stream for an Anthropic client (OpenAIChunks.Native)
// reaches it through the OpenAI form as it came: thinking and signature deltas, redacted
// thinking, contiguous indices, usage; only the upstream's pings stay behind. The OpenAI chunks
// still tell the gateway the text, tool calls, finish reason and usage, and the thinking counts
// as the start of the answer.
func TestNativeStream(t *testing.T) {
	tr := OpenAIChunks{Created: 1, Native: true}
	var chunks [][]byte
	var text string
	var usage *clearbar.Usage
	r := sse.NewReader(strings.NewReader(thinkingStream))
	for r.Next() {
		cs, err := tr.Event(r.Event().Type, r.Event().Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			chunks = append(chunks, bytes.Clone(c.Data))
			text += c.Text
			if c.Usage != nil {
				usage = c.Usage
			}
		}
	}
	if text != "Running ls." || usage == nil || *usage != (clearbar.Usage{PromptTokens: 260, CompletionTokens: 42, CachedTokens: 200, CacheWriteTokens: 10}) {
		t.Errorf("the OpenAI form: text %q usage %+v", text, usage)
	}
	if !strings.Contains(string(chunks[2]), `"delta":{"reasoning_content":"Let me think"}`) {
		t.Errorf("a thinking delta's chunk: %s", chunks[2])
	}
	var got []event
	ev := NewAnthropicEvents(func(typ string, data []byte) error {
		got = append(got, event{typ, bytes.Clone(data)})
		return nil
	})
	for _, c := range chunks {
		if err := ev.Chunk(c); err != nil {
			t.Fatal(err)
		}
	}
	// A usage chunk the gateway adds is not an event of the message.
	if err := ev.Chunk([]byte(`{"id":"msg_t","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}`)); err != nil {
		t.Fatal(err)
	}
	if err := ev.End(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, e := range got {
		want.WriteString("event: " + e.typ + "\ndata: " + string(e.data) + "\n\n")
	}
	if exp := strings.Replace(thinkingStream, "event: ping\ndata: {\"type\":\"ping\"}\n\n", "", 1); want.String() != exp {
		t.Errorf("the client's stream:\n%s\nwant:\n%s", want.String(), exp)
	}
}

// TestNativeAnswer: an Anthropic upstream's message for an Anthropic client (AnswerOptions.Native)
// reaches it as the upstream sent it, while the OpenAI form tells the gateway its text, tool
// calls and usage.
func TestNativeAnswer(t *testing.T) {
	msg := `{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"thinking","thinking":"Hmm.","signature":"sig"},{"type":"redacted_thinking","data":"xx"},{"type":"text","text":"Paris.","citations":[{"type":"char_location","cited_text":"Paris","document_index":0,"start_char_index":0,"end_char_index":5}]}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3,"service_tier":"standard"}}`
	r, err := ToOpenAIAnswer([]byte(msg), AnswerOptions{Created: 1, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "Paris." || r.Usage.CompletionTokens != 3 || gjson.GetBytes(r.Body, "choices.0.message.content").String() != "Paris." {
		t.Errorf("the OpenAI form: %s", r.Body)
	}
	back, err := ToAnthropicResponse(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != msg {
		t.Errorf("the client's message:\n%s\nwant\n%s", back, msg)
	}
	// Without Native the thinking is dropped, as it always was for OpenAI clients.
	r, _ = ToOpenAIResponse([]byte(msg), 1)
	if bytes.Contains(r.Body, []byte("thinking")) || bytes.Contains(r.Body, []byte(AnthropicKey)) {
		t.Errorf("an OpenAI client's answer: %s", r.Body)
	}
}

// TestDuplicateMembersRefused: a block can reach an Anthropic upstream as the client sent it,
// whose parser may keep the other of two members with one name than the one routing and
// validators read: a member written twice in one object, at any depth, is refused, named by
// its path.
func TestDuplicateMembersRefused(t *testing.T) {
	for _, tt := range []struct{ explanation, body, path string }{
		{"a document's data twice", `{"model":"m","max_tokens":8,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"document","source":{"type":"text","media_type":"text/plain","data":"benign","data":"other"}}]}]}`, "messages.0.content.1.source.data"},
		{"model twice", `{"model":"m","model":"n","max_tokens":8,"messages":[{"role":"user","content":"x"}]}`, "model"},
		{"seventeen members and one twice", `{"model":"m","max_tokens":8,"metadata":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"a":2},"messages":[{"role":"user","content":"x"}]}`, "metadata.a"},
	} {
		_, err := ToOpenAIRequest([]byte(tt.body), OpenAIOptions{})
		if e := clearbar.AsError(err); err == nil || e.Param != tt.path || !strings.Contains(e.Message, "written twice") {
			t.Errorf("%s: %v; want a 400 naming %s", tt.explanation, err, tt.path)
		}
	}
	if _, err := ToOpenAIRequest([]byte(`{"model":"m","max_tokens":8,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}`), OpenAIOptions{}); err != nil {
		t.Errorf("the same names in sibling objects: %v", err)
	}
}

// TestAnthropicOnlyContent: tools of Anthropic's own types and content blocks the OpenAI form
// cannot hold (a server tool's blocks, an image in a tool result, a document by URL, an image
// from the Files API, a search result) ride in the sidecar to an Anthropic model, which gets
// them as they were sent (TestAnthropicFidelity); the OpenAI form is one the gateway reads,
// with a text part standing in for each such block, and an OpenAI-format model is refused the
// request, naming the first of them, as AnthropicOnly does for routing.
func TestAnthropicOnlyContent(t *testing.T) {
	tests := []struct {
		name, param, what string
		// paths and values that the OpenAI form must have ("" for a path it must not have)
		form map[string]string
	}{
		{"web search", "messages[1].content[1]", "messages[1].content[1] (type server_tool_use)", map[string]string{
			"tools.#": "2", "tools.0.function.name": "lookup", "tools.1.function.name": "note", "tool_choice": "", "parallel_tool_calls": "",
			"messages.1.content": "Searching.Go 1.26 is out.", "messages.1.tool_calls": ""}},
		{"only tools of Anthropic's types", "tools[0]", "tools[0] (type web_search_20250305)", map[string]string{
			"tools": "", "tool_choice": ""}},
		{"content only Anthropic takes", "messages[0].content[1]", "messages[0].content[1] (type document, source url)", map[string]string{
			"messages.0.content.1.text": "a", "messages.0.content.2.text": "[image]", "messages.0.content.3.text": "KB\n\nReset with the button.",
			"messages.2.role": "tool", "messages.2.content.0.text": "Error: Screen:", "messages.2.content.1.text": "[image]", "messages.3.content.0.text": "What do you see?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ToOpenAIRequest([]byte(fidelityRequests[tt.name]), OpenAIOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.form {
				got := gjson.GetBytes(o, path)
				if want == "" && got.Exists() || want != "" && got.String() != want {
					t.Errorf("the OpenAI form's %s is %s, want %q\n%s", path, got.Raw, want, o)
				}
			}
			if param, what := AnthropicOnly(o); param != tt.param || what != tt.what {
				t.Errorf("AnthropicOnly: %q, %q; want %q, %q", param, what, tt.param, tt.what)
			}
			_, err = ToOpenAIUpstream(o)
			checkClientError(t, tt.name, err, tt.param)
			if err != nil && !strings.Contains(err.Error(), tt.what+" cannot be sent to an OpenAI-format model") {
				t.Errorf("ToOpenAIUpstream: %v", err)
			}
		})
	}
	// A request with none of them takes OpenAI-format models.
	o, err := ToOpenAIRequest([]byte(fidelityRequests["thinking tool turn"]), OpenAIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if param, what := AnthropicOnly(o); param != "" || what != "" {
		t.Errorf("thinking tool turn: AnthropicOnly %q, %q", param, what)
	}
	// A parameter is named as itself.
	o, _ = ToOpenAIRequest([]byte(fidelityRequests["parameters without an OpenAI form"]), OpenAIOptions{})
	if param, what := AnthropicOnly(o); param != "container" || what != "container" {
		t.Errorf("parameters: AnthropicOnly %q, %q", param, what)
	}
}
