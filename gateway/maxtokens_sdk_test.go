package gateway_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/tidwall/gjson"
)

// §8 item 11: an upstream that stops at the token limit: openai-go sees finish_reason
// "length", streamed and not; max_tokens and max_completion_tokens both reach an
// openai-compatible upstream as max_tokens, the name every such server knows (type openai
// and Azure OpenAI get max_completion_tokens instead; provider/openai tests each name).
func TestSDKFinishReasonLength(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		id := callID(c)
		if !c.Stream {
			writeBody(w, 200, "application/json", `{"id":`+js(id)+`,"object":"chat.completion","created":1741569952,"model":`+js(c.Model)+
				`,"choices":[{"index":0,"message":{"role":"assistant","content":"The answer is cut","refusal":null},"logprobs":null,"finish_reason":"length"}],`+
				`"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)
			return
		}
		s := openSSE(w)
		s.data(chunk(id, c.Model, `{"role":"assistant","content":"The answer"}`, "", ""))
		s.data(chunk(id, c.Model, `{"content":" is cut"}`, "", ""))
		s.data(chunk(id, c.Model, `{}`, "length", ""))
		if c.includeUsage() {
			s.data(usageChunk(id, c.Model, usageJSON(9, 7)))
		}
		s.done()
	}})
	for _, tc := range []struct {
		name, key, other string
		set              func(p *openai.ChatCompletionNewParams)
	}{
		{"max_tokens", "max_tokens", "max_completion_tokens", func(p *openai.ChatCompletionNewParams) { p.MaxTokens = openai.Int(7) }},
		{"max_completion_tokens", "max_tokens", "max_completion_tokens", func(p *openai.ChatCompletionNewParams) { p.MaxCompletionTokens = openai.Int(7) }},
	} {
		for _, stream := range []bool{false, true} {
			p := openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("Write a long essay.")}
			tc.set(&p)
			var finish, content string
			if stream {
				s := e.client.Chat.Completions.NewStreaming(context.Background(), p)
				var acc openai.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				if err := s.Err(); err != nil {
					t.Fatalf("%s stream: %v", tc.name, err)
				}
				finish, content = acc.Choices[0].FinishReason, acc.Choices[0].Message.Content
			} else {
				resp, err := e.client.Chat.Completions.New(context.Background(), p)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				finish, content = resp.Choices[0].FinishReason, resp.Choices[0].Message.Content
			}
			if finish != "length" || content != "The answer is cut" {
				t.Errorf("%s, stream %v: finish_reason %q content %q", tc.name, stream, finish, content)
			}
			calls := e.up.received()
			body := calls[len(calls)-1].Body
			if gjson.GetBytes(body, tc.key).Raw != "7" || gjson.GetBytes(body, tc.other).Exists() {
				t.Errorf("%s, stream %v: the upstream got %s=%s %s=%s", tc.name, stream,
					tc.key, gjson.GetBytes(body, tc.key).Raw, tc.other, gjson.GetBytes(body, tc.other).Raw)
			}
		}
	}
	for _, d := range e.decisions.waitCount(t, 4) {
		if d.Outcome.String() != "ok" || d.Usage.CompletionTokens != 7 {
			t.Errorf("decision %s: outcome %s usage %+v", d.ID, d.Outcome, d.Usage)
		}
	}
}
