package gateway

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// What the gateway refuses before routing, and how: parameters of the wrong type or out of
// range are a 400 naming the parameter (param and code as OpenAI gives them), methods a path
// does not take a 405 with Allow, in the envelope of the path's dialect.

// TestChatRejectsWrongTypes: a chat request whose parameters have the wrong JSON type or are
// out of OpenAI's range is a 400 naming the parameter, and reaches no model; what OpenAI
// accepts (null for an optional parameter, the ends of a range) still routes.
func TestChatRejectsWrongTypes(t *testing.T) {
	f := newFixture(t, nil)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	const tools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
	tests := []struct {
		explanation, body string
		status            int
		param, code       string
	}{
		{"stream as a string", `{"model":"clearbar/intent","stream":"yes",` + msgs + `}`, 400, "stream", "invalid_type"},
		{"include_usage as a number", `{"model":"clearbar/intent","stream":true,"stream_options":{"include_usage":1},` + msgs + `}`, 400, "stream_options.include_usage", "invalid_type"},
		{"an unknown role", `{"model":"clearbar/intent","messages":[{"role":"wizard","content":"hi"}]}`, 400, "messages[0].role", "invalid_value"},
		{"a role that is not a string", `{"model":"clearbar/intent","messages":[{"role":7,"content":"hi"}]}`, 400, "messages[0].role", "invalid_type"},
		{"content as a number", `{"model":"clearbar/intent","messages":[{"role":"user","content":42}]}`, 400, "messages[0].content", "invalid_type"},
		{"a text part whose text is a number", `{"model":"clearbar/intent","messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`, 400, "messages[0].content[0].text", "invalid_type"},
		{"a content part that is not an object", `{"model":"clearbar/intent","messages":[{"role":"user","content":["hi"]}]}`, 400, "messages[0].content[0]", "invalid_type"},
		{"max_tokens as a string", `{"model":"clearbar/intent","max_tokens":"ten",` + msgs + `}`, 400, "max_tokens", "invalid_type"},
		{"negative max_tokens", `{"model":"clearbar/intent","max_tokens":-5,` + msgs + `}`, 400, "max_tokens", "integer_below_min_value"},
		{"fractional max_completion_tokens", `{"model":"clearbar/intent","max_completion_tokens":1.5,` + msgs + `}`, 400, "max_completion_tokens", "invalid_type"},
		{"n of 0", `{"model":"clearbar/intent","n":0,` + msgs + `}`, 400, "n", "integer_below_min_value"},
		{"n above 128", `{"model":"clearbar/intent","n":129,` + msgs + `}`, 400, "n", "integer_above_max_value"},
		{"temperature above 2", `{"model":"clearbar/intent","temperature":5,` + msgs + `}`, 400, "temperature", "decimal_above_max_value"},
		{"temperature as a string", `{"model":"clearbar/intent","temperature":"hot",` + msgs + `}`, 400, "temperature", "invalid_type"},
		{"top_p above 1", `{"model":"clearbar/intent","top_p":1.5,` + msgs + `}`, 400, "top_p", "decimal_above_max_value"},
		{"frequency_penalty below -2", `{"model":"clearbar/intent","frequency_penalty":-3,` + msgs + `}`, 400, "frequency_penalty", "decimal_below_min_value"},
		// More output than any model on the route can give, though the input fits: the error
		// names the parameter that asks for it, not the messages (TestMaxTokensNamesTheBindingCeiling).
		{"max_tokens beyond every context window", `{"model":"clearbar/intent","max_tokens":100000000,` + msgs + `}`, 400, "max_tokens", "invalid_value"},
		{"max_completion_tokens beyond every context window", `{"model":"clearbar/intent","max_completion_tokens":100000000,` + msgs + `}`, 400, "max_completion_tokens", "invalid_value"},
		{"an unknown category header", `{"model":"m",` + msgs + `}`, 400, "X-Clearbar-Category", "unknown_category"},
		{"an unknown category in metadata", `{"model":"m","metadata":{"clearbar_category":"nope"},` + msgs + `}`, 400, "metadata.clearbar_category", "unknown_category"},
		{"tool_choice not one of none, auto, required", `{"model":"clearbar/intent","tool_choice":"sometimes",` + tools + `,` + msgs + `}`, 400, "tool_choice", "invalid_value"},
		{"tool_choice naming a function not among the tools", `{"model":"clearbar/intent","tool_choice":{"type":"function","function":{"name":"get_time"}},` + tools + `,` + msgs + `}`, 400, "tool_choice", "invalid_value"},
		{"tool_choice naming a function without tools", `{"model":"clearbar/intent","tool_choice":{"type":"function","function":{"name":"get_weather"}},` + msgs + `}`, 400, "tool_choice", "invalid_value"},
		{"tool_choice as a number", `{"model":"clearbar/intent","tool_choice":1,` + tools + `,` + msgs + `}`, 400, "tool_choice", "invalid_type"},
		{"a named tool_choice before its tools", `{"model":"clearbar/intent","tool_choice":{"type":"function","function":{"name":"get_weather"}},` + tools + `,` + msgs + `}`, 200, "", ""},
		{"tool_choice required", `{"model":"clearbar/intent",` + tools + `,"tool_choice":"required",` + msgs + `}`, 200, "", ""},
		{"null for optional parameters", `{"model":"clearbar/intent","stream":null,"max_tokens":null,"n":null,"temperature":null,"tool_choice":null,` + msgs + `}`, 200, "", ""},
		{"the ends of the ranges", `{"model":"clearbar/intent","stream":false,"max_tokens":1,"n":1,"temperature":2,"top_p":0,"presence_penalty":-2,` + msgs + `}`, 200, "", ""},
	}
	for _, tt := range tests {
		var headers []string
		if tt.explanation == "an unknown category header" {
			headers = []string{"X-Clearbar-Category", "nope"}
		}
		before := f.a.Calls("gpt-4o-mini") + f.b.Calls("gpt-4o")
		resp := f.post(t, tt.body, headers...)
		body := readAll(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.explanation, resp.StatusCode, tt.status, body)
			continue
		}
		if tt.status == 200 {
			continue
		}
		e := gjson.GetBytes(body, "error")
		if e.Get("param").Str != tt.param || e.Get("code").Str != tt.code || e.Get("type").Str != "invalid_request_error" || e.Get("message").Str == "" {
			t.Errorf("%s: error %s, want param %q code %q", tt.explanation, e.Raw, tt.param, tt.code)
		}
		if after := f.a.Calls("gpt-4o-mini") + f.b.Calls("gpt-4o"); after != before {
			t.Errorf("%s: a refused request reached a model", tt.explanation)
		}
	}
}

