package azure_test

// End-to-end: openai-go talks to the gateway, which routes to the Azure adapter, which talks to a
// scripted fake Azure OpenAI deployment sending the asynchronous filter's stream (§8 item 23):
// the accumulator must take every chunk, keep finish_reason "stop" and count usage once.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/azure"
	"github.com/clearbar/clearbar/spec"
)

const sdkSpec = `version: 1
name: azure-sdk
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0}
providers:
  az: {type: azure-openai, base_url: "%s", api_version: "2024-10-21"}
models:
  prod: {provider: az, model: gpt4o-prod, price: {input: 2.5, output: 10}, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: chat
    default: true
    share: 1
    tokens: {in: 100, out: 50}
    quality_bar: 0.5
    route: {model: prod}
    assume: {pass_rate: {prod: 0.9}}
`

var azureStream = []string{
	`{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}`,
	`{"choices":[{"delta":{"content":"Once upon","role":"assistant"},"finish_reason":null,"index":0}],"created":1741290958,"id":"chatcmpl-async","model":"gpt-4o","object":"chat.completion.chunk"}`,
	`{"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":9},"content_filter_results":{},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}`,
	`{"choices":[{"delta":{"content":" a time"},"finish_reason":null,"index":0}],"created":1741290958,"id":"chatcmpl-async","model":"gpt-4o","object":"chat.completion.chunk"}`,
	`{"choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":1741290958,"id":"chatcmpl-async","model":"gpt-4o","object":"chat.completion.chunk"}`,
	`{"choices":[{"content_filter_offsets":{"check_offset":9,"start_offset":9,"end_offset":16},"content_filter_results":{},"finish_reason":null,"index":0}],"created":0,"id":"","model":"","object":""}`,
	`{"choices":[],"created":1741290958,"id":"chatcmpl-async","model":"gpt-4o","object":"chat.completion.chunk","usage":{"completion_tokens":4,"prompt_tokens":9,"total_tokens":13}}`,
	`[DONE]`,
}

func TestSDKAsyncFilterStream(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/openai/deployments/gpt4o-prod/chat/completions" || r.Header.Get("Api-Key") != "azure-key" {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range azureStream {
			fmt.Fprintf(w, "data: %s\n\n", ev)
		}
	}))
	defer up.Close()
	s, err := spec.Parse([]byte(fmt.Sprintf(sdkSpec, up.URL)), "azure-sdk.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp := *s.Provider("az")
	sp.APIKey = spec.SecretRef{Secret: clearbar.NewSecret("azure-key")}
	ap, err := azure.New(provider.Config{Provider: &sp, Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Options{Spec: s, Providers: map[string]clearbar.Provider{"az": ap}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("client"), option.WithMaxRetries(0))
	stream := c.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model:         "prod",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	var acc openai.ChatCompletionAccumulator
	n := 0
	for stream.Next() {
		n++
		if !acc.AddChunk(stream.Current()) {
			t.Fatalf("the accumulator refused chunk %d: %s", n, stream.Current().RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	cc := acc.ChatCompletion
	if cc.ID != "chatcmpl-async" || cc.Choices[0].Message.Content != "Once upon a time" || cc.Choices[0].FinishReason != "stop" {
		t.Errorf("accumulated id %q content %q finish %q", cc.ID, cc.Choices[0].Message.Content, cc.Choices[0].FinishReason)
	}
	if cc.Usage.PromptTokens != 9 || cc.Usage.CompletionTokens != 4 {
		t.Errorf("usage %+v", cc.Usage)
	}
}
