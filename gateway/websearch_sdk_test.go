package gateway

import (
	"context"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"
)

// TestWebSearchCitationsReachOpenAISDK: an OpenAI client (openai-go) that asks for a web
// search on a route to an Anthropic model sends web_search_options; the upstream gets
// Anthropic's web search tool, and its answer's web citations reach the client as the
// message's url_citation annotations, complete and streamed, each spanning the cited text.
func TestWebSearchCitationsReachOpenAISDK(t *testing.T) {
	answer, err := os.ReadFile("../translate/testdata/to_openai_response/web_search.json")
	if err != nil {
		t.Fatal(err)
	}
	events, err := os.ReadFile("../translate/testdata/citations/web_search.sse")
	if err != nil {
		t.Fatal(err)
	}
	e := newAntEnv(t, "")
	e.an.answer(func(w http.ResponseWriter, c antCall) {
		if gjson.GetBytes(c.Body, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(events)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	client := openai.NewClient(option.WithBaseURL(e.srv.URL+"/v1"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:            "clearbar/an",
		Messages:         []openai.ChatCompletionMessageParamUnion{openai.UserMessage("When was Claude Shannon born?")},
		WebSearchOptions: openai.ChatCompletionNewParamsWebSearchOptions{SearchContextSize: "medium"},
	}
	type cite struct{ url, text string }
	cites := func(content string, anns []openai.ChatCompletionMessageAnnotation) []cite {
		runes := []rune(content)
		var out []cite
		for _, a := range anns {
			u := a.URLCitation
			if a.Type != "url_citation" || u.StartIndex < 0 || u.StartIndex > u.EndIndex || int(u.EndIndex) > len(runes) {
				t.Fatalf("annotation %+v outside the content (%d characters)", a, len(runes))
			}
			out = append(out, cite{u.URL, string(runes[u.StartIndex:u.EndIndex])})
		}
		return out
	}
	want := []cite{
		{"https://en.wikipedia.org/wiki/Claude_Shannon", "Claude Shannon was born on April 30, 1916, in Petoskey, Michigan"},
		{"https://www.britannica.com/biography/Claude-Shannon", "Claude Shannon was born on April 30, 1916, in Petoskey, Michigan"},
		{"https://www.britannica.com/biography/Claude-Shannon", "the father of information theory"},
	}

	resp, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if up := e.an.last(t).Body; gjson.GetBytes(up, `tools.#(name=="web_search").type`).String() != "web_search_20250305" {
		t.Errorf("the upstream got no web search tool: %s", up)
	}
	msg := resp.Choices[0].Message
	if got := cites(msg.Content, msg.Annotations); !slices.Equal(got, want) {
		t.Errorf("annotations cite %q, want %q\ncontent %q", got, want, msg.Content)
	}

	// Streamed: the content in deltas, the annotations in a delta of their own after the cited
	// text (openai-go's delta has no annotations field: they are read from its raw JSON).
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var content string
	var anns []openai.ChatCompletionMessageAnnotation
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			content += ch.Delta.Content
			for _, a := range gjson.Get(ch.Delta.RawJSON(), "annotations").Array() {
				var ann openai.ChatCompletionMessageAnnotation
				if err := ann.UnmarshalJSON([]byte(a.Raw)); err != nil {
					t.Fatalf("annotation %s: %v", a.Raw, err)
				}
				anns = append(anns, ann)
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if content != msg.Content {
		t.Errorf("streamed content %q, want the answer's %q", content, msg.Content)
	}
	if got := cites(content, anns); !slices.Equal(got, want) {
		t.Errorf("streamed annotations cite %q, want %q", got, want)
	}
}
