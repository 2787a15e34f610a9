package gemini

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/tidwall/gjson"
)

// fixedNow is the clock of tests that compare output byte for byte.
var fixedNow = time.Date(2026, 7, 24, 12, 0, 0, 0, time.UTC)

func specProvider(baseURL string, keys ...string) *spec.Provider {
	sp := &spec.Provider{Name: "gem", Type: Type, BaseURL: spec.EnvString{Value: baseURL}}
	for i, k := range keys {
		ref := spec.SecretRef{Secret: clearbar.NewSecret(k)}
		if i == 0 {
			sp.APIKey = ref
		} else {
			sp.APIKeys = append(sp.APIKeys, ref)
		}
	}
	return sp
}

// sequentialIDs returns an id maker that numbers ids from 1, per prefix.
func sequentialIDs() func(string) string {
	var mu sync.Mutex
	n := map[string]int{}
	return func(prefix string) string {
		mu.Lock()
		defer mu.Unlock()
		n[prefix]++
		return fmt.Sprintf("%stest%d", prefix, n[prefix])
	}
}

func newTestProvider(t testing.TB, srv *httptest.Server, keys ...string) *Provider {
	t.Helper()
	pp, err := New(provider.Config{Provider: specProvider(srv.URL, keys...), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	p := pp.(*Provider)
	p.newID = sequentialIDs()
	p.now = func() time.Time { return fixedNow }
	return p
}

// TestConformance runs the shared suite on the Gemini fixtures.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, providertest.APIKey)
	}, providertest.Fixtures(t, "gemini")...)
}

