package gateway_test

// Conformance of the Anthropic ingress (POST /v1/messages) with the real Anthropic Go SDKs:
// anthropic-sdk-go v1 (anthropic-version 2023-06-01, X-Api-Key) and v2 (2026-10-21,
// Authorization: Bearer), each against every kind of upstream of the conformance world
// (sdkworld_test.go): an OpenAI-compatible one, an Anthropic one, a Gemini one and an Azure
// OpenAI one, replaying recorded wire fixtures. The SDKs do everything a user's program does: build the request, retry, decode the
// SSE stream, accumulate it with Message.Accumulate, turn errors into *anthropic.Error. Each
// test names the items of the API conformance checklist (§8 of the API conformance brief) it
// covers. The last test is the cross-vendor case the other way round: openai-go served by an
// Anthropic upstream after a cascade escalated.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	anthropic "github.com/anthropics/anthropic-sdk-go"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/option"
	anthropicv2 "github.com/anthropics/anthropic-sdk-go/v2"
	anthropicv2opt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// antAsk is a Messages request, in terms both SDK majors can express.
type antAsk struct {
	// model is the model the client asks for: a category alias such as "clearbar/an".
	model string
	// tools offers the get_weather and get_time tools; serverTool adds Anthropic's web search
	// server tool.
	tools, serverTool bool
	// temperature, when set, is sent as v1 sends it (a typed parameter) or as a v2 client
	// still can (an extra JSON field: v2 dropped the parameter with API version 2026-10-21).
	temperature float64
	// key replaces the client's API key for this request.
	key string
	// midSystem, when set, makes the conversation a longer one with a system message in it:
	// user, assistant, system (midSystem), user. The SDKs type such a message (v1
	// MessageParamRoleSystem, v2 SystemMessageParam).
	midSystem string
	// schema, when set, asks for structured output: output_config.format json_schema.
	schema map[string]any
}

// antReply is what an SDK made of an answer: a Message, or for a stream the Message it
// accumulated.
type antReply struct {
	ID, Model, StopReason string
	// Text is the text blocks joined; Tools the tool_use blocks as "id name input", the input
	// as compact JSON.
	Text  string
	Tools []string
	// Usage is input, cache creation, cache read and output tokens.
	Usage [4]int64
	// Header is the response's header.
	Header http.Header
	// Events are a stream's event types as the SDK yielded them (it drops pings itself).
	Events []string
}

// antAPIError is what the SDK's *anthropic.Error says.
type antAPIError struct {
	Status    int
	Type      string
	RequestID string
	Message   string
	Header    http.Header
}

// antSDK is one major version of anthropic-sdk-go with a client for a world. Its functions run
// the real SDK; they differ only in the SDK's types.
type antSDK struct {
	name string
	// version is the anthropic-version the major sends; keyHeader and keyPrefix how it
	// presents the API key.
	version, keyHeader, keyPrefix string
	// send makes a request, streamed or not; a stream is accumulated with Message.Accumulate,
	// whose first error is returned when the stream itself succeeded.
	send func(ctx context.Context, a antAsk, stream bool) (antReply, error)
	// toolTurn makes a request offering tools (streamed or not), then answers every tool_use
	// of the reply with a tool_result, the reply itself going back into the history with
	// Message.ToParam, and makes the second request (not streamed).
	toolTurn func(ctx context.Context, a antAsk, stream bool) (first, second antReply, err error)
	// apiError unwraps the SDK's *anthropic.Error.
	apiError func(err error) (antAPIError, bool)
}

// antMajors builds each major's antSDK, with a client of a world's gateway.
var antMajors = []func(t *testing.T, w *world) antSDK{anthropicV1, anthropicV2}

// compactJSON renders a tool input the way the tests compare them.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid JSON: " + string(raw)
	}
	return b.String()
}

const (
	antSystem    = "Be brief."
	antPrompt    = "What is the weather in Paris, and the time there?"
	antMaxTokens = 256
	// antHello and antHi are the first turns of a longer conversation.
	antHello = "Hello"
	antHi    = "Hi! How can I help?"
)

// The properties of the offered tools' input schemas: get_weather(location), get_time(tz).
var (
	weatherSchema = map[string]any{"location": map[string]any{"type": "string"}}
	timeSchema    = map[string]any{"tz": map[string]any{"type": "string"}}
)

// anthropicV1 is anthropic-sdk-go v1 with a client of w's gateway: the client key, its own
// transport (closed with the test), and nothing taken from the environment.
func anthropicV1(t *testing.T, w *world) antSDK {
	client := anthropic.NewClient(
		anthropicopt.WithoutEnvironmentDefaults(),
		anthropicopt.WithBaseURL(w.srv.URL),
		anthropicopt.WithAPIKey(worldClientKey),
		anthropicopt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}),
	)
	params := func(a antAsk) anthropic.MessageNewParams {
		p := anthropic.MessageNewParams{
			Model: a.model, MaxTokens: antMaxTokens,
			System:   []anthropic.TextBlockParam{{Text: antSystem}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(antPrompt))},
		}
		if a.midSystem != "" {
			p.Messages = []anthropic.MessageParam{
				anthropic.NewUserMessage(anthropic.NewTextBlock(antHello)),
				anthropic.NewAssistantMessage(anthropic.NewTextBlock(antHi)),
				{Role: anthropic.MessageParamRoleSystem, Content: []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(a.midSystem)}},
				anthropic.NewUserMessage(anthropic.NewTextBlock(antPrompt)),
			}
		}
		if a.tools {
			weather := anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Current weather"),
				InputSchema: anthropic.ToolInputSchemaParam{Properties: weatherSchema, Required: []string{"location"}}}
			clock := anthropic.ToolParam{Name: "get_time", InputSchema: anthropic.ToolInputSchemaParam{Properties: timeSchema}}
			p.Tools = []anthropic.ToolUnionParam{{OfTool: &weather}, {OfTool: &clock}}
		}
		if a.serverTool {
			p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfWebSearchTool20250305: &anthropic.WebSearchTool20250305Param{}})
		}
		if a.temperature != 0 {
			p.Temperature = anthropic.Float(a.temperature)
		}
		if a.schema != nil {
			p.OutputConfig.Format.Schema = a.schema
		}
		return p
	}
	reply := func(m *anthropic.Message, h http.Header, events []string) antReply {
		r := antReply{ID: m.ID, Model: m.Model, StopReason: string(m.StopReason), Header: h, Events: events,
			Usage: [4]int64{m.Usage.InputTokens, m.Usage.CacheCreationInputTokens, m.Usage.CacheReadInputTokens, m.Usage.OutputTokens}}
		for _, b := range m.Content {
			switch b.Type {
			case "text":
				r.Text += b.Text
			case "tool_use":
				r.Tools = append(r.Tools, b.ID+" "+b.Name+" "+compactJSON(b.Input))
			}
		}
		return r
	}
	// send returns the Message the SDK made, the reply it reads as, and the error.
	send := func(ctx context.Context, a antAsk, p anthropic.MessageNewParams, stream bool) (anthropic.Message, antReply, error) {
		var resp *http.Response
		opts := []anthropicopt.RequestOption{anthropicopt.WithResponseInto(&resp)}
		if a.key != "" {
			opts = append(opts, anthropicopt.WithAPIKey(a.key))
		}
		header := func() http.Header {
			if resp == nil {
				return nil
			}
			return resp.Header
		}
		if !stream {
			m, err := client.Messages.New(ctx, p, opts...)
			if err != nil {
				return anthropic.Message{}, antReply{Header: header()}, err
			}
			return *m, reply(m, header(), nil), nil
		}
		s := client.Messages.NewStreaming(ctx, p, opts...)
		defer s.Close()
		var m anthropic.Message
		var events []string
		var accErr error
		for s.Next() {
			ev := s.Current()
			events = append(events, ev.Type)
			if err := m.Accumulate(ev); err != nil && accErr == nil {
				accErr = fmt.Errorf("Message.Accumulate(%s): %w", ev.Type, err)
			}
		}
		if err := s.Err(); err != nil {
			return m, reply(&m, header(), events), err
		}
		return m, reply(&m, header(), events), accErr
	}
	return antSDK{
		name: "anthropic-sdk-go v1", version: "2023-06-01", keyHeader: "X-Api-Key",
		send: func(ctx context.Context, a antAsk, stream bool) (antReply, error) {
			_, r, err := send(ctx, a, params(a), stream)
			return r, err
		},
		toolTurn: func(ctx context.Context, a antAsk, stream bool) (antReply, antReply, error) {
			a.tools = true
			p := params(a)
			m, first, err := send(ctx, a, p, stream)
			if err != nil {
				return first, antReply{}, err
			}
			var results []anthropic.ContentBlockParamUnion
			for _, b := range m.Content {
				if b.Type == "tool_use" {
					results = append(results, anthropic.NewToolResultBlock(b.ID, "result of "+b.Name, false))
				}
			}
			p.Messages = append(p.Messages, m.ToParam(), anthropic.NewUserMessage(results...))
			_, second, err := send(ctx, a, p, false)
			return first, second, err
		},
		apiError: func(err error) (antAPIError, bool) {
			var ae *anthropic.Error
			if !errors.As(err, &ae) {
				return antAPIError{}, false
			}
			out := antAPIError{Status: ae.StatusCode, Type: string(ae.Type()), RequestID: ae.RequestID, Message: gjson.Get(ae.RawJSON(), "error.message").Str}
			if ae.Response != nil {
				out.Header = ae.Response.Header
			}
			return out, true
		},
	}
}

