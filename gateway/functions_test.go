package gateway_test

// The deprecated functions and function_call: decoded as tools and a tool choice, so that
// routing, estimates, validators and simulations treat them as tools, while the client gets
// the deprecated answer form it asked for.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/spec"
)

const (
	fnWeather = `{"name":"get_weather","description":"Current weather","parameters":{"type":"object","required":["city"],"properties":{"city":{"type":"string"}}}}`
	fnClock   = `{"name":"get_time"}`
	fnAsk     = `"messages":[{"role":"user","content":"Weather in Paris?"}]`
)

// TestDecodeFunctions: functions become Tools and function_call ToolChoice, with Functions
// set; the body is kept as it came, for the adapters to forward.
func TestDecodeFunctions(t *testing.T) {
	tests := []struct {
		explanation string
		fields      string
		tools       []string
		choice      string
	}{
		{"functions alone: tools, no choice",
			`"functions":[` + fnWeather + `,` + fnClock + `]`, []string{"get_weather", "get_time"}, ""},
		{"function_call auto", `"functions":[` + fnWeather + `],"function_call":"auto"`, []string{"get_weather"}, "auto"},
		{"function_call none", `"functions":[` + fnWeather + `],"function_call":"none"`, []string{"get_weather"}, "none"},
		{"function_call naming a function, given before the functions",
			`"function_call":{"name":"get_time"},"functions":[` + fnWeather + `,` + fnClock + `]`, []string{"get_weather", "get_time"}, "get_time"},
		{"function_call null is not set", `"functions":[` + fnWeather + `],"function_call":null`, []string{"get_weather"}, ""},
	}
	for _, tt := range tests {
		body := []byte(`{"model":"m",` + tt.fields + `,` + fnAsk + `}`)
		orig := bytes.Clone(body)
		r, err := gateway.DecodeChatRequest(body, gateway.DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", tt.explanation, err)
			continue
		}
		var names []string
		for _, tool := range r.Tools {
			names = append(names, tool.Name)
		}
		if !r.Functions || strings.Join(names, ",") != strings.Join(tt.tools, ",") || r.ToolChoice != tt.choice {
			t.Errorf("%s: Functions %v, tools %q, choice %q; want true, %q, %q", tt.explanation, r.Functions, names, r.ToolChoice, tt.tools, tt.choice)
		}
		if !bytes.Equal(r.Body, orig) {
			t.Errorf("%s: the body changed: %s", tt.explanation, r.Body)
		}
	}
	r, err := gateway.DecodeChatRequest([]byte(`{"model":"m","functions":[`+fnWeather+`],`+fnAsk+`}`), gateway.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	w := r.Tools[0]
	if w.Description != "Current weather" || gjson.GetBytes(w.Parameters, "required.0").Str != "city" || w.Strict {
		t.Errorf("tool %+v: want the function's description and parameters", w)
	}
	// A request with tools is not marked as one with functions.
	r, err = gateway.DecodeChatRequest([]byte(`{"model":"m","tools":[{"type":"function","function":`+fnWeather+`}],`+fnAsk+`}`), gateway.DefaultLimits)
	if err != nil || r.Functions || len(r.Tools) != 1 {
		t.Errorf("tools: %+v, %v; want one tool and Functions false", r, err)
	}
	// A conversation that used functions: the assistant's function_call is one of its calls
	// (estimates count it), and the function message is read as any other.
	r, err = gateway.DecodeChatRequest([]byte(`{"model":"m","functions":[`+fnWeather+`],"messages":[{"role":"user","content":"Weather in Paris?"},`+
		`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},`+
		`{"role":"function","name":"get_weather","content":"18°C"}]}`), gateway.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Messages[1].ToolCalls; len(c) != 1 || c[0].Name != "get_weather" || c[0].Arguments != `{"city":"Paris"}` || c[0].ID != "" {
		t.Errorf("assistant calls %+v: want the function_call, without an id", c)
	}
	if m := r.Messages[2]; m.Role != "function" || m.Text != "18°C" {
		t.Errorf("function message %+v", m)
	}
}

// TestDecodeFunctionsErrors: what OpenAI refuses in functions and function_call is a 400
// naming the parameter, before routing.
func TestDecodeFunctionsErrors(t *testing.T) {
	long := strings.Repeat("f", 65)
	tests := []struct {
		explanation string
		fields      string
		param, code string
		message     string
	}{
		{"function_call without functions", `"function_call":"auto"`,
			"function_call", "invalid_value", "'function_call' is only allowed when 'functions' are specified"},
		{"function_call with tools but no functions", `"tools":[{"type":"function","function":` + fnWeather + `}],"function_call":{"name":"get_weather"}`,
			"function_call", "invalid_value", "with tools, send tool_choice"},
		{"functions and tools together: one answer form cannot serve both",
			`"tools":[{"type":"function","function":` + fnClock + `}],"functions":[` + fnWeather + `]`, "functions", "invalid_value", "not both"},
		{"functions as an object", `"functions":{}`, "functions", "invalid_type", "expected an array"},
		{"a function that is not an object", `"functions":[` + fnWeather + `,"get_time"]`, "functions[1]", "invalid_type", "expected an object"},
		{"a function without a name", `"functions":[{"description":"d"}]`, "functions[0].name", "missing_required_parameter", "Name the function"},
		{"a function name with a space", `"functions":[{"name":"get weather"}]`, "functions[0].name", "invalid_value", "^[a-zA-Z0-9_-]{1,64}$"},
		{"a function name of 65 characters", `"functions":[{"name":"` + long + `"}]`, "functions[0].name", "string_above_max_length", "maximum length 64"},
		{"a function name that is not a string", `"functions":[{"name":7}]`, "functions[0].name", "invalid_type", "expected a string"},
		{"a description that is not a string", `"functions":[{"name":"f","description":1}]`, "functions[0].description", "invalid_type", ""},
		{"parameters that are not an object", `"functions":[{"name":"f","parameters":"{}"}]`, "functions[0].parameters", "invalid_type", "expected an object"},
		{"function_call naming an unknown function", `"functions":[` + fnWeather + `,` + fnClock + `],"function_call":{"name":"get_wether"}`,
			"function_call", "invalid_value", `"get_wether" is not among the request's functions (get_weather, get_time)`},
		{"an empty functions array, as OpenAI refuses it: it offers nothing", `"functions":[]`,
			"functions", "empty_array", "empty array"},
		{"function_call naming a function of empty functions", `"functions":[],"function_call":{"name":"f"}`,
			"functions", "empty_array", "empty array"},
		{"function_call required is tool_choice's, not function_call's", `"functions":[` + fnWeather + `],"function_call":"required"`,
			"function_call", "invalid_value", "Supported values are: 'none' and 'auto'"},
		{"function_call without a name", `"functions":[` + fnWeather + `],"function_call":{}`,
			"function_call.name", "missing_required_parameter", ""},
		{"function_call as a number", `"functions":[` + fnWeather + `],"function_call":1`,
			"function_call", "invalid_type", "one of a string or an object"},
		{"tool_choice naming a function offered as a deprecated function", `"functions":[` + fnWeather + `],"tool_choice":{"type":"function","function":{"name":"get_weather"}}`,
			"tool_choice", "invalid_value", "tool_choice requires tools"},
		{"functions twice", `"functions":[` + fnWeather + `],"functions":[` + fnClock + `]`, "functions", "duplicate_key", ""},
		{"function_call twice", `"functions":[` + fnWeather + `],"function_call":"none","function_call":"auto"`, "function_call", "duplicate_key", ""},
	}
	for _, tt := range tests {
		r, err := gateway.DecodeChatRequest([]byte(`{"model":"m",`+tt.fields+`,`+fnAsk+`}`), gateway.DefaultLimits)
		var e *clearbar.Error
		if !errors.As(err, &e) || r != nil {
			t.Errorf("%s: %+v, %v; want a 400", tt.explanation, r, err)
			continue
		}
		if e.Status != 400 || e.Class != clearbar.ClientError || e.Type != "invalid_request_error" || e.Param != tt.param || e.Code != tt.code ||
			!strings.Contains(e.Message, tt.message) {
			t.Errorf("%s: %d %s param %q code %q: %s; want param %q code %q with %q", tt.explanation, e.Status, e.Type, e.Param, e.Code, e.Message, tt.param, tt.code, tt.message)
		}
	}
}

// functionsSpec routes requests with tools to a category whose answers must call a tool, and
// everything else to a default category without validators. Answers are always good and never
// drawn to fail validation, so every check is deterministic.
const functionsSpec = `version: 1
name: functions
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers: {sim: {type: simulated, simulate: {seed: 7, time_scale: 0.001}}}
models: {m: {provider: sim, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}}
categories:
  - name: agent
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: m, validate: [{tool_calls: required}, {refusal: true}]}
    assume: {pass_rate: {m: 1}, validator: {detect: 1, false_alarm: 0}}
    match: {when: 'tools', priority: 1}
  - name: chat
    default: true
    share: 0.5
    tokens: {in: 10, out: 10}
    quality_bar: 0.5
    route: {model: m}
    assume: {pass_rate: {m: 1}}
`

// functionsGateway serves functionsSpec on the simulated provider, with its validators, and
// records decisions.
func functionsGateway(t *testing.T) (*httptest.Server, *decisions) {
	t.Helper()
	s, err := spec.Parse([]byte(functionsSpec), "functions.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return simulatedGateway(t, s)
}

// postJSON sends a raw chat completions body, as a client of the deprecated API does (the
// openai-go SDK sends no functions).
func postJSON(t *testing.T, srv *httptest.Server, body string) *http.Response {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// onlyDecision returns the one decision recorded, waiting a little for it: a stream's is
// recorded after its last byte reached the client.
func onlyDecision(t *testing.T, rec *decisions) *clearbar.Decision {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		rec.mu.Lock()
		n := len(rec.ds)
		rec.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ds) != 1 {
		t.Fatalf("%d decisions, want 1", len(rec.ds))
	}
	return rec.ds[0]
}

// TestFunctionsEndToEnd: a client of the deprecated functions API, through the gateway to a
// simulated model: the request routes as one with tools (the rule 'tools' fires, the features
// say tools and count the definitions), the tool_calls and refusal validators pass the call,
// and the answer comes in the deprecated form, message.function_call with finish_reason
// function_call, not streamed and streamed.
func TestFunctionsEndToEnd(t *testing.T) {
	t.Parallel()
	body := `{"model":"clearbar/auto","functions":[` + fnClock + `,` + fnWeather + `],"function_call":{"name":"get_weather"},` + fnAsk
	plain := `{"model":"clearbar/auto",` + fnAsk + `}`

	t.Run("not streamed", func(t *testing.T) {
		t.Parallel()
		srv, rec := functionsGateway(t)
		resp := postJSON(t, srv, body+`}`)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		c := gjson.GetBytes(b, "choices.0")
		fc := c.Get("message.function_call")
		if c.Get("finish_reason").Str != "function_call" || fc.Get("name").Str != "get_weather" || c.Get("message.tool_calls").Exists() ||
			c.Get("message.content").Type != gjson.Null {
			t.Fatalf("choice %s: want message.function_call to get_weather, content null, no tool_calls, finish_reason function_call", c.Raw)
		}
		if city := gjson.Get(fc.Get("arguments").Str, "city"); city.Type != gjson.String {
			t.Errorf("arguments %s: want the schema's required city", fc.Get("arguments").Str)
		}
		d := onlyDecision(t, rec)
		if !d.Features.Tools || d.Category != "agent" || d.Outcome != clearbar.OK {
			t.Errorf("decision: category %q, features %+v, outcome %q: want agent, tools true, ok", d.Category, d.Features, d.Outcome)
		}
		var verdicts []string
		for _, a := range d.Attempts {
			for _, v := range a.Verdicts {
				verdicts = append(verdicts, v.Validator)
				if !v.Pass {
					t.Errorf("verdict %+v: the call must pass", v)
				}
			}
		}
		if len(verdicts) != 2 {
			t.Errorf("verdicts %q: want the tool_calls and refusal validators' on the answer", verdicts)
		}

		// The same request without functions estimates fewer tokens: the definitions count.
		srv2, rec2 := functionsGateway(t)
		if resp := postJSON(t, srv2, plain); resp.StatusCode != 200 {
			t.Fatalf("plain request: %d", resp.StatusCode)
		}
		p := onlyDecision(t, rec2)
		if p.Features.Tools || p.Category != "chat" || d.Features.TokensIn <= p.Features.TokensIn {
			t.Errorf("without functions: category %q, features %+v; with: %+v", p.Category, p.Features, d.Features)
		}
	})

	t.Run("streamed", func(t *testing.T) {
		t.Parallel()
		srv, rec := functionsGateway(t)
		resp := postJSON(t, srv, body+`,"stream":true}`)
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var name, args, finish strings.Builder
		sc := bufio.NewScanner(resp.Body)
		done := false
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			if data == "[DONE]" {
				done = true
				break
			}
			c := gjson.Get(data, "choices.0")
			if c.Get("delta.tool_calls").Exists() {
				t.Errorf("chunk %s: tool_calls in a stream for functions", data)
			}
			name.WriteString(c.Get("delta.function_call.name").Str)
			args.WriteString(c.Get("delta.function_call.arguments").Str)
			finish.WriteString(c.Get("finish_reason").Str)
		}
		if !done || name.String() != "get_weather" || finish.String() != "function_call" || !json.Valid([]byte(args.String())) {
			t.Errorf("stream: done %v, function %q, arguments %q, finish %q; want get_weather, JSON arguments, function_call",
				done, name.String(), args.String(), finish.String())
		}
		d := onlyDecision(t, rec)
		if !d.Features.Tools || d.Category != "agent" || !d.Stream || d.Outcome != clearbar.OK {
			t.Errorf("decision: category %q, features %+v, outcome %q: want agent, tools true, ok", d.Category, d.Features, d.Outcome)
		}
		// The buffered stream's delta.function_call is the call validators judge: the
		// tool_calls validator sees it made, and the answer is accepted at once.
		var verdicts []string
		for _, a := range d.Attempts {
			for _, v := range a.Verdicts {
				verdicts = append(verdicts, v.Validator)
				if !v.Pass {
					t.Errorf("verdict %+v: the call must pass", v)
				}
			}
		}
		if len(verdicts) != 2 || len(d.Attempts) != 1 || d.Attempts[0].Outcome != "accepted" {
			t.Errorf("verdicts %q, attempts %+v: want the tool_calls and refusal validators' on one accepted answer", verdicts, d.Attempts)
		}
	})
}

// TestSimulatedCustomTools: a simulated model offered a custom tool (a free-form tool of
// OpenAI's, which has no function name or parameters) beside a function calls the function,
// and offered the custom tool alone answers in text: never a function call without a name,
// which SDKs cannot dispatch.
func TestSimulatedCustomTools(t *testing.T) {
	t.Parallel()
	custom := `{"type":"custom","custom":{"name":"run_sql","description":"Runs a query"}}`
	tests := []struct {
		tools, want string
	}{
		{custom + `,{"type":"function","function":` + fnWeather + `}`, "get_weather"},
		{custom, ""},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			srv, _ := functionsGateway(t)
			resp := postJSON(t, srv, fmt.Sprintf(`{"model":"clearbar/chat","tools":[%s],"stream":%v,%s}`, tt.tools, stream, fnAsk))
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			var names []string
			if stream {
				for line := range strings.Lines(string(b)) {
					gjson.Get(strings.TrimPrefix(line, "data: "), "choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
						if tc.Get("id").Exists() {
							names = append(names, tc.Get("function.name").Str)
						}
						return true
					})
				}
			} else {
				gjson.GetBytes(b, "choices.0.message.tool_calls").ForEach(func(_, tc gjson.Result) bool {
					names = append(names, tc.Get("function.name").Str)
					return true
				})
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("tools [%s], stream %v: calls %q, want %q:\n%s", tt.tools, stream, got, tt.want, b)
			}
		}
	}
}
