package translate

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/sse"
)

// citedSpans reads an OpenAI message's (or a stream's) annotations as "url: the annotated
// text", the text cut from content by code points, as a Python client cuts it
// (content[start_index:end_index]).
func citedSpans(t *testing.T, content string, annotations []gjson.Result) []string {
	t.Helper()
	runes := []rune(content)
	var out []string
	for _, a := range annotations {
		if a.Get("type").String() != "url_citation" {
			t.Errorf("annotation of type %q: %s", a.Get("type").String(), a.Raw)
			continue
		}
		u := a.Get("url_citation")
		start, end := int(u.Get("start_index").Int()), int(u.Get("end_index").Int())
		if start < 0 || start > end || end > len(runes) || u.Get("title").String() == "" {
			t.Errorf("annotation out of the content's %d code points or without a title: %s", len(runes), a.Raw)
			continue
		}
		out = append(out, u.Get("url").String()+": "+string(runes[start:end]))
	}
	return out
}

// wantCited is what the recorded web search answer's citations annotate: each cited text
// block, once per page it cites (the second Wikipedia citation of the first block cites the
// page again). Text with curly quotes, dashes and a flag (two code points outside the Basic
// Multilingual Plane) comes before them.
var wantCited = []string{
	"https://en.wikipedia.org/wiki/Claude_Shannon: Claude Shannon was born on April 30, 1916, in Petoskey, Michigan",
	"https://www.britannica.com/biography/Claude-Shannon: Claude Shannon was born on April 30, 1916, in Petoskey, Michigan",
	"https://www.britannica.com/biography/Claude-Shannon: the father of information theory",
}

// TestWebSearchCitations: an Anthropic answer's web search citations reach an OpenAI client as
// message.annotations url_citation, each spanning its text block in the joined content, in
// code points; a stream sends the same annotations in delta.annotations after the block's text.
func TestWebSearchCitations(t *testing.T) {
	answer, err := os.ReadFile("testdata/to_openai_response/web_search.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ToOpenAIResponse(answer, 1)
	if err != nil {
		t.Fatal(err)
	}
	msg := gjson.GetBytes(r.Body, "choices.0.message")
	content := msg.Get("content").String()
	if !strings.Contains(content, "🇺🇸 — Claude Shannon was born") {
		t.Fatalf("the content is not the recorded answer's: %q", content)
	}
	got := citedSpans(t, content, msg.Get("annotations").Array())
	if strings.Join(got, "\n") != strings.Join(wantCited, "\n") {
		t.Errorf("the answer's annotations cite\n%s\nwant\n%s\n(%s)", strings.Join(got, "\n"), strings.Join(wantCited, "\n"), msg.Get("annotations").Raw)
	}

	// The recorded stream has server-tool blocks, which the round-trip tests' accumulator
	// refuses: it lives apart from testdata/to_openai_stream, its chunks compared here.
	stream, err := os.ReadFile("testdata/citations/web_search.sse")
	if err != nil {
		t.Fatal(err)
	}
	chunks := anthropicToChunks(t, stream)
	var wire bytes.Buffer
	for _, c := range chunks {
		wire.WriteString("data: " + string(c) + "\n\n")
	}
	const golden = "testdata/citations/web_search.chunks.golden"
	if *update {
		if err := os.WriteFile(golden, wire.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(wire.Bytes(), want) {
		t.Errorf("the stream's chunks differ from %s (%v):\n%s", golden, err, wire.Bytes())
	}
	var streamed strings.Builder
	var anns []gjson.Result
	for _, c := range chunks {
		d := gjson.GetBytes(c, "choices.0.delta")
		streamed.WriteString(d.Get("content").String())
		if a := d.Get("annotations"); a.Exists() {
			if d.Get("content").String() != "" {
				t.Errorf("annotations in a chunk with text: %s", c)
			}
			anns = append(anns, a.Array()...)
		}
	}
	if streamed.String() != content {
		t.Fatalf("the stream's content %q, the answer's %q", streamed.String(), content)
	}
	if got := citedSpans(t, content, anns); strings.Join(got, "\n") != strings.Join(wantCited, "\n") {
		t.Errorf("the stream's annotations cite\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantCited, "\n"))
	}
	var raw []string
	for _, a := range anns {
		raw = append(raw, a.Raw)
	}
	if all := "[" + strings.Join(raw, ",") + "]"; all != msg.Get("annotations").Raw {
		t.Errorf("the stream's annotations\n%s\ndiffer from the answer's\n%s", all, msg.Get("annotations").Raw)
	}
}

// TestOtherCitationsDropped: citations that name no web page (a document's char_location) make
// no annotation, and an answer without web search citations has no annotations member.
func TestOtherCitationsDropped(t *testing.T) {
	msg := `{"id":"msg_1","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"Paris.","citations":[{"type":"char_location","cited_text":"Paris","document_index":0,"document_title":"Atlas","start_char_index":0,"end_char_index":5}]}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":3}}`
	r, err := ToOpenAIResponse([]byte(msg), 1)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(r.Body, []byte("annotations")) {
		t.Errorf("a document citation became an annotation: %s", r.Body)
	}
}

// TestWebSearchCitationsNative: for an Anthropic client (Native) the OpenAI form carries the
// annotations too, for the gateway's validators, while the client gets the upstream's own
// message and events, citations as they came.
func TestWebSearchCitationsNative(t *testing.T) {
	answer, err := os.ReadFile("testdata/to_openai_response/web_search.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ToOpenAIAnswer(answer, AnswerOptions{Created: 1, Native: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gjson.GetBytes(r.Body, "choices.0.message.annotations").Array()); n != len(wantCited) {
		t.Errorf("the OpenAI form has %d annotations, want %d", n, len(wantCited))
	}
	back, err := ToAnthropicResponse(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != string(bytes.TrimSpace(answer)) {
		t.Errorf("the client's message is not the upstream's:\n%s", back)
	}

	stream, err := os.ReadFile("testdata/citations/web_search.sse")
	if err != nil {
		t.Fatal(err)
	}
	tr := OpenAIChunks{Created: 1, Native: true}
	var events []event
	ev := NewAnthropicEvents(func(typ string, data []byte) error {
		events = append(events, event{typ, bytes.Clone(data)})
		return nil
	})
	annotated := 0
	rd := sse.NewReader(bytes.NewReader(stream))
	for rd.Next() {
		cs, err := tr.Event(rd.Event().Type, rd.Event().Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			annotated += len(gjson.GetBytes(c.Data, "choices.0.delta.annotations").Array())
			if err := ev.Chunk(bytes.Clone(c.Data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := ev.End(); err != nil {
		t.Fatal(err)
	}
	if annotated != len(wantCited) {
		t.Errorf("the OpenAI chunks carry %d annotations, want %d", annotated, len(wantCited))
	}
	var got bytes.Buffer
	for _, e := range events {
		got.WriteString("event: " + e.typ + "\ndata: " + string(e.data) + "\n\n")
	}
	if got.String() != string(stream) {
		t.Errorf("the client's stream is not the upstream's:\n%s", got.String())
	}
}