// anthropicV2 is anthropic-sdk-go v2, set up as anthropicV1 is.
func anthropicV2(t *testing.T, w *world) antSDK {
	client := anthropicv2.NewClient(
		anthropicv2opt.WithoutEnvironmentDefaults(),
		anthropicv2opt.WithBaseURL(w.srv.URL),
		anthropicv2opt.WithAPIKey(worldClientKey),
		anthropicv2opt.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}),
	)
	params := func(a antAsk) anthropicv2.MessageNewParams {
		p := anthropicv2.MessageNewParams{
			Model: a.model, MaxTokens: antMaxTokens,
			System:   []anthropicv2.TextBlockParam{{Text: antSystem}},
			Messages: []anthropicv2.MessageParam{anthropicv2.NewUserMessage(anthropicv2.NewTextBlock(antPrompt))},
		}
		if a.midSystem != "" {
			p.Messages = []anthropicv2.MessageParam{
				anthropicv2.NewUserMessage(anthropicv2.NewTextBlock(antHello)),
				anthropicv2.NewAssistantMessage(anthropicv2.NewTextBlock(antHi)),
				{OfSystem: &anthropicv2.SystemMessageParam{Content: []anthropicv2.TextBlockParam{{Text: a.midSystem}}}},
				anthropicv2.NewUserMessage(anthropicv2.NewTextBlock(antPrompt)),
			}
		}
		if a.tools {
			weather := anthropicv2.ToolParam{Name: "get_weather", Description: anthropicv2.String("Current weather"),
				InputSchema: anthropicv2.ToolInputSchemaParam{Properties: weatherSchema, Required: []string{"location"}}}
			clock := anthropicv2.ToolParam{Name: "get_time", InputSchema: anthropicv2.ToolInputSchemaParam{Properties: timeSchema}}
			p.Tools = []anthropicv2.ToolUnionParam{{OfTool: &weather}, {OfTool: &clock}}
		}
		if a.serverTool {
			p.Tools = append(p.Tools, anthropicv2.ToolUnionParam{OfWebSearchTool20250305: &anthropicv2.WebSearchTool20250305Param{}})
		}
		if a.schema != nil {
			p.OutputConfig.Format.Schema = a.schema
		}
		return p
	}
	reply := func(m *anthropicv2.Message, h http.Header, events []string) antReply {
		r := antReply{ID: m.ID, Model: m.Model, StopReason: string(m.StopReason), Header: h, Events: events,
			Usage: [4]int64{m.Usage.InputTokens, m.Usage.CacheCreationInputTokens, m.Usage.CacheReadInputTokens, m.Usage.OutputTokens}}
		for _, b := range m.Content {
			switch b.Type {
			case "text":
				r.Text += b.Text
			case "tool_use":
				r.Tools = append(r.Tools, b.ID+" "+b.Name+" "+compactJSON(b.Input))
			}
		}
		return r
	}
	send := func(ctx context.Context, a antAsk, p anthropicv2.MessageNewParams, stream bool) (anthropicv2.Message, antReply, error) {
		var resp *http.Response
		opts := []anthropicv2opt.RequestOption{anthropicv2opt.WithResponseInto(&resp)}
		if a.key != "" {
			opts = append(opts, anthropicv2opt.WithAPIKey(a.key))
		}
		if a.temperature != 0 {
			opts = append(opts, anthropicv2opt.WithJSONSet("temperature", a.temperature))
		}
		header := func() http.Header {
			if resp == nil {
				return nil
			}
			return resp.Header
		}
		if !stream {
			m, err := client.Messages.New(ctx, p, opts...)
			if err != nil {
				return anthropicv2.Message{}, antReply{Header: header()}, err
			}
			return *m, reply(m, header(), nil), nil
		}
		s := client.Messages.NewStreaming(ctx, p, opts...)
		defer s.Close()
		var m anthropicv2.Message
		var events []string
		var accErr error
		for s.Next() {
			ev := s.Current()
			events = append(events, ev.Type)
			if err := m.Accumulate(ev); err != nil && accErr == nil {
				accErr = fmt.Errorf("Message.Accumulate(%s): %w", ev.Type, err)
			}
		}
		if err := s.Err(); err != nil {
			return m, reply(&m, header(), events), err
		}
		return m, reply(&m, header(), events), accErr
	}
	return antSDK{
		name: "anthropic-sdk-go v2", version: "2026-10-21", keyHeader: "Authorization", keyPrefix: "Bearer ",
		send: func(ctx context.Context, a antAsk, stream bool) (antReply, error) {
			_, r, err := send(ctx, a, params(a), stream)
			return r, err
		},
		toolTurn: func(ctx context.Context, a antAsk, stream bool) (antReply, antReply, error) {
			a.tools = true
			p := params(a)
			m, first, err := send(ctx, a, p, stream)
			if err != nil {
				return first, antReply{}, err
			}
			var results []anthropicv2.ContentBlockParamUnion
			for _, b := range m.Content {
				if b.Type == "tool_use" {
					results = append(results, anthropicv2.NewToolResultBlock(b.ID, "result of "+b.Name, false))
				}
			}
			p.Messages = append(p.Messages, m.ToParam(), anthropicv2.NewUserMessage(results...))
			_, second, err := send(ctx, a, p, false)
			return first, second, err
		},
		apiError: func(err error) (antAPIError, bool) {
			var ae *anthropicv2.Error
			if !errors.As(err, &ae) {
				return antAPIError{}, false
			}
			out := antAPIError{Status: ae.StatusCode, Type: string(ae.Type()), RequestID: ae.RequestID, Message: ae.Message}
			if ae.Response != nil {
				out.Header = ae.Response.Header
			}
			return out, true
		},
	}
}

