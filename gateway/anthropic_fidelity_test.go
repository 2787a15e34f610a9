package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/sse"
	"github.com/clearbar/clearbar/translate"
)

// An Anthropic client routed to an Anthropic upstream loses nothing on the way, either way:
// thinking and its blocks with their signatures, cache_control, is_error, the system prompt's
// blocks, the parameters without an OpenAI form and the anthropic-beta header reach the
// upstream; the upstream's thinking blocks, signatures, citations and block indices reach the
// client. Routed to an OpenAI-format upstream, the same request keeps what that format can
// express and is refused, naming it, what it cannot honour.

// fidelityRequest is what an agent such as Claude Code sends on a tool-use turn with extended
// thinking on.
const fidelityRequest = `{"model":"clearbar/%s","max_tokens":8192,"thinking":{"type":"enabled","budget_tokens":4096},
	"system":[{"type":"text","text":"You are a coding agent.","cache_control":{"type":"ephemeral"}},{"type":"text","text":"Be careful."}],
	"tools":[{"name":"bash","description":"Run a command","input_schema":{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]},"cache_control":{"type":"ephemeral"}}],
	"top_k":20,"service_tier":"auto","context_management":{"edits":[{"type":"clear_tool_uses_20250919"}]},"metadata":{"user_id":"u-1"},
	"messages":[
		{"role":"user","content":[{"type":"text","text":"List the files.","cache_control":{"type":"ephemeral"}}]},
		{"role":"assistant","content":[
			{"type":"thinking","thinking":"I should run ls.","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
			{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
			{"type":"text","text":"Running ls."},
			{"type":"tool_use","id":"toolu_01","name":"bash","input":{"cmd":"ls"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":"permission denied","is_error":true,"cache_control":{"type":"ephemeral"}}]}]%s}`

func fidelityBody(category, extra string) string {
	return strings.Replace(strings.Replace(fidelityRequest, "%s", category, 1), "%s", extra, 1)
}

// fidelityMessage is an Anthropic upstream's answer with thinking.
const fidelityMessage = `{"id":"msg_think1","type":"message","role":"assistant","model":"claude-up","content":[{"type":"thinking","thinking":"Permission denied: try sudo.","signature":"EpQBCkYIBRgCKkBsig"},{"type":"redacted_thinking","data":"EmwKAhgBEgy3"},{"type":"text","text":"Retrying with sudo.","citations":null},{"type":"tool_use","id":"toolu_02","name":"bash","input":{"cmd":"sudo ls"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":40,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000,"output_tokens":90,"service_tier":"standard"}}`

// fidelityStream is the same answer streamed, as Anthropic streams it (pings included).
var fidelityStream = []struct{ typ, data string }{
	{"message_start", `{"type":"message_start","message":{"id":"msg_think2","type":"message","role":"assistant","model":"claude-up","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":40,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000,"output_tokens":2}}}`},
	{"ping", `{"type":"ping"}`},
	{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Permission denied:"}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" try sudo."}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EpQBCkYIBRgCKkBsig"}}`},
	{"content_block_stop", `{"type":"content_block_stop","index":0}`},
	{"content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3"}}`},
	{"content_block_stop", `{"type":"content_block_stop","index":1}`},
	{"content_block_start", `{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Retrying with sudo."}}`},
	{"content_block_stop", `{"type":"content_block_stop","index":2}`},
	{"content_block_start", `{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_02","name":"bash","input":{}}}`},
	{"content_block_delta", `{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"cmd\": \"sudo ls\"}"}}`},
	{"content_block_stop", `{"type":"content_block_stop","index":3}`},
	{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":90}}`},
	{"message_stop", `{"type":"message_stop"}`},
}

// postBetas sends a Messages request with anthropic-beta in two header lines, as a client that
// sets betas in two places does.
func (e *antEnv) postBetas(t *testing.T, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("X-Api-Key", antClientKey)
	req.Header.Add("Anthropic-Beta", "interleaved-thinking-2025-05-14")
	req.Header.Add("Anthropic-Beta", "context-management-2025-06-27, extended-cache-ttl-2025-04-11")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// jsonEqual reports whether two JSON documents hold the same values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(va, vb)
}

