package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	anthropicadapter "github.com/clearbar/clearbar/provider/anthropic"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/sse"
)

// The Anthropic ingress end to end: an Anthropic client (raw HTTP, checked as strictly as the
// Anthropic SDKs read) talks to the gateway, which routes by the spec to a fake OpenAI-format
// upstream (category "oa", through the real provider/openai adapter) or a fake Anthropic
// upstream (category "an", through provider/anthropic). Items of the conformance checklist
// (§8 of the API conformance brief) are named where a test covers them.

const (
	antOAKey     = "sk-oa-upstream-SECRET-key"
	antANKey     = "sk-ant-upstream-SECRET-key"
	antClientKey = "client-key-ant"
)

const antSpec = `version: 1
name: anthropic-ingress
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0, backoff: 1ms}
providers:
  oa: {type: openai-compatible, base_url: OA_URL/v1, api_key: "` + antOAKey + `"}
  an: {type: anthropic, base_url: AN_URL, api_key: "` + antANKey + `"}
models:
  gpt:    {provider: oa, model: gpt-up, catalog: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
  claude: {provider: an, model: claude-up, catalog: claude-sonnet-4-5, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: oa
    default: true
    share: 0.5
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: gpt}
    assume: {pass_rate: {gpt: 0.95}}
  - name: an
    share: 0.5
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: claude}
    assume: {pass_rate: {claude: 0.95}}
`

// antCall is one request a fake upstream received.
type antCall struct {
	Path   string
	Header http.Header
	Body   []byte
}

// antUpstream is a fake upstream that records calls and answers with its script.
type antUpstream struct {
	srv    *httptest.Server
	mu     sync.Mutex
	calls  []antCall
	script func(w http.ResponseWriter, c antCall)
}

func newAntUpstream(t *testing.T, def func(w http.ResponseWriter, c antCall)) *antUpstream {
	u := &antUpstream{script: def}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := antCall{Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		u.mu.Lock()
		u.calls = append(u.calls, c)
		script := u.script
		u.mu.Unlock()
		script(w, c)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *antUpstream) last(t *testing.T) antCall {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.calls) == 0 {
		t.Fatal("the upstream got no call")
	}
	return u.calls[len(u.calls)-1]
}

func (u *antUpstream) answer(s func(w http.ResponseWriter, c antCall)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.script = s
}

// antEnv is a gateway with both fake upstreams.
type antEnv struct {
	srv    *httptest.Server
	gw     *Gateway
	oa, an *antUpstream
	rec    *memRecorder
}

