package gemini_test

// End-to-end: the real openai-go client talks to the gateway, which routes to the Gemini adapter,
// which talks to a scripted fake Gemini API. This is item 37 of the API conformance checklist:
// tool name lookup for tool results, the thought signature round trip across two tool turns of
// a Gemini 3 model, finishReason STOP with a functionCall as tool_calls, and cumulative usage
// reported once.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/gemini"
	"github.com/clearbar/clearbar/spec"
)

const sdkSpec = `version: 1
name: gemini-sdk
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0}
providers:
  google: {type: gemini, base_url: "%s"}
models:
  g3: {provider: google, model: gemini-3-pro-preview, price: {input: 2, output: 12}, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: agent
    default: true
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route: {model: g3}
    assume: {pass_rate: {g3: 0.9}}
`

// fakeGemini answers the first turn of each conversation with two parallel function calls (the
// first signed), and a later turn with text, after checking what came back.
type fakeGemini struct {
	t      *testing.T
	mu     sync.Mutex
	bodies []string
}

func (f *fakeGemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	stream := strings.HasSuffix(r.URL.Path, ":streamGenerateContent")
	turns := gjson.GetBytes(body, "contents.#").Int()
	var events []string
	if turns == 1 {
		events = []string{
			`{"candidates":[{"content":{"parts":[{"text":"Checking."}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":2,"totalTokenCount":52},"modelVersion":"gemini-3-pro-preview","responseId":"turn-1"}`,
			`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"SIG-TURN-1"},{"functionCall":{"name":"get_time","args":{"tz":"CET"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":20,"thoughtsTokenCount":30,"totalTokenCount":100},"modelVersion":"gemini-3-pro-preview","responseId":"turn-1"}`,
		}
	} else {
		events = []string{
			`{"candidates":[{"content":{"parts":[{"text":"Sunny, 21°C, and it is noon."}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":9,"totalTokenCount":89},"modelVersion":"gemini-3-pro-preview","responseId":"turn-2"}`,
		}
	}
	if !stream {
		w.Header().Set("Content-Type", "application/json")
		// A whole answer is the last event with every part (the events here only add parts).
		var parts []string
		for _, ev := range events {
			gjson.Get(ev, "candidates.0.content.parts").ForEach(func(_, p gjson.Result) bool {
				parts = append(parts, p.Raw)
				return true
			})
		}
		last := events[len(events)-1]
		fmt.Fprintf(w, `{"candidates":[{"content":{"parts":[%s],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":%s,"modelVersion":"gemini-3-pro-preview","responseId":%s}`,
			strings.Join(parts, ","), gjson.Get(last, "usageMetadata").Raw, gjson.Get(last, "responseId").Raw)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range events {
		fmt.Fprintf(w, "data: %s\r\n\r\n", ev)
		w.(http.Flusher).Flush()
	}
}

func newSDKGateway(t *testing.T) (*openai.Client, *fakeGemini) {
	t.Helper()
	fg := &fakeGemini{t: t}
	up := httptest.NewServer(fg)
	t.Cleanup(up.Close)
	s, err := spec.Parse([]byte(fmt.Sprintf(sdkSpec, up.URL)), "gemini-sdk.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp := *s.Provider("google")
	sp.APIKey = spec.SecretRef{Secret: clearbar.NewSecret("AIza-test-key-000000000000000000000")}
	gp, err := gemini.New(provider.Config{Provider: &sp, Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Spec: s, Providers: map[string]clearbar.Provider{"google": gp}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("client"), option.WithMaxRetries(0))
	return &c, fg
}

var sdkTools = []openai.ChatCompletionToolUnionParam{
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather", Parameters: openai.FunctionParameters{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}}),
	openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_time", Parameters: openai.FunctionParameters{
		"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}}}}),
}

// TestSDKToolTurns runs two tool turns with openai-go, streamed and not: the assistant message
// the SDK hands back (ToParam) carries the signature to the next turn, the tool results are named
// after their calls, and usage is reported once.
func TestSDKToolTurns(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", streamed), func(t *testing.T) {
			c, fg := newSDKGateway(t)
			ctx := context.Background()
			params := openai.ChatCompletionNewParams{
				Model:    "clearbar/agent",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather and time in Paris?")},
				Tools:    sdkTools,
			}
			var first *openai.ChatCompletion
			if streamed {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
				s := c.Chat.Completions.NewStreaming(ctx, params)
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					if !acc.AddChunk(s.Current()) {
						t.Fatalf("the accumulator refused chunk %s", s.Current().RawJSON())
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				first = &acc.ChatCompletion
			} else {
				var err error
				if first, err = c.Chat.Completions.New(ctx, params); err != nil {
					t.Fatal(err)
				}
			}
			msg := first.Choices[0].Message
			if first.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != 2 || msg.ToolCalls[0].Function.Name != "get_weather" || msg.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
				t.Fatalf("first turn: finish %q, calls %+v", first.Choices[0].FinishReason, msg.ToolCalls)
			}
			if u := first.Usage; u.PromptTokens != 50 || u.CompletionTokens != 50 || u.CompletionTokensDetails.ReasoningTokens != 30 {
				t.Errorf("usage %+v (must be counted once)", u)
			}
			// The second turn: the SDK's own assistant message, and a result for each call.
			params.Messages = append(params.Messages, msg.ToParam(),
				openai.ToolMessage(`{"temp_c":21,"sky":"sunny"}`, msg.ToolCalls[0].ID),
				openai.ToolMessage("12:00", msg.ToolCalls[1].ID))
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{}
			second, err := c.Chat.Completions.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if got := second.Choices[0].Message.Content; got != "Sunny, 21°C, and it is noon." {
				t.Errorf("second turn: %q", got)
			}
			fg.mu.Lock()
			turn2 := fg.bodies[len(fg.bodies)-1]
			fg.mu.Unlock()
			model := gjson.Get(turn2, "contents.1")
			if model.Get("role").Str != "model" || model.Get("parts.#(functionCall.name==get_weather).thoughtSignature").Str != "SIG-TURN-1" {
				t.Errorf("the signature did not come back through openai-go: %s", model.Raw)
			}
			results := gjson.Get(turn2, "contents.2.parts")
			if results.Get("0.functionResponse.name").Str != "get_weather" || results.Get("1.functionResponse.name").Str != "get_time" ||
				results.Get("0.functionResponse.response.temp_c").Int() != 21 || results.Get("1.functionResponse.response.result").Str != "12:00" {
				t.Errorf("tool results: %s", results.Raw)
			}
		})
	}
}