// forEachSDK runs f as a parallel subtest for every SDK major and upstream kind, each in a
// world of its own (so that counts of requests and calls are the subtest's).
func forEachSDK(t *testing.T, upstreams []string, f func(t *testing.T, w *world, sdk antSDK, upstream string)) {
	t.Helper()
	for i, major := range antMajors {
		for _, up := range upstreams {
			t.Run(fmt.Sprintf("v%d/%s", i+1, up), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t)
				f(t, w, major(t, w), up)
			})
		}
	}
}

// contentText returns the text of an OpenAI message content: a string, or the text parts of
// an array of parts, joined.
func contentText(content gjson.Result) string {
	if !content.IsArray() {
		return content.Str
	}
	var b strings.Builder
	for _, p := range content.Array() {
		if p.Get("type").Str == "text" {
			b.WriteString(p.Get("text").Str)
		}
	}
	return b.String()
}

// checkAntInbound checks that every request the gateway received came from the SDK major, as
// it presents itself: its anthropic-version, its way of sending the key.
func checkAntInbound(t *testing.T, w *world, sdk antSDK, key string) {
	t.Helper()
	w.inbound.mu.Lock()
	defer w.inbound.mu.Unlock()
	if len(w.inbound.headers) == 0 {
		t.Fatal("the gateway received no request")
	}
	other := map[string]string{"X-Api-Key": "Authorization", "Authorization": "X-Api-Key"}[sdk.keyHeader]
	for _, h := range w.inbound.headers {
		if h.Get("Anthropic-Version") != sdk.version || h.Get(sdk.keyHeader) != sdk.keyPrefix+key || h.Get(other) != "" {
			t.Errorf("%s sent anthropic-version %q, %s %q, %s %q", sdk.name, h.Get("Anthropic-Version"), sdk.keyHeader, h.Get(sdk.keyHeader), other, h.Get(other))
		}
	}
}

// checkAntRequestID checks that the request id the SDK exposes is the gateway's decision id
// (§8 items 31 and 39), and returns it.
func checkAntRequestID(t *testing.T, h http.Header, sdkRequestID string) string {
	t.Helper()
	id := h.Get("X-Clearbar-Decision-Id")
	if !strings.HasPrefix(id, "dec_") || h.Get("Request-Id") != id || (sdkRequestID != "" && sdkRequestID != id) {
		t.Errorf("decision id %q, request-id header %q, the SDK's request id %q", id, h.Get("Request-Id"), sdkRequestID)
	}
	return id
}

// checkUpstreamAuth checks that an upstream call carries the gateway's key for that upstream,
// in the upstream's own way, and nothing of the client's: neither its key nor the SDK's
// x-stainless-* headers (§8 item 28).
func checkUpstreamAuth(t *testing.T, h http.Header, upstream string) {
	t.Helper()
	want := map[string][2]string{"oa": {"Authorization", "Bearer " + worldOAKey}, "an": {"X-Api-Key", worldANKey},
		"ge": {"X-Goog-Api-Key", worldGEKey}, "az": {"Api-Key", worldAZKey}}[upstream]
	if h.Get(want[0]) != want[1] {
		t.Errorf("the %s upstream got %s %q", upstream, want[0], h.Get(want[0]))
	}
	if want[0] != "Authorization" && h.Get("Authorization") != "" {
		t.Errorf("the %s upstream got an Authorization header %q", upstream, h.Get("Authorization"))
	}
	for name, vals := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-stainless") {
			t.Errorf("the SDK's %s header reached the upstream", name)
		}
		for _, v := range vals {
			if strings.Contains(v, worldClientKey) || strings.Contains(v, "Anthropic/Go") {
				t.Errorf("the client's %s (%q) reached the upstream", name, v)
			}
		}
	}
}