// TestChatMediaTypes: media types are case-insensitive and may carry parameters; a compressed
// body, which the gateway does not decompress, is a 415 that says so.
func TestChatMediaTypes(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		contentType, encoding string
		status                int
		message               string
	}{
		{"Application/JSON", "", 200, ""},
		{"application/json; charset=UTF-8", "", 200, ""},
		{"APPLICATION/JSON;charset=utf-8", "identity", 200, ""},
		{"text/plain", "", 415, "application/json"},
		{"application/jsonl", "", 415, "application/json"},
		{"application/json", "gzip", 415, "Content-Encoding \"gzip\" is not supported"},
	} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(hello))
		req.Header.Set("Content-Type", tt.contentType)
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != tt.status || !strings.Contains(gjson.GetBytes(body, "error.message").Str, tt.message) {
			t.Errorf("Content-Type %q, Content-Encoding %q: %d %s", tt.contentType, tt.encoding, resp.StatusCode, body)
		}
	}
}

// TestMessagesRejectsWrongTypes: on /v1/messages the same checks follow Anthropic's rules
// (temperature from 0 to 1), in Anthropic's envelope, with the parameter named.
func TestMessagesRejectsWrongTypes(t *testing.T) {
	e := newAntEnv(t, "")
	tests := []struct {
		explanation, body, message string
	}{
		{"tools as a string", antReq("oa", `,"tools":"x"`), "tools: Input should be a valid list"},
		{"a text block whose text is a number", `{"model":"clearbar/oa","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":5}]}]}`, "messages[0].content[0].text: Input should be a valid string"},
		{"a system block whose text is a number", `{"model":"clearbar/oa","max_tokens":10,"system":[{"type":"text","text":5}],"messages":[{"role":"user","content":"x"}]}`, "system[0].text"},
		{"stop_sequences as a string", antReq("oa", `,"stop_sequences":"x"`), "stop_sequences: Input should be a valid list"},
		{"a stop sequence that is not a string", antReq("oa", `,"stop_sequences":[1]`), "stop_sequences.0"},
		{"temperature above Anthropic's 1", antReq("oa", `,"temperature":1.5`), "temperature: Input should be between 0 and 1"},
		{"top_p as a string", antReq("oa", `,"top_p":"x"`), "top_p: Input should be a valid number"},
		{"stream as a string", antReq("oa", `,"stream":"yes"`), "stream: Input should be a valid boolean"},
		{"max_tokens beyond every context window", `{"model":"clearbar/oa","max_tokens":100000000,"messages":[{"role":"user","content":"x"}]}`, "max_tokens is too large: 100000000."},
	}
	for _, tt := range tests {
		before := e.oa.count()
		resp := e.post(t, tt.body)
		body := antBody(t, resp)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d: %s", tt.explanation, resp.StatusCode, body)
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, body, "invalid_request_error", tt.message)
		if e.oa.count() != before {
			t.Errorf("%s: a refused request reached the upstream", tt.explanation)
		}
	}
	resp := e.post(t, antReq("oa", `,"temperature":1,"top_p":0.5,"stop_sequences":["END"]`))
	if body := antBody(t, resp); resp.StatusCode != 200 {
		t.Errorf("temperature 1: %d %s", resp.StatusCode, body)
	}
}

