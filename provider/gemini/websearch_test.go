package gemini

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
)

// TestWebSearchRequest: web_search_options turns on grounding with Google Search, in the tool
// set beside the function declarations; its settings leave no trace; a grounding-only request
// sends no functionCallingConfig (Gemini refuses one without functions); Gemini 3, and a model
// whose version the adapter cannot read, get both tools with includeServerSideToolInvocations.
func TestWebSearchRequest(t *testing.T) {
	const fn = `[{"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	tests := []struct {
		explanation, model, extra, wantTools, wantConfig string
	}{
		{"search only", "gemini-2.5-flash", ``, `[{"googleSearch":{}}]`, ``},
		{"search only, its settings ignored", "gemini-2.5-flash",
			`,"web_search_options":{"search_context_size":"high","user_location":{"type":"approximate","approximate":{"city":"Lyon","country":"FR"}}}`, `[{"googleSearch":{}}]`, ``},
		{"search with tool_choice auto and no functions", "gemini-2.5-flash", `,"tool_choice":"auto"`, `[{"googleSearch":{}}]`, ``},
		{"search with tool_choice required and no functions", "gemini-2.0-flash", `,"tool_choice":"required"`, `[{"googleSearch":{}}]`, ``},
		{"Gemini 3: search and functions", "gemini-3-flash-preview", `,"tools":` + fn,
			`[{"functionDeclarations":[{"name":"weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}],"googleSearch":{}}]`,
			`{"includeServerSideToolInvocations":true}`},
		{"Gemini 3.1 Pro: search, functions and a tool_choice", "models/gemini-3.1-pro-preview", `,"tools":` + fn + `,"tool_choice":"required"`,
			`[{"functionDeclarations":[{"name":"weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}],"googleSearch":{}}]`,
			`{"functionCallingConfig":{"mode":"ANY"},"includeServerSideToolInvocations":true}`},
		{"an alias whose version is unknown: as Gemini 3", "gemini-flash-latest", `,"tools":` + fn,
			`[{"functionDeclarations":[{"name":"weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}],"googleSearch":{}}]`,
			`{"includeServerSideToolInvocations":true}`},
	}
	for _, tt := range tests {
		body := `{"messages":[{"role":"user","content":"Who won?"}]` + tt.extra + `}`
		if !strings.Contains(body, "web_search_options") {
			body = strings.TrimSuffix(body, "}") + `,"web_search_options":{}}`
		}
		out, err := translateRequest([]byte(body), tt.model, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.explanation, err)
			continue
		}
		g := gjson.ParseBytes(out)
		if got := g.Get("tools").Raw; got != tt.wantTools {
			t.Errorf("%s: tools %s, want %s", tt.explanation, got, tt.wantTools)
		}
		if got := g.Get("toolConfig").Raw; got != tt.wantConfig {
			t.Errorf("%s: toolConfig %s, want %s", tt.explanation, got, tt.wantConfig)
		}
	}
	// Without web_search_options nothing searches.
	out, err := translateRequest([]byte(`{"messages":[{"role":"user","content":"Who won?"}]}`), "gemini-2.5-flash", nil)
	if err != nil || strings.Contains(string(out), "googleSearch") {
		t.Errorf("a request without web_search_options (%v): %s", err, out)
	}
	// A web_search_options that is not an object is the client's error.
	_, e := translateRequest([]byte(`{"messages":[{"role":"user","content":"x"}],"web_search_options":"yes"}`), "gemini-2.5-flash", nil)
	if e == nil || e.Class != clearbar.ClientError || e.Param != "web_search_options" {
		t.Errorf("web_search_options \"yes\": %v", e)
	}
}

// TestWebSearchWithToolsRefused: Gemini before 3 refuses Google Search together with function
// declarations in generateContent; the adapter refuses it first, naming both parameters and
// what to change, instead of dropping one of them, and sends nothing upstream.
func TestWebSearchWithToolsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a refused request reached Gemini: %s", r.URL.Path)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv)
	body := `{"messages":[{"role":"user","content":"Weather in the northernmost US city?"}],"web_search_options":{},` +
		`"tools":[{"type":"function","function":{"name":"getWeather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
	for _, model := range []string{"gemini-2.5-flash", "gemini-2.5-pro", "models/gemini-2.0-flash"} {
		_, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(body)}, Model: model})
		e := clearbar.AsError(err)
		if err == nil || e.Class != clearbar.ClientError || e.Param != "web_search_options" || e.Provider == "" || e.Model != model {
			t.Errorf("%s: %v (param %q), want a ClientError naming web_search_options", model, err, e.Param)
			continue
		}
		for _, want := range []string{"web_search_options", "tools", "Gemini 3"} {
			if !strings.Contains(e.Message, want) {
				t.Errorf("%s: the message %q does not say %q", model, e.Message, want)
			}
		}
	}
}

// TestGroundingAnnotations: groundingSupports become url_citation annotations whose indices
// count code points of the content, from Gemini's UTF-8 byte offsets.
func TestGroundingAnnotations(t *testing.T) {
	const text = "Ça coûte 5 € 🙂. Der Preis ist gestiegen." // "Der Preis…" starts at byte 23, code point 16
	tests := []struct {
		explanation, grounding, want string
	}{
		{"byte offsets after non-ASCII text; startIndex absent is 0",
			`{"groundingChunks":[{"web":{"uri":"https://a.example/1","title":"a.example"}},{"web":{"uri":"https://b.example/2","title":"b.example"}}],
			"groundingSupports":[{"segment":{"endIndex":22,"text":"Ça coûte 5 € 🙂."},"groundingChunkIndices":[0]},
			{"segment":{"startIndex":23,"endIndex":47,"text":"Der Preis ist gestiegen."},"groundingChunkIndices":[1,0]}]}`,
			`https://a.example/1 a.example: Ça coûte 5 € 🙂.|https://b.example/2 b.example: Der Preis ist gestiegen.|https://a.example/1 a.example: Der Preis ist gestiegen.`},
		{"offsets from the start of another part: found by the segment's text",
			`{"groundingChunks":[{"web":{"uri":"https://a.example/1","title":"a.example"}}],
			"groundingSupports":[{"segment":{"partIndex":1,"startIndex":0,"endIndex":26,"text":"Der Preis ist gestiegen."},"groundingChunkIndices":[0]}]}`,
			`https://a.example/1 a.example: Der Preis ist gestiegen.`},
		{"offsets past the content and no text: no annotation",
			`{"groundingChunks":[{"web":{"uri":"https://a.example/1","title":"a.example"}}],
			"groundingSupports":[{"segment":{"startIndex":40,"endIndex":90},"groundingChunkIndices":[0]}]}`,
			``},
		{"a chunk index out of range and a source that is not a web page: no annotation",
			`{"groundingChunks":[{"retrievedContext":{"uri":"gs://bucket/doc.pdf","title":"doc"}}],
			"groundingSupports":[{"segment":{"endIndex":22,"text":"Ça coûte 5 € 🙂."},"groundingChunkIndices":[0,3,-1]}]}`,
			``},
		{"the same page twice for one segment: one annotation",
			`{"groundingChunks":[{"web":{"uri":"https://a.example/1","title":"a.example"}}],
			"groundingSupports":[{"segment":{"endIndex":22,"text":"Ça coûte 5 € 🙂."},"groundingChunkIndices":[0,0]},{"segment":{"endIndex":22,"text":"Ça coûte 5 € 🙂."},"groundingChunkIndices":[0]}]}`,
			`https://a.example/1 a.example: Ça coûte 5 € 🙂.`},
	}
	for _, tt := range tests {
		b, ok := appendAnnotations([]byte("x"), gjson.Parse(tt.grounding), text)
		if !ok {
			if string(b) != "x" {
				t.Errorf("%s: nothing to annotate, yet the output became %s", tt.explanation, b)
			}
			b = []byte("x[]")
		}
		if !gjson.ValidBytes(b[1:]) {
			t.Fatalf("%s: not JSON: %s", tt.explanation, b)
		}
		if got := strings.Join(cited(t, text, gjson.ParseBytes(b[1:]).Array()), "|"); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.explanation, got, tt.want)
		}
	}
}