// §8 items 30, 31, 39: a non-streaming message from either major, routed to any kind of
// upstream, parses with its content, stop reason, usage in Anthropic's accounting (cache
// reads and writes outside input_tokens) and an Anthropic message id (the upstream's id,
// prefixed msg_ when it is not one already); the SDK's request id is the decision id; the key
// and version each major sends are accepted, and the upstream gets the gateway's own, in its
// own format.
func TestAnthropicSDKMessage(t *testing.T) {
	t.Parallel()
	want := map[string]antReply{
		// OpenAI's prompt_tokens 19 include 6 cached and 4 written to the cache.
		"oa": {ID: "msg_chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Model: "gpt-4o-mini-2024-07-18", Usage: [4]int64{9, 4, 6, 10}},
		"an": {ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Model: "claude-sonnet-4-5-20250929", Usage: [4]int64{12, 100, 2000, 12}},
		// Gemini's promptTokenCount 8 includes 4 cached; the output is 9 candidates' and 20
		// thoughts' tokens.
		"ge": {ID: "msg_Zk8xaL-3BaGJ1dkP0Jq5iAQ", Model: "gemini-2.5-flash", Usage: [4]int64{4, 0, 4, 29}},
		"az": {ID: "msg_chatcmpl-AZ1b2c3d4e5f", Model: "gpt-4o-2024-11-20", Usage: [4]int64{19, 0, 0, 10}},
	}
	forEachSDK(t, []string{"oa", "an", "ge", "az"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + up}, false)
		if err != nil {
			t.Fatal(err)
		}
		wr := want[up]
		if r.ID != wr.ID || r.Model != wr.Model || r.Text != "Hello! How can I help you today?" || r.StopReason != "end_turn" || len(r.Tools) != 0 {
			t.Errorf("message %+v", r)
		}
		if r.Usage != wr.Usage {
			t.Errorf("usage (input, cache creation, cache read, output) %v, want %v", r.Usage, wr.Usage)
		}
		id := checkAntRequestID(t, r.Header, "")
		model := worldHealthy[up].model
		if r.Header.Get("X-Clearbar-Model") != model || r.Header.Get("X-Clearbar-Category") != up || r.Header.Get("X-Clearbar-Attempts") != "1" {
			t.Errorf("decision headers %v", r.Header)
		}
		checkAntInbound(t, w, sdk, worldClientKey)
		c := w.lastCall(t, up, worldHealthy[up].upstream)
		checkUpstreamAuth(t, c.Header, up)
		switch up {
		case "oa", "az":
			msgs := gjson.GetBytes(c.Body, "messages").Array()
			if len(msgs) != 2 || msgs[0].Get("role").Str != "system" || contentText(msgs[0].Get("content")) != antSystem ||
				msgs[1].Get("role").Str != "user" || contentText(msgs[1].Get("content")) != antPrompt {
				t.Errorf("upstream messages %s", gjson.GetBytes(c.Body, "messages").Raw)
			}
			if up == "az" && (c.Path != "/openai/deployments/az-up/chat/completions" || c.Query.Get("api-version") != worldAzureVersion || gjson.GetBytes(c.Body, "max_completion_tokens").Int() != antMaxTokens) {
				t.Errorf("Azure call %s?%s, max_completion_tokens %s", c.Path, c.Query.Encode(), gjson.GetBytes(c.Body, "max_completion_tokens").Raw)
			}
		case "an":
			// The SDKs send the system prompt as text blocks; an Anthropic upstream gets them as
			// they were sent.
			if c.Header.Get("Anthropic-Version") != "2023-06-01" || gjson.GetBytes(c.Body, "system").Raw != `[{"type":"text","text":`+strconv.Quote(antSystem)+`}]` || gjson.GetBytes(c.Body, "max_tokens").Int() != antMaxTokens {
				t.Errorf("upstream version %q body %s", c.Header.Get("Anthropic-Version"), c.Body)
			}
		case "ge":
			if c.Path != "/v1beta/models/gemini-3-up:generateContent" || gjson.GetBytes(c.Body, "systemInstruction.parts.0.text").Str != antSystem ||
				gjson.GetBytes(c.Body, "contents.#").Int() != 1 || gjson.GetBytes(c.Body, "contents.0.role").Str != "user" ||
				gjson.GetBytes(c.Body, "contents.0.parts.0.text").Str != antPrompt || gjson.GetBytes(c.Body, "generationConfig.maxOutputTokens").Int() != antMaxTokens {
				t.Errorf("Gemini call %s %s", c.Path, c.Body)
			}
		}
		if d := w.decision(t, id); d.Dialect != clearbar.DialectAnthropic || d.Outcome != clearbar.OK || d.Model != model {
			t.Errorf("decision dialect %q outcome %s model %q", d.Dialect, d.Outcome, d.Model)
		}
	})
}

// Anthropic's web search, offered with the client's own tools by either major, reaches an
// Anthropic upstream as it was sent, in its place among the tools, message and stream alike
// (on an OpenAI route it is a 400: TestAnthropicSDKErrors).
func TestAnthropicSDKServerTool(t *testing.T) {
	t.Parallel()
	forEachSDK(t, []string{"an"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		for _, stream := range []bool{false, true} {
			r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + up, tools: true, serverTool: true}, stream)
			if err != nil {
				t.Fatalf("stream %v: %v", stream, err)
			}
			if r.StopReason == "" {
				t.Errorf("stream %v: reply %+v", stream, r)
			}
			c := w.lastCall(t, up, worldHealthy[up].upstream)
			var names []string
			for _, tool := range gjson.GetBytes(c.Body, "tools").Array() {
				names = append(names, tool.Get("type").Str+":"+tool.Get("name").Str)
			}
			if want := []string{":get_weather", ":get_time", "web_search_20250305:web_search"}; !slices.Equal(names, want) {
				t.Errorf("stream %v: the upstream's tools %v, want %v", stream, names, want)
			}
		}
	})
}

// §8 items 32 and 39: a streamed message accumulates with Message.Accumulate, without an
// error, to the whole text, end_turn and the final usage (from the OpenAI-format upstreams
// too, whose usage arrives in their last chunk, and from Gemini, whose usage is cumulative);
// the decision headers come with the stream.
func TestAnthropicSDKStream(t *testing.T) {
	t.Parallel()
	want := map[string]antReply{
		"oa": {ID: "msg_chatcmpl-stream1", Model: "gpt-4o-mini-2024-07-18", Text: "Hello there!", Usage: [4]int64{10, 0, 2, 3}},
		"an": {ID: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", Model: "claude-sonnet-4-5-20250929", Text: "Hello there!", Usage: [4]int64{25, 3, 40, 15}},
		// Gemini repeats cumulative usage on every event: the last counts, once.
		"ge": {ID: "msg_sse-1", Model: "gemini-2.5-flash", Text: "Hello there! How can I help?", Usage: [4]int64{8, 0, 0, 27}},
		// Azure's empty first chunk is not a message of its own.
		"az": {ID: "msg_chatcmpl-Azs1", Model: "gpt-4o-2024-11-20", Text: "Hello there", Usage: [4]int64{12, 0, 0, 3}},
	}
	forEachSDK(t, []string{"oa", "an", "ge", "az"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + up}, true)
		if err != nil {
			t.Fatalf("%v (events %v)", err, r.Events)
		}
		wr := want[up]
		if r.ID != wr.ID || r.Model != wr.Model || r.Text != wr.Text || r.StopReason != "end_turn" {
			t.Errorf("accumulated message %+v", r)
		}
		if r.Usage != wr.Usage {
			t.Errorf("usage (input, cache creation, cache read, output) %v, want %v", r.Usage, wr.Usage)
		}
		if n := len(r.Events); n < 5 || r.Events[0] != "message_start" || r.Events[n-2] != "message_delta" || r.Events[n-1] != "message_stop" {
			t.Errorf("events %v", r.Events)
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") || r.Header.Get("X-Clearbar-Category") != up {
			t.Errorf("headers %v", r.Header)
		}
		id := checkAntRequestID(t, r.Header, "")
		checkAntInbound(t, w, sdk, worldClientKey)
		if d := w.decision(t, id); !d.Stream || d.Outcome != clearbar.OK {
			t.Errorf("decision stream %v outcome %s", d.Stream, d.Outcome)
		}
	})
}

