package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// §8 item 13 with openai-go: parameters of the wrong type or out of range are refused before
// routing with a 400 whose param names them, which the SDK does not retry.
func TestSDKWrongTypesNameTheParam(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: answerNormally})
	tests := []struct {
		explanation string
		set         []option.RequestOption
		param, code string
		message     string // a part of the message, when it matters
	}{
		{"stream as a string", []option.RequestOption{option.WithJSONSet("stream", "yes")}, "stream", "invalid_type", ""},
		{"an unknown role", []option.RequestOption{option.WithJSONSet("messages.0.role", "wizard")}, "messages[0].role", "invalid_value", ""},
		{"content as a number", []option.RequestOption{option.WithJSONSet("messages.0.content", 42)}, "messages[0].content", "invalid_type", ""},
		{"max_tokens as a string", []option.RequestOption{option.WithJSONSet("max_tokens", "ten")}, "max_tokens", "invalid_type", ""},
		{"negative max_tokens", []option.RequestOption{option.WithJSONSet("max_tokens", -5)}, "max_tokens", "integer_below_min_value", ""},
		{"n of 0", []option.RequestOption{option.WithJSONSet("n", 0)}, "n", "integer_below_min_value", ""},
		{"n of 129", []option.RequestOption{option.WithJSONSet("n", 129)}, "n", "integer_above_max_value", ""},
		{"temperature 5", []option.RequestOption{option.WithJSONSet("temperature", 5)}, "temperature", "decimal_above_max_value", ""},
		{"tool_choice sometimes", []option.RequestOption{option.WithJSONSet("tools", weatherTools), option.WithJSONSet("tool_choice", "sometimes")}, "tool_choice", "invalid_value", "'none', 'auto' and 'required'"},
		{"tool_choice naming a function not among the tools", []option.RequestOption{option.WithJSONSet("tools", weatherTools),
			option.WithJSONSet("tool_choice", map[string]any{"type": "function", "function": map[string]any{"name": "get_time"}})}, "tool_choice", "invalid_value",
			`function "get_time" is not among the request's tools (get_weather)`},
	}
	for _, tt := range tests {
		var attempts attemptLog
		_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("x")},
			append(tt.set, attempts.option())...)
		ae := apiError(t, err)
		if ae.StatusCode != 400 || ae.Param != tt.param || ae.Code != tt.code || ae.Type != "invalid_request_error" {
			t.Errorf("%s: status %d param %q code %q type %q, want 400 %q %q", tt.explanation, ae.StatusCode, ae.Param, ae.Code, ae.Type, tt.param, tt.code)
		}
		if !strings.Contains(ae.Message, tt.message) {
			t.Errorf("%s: message %q, want one with %q", tt.explanation, ae.Message, tt.message)
		}
		if len(attempts.statuses) != 1 {
			t.Errorf("%s: %d attempts, want 1", tt.explanation, len(attempts.statuses))
		}
	}
	if n := e.up.count("up-primary"); n != 0 {
		t.Errorf("a refused request reached the upstream (%d calls)", n)
	}
}

// weatherTools is a tools parameter with one function, get_weather.
var weatherTools = []map[string]any{{"type": "function", "function": map[string]any{"name": "get_weather", "parameters": map[string]any{"type": "object"}}}}

