package openai

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestSearchModelSearches: a chat completion that asked for web search (web_search_options)
// or that a search model answered counts one search, at the context size the request asked
// for, in an answer and in a stream; one that did neither counts none.
func TestSearchModelSearches(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		model := gjson.GetBytes(body, "model").Str
		usage := `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}`
		if gjson.GetBytes(body, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"`+model+`","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`+"\n\n")
			io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"`+model+`","choices":[],"usage":`+usage+`}`+"\n\ndata: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"`+model+`","choices":[{"index":0,"message":{"role":"assistant","content":"ok","annotations":[]},"finish_reason":"stop"}],"usage":`+usage+`}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeOpenAI, "k")
	tokens := clearbar.Usage{PromptTokens: 10, CompletionTokens: 5}
	for _, tt := range []struct {
		name, model, options string
		searches             int
		size                 string
	}{
		{"search options, high context", "gpt-4o-search-preview", `,"web_search_options":{"search_context_size":"high"}`, 1, "high"},
		{"search options, default context", "gpt-4o-mini-search-preview", `,"web_search_options":{}`, 1, ""},
		{"a search model without options", "gpt-4o-search-preview-2025-03-11", ``, 1, ""},
		{"no search", "gpt-4o-mini", ``, 0, ""},
	} {
		want := tokens
		want.WebSearches, want.WebSearchContext = tt.searches, tt.size
		for _, stream := range []bool{false, true} {
			body := `{"model":"` + tt.model + `","messages":[{"role":"user","content":"news?"}]` + tt.options + `}`
			call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: []byte(body), Stream: stream}, Model: tt.model}
			var got clearbar.Usage
			if stream {
				s, err := p.Stream(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				for s.Next() {
					if u := s.Chunk().Usage; u != nil {
						got = *u
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				s.Close()
			} else {
				r, err := p.Complete(context.Background(), call)
				if err != nil {
					t.Fatal(err)
				}
				got = r.Usage
			}
			if got != want {
				t.Errorf("%s (stream %v): usage %+v, want %+v", tt.name, stream, got, want)
			}
		}
	}
}