// §8 items 7, 33 and 37: tools offered by either major reach every upstream; the model's
// calls come back as tool_use blocks whose inputs are JSON objects, with stop_reason tool_use,
// also streamed (input_json_delta fragments; from the OpenAI-format upstreams two calls whose
// deltas interleave; from Gemini a whole call after text); the SDK's own history
// (Message.ToParam plus tool_result blocks) is accepted for the second turn and reaches the
// upstream in its own format: Gemini gets functionResponse parts named after the calls, and
// the calls back with their thought signatures (Gemini 3 refuses them without).
func TestAnthropicSDKToolRoundTrip(t *testing.T) {
	t.Parallel()
	type want struct {
		text  string
		tools []string
		// signature is the thought signature Gemini gave the first call.
		signature string
	}
	az := make([]string, len(azureCalls))
	for i, c := range azureCalls {
		az[i] = "toolu_" + strings.TrimPrefix(strings.Join(c[:], " "), "call_")
	}
	wants := map[string]want{
		// An OpenAI-format upstream's call_X is toolu_X to an Anthropic client.
		"oa/complete": {"", []string{`toolu_DdmO9pD3xa9XTPNJ32zg2hcA get_weather {"location":"Paris, France"}`, `toolu_ABCDEFGH12345678abcdefgh get_time {"timezone":"Europe/Paris"}`}, ""},
		"oa/stream":   {"", []string{`toolu_abc get_weather {"location":"Paris"}`, `toolu_def get_time {"tz":"CET"}`}, ""},
		"an/complete": {"", []string{`toolu_01A09q90qw90lq917835lq9 get_weather {"location":"Rome"}`, `toolu_01B get_time {"tz":"Europe/Rome"}`}, ""},
		"an/stream":   {"Okay, checking:", []string{`toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather {"location":"San Francisco, CA"}`, `toolu_02 get_time {}`}, ""},
		// Gemini sends no call ids: the adapter makes them (madeToolUseID).
		"ge/complete": {"", []string{madeToolUseID + ` get_weather {"location":"Paris"}`, madeToolUseID + ` get_time {"timezone":"Europe/Paris"}`}, "CiQB0e2Kb3TmWqzRJ9h4fB8sKe6rVqk1Zx0X+2sFj6hQ3n4wcGQ="},
		"ge/stream":   {"Let me check.", []string{madeToolUseID + ` get_weather {"location":"Paris"}`}, "EtQCCtECAdHtim9x"},
		"az/complete": {"", az, ""},
		"az/stream":   {"", az, ""},
	}
	modes := []string{"oa/complete", "oa/stream", "an/complete", "an/stream", "ge/complete", "ge/stream", "az/complete", "az/stream"}
	forEachSDK(t, modes, func(t *testing.T, w *world, sdk antSDK, c string) {
		up, mode, _ := strings.Cut(c, "/")
		first, second, err := sdk.toolTurn(context.Background(), antAsk{model: "clearbar/" + up}, mode == "stream")
		if err != nil {
			t.Fatalf("%v (first reply %+v)", err, first)
		}
		wt := wants[c]
		if first.StopReason != "tool_use" || first.Text != wt.text || !sameCalls(first.Tools, wt.tools) {
			t.Errorf("first reply: stop %q text %q tools %q, want %q", first.StopReason, first.Text, first.Tools, wt.tools)
		}
		wantSecond := "Hello! How can I help you today?"
		if up == "ge" {
			wantSecond = "21°C now; sunny tomorrow, then rain." // Gemini's recorded second turn
		}
		if second.StopReason != "end_turn" || second.Text != wantSecond {
			t.Errorf("second reply %+v", second)
		}
		var ids, names []string
		for _, tool := range first.Tools {
			parts := strings.SplitN(tool, " ", 3)
			ids, names = append(ids, parts[0]), append(names, parts[1])
		}
		call := w.lastCall(t, up, worldHealthy[up].upstream)
		checkUpstreamAuth(t, call.Header, up)
		body := call.Body
		switch up {
		case "oa", "az":
			if got := gjson.GetBytes(body, "tools.#.function.name").Raw; got != `["get_weather","get_time"]` {
				t.Errorf("upstream tools %s", gjson.GetBytes(body, "tools").Raw)
			}
			msgs := gjson.GetBytes(body, "messages").Array()
			if n := len(msgs); n != 5 || msgs[2].Get("role").Str != "assistant" {
				t.Fatalf("upstream messages %s", gjson.GetBytes(body, "messages").Raw)
			}
			for i, id := range ids {
				id = "call_" + strings.TrimPrefix(id, "toolu_") // the upstream's own id, from the one the client saw
				call := msgs[2].Get("tool_calls." + strconv.Itoa(i))
				parts := strings.SplitN(first.Tools[i], " ", 3)
				if call.Get("id").Str != id || call.Get("function.name").Str != parts[1] || compactJSON([]byte(call.Get("function.arguments").Str)) != parts[2] {
					t.Errorf("upstream tool call %d: %s", i, call.Raw)
				}
				if m := msgs[3+i]; m.Get("role").Str != "tool" || m.Get("tool_call_id").Str != id || contentText(m.Get("content")) != "result of "+parts[1] {
					t.Errorf("upstream tool message %d: %s", i, m.Raw)
				}
			}
		case "an":
			if got := gjson.GetBytes(body, "tools.#.name").Raw; got != `["get_weather","get_time"]` || gjson.GetBytes(body, "tools.0.input_schema.required").Raw != `["location"]` {
				t.Errorf("upstream tools %s", gjson.GetBytes(body, "tools").Raw)
			}
			uses := gjson.GetBytes(body, `messages.1.content.#(type=="tool_use")#.id`).Raw
			results := gjson.GetBytes(body, `messages.2.content.#(type=="tool_result")#.tool_use_id`).Raw
			if want, _ := json.Marshal(ids); uses != string(want) || results != string(want) {
				t.Errorf("upstream history: tool_use ids %s, tool_result ids %s, want %s: %s", uses, results, want, gjson.GetBytes(body, "messages").Raw)
			}
		case "ge":
			checkGeminiToolTurn(t, body, names, wt.signature, func(name string) string { return `{"result":"result of ` + name + `"}` })
		}
	})
}

// madeCallID stands, in expected tool calls, for an id the Gemini adapter made: Gemini sends
// none. An Anthropic client sees it with Anthropic's prefix: madeToolUseID.
const (
	madeCallID    = "call_<made>"
	madeToolUseID = "toolu_<made>"
)

// madeCallIDPattern is the form of the ids the Gemini adapter makes, with either prefix.
var madeCallIDPattern = regexp.MustCompile(`^(call|toolu)_[0-9a-f]{24}$`)

// sameCalls compares tool calls as "id name arguments" with expected ones, where madeCallID
// and madeToolUseID match an id of the Gemini adapter's making with their prefix; ids must be
// distinct.
func sameCalls(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]bool{}
	for i := range got {
		gid, grest, _ := strings.Cut(got[i], " ")
		wid, wrest, _ := strings.Cut(want[i], " ")
		prefix, made := strings.CutSuffix(wid, "<made>")
		if grest != wrest || seen[gid] || (made && !(madeCallIDPattern.MatchString(gid) && strings.HasPrefix(gid, prefix))) || (!made && gid != wid) {
			return false
		}
		seen[gid] = true
	}
	return true
}