// checkUpstreamGotAll checks that an Anthropic upstream got the client's request as it was
// sent, the model (and stream) aside, with its betas.
func checkUpstreamGotAll(t *testing.T, up antCall, client string, stream bool) {
	t.Helper()
	want, _ := sjson.SetBytes([]byte(client), "model", "claude-up")
	if stream {
		want, _ = sjson.SetBytes(want, "stream", true)
	}
	if !jsonEqual(t, up.Body, want) {
		t.Errorf("the Anthropic upstream did not get the client's request:\n got %s\nwant %s", up.Body, want)
	}
	if got := up.Header.Get("Anthropic-Beta"); got != "interleaved-thinking-2025-05-14,context-management-2025-06-27,extended-cache-ttl-2025-04-11" {
		t.Errorf("anthropic-beta %q", got)
	}
}

// TestMessagesFidelityAnthropicUpstream: the non-streaming round trip.
func TestMessagesFidelityAnthropicUpstream(t *testing.T) {
	e := newAntEnv(t, "")
	e.an.answer(func(w http.ResponseWriter, c antCall) { writeUpstream(w, 200, fidelityMessage) })
	client := fidelityBody("an", "")
	resp := e.postBetas(t, client)
	body := antBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := checkDecisionHeaders(t, resp, "claude")
	checkUpstreamGotAll(t, e.an.last(t), client, false)
	if string(body) != fidelityMessage {
		t.Errorf("the client did not get the upstream's message:\n got %s\nwant %s", body, fidelityMessage)
	}
	d := e.decision(t, id)
	if d.Usage.PromptTokens != 2340 || d.Usage.CompletionTokens != 90 || d.Usage.CachedTokens != 2000 || d.Usage.CacheWriteTokens != 300 || d.Model != "claude" {
		t.Errorf("decision model %q usage %+v", d.Model, d.Usage)
	}
}