func newAntEnv(t *testing.T, extra string) *antEnv {
	t.Helper()
	e := &antEnv{rec: &memRecorder{}}
	e.oa = newAntUpstream(t, oaAnswer)
	e.an = newAntUpstream(t, anAnswer)
	src := strings.NewReplacer("OA_URL", e.oa.srv.URL, "AN_URL", e.an.srv.URL).Replace(antSpec) + extra
	s, err := spec.Parse([]byte(src), "anthropic.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("openai-compatible", openaiadapter.New)
	reg.Register("anthropic", anthropicadapter.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.gw, err = New(Options{Spec: s, Providers: providers, Recorder: e.rec, Decisions: e.rec})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.gw)
	t.Cleanup(e.srv.Close)
	return e
}

// post sends a Messages request with anthropic-version 2023-06-01 and x-api-key; headers
// override them ("" removes one).
func (e *antEnv) post(t *testing.T, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("X-Api-Key", antClientKey)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func antBody(t *testing.T, r *http.Response) []byte {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func antJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// oaAnswer answers as an OpenAI-compatible upstream: tool calls when the request offers tools
// and its last message is the user's, else text; streams when asked.
func oaAnswer(w http.ResponseWriter, c antCall) {
	body := c.Body
	model := gjson.GetBytes(body, "model").String()
	wantTool := gjson.GetBytes(body, "tools").IsArray() && gjson.GetBytes(body, "messages.@reverse.0.role").String() == "user"
	if !gjson.GetBytes(body, "stream").Bool() {
		w.Header().Set("Content-Type", "application/json")
		msg := `{"role":"assistant","content":"answer from ` + model + `","refusal":null}`
		finish := "stop"
		if wantTool {
			msg = `{"role":"assistant","content":null,"tool_calls":[{"id":"call_w1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]}`
			finish = "tool_calls"
		}
		io.WriteString(w, `{"id":"chatcmpl-oa1","object":"chat.completion","created":1,"model":`+antJS(model)+`,"choices":[{"index":0,"message":`+msg+`,"logprobs":null,"finish_reason":"`+finish+`"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":6}}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	send := func(d string) {
		io.WriteString(w, "data: "+d+"\n\n")
		w.(http.Flusher).Flush()
	}
	chunk := func(delta, finish string) string {
		fr := "null"
		if finish != "" {
			fr = `"` + finish + `"`
		}
		return `{"id":"chatcmpl-oas","object":"chat.completion.chunk","created":1,"model":` + antJS(model) + `,"choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + fr + `}],"usage":null}`
	}
	send(chunk(`{"role":"assistant","content":""}`, ""))
	finish := "stop"
	if wantTool {
		send(chunk(`{"tool_calls":[{"index":0,"id":"call_s1","type":"function","function":{"name":"weather","arguments":""}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`, ""))
		send(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`, ""))
		finish = "tool_calls"
	} else {
		send(chunk(`{"content":"Hello"}`, ""))
		send(chunk(`{"content":", world"}`, ""))
	}
	send(chunk(`{}`, finish))
	if gjson.GetBytes(body, "stream_options.include_usage").Bool() {
		send(`{"id":"chatcmpl-oas","object":"chat.completion.chunk","created":1,"model":` + antJS(model) + `,"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":2}}}`)
	}
	send("[DONE]")
}

// anAnswer answers as Anthropic does: a tool_use when the request offers tools and its last
// message is the user's text, else text; streams when asked.
func anAnswer(w http.ResponseWriter, c antCall) {
	body := c.Body
	model := gjson.GetBytes(body, "model").String()
	last := gjson.GetBytes(body, "messages.@reverse.0")
	wantTool := gjson.GetBytes(body, "tools").IsArray() && !strings.Contains(last.Raw, "tool_result")
	if !gjson.GetBytes(body, "stream").Bool() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_an_upstream")
		content, stop := `[{"type":"text","text":"Bonjour"}]`, "end_turn"
		if wantTool {
			content, stop = `[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}}]`, "tool_use"
		}
		io.WriteString(w, `{"id":"msg_an1","type":"message","role":"assistant","model":`+antJS(model)+`,"content":`+content+`,"stop_reason":"`+stop+`","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":4}}`)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	ev := func(typ, data string) {
		io.WriteString(w, "event: "+typ+"\ndata: "+data+"\n\n")
		w.(http.Flusher).Flush()
	}
	ev("message_start", `{"type":"message_start","message":{"id":"msg_an_s","type":"message","role":"assistant","content":[],"model":`+antJS(model)+`,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":1}}}`)
	ev("ping", `{"type":"ping"}`)
	ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Bon"}}`)
	ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"jour"}}`)
	ev("content_block_stop", `{"type":"content_block_stop","index":0}`)
	stop := "end_turn"
	if wantTool {
		ev("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_s1","name":"weather","input":{}}}`)
		ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}`)
		ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`)
		ev("content_block_stop", `{"type":"content_block_stop","index":1}`)
		stop = "tool_use"
	}
	ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"`+stop+`","stop_sequence":null},"usage":{"output_tokens":4}}`)
	ev("message_stop", `{"type":"message_stop"}`)
}

// antEvent is one event of the client's stream.
type antEvent struct {
	typ  string
	data []byte
}

func antEvents(t *testing.T, r *http.Response) []antEvent {
	t.Helper()
	defer r.Body.Close()
	var out []antEvent
	rd := sse.NewReader(r.Body)
	for rd.Next() {
		e := rd.Event()
		out = append(out, antEvent{e.Type, bytes.Clone(e.Data)})
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
	return out
}

// antMessage is what an Anthropic client accumulates.
type antMessage struct {
	ID, Model, StopReason string
	Text                  string
	Tools                 []string // "id name input"
	Usage                 [4]int64 // input, cache_creation, cache_read, output
	Blocks                int
}

// antAccumulate reads a stream as strictly as the Anthropic SDKs together: event lines
// everywhere (§8 item 32) matching the data's type, message_start first, contiguous block
// indices from 0, deltas and stops for the block last started and still open, tool inputs that
// accumulate to JSON objects (item 33), message_delta then message_stop last. An error event
// is returned as the error.
func antAccumulate(events []antEvent) (antMessage, error) {
	var m antMessage
	open, started, done := -1, false, false
	var kinds []string
	inputs := map[int]string{}
	for i, e := range events {
		d := gjson.ParseBytes(e.data)
		if e.typ == "" || d.Get("type").String() != e.typ {
			return m, fmt.Errorf("event %d: event line %q, data %s", i, e.typ, e.data)
		}
		if done {
			return m, fmt.Errorf("event %d after message_stop", i)
		}
		idx := int(d.Get("index").Int())
		switch e.typ {
		case "message_start":
			if started {
				return m, fmt.Errorf("second message_start")
			}
			started = true
			m.ID, m.Model = d.Get("message.id").String(), d.Get("message.model").String()
			m.Usage = antUsage(d.Get("message.usage"), m.Usage)
		case "ping":
		case "error":
			return m, fmt.Errorf("error event: %s", d.Get("error.type").String())
		default:
			if !started {
				return m, fmt.Errorf("event %d (%s) before message_start", i, e.typ)
			}
		}
		switch e.typ {
		case "content_block_start":
			if open >= 0 || idx != len(kinds) {
				return m, fmt.Errorf("event %d: block %d starts (open %d, %d started)", i, idx, open, len(kinds))
			}
			b := d.Get("content_block")
			kinds = append(kinds, b.Get("type").String())
			if b.Get("type").String() == "tool_use" {
				if b.Get("input").Raw != "{}" {
					return m, fmt.Errorf("tool_use starts with input %s", b.Get("input").Raw)
				}
				m.Tools = append(m.Tools, b.Get("id").String()+" "+b.Get("name").String())
			}
			open = idx
		case "content_block_delta":
			if idx != open {
				return m, fmt.Errorf("event %d: delta for block %d, open is %d", i, idx, open)
			}
			switch dt := d.Get("delta.type").String(); {
			case dt == "text_delta" && kinds[idx] == "text":
				m.Text += d.Get("delta.text").String()
			case dt == "input_json_delta" && kinds[idx] == "tool_use":
				inputs[idx] += d.Get("delta.partial_json").String()
			default:
				return m, fmt.Errorf("event %d: %s delta in a %s block", i, dt, kinds[idx])
			}
		case "content_block_stop":
			if idx != open {
				return m, fmt.Errorf("event %d: stop for block %d, open is %d", i, idx, open)
			}
			if kinds[idx] == "tool_use" {
				in := inputs[idx]
				if in == "" {
					in = "{}"
				}
				if !gjson.Valid(in) || !gjson.Parse(in).IsObject() {
					return m, fmt.Errorf("tool input %q is not a JSON object", in)
				}
				m.Tools[len(m.Tools)-1] += " " + gjson.Parse(in).Get("@ugly").Raw
			}
			open = -1
		case "message_delta":
			if open >= 0 {
				return m, fmt.Errorf("message_delta with block %d open", open)
			}
			m.StopReason = d.Get("delta.stop_reason").String()
			m.Usage = antUsage(d.Get("usage"), m.Usage)
		case "message_stop":
			done = true
		}
	}
	if !done {
		return m, fmt.Errorf("no message_stop")
	}
	m.Blocks = len(kinds)
	return m, nil
}

func antUsage(u gjson.Result, prev [4]int64) [4]int64 {
	for i, k := range []string{"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens"} {
		if v := u.Get(k); v.Exists() {
			prev[i] = v.Int()
		}
	}
	return prev
}

// checkDecisionHeaders checks the explanation headers every answer carries (item 39), and
// that request-id, which the Anthropic SDKs expose, is the decision id (item 31).
func checkDecisionHeaders(t *testing.T, resp *http.Response, model string) string {
	t.Helper()
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	if id == "" || resp.Header.Get("Request-Id") != id || resp.Header.Get("X-Request-Id") != id {
		t.Errorf("decision id %q, request-id %q, x-request-id %q", id, resp.Header.Get("Request-Id"), resp.Header.Get("X-Request-Id"))
	}
	if resp.Header.Get("X-Clearbar-Attempts") == "" {
		t.Error("no X-Clearbar-Attempts")
	}
	if model != "" && resp.Header.Get("X-Clearbar-Model") != model {
		t.Errorf("X-Clearbar-Model %q, want %q", resp.Header.Get("X-Clearbar-Model"), model)
	}
	return id
}

func (e *antEnv) decision(t *testing.T, id string) *clearbar.Decision {
	t.Helper()
	d := e.rec.last()
	if d == nil || d.ID != id {
		t.Fatalf("no decision %s recorded", id)
	}
	if d.Dialect != clearbar.DialectAnthropic || d.Path != "/v1/messages" {
		t.Errorf("decision dialect %q path %q", d.Dialect, d.Path)
	}
	return d
}

const antHello = `{"model":"clearbar/%s","max_tokens":256,"system":"Be brief.","messages":[{"role":"user","content":"Hello"}]%s}`

func antReq(category, extra string) string { return fmt.Sprintf(antHello, category, extra) }

// TestMessagesToOpenAIUpstream: a non-streaming Messages request routed to an OpenAI-format
// upstream gets an Anthropic message back, with usage in Anthropic's accounting (item 31), and
// the upstream gets an OpenAI request with the gateway's key, not the client's.
func TestMessagesToOpenAIUpstream(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, antReq("oa", `,"temperature":0.5,"stop_sequences":["END"],"metadata":{"user_id":"u-7"}`))
	body := antBody(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	id := checkDecisionHeaders(t, resp, "gpt")
	for _, c := range []struct{ path, want string }{
		{"type", `"message"`}, {"role", `"assistant"`}, {"id", `"msg_chatcmpl-oa1"`}, {"model", `"gpt-up"`},
		{"content", `[{"type":"text","text":"answer from gpt-up"}]`}, {"stop_reason", `"end_turn"`}, {"stop_sequence", "null"},
		{"usage", `{"input_tokens":13,"cache_creation_input_tokens":0,"cache_read_input_tokens":6,"output_tokens":10}`},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	up := e.oa.last(t)
	if up.Path != "/v1/chat/completions" || up.Header.Get("Authorization") != "Bearer "+antOAKey || up.Header.Get("X-Api-Key") != "" || up.Header.Get("Anthropic-Version") != "" {
		t.Errorf("upstream call %s with headers %v", up.Path, up.Header)
	}
	for _, c := range []struct{ path, want string }{
		{"model", `"gpt-up"`}, {"messages", `[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]`},
		{"max_tokens", "256"}, {"temperature", "0.5"}, {"stop", `["END"]`}, {"user", `"u-7"`},
	} {
		if got := gjson.GetBytes(up.Body, c.path).Raw; got != c.want {
			t.Errorf("upstream %s = %s, want %s", c.path, got, c.want)
		}
	}
	d := e.decision(t, id)
	if d.Model != "gpt" || d.Category != "oa" || d.Status != 200 || d.Usage.PromptTokens != 19 {
		t.Errorf("decision model %q category %q status %d usage %+v", d.Model, d.Category, d.Status, d.Usage)
	}
}

// TestMessagesToAnthropicUpstream: the same request routed to Anthropic comes back with the
// upstream's message id and its cache counts exactly as Anthropic reported them.
func TestMessagesToAnthropicUpstream(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, antReq("an", ""))
	body := antBody(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	checkDecisionHeaders(t, resp, "claude")
	for _, c := range []struct{ path, want string }{
		{"id", `"msg_an1"`}, {"content", `[{"type":"text","text":"Bonjour"}]`}, {"stop_reason", `"end_turn"`},
		{"usage", `{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":4}`},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	up := e.an.last(t)
	if up.Path != "/v1/messages" || up.Header.Get("X-Api-Key") != antANKey || up.Header.Get("Anthropic-Version") != "2023-06-01" || up.Header.Get("Authorization") != "" {
		t.Errorf("upstream call %s with headers %v", up.Path, up.Header)
	}
	if got := gjson.GetBytes(up.Body, "system").Raw + " " + gjson.GetBytes(up.Body, "max_tokens").Raw + " " + gjson.GetBytes(up.Body, "model").Raw; got != `"Be brief." 256 "claude-up"` {
		t.Errorf("upstream body: %s", up.Body)
	}
}

