package gateway_test

// Conformance of the OpenAI ingress (POST /v1/chat/completions) with openai-go v3 against every
// adapter of the conformance world (sdkworld_test.go): an OpenAI-compatible upstream
// (provider/openai), an Anthropic one (provider/anthropic), a Gemini one (provider/gemini) and an
// Azure OpenAI one (provider/azure), each replaying recorded wire fixtures. sdk_test.go drives
// the gateway's own behaviours against a scripted OpenAI-compatible upstream; these tests check
// that every adapter's answers, streams, tool calls and failures reach the SDK as OpenAI's
// would. Each test names the items of the API conformance checklist (§8 of the API conformance
// brief) it covers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// worldKinds are the world's upstream kinds: OpenAI-compatible, Anthropic, Gemini, Azure.
var worldKinds = []string{"oa", "an", "ge", "az"}

// worldClient returns openai-go with a client of w's gateway: the client key and a transport
// of its own (the base URL and key override the environment's).
func worldClient(t *testing.T, w *world, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(w.srv.URL + "/v1"), option.WithAPIKey(worldClientKey),
		option.WithHTTPClient(&http.Client{Transport: newTransport(t, 0)}),
	}, opts...)...)
}

// forEachKind runs f as a parallel subtest for every case, each in a world of its own.
func forEachKind(t *testing.T, cases []string, f func(t *testing.T, w *world, c string)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			f(t, newWorld(t), c)
		})
	}
}

// worldAsk is the conversation the tests send: a system message and the user's question.
func worldAsk(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage(antSystem), openai.UserMessage(antPrompt),
	}}
}

// worldTools are the tools the tests offer, as the Anthropic tests do: get_weather(location)
// and get_time(tz).
var worldTools = []openai.ChatCompletionToolUnionParam{
	openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("Current weather"),
		Parameters: shared.FunctionParameters{"type": "object", "properties": weatherSchema, "required": []string{"location"}}}),
	openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time",
		Parameters: shared.FunctionParameters{"type": "object", "properties": timeSchema}}),
}

// oaUsage is an OpenAI usage as the tests compare it: prompt, completion, cached, reasoning.
type oaUsage [4]int64

func usageOf(u openai.CompletionUsage) oaUsage {
	return oaUsage{u.PromptTokens, u.CompletionTokens, u.PromptTokensDetails.CachedTokens, u.CompletionTokensDetails.ReasoningTokens}
}