// TestMessagesFidelityAnthropicStream: the streamed round trip. The client gets the upstream's
// events as they came, thinking_delta and signature_delta included, with the upstream's
// contiguous block indices; only the upstream's pings stay behind the gateway.
func TestMessagesFidelityAnthropicStream(t *testing.T) {
	e := newAntEnv(t, "")
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for _, ev := range fidelityStream {
			io.WriteString(w, "event: "+ev.typ+"\ndata: "+ev.data+"\n\n")
			w.(http.Flusher).Flush()
		}
	})
	client := fidelityBody("an", `,"stream":true`)
	resp := e.postBetas(t, client)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d: %s", resp.StatusCode, antBody(t, resp))
	}
	id := checkDecisionHeaders(t, resp, "claude")
	var got []string
	for _, ev := range antEvents(t, resp) {
		if ev.typ != "ping" { // the gateway's own keepalive may ping too
			got = append(got, ev.typ+" "+string(ev.data))
		}
	}
	var want []string
	for _, ev := range fidelityStream {
		if ev.typ != "ping" {
			want = append(want, ev.typ+" "+ev.data)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the client's events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	checkUpstreamGotAll(t, e.an.last(t), client, true)
	d := e.decision(t, id)
	if !d.Stream || d.Usage.PromptTokens != 2340 || d.Usage.CompletionTokens != 90 || d.AnswerChars != len("Retrying with sudo.") {
		t.Errorf("decision stream %v usage %+v answer chars %d", d.Stream, d.Usage, d.AnswerChars)
	}
}

// TestMessagesFidelityOpenAIUpstream: the same request routed to an OpenAI-format upstream.
// The error result says so in the tool message; thinking, cache_control, top_k and the other
// Anthropic-only settings do not reach it (translate's package documentation lists them), nor
// does Clearbar's sidecar. A parameter such a model cannot honour (container) is a 400 naming
// it, which the same request routed to Anthropic does not get.
func TestMessagesFidelityOpenAIUpstream(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.postBetas(t, fidelityBody("oa", ""))
	body := antBody(t, resp)
	if resp.StatusCode != 200 || gjson.GetBytes(body, "content.0.text").String() != "answer from gpt-up" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	up := e.oa.last(t)
	var tool gjson.Result
	for _, m := range gjson.GetBytes(up.Body, "messages").Array() {
		if m.Get("role").String() == "tool" {
			tool = m
		}
	}
	if tool.Get("content").String() != translate.ToolErrorPrefix+"permission denied" || tool.Get("tool_call_id").String() != "call_01" {
		t.Errorf("the tool message %s", tool.Raw)
	}
	for _, s := range []string{translate.AnthropicKey, "thinking", "signature", "redacted", "cache_control", "top_k", "service_tier", "context_management", "interleaved"} {
		if strings.Contains(string(up.Body), s) || strings.Contains(strings.ToLower(strings.Join(up.Header.Values("Anthropic-Beta"), "")), s) {
			t.Errorf("%q reached the OpenAI-format upstream: %s", s, up.Body)
		}
	}

	calls := len(e.oa.calls)
	resp = e.post(t, fidelityBody("oa", `,"container":"cntr_1"`))
	body = antBody(t, resp)
	if resp.StatusCode != 400 {
		t.Fatalf("container to an OpenAI-format upstream: status %d: %s", resp.StatusCode, body)
	}
	checkAnthropicError(t, "container to an OpenAI-format upstream", resp, body, "invalid_request_error", "the request has container, which only Anthropic models take")
	if len(e.oa.calls) != calls {
		t.Error("the refused request reached the upstream")
	}
	resp = e.post(t, fidelityBody("an", `,"container":"cntr_1"`))
	if body := antBody(t, resp); resp.StatusCode != 200 || gjson.GetBytes(e.an.last(t).Body, "container").String() != "cntr_1" {
		t.Errorf("container to Anthropic: status %d %s, upstream %s", resp.StatusCode, body, e.an.last(t).Body)
	}
}

// TestMessagesRefusesWhatAnthropicRefuses: the ingress answers what Anthropic would answer, in
// its words, before any upstream is called: a member that is not a parameter of the Messages
// API, a forced tool_choice without tools, a thinking budget out of Anthropic's bounds.
func TestMessagesRefusesWhatAnthropicRefuses(t *testing.T) {
	e := newAntEnv(t, "")
	for _, tt := range []struct{ explanation, body, message string }{
		{"an unknown member", antReq("an", `,"foo":1`), "foo: Extra inputs are not permitted"},
		{"an OpenAI parameter", antReq("an", `,"response_format":{"type":"json_object"}`), "response_format: Extra inputs are not permitted"},
		{"metadata other than user_id", antReq("an", `,"metadata":{"team":"a"}`), "metadata.team: Extra inputs are not permitted"},
		{"tool_choice any without tools", antReq("an", `,"tool_choice":{"type":"any"}`), "tool_choice may only be specified while providing tools."},
		{"tool_choice tool without tools", antReq("oa", `,"tool_choice":{"type":"tool","name":"f"}`), "tool_choice may only be specified while providing tools."},
		{"a thinking budget below 1024", antReq("an", `,"thinking":{"type":"enabled","budget_tokens":1000}`), "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"},
		{"a thinking budget of max_tokens", `{"model":"clearbar/an","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"x"}]}`, "`max_tokens` must be greater than `thinking.budget_tokens`."},
	} {
		resp := e.post(t, tt.body)
		body := antBody(t, resp)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d: %s", tt.explanation, resp.StatusCode, body)
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, body, "invalid_request_error", tt.message)
		if got := gjson.GetBytes(body, "error.message").String(); got != tt.message {
			t.Errorf("%s: message %q, want %q", tt.explanation, got, tt.message)
		}
	}
	if len(e.an.calls)+len(e.oa.calls) != 0 {
		t.Error("a refused request reached an upstream")
	}
	// count_tokens takes thinking without max_tokens.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages/count_tokens", strings.NewReader(`{"model":"clearbar/an","thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"Hello there"}]}`))
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("X-Api-Key", antClientKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := antBody(t, resp); resp.StatusCode != 200 || gjson.GetBytes(body, "input_tokens").Int() <= 0 {
		t.Errorf("count_tokens with thinking: status %d %s", resp.StatusCode, body)
	}
}

// TestMessagesTakeMoreThanFourStopSequences: OpenAI bounds stop at 4 sequences, Anthropic
// does not bound stop_sequences so; a /v1/messages request with more reaches Anthropic with
// all of them, is refused naming stop_sequences where its route is an OpenAI-format model
// (which would refuse it), and /v1/chat/completions keeps OpenAI's bound.
func TestMessagesTakeMoreThanFourStopSequences(t *testing.T) {
	e := newAntEnv(t, "")
	stops := `["a","b","c","d","e","f"]`
	resp := e.post(t, antReq("an", `,"stop_sequences":`+stops))
	if body := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("six stop_sequences on /v1/messages: status %d %s", resp.StatusCode, body)
	}
	if got := gjson.GetBytes(e.an.last(t).Body, "stop_sequences").Raw; got != stops {
		t.Errorf("the Anthropic upstream got stop_sequences %s, want %s", got, stops)
	}
	resp = e.post(t, antReq("oa", `,"stop_sequences":`+stops))
	if body := antBody(t, resp); resp.StatusCode != 400 || !strings.Contains(gjson.GetBytes(body, "error.message").String(), "stop_sequences") {
		t.Errorf("six stop_sequences to an OpenAI-format model: status %d %s; want a 400 naming stop_sequences", resp.StatusCode, body)
	}
	if len(e.oa.calls) != 0 {
		t.Errorf("the OpenAI-format upstream got %d calls with six stop sequences", len(e.oa.calls))
	}
	chat, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"clearbar/an","messages":[{"role":"user","content":"x"}],"stop":`+stops+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if body := antBody(t, chat); chat.StatusCode != 400 || gjson.GetBytes(body, "error.param").String() != "stop" {
		t.Errorf("six stop sequences on /v1/chat/completions: status %d %s; want OpenAI's 400", chat.StatusCode, body)
	}
}

// TestChatIngressRefusesTheSidecar: the member the /v1/messages translation carries for the
// Anthropic adapter would, sent by an OpenAI client, reach an Anthropic upstream past every
// check the gateway makes (the text routing and validators read, the tools, the parameters
// /v1/messages refuses): the chat ingress refuses it, once or twice, before any upstream call.
func TestChatIngressRefusesTheSidecar(t *testing.T) {
	e := newAntEnv(t, "")
	side := `"` + translate.AnthropicKey + `":{"params":{"mcp_servers":[{"type":"url","url":"https://mcp.example/"}]}}`
	for _, body := range []string{
		`{"model":"clearbar/an","messages":[{"role":"user","content":"x"}],` + side + `}`,
		`{"model":"clearbar/an",` + side + `,"messages":[{"role":"user","content":"x"}],` + side + `}`,
	} {
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if b := antBody(t, resp); resp.StatusCode != 400 || gjson.GetBytes(b, "error.param").String() != translate.AnthropicKey {
			t.Errorf("%s: status %d %s; want a 400 naming %s", body, resp.StatusCode, b, translate.AnthropicKey)
		}
	}
	if len(e.an.calls)+len(e.oa.calls) != 0 {
		t.Error("a request carrying the sidecar reached an upstream")
	}
}

// TestMessagesDocumentWithinMaxBody: a /v1/messages body within server.max_body is served
// though its translation, which carries a text document in both forms, is larger.
func TestMessagesDocumentWithinMaxBody(t *testing.T) {
	e := newAntEnv(t, "server: {max_body: 100KB}\n")
	doc := strings.Repeat("A line of the report. ", 60_000/22)
	body := `{"model":"clearbar/an","max_tokens":64,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","media_type":"text/plain","data":"` + doc + `"}},{"type":"text","text":"Summarise."}]}]}`
	resp := e.post(t, body)
	if b := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("a %d-byte body under a 100KB max_body: status %d %s", len(body), resp.StatusCode, b)
	}
	if got := gjson.GetBytes(e.an.last(t).Body, "messages.0.content.0.source.data").String(); got != doc {
		t.Errorf("the upstream got a document of %d bytes, want %d", len(got), len(doc))
	}
}