// TestMessagesStream: a streamed Messages request, to either kind of upstream, is an Anthropic
// event stream the strictest client accepts (item 32), with the decision headers before the
// first byte (item 39) and the final usage in message_delta, also from an OpenAI upstream.
func TestMessagesStream(t *testing.T) {
	e := newAntEnv(t, "")
	for _, tt := range []struct {
		category, model, text string
		usage                 [4]int64
	}{
		{"oa", "gpt", "Hello, world", [4]int64{10, 0, 2, 3}},
		{"an", "claude", "Bonjour", [4]int64{10, 5, 100, 4}},
	} {
		resp := e.post(t, antReq(tt.category, `,"stream":true`))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("%s: status %d type %q: %s", tt.category, resp.StatusCode, resp.Header.Get("Content-Type"), antBody(t, resp))
		}
		id := checkDecisionHeaders(t, resp, tt.model)
		m, err := antAccumulate(antEvents(t, resp))
		if err != nil {
			t.Fatalf("%s: %v", tt.category, err)
		}
		if m.Text != tt.text || m.StopReason != "end_turn" || m.Usage != tt.usage || m.Blocks != 1 {
			t.Errorf("%s: %+v", tt.category, m)
		}
		if d := e.decision(t, id); !d.Stream || d.Model != tt.model {
			t.Errorf("%s: decision stream %v model %q", tt.category, d.Stream, d.Model)
		}
	}
	if up := e.oa.last(t); !gjson.GetBytes(up.Body, "stream_options.include_usage").Bool() {
		t.Errorf("the OpenAI upstream was not asked for usage: %s", up.Body)
	}
}

