package gateway_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/tidwall/gjson"
)

// TestResponsesSDKText: openai-go's Responses.New through /v1/responses gets the upstream's
// chat answer as a response object: OutputText, usage with its details, the decision headers;
// instructions reach the upstream as the first, system, message.
func TestResponsesSDKText(t *testing.T) {
	e := newE2E(t, setup{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var raw *http.Response
	resp, err := e.client.Responses.New(ctx, responses.ResponseNewParams{
		Model:           "clearbar/chat",
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("hi there")},
		Instructions:    openai.String("be brief"),
		MaxOutputTokens: openai.Int(100),
		Temperature:     openai.Float(0.5),
		Metadata:        map[string]string{"k": "v"},
	}, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.OutputText(); got != "answer from up-primary" {
		t.Errorf("OutputText %q", got)
	}
	if !strings.HasPrefix(resp.ID, "resp_") || resp.Status != responses.ResponseStatusCompleted || resp.Model != "up-primary" {
		t.Errorf("id %q status %q model %q", resp.ID, resp.Status, resp.Model)
	}
	u := resp.Usage
	if u.InputTokens != 19 || u.OutputTokens != 10 || u.TotalTokens != 29 || u.InputTokensDetails.CachedTokens != 6 || u.OutputTokensDetails.ReasoningTokens != 4 {
		t.Errorf("usage %+v", u)
	}
	if resp.Instructions.OfString != "be brief" || resp.Metadata["k"] != "v" || resp.Temperature != 0.5 || resp.MaxOutputTokens != 100 {
		t.Errorf("echo: %s", resp.RawJSON())
	}
	id := raw.Header.Get("X-Request-Id")
	if id == "" || raw.Header.Get("X-Clearbar-Model") == "" || resp.ID != "resp_"+id {
		t.Errorf("headers %v, id %q", raw.Header, resp.ID)
	}
	d := e.decisions.wait(t, id)
	if d.Path != "/v1/responses" || d.Dialect != "openai" || d.Model != "primary" {
		t.Errorf("decision path %q dialect %q model %q", d.Path, d.Dialect, d.Model)
	}
	calls := e.up.received()
	if len(calls) != 1 {
		t.Fatalf("%d upstream calls", len(calls))
	}
	b := calls[0].Body
	if gjson.GetBytes(b, "messages.#").Int() != 2 || gjson.GetBytes(b, "messages.0.role").Str != "system" || gjson.GetBytes(b, "messages.0.content").Str != "be brief" ||
		gjson.GetBytes(b, "messages.1.role").Str != "user" || gjson.GetBytes(b, "messages.1.content").Str != "hi there" ||
		gjson.GetBytes(b, "max_completion_tokens").Int()+gjson.GetBytes(b, "max_tokens").Int() != 100 || gjson.GetBytes(b, "temperature").Float() != 0.5 {
		t.Errorf("upstream body %s", b)
	}
}

// TestResponsesSDKStream: openai-go's Responses.NewStreaming gets the Responses events in
// order with increasing sequence numbers, the text the upstream streamed, the usage in
// response.completed, and no [DONE] on the wire.
func TestResponsesSDKStream(t *testing.T) {
	e := newE2E(t, setup{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream := e.client.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "clearbar/chat",
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("say hello", responses.EasyInputMessageRoleUser),
		}},
	})
	var types []string
	var text strings.Builder
	seq := int64(-1)
	var final responses.Response
	for stream.Next() {
		ev := stream.Current()
		if ev.SequenceNumber <= seq {
			t.Errorf("sequence number %d after %d", ev.SequenceNumber, seq)
		}
		seq = ev.SequenceNumber
		types = append(types, ev.Type)
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.output_text.done":
			if ev.Text != "Hello, world!" {
				t.Errorf("output_text.done text %q", ev.Text)
			}
		case "response.completed":
			final = ev.AsResponseCompleted().Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("events\n%v\nwant\n%v", types, want)
	}
	if text.String() != "Hello, world!" || final.OutputText() != "Hello, world!" {
		t.Errorf("text %q, final %q", text.String(), final.OutputText())
	}
	if final.Usage.InputTokens != 5 || final.Usage.OutputTokens != 3 || final.Status != responses.ResponseStatusCompleted {
		t.Errorf("final %s", final.RawJSON())
	}
	if c := e.up.received(); len(c) != 1 || !gjson.GetBytes(c[0].Body, "stream_options.include_usage").Bool() {
		t.Errorf("upstream calls %d", len(c))
	}

	// The wire: named events, no [DONE].
	req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/responses", strings.NewReader(`{"model":"clearbar/chat","input":"x","stream":true}`))
	req.Header.Set("Authorization", "Bearer "+clientKey)
	req.Header.Set("Content-Type", "application/json")
	r, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.HasPrefix(string(body), "event: response.created\ndata: {") || strings.Contains(string(body), "[DONE]") ||
		!strings.Contains(string(body), "event: response.completed\n") || r.Header.Get("X-Clearbar-Model") == "" {
		t.Errorf("status %d headers %v wire:\n%s", r.StatusCode, r.Header, body)
	}
	d := e.decisions.wait(t, r.Header.Get("X-Request-Id"))
	if d.Path != "/v1/responses" || !d.Stream {
		t.Errorf("decision path %q stream %v", d.Path, d.Stream)
	}
}

