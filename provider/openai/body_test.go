package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/tidwall/gjson"
)

func TestEditBody(t *testing.T) {
	tests := []struct {
		name, explanation string
		in                string
		stream            bool
		want              string
		err               bool
	}{
		{
			"model only", "a non-stream body without stream keys changes only model, in place",
			`{"model":"alias","messages":[],"x_custom": {"a":[1,2]}}`, false,
			`{"model":"m","messages":[],"x_custom": {"a":[1,2]}}`, false,
		},
		{
			"stream added", "a stream asks for stream and usage at the end of the object",
			`{"model":"alias","messages":[]}`, true,
			`{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}`, false,
		},
		{
			"stream already asked", "a client that already asked for both keeps its bytes",
			`{"model":"alias","stream":true,"stream_options":{"include_usage":true}}`, true,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true}}`, false,
		},
		{
			"include_usage false", "usage is forced on (every call is priced); other options stay",
			`{"model":"a","stream":true,"stream_options":{"include_usage":false,"include_obfuscation":false}}`, true,
			`{"model":"m","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}`, false,
		},
		{
			"stream_options null", "a null stream_options is replaced",
			`{"model":"a","stream_options":null}`, true,
			`{"model":"m","stream_options":{"include_usage":true},"stream":true}`, false,
		},
		{
			"stream turned off", "a streaming client served by Complete: stream false, stream_options gone (OpenAI rejects it without stream)",
			`{"model":"a","stream":true,"stream_options":{"include_usage":true},"n":1}`, false,
			`{"model":"m","stream":false,"n":1}`, false,
		},
		{
			"hints removed", "clearbar metadata keys go; the others keep their values' bytes",
			`{"model":"a","metadata":{"clearbar_category":"x","team":"s p","clearbar.route":"y","n": "1"}}`, false,
			`{"model":"m","metadata":{"team":"s p","n":"1"}}`, false,
		},
		{
			"metadata emptied", "metadata that held only hints is removed",
			`{"model":"a","metadata":{"clearbar_category":"x"},"user":"u"}`, false,
			`{"model":"m","user":"u"}`, false,
		},
		{
			"metadata without hints", "metadata without hints is untouched, even when empty",
			`{"model":"a","metadata":{}}`, false,
			`{"model":"m","metadata":{}}`, false,
		},
		{
			"Clearbar capitalised", "the prefix is case-sensitive, as clearbar.Request documents it",
			`{"model":"a","metadata":{"Clearbar":"x"}}`, false,
			`{"model":"m","metadata":{"Clearbar":"x"}}`, false,
		},
		{
			"no model", "a body without model gets one",
			`{"messages":[]}`, false,
			`{"messages":[],"model":"m"}`, false,
		},
		{
			"duplicate model", "a second model key would win upstream (last wins in most parsers): the body is rebuilt with one",
			`{"model":"cheap","messages":[],"model":"gpt-expensive","x":{"k": 1}}`, false,
			`{"messages":[],"x":{"k": 1},"model":"m"}`, false,
		},
		{
			"duplicate metadata", "the last metadata is the one parsers read; its hints still go",
			`{"metadata":{"a":"1"},"model":"x","metadata":{"clearbar_x":"1","b":"2"}}`, false,
			`{"model":"m","metadata":{"b":"2"}}`, false,
		},
		{
			"escaped key", "an escaped \"model\" key is still the model key",
			`{"mod\u0065l":"gpt-expensive","messages":[]}`, false,
			`{"mod\u0065l":"m","messages":[]}`, false,
		},
		{"not JSON", "a body that is not JSON is the client's error", `{"model":`, false, "", true},
		{"not an object", "an array is not a request", `[{"model":"a"}]`, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			before := bytes.Clone(in)
			got, err := editBody(in, "m", tt.stream, "")
			if tt.err {
				if err == nil {
					t.Fatalf("%s: no error, got %s", tt.explanation, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("%s\n got %s\nwant %s", tt.explanation, got, tt.want)
			}
			if !bytes.Equal(in, before) {
				t.Errorf("the input was modified: %s", in)
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Errorf("the result is not JSON: %v", err)
			} else if m["model"] != "m" {
				t.Errorf("encoding/json reads model %v", m["model"])
			}
		})
	}
}