// TestMessagesAuthAndVersions: x-api-key (Go SDK v1) and Authorization: Bearer (Go SDK v2, TS
// 1.x) are both accepted, with anthropic-version 2023-06-01 and 2026-10-21; a missing version
// is a 400 as Anthropic gives (item 30); sampling parameters with 2026-10-21 are a 400 too
// (item 35). Errors are Anthropic-shaped with request-id.
func TestMessagesAuthAndVersions(t *testing.T) {
	e := newAntEnv(t, "keys:\n  clients:\n    - {name: app, hash: \""+HashKey(antClientKey)+"\", tier: pro}\n")
	tests := []struct {
		explanation string
		headers     []string
		body        string
		status      int
		errType     string
		message     string
	}{
		{"x-api-key with 2023-06-01 (anthropic-sdk-go v1)", nil, antReq("oa", ""), 200, "", ""},
		{"Bearer with 2026-10-21 (anthropic-sdk-go v2, @anthropic-ai/sdk 1.x)", []string{"X-Api-Key", "", "Authorization", "Bearer " + antClientKey, "Anthropic-Version", "2026-10-21"}, antReq("an", ""), 200, "", ""},
		{"x-api-key with 2026-10-21", []string{"Anthropic-Version", "2026-10-21"}, antReq("oa", ""), 200, "", ""},
		{"Bearer with 2023-06-01", []string{"X-Api-Key", "", "Authorization", "Bearer " + antClientKey}, antReq("oa", ""), 200, "", ""},
		{"no key", []string{"X-Api-Key", ""}, antReq("oa", ""), 401, "authentication_error", "needs an API key"},
		{"a wrong key", []string{"X-Api-Key", "nope"}, antReq("oa", ""), 401, "authentication_error", "not valid"},
		{"no version", []string{"Anthropic-Version", ""}, antReq("oa", ""), 400, "invalid_request_error", "anthropic-version: header is required"},
		{"an unknown version", []string{"Anthropic-Version", "2022-01-01"}, antReq("oa", ""), 400, "invalid_request_error", "2023-06-01, 2026-10-21"},
		{"temperature with 2026-10-21", []string{"Anthropic-Version", "2026-10-21"}, antReq("oa", `,"temperature":0.2`), 400, "invalid_request_error", "temperature"},
		{"temperature with 2023-06-01", nil, antReq("oa", `,"temperature":0.2`), 200, "", ""},
	}
	for _, tt := range tests {
		resp := e.post(t, tt.body, tt.headers...)
		body := antBody(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.explanation, resp.StatusCode, tt.status, body)
			continue
		}
		if resp.Header.Get("Request-Id") == "" {
			t.Errorf("%s: no request-id", tt.explanation)
		}
		if tt.status == 200 {
			if gjson.GetBytes(body, "type").String() != "message" {
				t.Errorf("%s: %s", tt.explanation, body)
			}
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, body, tt.errType, tt.message)
	}
	if got := e.rec.last(); got.Client != "app" || got.Tier != "pro" {
		t.Errorf("the decision does not name the client: %q %q", got.Client, got.Tier)
	}
}

