package gateway

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// What the gateway refuses at ingress, before any model is called, because the vendors refuse it
// too: a function whose parameters are not a JSON Schema, tool_choice without tools, a
// count_tokens request naming no model the gateway has or carrying max_tokens, an unknown
// anthropic-version; and the one error a max_tokens too large gets, naming the ceiling that
// binds.

// TestToolSchemaRefusedAtIngress: a function tool (or deprecated function) whose parameters do
// not compile as JSON Schema is OpenAI's 400 invalid_function_parameters, naming the function and
// the parameter's path, and reaches no model; sent again, it is refused again. Before, such a
// request was sent to every model on its route and every answer failed validation.
func TestToolSchemaRefusedAtIngress(t *testing.T) {
	f := newFixture(t, nil)
	const msgs = `"messages":[{"role":"user","content":"Where is order AB-123456?"}]`
	tool := func(params string) string {
		return `"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_order_status","parameters":` + params + `}}]`
	}
	tests := []struct {
		explanation, fields string
		status              int
		param, message      string
	}{
		{"a misspelt type, nested", tool(`{"type":"object","properties":{"order_id":{"type":"strin"}}}`), 400,
			"tools[1].function.parameters", "Invalid schema for function 'get_order_status': at '/properties/order_id/type'"},
		{"a Python type name at the top", tool(`{"type":"dict","properties":{"order_id":{"type":"string"}}}`), 400,
			"tools[1].function.parameters", "Invalid schema for function 'get_order_status': at '/type'"},
		{"parameters that are an array", tool(`[]`), 400, "tools[1].function.parameters", "Invalid schema for function 'get_order_status'"},
		{"required that is not an array", tool(`{"type":"object","required":"order_id"}`), 400, "tools[1].function.parameters", "at '/required'"},
		{"a deprecated function", `"functions":[{"name":"get_order_status","parameters":{"type":"object","properties":{"order_id":{"type":"strin"}}}}]`, 400,
			"functions[0].parameters", "Invalid schema for function 'get_order_status'"},
		{"a valid schema", tool(`{"type":"object","properties":{"order_id":{"type":"string","pattern":"^[A-Z]{2}-[0-9]{6}$"}},"required":["order_id"]}`), 200, "", ""},
		{"a draft-07 schema", tool(`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","definitions":{"id":{"type":"string"}},"properties":{"order_id":{"$ref":"#/definitions/id"}}}`), 200, "", ""},
		{"no parameters, or null", `"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b","parameters":null}}]`, 200, "", ""},
	}
	for _, tt := range tests {
		for round := range 2 { // the second time, from the cache
			before := f.a.Calls("gpt-4o-mini") + f.b.Calls("gpt-4o")
			resp := f.post(t, `{"model":"clearbar/intent",`+tt.fields+`,`+msgs+`}`)
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("%s (round %d): status %d, want %d: %s", tt.explanation, round, resp.StatusCode, tt.status, body)
				continue
			}
			if tt.status == 200 {
				continue
			}
			e := gjson.GetBytes(body, "error")
			if e.Get("type").Str != "invalid_request_error" || e.Get("code").Str != "invalid_function_parameters" || e.Get("param").Str != tt.param || !strings.Contains(e.Get("message").Str, tt.message) {
				t.Errorf("%s (round %d): error %s, want param %q and a message with %q", tt.explanation, round, e.Raw, tt.param, tt.message)
			}
			if after := f.a.Calls("gpt-4o-mini") + f.b.Calls("gpt-4o"); after != before {
				t.Errorf("%s: a refused request reached a model", tt.explanation)
			}
		}
	}
}

// TestMessagesToolSchemaRefused: /v1/messages and count_tokens refuse a tool whose input_schema
// is not JSON Schema, as Anthropic does ("tools.N.custom.input_schema: JSON schema is invalid.
// It must match JSON Schema draft 2020-12 …"), N counting every tool, server tools included.
func TestMessagesToolSchemaRefused(t *testing.T) {
	e := newAntEnv(t, "")
	bad := `{"name":"get_order_status","input_schema":{"type":"object","properties":{"order_id":{"type":"strin"}}}}`
	for _, tt := range []struct {
		explanation, path, tools, message string
	}{
		{"the only tool", "/v1/messages", `[` + bad + `]`, "tools.0.custom.input_schema: JSON schema is invalid. It must match JSON Schema draft 2020-12"},
		{"after a server tool", "/v1/messages", `[{"type":"web_search_20250305","name":"web_search"},` + bad + `]`, "tools.1.custom.input_schema: JSON schema is invalid."},
		{"count_tokens", "/v1/messages/count_tokens", `[` + bad + `]`, "tools.0.custom.input_schema: JSON schema is invalid."},
	} {
		body := `{"model":"clearbar/oa","max_tokens":256,"messages":[{"role":"user","content":"Where is my order?"}],"tools":` + tt.tools + `}`
		if strings.HasSuffix(tt.path, "count_tokens") {
			body = strings.Replace(body, `"max_tokens":256,`, "", 1)
		}
		resp := e.postTo(t, tt.path, body)
		got := antBody(t, resp)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400: %s", tt.explanation, resp.StatusCode, got)
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, got, "invalid_request_error", tt.message)
		if !strings.Contains(gjson.GetBytes(got, "error.message").Str, "at '/properties/order_id/type'") {
			t.Errorf("%s: the message does not say what is wrong: %s", tt.explanation, got)
		}
	}
	if n := len(e.oa.calls) + len(e.an.calls); n != 0 {
		t.Errorf("%d upstream calls, want none", n)
	}
	// A dry run of the same body refuses it as the ingress does, and an unknown version too.
	body := `{"model":"clearbar/oa","max_tokens":256,"messages":[{"role":"user","content":"Where is my order?"}],"tools":[` + bad + `]}`
	_, err := DryRunMessages(e.gw, []byte(body), map[string]string{"anthropic-version": "2023-06-01"}, "")
	if err == nil || !strings.Contains(clearbar.AsError(err).Message, "tools.0.custom.input_schema: JSON schema is invalid.") {
		t.Errorf("dry run: %v", err)
	}
	_, err = DryRunMessages(e.gw, []byte(body), map[string]string{"anthropic-version": "1999-01-01"}, "")
	if err == nil || clearbar.AsError(err).Message != unsupportedVersion("1999-01-01").(*clearbar.Error).Message {
		t.Errorf("dry run of an unknown version: %v", err)
	}
}