// toolScript answers a request with tools and no tool result with a get_weather call, and a
// request with a tool result with text quoting it; streamed or not.
func toolScript(w http.ResponseWriter, r *http.Request, c upstreamCall) {
	id := callID(c)
	msgs := gjson.GetBytes(c.Body, "messages").Array()
	last := msgs[len(msgs)-1]
	if last.Get("role").Str == "tool" {
		if c.Stream {
			streamText(w, c, "it is ", last.Get("content").Str)
			return
		}
		writeBody(w, 200, "application/json", completion(id, c.Model, "it is "+last.Get("content").Str))
		return
	}
	if c.Stream {
		s := openSSE(w)
		s.data(chunk(id, c.Model, `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}`, "", ""))
		s.data(chunk(id, c.Model, `{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}`, "", ""))
		s.data(chunk(id, c.Model, `{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}`, "", ""))
		s.data(chunk(id, c.Model, `{}`, "tool_calls", ""))
		s.data(usageChunk(id, c.Model, usageJSON(7, 4)))
		s.done()
		return
	}
	writeBody(w, 200, "application/json", `{"id":"`+id+`","object":"chat.completion","created":1741569952,"model":"`+c.Model+
		`","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],`+
		`"usage":{"prompt_tokens":7,"completion_tokens":4,"total_tokens":11}}`)
}

// TestResponsesSDKFunctionCall: a function tool round trip with openai-go, non-streamed and
// streamed: the call comes back as a function_call item, and the next request's
// function_call and function_call_output items reach the upstream as the assistant's tool call
// and the tool's message.
func TestResponsesSDKFunctionCall(t *testing.T) {
	e := newE2E(t, setup{script: toolScript})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tools := []responses.ToolUnionParam{{OfFunction: &responses.FunctionToolParam{
		Name: "get_weather", Description: openai.String("weather of a city"), Strict: openai.Bool(false),
		Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	}}}
	user := responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser)
	for _, streamed := range []bool{false, true} {
		params := responses.ResponseNewParams{Model: "clearbar/chat", Tools: tools,
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{user}}}
		var first responses.Response
		if streamed {
			s := e.client.Responses.NewStreaming(ctx, params)
			var args strings.Builder
			for s.Next() {
				ev := s.Current()
				if ev.Type == "response.function_call_arguments.delta" {
					args.WriteString(ev.Delta)
				}
				if ev.Type == "response.completed" {
					first = ev.AsResponseCompleted().Response
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if args.String() != `{"city":"Paris"}` {
				t.Errorf("streamed arguments %q", args.String())
			}
		} else {
			r, err := e.client.Responses.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			first = *r
		}
		if len(first.Output) != 1 || first.Output[0].Type != "function_call" {
			t.Fatalf("streamed %v: output %s", streamed, first.RawJSON())
		}
		call := first.Output[0].AsFunctionCall()
		if call.Name != "get_weather" || call.CallID != "call_1" || call.Arguments != `{"city":"Paris"}` {
			t.Errorf("streamed %v: call %+v", streamed, call)
		}
		if !gjson.GetBytes(e.up.received()[0].Body, "tools.0.function.parameters.properties.city").Exists() {
			t.Errorf("tools upstream: %s", e.up.received()[0].Body)
		}
		out := responses.ResponseInputItemParamOfFunctionCallOutput("sunny")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		params.Input.OfInputItemList = responses.ResponseInputParam{user,
			responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name), out}
		second, err := e.client.Responses.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if second.OutputText() != "it is sunny" {
			t.Errorf("streamed %v: second answer %s", streamed, second.RawJSON())
		}
		calls := e.up.received()
		b := calls[len(calls)-1].Body
		m := gjson.GetBytes(b, "messages")
		if m.Get("#").Int() != 3 || m.Get("1.role").Str != "assistant" || m.Get("1.tool_calls.0.id").Str != "call_1" ||
			m.Get("1.tool_calls.0.function.arguments").Str != `{"city":"Paris"}` || m.Get("2.role").Str != "tool" ||
			m.Get("2.tool_call_id").Str != "call_1" || m.Get("2.content").Str != "sunny" {
			t.Errorf("streamed %v: second upstream body %s", streamed, b)
		}
	}
}