// checkAnthropicError checks Anthropic's error envelope: {"type":"error","error":{"type",
// "message"},"request_id"}, request_id the request-id header.
func checkAnthropicError(t *testing.T, explanation string, resp *http.Response, body []byte, errType, message string) {
	t.Helper()
	d := gjson.ParseBytes(body)
	switch {
	case d.Get("type").String() != "error" || !d.Get("error").IsObject():
		t.Errorf("%s: not Anthropic's envelope: %s", explanation, body)
	case d.Get("error.type").String() != errType:
		t.Errorf("%s: error type %q, want %q: %s", explanation, d.Get("error.type").String(), errType, body)
	case !strings.Contains(d.Get("error.message").String(), message):
		t.Errorf("%s: message %q lacks %q", explanation, d.Get("error.message").String(), message)
	case d.Get("request_id").String() != resp.Header.Get("Request-Id"):
		t.Errorf("%s: request_id %q, header %q", explanation, d.Get("request_id").String(), resp.Header.Get("Request-Id"))
	case resp.Header.Get("Content-Type") != "application/json":
		t.Errorf("%s: content type %q", explanation, resp.Header.Get("Content-Type"))
	}
	if bytes.Contains(body, []byte(antOAKey)) || bytes.Contains(body, []byte(antANKey)) {
		t.Errorf("%s: an upstream key leaks: %s", explanation, body)
	}
}

// TestMessagesErrors: failures reach an Anthropic client in Anthropic's shape, with the status
// and retry headers an OpenAI client would get (item 34: 429 and 529 are retryable statuses
// with their types; 400 is not). An Anthropic upstream's 529 stays a 529, which Anthropic's
// SDKs raise as OverloadedError, and so is another upstream's overload.
func TestMessagesErrors(t *testing.T) {
	e := newAntEnv(t, "")
	tests := []struct {
		explanation string
		upstream    *antUpstream
		answer      func(w http.ResponseWriter, c antCall)
		body        string
		status      int
		errType     string
		message     string
		retryAfter  bool
	}{
		{"an OpenAI upstream's 429", e.oa, func(w http.ResponseWriter, c antCall) {
			w.Header().Set("Retry-After-Ms", "40")
			writeUpstream(w, 429, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		}, antReq("oa", ""), 429, "rate_limit_error", "Rate limit reached", true},
		{"Anthropic's 529", e.an, func(w http.ResponseWriter, c antCall) {
			writeUpstream(w, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		}, antReq("an", ""), 529, "overloaded_error", "Overloaded", false},
		{"Anthropic's 529 on a stream request, before the first byte", e.an, func(w http.ResponseWriter, c antCall) {
			writeUpstream(w, 529, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
		}, antReq("an", `,"stream":true`), 529, "overloaded_error", "Overloaded", false},
		{"an upstream 400", e.an, func(w http.ResponseWriter, c antCall) {
			writeUpstream(w, 400, `{"type":"error","error":{"type":"invalid_request_error","message":"messages: bad"}}`)
		}, antReq("an", ""), 400, "invalid_request_error", "messages: bad", false},
		{"a server tool cannot be routed", nil, nil, antReq("oa", `,"tools":[{"type":"web_search_20250305","name":"web_search"}]`), 400, "invalid_request_error", "tools[0] (type web_search_20250305), which only Anthropic models take", false},
		{"a body that is not JSON", nil, nil, `{"model":`, 400, "invalid_request_error", "not a JSON object", false},
		{"no max_tokens", nil, nil, `{"model":"clearbar/oa","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "max_tokens", false},
	}
	for _, tt := range tests {
		if tt.upstream != nil {
			tt.upstream.answer(tt.answer)
		}
		resp := e.post(t, tt.body)
		body := antBody(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.explanation, resp.StatusCode, tt.status, body)
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, body, tt.errType, tt.message)
		if resp.Header.Get("X-Clearbar-Decision-Id") == "" {
			t.Errorf("%s: no decision header on the error", tt.explanation)
		}
		if tt.retryAfter && resp.Header.Get("Retry-After-Ms") == "" {
			t.Errorf("%s: no retry-after-ms", tt.explanation)
		}
		e.oa.answer(oaAnswer)
		e.an.answer(anAnswer)
	}
}

func writeUpstream(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// TestMessagesMidStreamError: an upstream failure after the first byte ends the client's
// stream with Anthropic's error event, never with message_stop (item 34); an Anthropic
// upstream's own error type reaches the client.
func TestMessagesMidStreamError(t *testing.T) {
	e := newAntEnv(t, "")
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message_start\ndata: "+`{"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant","content":[],"model":"claude-up","usage":{"input_tokens":3,"output_tokens":1}}}`+"\n\n")
		io.WriteString(w, "event: content_block_start\ndata: "+`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`+"\n\n")
		io.WriteString(w, "event: content_block_delta\ndata: "+`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Part"}}`+"\n\n")
		io.WriteString(w, "event: error\ndata: "+`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`+"\n\n")
	})
	e.oa.answer(func(w http.ResponseWriter, c antCall) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-up","choices":[{"index":0,"delta":{"role":"assistant","content":"Part"},"finish_reason":null}]}`+"\n\n")
		io.WriteString(w, `data: {"error":{"message":"The server had an error","type":"server_error","code":"internal_error"}}`+"\n\n")
	})
	for _, tt := range []struct{ category, errType string }{{"an", "overloaded_error"}, {"oa", "api_error"}} {
		resp := e.post(t, antReq(tt.category, `,"stream":true`))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", tt.category, resp.StatusCode)
		}
		id := checkDecisionHeaders(t, resp, "")
		events := antEvents(t, resp)
		last := events[len(events)-1]
		if last.typ != "error" || gjson.GetBytes(last.data, "error.type").String() != tt.errType || gjson.GetBytes(last.data, "type").String() != "error" {
			t.Errorf("%s: the stream ends with %s %s, want an %s error event", tt.category, last.typ, last.data, tt.errType)
		}
		for _, ev := range events {
			if ev.typ == "message_stop" || ev.typ == "message_delta" {
				t.Errorf("%s: a cut stream must not look complete: %s", tt.category, ev.typ)
			}
		}
		if _, err := antAccumulate(events); err == nil || !strings.Contains(err.Error(), tt.errType) {
			t.Errorf("%s: a client sees %v", tt.category, err)
		}
		if d := e.decision(t, id); d.Outcome != clearbar.StreamCut {
			t.Errorf("%s: decision outcome %s", tt.category, d.Outcome)
		}
	}
}