// TestChatCompletionsLegacyFunctions: an OpenAI client's deprecated functions and
// function_call are not lost on any route (§2 of the brief). An OpenAI-format upstream gets them
// as they were sent; Anthropic gets them as tools and tool_choice, one call at a time, and the
// client gets the call back in the deprecated form, in an answer and in a stream.
func TestChatCompletionsLegacyFunctions(t *testing.T) {
	e := newAntEnv(t, "")
	post := func(body string) *http.Response {
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	functions := `"functions":[{"name":"weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],"function_call":{"name":"weather"}`
	request := func(category, extra string) string {
		return `{"model":"clearbar/` + category + `","messages":[{"role":"user","content":"Weather in Paris?"}],` + functions + extra + `}`
	}

	resp := post(request("oa", ""))
	if body := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("to an OpenAI-format upstream: status %d %s", resp.StatusCode, body)
	}
	up := e.oa.last(t).Body
	if gjson.GetBytes(up, "functions").Raw != gjson.Get(request("oa", ""), "functions").Raw || gjson.GetBytes(up, "function_call").Raw != `{"name":"weather"}` || gjson.GetBytes(up, "tools").Exists() {
		t.Errorf("the OpenAI-format upstream got %s", up)
	}

	resp = post(request("an", ""))
	body := antBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("to Anthropic: status %d %s", resp.StatusCode, body)
	}
	up = e.an.last(t).Body
	if gjson.GetBytes(up, "tools").Raw != `[{"name":"weather","description":"Weather by city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]` ||
		gjson.GetBytes(up, "tool_choice").Raw != `{"type":"tool","name":"weather","disable_parallel_tool_use":true}` {
		t.Errorf("the Anthropic upstream got %s", up)
	}
	msg := gjson.GetBytes(body, "choices.0.message")
	if msg.Get("function_call.name").String() != "weather" || msg.Get("function_call.arguments").String() != `{"city":"Paris"}` ||
		msg.Get("tool_calls").Exists() || gjson.GetBytes(body, "choices.0.finish_reason").String() != "function_call" {
		t.Errorf("the client's answer %s", body)
	}

	resp = post(request("an", `,"stream":true`))
	defer resp.Body.Close()
	var args, name, finish string
	rd := sse.NewReader(resp.Body)
	for rd.Next() {
		c := gjson.ParseBytes(rd.Event().Data)
		if c.Get("choices.0.delta.tool_calls").Exists() {
			t.Errorf("a tool_calls delta in a functions stream: %s", rd.Event().Data)
		}
		name += c.Get("choices.0.delta.function_call.name").String()
		args += c.Get("choices.0.delta.function_call.arguments").String()
		if f := c.Get("choices.0.finish_reason").String(); f != "" {
			finish = f
		}
	}
	if name != "weather" || !gjson.Valid(args) || gjson.Get(args, "city").String() != "Paris" || finish != "function_call" {
		t.Errorf("the client's stream: function %q arguments %q finish %q", name, args, finish)
	}
}

