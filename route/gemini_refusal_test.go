package route_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider/gemini"
	"github.com/clearbar/clearbar/route"
	"github.com/clearbar/clearbar/spec"
)

const geminiRefusalSpec = `version: 1
name: route-gemini-refusal
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
providers:
  ge: {type: gemini, api_key: "k"}
  oa: {type: openai, api_key: "k"}
models:
  flash: {provider: ge, model: gemini-2.5-flash, latency: {p50: 1s, p95: 2s}}
  pro3: {provider: ge, model: gemini-3-pro-preview, latency: {p50: 1s, p95: 2s}}
  mini: {provider: oa, model: gpt-4o-mini, latency: {p50: 1s, p95: 2s}}
categories:
  - name: mix
    default: true
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    fallback: [mini]
    assume: {pass_rate: {flash: 0.9, mini: 0.9}}
  - name: solo
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    fallback: [pro3]
    assume: {pass_rate: {flash: 0.9, pro3: 0.9}}
`

// TestGeminiRefusalSkipsGemini: what the Gemini adapter refuses for every Gemini model (a
// custom tool, a file by an id that is not a Gemini file, a content part a message's role
// cannot hold, a media URL Gemini cannot read, …) leaves the route's Gemini models out of the
// plan, saying why in the adapter's words, and a route with no other model answers the
// adapter's own 400.
func TestGeminiRefusalSkipsGemini(t *testing.T) {
	s, err := spec.Parse([]byte(geminiRefusalSpec), "route-gemini-refusal.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.New(s)
	if err != nil {
		t.Fatal(err)
	}
	plan := func(t *testing.T, category, body string) (plan string, skipped []string, err error) {
		t.Helper()
		req, derr := gateway.DecodeChatRequest([]byte(body), gateway.DefaultLimits)
		if derr != nil {
			t.Fatal(derr)
		}
		d := &clearbar.Decision{}
		if _, err = r.Plan(context.Background(), s.Category(category), &route.Input{Request: req, Header: http.Header{}}, nil, d); err != nil {
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
	userParts := func(parts ...string) string {
		return `{"role":"user","content":[` + strings.Join(parts, ",") + `]}`
	}
	const (
		fn    = `{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}`
		calls = `{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{}"}}]}`
		ok    = `{"role":"tool","tool_call_id":"c1","content":"ok"}`
	)
	refusals := []struct {
		name, body, param, msg string
	}{
		{"custom tool", body(`,"tools":[{"type":"custom","custom":{"name":"grammar"}}]`),
			"tools[0].type", `Gemini takes function tools, not "custom"`},
		{"file_id", body("", userParts(`{"type":"file","file":{"file_id":"file-abc"}}`)),
			"messages[0].content[0].file.file_id", `file id "file-abc" is not a Gemini file (files/…): upload it to Gemini's Files API or send file_data`},
		{"input_text from the assistant", body("", user, `{"role":"assistant","content":[{"type":"input_text","text":"hello"}]}`, user),
			"messages[1].content[0].type", `an assistant message holds text and refusal parts, not "input_text"`},
		{"an image in a system message", body("", `{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}`, user),
			"messages[0].content[0].type", `a "image_url" part cannot go here: only text`},
		{"a refusal from the user", body("", userParts(`{"type":"refusal","refusal":"no"}`)),
			"messages[0].content[0].type", `Gemini takes text, image_url, input_audio and file parts, not "refusal"`},
		{"an image by an ftp URL", body("", userParts(`{"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}`)),
			"messages[0].content[0].image_url.url", "Gemini takes data: URLs and http(s) or gs:// URLs"},
		{"a data URL not in base64", body("", userParts(`{"type":"image_url","image_url":{"url":"data:image/png,abc"}}`)),
			"messages[0].content[0].image_url.url", "a data: URL must be base64 (data:<type>;base64,<data>)"},
		{"a file without data or id", body("", userParts(`{"type":"file","file":{"filename":"a.pdf"}}`)),
			"messages[0].content[0].file", "a file part needs file_data or file_id"},
		{"a custom tool call", body(`,"tools":[`+fn+`]`, user,
			`{"role":"assistant","tool_calls":[{"id":"c1","type":"custom","custom":{"name":"grammar","input":"x"}}]}`, ok),
			"messages[1].tool_calls[0].type", `Gemini takes function tool calls, not "custom"`},
		{"arguments", body(`,"tools":[`+fn+`]`, user, `{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"[1]"}}]}`, ok),
			"messages[1].tool_calls[0].function.arguments", "the arguments of a call to lookup must be a JSON object (Gemini's args)"},
		{"tool_choice without a type", body(`,"tools":[` + fn + `],"tool_choice":{"function":{"name":"lookup"}}`),
			"tool_choice.type", `Gemini takes function tool choices, not ""`},
		{"allowed_tools mode", body(`,"tools":[` + fn + `],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"any","tools":[]}}`),
			"tool_choice.allowed_tools.mode", `allowed_tools mode "any" is not auto or required`},
		{"a function message", body(`,"tools":[`+fn+`]`, user, `{"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":"{}"}}`, `{"role":"function","name":"lookup","content":"ok"}`),
			"messages[2].role", `role "function" cannot be sent to Gemini (use system, developer, user, assistant or tool)`},
		{"no content", body("", `{"role":"user","content":""}`),
			"messages", "messages must contain at least one message with content"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			want := "flash: a Gemini model cannot take the request: " + tc.msg
			got, skipped, err := plan(t, "mix", tc.body)
			if err != nil || got != "mini" || len(skipped) != 1 || skipped[0] != want {
				t.Errorf("plan %q, skips %q, err %v; want mini, %q", got, skipped, err, want)
			}
			// No model left: the adapter's own 400.
			_, _, err = plan(t, "solo", tc.body)
			var ce *clearbar.Error
			if !errors.As(err, &ce) || ce.Class != clearbar.ClientError || ce.Status != 400 || ce.Type != "invalid_request_error" ||
				ce.Code != "unsupported_for_gemini" || ce.Param != tc.param || ce.Message != tc.msg {
				t.Errorf("solo: err %#v; want the adapter's 400 naming %s: %q", err, tc.param, tc.msg)
			}
			if a := gemini.Refusal([]byte(tc.body)); a == nil || ce == nil || a.Message != ce.Message || a.Param != ce.Param {
				t.Errorf("solo: err %v, the adapter's refusal %v; want the same", err, a)
			}
		})
	}

	// What the adapter takes keeps the route as it is.
	for _, b := range []string{
		body(""),
		body(`,"tools":[` + fn + `],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[` + fn + `]}}`),
		body(`,"tools":[`+fn+`],"tool_choice":"auto"`, user, calls, ok),
		body("", `{"role":"system","content":[{"type":"input_text","text":"brief"}]}`, userParts(
			`{"type":"input_text","text":"see"}`,
			`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}`,
			`{"type":"image_url","image_url":{"url":"gs://bucket/a.png"}}`,
			`{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}`,
			`{"type":"file","file":{"file_id":"files/abc"}}`,
			`{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE"}}`)),
		body("", `{"role":"system","content":"only a system prompt"}`),
	} {
		if got, skipped, err := plan(t, "mix", b); err != nil || got != "flash mini" || skipped != nil {
			t.Errorf("%s: plan %q, skips %q, err %v; want flash mini", b, got, skipped, err)
		}
	}

	var ce *clearbar.Error

	// The adapter's order: a custom tool is refused before a web search with tools, which
	// Gemini 2.x refuses and Gemini 3 takes.
	search := body(`,"web_search_options":{},"tools":[` + fn + `,{"type":"custom","custom":{"name":"grammar"}}]`)
	if got, skipped, err := plan(t, "mix", search); err != nil || got != "mini" || len(skipped) != 1 ||
		skipped[0] != `flash: a Gemini model cannot take the request: Gemini takes function tools, not "custom"` {
		t.Errorf("web search and a custom tool: plan %q, skips %q, err %v; want mini, flash left out for the custom tool", got, skipped, err)
	}

	// The deprecated functions keep their own reason and error, which come first in the
	// adapter too, even with a function message, which it refuses as well.
	functions := body(`,"functions":[{"name":"lookup","parameters":{"type":"object"}}]`, user,
		`{"role":"assistant","content":null,"function_call":{"name":"lookup","arguments":"{}"}}`, `{"role":"function","name":"lookup","content":"ok"}`)
	if got, skipped, err := plan(t, "mix", functions); err != nil || got != "mini" || len(skipped) != 1 ||
		skipped[0] != "flash: a Gemini model takes no deprecated functions (only tools)" {
		t.Errorf("functions: plan %q, skips %q, err %v; want mini, flash left out for functions", got, skipped, err)
	}
	if _, _, err := plan(t, "solo", functions); !errors.As(err, &ce) || ce.Param != "functions" || ce.Code != "unsupported_parameter" {
		t.Errorf("functions on Gemini only: err %v; want the 400 naming the deprecated functions", err)
	}

	// Simulated (serve --simulate), the providers route as the types the spec gave them.
	for _, p := range s.Providers {
		p.SimulatedType, p.Type = p.Type, "simulated"
	}
	if r, err = route.New(s); err != nil {
		t.Fatal(err)
	}
	if got, skipped, err := plan(t, "mix", refusals[0].body); err != nil || got != "mini" || len(skipped) != 1 {
		t.Errorf("simulated: a custom tool on flash, fallback mini: plan %q, skips %q, err %v; want mini, flash left out", got, skipped, err)
	}
	if _, _, err := plan(t, "solo", refusals[0].body); !errors.As(err, &ce) || ce.Code != "unsupported_for_gemini" {
		t.Errorf("simulated: a custom tool on Gemini only: err %v; want the adapter's 400", err)
	}
}