// TestMessagesToolRoundTrip: tools offered by an Anthropic client reach either upstream, the
// model's calls come back as tool_use blocks with JSON-object inputs (non-stream and stream,
// item 33) and Anthropic's toolu_ ids (an OpenAI upstream's call_X is toolu_X), and the next
// turn's tool_use/tool_result history reaches the upstream as the upstream's own format
// expects, with the ids it gave (item 7).
func TestMessagesToolRoundTrip(t *testing.T) {
	e := newAntEnv(t, "")
	tools := `,"tools":[{"name":"weather","description":"Weather by city","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],"tool_choice":{"type":"auto"}`
	for _, tt := range []struct {
		category, id string // id is the client's, upstreamID the upstream's
		upstreamID   string
		stream       bool
		want         []string
		text         string
	}{
		{"oa", "toolu_w1", "call_w1", false, []string{`toolu_w1 weather {"city":"Paris"}`}, ""},
		{"oa", "toolu_s1", "call_s1", true, []string{`toolu_s1 weather {"city":"Paris"}`}, ""},
		{"an", "toolu_1", "toolu_1", false, []string{`toolu_1 weather {"city":"Paris"}`}, "Checking."},
		{"an", "toolu_s1", "toolu_s1", true, []string{`toolu_s1 weather {"city":"Paris"}`}, "Bonjour"},
	} {
		name := tt.category + map[bool]string{false: " complete", true: " stream"}[tt.stream]
		extra := tools
		if tt.stream {
			extra += `,"stream":true`
		}
		resp := e.post(t, antReq(tt.category, extra))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", name, resp.StatusCode, antBody(t, resp))
		}
		var m antMessage
		if tt.stream {
			var err error
			if m, err = antAccumulate(antEvents(t, resp)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		} else {
			body := antBody(t, resp)
			m.StopReason = gjson.GetBytes(body, "stop_reason").String()
			for _, b := range gjson.GetBytes(body, "content").Array() {
				switch b.Get("type").String() {
				case "text":
					m.Text += b.Get("text").String()
				case "tool_use":
					if !b.Get("input").IsObject() {
						t.Errorf("%s: input is not an object: %s", name, b.Raw)
					}
					m.Tools = append(m.Tools, b.Get("id").String()+" "+b.Get("name").String()+" "+b.Get("input").Get("@ugly").Raw)
				}
			}
		}
		if m.StopReason != "tool_use" || strings.Join(m.Tools, "|") != strings.Join(tt.want, "|") || m.Text != tt.text {
			t.Errorf("%s: stop %q tools %q text %q", name, m.StopReason, m.Tools, m.Text)
		}

		// The next turn sends the call and its result back.
		next := fmt.Sprintf(`{"model":"clearbar/%s","max_tokens":100%s,"messages":[{"role":"user","content":"Weather in Paris?"},`+
			`{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"%s","name":"weather","input":{"city":"Paris"}}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":"%s","content":"18C and sunny"}]}]}`, tt.category, tools, tt.id, tt.id)
		resp = e.post(t, next)
		if body := antBody(t, resp); resp.StatusCode != 200 || gjson.GetBytes(body, "stop_reason").String() != "end_turn" {
			t.Fatalf("%s: second turn: %d %s", name, resp.StatusCode, body)
		}
		if tt.category == "oa" {
			up := e.oa.last(t).Body
			if got := gjson.GetBytes(up, "messages.1.tool_calls.0").Raw; got != `{"id":"`+tt.upstreamID+`","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}` {
				t.Errorf("%s: upstream assistant tool call %s", name, got)
			}
			if got := gjson.GetBytes(up, "messages.2").Raw; got != `{"role":"tool","tool_call_id":"`+tt.upstreamID+`","content":"18C and sunny"}` {
				t.Errorf("%s: upstream tool message %s", name, got)
			}
			if got := gjson.GetBytes(up, "tools.0.function.parameters.required").Raw; got != `["city"]` {
				t.Errorf("%s: upstream tools %s", name, gjson.GetBytes(up, "tools").Raw)
			}
		} else {
			up := e.an.last(t).Body
			if got := gjson.GetBytes(up, "messages.1.content.1").Raw; got != `{"type":"tool_use","id":"`+tt.upstreamID+`","name":"weather","input":{"city":"Paris"}}` {
				t.Errorf("%s: upstream tool_use %s", name, got)
			}
			if got := gjson.GetBytes(up, "messages.2.content").Raw; got != `[{"type":"tool_result","tool_use_id":"`+tt.upstreamID+`","content":"18C and sunny"}]` {
				t.Errorf("%s: upstream tool_result %s", name, got)
			}
			if got := gjson.GetBytes(up, "tool_choice").Raw; got != `{"type":"auto"}` {
				t.Errorf("%s: upstream tool_choice %s", name, got)
			}
		}
	}
}