// §8 items 6 and 7: when every model of the plan failed (the gateway retried and fell back
// itself), the client gets the first model's error with x-should-retry: false, so the SDK does
// not run the whole plan twice more, and retry-after-ms for when it tries again itself.
func TestSDKExhaustedPlanIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 503, "application/json", `{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}`)
	}})
	for _, stream := range []bool{false, true} {
		var attempts attemptLog
		params := openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("x")}
		var err error
		if stream {
			s := e.client.Chat.Completions.NewStreaming(context.Background(), params, attempts.option())
			for s.Next() {
				t.Errorf("a chunk from a failed stream: %s", s.Current().RawJSON())
			}
			err = s.Err()
			s.Close()
		} else {
			_, err = e.client.Chat.Completions.New(context.Background(), params, attempts.option())
		}
		ae := apiError(t, err)
		h := ae.Response.Header
		if ae.StatusCode != 503 || h.Get("X-Should-Retry") != "false" || h.Get("Retry-After-Ms") == "" || !strings.Contains(ae.Message, "overloaded") {
			t.Errorf("stream %v: status %d x-should-retry %q retry-after-ms %q message %q", stream, ae.StatusCode, h.Get("X-Should-Retry"), h.Get("Retry-After-Ms"), ae.Message)
		}
		if len(attempts.statuses) != 1 {
			t.Errorf("stream %v: the SDK made %d attempts, want 1", stream, len(attempts.statuses))
		}
	}
	// For each of the two requests: primary and secondary, each retried once by the gateway.
	if p, s := e.up.count("up-primary"), e.up.count("up-secondary"); p != 4 || s != 4 {
		t.Errorf("upstream calls: primary %d, secondary %d", p, s)
	}
}

// §8 item 24: GET /v1/models/{id} agrees with what a chat request naming id gets. A name in
// Clearbar's namespace that names nothing is a 404 for both; any other name is classified like
// clearbar/auto, and the model object says so (and, for the upstream id of a spec model, which
// spec name pins it, as the decision record does).
func TestSDKModelNamesAgree(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: answerNormally})
	ctx := context.Background()

	_, err := e.client.Models.Get(ctx, "clearbar/nope")
	if ae := apiError(t, err); ae.StatusCode != 404 || ae.Code != "model_not_found" {
		t.Errorf("GET clearbar/nope: %d %q", ae.StatusCode, ae.Code)
	}
	_, err = e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "clearbar/nope", Messages: userMessage("x")})
	if ae := apiError(t, err); ae.StatusCode != 404 || ae.Code != "model_not_found" || !strings.Contains(ae.Message, "clearbar/chat") {
		t.Errorf("chat clearbar/nope: %d %q %q", ae.StatusCode, ae.Code, ae.Message)
	}

	for _, tc := range []struct{ name, pins string }{{"gpt-99", ""}, {"up-secondary", "secondary"}} {
		m, err := e.client.Models.Get(ctx, tc.name)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.name, err)
		}
		desc := gjson.Get(m.RawJSON(), "description").Str
		if m.ID != tc.name || m.OwnedBy != "clearbar" || !strings.Contains(desc, "classified like clearbar/auto") || !strings.Contains(desc, "default category chat") ||
			(tc.pins != "") != strings.Contains(desc, "spec model "+tc.pins) {
			t.Errorf("GET %s: %s", tc.name, m.RawJSON())
		}
		var httpResp *http.Response
		_, err = e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: tc.name, Messages: userMessage("x")}, option.WithResponseInto(&httpResp))
		if err != nil {
			t.Fatalf("chat %s: %v", tc.name, err)
		}
		if httpResp.Header.Get("X-Clearbar-Category") != "chat" || httpResp.Header.Get("X-Clearbar-Model") != "primary" {
			t.Errorf("chat %s: category %q model %q", tc.name, httpResp.Header.Get("X-Clearbar-Category"), httpResp.Header.Get("X-Clearbar-Model"))
		}
		d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
		if !strings.HasPrefix(d.CategoryBy, "default category") || (tc.pins != "") != strings.Contains(d.CategoryBy, "spec model "+tc.pins) {
			t.Errorf("chat %s: category by %q", tc.name, d.CategoryBy)
		}
	}
	// The spec name itself pins the model.
	var httpResp *http.Response
	if _, err := e.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "secondary", Messages: userMessage("x")}, option.WithResponseInto(&httpResp)); err != nil ||
		httpResp.Header.Get("X-Clearbar-Model") != "secondary" {
		t.Errorf("chat secondary: %v", err)
	}
	if got := e.up.count("up-secondary"); got != 1 {
		t.Errorf("up-secondary called %d times, want once (by its spec name)", got)
	}
}