// TestMethodNotAllowed: a known path called with a method it does not take is a 405 with
// Allow, OpenAI-shaped, or Anthropic-shaped under /v1/messages, where unknown subpaths are
// Anthropic-shaped 404s too.
func TestMethodNotAllowed(t *testing.T) {
	e := newAntEnv(t, "")
	tests := []struct {
		method, path string
		status       int
		allow        string
		anthropic    bool
	}{
		{"GET", "/v1/chat/completions", 405, "POST", false},
		{"DELETE", "/v1/chat/completions", 405, "POST", false},
		{"PUT", "/v1/embeddings", 405, "POST", false},
		{"POST", "/v1/models", 405, "GET, HEAD", false},
		{"DELETE", "/v1/models/clearbar/oa", 405, "GET, HEAD", false},
		{"POST", "/readyz", 405, "GET, HEAD", false},
		{"GET", "/v1/messages", 405, "POST", true},
		{"DELETE", "/v1/messages", 405, "POST", true},
		{"GET", "/v1/messages/count_tokens", 405, "POST", true},
		{"POST", "/v1/messages/batches", 404, "", true},
		{"GET", "/v1/messages/msg_123", 404, "", true},
		{"GET", "/v1/responses", 405, "POST", false},
		{"GET", "/v1/responses/resp_123", 404, "", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := antBody(t, resp)
		name := tt.method + " " + tt.path
		if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s: status %d Allow %q, want %d %q: %s", name, resp.StatusCode, resp.Header.Get("Allow"), tt.status, tt.allow, body)
			continue
		}
		switch {
		case tt.anthropic && tt.status == 405:
			checkAnthropicError(t, name, resp, body, "invalid_request_error", "use POST")
		case tt.anthropic:
			checkAnthropicError(t, name, resp, body, "not_found_error", "count_tokens")
		default:
			if er := gjson.GetBytes(body, "error"); !er.IsObject() || er.Get("message").Str == "" || er.Get("type").Str == "" || er.Get("code").Str == "" {
				t.Errorf("%s: not OpenAI's envelope: %s", name, body)
			}
		}
	}
}