// TestMessagesRoutingHints: an Anthropic client's routing hints (metadata clearbar_category,
// the X-Clearbar-Category header) route it and never reach the upstream.
func TestMessagesRoutingHints(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, `{"model":"whatever","max_tokens":10,"metadata":{"user_id":"u","clearbar_category":"an"},"messages":[{"role":"user","content":"x"}]}`)
	if body := antBody(t, resp); resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Category") != "an" {
		t.Fatalf("metadata hint: %d %q %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Category"), body)
	}
	if up := e.an.last(t).Body; gjson.GetBytes(up, "metadata").Raw != `{"user_id":"u"}` {
		t.Errorf("the hint reached the upstream: %s", up)
	}
	resp = e.post(t, `{"model":"whatever","max_tokens":10,"messages":[{"role":"user","content":"x"}]}`, "X-Clearbar-Category", "an")
	if antBody(t, resp); resp.Header.Get("X-Clearbar-Category") != "an" {
		t.Errorf("header hint: category %q", resp.Header.Get("X-Clearbar-Category"))
	}
}

// TestAnthropicWriterSplitsWrites feeds the transcoder the pipeline's stream in pieces that
// split events anywhere, with a keep-alive comment and multi-line data: the client's events
// are the same as for whole writes.
func TestAnthropicWriterSplitsWrites(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\n" +
		"data: \"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1,\"total_tokens\":5}}\n\n" +
		"data: [DONE]\n\n"
	run := func(step int) []antEvent {
		rec := httptest.NewRecorder()
		aw := newAnthropicWriter(rec)
		aw.Header().Set("Content-Type", "text/event-stream")
		aw.WriteHeader(200)
		for i := 0; i < len(stream); i += step {
			if _, err := aw.Write([]byte(stream[i:min(i+step, len(stream))])); err != nil {
				t.Fatal(err)
			}
		}
		var out []antEvent
		rd := sse.NewReader(rec.Body)
		for rd.Next() {
			out = append(out, antEvent{rd.Event().Type, bytes.Clone(rd.Event().Data)})
		}
		return out
	}
	whole := run(len(stream))
	m, err := antAccumulate(whole)
	if err != nil || m.Text != "Hi" || m.Usage != [4]int64{4, 0, 0, 1} || whole[0].typ != "ping" {
		t.Fatalf("%+v %v %s", m, err, whole[0].typ)
	}
	for _, step := range []int{1, 2, 7, 50} {
		got := run(step)
		if len(got) != len(whole) {
			t.Fatalf("step %d: %d events, want %d", step, len(got), len(whole))
		}
		for i := range got {
			if got[i].typ != whole[i].typ || !bytes.Equal(got[i].data, whole[i].data) {
				t.Errorf("step %d event %d: %s %s, want %s %s", step, i, got[i].typ, got[i].data, whole[i].typ, whole[i].data)
			}
		}
	}
}

