package anthropic

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/translate"
)

func newTestProvider(t testing.TB, srv *httptest.Server, version string, keys ...string) *Provider {
	t.Helper()
	sp := &spec.Provider{Name: "claude", Type: Type, APIVersion: version}
	sp.BaseURL.Value = srv.URL
	for i, k := range keys {
		ref := spec.SecretRef{Secret: clearbar.NewSecret(k)}
		if i == 0 {
			sp.APIKey = ref
		} else {
			sp.APIKeys = append(sp.APIKeys, ref)
		}
	}
	p, err := New(provider.Config{Provider: sp, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// TestConformance runs the shared suite on Anthropic's wire format.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, "", providertest.APIKey)
	}, providertest.Fixtures(t, "anthropic")...)
}

// TestStreamCloseIsAlwaysCanceled: see providertest.CloseIsCanceled.
func TestStreamCloseIsAlwaysCanceled(t *testing.T) {
	providertest.CloseIsCanceled(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, "", providertest.APIKey)
	}, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n")
}

// TestFixtureSet checks the Anthropic fixture set itself: every file explains itself, and the
// cases the adapter promises are all there.
func TestFixtureSet(t *testing.T) {
	byName := map[string]providertest.Fixture{}
	for _, f := range providertest.Fixtures(t, "anthropic") {
		byName[f.Name] = f
		if f.Description == "" {
			t.Errorf("%s has no comment saying why it exists", f.File)
		}
	}
	for _, name := range []string{
		"complete_basic", "complete_tool_use", "complete_untranslatable", "complete_malformed_json", "connection_reset",
		"error_400_invalid_request", "error_400_prompt_too_long", "error_401_key_echo", "error_402_billing",
		"error_403_permission", "error_404_not_found", "error_413_request_too_large", "error_429_rate_limit",
		"error_500_api_error", "error_504_timeout", "error_529_overloaded",
		"stream_basic", "stream_tool_use", "stream_error_event", "stream_cut_no_message_stop", "stream_cut_reset",
		"stream_slow_first_chunk", "stream_client_cancel",
	} {
		if _, ok := byName[name]; !ok {
			t.Errorf("fixture %s is missing", name)
		}
	}
	if f := byName["error_401_key_echo"]; !bytes.Contains(f.Body, []byte(providertest.APIKey)) {
		t.Error("error_401_key_echo does not echo APIKey")
	}
}

func TestNew(t *testing.T) {
	build := func(typ, base, version string) (*Provider, error) {
		sp := &spec.Provider{Name: "c", Type: typ, APIVersion: version}
		sp.BaseURL.Value = base
		p, err := New(provider.Config{Provider: sp})
		if err != nil {
			return nil, err
		}
		return p.(*Provider), nil
	}
	p, err := build(Type, "", "")
	if err != nil || p.endpoint != "https://api.anthropic.com/v1/messages" || p.version != "2023-06-01" {
		t.Errorf("defaults: %+v %v", p, err)
	}
	for _, base := range []string{"https://proxy.test", "https://proxy.test/", "https://proxy.test/v1", "https://proxy.test/v1/"} {
		if p, err := build(Type, base, "2026-10-21"); err != nil || p.endpoint != "https://proxy.test/v1/messages" || p.version != "2026-10-21" {
			t.Errorf("base %q: endpoint %q version %q err %v", base, p.endpoint, p.version, err)
		}
	}
	for _, bad := range []struct{ typ, base, want string }{
		{"openai", "", "serves type"},
		{Type, "ftp://x", "not an http or https URL"},
		{Type, "://", "not an http or https URL"},
	} {
		if _, err := build(bad.typ, bad.base, ""); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("New(%q, %q) = %v, want %q", bad.typ, bad.base, err, bad.want)
		}
	}
	if _, err := New(provider.Config{}); err == nil {
		t.Error("New without settings must fail")
	}
}

// recordingUpstream answers every request with a fixed Messages answer (or 401 for keys in
// reject) and records what it got.
type recordingUpstream struct {
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	reject  map[string]bool
}

func (u *recordingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.bodies = append(u.bodies, body)
	u.headers = append(u.headers, r.Header.Clone())
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if u.reject[r.Header.Get("X-Api-Key")] {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
		return
	}
	io.WriteString(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
}

func (u *recordingUpstream) last() ([]byte, http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bodies[len(u.bodies)-1], u.headers[len(u.headers)-1]
}

func openAICall(body string) *clearbar.Call {
	return &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(body), N: 1}, Model: "claude-x", Attempt: 1}
}

// TestKeyRotation checks that a rejected key moves the provider to the next one, within the
// same call, and that the next call starts with it.
func TestKeyRotation(t *testing.T) {
	up := &recordingUpstream{reject: map[string]bool{"key-one": true}}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p := newTestProvider(t, srv, "", "key-one", "key-two")
	if _, err := p.Complete(context.Background(), openAICall(providertest.DefaultBody)); err != nil {
		t.Fatal(err)
	}
	if _, h := up.last(); h.Get("X-Api-Key") != "key-two" || len(up.bodies) != 2 {
		t.Fatalf("%d requests, last key %q", len(up.bodies), h.Get("X-Api-Key"))
	}
	if _, err := p.Complete(context.Background(), openAICall(providertest.DefaultBody)); err != nil {
		t.Fatal(err)
	}
	if len(up.bodies) != 3 {
		t.Errorf("the second call did not start with the working key: %d requests", len(up.bodies))
	}
}