// TestMessagesThinkingAgentLoopSDK is the agent loop with anthropic-sdk-go v1, as a coding agent
// runs it with extended thinking: a streamed turn ends in a tool call, Message.Accumulate keeps
// its thinking blocks and signature, Message.ToParam sends them back with a failed tool
// result, which Anthropic requires, and the upstream gets them, the beta header and is_error.
func TestMessagesThinkingAgentLoopSDK(t *testing.T) {
	e := newAntEnv(t, "")
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		if !gjson.GetBytes(c.Body, "stream").Bool() {
			writeUpstream(w, 200, fidelityMessage)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for _, ev := range fidelityStream {
			io.WriteString(w, "event: "+ev.typ+"\ndata: "+ev.data+"\n\n")
		}
	})
	client := anthropic.NewClient(anthropicopt.WithoutEnvironmentDefaults(), anthropicopt.WithBaseURL(e.srv.URL),
		anthropicopt.WithAPIKey(antClientKey), anthropicopt.WithHTTPClient(e.srv.Client()), anthropicopt.WithMaxRetries(0),
		anthropicopt.WithHeader("anthropic-beta", "interleaved-thinking-2025-05-14"))
	params := anthropic.MessageNewParams{
		Model: "clearbar/an", MaxTokens: 8192, Thinking: anthropic.ThinkingConfigParamOfEnabled(4096),
		Tools:    []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{Name: "bash", InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"cmd": map[string]any{"type": "string"}}}}}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("List the files."))},
	}
	ctx := t.Context()
	s := client.Messages.NewStreaming(ctx, params)
	var m anthropic.Message
	for s.Next() {
		if err := m.Accumulate(s.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, b := range m.Content {
		kinds = append(kinds, b.Type)
	}
	if strings.Join(kinds, " ") != "thinking redacted_thinking text tool_use" || m.Content[0].Thinking != "Permission denied: try sudo." ||
		m.Content[0].Signature != "EpQBCkYIBRgCKkBsig" || m.Content[1].Data != "EmwKAhgBEgy3" || m.StopReason != "tool_use" {
		t.Fatalf("accumulated %v: %+v", kinds, m)
	}
	if up := e.an.last(t); gjson.GetBytes(up.Body, "thinking").Raw != `{"budget_tokens":4096,"type":"enabled"}` || up.Header.Get("Anthropic-Beta") != "interleaved-thinking-2025-05-14" {
		t.Errorf("the upstream got thinking %s, beta %q", gjson.GetBytes(up.Body, "thinking").Raw, up.Header.Get("Anthropic-Beta"))
	}

	params.Messages = append(params.Messages, m.ToParam(),
		anthropic.NewUserMessage(anthropic.NewToolResultBlock(m.Content[3].ID, "permission denied", true)))
	r, err := client.Messages.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Content) != 4 || r.Content[0].Type != "thinking" || r.Content[0].Signature != "EpQBCkYIBRgCKkBsig" {
		t.Errorf("the answer %+v", r.Content)
	}
	history := gjson.GetBytes(e.an.last(t).Body, "messages")
	for _, c := range []struct{ path, want string }{
		{"1.content.0.type", `"thinking"`}, {"1.content.0.signature", `"EpQBCkYIBRgCKkBsig"`}, {"1.content.0.thinking", `"Permission denied: try sudo."`},
		{"1.content.1.data", `"EmwKAhgBEgy3"`}, {"1.content.3.id", `"toolu_02"`},
		{"2.content.0.is_error", "true"}, {"2.content.0.tool_use_id", `"toolu_02"`},
	} {
		if got := history.Get(c.path).Raw; got != c.want {
			t.Errorf("upstream messages.%s = %s, want %s (%s)", c.path, got, c.want, history.Raw)
		}
	}
}