// TestChatCompletionsToAnthropicUpstream: an OpenAI client routed to Anthropic gets OpenAI's
// format (item 36): usage with the cache reads and writes inside prompt_tokens, a stream of
// chunks with one id and the usage chunk last.
func TestChatCompletionsToAnthropicUpstream(t *testing.T) {
	e := newAntEnv(t, "")
	post := func(body string) *http.Response {
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post(`{"model":"clearbar/an","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"n":1}`)
	body := antBody(t, resp)
	for _, c := range []struct{ path, want string }{
		{"object", `"chat.completion"`}, {"id", `"msg_an1"`}, {"choices.0.message.content", `"Bonjour"`}, {"choices.0.finish_reason", `"stop"`},
		{"usage.prompt_tokens", "115"}, {"usage.completion_tokens", "4"}, {"usage.prompt_tokens_details.cached_tokens", "100"},
		{"usage.prompt_tokens_details.cache_write_tokens", "5"},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s (%s)", c.path, got, c.want, body)
		}
	}
	if up := e.an.last(t).Body; gjson.GetBytes(up, "max_tokens").Int() != 4096 || gjson.GetBytes(up, "system").String() != "Be brief." {
		t.Errorf("upstream body %s", up)
	}
	if d := e.rec.last(); d.Dialect != clearbar.DialectOpenAI || d.Usage.PromptTokens != 115 || d.Usage.CachedTokens != 100 {
		t.Errorf("decision %q usage %+v", d.Dialect, d.Usage)
	}

	resp = post(`{"model":"clearbar/an","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello"}]}`)
	defer resp.Body.Close()
	var chunks []string
	rd := sse.NewReader(resp.Body)
	for rd.Next() {
		chunks = append(chunks, string(rd.Event().Data))
	}
	if n := len(chunks); n < 3 || chunks[n-1] != "[DONE]" {
		t.Fatalf("chunks %q", chunks)
	}
	text := ""
	for i, c := range chunks[:len(chunks)-1] {
		if gjson.Get(c, "id").String() != "msg_an_s" || gjson.Get(c, "error").Exists() {
			t.Errorf("chunk %d: %s", i, c)
		}
		text += gjson.Get(c, "choices.0.delta.content").String()
	}
	last := chunks[len(chunks)-2]
	if text != "Bonjour" || gjson.Get(last, "choices.#").Int() != 0 || gjson.Get(last, "usage.prompt_tokens").Int() != 115 {
		t.Errorf("text %q, last chunk %s", text, last)
	}
}

// discardWriter is a ResponseWriter that drops what it is given.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// BenchmarkAnthropicWriterChunk is the ingress's per-chunk cost on a stream: the relay's SSE
// write of one OpenAI content chunk, reframed and transcoded into one content_block_delta
// event, written and flushed.
func BenchmarkAnthropicWriterChunk(b *testing.B) {
	aw := newAnthropicWriter(&discardWriter{h: http.Header{"Content-Type": {"text/event-stream"}}})
	aw.WriteHeader(200)
	event := []byte(`data: {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}` + "\n\n")
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aw.Write(event); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLegacyFunctionsConversationOnAnthropic: a client of the deprecated functions API on an
// Anthropic route gets message.function_call (which has no id), and its next turn, carrying
// that call and a function message with the result, goes to Anthropic as a tool_use and the
// tool_result answering it, with an id made up for the pair.
func TestLegacyFunctionsConversationOnAnthropic(t *testing.T) {
	e := newAntEnv(t, "")
	post := func(body string) (int, []byte) {
		t.Helper()
		resp, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, antBody(t, resp)
	}
	fns := `"functions":[{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]`
	ask := `{"role":"user","content":"Weather in Paris?"}`
	code, b := post(`{"model":"clearbar/an",` + fns + `,"messages":[` + ask + `]}`)
	msg := gjson.GetBytes(b, "choices.0.message")
	if code != 200 || msg.Get("function_call.name").Str != "weather" {
		t.Fatalf("first turn: %d %s", code, b)
	}
	// The client sends back the assistant message as it got it, and the function's result.
	code, b = post(`{"model":"clearbar/an",` + fns + `,"messages":[` + ask + `,` + msg.Raw + `,{"role":"function","name":"weather","content":"sunny"}]}`)
	if code != 200 || gjson.GetBytes(b, "choices.0.message.content").Str != "Bonjour" {
		t.Fatalf("follow-up turn: %d %s", code, b)
	}
	up := gjson.ParseBytes(e.an.last(t).Body)
	use, result := up.Get("messages.1.content.#(type==tool_use)"), up.Get("messages.2.content.0")
	if use.Get("name").Str != "weather" || use.Get("input.city").Str != "Paris" || use.Get("id").Str == "" ||
		result.Get("type").Str != "tool_result" || result.Get("tool_use_id").Str != use.Get("id").Str || result.Get("content").Str != "sunny" {
		t.Errorf("upstream messages %s", up.Get("messages").Raw)
	}
}

// TestAnthropicMaxTokensOverEveryModel: an Anthropic client whose max_tokens is more than any
// model on the route writes gets a 400 naming max_tokens, the parameter it sent, not the
// max_completion_tokens the ingress translated it into; no upstream is called.
func TestAnthropicMaxTokensOverEveryModel(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, `{"model":"whatever","max_tokens":50000,"messages":[{"role":"user","content":"x"}]}`)
	body := readAll(t, resp)
	msg := gjson.GetBytes(body, "error.message").String()
	if resp.StatusCode != 400 || gjson.GetBytes(body, "error.type").String() != "invalid_request_error" ||
		!strings.HasPrefix(msg, "max_tokens is too large: 50000. No model on category \"oa\"'s route can write more than 16384 tokens") {
		t.Errorf("status %d, body %s; want a 400 whose message names max_tokens", resp.StatusCode, body)
	}
	if n := len(e.oa.calls) + len(e.an.calls); n != 0 {
		t.Errorf("%d upstream calls, want none", n)
	}
}