// TestResponsesUnsupported: what Clearbar's /v1/responses does not serve is a 400 naming the
// parameter, in OpenAI's envelope, and reaches no upstream.
func TestResponsesUnsupported(t *testing.T) {
	e := newE2E(t, setup{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := responses.ResponseNewParams{Model: "clearbar/chat", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}}
	cases := []struct {
		name  string
		edit  func(p *responses.ResponseNewParams)
		param string
	}{
		{"previous_response_id", func(p *responses.ResponseNewParams) { p.PreviousResponseID = openai.String("resp_1") }, "previous_response_id"},
		{"store", func(p *responses.ResponseNewParams) { p.Store = openai.Bool(true) }, "store"},
		{"background", func(p *responses.ResponseNewParams) { p.Background = openai.Bool(true) }, "background"},
		{"built-in tool", func(p *responses.ResponseNewParams) {
			p.Tools = []responses.ToolUnionParam{{OfWebSearch: &responses.WebSearchToolParam{Type: responses.WebSearchToolTypeWebSearch}}}
		}, "tools[0].type"},
	}
	for _, tc := range cases {
		p := base
		tc.edit(&p)
		_, err := e.client.Responses.New(ctx, p)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		ae := apiError(t, err)
		if ae.StatusCode != 400 || ae.Type != "invalid_request_error" || ae.Param != tc.param || !strings.Contains(ae.Message, strings.SplitN(tc.param, "[", 2)[0]) {
			t.Errorf("%s: status %d type %q param %q message %q", tc.name, ae.StatusCode, ae.Type, ae.Param, ae.Message)
		}
	}
	// An error of the chat pipeline before the stream keeps its status and envelope.
	p := base
	p.Model = "clearbar/nope"
	_, err := e.client.Responses.New(ctx, p)
	if ae := apiError(t, err); ae.StatusCode != 404 || ae.Code != "model_not_found" || ae.Param != "model" {
		t.Errorf("unknown model: status %d code %q param %q", ae.StatusCode, ae.Code, ae.Param)
	}
	if n := len(e.up.received()); n != 0 {
		t.Errorf("%d upstream calls", n)
	}
}

// TestResponsesStreamFailure: an upstream stream cut after the answer began ends the client's
// stream with response.failed, after the text that came.
func TestResponsesStreamFailure(t *testing.T) {
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		s := openSSE(w)
		s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":"partial"}`, "", ""))
		resetConn(w, false)
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := e.client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "clearbar/chat", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("x")}})
	var types []string
	var failed responses.Response
	for s.Next() {
		ev := s.Current()
		types = append(types, ev.Type)
		if ev.Type == "response.failed" {
			failed = ev.AsResponseFailed().Response
		}
	}
	if len(types) == 0 || types[len(types)-1] != "response.failed" || failed.Error.Message == "" || failed.Status != responses.ResponseStatusFailed {
		t.Errorf("events %v, failed %s, err %v", types, failed.RawJSON(), s.Err())
	}
}