// mixedVendorCategories route one way or the other between an Anthropic and an OpenAI-format
// model, to watch what routing does with a parameter only Anthropic takes.
const mixedVendorCategories = `  - name: anfb
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: claude}
    fallback: [gpt]
    assume: {pass_rate: {claude: 0.95, gpt: 0.9}}
  - name: oafb
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: gpt}
    fallback: [claude]
    assume: {pass_rate: {claude: 0.95, gpt: 0.9}}
`

// TestAnthropicOnlyParametersSkipOpenAIModels: a /v1/messages request with a parameter only
// Anthropic models take (container) leaves the route's OpenAI-format models out, as a model
// lacking an input is left out, with the reason in the decision: it starts on the Anthropic
// fallback of an OpenAI-format route, it does not fall back from an overloaded Anthropic
// model to an OpenAI-format one (the client gets the overload, not a 400 from the fallback),
// and on a route of OpenAI-format models only it is a 400 naming the parameter.
func TestAnthropicOnlyParametersSkipOpenAIModels(t *testing.T) {
	e := newAntEnv(t, mixedVendorCategories)
	resp := e.post(t, fidelityBody("oafb", `,"container":"cont_1"`))
	if body := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("container on gpt → claude: status %d %s; want claude's answer", resp.StatusCode, body)
	}
	if len(e.oa.calls) != 0 || gjson.GetBytes(e.an.last(t).Body, "container").String() != "cont_1" {
		t.Errorf("the OpenAI-format model was called (%d), or claude did not get the container", len(e.oa.calls))
	}
	if d := e.rec.last(); d.Model != "claude" || len(d.Skipped) != 1 || d.Skipped[0].Model != "gpt" || !strings.Contains(d.Skipped[0].Reason, "cannot take container, which only Anthropic models take") {
		t.Errorf("decision: model %s, skipped %+v", d.Model, d.Skipped)
	}

	e.an.answer(func(w http.ResponseWriter, c antCall) {
		writeUpstream(w, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
	})
	resp = e.post(t, fidelityBody("anfb", `,"container":"cont_1"`))
	if body := antBody(t, resp); resp.StatusCode == 400 || gjson.GetBytes(body, "error.type").String() == "invalid_request_error" {
		t.Errorf("claude overloaded, gpt left out: status %d %s; want the overload", resp.StatusCode, body)
	}
	if len(e.oa.calls) != 0 {
		t.Errorf("the OpenAI-format fallback was called %d times", len(e.oa.calls))
	}

	resp = e.post(t, fidelityBody("oa", `,"container":"cont_1"`))
	body := antBody(t, resp)
	if resp.StatusCode != 400 || !strings.Contains(gjson.GetBytes(body, "error.message").String(), "container, which only Anthropic models take") {
		t.Errorf("container on a route of OpenAI-format models: status %d %s", resp.StatusCode, body)
	}
}