// checkGeminiToolTurn checks the second turn of a function-calling conversation as the Gemini
// upstream got it (§8 items 7 and 37): the user's turn, the model's turn with its function
// calls (names in order, the first with the signature Gemini gave it), and a user turn of
// functionResponse parts named after the calls, each with the response response(name).
func checkGeminiToolTurn(t *testing.T, body []byte, names []string, signature string, response func(name string) string) {
	t.Helper()
	contents := gjson.GetBytes(body, "contents")
	if got := contents.Get("#.role").Raw; got != `["user","model","user"]` {
		t.Fatalf("Gemini contents roles %s: %s", got, contents.Raw)
	}
	if got := gjson.GetBytes(body, "tools.0.functionDeclarations.#.name").Raw; got != `["get_weather","get_time"]` {
		t.Errorf("Gemini tools %s", gjson.GetBytes(body, "tools").Raw)
	}
	calls := contents.Get("1.parts.#(functionCall)#")
	if got, want := calls.Get("#.functionCall.name").Raw, mustJSON(names); got != want {
		t.Errorf("the model turn's calls %s, want %s", got, want)
	}
	if got := calls.Get("0.thoughtSignature").Str; got != signature {
		t.Errorf("the first call came back with thought signature %q, want Gemini's %q", got, signature)
	}
	if calls.Get("0.functionCall.id").Exists() {
		t.Errorf("a call id of the adapter's making reached Gemini: %s", calls.Raw)
	}
	results := contents.Get("2.parts")
	if got, want := results.Get("#.functionResponse.name").Raw, mustJSON(names); got != want {
		t.Errorf("function responses named %s, want %s: %s", got, want, results.Raw)
	}
	for i, name := range names {
		if got := compactJSON([]byte(results.Get(strconv.Itoa(i) + ".functionResponse.response").Raw)); got != response(name) {
			t.Errorf("function response %d: %s, want %s", i, got, response(name))
		}
	}
}

// mustJSON renders v as JSON.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// §8 items 13, 14, 30, 31, 34: errors from every kind of upstream reach both majors as
// *anthropic.Error with the status and Anthropic error type, and the request id; the SDK
// retries 429 and 5xx (three attempts, its retry count 0, 1, 2, waiting the gateway's short
// retry-after-ms rather than its own backoff) and nothing else: not a spent quota, whatever
// the upstream. Each failure is tried as a message and as a stream (failing before the first
// byte).
func TestAnthropicSDKErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		ask               antAsk
		status            int
		errType, message  string
		// attempts is the number of requests the SDK makes; upstream the number of calls the
		// upstream model (the route's) gets.
		attempts, upstream int
		// retryAfter says the gateway passes a short retry-after on; noRetry that it says
		// x-should-retry: false.
		retryAfter, noRetry bool
	}{
		{"bad key", "a key the gateway does not know", antAsk{model: "clearbar/an", key: "sk-not-a-client"},
			401, "authentication_error", "not valid", 1, 0, false, false},
		{"openai upstream 400", "the OpenAI upstream rejects the request", antAsk{model: "clearbar/oa-reject"},
			400, "invalid_request_error", "temperature", 1, 1, false, false},
		{"anthropic upstream 400", "the Anthropic upstream rejects the request", antAsk{model: "clearbar/an-reject"},
			400, "invalid_request_error", "roles must alternate", 1, 1, false, false},
		{"server tool", "Anthropic's web search cannot run on an OpenAI route: the gateway says so", antAsk{model: "clearbar/oa", serverTool: true},
			400, "invalid_request_error", "web_search", 1, 0, false, false},
		{"openai upstream 429", "retry-after-ms 50 from the OpenAI upstream", antAsk{model: "clearbar/oa-limited"},
			429, "rate_limit_error", "Rate limit reached", 3, 3, true, false},
		{"anthropic upstream 429", "rate_limit_error with a short retry-after", antAsk{model: "clearbar/an-limited"},
			429, "rate_limit_error", "rate limit", 3, 3, true, false},
		{"openai upstream 500", "an empty 500: the SDK falls back on its own backoff", antAsk{model: "clearbar/oa-down"},
			529, "overloaded_error", "500", 3, 3, false, false},
		{"anthropic upstream 529", "overloaded_error with a short retry-after, as the 529 it came as (OverloadedError)", antAsk{model: "clearbar/an-down"},
			529, "overloaded_error", "Overloaded", 3, 3, true, false},
		{"openai upstream out of quota", "insufficient_quota: retrying cannot help, x-should-retry: false (§8 item 16)", antAsk{model: "clearbar/oa-broke"},
			429, "billing_error", "exceeded your current quota", 1, 1, false, true},
		{"anthropic upstream out of credit", "billing_error: retrying cannot help, x-should-retry: false (§8 item 16)", antAsk{model: "clearbar/an-broke"},
			429, "billing_error", "out of credits", 1, 1, false, true},
		{"gemini upstream 400", "Gemini's INVALID_ARGUMENT", antAsk{model: "clearbar/ge-reject"},
			400, "invalid_request_error", "Invalid value at 'generation_config.temperature'", 1, 1, false, false},
		{"azure upstream 400", "Azure's content filter refuses the prompt", antAsk{model: "clearbar/az-reject"},
			400, "invalid_request_error", "content management policy", 1, 1, false, false},
		{"gemini upstream 429", "RESOURCE_EXHAUSTED with a short RetryInfo.retryDelay", antAsk{model: "clearbar/ge-limited"},
			429, "rate_limit_error", "You exceeded your current quota", 3, 3, true, false},
		{"azure upstream 429", "Azure's token-rate 429 with a short retry-after-ms", antAsk{model: "clearbar/az-limited"},
			429, "rate_limit_error", "exceeded token rate limit", 3, 3, true, false},
		{"gemini upstream 503", "UNAVAILABLE, the model is overloaded: the SDK falls back on its own backoff", antAsk{model: "clearbar/ge-down"},
			529, "overloaded_error", "The model is overloaded", 3, 3, false, false},
		{"azure upstream 500", "Azure's server_error: the SDK falls back on its own backoff", antAsk{model: "clearbar/az-down"},
			529, "overloaded_error", "The server had an error", 3, 3, false, false},
		{"gemini upstream out of quota", "a spent per-day quota: retrying cannot help, x-should-retry: false (§8 item 16)", antAsk{model: "clearbar/ge-broke"},
			429, "billing_error", "exceeded your current quota", 1, 1, false, true},
	}
	for _, tc := range tests {
		for _, stream := range []bool{false, true} {
			mode := map[bool]string{false: "message", true: "stream"}[stream]
			forEachSDK(t, []string{tc.name + "/" + mode}, func(t *testing.T, w *world, sdk antSDK, _ string) {
				start := time.Now()
				r, err := sdk.send(context.Background(), tc.ask, stream)
				elapsed := time.Since(start)
				if err == nil {
					t.Fatalf("%s: no error, reply %+v", tc.explanation, r)
				}
				ae, ok := sdk.apiError(err)
				if !ok {
					t.Fatalf("%s: %v (%T) is not an *anthropic.Error", tc.explanation, err, err)
				}
				if ae.Status != tc.status || ae.Type != tc.errType || !strings.Contains(ae.Message, tc.message) {
					t.Errorf("%s: status %d type %q message %q, want %d %q containing %q", tc.explanation, ae.Status, ae.Type, ae.Message, tc.status, tc.errType, tc.message)
				}
				checkAntRequestID(t, ae.Header, ae.RequestID)
				key := worldClientKey
				if tc.ask.key != "" {
					key = tc.ask.key
				}
				checkAntInbound(t, w, sdk, key)
				want := []string{"0", "1", "2"}[:tc.attempts]
				if got := w.inbound.retryCounts(); !slices.Equal(got, want) {
					t.Errorf("%s: X-Stainless-Retry-Count %v, want %v", tc.explanation, got, want)
				}
				if got := w.upstreamCount(); got != tc.upstream {
					t.Errorf("%s: %d upstream calls, want %d", tc.explanation, got, tc.upstream)
				}
				ms, _ := strconv.Atoi(ae.Header.Get("Retry-After-Ms"))
				switch {
				case tc.retryAfter && (ms <= 0 || ms > 100):
					t.Errorf("%s: retry-after-ms %q, want the upstream's short wait", tc.explanation, ae.Header.Get("Retry-After-Ms"))
				case tc.retryAfter && elapsed > time.Second:
					t.Errorf("%s: %d attempts took %v: the SDK did not wait the gateway's retry-after-ms", tc.explanation, tc.attempts, elapsed)
				case !tc.retryAfter && ae.Header.Get("Retry-After-Ms") != "":
					t.Errorf("%s: retry-after-ms %q", tc.explanation, ae.Header.Get("Retry-After-Ms"))
				}
				if got := ae.Header.Get("X-Should-Retry"); (got == "false") != tc.noRetry {
					t.Errorf("%s: x-should-retry %q", tc.explanation, got)
				}
				if s := ae.Header.Get("Retry-After"); s != "" {
					if secs, err := strconv.Atoi(s); err != nil || secs > 60 {
						t.Errorf("%s: retry-after %q: the Anthropic SDKs would wait that long (§8 item 18)", tc.explanation, s)
					}
				}
			})
		}
	}
}

