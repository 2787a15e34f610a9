package route_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

const anthropicRefusalSpec = `version: 1
name: route-anthropic-refusal
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  an: {type: anthropic, api_key: "k"}
  ge: {type: gemini, api_key: "k"}
  oa: {type: openai, api_key: "k"}
models:
  son: {provider: an, model: claude-sonnet-4-5, latency: {p50: 1s, p95: 2s}}
  flash: {provider: ge, model: gemini-2.5-flash, latency: {p50: 1s, p95: 2s}}
  mini: {provider: oa, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
  small: {provider: oa, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}, context_window: 1000}
categories:
  - name: mix
    default: true
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: son}
    fallback: [mini]
    assume: {pass_rate: {son: 0.9, mini: 0.9}}
  - name: solo
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: son}
    assume: {pass_rate: {son: 0.9}}
  - name: cramped
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: son}
    fallback: [small]
    assume: {pass_rate: {son: 0.9, small: 0.9}}
  - name: droppers
    share: 0.25
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    fallback: [son, mini]
    assume: {pass_rate: {flash: 0.9, son: 0.9, mini: 0.9}}
`

// openBreakers is a Health whose listed keys have their breakers open.
type openBreakers map[string]bool

func (o openBreakers) Open(key string) (bool, string) { return o[key], "circuit breaker open" }