// TestVersion2026 checks the spec's api_version: sent as anthropic-version, and with
// 2026-10-21 the sampling parameters that version rejects are left out.
func TestVersion2026(t *testing.T) {
	up := &recordingUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p := newTestProvider(t, srv, "2026-10-21", "k")
	if _, err := p.Complete(context.Background(), openAICall(`{"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0.3,"top_p":0.5}`)); err != nil {
		t.Fatal(err)
	}
	body, h := up.last()
	if h.Get("Anthropic-Version") != "2026-10-21" {
		t.Errorf("anthropic-version %q", h.Get("Anthropic-Version"))
	}
	if gjson.GetBytes(body, "temperature").Exists() || gjson.GetBytes(body, "top_p").Exists() {
		t.Errorf("sampling parameters sent with 2026-10-21: %s", body)
	}
}

// TestNativeBody checks a request in the Anthropic dialect: passed through with only model and
// stream set and Clearbar's hints removed, so that fields translation would drop (thinking,
// cache_control, top_k) reach an Anthropic upstream.
func TestNativeBody(t *testing.T) {
	up := &recordingUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p := newTestProvider(t, srv, "", "k")
	in := `{"model":"clearbar/auto","max_tokens":9,"top_k":4,"thinking":{"type":"enabled","budget_tokens":1024},"metadata":{"user_id":"u","clearbar_category":"x"},"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}`
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectAnthropic, Body: []byte(in)}, Model: "claude-x"}
	if _, err := p.Complete(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	body, _ := up.last()
	for _, c := range []struct{ path, want string }{
		{"model", `"claude-x"`}, {"top_k", "4"}, {"thinking.budget_tokens", "1024"}, {"metadata", `{"user_id":"u"}`},
		{"messages.0.content.0.cache_control", `{"type":"ephemeral"}`},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s", c.path, got, c.want)
		}
	}
	if gjson.GetBytes(body, "stream").Exists() {
		t.Errorf("a non-streaming call kept stream: %s", body)
	}
	if string(call.Request.Body) != in {
		t.Error("the request body was modified")
	}
}

// TestCanonicalBody checks a request built in code, without a body (judges, replays): its
// canonical fields are sent.
func TestCanonicalBody(t *testing.T) {
	up := &recordingUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p := newTestProvider(t, srv, "", "k")
	req := &clearbar.Request{Model: "judge", MaxTokens: 64, N: 1,
		Messages:       []clearbar.Message{{Role: "system", Text: "Grade."}, {Role: "user", Text: "2+2=4"}},
		ResponseFormat: clearbar.ResponseFormat{Type: "json_object"},
		Tools:          []clearbar.Tool{{Name: "f", Parameters: []byte(`{"type":"object"}`)}}, ToolChoice: "f"}
	r, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "claude-x"})
	if err != nil || r.Text() != "ok" {
		t.Fatal(r, err)
	}
	body, _ := up.last()
	for _, c := range []struct{ path, want string }{
		{"max_tokens", "64"}, {"system.0.text", `"Grade."`}, {"messages.0.content", `"2+2=4"`},
		{"tool_choice", `{"type":"tool","name":"f"}`}, {"tools.0.input_schema", `{"type":"object"}`},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s (%s)", c.path, got, c.want, body)
		}
	}
}

// TestAnthropicClientSidecar checks a request the gateway's Anthropic ingress translated: the
// upstream gets what the client sent that the OpenAI form cannot hold (thinking, cache_control,
// top_k) and its anthropic-beta header, and the answer keeps the upstream's own message for
// that client. With api_version 2026-10-21, top_k is left out as temperature is.
func TestAnthropicClientSidecar(t *testing.T) {
	up := &recordingUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	client := `{"model":"clearbar/auto","max_tokens":4096,"top_k":4,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}`
	oa, err := translate.ToOpenAIRequest([]byte(client), translate.OpenAIOptions{Beta: "interleaved-thinking-2025-05-14"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := newTestProvider(t, srv, "", "k").Complete(context.Background(), openAICall(string(oa)))
	if err != nil {
		t.Fatal(err)
	}
	body, h := up.last()
	if h.Get("Anthropic-Beta") != "interleaved-thinking-2025-05-14" {
		t.Errorf("anthropic-beta %q", h.Get("Anthropic-Beta"))
	}
	for _, c := range []struct{ path, want string }{
		{"model", `"claude-x"`}, {"top_k", "4"}, {"thinking", `{"type":"enabled","budget_tokens":1024}`},
		{"messages.0.content.0.cache_control", `{"type":"ephemeral"}`},
	} {
		if got := gjson.GetBytes(body, c.path).Raw; got != c.want {
			t.Errorf("%s = %s, want %s (%s)", c.path, got, c.want, body)
		}
	}
	if bytes.Contains(body, []byte(translate.AnthropicKey)) {
		t.Errorf("the sidecar reached the upstream: %s", body)
	}
	if got := gjson.GetBytes(r.Body, translate.AnthropicKey+".id").String(); got != "msg_1" || r.Text() != "ok" {
		t.Errorf("the answer does not keep the upstream's message: %s", r.Body)
	}

	if _, err := newTestProvider(t, srv, "2026-10-21", "k").Complete(context.Background(), openAICall(string(oa))); err != nil {
		t.Fatal(err)
	}
	if body, _ := up.last(); gjson.GetBytes(body, "top_k").Exists() || !gjson.GetBytes(body, "thinking").Exists() {
		t.Errorf("with 2026-10-21: %s", body)
	}
	// An OpenAI client's answer does not carry it.
	if r, _ := newTestProvider(t, srv, "", "k").Complete(context.Background(), openAICall(`{"model":"x","messages":[{"role":"user","content":"hi"}]}`)); bytes.Contains(r.Body, []byte(translate.AnthropicKey)) {
		t.Errorf("an OpenAI client's answer: %s", r.Body)
	}
	if _, h := up.last(); h.Get("Anthropic-Beta") != "" {
		t.Errorf("anthropic-beta %q without a client that sent it", h.Get("Anthropic-Beta"))
	}
}