// §8 item 35: API version 2026-10-21 has no sampling parameters. v1 (2023-06-01) may send a
// temperature, which reaches the upstream; a v2 client that still sends one gets the 400
// Anthropic gives, naming it, and nothing is sent upstream.
func TestAnthropicSDKTemperatureByVersion(t *testing.T) {
	t.Parallel()
	forEachSDK(t, []string{"an"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/an", temperature: 0.5}, false)
		if sdk.version == "2023-06-01" {
			if err != nil {
				t.Fatal(err)
			}
			if got := gjson.GetBytes(w.an.last(t, "claude-up").Body, "temperature").Raw; got != "0.5" || r.StopReason != "end_turn" {
				t.Errorf("upstream temperature %s, reply %+v", got, r)
			}
			return
		}
		ae, ok := sdk.apiError(err)
		if !ok || ae.Status != 400 || ae.Type != "invalid_request_error" || !strings.Contains(ae.Message, "temperature") {
			t.Errorf("error %v (%+v)", err, ae)
		}
		if n := w.an.count(""); n != 0 {
			t.Errorf("%d upstream calls", n)
		}
	})
}

// §8 item 9 for Anthropic clients: structured output (output_config.format) reaches an
// OpenAI-format upstream (OpenAI's, Azure's) as a strict json_schema response_format, whose
// JSON answer comes back as the text, an Anthropic upstream as output_config.format again, and
// Gemini as a JSON responseMimeType with the schema in Gemini's dialect.
func TestAnthropicSDKStructuredOutput(t *testing.T) {
	t.Parallel()
	schema := map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}
	forEachSDK(t, []string{"oa", "an", "ge", "az"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + up, schema: schema}, false)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(schema)
		body := w.lastCall(t, up, worldHealthy[up].upstream).Body
		switch up {
		case "oa", "az":
			rf := gjson.GetBytes(body, "response_format")
			if rf.Get("type").Str != "json_schema" || compactJSON([]byte(rf.Get("json_schema.schema").Raw)) != string(want) || !rf.Get("json_schema.strict").Bool() {
				t.Errorf("upstream response_format %s", rf.Raw)
			}
			if r.Text != worldJSONAnswer || r.StopReason != "end_turn" {
				t.Errorf("reply %+v", r)
			}
		case "an":
			if got := gjson.GetBytes(body, "output_config.format"); got.Get("type").Str != "json_schema" || compactJSON([]byte(got.Get("schema").Raw)) != string(want) {
				t.Errorf("upstream output_config.format %s", got.Raw)
			}
		case "ge":
			gc := gjson.GetBytes(body, "generationConfig")
			if gc.Get("responseMimeType").Str != "application/json" || compactJSON([]byte(gc.Get("responseSchema").Raw)) != `{"type":"OBJECT","properties":{"city":{"type":"STRING"}},"required":["city"]}` {
				t.Errorf("upstream generationConfig %s", gc.Raw)
			}
			if r.Text != `{"label":"refund","note":null,"score":0.97}` || r.StopReason != "end_turn" {
				t.Errorf("reply %+v", r)
			}
		}
	})
}

// §3.2: both majors type a system message inside the conversation (Anthropic's mid-conversation
// system message), and Anthropic accepts it. The gateway must too: an OpenAI-format upstream
// gets it as a system message in its place, an Anthropic one (through the adapter's OpenAI
// translation, which hoists system messages) in its system prompt, Gemini in its
// systemInstruction.
func TestAnthropicSDKSystemMessageInConversation(t *testing.T) {
	t.Parallel()
	const later = "From now on, answer in French."
	forEachSDK(t, []string{"oa", "an", "ge", "az"}, func(t *testing.T, w *world, sdk antSDK, up string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + up, midSystem: later}, false)
		if err != nil {
			t.Fatalf("%s's system message is refused: %v", sdk.name, err)
		}
		if r.StopReason != "end_turn" || r.Text != "Hello! How can I help you today?" {
			t.Errorf("reply %+v", r)
		}
		body := w.lastCall(t, up, worldHealthy[up].upstream).Body
		switch up {
		case "oa", "az":
			var got []string
			for _, m := range gjson.GetBytes(body, "messages").Array() {
				got = append(got, m.Get("role").Str+": "+contentText(m.Get("content")))
			}
			want := []string{"system: " + antSystem, "user: " + antHello, "assistant: " + antHi, "system: " + later, "user: " + antPrompt}
			if !slices.Equal(got, want) {
				t.Errorf("upstream messages\n%q\nwant\n%q", got, want)
			}
		case "an":
			sys := gjson.GetBytes(body, "system").Raw
			if !strings.Contains(sys, antSystem) || !strings.Contains(sys, later) || gjson.GetBytes(body, "messages.#.role").Raw != `["user","assistant","user"]` {
				t.Errorf("upstream system %s messages %s", sys, gjson.GetBytes(body, "messages").Raw)
			}
		case "ge":
			sys := gjson.GetBytes(body, "systemInstruction.parts.#.text").Raw
			if sys != mustJSON([]string{antSystem, later}) || gjson.GetBytes(body, "contents.#.role").Raw != `["user","model","user"]` ||
				gjson.GetBytes(body, "contents.2.parts.0.text").Str != antPrompt {
				t.Errorf("upstream systemInstruction %s contents %s", sys, gjson.GetBytes(body, "contents").Raw)
			}
		}
	})
}