// postTo sends an Anthropic request to path, as post does to /v1/messages.
func (e *antEnv) postTo(t *testing.T, path, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	req.Header.Set("X-Api-Key", antClientKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestMaxTokensNamesTheBindingCeiling: a max_tokens too large for every model on the route gets
// one error, whatever makes it too large (more than every context window leaves, or more than
// every model writes): invalid_value on the parameter sent, naming the largest max_tokens the
// route can take, which then succeeds. Before, 100000000 named the context window (code
// context_length_exceeded) and a smaller value still too large then got a second, different
// error naming the models' maximum output.
func TestMaxTokensNamesTheBindingCeiling(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	ceilingOf := regexp.MustCompile(`lower it to (\d+) or less`)
	check := func(t *testing.T, f *fixture, param string, values ...string) string {
		t.Helper()
		ceiling := ""
		for _, v := range values {
			resp := f.post(t, `{"model":"clearbar/intent","`+param+`":`+v+`,`+msgs+`}`)
			body := readAll(t, resp)
			e := gjson.GetBytes(body, "error")
			m := ceilingOf.FindStringSubmatch(e.Get("message").Str)
			if resp.StatusCode != 400 || e.Get("code").Str != "invalid_value" || e.Get("param").Str != param || e.Get("type").Str != "invalid_request_error" || m == nil {
				t.Fatalf("%s %s: status %d, error %s: want 400 invalid_value naming the ceiling", param, v, resp.StatusCode, e.Raw)
			}
			if !strings.HasPrefix(e.Get("message").Str, param+" is too large: "+v+".") {
				t.Errorf("%s %s: message %q", param, v, e.Get("message").Str)
			}
			if ceiling != "" && m[1] != ceiling {
				t.Errorf("%s %s names %s, the value before it %s: the first error must name the ceiling that binds", param, v, m[1], ceiling)
			}
			ceiling = m[1]
		}
		resp := f.post(t, `{"model":"clearbar/intent","`+param+`":`+ceiling+`,`+msgs+`}`)
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Errorf("%s at the ceiling it named, %s: status %d: %s", param, ceiling, resp.StatusCode, body)
		}
		return ceiling
	}
	t.Run("maximum output binds", func(t *testing.T) {
		// intent: small (context window 1000) then big (gpt-4o, which writes at most 16384).
		f := newFixture(t, nil)
		for _, param := range []string{"max_tokens", "max_completion_tokens"} {
			if c := check(t, f, param, "100000000", "100000", "20000"); c != "16384" {
				t.Errorf("%s: ceiling %s, want gpt-4o's maximum output, 16384", param, c)
			}
		}
	})
	t.Run("the context window binds", func(t *testing.T) {
		// intent on small alone: a context window of 1000 tokens, less than it could write.
		f := newFixture(t, func(src string) string {
			return strings.Replace(src, "route: {model: small}\n    fallback: [big]\n    assume: {pass_rate: {small: 0.95, big: 0.97}}",
				"route: {model: small}\n    assume: {pass_rate: {small: 0.95}}", 1)
		})
		if c := check(t, f, "max_tokens", "100000000", "5000", "1500"); c == "" || len(c) > 3 {
			t.Errorf("ceiling %s, want what small's context window of 1000 leaves", c)
		}
	})
	t.Run("a pinned model names its own route", func(t *testing.T) {
		f := newFixture(t, nil)
		resp := f.post(t, `{"model":"big","max_tokens":100000000,`+msgs+`}`)
		body := readAll(t, resp)
		msg := gjson.GetBytes(body, "error.message").Str
		if resp.StatusCode != 400 || !strings.Contains(msg, "No model on the route of model big") || strings.Contains(msg, "category") {
			t.Errorf("max_tokens too large for the model the request names: status %d, message %q; want the route of model big named, not a category's", resp.StatusCode, msg)
		}
	})
}

// TestToolChoiceNeedsTools: tool_choice "auto" or "none" without tools is OpenAI's 400, as
// "required" and a named function already were; the deprecated function_call with functions
// still passes, and tool_choice with tools.
func TestToolChoiceNeedsTools(t *testing.T) {
	f := newFixture(t, nil)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	const tools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]`
	const functions = `"functions":[{"name":"get_weather","parameters":{"type":"object"}}]`
	for _, tt := range []struct {
		fields string
		status int
	}{
		{`"tool_choice":"auto",` + msgs, 400},
		{`"tool_choice":"none",` + msgs, 400},
		{`"tools":[],"tool_choice":"auto",` + msgs, 400},
		{tools + `,"tool_choice":"auto",` + msgs, 200},
		{tools + `,"tool_choice":"none",` + msgs, 200},
		{functions + `,"function_call":"auto",` + msgs, 200},
		{functions + `,"function_call":"none",` + msgs, 200},
		{functions + `,` + msgs, 200},
	} {
		resp := f.post(t, `{"model":"clearbar/intent",`+tt.fields+`}`)
		body := readAll(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.fields, resp.StatusCode, tt.status, body)
			continue
		}
		if tt.status == 400 {
			e := gjson.GetBytes(body, "error")
			if e.Get("param").Str != "tool_choice" || e.Get("code").Str != "invalid_value" ||
				e.Get("message").Str != "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified." {
				t.Errorf("%s: error %s", tt.fields, e.Raw)
			}
		}
	}
}

// TestCountTokensRefusesWhatMessagesRefuses: count_tokens answers an unknown alias with the 404
// /v1/messages gives, and max_tokens (or another parameter only /v1/messages takes) with
// Anthropic's 400 "max_tokens: Extra inputs are not permitted". Before, both were counted.
func TestCountTokensRefusesWhatMessagesRefuses(t *testing.T) {
	e := newAntEnv(t, "")
	const msgs = `"messages":[{"role":"user","content":"Hello"}]`
	for _, tt := range []struct {
		explanation, body string
		status            int
		errType, message  string
	}{
		{"an unknown alias", `{"model":"clearbar/nope",` + msgs + `}`, 404, "not_found_error", "the model clearbar/nope does not exist on this gateway"},
		{"max_tokens", `{"model":"clearbar/oa","max_tokens":256,` + msgs + `}`, 400, "invalid_request_error", "max_tokens: Extra inputs are not permitted"},
		{"stream", `{"model":"clearbar/oa","stream":true,` + msgs + `}`, 400, "invalid_request_error", "stream: Extra inputs are not permitted"},
		{"metadata", `{"model":"clearbar/oa","metadata":{"user_id":"u"},` + msgs + `}`, 400, "invalid_request_error", "metadata: Extra inputs are not permitted"},
		{"a known alias, with system, tools and tool_choice", `{"model":"clearbar/oa","system":"Be brief.","tools":[{"name":"t","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto"},` + msgs + `}`, 200, "", ""},
		{"a name outside Clearbar's namespace, as /v1/messages routes it", `{"model":"claude-sonnet-4-5",` + msgs + `}`, 200, "", ""},
	} {
		resp := e.postTo(t, "/v1/messages/count_tokens", tt.body)
		body := antBody(t, resp)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.explanation, resp.StatusCode, tt.status, body)
			continue
		}
		if tt.status == 200 {
			if gjson.GetBytes(body, "input_tokens").Int() <= 0 {
				t.Errorf("%s: %s", tt.explanation, body)
			}
			continue
		}
		checkAnthropicError(t, tt.explanation, resp, body, tt.errType, tt.message)
	}
	// /v1/messages gives the same 404 for the unknown alias.
	resp := e.post(t, `{"model":"clearbar/nope","max_tokens":256,`+msgs+`}`)
	checkAnthropicError(t, "/v1/messages", resp, antBody(t, resp), "not_found_error", "the model clearbar/nope does not exist on this gateway")
}

// TestMessagesUnknownVersion: an anthropic-version the gateway does not accept is a 400 in
// Anthropic's words ("anthropic-version: \"1999-01-01\" is not a valid version"), on
// /v1/messages and count_tokens, and reaches no upstream.
func TestMessagesUnknownVersion(t *testing.T) {
	e := newAntEnv(t, "")
	for _, path := range []string{"/v1/messages", "/v1/messages/count_tokens"} {
		body := antReq("oa", "")
		if strings.HasSuffix(path, "count_tokens") {
			body = strings.Replace(body, `"max_tokens":256,`, "", 1)
		}
		resp := e.postTo(t, path, body, "Anthropic-Version", "1999-01-01")
		got := antBody(t, resp)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400: %s", path, resp.StatusCode, got)
			continue
		}
		checkAnthropicError(t, path, resp, got, "invalid_request_error", `anthropic-version: "1999-01-01" is not a valid version`)
	}
	if n := len(e.oa.calls) + len(e.an.calls); n != 0 {
		t.Errorf("%d upstream calls, want none", n)
	}
}