// §8 items 1, 38 and 39 for every adapter: a completion parses with its id, model, text, finish
// reason and usage details (an Anthropic upstream's cache reads and writes inside
// prompt_tokens, Gemini's thoughts inside completion_tokens and as reasoning_tokens); the
// explanation headers name the route; the decision has the same usage; each upstream got the
// gateway's key in its own way, and nothing of the client's.
func TestOpenAISDKEveryAdapterCompletion(t *testing.T) {
	t.Parallel()
	type want struct {
		id, model string
		usage     oaUsage
	}
	wants := map[string]want{
		"oa": {"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "gpt-4o-mini-2024-07-18", oaUsage{19, 10, 6, 3}},
		"an": {"msg_01XFDUDYJgAACzvnptvVoYEL", "claude-sonnet-4-5-20250929", oaUsage{2112, 12, 2000, 0}},
		"ge": {"Zk8xaL-3BaGJ1dkP0Jq5iAQ", "gemini-2.5-flash", oaUsage{8, 29, 4, 20}},
		"az": {"chatcmpl-AZ1b2c3d4e5f", "gpt-4o-2024-11-20", oaUsage{19, 10, 0, 0}},
	}
	forEachKind(t, worldKinds, func(t *testing.T, w *world, up string) {
		client := worldClient(t, w)
		var resp *http.Response
		c, err := client.Chat.Completions.New(context.Background(), worldAsk("clearbar/"+up), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		wt := wants[up]
		if c.ID != wt.id || c.Model != wt.model || c.Object != "chat.completion" || c.Created == 0 {
			t.Errorf("id %q model %q object %q created %d", c.ID, c.Model, c.Object, c.Created)
		}
		if len(c.Choices) != 1 || c.Choices[0].Message.Content != "Hello! How can I help you today?" || c.Choices[0].FinishReason != "stop" || len(c.Choices[0].Message.ToolCalls) != 0 {
			t.Fatalf("choices %+v", c.Choices)
		}
		if got := usageOf(c.Usage); got != wt.usage || c.Usage.TotalTokens != wt.usage[0]+wt.usage[1] {
			t.Errorf("usage (prompt, completion, cached, reasoning) %v total %d, want %v", got, c.Usage.TotalTokens, wt.usage)
		}
		checkDecisionHeaders(t, resp.Header, up, worldHealthy[up].model, "1")
		if resp.Header.Get("X-Clearbar-Provider") != up {
			t.Errorf("provider %q", resp.Header.Get("X-Clearbar-Provider"))
		}
		d := w.decision(t, resp.Header.Get("X-Clearbar-Decision-Id"))
		if d.Outcome != clearbar.OK || int64(d.Usage.PromptTokens) != wt.usage[0] || int64(d.Usage.CompletionTokens) != wt.usage[1] {
			t.Errorf("decision outcome %s usage %+v", d.Outcome, d.Usage)
		}
		call := w.lastCall(t, up, worldHealthy[up].upstream)
		checkUpstreamAuth(t, call.Header, up)
		if call.Stream {
			t.Errorf("a completion was asked of the upstream as a stream")
		}
	})
}

// oaStreamRead is what a test made of a stream: the accumulated completion, the chunks' ids,
// models, objects and the number of chunks with usage, and the raw events.
type oaStreamRead struct {
	acc                    openai.ChatCompletionAccumulator
	ids, models, objects   map[string]bool
	chunks, usageChunks    int
	usageLast, usageChoice bool
	events                 []string
	// pings counts the ": ping" keep-alive comments before the first event.
	pings  int
	header http.Header
	err    error
}

// readOAStream reads a stream through openai-go: every chunk must be accepted by
// ChatCompletionAccumulator.AddChunk, and keep-alive comments may come only before the first
// event.
func readOAStream(t *testing.T, client openai.Client, params openai.ChatCompletionNewParams, opts ...option.RequestOption) oaStreamRead {
	t.Helper()
	var raw bytes.Buffer
	var resp *http.Response
	s := client.Chat.Completions.NewStreaming(context.Background(), params, append(opts, teeBody(&raw), option.WithResponseInto(&resp))...)
	defer s.Close()
	r := oaStreamRead{ids: map[string]bool{}, models: map[string]bool{}, objects: map[string]bool{}}
	for s.Next() {
		c := s.Current()
		r.chunks++
		if !r.acc.AddChunk(c) {
			t.Errorf("AddChunk refused chunk %d: %s", r.chunks, c.RawJSON())
		}
		r.ids[c.ID], r.models[c.Model], r.objects[string(c.Object)] = true, true, true
		r.usageLast = false
		if c.JSON.Usage.Valid() {
			r.usageChunks++
			r.usageLast = true
			r.usageChoice = r.usageChoice || len(c.Choices) != 0
		}
	}
	r.err = s.Err()
	if resp != nil {
		r.header = resp.Header
	}
	events, pings := splitPings(t, raw.String())
	r.events, r.pings = rawEvents(t, events), pings
	return r
}

// §8 items 2, 3, 38 and 39 for every adapter: a stream without stream_options ends with [DONE]
// and has no usage chunk; with include_usage it has exactly one, the last, without choices,
// whose totals ChatCompletionAccumulator reports as the upstream's (Gemini's cumulative usage
// counted once, Azure's empty first chunk not a chunk of its own); every chunk has the same id,
// model and object; no event carries an error.
func TestOpenAISDKEveryAdapterStream(t *testing.T) {
	t.Parallel()
	type want struct {
		id, model, text string
		chunks          int // content and finish chunks, without the usage chunk
		usage           oaUsage
	}
	wants := map[string]want{
		"oa": {"chatcmpl-stream1", "gpt-4o-mini-2024-07-18", "Hello there!", 4, oaUsage{12, 3, 2, 0}},
		"an": {"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "claude-sonnet-4-5-20250929", "Hello there!", 4, oaUsage{68, 15, 40, 0}},
		"ge": {"sse-1", "gemini-2.5-flash", "Hello there! How can I help?", 3, oaUsage{8, 27, 0, 20}},
		"az": {"chatcmpl-Azs1", "gpt-4o-2024-11-20", "Hello there", 3, oaUsage{12, 3, 0, 0}},
	}
	var cases []string
	for _, up := range worldKinds {
		cases = append(cases, up+"/usage", up+"/no-usage")
	}
	forEachKind(t, cases, func(t *testing.T, w *world, c string) {
		up, mode, _ := strings.Cut(c, "/")
		wt := wants[up]
		params := worldAsk("clearbar/" + up)
		if mode == "usage" {
			params.StreamOptions.IncludeUsage = openai.Bool(true)
		}
		r := readOAStream(t, worldClient(t, w), params)
		if r.err != nil {
			t.Fatalf("stream error %v (events %q)", r.err, r.events)
		}
		if len(r.ids) != 1 || !r.ids[wt.id] || len(r.models) != 1 || !r.models[wt.model] || len(r.objects) != 1 || !r.objects["chat.completion.chunk"] {
			t.Errorf("chunk ids %v models %v objects %v, want one each: %s, %s", r.ids, r.models, r.objects, wt.id, wt.model)
		}
		cc := r.acc.ChatCompletion
		if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != wt.text || cc.Choices[0].FinishReason != "stop" {
			t.Fatalf("accumulated choices %+v", cc.Choices)
		}
		wantChunks, wantUsage := wt.chunks, wt.usage
		if mode == "usage" {
			wantChunks++
			if r.usageChunks != 1 || !r.usageLast || r.usageChoice {
				t.Errorf("%d usage chunks (last %v, with choices %v), want one, the last, without choices", r.usageChunks, r.usageLast, r.usageChoice)
			}
		} else {
			wantUsage = oaUsage{}
			if r.usageChunks != 0 {
				t.Errorf("%d usage chunks, but the client did not ask for usage", r.usageChunks)
			}
		}
		if r.chunks != wantChunks {
			t.Errorf("%d chunks, want %d", r.chunks, wantChunks)
		}
		if got := usageOf(r.acc.Usage); got != wantUsage || r.acc.Usage.TotalTokens != wantUsage[0]+wantUsage[1] {
			t.Errorf("accumulated usage %v total %d, want %v", got, r.acc.Usage.TotalTokens, wantUsage)
		}
		if n := len(r.events); n < 2 || r.events[n-1] != "[DONE]" {
			t.Errorf("events %q: the stream does not end with [DONE]", r.events)
		}
		for _, ev := range r.events {
			if gjson.Get(ev, "error").Exists() {
				t.Errorf("an error event in a healthy stream: %s", ev)
			}
		}
		checkDecisionHeaders(t, r.header, up, worldHealthy[up].model, "1")
		d := w.decision(t, r.header.Get("X-Clearbar-Decision-Id"))
		if !d.Stream || d.Outcome != clearbar.OK || int64(d.Usage.PromptTokens) != wt.usage[0] || int64(d.Usage.CompletionTokens) != wt.usage[1] {
			t.Errorf("decision stream %v outcome %s usage %+v: the gateway prices the upstream's usage whatever the client asked", d.Stream, d.Outcome, d.Usage)
		}
		if call := w.lastCall(t, up, worldHealthy[up].upstream); !call.Stream {
			t.Errorf("the upstream was not asked for a stream")
		}
	})
}

// §8 items 6, 7 and 37 for every adapter: tool calls, parallel and streamed (OpenAI-format
// deltas that interleave by index; Anthropic's input_json_delta fragments; Gemini's whole call
// after text), reach openai-go with their ids, names and JSON arguments and finish_reason
// tool_calls; the SDK's own assistant message (ToParam) and a tool message per call are accepted
// for the second turn and reach the upstream in its own format: tool messages, tool_result
// blocks, or functionResponse parts named after their calls with the calls' thought signatures
// restored (openai-go drops extra_content).
func TestOpenAISDKEveryAdapterToolCalls(t *testing.T) {
	t.Parallel()
	type want struct {
		text      string
		calls     []string
		usage     oaUsage
		signature string
	}
	az := make([]string, len(azureCalls))
	for i, c := range azureCalls {
		az[i] = strings.Join(c[:], " ")
	}
	wants := map[string]want{
		"oa/complete": {"", []string{`call_DdmO9pD3xa9XTPNJ32zg2hcA get_weather {"location":"Paris, France"}`, `call_ABCDEFGH12345678abcdefgh get_time {"timezone":"Europe/Paris"}`}, oaUsage{82, 51, 0, 0}, ""},
		"oa/stream":   {"", []string{`call_abc get_weather {"location":"Paris"}`, `call_def get_time {"tz":"CET"}`}, oaUsage{}, ""},
		"an/complete": {"", []string{`toolu_01A09q90qw90lq917835lq9 get_weather {"location":"Rome"}`, `toolu_01B get_time {"tz":"Europe/Rome"}`}, oaUsage{}, ""},
		"an/stream":   {"Okay, checking:", []string{`toolu_01T1x1fJ34qAmk2tNTrN7Up6 get_weather {"location":"San Francisco, CA"}`, `toolu_02 get_time {}`}, oaUsage{}, ""},
		"ge/complete": {"", []string{madeCallID + ` get_weather {"location":"Paris"}`, madeCallID + ` get_time {"timezone":"Europe/Paris"}`}, oaUsage{60, 150, 0, 120}, "CiQB0e2Kb3TmWqzRJ9h4fB8sKe6rVqk1Zx0X+2sFj6hQ3n4wcGQ="},
		"ge/stream":   {"Let me check.", []string{madeCallID + ` get_weather {"location":"Paris"}`}, oaUsage{30, 60, 0, 48}, "EtQCCtECAdHtim9x"},
		"az/complete": {"", az, oaUsage{19, 10, 0, 0}, ""},
		"az/stream":   {"", az, oaUsage{12, 3, 0, 0}, ""},
	}
	var cases []string
	for _, up := range worldKinds {
		cases = append(cases, up+"/complete", up+"/stream")
	}
	forEachKind(t, cases, func(t *testing.T, w *world, c string) {
		up, mode, _ := strings.Cut(c, "/")
		wt := wants[c]
		client := worldClient(t, w)
		params := worldAsk("clearbar/" + up)
		params.Tools = worldTools
		var first openai.ChatCompletion
		if mode == "stream" {
			params.StreamOptions.IncludeUsage = openai.Bool(true)
			r := readOAStream(t, client, params)
			if r.err != nil {
				t.Fatalf("stream error %v (events %q)", r.err, r.events)
			}
			if len(r.ids) != 1 || r.usageChunks != 1 {
				t.Errorf("chunk ids %v, %d usage chunks", r.ids, r.usageChunks)
			}
			first = r.acc.ChatCompletion
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
		} else {
			cc, err := client.Chat.Completions.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			first = *cc
		}
		if len(first.Choices) != 1 {
			t.Fatalf("choices %+v", first.Choices)
		}
		msg := first.Choices[0].Message
		var got []string
		for _, tc := range msg.ToolCalls {
			if !json.Valid([]byte(tc.Function.Arguments)) || tc.Type != "function" {
				t.Errorf("tool call %+v: type or arguments invalid", tc)
			}
			got = append(got, tc.ID+" "+tc.Function.Name+" "+compactJSON([]byte(tc.Function.Arguments)))
		}
		if first.Choices[0].FinishReason != "tool_calls" || msg.Content != wt.text || !sameCalls(got, wt.calls) {
			t.Errorf("first turn: finish %q text %q calls %q, want tool_calls %q %q", first.Choices[0].FinishReason, msg.Content, got, wt.text, wt.calls)
		}
		if wt.usage != (oaUsage{}) && usageOf(first.Usage) != wt.usage {
			t.Errorf("first turn usage %v, want %v", usageOf(first.Usage), wt.usage)
		}

		// The second turn: the SDK's own message back, and a result for each call.
		params.Messages = append(params.Messages, msg.ToParam())
		var names []string
		for _, tc := range msg.ToolCalls {
			params.Messages = append(params.Messages, openai.ToolMessage("result of "+tc.Function.Name, tc.ID))
			names = append(names, tc.Function.Name)
		}
		second, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatalf("second turn: %v", err)
		}
		wantSecond := "Hello! How can I help you today?"
		if up == "ge" {
			wantSecond = "21°C now; sunny tomorrow, then rain."
		}
		if second.Choices[0].Message.Content != wantSecond || second.Choices[0].FinishReason != "stop" {
			t.Errorf("second turn %+v", second.Choices)
		}
		call := w.lastCall(t, up, worldHealthy[up].upstream)
		checkUpstreamAuth(t, call.Header, up)
		body := call.Body
		switch up {
		case "oa", "az":
			msgs := gjson.GetBytes(body, "messages")
			if got := msgs.Get("#.role").Raw; got != mustJSON(append([]string{"system", "user", "assistant"}, slices.Repeat([]string{"tool"}, len(names))...)) {
				t.Fatalf("upstream messages %s", msgs.Raw)
			}
			for i, tc := range msg.ToolCalls {
				back := msgs.Get("2.tool_calls." + strconv.Itoa(i))
				if back.Get("id").Str != tc.ID || back.Get("function.name").Str != tc.Function.Name || back.Get("function.arguments").Str != tc.Function.Arguments {
					t.Errorf("upstream tool call %d: %s", i, back.Raw)
				}
				if m := msgs.Get(strconv.Itoa(3 + i)); m.Get("tool_call_id").Str != tc.ID || contentText(m.Get("content")) != "result of "+tc.Function.Name {
					t.Errorf("upstream tool message %d: %s", i, m.Raw)
				}
			}
		case "an":
			var ids []string
			for _, tc := range msg.ToolCalls {
				ids = append(ids, tc.ID)
			}
			uses := gjson.GetBytes(body, `messages.1.content.#(type=="tool_use")#.id`).Raw
			results := gjson.GetBytes(body, `messages.2.content.#(type=="tool_result")#.tool_use_id`).Raw
			if uses != mustJSON(ids) || results != mustJSON(ids) {
				t.Errorf("upstream history: tool_use ids %s, tool_result ids %s, want %v: %s", uses, results, ids, gjson.GetBytes(body, "messages").Raw)
			}
		case "ge":
			checkGeminiToolTurn(t, body, names, wt.signature, func(name string) string { return `{"result":"result of ` + name + `"}` })
			if strings.Contains(string(body), "skip_thought_signature_validator") {
				t.Errorf("the placeholder signature was sent although the adapter issued the calls: %s", body)
			}
		}
	})
}

// §8 item 37: a Gemini 3 conversation of two tool turns through openai-go, which sends tool
// calls back without their extra_content. Turn 1 (streamed) makes a call, signed; turn 2, with
// its result and tool_choice required, makes two more (the first signed); turn 3 answers. Each
// request must carry every earlier call's signature (the fake Gemini refuses, as Gemini 3 does,
// a function call without one: the second and third turns would be a 400), tool results are
// functionResponse parts named after their calls, and finishReason STOP with a functionCall is
// tool_calls. A history whose calls this gateway never issued gets Google's placeholder instead,
// and is not refused either.
func TestOpenAISDKGeminiThoughtSignatures(t *testing.T) {
	t.Parallel()
	const sig1, sig2 = "EtQCCtECAdHtim9x", "CiQB0e2Kb3TmWqzRJ9h4fB8sKe6rVqk1Zx0X+2sFj6hQ3n4wcGQ="
	t.Run("two tool turns", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		client := worldClient(t, w)
		params := worldAsk("clearbar/ge")
		params.Tools = worldTools
		params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &openai.ChatCompletionNamedToolChoiceParam{
			Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_weather"}}}
		params.StreamOptions.IncludeUsage = openai.Bool(true)
		r := readOAStream(t, client, params)
		if r.err != nil {
			t.Fatal(r.err)
		}
		turn1 := r.acc.Choices[0]
		if turn1.FinishReason != "tool_calls" || len(turn1.Message.ToolCalls) != 1 || r.usageChunks != 1 || usageOf(r.acc.Usage) != (oaUsage{30, 60, 0, 48}) {
			t.Fatalf("turn 1: finish %q calls %+v, %d usage chunks, usage %v", turn1.FinishReason, turn1.Message.ToolCalls, r.usageChunks, usageOf(r.acc.Usage))
		}
		if gjson.GetBytes(w.ge.last(t, "gemini-3-up").Body, "toolConfig.functionCallingConfig").Raw != `{"mode":"ANY","allowedFunctionNames":["get_weather"]}` {
			t.Errorf("turn 1 toolConfig %s", gjson.GetBytes(w.ge.last(t, "gemini-3-up").Body, "toolConfig").Raw)
		}
		call1 := turn1.Message.ToolCalls[0]
		params.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
		params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
		params.Messages = append(params.Messages, turn1.Message.ToParam(), openai.ToolMessage(`{"temp_c": 21}`, call1.ID))

		turn2, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatalf("turn 2 (the signature of turn 1's call must come back): %v", err)
		}
		body := w.ge.last(t, "gemini-3-up").Body
		if got := gjson.GetBytes(body, "contents.1.parts.#(functionCall).thoughtSignature").Str; got != sig1 {
			t.Errorf("turn 2: turn 1's call came back with signature %q, want %q: %s", got, sig1, gjson.GetBytes(body, "contents").Raw)
		}
		if got := gjson.GetBytes(body, "contents.2.parts.0.functionResponse").Raw; compactJSON([]byte(got)) != `{"name":"get_weather","response":{"temp_c":21}}` {
			t.Errorf("turn 2: function response %s", got)
		}
		if gjson.GetBytes(body, "toolConfig.functionCallingConfig.mode").Str != "ANY" {
			t.Errorf("turn 2: tool_choice required is not mode ANY: %s", gjson.GetBytes(body, "toolConfig").Raw)
		}
		msg2 := turn2.Choices[0].Message
		if turn2.Choices[0].FinishReason != "tool_calls" || len(msg2.ToolCalls) != 2 || msg2.ToolCalls[0].Function.Name != "get_weather" || msg2.ToolCalls[1].Function.Name != "get_time" {
			t.Fatalf("turn 2: finish %q calls %+v", turn2.Choices[0].FinishReason, msg2.ToolCalls)
		}
		params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{}
		params.Messages = append(params.Messages, msg2.ToParam(),
			openai.ToolMessage("sunny", msg2.ToolCalls[0].ID), openai.ToolMessage("12:00", msg2.ToolCalls[1].ID))

		turn3, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatalf("turn 3 (the signatures of both tool turns must come back): %v", err)
		}
		if turn3.Choices[0].Message.Content != "21°C now; sunny tomorrow, then rain." || turn3.Choices[0].FinishReason != "stop" {
			t.Errorf("turn 3 %+v", turn3.Choices)
		}
		contents := gjson.GetBytes(w.ge.last(t, "gemini-3-up").Body, "contents")
		if got := contents.Get("#.role").Raw; got != `["user","model","user","model","user"]` {
			t.Fatalf("turn 3 contents %s", contents.Raw)
		}
		if s1, s2, s3 := contents.Get("1.parts.#(functionCall).thoughtSignature").Str, contents.Get("3.parts.0.thoughtSignature").Str, contents.Get("3.parts.1.thoughtSignature").Str; s1 != sig1 || s2 != sig2 || s3 != "" {
			t.Errorf("turn 3 signatures %q, %q, %q; want %q, %q and none on the parallel call", s1, s2, s3, sig1, sig2)
		}
		if got := contents.Get("4.parts.#.functionResponse.name").Raw; got != `["get_weather","get_time"]` {
			t.Errorf("turn 3 function responses named %s: %s", got, contents.Get("4").Raw)
		}
		if got := compactJSON([]byte(contents.Get("4.parts.1.functionResponse.response").Raw)); got != `{"result":"12:00"}` {
			t.Errorf("turn 3: a text result is %s", got)
		}
	})
	t.Run("calls from elsewhere", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		params := worldAsk("clearbar/ge")
		params.Tools = worldTools
		params.Messages = append(params.Messages,
			openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{
				{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: "call_from_another_gateway", Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "get_time", Arguments: `{"tz":"CET"}`}}},
			}}},
			openai.ToolMessage("12:00", "call_from_another_gateway"))
		client := worldClient(t, w)
		c, err := client.Chat.Completions.New(context.Background(), params)
		if err != nil {
			t.Fatalf("a history without signatures is refused: %v", err)
		}
		if c.Choices[0].FinishReason != "stop" {
			t.Errorf("choices %+v", c.Choices)
		}
		contents := gjson.GetBytes(w.ge.last(t, "gemini-3-up").Body, "contents")
		if got := contents.Get("1.parts.0.thoughtSignature").Str; got != "skip_thought_signature_validator" || contents.Get("2.parts.0.functionResponse.name").Str != "get_time" {
			t.Errorf("contents %s", contents.Raw)
		}
	})
}

