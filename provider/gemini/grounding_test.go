package gemini

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
)

// groundedCandidate is a candidate answer grounded in two Google Search queries.
const groundedCandidate = `{"content":{"role":"model","parts":[{"text":"Spain won."}]},"finishReason":"STOP","index":0,"groundingMetadata":{"webSearchQueries":["who won euro 2024","euro 2024 final"],"searchEntryPoint":{"renderedContent":"<div></div>"},"groundingChunks":[{"web":{"uri":"https://example.com","title":"example.com"}}]}}`

// TestGroundingSearches: the queries of an answer grounded with Google Search are counted
// into the usage as web searches, in one grounded prompt, in an answer and in a stream.
func TestGroundingSearches(t *testing.T) {
	const usage = `"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "streamGenerateContent") {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Spain"}]},"index":0}],"modelVersion":"gemini-2.5-flash"}`+"\n\n")
			io.WriteString(w, `data: {"candidates":[`+strings.Replace(groundedCandidate, `"Spain won."`, `" won."`, 1)+`],`+usage+`,"modelVersion":"gemini-2.5-flash"}`+"\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[`+groundedCandidate+`],`+usage+`,"modelVersion":"gemini-2.5-flash","responseId":"r1"}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, providertest.APIKey)
	want := clearbar.Usage{PromptTokens: 10, CompletionTokens: 5, WebSearches: 2, GroundedPrompts: 1}
	call := &clearbar.Call{Request: &clearbar.Request{Body: []byte(providertest.DefaultBody)}, Model: "gemini-2.5-flash"}

	r, err := p.Complete(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	if r.Usage != want {
		t.Errorf("answer's usage = %+v, want %+v", r.Usage, want)
	}

	s, err := p.Stream(context.Background(), call)
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