// cited reads annotations as "url title: the annotated text", the text cut from content by
// code points, as a Python client cuts it (content[start_index:end_index]).
func cited(t *testing.T, content string, annotations []gjson.Result) []string {
	t.Helper()
	runes := []rune(content)
	var out []string
	for _, a := range annotations {
		u := a.Get("url_citation")
		start, end := int(u.Get("start_index").Int()), int(u.Get("end_index").Int())
		if a.Get("type").String() != "url_citation" || start < 0 || start > end || end > len(runes) {
			t.Errorf("not a url_citation within the content's %d code points: %s", len(runes), a.Raw)
			continue
		}
		out = append(out, u.Get("url").String()+" "+u.Get("title").String()+": "+string(runes[start:end]))
	}
	return out
}

// TestGroundingAnswerAndStream: the recorded grounded answer and stream (a German answer with
// a dash, an umlaut and an emoji before its citations) give the same content and the same
// annotations, each spanning the sentence Gemini's segment names; the stream sends them with
// the finish reason, when the text they index into is whole.
func TestGroundingAnswerAndStream(t *testing.T) {
	answer, err := os.ReadFile("testdata/responses/grounding.gemini.json")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile("testdata/streams/grounding.sse")
	if err != nil {
		t.Fatal(err)
	}
	var wantCited []string
	gjson.GetBytes(answer, "candidates.0.groundingMetadata").Get("groundingSupports").ForEach(func(_, s gjson.Result) bool {
		s.Get("groundingChunkIndices").ForEach(func(_, ci gjson.Result) bool {
			web := gjson.GetBytes(answer, "candidates.0.groundingMetadata.groundingChunks."+ci.String()+".web")
			wantCited = append(wantCited, web.Get("uri").String()+" "+web.Get("title").String()+": "+s.Get("segment.text").String())
			return true
		})
		return true
	})
	if len(wantCited) != 5 {
		t.Fatalf("the recorded answer cites %d times, want 5", len(wantCited))
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "streamGenerateContent") {
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(stream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv)
	call := &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"Wer hat die EM 2024 gewonnen?"}],"web_search_options":{}}`)}, Model: "gemini-2.5-flash"}

	r, err := p.Complete(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	msg := gjson.GetBytes(r.Body, "choices.0.message")
	content := msg.Get("content").String()
	anns := msg.Get("annotations")
	if got := cited(t, content, anns.Array()); strings.Join(got, "\n") != strings.Join(wantCited, "\n") {
		t.Errorf("the answer cites\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantCited, "\n"))
	}
	if r.Usage.WebSearches != 2 {
		t.Errorf("the answer's web searches: %d, want 2", r.Usage.WebSearches)
	}

	s, err := p.Stream(context.Background(), call)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var streamed strings.Builder
	var streamedAnns string
	for s.Next() {
		c := gjson.GetBytes(s.Chunk().Data, "choices.0")
		streamed.WriteString(c.Get("delta.content").String())
		if a := c.Get("delta.annotations"); a.Exists() {
			if streamedAnns != "" || c.Get("finish_reason").String() != "stop" {
				t.Errorf("annotations twice, or before the finish reason: %s", s.Chunk().Data)
			}
			streamedAnns = a.Raw
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if streamed.String() != content || streamedAnns != anns.Raw {
		t.Errorf("the stream's content and annotations\n%q\n%s\ndiffer from the answer's\n%q\n%s", streamed.String(), streamedAnns, content, anns.Raw)
	}
}

// TestGroundingAfterFinish: grounding metadata that arrives after the candidate's finish reason
// is still sent, in a chunk of its own, indexing into the whole text.
func TestGroundingAfterFinish(t *testing.T) {
	events := []string{
		`{"candidates":[{"content":{"parts":[{"text":"Grüße aus "}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash"}`,
		`{"candidates":[{"content":{"parts":[{"text":"Köln."}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash"}`,
		`{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"index":0,"groundingMetadata":{"webSearchQueries":["köln"],` +
			`"groundingChunks":[{"web":{"uri":"https://k.example","title":"k.example"}}],"groundingSupports":[{"segment":{"startIndex":12,"endIndex":18,"text":"Köln."},"groundingChunkIndices":[0]}]}}],` +
			`"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			w.Write([]byte("data: " + e + "\r\n\r\n"))
		}
	}))
	defer srv.Close()
	p := newTestProvider(t, srv)
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[{"role":"user","content":"x"}],"web_search_options":{}}`)}, Model: "gemini-2.5-flash"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var content strings.Builder
	var got []string
	for s.Next() {
		c := gjson.GetBytes(s.Chunk().Data, "choices.0.delta")
		content.WriteString(c.Get("content").String())
		got = append(got, cited(t, "Grüße aus Köln.", c.Get("annotations").Array())...)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if content.String() != "Grüße aus Köln." || strings.Join(got, "|") != "https://k.example k.example: Köln." {
		t.Errorf("content %q, annotations %q", content.String(), got)
	}
}