// TestFixtureSet checks the Gemini fixture set itself: every file explains itself, and the cases
// this adapter promises are all there.
func TestFixtureSet(t *testing.T) {
	byName := map[string]providertest.Fixture{}
	for _, f := range providertest.Fixtures(t, "gemini") {
		byName[f.Name] = f
		if f.Description == "" {
			t.Errorf("%s has no comment saying why it exists", f.File)
		}
	}
	for _, name := range []string{
		"complete_basic", "complete_tool_calls", "complete_tool_round_trip", "complete_json_schema",
		"complete_safety_block", "complete_prompt_blocked", "complete_max_tokens", "complete_malformed_function_call",
		"error_400_invalid_argument", "error_400_api_key_invalid", "error_400_context_too_long", "error_403_permission_denied",
		"error_429_retry_info", "error_429_per_day_quota", "error_503_unavailable", "error_504_deadline", "error_array_wrapped",
		"stream_basic", "stream_tool_call_signature", "stream_safety_block", "stream_prompt_blocked", "stream_cut_no_finish",
		"stream_cut_reset", "stream_error_event", "stream_slow_first_chunk", "stream_client_cancel", "connection_reset",
	} {
		if _, ok := byName[name]; !ok {
			t.Errorf("fixture %s is missing", name)
		}
	}
	if f := byName["error_400_api_key_invalid"]; !strings.Contains(string(f.Body), providertest.APIKey) {
		t.Error("error_400_api_key_invalid does not echo APIKey: update its body with the constant")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, explanation, typ, base, wantRoot, wantErr string
	}{
		{"default", "no base_url means Google's endpoint", Type, "", "https://generativelanguage.googleapis.com/v1beta", ""},
		{"host only", "a host gets the API version", Type, "http://127.0.0.1:9000/", "http://127.0.0.1:9000/v1beta", ""},
		{"proxy path", "a path without a version keeps its prefix", Type, "https://gw.example/google", "https://gw.example/google/v1beta", ""},
		{"version given", "a base that names a version is used as is", Type, "https://gw.example/v1alpha", "https://gw.example/v1alpha", ""},
		{"bad scheme", "only http and https", Type, "ftp://x", "", "not an http or https URL"},
		{"wrong type", "the adapter serves only gemini", "openai", "", "", `not "openai"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := specProvider(tt.base)
			sp.Type = tt.typ
			p, err := New(provider.Config{Provider: sp})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s: err = %v, want %q", tt.explanation, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Provider).root; got != tt.wantRoot {
				t.Errorf("%s: root = %q, want %q", tt.explanation, got, tt.wantRoot)
			}
		})
	}
	p, _ := New(provider.Config{Provider: specProvider("")})
	for model, want := range map[string]string{
		"gemini-2.5-flash":             "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
		"models/gemini-2.5-flash":      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
		"tunedModels/my-model-abc123":  "https://generativelanguage.googleapis.com/v1beta/tunedModels/my-model-abc123:generateContent",
		"gemini-2.5-flash?alt=json#fr": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash%3Falt=json%23fr:generateContent",
	} {
		if got := p.(*Provider).endpoint(model, "generateContent"); got != want {
			t.Errorf("endpoint(%q) = %s, want %s", model, got, want)
		}
	}
}

func TestTimeouts(t *testing.T) {
	sp := specProvider("")
	sp.Timeout = spec.Duration(30 * time.Second)
	s := &spec.Spec{Models: spec.Models{
		{Name: "fast", Provider: spec.Ref{Name: "gem"}, Model: "gemini-2.5-flash", Timeout: spec.Duration(5 * time.Second)},
		{Name: "other", Provider: spec.Ref{Name: "elsewhere"}, Model: "gemini-2.5-pro", Timeout: spec.Duration(time.Second)},
	}}
	pp, err := New(provider.Config{Provider: sp, Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	p := pp.(*Provider)
	for model, want := range map[string]time.Duration{"gemini-2.5-flash": 5 * time.Second, "gemini-2.5-pro": 30 * time.Second} {
		if got := p.timeouts.For(model); got != want {
			t.Errorf("timeouts.For(%q) = %s, want %s", model, got, want)
		}
	}
}

// TestKeyRotation checks that a rejected key (Gemini's 400 API_KEY_INVALID) moves the provider to
// its next key within the same call, and that the next call starts with that key.
func TestKeyRotation(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Goog-Api-Key")
		mu.Lock()
		seen = append(seen, key)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if key == "AIza-bad-key-0000000000000000000" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}`)
			return
		}
		fmt.Fprint(w, `{"candidates":[{"content":{"parts":[{"text":"ok"}],"role":"model"},"finishReason":"STOP","index":0}]}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "AIza-bad-key-0000000000000000000", "AIza-good-key-111111111111111111")
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(providertest.DefaultBody)}, Model: "gemini-2.5-flash"}
	for i := range 2 {
		r, err := p.Complete(context.Background(), call)
		if err != nil || r.Text() != "ok" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	want := []string{"AIza-bad-key-0000000000000000000", "AIza-good-key-111111111111111111", "AIza-good-key-111111111111111111"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("keys sent %q, want %q", seen, want)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pp, _ := New(provider.Config{Provider: specProvider("http://" + addr)})
	_, err = pp.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(providertest.DefaultBody)}, Model: "m"})
	if c := clearbar.ClassOf(err); c != clearbar.Connection {
		t.Errorf("class = %s (%v), want connection", c, err)
	}
	if err != nil && strings.Contains(err.Error(), addr) {
		t.Errorf("the error names the upstream address: %v", err)
	}
}

// TestStreamCloseFromAnotherGoroutine checks that Close unblocks a Next waiting for an event.
func TestStreamCloseFromAnotherGoroutine(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"index\":0}]}\r\n\r\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	p := newTestProvider(t, srv)
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(providertest.DefaultBody)}, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Next() {
		t.Fatal(s.Err())
	}
	var blocked atomic.Bool
	blocked.Store(true)
	time.AfterFunc(50*time.Millisecond, func() { s.Close() })
	if s.Next() {
		t.Fatal("Next returned a chunk after Close")
	}
	if c := clearbar.ClassOf(s.Err()); c != clearbar.Canceled {
		t.Errorf("class = %s, want canceled", c)
	}
}

func TestRedact(t *testing.T) {
	p := &Provider{keys: inflight.NewKeys([]clearbar.Secret{clearbar.NewSecret("my-own-secret-key")})}
	in := "bad key my-own-secret-key; also AIzaSyA1234567890abcdefghijklmnopqrstuv and Bearer abc.def"
	got := p.redact(in)
	for _, leak := range []string{"my-own-secret-key", "AIzaSyA1234567890", "abc.def"} {
		if strings.Contains(got, leak) {
			t.Errorf("redact left %q in %q", leak, got)
		}
	}
}

// TestErrorClasses checks every google.rpc status the adapter knows, and that each has an
// OpenAI error type a client can act on.
func TestErrorClasses(t *testing.T) {
	p := &Provider{name: "gem", now: time.Now}
	a := &attempt{Attempt: &inflight.Attempt{Provider: p.name, Call: &clearbar.Call{Model: "m"}}, p: p}
	for status, want := range statusClasses {
		body := fmt.Sprintf(`{"error":{"code":400,"message":"x","status":%q}}`, status)
		e := p.upstreamError(a, 400, http.Header{}, []byte(body))
		if e.Class != want {
			t.Errorf("%s: class %s, want %s", status, e.Class, want)
		}
		if e.Type == "" || e.Code != strings.ToLower(status) {
			t.Errorf("%s: type %q, code %q", status, e.Type, e.Code)
		}
	}
	tests := []struct {
		explanation string
		status      int
		header      http.Header
		body        string
		class       clearbar.FailureClass
		retryAfter  time.Duration
	}{
		{"no status field: by HTTP status", 429, http.Header{}, `{"error":{"message":"slow down"}}`, clearbar.RateLimited, 0},
		{"Retry-After beats RetryInfo", 429, http.Header{"Retry-After": {"7"}}, `{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"13s"}]}}`, clearbar.RateLimited, 7 * time.Second},
		{"expired key", 400, http.Header{}, `{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT"}}`, clearbar.Auth, 0},
		{"error in a 200 with a status", 200, http.Header{}, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`, clearbar.Overloaded, 0},
		{"error in a 200 without one", 200, http.Header{}, `{"error":{"message":"?"}}`, clearbar.BadResponse, 0},
		{"billing not enabled", 400, http.Header{}, `{"error":{"code":400,"message":"Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.","status":"FAILED_PRECONDITION"}}`, clearbar.RateLimited, 0},
		{"location not served: another provider may serve it", 400, http.Header{}, `{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`, clearbar.Overloaded, 0},
		{"another precondition", 400, http.Header{}, `{"error":{"code":400,"message":"Precondition check failed.","status":"FAILED_PRECONDITION"}}`, clearbar.ClientError, 0},
		{"html page", 503, http.Header{"Content-Type": {"text/html"}}, `<html>down</html>`, clearbar.Overloaded, 0},
	}
	for _, tt := range tests {
		e := p.upstreamError(a, tt.status, tt.header, []byte(tt.body))
		if e.Class != tt.class || e.RetryAfter != tt.retryAfter || e.Message == "" {
			t.Errorf("%s: class %s retry-after %s message %q, want %s %s", tt.explanation, e.Class, e.RetryAfter, e.Message, tt.class, tt.retryAfter)
		}
	}
}

// TestThinkingBudgetRange checks that reasoning_effort gives a budget the model takes: Gemini
// refuses 0 from 2.5 Pro, which cannot turn thinking off, and more than 24576 from Flash.
func TestThinkingBudgetRange(t *testing.T) {
	tests := []struct {
		model, effort string
		want          int64
	}{
		{"gemini-2.5-pro", "none", 128},
		{"gemini-2.5-pro", "max", 32768},
		{"models/gemini-2.5-pro-preview-06-05", "none", 128},
		{"gemini-2.5-flash", "none", 0},
		{"gemini-2.5-flash", "xhigh", 24576},
		{"gemini-2.5-flash-lite", "max", 24576},
		{"gemini-flash-latest", "max", 24576},
		{"gemini-pro-latest", "none", 128},
		{"tunedModels/x", "max", 32768},
	}
	for _, tt := range tests {
		body := `{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"` + tt.effort + `"}`
		out, e := translateRequest([]byte(body), tt.model, nil)
		if e != nil {
			t.Fatalf("%s %s: %v", tt.model, tt.effort, e)
		}
		b := gjson.GetBytes(out, "generationConfig.thinkingConfig.thinkingBudget")
		if !b.Exists() || b.Int() != tt.want {
			t.Errorf("%s with reasoning_effort %s: thinkingBudget %s, want %d", tt.model, tt.effort, b.Raw, tt.want)
		}
	}
}

// TestThinkingLevelRange checks that reasoning_effort gives a Gemini 3 model a thinking level
// it takes: Gemini 3.0 Pro refuses minimal and medium, later Pro models minimal; Flash takes
// all four.
func TestThinkingLevelRange(t *testing.T) {
	tests := []struct{ model, effort, want string }{
		{"gemini-3-pro-preview", "none", "low"},
		{"gemini-3-pro-preview", "minimal", "low"},
		{"gemini-3-pro-preview", "low", "low"},
		{"gemini-3-pro-preview", "medium", "high"},
		{"models/gemini-3-pro-preview", "medium", "high"},
		{"gemini-3-pro-preview", "xhigh", "high"},
		{"gemini-3.1-pro-preview", "medium", "medium"},
		{"gemini-3.1-pro-preview", "minimal", "low"},
		{"gemini-3-flash-preview", "none", "minimal"},
		{"gemini-3-flash-preview", "medium", "medium"},
	}
	for _, tt := range tests {
		body := `{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"` + tt.effort + `"}`
		out, e := translateRequest([]byte(body), tt.model, nil)
		if e != nil {
			t.Fatalf("%s %s: %v", tt.model, tt.effort, e)
		}
		if l := gjson.GetBytes(out, "generationConfig.thinkingConfig.thinkingLevel").Str; l != tt.want {
			t.Errorf("%s with reasoning_effort %s: thinkingLevel %q, want %q", tt.model, tt.effort, l, tt.want)
		}
	}
}

// TestStreamExtras checks what the suite cannot see in a stream: the first delta's role, the
// thought signature on the tool call delta, and the upstream request id.
func TestStreamExtras(t *testing.T) {
	f := fixture(t, "stream_tool_call_signature")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(f.Status)
		w.Write(f.Body)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, providertest.APIKey)
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: f.Call.Body}, Model: f.Call.Model})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var chunks []string
	for s.Next() {
		chunks = append(chunks, string(s.Chunk().Data))
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if len(chunks) != 3 {
		t.Fatalf("%d chunks: %q", len(chunks), chunks)
	}
	if got := gjson.Get(chunks[0], "choices.0.delta.role").Str; got != "assistant" {
		t.Errorf("first delta role = %q", got)
	}
	if gjson.Get(chunks[1], "choices.0.delta.role").Exists() {
		t.Errorf("the role is repeated: %s", chunks[1])
	}
	if got := gjson.Get(chunks[1], "choices.0.delta.tool_calls.0.extra_content.google.thought_signature").Str; got != "EtQCCtECAdHtim9x" {
		t.Errorf("signature = %q in %s", got, chunks[1])
	}
	if id := s.(interface{ UpstreamRequestID() string }).UpstreamRequestID(); id != "sse-tools" {
		t.Errorf("upstream request id %q", id)
	}
}

// fixture returns one of the shared Gemini fixtures.
func fixture(t *testing.T, name string) providertest.Fixture {
	t.Helper()
	for _, f := range providertest.Fixtures(t, "gemini") {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no fixture %s", name)
	return providertest.Fixture{}
}

// TestCanonicalRequest checks a request without a body (built in code): its canonical fields
// are translated like a client's body.
func TestCanonicalRequest(t *testing.T) {
	req := &clearbar.Request{
		Messages: []clearbar.Message{
			{Role: "system", Text: "Judge the answer."},
			{Role: "user", Text: "Score this."},
			{Role: "assistant", ToolCalls: []clearbar.ToolCall{{ID: "c1", Name: "score", Arguments: `{"v":1}`}}},
			{Role: "tool", ToolCallID: "c1", Text: "recorded"},
		},
		Tools:          []clearbar.Tool{{Name: "score", Parameters: []byte(`{"type":"object","properties":{"v":{"type":"integer"}}}`)}},
		ToolChoice:     "score",
		ResponseFormat: clearbar.ResponseFormat{Type: "json_object"},
		MaxTokens:      50,
		N:              1,
	}
	p := &Provider{name: "gem"}
	body, err := p.upstreamBody(&clearbar.Call{Request: req, Model: "gemini-2.5-flash"})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"systemInstruction.parts.0.text":                  `"Judge the answer."`,
		"contents.1.parts.0.functionCall":                 `{"name":"score","args":{"v":1}}`,
		"contents.1.parts.0.thoughtSignature":             ``,
		"contents.2.parts.0.functionResponse":             `{"name":"score","response":{"result":"recorded"}}`,
		"toolConfig.functionCallingConfig":                `{"mode":"ANY","allowedFunctionNames":["score"]}`,
		"generationConfig.maxOutputTokens":                `50`,
		"generationConfig.responseMimeType":               `"application/json"`,
		"tools.0.functionDeclarations.0.parameters.type":  `"OBJECT"`,
		"tools.0.functionDeclarations.0.parameters.title": ``,
	} {
		if got := gjson.GetBytes(body, path).Raw; got != want {
			t.Errorf("%s = %s, want %s\nbody %s", path, got, want, body)
		}
	}
}

// TestRequestErrors checks that what Gemini cannot take is refused with the parameter named,
// before any request is sent.
func TestRequestErrors(t *testing.T) {
	tests := []struct{ explanation, body, param string }{
		{"not JSON", `{`, ""},
		{"unknown role", `{"messages":[{"role":"critic","content":"x"}]}`, "messages[0].role"},
		{"no messages", `{"messages":[]}`, "messages"},
		{"tool result without its call", `{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"1"}]}`, "messages[1].tool_call_id"},
		{"arguments not an object", `{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[0].tool_calls[0].function.arguments"},
		{"OpenAI file id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}]}`, "messages[0].content[0].file.file_id"},
		{"url-encoded data URL", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "messages[0].content[0].image_url.url"},
		{"unknown part", `{"messages":[{"role":"user","content":[{"type":"video_url","video_url":{}}]}]}`, "messages[0].content[0].type"},
		{"custom tool", `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"custom","custom":{"name":"g"}}]}`, "tools[0].type"},
		{"bad tool_choice", `{"messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}`, "tool_choice"},
		{"bad temperature", `{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, "temperature"},
		{"bad reasoning_effort", `{"messages":[{"role":"user","content":"x"}],"reasoning_effort":"extreme"}`, "reasoning_effort"},
		{"bad response_format", `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"yaml"}}`, "response_format.type"},
		{"image in a system message", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"x"}]}`, "messages[0].content[0].type"},
		{"the deprecated functions", `{"messages":[{"role":"user","content":"x"}],"functions":[{"name":"f"}]}`, "functions"},
		{"the deprecated function_call", `{"messages":[{"role":"user","content":"x"}],"function_call":"auto"}`, "function_call"},
		{"an Anthropic client's container", `{"messages":[{"role":"user","content":"x"}],"clearbar_anthropic":{"params":{"container":"c1"}}}`, "container"},
	}
	p := &Provider{name: "gem"}
	for _, tt := range tests {
		_, err := p.upstreamBody(&clearbar.Call{Request: &clearbar.Request{Body: []byte(tt.body)}, Model: "gemini-2.5-flash"})
		var e *clearbar.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: err = %v, want a ClientError", tt.explanation, err)
			continue
		}
		if e.Class != clearbar.ClientError || e.Param != tt.param || e.Provider != "gem" || e.Model != "gemini-2.5-flash" {
			t.Errorf("%s: %s param %q provider %q model %q, want client_error param %q", tt.explanation, e.Class, e.Param, e.Provider, e.Model, tt.param)
		}
	}
}