// TestAnthropicRefusalSkipsAnthropic: what the translation into Anthropic's form refuses (n over
// 1, audio input, a custom tool, a file by id, …) leaves the route's Anthropic models out of the
// plan, saying why, and a route with no other model answers the translation's own 400. What the
// Anthropic and Gemini adapters drop although the answer would carry it (logprobs, audio
// output) leaves them out only while another model of the route can take the request.
func TestAnthropicRefusalSkipsAnthropic(t *testing.T) {
	s, err := spec.Parse([]byte(anthropicRefusalSpec), "route-anthropic-refusal.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.New(s)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(t *testing.T, h route.Health, category, body string) (plan string, skipped []string, err error) {
		t.Helper()
		req, derr := gateway.DecodeChatRequest([]byte(body), gateway.DefaultLimits)
		if derr != nil {
			t.Fatal(derr)
		}
		d := &clearbar.Decision{}
		if _, err = r.Plan(context.Background(), s.Category(category), &route.Input{Request: req, Header: http.Header{}}, h, d); err != nil {
			return "", nil, err
		}
		for _, sk := range d.Skipped {
			skipped = append(skipped, sk.Model+": "+sk.Reason)
		}
		return strings.Join(d.Plan, " "), skipped, nil
	}
	const user = `{"role":"user","content":"hi"}`
	body := func(extra string, msgs ...string) string {
		if len(msgs) == 0 {
			msgs = []string{user}
		}
		return `{"model":"m","messages":[` + strings.Join(msgs, ",") + `]` + extra + `}`
	}
	const fn = `{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}`
	for _, tc := range []struct {
		name, body, skip string
	}{
		{"n", body(`,"n":2`), "n must be 1: Anthropic models answer with one choice (got 2)"},
		{"input_audio", body("", `{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}`), "audio input cannot be sent to Anthropic models"},
		{"file_id", body("", `{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]}`), "files uploaded to OpenAI (file_id) cannot be sent to Anthropic"},
		{"not a PDF", body("", `{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/csv;base64,YSxi"}}]}`), "only PDF files can be sent to Anthropic"},
		{"custom tool", body(`,"tools":[{"type":"custom","custom":{"name":"grammar"}}]`), `tool type "custom" cannot be sent to Anthropic`},
		{"allowed_tools", body(`,"tools":[` + fn + `],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}`), `tool_choice type "allowed_tools" cannot be sent to Anthropic`},
		{"arguments", body("", user, `{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"[1]"}}]}`, `{"role":"tool","tool_call_id":"c1","content":"ok"}`), "tool call arguments must be a JSON object"},
		{"input_text", body("", `{"role":"user","content":[{"type":"input_text","text":"hi"}]}`), `content part type "input_text" cannot be sent to Anthropic`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped, err := plan(t, nil, "mix", tc.body)
			if err != nil || got != "mini" || len(skipped) != 1 || !strings.HasPrefix(skipped[0], "son: an Anthropic model cannot take the request: ") || !strings.Contains(skipped[0], tc.skip) {
				t.Errorf("plan %q, skips %q, err %v; want mini, son left out for %q", got, skipped, err, tc.skip)
			}
		})
	}

	// What the translation takes keeps the route as it is.
	for _, b := range []string{
		body(""),
		body(`,"n":1,"tools":[` + fn + `],"tool_choice":{"type":"function","function":{"name":"lookup"}}`),
		body("", `{"role":"user","content":[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE"}}]}`),
	} {
		if got, skipped, err := plan(t, nil, "mix", b); err != nil || got != "son mini" || skipped != nil {
			t.Errorf("%s: plan %q, skips %q, err %v; want son mini", b, got, skipped, err)
		}
	}

	// No model left: the 400 the Anthropic adapter gives, whether the route has no other model
	// or its other model cannot take the request.
	huge := body(`,"n":2,"max_completion_tokens":2000`)
	for _, tc := range []struct{ category, body string }{{"solo", body(`,"n":2`)}, {"cramped", huge}} {
		_, _, err := plan(t, nil, tc.category, tc.body)
		var ce *clearbar.Error
		if !errors.As(err, &ce) || ce.Status != 400 || ce.Param != "n" || ce.Code != "unsupported_value" || ce.Type != "invalid_request_error" ||
			ce.Message != "n must be 1: Anthropic models answer with one choice (got 2)" {
			t.Errorf("%s: err %#v; want the translation's 400 naming n", tc.category, err)
		}
	}
	// Every other model's breaker open: the plan fails open on a model that can take it.
	if got, _, err := plan(t, openBreakers{"oa/mini": true}, "mix", body(`,"n":2`)); err != nil || got != "mini" {
		t.Errorf("n=2, mini's breaker open: plan %q, err %v; want mini, failing open", got, err)
	}

	// Dropped parameters: left out while another model can give them.
	for _, tc := range []struct {
		name, category, body string
		h                    route.Health
		plan                 string
		skips                []string
	}{
		{"logprobs", "mix", body(`,"logprobs":true,"top_logprobs":2`), nil, "mini",
			[]string{"son: an Anthropic model gives no logprobs, which the request asks for and another model of the route can give"}},
		{"audio output", "droppers", body(`,"modalities":["text","audio"],"audio":{"voice":"alloy","format":"wav"}`), nil, "mini", []string{
			"flash: a Gemini model answers in text only, not the audio the request asks for (modalities), which another model of the route can give",
			"son: an Anthropic model answers in text only, not the audio the request asks for (modalities), which another model of the route can give"}},
		{"text modality", "mix", body(`,"modalities":["text"]`), nil, "son mini", nil},
		{"logprobs false", "mix", body(`,"logprobs":false`), nil, "son mini", nil},
		{"only droppers", "solo", body(`,"logprobs":true`), nil, "son", nil},
		{"the other too small", "cramped", body(`,"logprobs":true,"max_completion_tokens":2000`), nil, "son", []string{"small: context window 1000 tokens < 2000 needed (estimated input 0 + max tokens 2000)"}},
		{"the other's breaker open", "mix", body(`,"logprobs":true`), openBreakers{"oa/mini": true}, "son", []string{"mini: circuit breaker open"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, skipped, err := plan(t, tc.h, tc.category, tc.body)
			if err != nil || got != tc.plan || strings.Join(skipped, "; ") != strings.Join(tc.skips, "; ") {
				t.Errorf("plan %q, skips %q, err %v; want %q, %q", got, skipped, err, tc.plan, tc.skips)
			}
		})
	}

	// Simulated (serve --simulate), the providers route as the types the spec gave them.
	for _, p := range s.Providers {
		p.SimulatedType, p.Type = p.Type, "simulated"
	}
	if r, err = route.New(s); err != nil {
		t.Fatal(err)
	}
	if got, skipped, err := plan(t, nil, "mix", body(`,"n":2`)); err != nil || got != "mini" || len(skipped) != 1 {
		t.Errorf("simulated: n=2 on son, fallback mini: plan %q, skips %q, err %v; want mini, son left out", got, skipped, err)
	}
	if got, _, err := plan(t, nil, "mix", body(`,"logprobs":true`)); err != nil || got != "mini" {
		t.Errorf("simulated: logprobs on son, fallback mini: plan %q, err %v; want mini", got, err)
	}
}

// A text-only request on a route with an Anthropic model adds no allocations to a plan that
// skips nothing.
func TestAnthropicRefusalTextOnlyAllocs(t *testing.T) {
	s, err := spec.Parse([]byte(anthropicRefusalSpec), "route-anthropic-refusal.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.New(s)
	if err != nil {
		t.Fatal(err)
	}
	req, err := gateway.DecodeChatRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`), gateway.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	in, c, d := &route.Input{Request: req, Header: http.Header{}}, s.Category("droppers"), &clearbar.Decision{}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := r.Plan(context.Background(), c, in, nil, d); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("%v allocations per plan, want 1 (the Plan)", n)
	}
}