func TestCanonicalBody(t *testing.T) {
	req := &clearbar.Request{
		Model: "alias",
		Messages: []clearbar.Message{
			{Role: "system", Text: "Be brief."},
			{Role: "user", Text: "Weather?"},
			{Role: "assistant", ToolCalls: []clearbar.ToolCall{{ID: "c1", Name: "w", Arguments: `{"q":1}`}}},
			{Role: "tool", ToolCallID: "c1", Text: "sunny"},
		},
		Tools:          []clearbar.Tool{{Name: "w", Parameters: json.RawMessage(`{"type":"object"}`)}},
		ToolChoice:     "w",
		ResponseFormat: clearbar.ResponseFormat{Type: "json_object"},
		MaxTokens:      100,
		N:              1,
		Metadata:       map[string]string{"clearbar_category": "x", "team": "t"},
		User:           "u",
	}
	for _, tt := range []struct {
		typ, maxKey string
		stream      bool
	}{{TypeOpenAI, "max_completion_tokens", false}, {TypeCompatible, "max_tokens", true}} {
		p := &Provider{typ: tt.typ}
		b, err := p.upstreamBody(&clearbar.Call{Request: req, Model: "m"}, tt.stream)
		if err != nil {
			t.Fatal(err)
		}
		checks := map[string]string{
			"model":                      `"m"`,
			"messages.0.content":         `"Be brief."`,
			"messages.2.content":         `null`,
			"messages.2.tool_calls.0.id": `"c1"`,
			"messages.3.tool_call_id":    `"c1"`,
			"tools.0.function.name":      `"w"`,
			"tool_choice.function.name":  `"w"`,
			"response_format.type":       `"json_object"`,
			tt.maxKey:                    `100`,
			"metadata":                   `{"team":"t"}`,
			"user":                       `"u"`,
		}
		if tt.stream {
			checks["stream"] = "true"
			checks["stream_options.include_usage"] = "true"
		}
		for path, want := range checks {
			if got := gjson.GetBytes(b, path).Raw; got != want {
				t.Errorf("%s: %s = %s, want %s in %s", tt.typ, path, got, want, b)
			}
		}
		if !tt.stream && gjson.GetBytes(b, "stream").Exists() {
			t.Errorf("a non-stream body has stream: %s", b)
		}
	}
}