// TestAnthropicOnlyContentSkipsOpenAIModels: a tool of Anthropic's own type (web search) and
// content only Anthropic's API takes (an image in a tool result, Anthropic's server-tool
// blocks in the history) reach an Anthropic model as the client sent them, past the
// OpenAI-format models of the route, which the decision says were left out and why; on a
// route of OpenAI-format models only, the request is a 400 that names what only Anthropic
// models take.
func TestAnthropicOnlyContentSkipsOpenAIModels(t *testing.T) {
	tests := []struct {
		name, body, what string
		// sent is a path of the body that the Anthropic model must get as the client sent it.
		sent string
	}{
		{"web search tool", `{"model":"clearbar/%s","max_tokens":512,"tools":[{"type":"web_search_20250305","name":"web_search","max_uses":2}],
			"messages":[{"role":"user","content":"Find the Go release notes."}]}`, "tools[0] (type web_search_20250305)", "tools"},
		{"image in a tool result", `{"model":"clearbar/%s","max_tokens":512,"tools":[{"name":"screenshot","input_schema":{"type":"object"}}],
			"messages":[{"role":"user","content":"Look at the screen."},
				{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"screenshot","input":{}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]}]}`,
			"messages[2].content[0].content[0] (type image, source base64)", "messages.2.content"},
		{"server tool blocks in the history", `{"model":"clearbar/%s","max_tokens":512,
			"messages":[{"role":"user","content":"What is new in Go?"},
				{"role":"assistant","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"Go"}},
					{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[{"type":"web_search_result","url":"https://go.dev","title":"Go","encrypted_content":"Eqg"}]},
					{"type":"text","text":"Go 1.26."}]},
				{"role":"user","content":"Thanks. And before?"}]}`, "messages[1].content[0] (type server_tool_use)", "messages.1.content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAntEnv(t, mixedVendorCategories)
			body := strings.Replace(tc.body, "%s", "oafb", 1)
			resp := e.post(t, body)
			if got := antBody(t, resp); resp.StatusCode != 200 {
				t.Fatalf("on gpt → claude: status %d %s; want claude's answer", resp.StatusCode, got)
			}
			if len(e.oa.calls) != 0 {
				t.Errorf("the OpenAI-format model was called %d times", len(e.oa.calls))
			}
			if got, want := gjson.GetBytes(e.an.last(t).Body, tc.sent), gjson.Get(body, tc.sent); !jsonEqual(t, []byte(got.Raw), []byte(want.Raw)) {
				t.Errorf("claude got %s %s, want it as sent: %s", tc.sent, got.Raw, want.Raw)
			}
			d := e.rec.last()
			if d.Model != "claude" || len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0].Reason, "cannot take "+tc.what+", which only Anthropic models take") {
				t.Errorf("decision: model %s, skipped %+v", d.Model, d.Skipped)
			}
			if want := tc.name != "server tool blocks in the history"; d.Features.Tools != want {
				t.Errorf("the decision's features say tools %v, want %v", d.Features.Tools, want)
			}

			resp = e.post(t, strings.Replace(tc.body, "%s", "oa", 1))
			got := antBody(t, resp)
			if msg := gjson.GetBytes(got, "error.message").String(); resp.StatusCode != 400 || !strings.Contains(msg, "the request has "+tc.what+", which only Anthropic models take") {
				t.Errorf("on a route of OpenAI-format models: status %d %s", resp.StatusCode, got)
			}
		})
	}
}

