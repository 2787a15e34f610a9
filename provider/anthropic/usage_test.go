package anthropic

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// cacheSplitUsage is the usage of an answer that wrote 2,000 prompt tokens to the cache, 1,500
// of them for an hour, as Anthropic reports it: cache_creation_input_tokens is the total and
// cache_creation splits it by lifetime.
const cacheSplitUsage = `{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":500,"ephemeral_1h_input_tokens":1500},"output_tokens":10,"service_tier":"standard"}`

// TestCacheWrite1hUsage: the 1-hour cache writes are read from cache_creation, as part of the
// cache writes, in an answer and in a stream (whose message_delta repeats the usage), and an
// OpenAI client sees them beside cache_write_tokens.
func TestCacheWrite1hUsage(t *testing.T) {
	want := clearbar.Usage{PromptTokens: 6100, CompletionTokens: 10, CachedTokens: 4000, CacheWriteTokens: 2000, CacheWrite1hTokens: 1500}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if gjson.GetBytes(body, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"+
				`{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":500,"ephemeral_1h_input_tokens":1500},"output_tokens":1}`+"}}\n\n"+
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"+
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"+
				"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"+
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":"+cacheSplitUsage+"}\n\n"+
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_c","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":`+cacheSplitUsage+`}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, "", "k")
	call := func(stream bool) *clearbar.Call {
		return &clearbar.Call{Request: &clearbar.Request{Model: "m", MaxTokens: 16, N: 1, Stream: stream,
			Messages: []clearbar.Message{{Role: "user", Text: "hi"}}}, Model: "claude-x"}
	}

	r, err := p.Complete(context.Background(), call(false))
	if err != nil {
		t.Fatal(err)
	}
	if r.Usage != want {
		t.Errorf("answer's usage = %+v, want %+v", r.Usage, want)
	}
	details := gjson.GetBytes(r.Body, "usage.prompt_tokens_details")
	if details.Get("cache_write_tokens").Int() != 2000 || details.Get("cache_write_1h_tokens").Int() != 1500 {
		t.Errorf("the OpenAI client's prompt_tokens_details = %s, want cache_write_tokens 2000 and cache_write_1h_tokens 1500", details.Raw)
	}

	s, err := p.Stream(context.Background(), call(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got *clearbar.Usage
	for s.Next() {
		if u := s.Chunk().Usage; u != nil {
			c := *u
			got = &c
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if got == nil || *got != want {
		t.Errorf("stream's usage = %+v, want %+v", got, want)
	}
}