// TestCountTokens: POST /v1/messages/count_tokens answers with the gateway's estimate of the
// input tokens (the one routing uses), for Anthropic's SDKs; it needs the key and the version
// as /v1/messages does, and calls no model.
func TestCountTokens(t *testing.T) {
	e := newAntEnv(t, "keys:\n  clients:\n    - {name: app, hash: \""+HashKey(antClientKey)+"\", tier: pro}\n")
	count := func(body string, headers ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/messages/count_tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		req.Header.Set("X-Api-Key", antClientKey)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Del(headers[i])
			if headers[i+1] != "" {
				req.Header.Set(headers[i], headers[i+1])
			}
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, antBody(t, resp)
	}
	short, _ := count(`{"model":"clearbar/oa","messages":[{"role":"user","content":"Hello"}]}`)
	resp, body := count(`{"model":"clearbar/oa","system":"Be brief.","messages":[{"role":"user","content":"` + strings.Repeat("word ", 400) + `"}]}`)
	n := gjson.GetBytes(body, "input_tokens").Int()
	if resp.StatusCode != 200 || n < 500 || n > 520 || resp.Header.Get("Request-Id") == "" {
		t.Errorf("count_tokens: %d %s (want about 2,000 bytes / 4 + 8)", resp.StatusCode, body)
	}
	if short.StatusCode != 200 {
		t.Errorf("a short request: %d", short.StatusCode)
	}
	resp, body = count(`{"model":"clearbar/oa","messages":[{"role":"user","content":"x"}]}`, "X-Api-Key", "")
	checkAnthropicError(t, "no key", resp, body, "authentication_error", "x-api-key")
	resp, body = count(`{"model":"clearbar/oa","messages":[{"role":"user","content":"x"}]}`, "Anthropic-Version", "")
	checkAnthropicError(t, "no version", resp, body, "invalid_request_error", "anthropic-version")
	resp, body = count(`{"model":"clearbar/oa","messages":"x"}`)
	checkAnthropicError(t, "messages not a list", resp, body, "invalid_request_error", "messages")
	if e.oa.count()+e.an.count() != 0 {
		t.Error("count_tokens called a model")
	}
}

// TestMessagesAnthropicErrorTypes: an unknown alias is Anthropic's not_found_error; a request
// without a key is told both ways Anthropic's SDKs send one; message ids start with msg_
// whatever the upstream's ids look like.
func TestMessagesAnthropicErrorTypes(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, antReq("nosuch", ""))
	body := antBody(t, resp)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown alias: %d %s", resp.StatusCode, body)
	}
	checkAnthropicError(t, "unknown alias", resp, body, "not_found_error", "clearbar/oa")

	keyed := newAntEnv(t, "keys:\n  clients:\n    - {name: app, hash: \""+HashKey(antClientKey)+"\"}\n")
	resp = keyed.post(t, antReq("oa", ""), "X-Api-Key", "")
	body = antBody(t, resp)
	checkAnthropicError(t, "no key", resp, body, "authentication_error", "x-api-key: KEY or Authorization: Bearer KEY")

	for _, stream := range []bool{false, true} {
		extra := ""
		if stream {
			extra = `,"stream":true`
		}
		resp := e.post(t, antReq("oa", extra))
		if stream {
			events := antEvents(t, resp)
			if len(events) == 0 || !strings.HasPrefix(gjson.GetBytes(events[0].data, "message.id").Str, "msg_") {
				t.Errorf("stream: message_start %+v", events)
			}
			continue
		}
		if id := gjson.GetBytes(antBody(t, resp), "id").Str; !strings.HasPrefix(id, "msg_") {
			t.Errorf("message id %q", id)
		}
	}
}