// TestWebSearchesBilled: the searches Anthropic's web search tool ran (its usage's
// server_tool_use.web_search_requests) are billed at the catalogue's price per search, $0.01
// for claude-sonnet-4-5, on top of the tokens, in a message and in a stream alike, and the
// decision records how many there were.
func TestWebSearchesBilled(t *testing.T) {
	const usage = `{"input_tokens":100,"output_tokens":50,"server_tool_use":{"web_search_requests":2}}`
	const content = `[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"Go"}},` +
		`{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]},{"type":"text","text":"Go 1.26."}]`
	e := newAntEnv(t, mixedVendorCategories)
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		if !gjson.GetBytes(c.Body, "stream").Bool() {
			writeUpstream(w, 200, `{"id":"msg_ws","type":"message","role":"assistant","model":"claude-up","content":`+content+`,"stop_reason":"end_turn","stop_sequence":null,"usage":`+usage+`}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []struct{ typ, data string }{
			{"message_start", `{"type":"message_start","message":{"id":"msg_ws","type":"message","role":"assistant","model":"claude-up","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":1}}}`},
			{"content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`},
			{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Go 1.26."}}`},
			{"content_block_stop", `{"type":"content_block_stop","index":0}`},
			{"message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":` + usage + `}`},
			{"message_stop", `{"type":"message_stop"}`},
		} {
			io.WriteString(w, "event: "+ev.typ+"\ndata: "+ev.data+"\n\n")
		}
	})
	// 100 input tokens at $3/M, 50 output tokens at $15/M, 2 searches at $0.01.
	want := clearbar.MoneyFromUSD(100*3e-6 + 50*15e-6 + 2*0.01)
	for _, stream := range []string{"", `,"stream":true`} {
		resp := e.post(t, `{"model":"clearbar/an","max_tokens":512,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"What is new in Go?"}]`+stream+`}`)
		if body := antBody(t, resp); resp.StatusCode != 200 {
			t.Fatalf("stream %q: status %d %s", stream, resp.StatusCode, body)
		}
		d := e.rec.last()
		if len(d.Attempts) != 1 || d.Attempts[0].Usage.WebSearches != 2 || d.Attempts[0].Cost != want || d.Cost != want {
			t.Errorf("stream %q: attempts %+v, cost %s; want 2 web searches and %s", stream, d.Attempts, d.Cost, want)
		}
		var b strings.Builder
		if err := WriteExplanation(&b, d); err != nil || !strings.Contains(b.String(), "the answer delivered 100 tokens in, 50 out; 2 web searches") {
			t.Errorf("stream %q: the explanation does not count the searches (%v):\n%s", stream, err, b.String())
		}
	}
}

// TestCacheWritesBilled: prompt tokens Anthropic wrote to its cache (cache_creation_input_tokens)
// bill at the catalogue's cache-write price, $3.75/M for claude-sonnet-4-5 against $3/M of
// input, cache reads at $0.30/M.
func TestCacheWritesBilled(t *testing.T) {
	e := newAntEnv(t, mixedVendorCategories)
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		writeUpstream(w, 200, `{"id":"msg_cw","type":"message","role":"assistant","model":"claude-up","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":4000,"output_tokens":10}}`)
	})
	resp := e.post(t, `{"model":"clearbar/an","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`)
	if body := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	want := clearbar.MoneyFromUSD(100*3e-6 + 2000*3.75e-6 + 4000*0.3e-6 + 10*15e-6)
	if d := e.rec.last(); d.Cost != want {
		t.Errorf("cost %s, want %s: 100 input tokens, 2,000 written to the cache, 4,000 read from it, 10 out", d.Cost, want)
	}
}

// TestCutStreamCountsThinking: an Anthropic stream cut after its thinking reached the client
// is billed, by estimate, for the thinking it streamed, as for streamed text.
func TestCutStreamCountsThinking(t *testing.T) {
	e := newAntEnv(t, "")
	thinking := strings.Repeat("Let me think about this carefully. ", 120) // 4,200 bytes
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for _, ev := range []struct{ typ, data string }{
			fidelityStream[0], fidelityStream[2],
			{"content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"` + thinking + `"}}`},
		} {
			io.WriteString(w, "event: "+ev.typ+"\ndata: "+ev.data+"\n\n")
		}
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack() // the connection drops mid-answer
		conn.Close()
	})
	resp := e.post(t, fidelityBody("an", `,"stream":true`))
	antBody(t, resp)
	d := e.rec.last()
	if len(d.Attempts) == 0 {
		t.Fatalf("no attempt recorded: %+v", d)
	}
	a := d.Attempts[0]
	if want := clearbar.TokensOfBytes(len(thinking)); !a.UsageEstimated || a.Usage.CompletionTokens < want {
		t.Errorf("attempt usage %+v, estimated %v; want at least the %d tokens of thinking streamed", a.Usage, a.UsageEstimated, want)
	}
}