// oaErrorCase is a failure of an upstream and what openai-go must make of it.
type oaErrorCase struct {
	category, explanation string
	status                int
	errType, code, param  string
	message               string
	// attempts is the number of requests the SDK makes (one upstream call each).
	attempts int
	// retryAfter says the gateway passes a short retry-after-ms on; noRetry that it says
	// x-should-retry: false.
	retryAfter, noRetry bool
}

// §8 items 13–18 for every adapter: each upstream's rejections, rate limits, overloads and spent
// quotas reach openai-go as *openai.Error with OpenAI's status, type, code and param and the
// upstream's message; the SDK retries rate limits and overloads (three attempts, retry counts
// 0, 1, 2, waiting the short retry-after-ms when the upstream gave one), never a rejection nor a
// spent quota (x-should-retry: false); retry-after never exceeds 60 s. Each failure is tried as a
// completion and as a stream (failing before the first byte).
func TestOpenAISDKEveryAdapterErrors(t *testing.T) {
	t.Parallel()
	tests := []oaErrorCase{
		{"oa-reject", "OpenAI's 400 naming the parameter", 400, "invalid_request_error", "decimal_above_max_value", "temperature", "Invalid value for 'temperature'", 1, false, false},
		{"an-reject", "Anthropic's invalid_request_error", 400, "invalid_request_error", "", "", "roles must alternate", 1, false, false},
		{"ge-reject", "Gemini's INVALID_ARGUMENT", 400, "invalid_request_error", "invalid_argument", "", "Invalid value at 'generation_config.temperature'", 1, false, false},
		{"az-reject", "Azure's content filter refusing the prompt", 400, "invalid_request_error", "content_filter", "prompt", "content management policy", 1, false, false},
		{"oa-limited", "OpenAI's 429 with retry-after-ms 50", 429, "rate_limit_error", "rate_limit_exceeded", "", "Rate limit reached", 3, true, false},
		{"an-limited", "Anthropic's rate_limit_error with a short retry-after", 429, "rate_limit_error", "rate_limited", "", "exceed the rate limit", 3, true, false},
		{"ge-limited", "Gemini's RESOURCE_EXHAUSTED with a short retryDelay", 429, "rate_limit_error", "resource_exhausted", "", "You exceeded your current quota", 3, true, false},
		{"az-limited", "Azure's token-rate 429 with a short retry-after-ms", 429, "rate_limit_error", "429", "", "exceeded token rate limit", 3, true, false},
		{"oa-down", "an empty 500: the SDK's own backoff", 503, "server_error", "overloaded", "", "500 Internal Server Error", 3, false, false},
		{"an-down", "Anthropic's 529 overloaded_error with a short retry-after", 503, "server_error", "overloaded", "", "Overloaded", 3, true, false},
		{"ge-down", "Gemini's UNAVAILABLE: the SDK's own backoff", 503, "server_error", "unavailable", "", "The model is overloaded", 3, false, false},
		{"az-down", "Azure's 500 server_error: the SDK's own backoff", 503, "server_error", "overloaded", "", "The server had an error", 3, false, false},
		{"oa-broke", "OpenAI's insufficient_quota", 429, "rate_limit_error", "insufficient_quota", "", "exceeded your current quota", 1, false, true},
		{"an-broke", "Anthropic's billing_error", 429, "rate_limit_error", "insufficient_quota", "", "out of credits", 1, false, true},
		{"ge-broke", "Gemini's spent per-day quota", 429, "rate_limit_error", "insufficient_quota", "", "exceeded your current quota", 1, false, true},
	}
	byName := map[string]oaErrorCase{}
	var cases []string
	for _, tc := range tests {
		byName[tc.category] = tc
		cases = append(cases, tc.category+"/complete", tc.category+"/stream")
	}
	forEachKind(t, cases, func(t *testing.T, w *world, c string) {
		category, mode, _ := strings.Cut(c, "/")
		tc := byName[category]
		client := worldClient(t, w)
		var attempts attemptLog
		start := time.Now()
		var err error
		if mode == "stream" {
			s := client.Chat.Completions.NewStreaming(context.Background(), worldAsk("clearbar/"+category), attempts.option())
			for s.Next() {
				t.Errorf("a chunk from a failed stream: %s", s.Current().RawJSON())
			}
			err = s.Err()
			s.Close()
		} else {
			_, err = client.Chat.Completions.New(context.Background(), worldAsk("clearbar/"+category), attempts.option())
		}
		elapsed := time.Since(start)
		ae := apiError(t, err)
		if ae.StatusCode != tc.status || ae.Type != tc.errType || ae.Code != tc.code || ae.Param != tc.param || !strings.Contains(ae.Message, tc.message) {
			t.Errorf("%s: status %d type %q code %q param %q message %q; want %d %q %q %q containing %q",
				tc.explanation, ae.StatusCode, ae.Type, ae.Code, ae.Param, ae.Message, tc.status, tc.errType, tc.code, tc.param, tc.message)
		}
		h := ae.Response.Header
		// An error names the category; the model it tried is in the decision.
		checkDecisionHeaders(t, h, category, "", "1")
		want := []string{"0", "1", "2"}[:tc.attempts]
		if got := w.inbound.retryCounts(); !slices.Equal(got, want) {
			t.Errorf("%s: X-Stainless-Retry-Count %v, want %v", tc.explanation, got, want)
		}
		if got := slices.Repeat([]int{tc.status}, tc.attempts); !slices.Equal(attempts.statuses, got) {
			t.Errorf("%s: attempts answered %v, want %v", tc.explanation, attempts.statuses, got)
		}
		if n := w.upstreamCount(); n != tc.attempts {
			t.Errorf("%s: %d upstream calls, want %d (the gateway retries nothing here)", tc.explanation, n, tc.attempts)
		}
		ms, _ := strconv.Atoi(h.Get("Retry-After-Ms"))
		switch {
		case tc.retryAfter && (ms <= 0 || ms > 100):
			t.Errorf("%s: retry-after-ms %q, want the upstream's short wait", tc.explanation, h.Get("Retry-After-Ms"))
		case tc.retryAfter && elapsed > time.Second:
			t.Errorf("%s: %d attempts took %v: the SDK did not wait the gateway's retry-after-ms", tc.explanation, tc.attempts, elapsed)
		case !tc.retryAfter && h.Get("Retry-After-Ms") != "":
			t.Errorf("%s: retry-after-ms %q", tc.explanation, h.Get("Retry-After-Ms"))
		}
		if got := h.Get("X-Should-Retry"); (got == "false") != tc.noRetry {
			t.Errorf("%s: x-should-retry %q", tc.explanation, got)
		}
		if s := h.Get("Retry-After"); s != "" {
			if secs, err := strconv.Atoi(s); err != nil || secs > 60 {
				t.Errorf("%s: retry-after %q (§8 item 18)", tc.explanation, s)
			}
		}
		for _, key := range []string{worldOAKey, worldANKey, worldGEKey, worldAZKey} {
			if strings.Contains(ae.RawJSON(), key) {
				t.Errorf("an upstream key in the error: %s", ae.RawJSON())
			}
		}
		kind, failure, _ := strings.Cut(category, "-")
		d := w.decision(t, h.Get("X-Clearbar-Decision-Id"))
		if d.Outcome == clearbar.OK || len(d.Attempts) != 1 || d.Attempts[0].Model != worldHealthy[kind].model+"-"+failure {
			t.Errorf("decision outcome %s attempts %+v", d.Outcome, d.Attempts)
		}
	})
}