// §8 items 19 and 34: a stream that fails after its first byte (the upstream's error event or
// error chunk, or a connection reset, from any kind of upstream) ends with Anthropic's error
// event, which both majors
// raise as *anthropic.Error with status 200, the error type and the request id, never as a
// clean end: the accumulated message has the text that came before, no stop reason, and the
// SDK does not retry. (an-reset's upstream resets before any of the answer:
// TestSDKStreamResetBeforeAnswer.)
func TestAnthropicSDKMidStreamFailure(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ errType, text string }{
		"oa-cut":   {"api_error", "Partial"},
		"an-cut":   {"overloaded_error", "Partial"},
		"ge-cut":   {"api_error", "Part"},
		"az-cut":   {"api_error", "Sure,"},
		"oa-reset": {"api_error", "Once upon"},
		"ge-reset": {"api_error", "Once upon"},
		"az-reset": {"api_error", "Once"},
	}
	categories := []string{"oa-cut", "an-cut", "ge-cut", "az-cut", "oa-reset", "ge-reset", "az-reset"}
	forEachSDK(t, categories, func(t *testing.T, w *world, sdk antSDK, category string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + category}, true)
		want := tests[category]
		if err == nil {
			t.Fatalf("the stream ended cleanly: %+v", r)
		}
		ae, ok := sdk.apiError(err)
		if !ok {
			t.Fatalf("%v (%T) is not an *anthropic.Error", err, err)
		}
		if ae.Status != 200 || ae.Type != want.errType {
			t.Errorf("status %d type %q, want 200 %q", ae.Status, ae.Type, want.errType)
		}
		id := checkAntRequestID(t, ae.Header, ae.RequestID)
		if r.Text != want.text || r.StopReason != "" || slices.Contains(r.Events, "message_stop") || slices.Contains(r.Events, "message_delta") {
			t.Errorf("text %q stop %q events %v: a cut stream must not look complete", r.Text, r.StopReason, r.Events)
		}
		if got := w.inbound.retryCounts(); !slices.Equal(got, []string{"0"}) {
			t.Errorf("X-Stainless-Retry-Count %v: the SDK retried a stream that had begun", got)
		}
		if d := w.decision(t, id); d.Outcome != clearbar.StreamCut {
			t.Errorf("decision outcome %s", d.Outcome)
		}
	})
}

// §8 items 36, 38, 39 and the cross-vendor cascade: openai-go asks a category whose route is a
// cascade from a cheap OpenAI-format model to a strong Anthropic-format one with a JSON Schema
// validator. The cheap model's prose fails the validator, the cascade escalates, and the
// client gets the Anthropic model's answer in OpenAI's shape (usage with the cache reads and
// writes inside prompt_tokens), as a completion and as a stream whose chunks share one id and
// end with one usage chunk.
func TestOpenAISDKCascadeToAnthropic(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "complete", true: "stream"}[stream], func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			client := openai.NewClient(option.WithBaseURL(w.srv.URL+"/v1"), option.WithAPIKey(worldClientKey),
				option.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}))
			params := openai.ChatCompletionNewParams{Model: "clearbar/extract", Messages: []openai.ChatCompletionMessageParamUnion{
				openai.SystemMessage("Answer with JSON."), openai.UserMessage("Order A-1"),
			}}
			var resp *http.Response
			var got openai.ChatCompletion
			if stream {
				params.StreamOptions.IncludeUsage = openai.Bool(true)
				s := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&resp))
				var acc openai.ChatCompletionAccumulator
				ids, usageChunks := map[string]bool{}, 0
				for s.Next() {
					c := s.Current()
					if !acc.AddChunk(c) {
						t.Errorf("AddChunk refused %s", c.RawJSON())
					}
					ids[c.ID] = true
					if c.JSON.Usage.Valid() {
						usageChunks++
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				if len(ids) != 1 || usageChunks != 1 {
					t.Errorf("chunk ids %v, %d usage chunks", ids, usageChunks)
				}
				got = acc.ChatCompletion
			} else {
				c, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&resp))
				if err != nil {
					t.Fatal(err)
				}
				got = *c
			}
			wantID, wantUsage := "msg_01XFDUDYJgAACzvnptvVoYEL", [3]int64{2112, 12, 2000}
			if stream {
				wantID, wantUsage = "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", [3]int64{68, 15, 40}
			}
			if len(got.Choices) != 1 || got.Choices[0].Message.Content != worldJSONAnswer || got.Choices[0].FinishReason != "stop" {
				t.Fatalf("choices %+v", got.Choices)
			}
			if got.ID != wantID || got.Model != "claude-sonnet-4-5-20250929" {
				t.Errorf("id %q model %q", got.ID, got.Model)
			}
			u := got.Usage
			if [3]int64{u.PromptTokens, u.CompletionTokens, u.PromptTokensDetails.CachedTokens} != wantUsage || u.TotalTokens != wantUsage[0]+wantUsage[1] {
				t.Errorf("usage %+v, want prompt, completion, cached %v", u, wantUsage)
			}
			h := resp.Header
			if h.Get("X-Clearbar-Model") != "claude-json" || h.Get("X-Clearbar-Provider") != "an" || h.Get("X-Clearbar-Attempts") != "2" || h.Get("X-Clearbar-Category") != "extract" {
				t.Errorf("decision headers %v", h)
			}
			d := w.decision(t, h.Get("X-Clearbar-Decision-Id"))
			if len(d.Attempts) != 2 {
				t.Fatalf("attempts %+v", d.Attempts)
			}
			cheap, strong := d.Attempts[0], d.Attempts[1]
			if cheap.Model != "gpt" || cheap.Class != clearbar.Quality || len(cheap.Verdicts) != 1 || cheap.Verdicts[0].Pass {
				t.Errorf("cheap attempt %+v", cheap)
			}
			if strong.Model != "claude-json" || strong.Kind != clearbar.AttemptEscalation || len(strong.Verdicts) != 1 || !strong.Verdicts[0].Pass {
				t.Errorf("strong attempt %+v", strong)
			}
			c := w.an.last(t, "claude-json")
			checkUpstreamAuth(t, c.Header, "an")
			if c.Path != "/v1/messages" || gjson.GetBytes(c.Body, "system").Str != "Answer with JSON." || gjson.GetBytes(c.Body, "messages").Raw != `[{"role":"user","content":"Order A-1"}]` {
				t.Errorf("Anthropic upstream call %s %s", c.Path, c.Body)
			}
			if gjson.GetBytes(c.Body, "stream").Bool() != stream {
				t.Errorf("the Anthropic upstream was called with stream %v", gjson.GetBytes(c.Body, "stream").Bool())
			}
		})
	}
}
