package validate_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// TestFunctionCallAnswers: the tool_calls and refusal validators judge an answer in the
// deprecated form (message.function_call) to a request offering the deprecated functions as
// they judge a tool call: the request as the gateway decodes it, the answer as the OpenAI
// adapter reads it from an upstream.
func TestFunctionCallAnswers(t *testing.T) {
	const src = `version: 1
name: v
providers: {up: {type: openai-compatible, base_url: http://localhost}}
models: {a: {provider: up, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}}
categories:
  - name: c
    share: 1
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: a, validate: [{tool_calls: required}, {refusal: true}]}
    assume: {pass_rate: {a: 0.9}, validator: {detect: 0.9, false_alarm: 0.1}}
`
	s, err := spec.Parse([]byte(src), "v.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vs []validate.Validator
	for _, sv := range s.Categories[0].Route.Validate {
		v, err := validate.Compile(sv, validate.Env{Spec: s})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	req, err := gateway.DecodeChatRequest([]byte(`{"model":"clearbar/c","messages":[{"role":"user","content":"Weather in Paris?"}],`+
		`"functions":[{"name":"get_weather","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string"}}}},{"name":"get_time"}],`+
		`"function_call":{"name":"get_weather"}}`), gateway.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}

	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":null,"function_call":`+answer+`},"finish_reason":"function_call"}],`+
			`"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`)
	}))
	defer srv.Close()
	p, err := openai.New(provider.Config{Provider: &spec.Provider{Name: "up", Type: openai.TypeCompatible, BaseURL: spec.EnvString{Value: srv.URL + "/v1"}}, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		call        string
		fails       []string // a part of each failing verdict's reason: tool_calls, then refusal
		explanation string
	}{
		{`{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}`, []string{"", ""},
			"a valid call to the function function_call names passes both"},
		{`{"name":"get_weather","arguments":"{\"town\":\"Paris\"}"}`, []string{"city", ""},
			"arguments are checked against the function's parameters"},
		{`{"name":"get_time","arguments":"{}"}`, []string{"", "requires a call to get_weather (function_call) but the answer calls get_time"},
			"another function than the one function_call names is a mismatch"},
		{`{"name":"get_date","arguments":"{}"}`, []string{"does not offer", "answer calls get_date"},
			"a function the request does not offer"},
	} {
		answer = tt.call
		resp, err := p.Complete(context.Background(), &clearbar.Call{Request: req, Model: "gpt"})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vs {
			got := v.Check(context.Background(), &validate.Input{Request: req, Response: resp})
			want := tt.fails[i]
			if got.Pass != (want == "") || want != "" && !strings.Contains(got.Reason, want) {
				t.Errorf("%s: %s: pass %v, reason %q; want %q", tt.explanation, v.Name(), got.Pass, got.Reason, want)
			}
		}
	}
}