// §8 item 19 for every adapter: a stream that fails after its first byte (the upstream's error
// event or chunk, or a connection reset) ends with an error event the SDK reports as a
// *ssestream.StreamError, never as a clean end: no [DONE], the text that came before
// accumulated, no finish reason, and the SDK does not retry. (an-reset's upstream resets
// before any of the answer: TestSDKStreamResetBeforeAnswer.)
func TestOpenAISDKEveryAdapterCutStream(t *testing.T) {
	t.Parallel()
	texts := map[string]string{
		"oa-cut": "Partial", "an-cut": "Partial", "ge-cut": "Part", "az-cut": "Sure,",
		"oa-reset": "Once upon", "ge-reset": "Once upon", "az-reset": "Once",
	}
	cases := []string{"oa-cut", "an-cut", "ge-cut", "az-cut", "oa-reset", "ge-reset", "az-reset"}
	forEachKind(t, cases, func(t *testing.T, w *world, category string) {
		r := readOAStream(t, worldClient(t, w), worldAsk("clearbar/"+category))
		var se *ssestream.StreamError
		if !errors.As(r.err, &se) {
			t.Fatalf("stream error %v (%T), want *ssestream.StreamError (events %q)", r.err, r.err, r.events)
		}
		text, finish := "", ""
		if len(r.acc.Choices) > 0 {
			text, finish = r.acc.Choices[0].Message.Content, r.acc.Choices[0].FinishReason
		}
		if text != texts[category] || finish != "" {
			t.Errorf("text %q finish %q before the cut, want %q and none", text, finish, texts[category])
		}
		last := r.events[len(r.events)-1]
		if slices.Contains(r.events, "[DONE]") || !gjson.Get(last, "error.message").Exists() || gjson.Get(last, "error.type").Str != "server_error" {
			t.Errorf("events %q", r.events)
		}
		if got := w.inbound.retryCounts(); !slices.Equal(got, []string{"0"}) {
			t.Errorf("X-Stainless-Retry-Count %v: the SDK retried a stream that had begun", got)
		}
		if d := w.decision(t, r.header.Get("X-Clearbar-Decision-Id")); d.Outcome != clearbar.StreamCut {
			t.Errorf("decision outcome %s", d.Outcome)
		}
	})
}