// TestOtherDialectBody: a request from an Anthropic-dialect client is rebuilt from its
// canonical fields, not forwarded.
func TestOtherDialectBody(t *testing.T) {
	req := &clearbar.Request{
		Dialect:  clearbar.DialectAnthropic,
		Body:     []byte(`{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"system":"s"}`),
		Messages: []clearbar.Message{{Role: "system", Text: "s"}, {Role: "user", Text: "hi"}},
	}
	b, err := (&Provider{typ: TypeOpenAI}).upstreamBody(&clearbar.Call{Request: req, Model: "m"}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Messages []struct{ Role, Content string }
		System   any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := []struct{ Role, Content string }{{"system", "s"}, {"user", "hi"}}
	if !reflect.DeepEqual(got.Messages, want) || got.System != nil {
		t.Errorf("body %s", b)
	}
}

// TestTokenLimitName: a pass-through body's token limit goes under the name the upstream
// takes: OpenAI and Azure OpenAI refuse max_tokens on reasoning models, other servers may not
// know max_completion_tokens. A body with both is the client's to send as it is.
func TestTokenLimitName(t *testing.T) {
	for _, tt := range []struct {
		typ, in, want, explanation string
	}{
		{TypeOpenAI, `{"model":"x","max_tokens":7,"messages":[]}`, `{"model":"m","messages":[],"max_completion_tokens":7}`,
			"the deprecated name becomes max_completion_tokens for OpenAI"},
		{"azure-openai", `{"model":"x","max_tokens":7,"messages":[]}`, `{"model":"m","messages":[],"max_completion_tokens":7}`,
			"Azure OpenAI's reasoning deployments refuse max_tokens too"},
		{TypeOpenAI, `{"model":"x","max_completion_tokens":7,"messages":[]}`, `{"model":"m","max_completion_tokens":7,"messages":[]}`,
			"already the right name: untouched"},
		{TypeCompatible, `{"model":"x","max_completion_tokens":7,"messages":[]}`, `{"model":"m","messages":[],"max_tokens":7}`,
			"vLLM, Ollama and llama.cpp all know max_tokens"},
		{TypeCompatible, `{"model":"x","max_tokens":7,"max_completion_tokens":9,"messages":[]}`, `{"model":"m","max_tokens":7,"max_completion_tokens":9,"messages":[]}`,
			"both given: the client meant both"},
	} {
		p := &Provider{typ: tt.typ, completionTokens: tt.typ == "azure-openai"}
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(tt.in)}
		got, err := p.upstreamBody(&clearbar.Call{Request: req, Model: "m"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: %s\n got %s\nwant %s", tt.typ, tt.explanation, got, tt.want)
		}
	}
}

// TestDeveloperRoleOnCompatibleServers: an OpenAI-compatible server gets the developer
// message as a system message, which every such server knows; OpenAI and Azure OpenAI, which
// take developer, get it as the client sent it.
func TestDeveloperRoleOnCompatibleServers(t *testing.T) {
	const in = `{"model":"x","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"the developer role"}]}`
	for _, tt := range []struct {
		typ  string
		want string
	}{
		{TypeCompatible, `{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"the developer role"}]}`},
		{TypeOpenAI, `{"model":"m","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"the developer role"}]}`},
		{"azure-openai", `{"model":"m","messages":[{"role":"developer","content":"Be brief."},{"role":"user","content":"the developer role"}]}`},
	} {
		p := &Provider{typ: tt.typ, completionTokens: tt.typ == "azure-openai"}
		if tt.typ == "azure-openai" {
			p.typ = TypeCompatible
		}
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(in)}
		got, err := p.upstreamBody(&clearbar.Call{Request: req, Model: "m"}, false)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.typ, got, tt.want)
		}
	}
}

// TestAnthropicClientBody: a request the gateway's Anthropic ingress translated carries a
// sidecar for Anthropic upstreams (translate.AnthropicKey). An OpenAI-format upstream gets the
// body without it; a parameter it cannot honour is a ClientError naming it, before any call.
// The deprecated functions, which OpenAI still takes, pass through as the client sent them.
func TestAnthropicClientBody(t *testing.T) {
	p := &Provider{name: "up", typ: TypeCompatible}
	body := func(in string) ([]byte, error) {
		req := &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(in)}
		return p.upstreamBody(&clearbar.Call{Request: req, Model: "m"}, false)
	}
	got, err := body(`{"model":"x","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9,"clearbar_anthropic":{"beta":"b","params":{"thinking":{"type":"enabled","budget_tokens":1024},"top_k":3},"messages":[{"extra":{"cache_control":{"type":"ephemeral"}}}]}}`)
	if err != nil || string(got) != `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9}` {
		t.Errorf("the sidecar's dropped parameters: %v %s", err, got)
	}
	_, err = body(`{"model":"x","messages":[{"role":"user","content":"hi"}],"clearbar_anthropic":{"params":{"mcp_servers":[]}}}`)
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.ClientError || e.Param != "mcp_servers" || e.Provider != "up" || e.Model != "m" {
		t.Errorf("mcp_servers for an OpenAI-format model: %v", err)
	}
	legacy := `{"model":"x","messages":[{"role":"user","content":"hi"}],"functions":[{"name":"f","parameters":{"type":"object"}}],"function_call":{"name":"f"}}`
	if got, err := body(legacy); err != nil || string(got) != strings.Replace(legacy, `"x"`, `"m"`, 1) {
		t.Errorf("the deprecated functions: %v %s", err, got)
	}
}