// TestClientRateLimitBurst: a client key's rate limit of N per second admits N requests at
// once (the whole second's budget), then refuses the next until the budget refills.
func TestClientRateLimitBurst(t *testing.T) {
	const key = "client-burst-key"
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey("admin-burst-key") + "\"]\n  clients:\n    - {name: app, hash: \"" + HashKey(key) + "\", rate_limit: 3/s}\n"
	})
	var statuses []int
	for range 4 {
		resp := f.post(t, hello, "Authorization", "Bearer "+key)
		readAll(t, resp)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 {
			if ms := resp.Header.Get("Retry-After-Ms"); ms == "" {
				t.Error("the rate limit's 429 says nothing of when to retry")
			}
		}
	}
	if want := []int{200, 200, 200, 429}; !equalInts(statuses, want) {
		t.Errorf("statuses %v, want %v: a limit of 3/s admits a burst of 3", statuses, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestExhaustedPlanSaysDoNotRetry: once every model of the plan failed (the gateway retried
// and fell back itself), the client gets the first failure with x-should-retry: false and
// retry-after-ms (the upstream's wait, else a second); a failure the gateway did not retry
// leaves retrying to the client.
func TestExhaustedPlanSaysDoNotRetry(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(string, int) error { return overloaded() }
	f.b.behave = func(string, int) error { return overloaded() }
	for _, stream := range []bool{false, true} {
		body := hello
		if stream {
			body = `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hello"}]}`
		}
		resp := f.post(t, body)
		b := readAll(t, resp)
		if resp.StatusCode != 503 || resp.Header.Get("X-Should-Retry") != "false" || resp.Header.Get("Retry-After-Ms") != "1000" ||
			gjson.GetBytes(b, "error.message").Str != "upstream overloaded" {
			t.Errorf("stream %v: %d x-should-retry %q retry-after-ms %q: %s", stream, resp.StatusCode,
				resp.Header.Get("X-Should-Retry"), resp.Header.Get("Retry-After-Ms"), b)
		}
		if d := f.rec.last(); len(d.Attempts) < 3 || d.Outcome != clearbar.Overloaded {
			t.Errorf("stream %v: outcome %s attempts %d", stream, d.Outcome, len(d.Attempts))
		}
	}
	// A route with one model and no retries: the gateway tried once; the client's SDK may
	// retry by the status.
	solo := newFixture(t, func(src string) string {
		return strings.Replace(src, "retry: {attempts: 1, backoff: 1ms}", "retry: {attempts: 0, backoff: 1ms}", 1)
	})
	solo.b.behave = func(string, int) error { return overloaded() }
	resp := solo.post(t, `{"model":"clearbar/chat","messages":[{"role":"user","content":"hello"}]}`)
	readAll(t, resp)
	if resp.StatusCode != 503 || resp.Header.Get("X-Should-Retry") != "" {
		t.Errorf("one attempt: %d x-should-retry %q", resp.StatusCode, resp.Header.Get("X-Should-Retry"))
	}
}

// TestCutEndsRequestsAndRecordsThem: when a drain's time is up, Cut ends every request in
// flight: a stream whose answer began ends with an error event (never a clean end), one
// still waiting for its model and a completion get a 503 gateway_shutting_down; every decision
// is recorded before Cut returns, and no breaker counts the cut against the upstream.
//
// Both ways a request reaches Cut are tested: hooked as it arrives (a server built without the
// gateway's base context, as here by default), and through the base context, as serve runs it.
func TestCutEndsRequestsAndRecordsThem(t *testing.T) {
	for _, base := range []bool{false, true} {
		t.Run(fmt.Sprintf("base context %v", base), func(t *testing.T) { testCut(t, base) })
	}
}

func testCut(t *testing.T, base bool) {
	f := newFixture(t, nil)
	if base {
		srv := httptest.NewUnstartedServer(f.gw)
		srv.Config.BaseContext = f.gw.BaseContext
		srv.Start()
		t.Cleanup(srv.Close)
		f.srv = srv
	}
	f.a.delay = 50 * time.Millisecond
	f.a.chunks = 1000
	f.b.delay = 10 * time.Second // chat's model: a completion that will not come in time

	resp := f.post(t, `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "part1") {
		t.Fatalf("first chunk %q: %v", line, err)
	}
	done := make(chan *http.Response, 1)
	go func() {
		done <- f.post(t, `{"model":"clearbar/chat","messages":[{"role":"user","content":"hello"}]}`)
	}()
	waitUntil(t, "the completion reaches its model", func() bool { return f.b.Calls("gpt-4o") == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := f.gw.Cut(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Cut: %d requests, %v", n, err)
	}
	rest := sseEvents(t, br)
	last := rest[len(rest)-1]
	if gjson.Get(last, "error.code").Str != codeShuttingDown || strings.Contains(strings.Join(rest, "\n"), "[DONE]") {
		t.Errorf("the cut stream ended with %q", last)
	}
	completion := <-done
	body := readAll(t, completion)
	if completion.StatusCode != 503 || gjson.GetBytes(body, "error.code").Str != codeShuttingDown || completion.Header.Get("Retry-After-Ms") == "" {
		t.Errorf("the cut completion: %d %s", completion.StatusCode, body)
	}
	f.rec.mu.Lock()
	ds := append([]*clearbar.Decision(nil), f.rec.ds...)
	f.rec.mu.Unlock()
	if len(ds) != 2 {
		t.Fatalf("%d decisions recorded when Cut returned, want 2", len(ds))
	}
	// Cut does not say why the drain ended (its window, or a second signal that cut it
	// short): the words the client and the record get claim neither.
	if strings.Contains(last, "drain window") || strings.Contains(string(body), "drain window") {
		t.Errorf("the cut stream's event or the cut completion claims the drain window ended:\n%s\n%s", last, body)
	}
	for _, d := range ds {
		if strings.Contains(d.Reason, "drain window") {
			t.Errorf("decision %s: reason %q claims the drain window ended", d.Category, d.Reason)
		}
		if d.Outcome != clearbar.Canceled || !strings.Contains(d.Reason, "shut down") || !d.Shutdown {
			t.Errorf("decision %s: outcome %s reason %q shutdown %v", d.Category, d.Outcome, d.Reason, d.Shutdown)
		}
		if d.Stream && (d.Status != 200 || d.Attempts[0].Outcome != "cut mid-stream") {
			t.Errorf("the stream's decision: status %d attempt %q", d.Status, d.Attempts[0].Outcome)
		}
		if !d.Stream && d.Status != 503 {
			t.Errorf("the completion's decision: status %d", d.Status)
		}
	}
	for _, s := range f.gw.breakers.Snapshot() {
		if s.Failures > 0 {
			t.Errorf("breaker %s counted the cut as a failure", s.Key)
		}
	}
}

func (u *antUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.calls)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamOutOfTimeEndsWithErrorEvent: a stream whose request runs out of time
// (server.request_timeout) after its answer began ends with an error event, not as if the
// client had gone away.
func TestStreamOutOfTimeEndsWithErrorEvent(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return src + "server: {request_timeout: 300ms}\n"
	})
	f.a.delay = 50 * time.Millisecond
	f.a.chunks = 1000
	resp := f.post(t, `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	ev := sseEvents(t, resp.Body)
	if len(ev) < 2 || gjson.Get(ev[len(ev)-1], "error.type").Str != "server_error" || !strings.Contains(ev[len(ev)-1], "request_timeout") {
		t.Fatalf("events end with %q", ev[len(ev)-1])
	}
	waitUntil(t, "the decision", func() bool { d := f.rec.last(); return d != nil && d.Outcome != clearbar.OK })
	if d := f.rec.last(); d.Outcome != clearbar.Timeout || d.Attempts[0].Outcome != "cut mid-stream" || !d.Attempts[0].UsageEstimated {
		t.Errorf("decision outcome %s attempt %+v", d.Outcome, d.Attempts[0])
	}
}

// TestPartialStreamIsBilled: a stream the client leaves after its answer began is recorded
// with the prompt's estimated tokens and the output sent so far (estimated from its bytes),
// marked estimated, and its cost is counted in the decision and the metrics.
func TestPartialStreamIsBilled(t *testing.T) {
	f := newFixture(t, nil)
	f.a.delay = 20 * time.Millisecond
	f.a.chunks = 1000
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"`+strings.Repeat("tell me more ", 20)+`"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	for got := 0; got < 5; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") {
			got++
		}
	}
	cancel()
	resp.Body.Close()
	waitUntil(t, "the canceled decision", func() bool { d := f.rec.last(); return d != nil && d.Outcome == clearbar.Canceled })
	d := f.rec.last()
	a := d.Attempts[0]
	// Five chunks of "partN " (6 bytes) or more reached the client: at least 8 tokens.
	if !a.UsageEstimated || a.Usage.PromptTokens != d.Features.TokensIn || a.Usage.CompletionTokens < 8 || a.Cost <= 0 {
		t.Fatalf("attempt usage %+v estimated %v cost %s; features %+v", a.Usage, a.UsageEstimated, a.Cost, d.Features)
	}
	if d.Cost != a.Cost || d.Usage != a.Usage {
		t.Errorf("decision cost %s usage %+v", d.Cost, d.Usage)
	}
	mfs, err := f.gw.gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var cost, completion float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "clearbar_cost_usd_total":
				cost += m.GetCounter().GetValue()
			case "clearbar_tokens_total":
				for _, l := range m.GetLabel() {
					if l.GetName() == "kind" && l.GetValue() == "completion" {
						completion += m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if cost <= 0 || completion != float64(a.Usage.CompletionTokens) {
		t.Errorf("metrics: cost %v, completion tokens %v", cost, completion)
	}
}

// TestSpecLintsShadowedRules: a rule can never fire when an earlier rule (higher priority, or
// the same priority earlier in the file) has the same condition, or one its condition implies;
// clearbar spec test says so.
func TestSpecLintsShadowedRules(t *testing.T) {
	src := `version: 1
name: lint
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers: {a: {type: simulated}}
models: {m: {provider: a, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}}
categories:
  - {name: refunds, share: 0.2, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}},
     match: {when: 'last_user matches "(?i)refund"', priority: 10}}
  - {name: refunds-again, share: 0.2, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}},
     match: {when: 'last_user  matches  "(?i)refund"', priority: 5}}
  - {name: angry-refunds, share: 0.2, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}},
     match: {when: 'risk == "high" and (last_user matches "(?i)refund")', priority: 5}}
  - {name: long, share: 0.2, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}},
     match: {when: 'tokens_in > 8000 or tools', priority: 1}}
  - {name: long-tools, share: 0.1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}},
     match: {when: 'tools and stream', priority: 1}}
  - {name: chat, default: true, share: 0.1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
`
	s, err := spec.Parse([]byte(src), "lint.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": newFake("a")}})
	if err != nil {
		t.Fatal(err)
	}
	_, lints := CheckSpec(g)
	var got []string
	for _, l := range lints {
		got = append(got, l.Msg)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`the rule of "refunds-again" can never fire: the rule of "refunds" (line 9, priority 10) has the same condition`,
		`the rule of "angry-refunds" can never fire: whenever it is true, so is the rule of "refunds"`,
		`the rule of "long-tools" can never fire: whenever it is true, so is the rule of "long"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no lint %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, `rule of "long" can never fire`) || strings.Contains(all, `rule of "refunds" can never fire`) {
		t.Errorf("a rule that can fire is linted:\n%s", all)
	}
}