// §8 items 19 and 21 at their boundary: an upstream stream that resets after its opening event
// (Anthropic's message_start, a role-only chunk in OpenAI's format), before any of the
// answer, has sent the client nothing, since the gateway holds such blank chunks back. With a
// fallback the client gets the fallback's whole answer as one 200 stream, openai-go and
// anthropic-sdk-go alike; without one, the error status of a failure before the first byte,
// not a 200 stream cut short.
func TestSDKStreamResetBeforeAnswer(t *testing.T) {
	t.Parallel()
	checkFellBack := func(t *testing.T, w *world, h http.Header) {
		t.Helper()
		if h.Get("X-Clearbar-Model") != "claude" || h.Get("X-Clearbar-Attempts") != "2" {
			t.Errorf("headers model %q attempts %q, want the fallback's after 2", h.Get("X-Clearbar-Model"), h.Get("X-Clearbar-Attempts"))
		}
		d := w.decision(t, h.Get("X-Clearbar-Decision-Id"))
		if got := attemptClasses(d); d.Outcome != clearbar.OK || !slices.Equal(got, []string{"claude-reset:stream_cut", "claude:ok"}) || d.Attempts[1].Kind != clearbar.AttemptFallback {
			t.Errorf("decision outcome %s attempts %v", d.Outcome, got)
		}
		if got := w.inbound.retryCounts(); !slices.Equal(got, []string{"0"}) {
			t.Errorf("X-Stainless-Retry-Count %v: one request, answered", got)
		}
	}
	t.Run("openai-go, with a fallback", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		r := readOAStream(t, worldClient(t, w), worldAsk("clearbar/an-reset-fallback"))
		if r.err != nil {
			t.Fatalf("%v (events %q)", r.err, r.events)
		}
		if c := r.acc.Choices[0]; c.Message.Content != "Hello there!" || c.FinishReason != "stop" || len(r.ids) != 1 {
			t.Errorf("content %q finish %q ids %v: want the fallback's whole answer, in one stream", c.Message.Content, c.FinishReason, r.ids)
		}
		checkFellBack(t, w, r.header)
	})
	t.Run("openai-go, without a fallback", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		client := worldClient(t, w)
		s := client.Chat.Completions.NewStreaming(context.Background(), worldAsk("clearbar/an-reset"), option.WithMaxRetries(0))
		chunks := 0
		for s.Next() {
			chunks++
		}
		s.Close()
		var ae *openai.Error
		if err := s.Err(); !errors.As(err, &ae) || ae.StatusCode != http.StatusBadGateway || chunks != 0 {
			t.Fatalf("error %v (%T) after %d chunks, want a 502 before the stream", err, err, chunks)
		}
		if d := w.decision(t, ae.Response.Header.Get("X-Clearbar-Decision-Id")); d.Outcome != clearbar.StreamCut || d.Status != http.StatusBadGateway || d.TTFB != 0 {
			t.Errorf("decision outcome %s status %d ttfb %v", d.Outcome, d.Status, d.TTFB)
		}
	})
	forEachSDK(t, []string{"an-reset-fallback", "an-reset"}, func(t *testing.T, w *world, sdk antSDK, category string) {
		r, err := sdk.send(context.Background(), antAsk{model: "clearbar/" + category}, true)
		if category == "an-reset" {
			if ae, ok := sdk.apiError(err); !ok || ae.Status != http.StatusBadGateway || len(r.Events) != 0 {
				t.Fatalf("%v (status %d) after events %v, want a 502 before the stream", err, ae.Status, r.Events)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Text != "Hello there!" || r.StopReason != "end_turn" {
			t.Errorf("text %q stop %q: want the fallback's whole answer", r.Text, r.StopReason)
		}
		checkFellBack(t, w, r.Header)
	})
}

// madeStreamIDPattern is the form of the stream ids the Azure adapter makes.
var madeStreamIDPattern = regexp.MustCompile(`^chatcmpl-[0-9a-f]{24}$`)

// §8 items 23 and 38: Azure's stream quirks never reach the client raw. The empty first chunk
// (no id, model, object, choices; the prompt_filter_results) is dropped; the asynchronous
// filter's annotation chunks (empty id, object and model, choices without a delta) are dropped,
// or, when one carries the finish reason content_filter, given the stream's identity; a stream
// whose first chunk has no id gets one, and the deployment as its model, on every chunk. Every
// chunk on the wire has one non-empty id, object chat.completion.chunk, one non-empty model and
// a created time, and openai-go's accumulator keeps the right finish reason.
func TestOpenAISDKAzureStreamChunks(t *testing.T) {
	t.Parallel()
	type want struct {
		id, model, text, finish string
		chunks                  int // content and finish chunks, without the usage chunk
		usage                   oaUsage
	}
	wants := map[string]want{
		"az":          {"chatcmpl-Azs1", "gpt-4o-2024-11-20", "Hello there", "stop", 3, oaUsage{12, 3, 0, 0}},
		"az-async":    {"chatcmpl-async", "gpt-4o-2024-11-20", "Once upon a time", "stop", 3, oaUsage{}},
		"az-noid":     {"", "az-noid", "Hi there", "stop", 3, oaUsage{}},
		"az-filtered": {"chatcmpl-blocked", "gpt-4o", "Here is how", "content_filter", 2, oaUsage{}},
	}
	forEachKind(t, []string{"az", "az-async", "az-noid", "az-filtered"}, func(t *testing.T, w *world, category string) {
		wt := wants[category]
		params := worldAsk("clearbar/" + category)
		params.StreamOptions.IncludeUsage = openai.Bool(true)
		r := readOAStream(t, worldClient(t, w), params)
		if r.err != nil {
			t.Fatalf("stream error %v (events %q)", r.err, r.events)
		}
		if r.events[len(r.events)-1] != "[DONE]" {
			t.Errorf("the stream does not end with [DONE]: %q", r.events)
		}
		var ids, models []string
		for _, ev := range r.events[:len(r.events)-1] {
			c := gjson.Parse(ev)
			id, model := c.Get("id").Str, c.Get("model").Str
			if id == "" || model == "" || c.Get("object").Str != "chat.completion.chunk" || c.Get("created").Int() == 0 {
				t.Errorf("a chunk without the stream's identity: %s", ev)
			}
			ids, models = append(ids, id), append(models, model)
			if c.Get("prompt_filter_results").Exists() {
				t.Errorf("Azure's prompt filter chunk was forwarded: %s", ev)
			}
			if !c.Get("usage").IsObject() && c.Get("choices.#").Int() == 0 {
				t.Errorf("a chunk with nothing in it: %s", ev)
			}
			c.Get("choices").ForEach(func(_, ch gjson.Result) bool {
				if !ch.Get("delta").Exists() && ch.Get("finish_reason").Type == gjson.Null {
					t.Errorf("an annotation-only chunk was forwarded: %s", ev)
				}
				return true
			})
		}
		if distinct(ids) != 1 || distinct(models) != 1 {
			t.Errorf("chunk ids %q models %q: not one each", ids, models)
		}
		if id := ids[0]; (wt.id != "" && id != wt.id) || (wt.id == "" && !madeStreamIDPattern.MatchString(id)) || models[0] != wt.model {
			t.Errorf("id %q model %q, want %q %q", id, models[0], cmpOr(wt.id, "an id of the adapter's making"), wt.model)
		}
		cc := r.acc.ChatCompletion
		if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != wt.text || cc.Choices[0].FinishReason != wt.finish {
			t.Errorf("accumulated choices %+v, want %q %q", cc.Choices, wt.text, wt.finish)
		}
		// The usage chunk: the upstream's, when it sent one (these recordings of the
		// asynchronous filter have none; the gateway may then omit it, or count its own).
		if r.usageChunks > 1 || (r.usageChunks == 1 && (!r.usageLast || r.usageChoice)) {
			t.Errorf("%d usage chunks (last %v, with choices %v)", r.usageChunks, r.usageLast, r.usageChoice)
		}
		if wt.usage != (oaUsage{}) && (r.usageChunks != 1 || usageOf(r.acc.Usage) != wt.usage) {
			t.Errorf("%d usage chunks, usage %v, want one with %v", r.usageChunks, usageOf(r.acc.Usage), wt.usage)
		}
		if n := r.chunks - r.usageChunks; n != wt.chunks {
			t.Errorf("%d chunks besides usage, want %d", n, wt.chunks)
		}
		if u := r.acc.Usage; u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Errorf("inconsistent usage %+v", u)
		}
		if d := w.decision(t, r.header.Get("X-Clearbar-Decision-Id")); d.Outcome != clearbar.OK {
			t.Errorf("decision outcome %s", d.Outcome)
		}
	})
}

// distinct returns the number of distinct strings in xs.
func distinct(xs []string) int {
	seen := map[string]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}

// cmpOr returns s, or def when s is empty.
func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