// TestStreamCloseIsAlwaysCanceled: see providertest.CloseIsCanceled.
func TestStreamCloseIsAlwaysCanceled(t *testing.T) {
	providertest.CloseIsCanceled(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, providertest.APIKey)
	}, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"a\"}]},\"index\":0}]}\r\n\r\n")
}

// TestBlockedAnswersAreBilled: an answer or a prompt blocked on content-policy grounds is an
// error, and still carries the tokens Gemini billed for it, for the decision's cost.
func TestBlockedAnswersAreBilled(t *testing.T) {
	fx := map[string]providertest.Fixture{}
	for _, f := range providertest.Fixtures(t, "gemini") {
		fx[f.Name] = f
	}
	p := &Provider{name: "gem", now: time.Now, newID: randomID}
	a := &attempt{Attempt: &inflight.Attempt{Provider: p.name, Call: &clearbar.Call{Model: "m"}}, p: p}
	for name, prompt := range map[string]int{"complete_safety_block": 11, "complete_prompt_blocked": 9} {
		f, ok := fx[name]
		if !ok {
			t.Fatalf("no fixture %s", name)
		}
		_, err := p.parseResponse(a, &http.Response{StatusCode: f.Status, Header: f.Header}, f.Body)
		if e := clearbar.AsError(err); err == nil || e.Class != clearbar.ContentPolicy || e.Usage.PromptTokens != prompt {
			t.Errorf("%s: error %v, usage %+v; want ContentPolicy with %d prompt tokens", name, err, e.Usage, prompt)
		}
	}
}

// TestAnthropicClientSidecar: the sidecar an Anthropic client's request carries for Anthropic
// upstreams (translate.AnthropicKey) is not for Gemini: a request with only dropped parameters
// in it is sent as if it had none.
func TestAnthropicClientSidecar(t *testing.T) {
	p := &Provider{name: "gem"}
	plain := `{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":9}`
	want, err := p.upstreamBody(&clearbar.Call{Request: &clearbar.Request{Body: []byte(plain)}, Model: "gemini-2.5-flash"})
	if err != nil {
		t.Fatal(err)
	}
	with := strings.TrimSuffix(plain, "}") + `,"clearbar_anthropic":{"beta":"b","params":{"thinking":{"type":"enabled","budget_tokens":1024},"cache_control":{"type":"ephemeral"}}}}`
	got, err := p.upstreamBody(&clearbar.Call{Request: &clearbar.Request{Body: []byte(with)}, Model: "gemini-2.5-flash"})
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("with a sidecar: %v\n%s\nwant\n%s", err, got, want)
	}
}
