package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/spec"
)

// callChunk is a chunk whose first choice's delta is delta (a tool-call fragment).
func callChunk(delta string) clearbar.Chunk {
	return clearbar.Chunk{Data: []byte(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}`)}
}

// toolFragment is a delta.tool_calls fragment of the call at index i.
func toolFragment(i, head, args string) clearbar.Chunk {
	return callChunk(`{"tool_calls":[{"index":` + i + head + `,"function":{` + strings.TrimPrefix(args, ",") + `}}]}`)
}

// TestBufferStreamCalls: a buffered stream's tool calls are reassembled from their fragments,
// interleaved, and a stream answering the deprecated functions has its delta.function_call as
// the call at index 0; the argument bytes of both forms are counted as sent.
func TestBufferStreamCalls(t *testing.T) {
	tests := []struct {
		explanation string
		chunks      []clearbar.Chunk
		want        []clearbar.ToolCall
	}{
		{"tool_calls, interleaved", []clearbar.Chunk{
			toolFragment("0", `,"id":"call_a","type":"function"`, `"name":"f","arguments":""`),
			toolFragment("1", `,"id":"call_b","type":"function"`, `"name":"g","arguments":"{\"x\""`),
			toolFragment("0", "", `"arguments":"{\"city\":"`),
			toolFragment("1", "", `"arguments":":1}"`),
			toolFragment("0", "", `"arguments":"\"Paris\"}"`),
			oaChunk(`[{"index":0,"delta":{},"finish_reason":"tool_calls"}]`),
		}, []clearbar.ToolCall{{ID: "call_a", Name: "f", Arguments: `{"city":"Paris"}`}, {ID: "call_b", Name: "g", Arguments: `{"x":1}`}}},
		{"function_call", []clearbar.Chunk{
			callChunk(`{"role":"assistant","content":null,"function_call":{"name":"get_weather","arguments":""}}`),
			callChunk(`{"function_call":{"arguments":"{\"city\":"}}`),
			callChunk(`{"function_call":{"arguments":"\"Paris\"}"}}`),
			oaChunk(`[{"index":0,"delta":{},"finish_reason":"function_call"}]`),
		}, []clearbar.ToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
	}
	for _, tt := range tests {
		s := &sliceStream{chunks: tt.chunks}
		s.Next()
		b, err := bufferStream(s)
		if err != nil {
			t.Fatalf("%s: %v", tt.explanation, err)
		}
		got := b.response().Choices[0].ToolCalls
		if len(got) != len(tt.want) {
			t.Fatalf("%s: calls %+v, want %+v", tt.explanation, got, tt.want)
		}
		args := 0
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: call %d %+v, want %+v", tt.explanation, i, got[i], tt.want[i])
			}
			args += len(tt.want[i].Arguments)
		}
		if b.sent != args {
			t.Errorf("%s: %d argument bytes counted as sent, want %d", tt.explanation, b.sent, args)
		}
	}
}

// repeatStream is a stream of n copies of one chunk.
type repeatStream struct {
	chunk clearbar.Chunk
	n     int
}

func (s *repeatStream) Next() bool             { s.n--; return s.n >= 0 }
func (s *repeatStream) Chunk() *clearbar.Chunk { return &s.chunk }
func (s *repeatStream) Err() error             { return nil }
func (s *repeatStream) Close() error           { return nil }

// TestBufferStreamCap: a validated stream is buffered up to maxBuffered bytes, the bound on an
// answer that is not streamed, counting what the buffer holds: each chunk and its text; past
// it, it fails as BadResponse.
func TestBufferStreamCap(t *testing.T) {
	const size = 1 << 20
	c := oaChunk(`[{"index":0,"delta":{"content":"` + strings.Repeat("x", size/2-200) + `"}}]`)
	c.Data = append(c.Data, bytes.Repeat([]byte(" "), size/2-len(c.Data))...)
	if held := len(c.Data) + len(c.Text); held > size || held < size-400 {
		t.Fatalf("a chunk holds %d bytes", held)
	}
	// The first chunk is current already, as awaitAnswer leaves it: n more follow.
	if _, err := bufferStream(&repeatStream{chunk: c, n: maxBuffered/size - 1}); err != nil {
		t.Errorf("64 MiB: %v", err)
	}
	b, err := bufferStream(&repeatStream{chunk: c, n: maxBuffered/size + 1})
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "larger than 64 MiB") {
		t.Errorf("64 MiB and two chunks: %v, want a BadResponse", err)
	}
	if b.size > maxBuffered+size || len(b.chunks) > maxBuffered/size+1 {
		t.Errorf("%d chunks, %d bytes held", len(b.chunks), b.size)
	}

	// Tool-call arguments are held twice, in the chunks and reassembled: both count.
	args := strings.Repeat("a", size/2-200)
	tc := toolFragment("0", "", `"arguments":"`+args+`"`)
	b, err = bufferStream(&repeatStream{chunk: tc, n: maxBuffered/size + 1})
	if !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "larger than 64 MiB") {
		t.Errorf("64 MiB of arguments held twice: %v, want a BadResponse", err)
	}
}

// TestStreamCallsCap: a stream whose answer makes more than maxStreamCalls tool calls fails
// as BadResponse, in the guard and in the buffer, rather than have the gateway track each.
func TestStreamCallsCap(t *testing.T) {
	var chunks []clearbar.Chunk
	for i := range maxStreamCalls + 1 {
		chunks = append(chunks, toolFragment(strconv.Itoa(i), "", `"arguments":"{}"`))
	}
	g := &argsGuard{Stream: &sliceStream{chunks: chunks}}
	n := 0
	for g.Next() {
		n++
	}
	var e *clearbar.Error
	if err := g.Err(); !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "tool calls") || n != maxStreamCalls {
		t.Errorf("the guard: %d chunks passed, %v", n, err)
	}
	buffer := func(chunks []clearbar.Chunk) error {
		s := &sliceStream{chunks: chunks}
		s.Next() // the first chunk is current, as awaitAnswer leaves it
		_, err := bufferStream(s)
		return err
	}
	if err := buffer(chunks[:maxStreamCalls]); err != nil {
		t.Errorf("%d calls: %v", maxStreamCalls, err)
	}
	if err := buffer(chunks); !errors.As(err, &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "tool calls") {
		t.Errorf("the buffer: %v", err)
	}
}

// TestArgsGuard: a stream whose tool-call arguments, across their fragments, nest more than
// jsonguard.MaxDepth levels fails as BadResponse at the fragment that goes too deep; calls
// are measured apart, and brackets in strings do not count.
func TestArgsGuard(t *testing.T) {
	frag := func(i, args string) clearbar.Chunk {
		return toolFragment(i, "", `"arguments":"`+args+`"`)
	}
	half := strings.Repeat("[", jsonguard.MaxDepth/2)
	tests := []struct {
		explanation string
		chunks      []clearbar.Chunk
		cut         int // chunks delivered before the failure; -1: none
	}{
		{"two calls each half the limit deep", []clearbar.Chunk{frag("0", half), frag("1", half), frag("0", half), frag("1", half)}, -1},
		{"one call past the limit in three fragments", []clearbar.Chunk{frag("0", half), frag("1", half), frag("0", half), frag("0", "[")}, 3},
		{"ten million levels in one fragment", []clearbar.Chunk{frag("0", "{\\\"a\\\":"), frag("0", strings.Repeat("[", 10_000_000))}, 1},
		{"brackets in a string", []clearbar.Chunk{frag("0", `{\"a\":\"`+strings.Repeat("[", 1000)+`\"}`)}, -1},
		{"a function_call past the limit", []clearbar.Chunk{callChunk(`{"function_call":{"name":"f","arguments":"` + half + `"}}`),
			callChunk(`{"function_call":{"arguments":"` + half + `["}}`)}, 1},
	}
	for _, tt := range tests {
		g := &argsGuard{Stream: &sliceStream{chunks: tt.chunks}}
		n := 0
		for g.Next() {
			n++
		}
		var e *clearbar.Error
		switch {
		case tt.cut < 0 && (n != len(tt.chunks) || g.Err() != nil):
			t.Errorf("%s: %d of %d chunks, %v; want them all", tt.explanation, n, len(tt.chunks), g.Err())
		case tt.cut >= 0 && (n != tt.cut || !errors.As(g.Err(), &e) || e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "more than 512 levels deep")):
			t.Errorf("%s: %d chunks, %v; want %d and a BadResponse", tt.explanation, n, g.Err(), tt.cut)
		}
	}
}

// toolStreamer streams a tool call whose arguments are args, in fragments of at most frag
// bytes, then a second call: the Anthropic transcoder, which holds the second call's block
// until the first one's arguments are complete, then validates them.
type toolStreamer struct {
	args string
	frag int
}

func (p *toolStreamer) Name() string { return "a" }
func (p *toolStreamer) Complete(context.Context, *clearbar.Call) (*clearbar.Response, error) {
	return nil, &clearbar.Error{Class: clearbar.BadResponse, Message: "streams only"}
}
func (p *toolStreamer) Stream(context.Context, *clearbar.Call) (clearbar.Stream, error) {
	chunks := []clearbar.Chunk{toolFragment("0", `,"id":"call_1","type":"function"`, `"name":"f","arguments":""`)}
	for a := p.args; a != ""; {
		n := min(p.frag, len(a))
		chunks = append(chunks, toolFragment("0", "", `"arguments":"`+a[:n]+`"`))
		a = a[n:]
	}
	chunks = append(chunks, toolFragment("1", `,"id":"call_2","type":"function"`, `"name":"f","arguments":"{}"`),
		oaChunk(`[{"index":0,"delta":{},"finish_reason":"tool_calls"}]`))
	return &sliceStream{chunks: chunks}, nil
}

// TestDeepStreamedArguments: an upstream streaming a tool call whose arguments nest ten million
// levels deep, to an Anthropic client, is cut with an error event that says why, at the
// fragment that goes too deep (argsGuard; the transcoder, which reads the arguments as they
// accumulate, checks them with jsonguard too, where gjson's validator once recursed through
// every level and ended the process); arguments at the limit go through.
func TestDeepStreamedArguments(t *testing.T) {
	data, err := readFile("testdata/gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(data, "testdata/gw.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		explanation string
		args        string
		frag        int
		cut         bool
	}{
		{"at the limit", `{\"a\":` + nestedArrays(jsonguard.MaxDepth-1) + `}`, 100, false},
		{"ten million levels in one fragment", strings.Repeat("[", 10_000_000), 20_000_000, true},
		{"past the limit in fragments of 3 bytes", strings.Repeat("[", 2*jsonguard.MaxDepth), 3, true},
	} {
		up := &toolStreamer{args: tt.args, frag: tt.frag}
		gw, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": up, "b": up}})
		if err != nil {
			t.Fatal(err)
		}
		body := `{"model":"clearbar/intent","max_tokens":10,"stream":true,"tools":[{"name":"f","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hello"}]}`
		req, _ := http.NewRequest("POST", "/v1/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		w := newStreamRecorder()
		start := time.Now()
		gw.ServeHTTP(w, req)
		var events []string
		sc := bufio.NewScanner(bytes.NewReader(w.body.Bytes()))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events = append(events, ev)
			}
		}
		last := ""
		if len(events) > 0 {
			last = events[len(events)-1]
		}
		if tt.cut && (last != "error" || !strings.Contains(w.body.String(), "512 levels deep")) || !tt.cut && last != "message_stop" {
			t.Errorf("%s: events %q", tt.explanation, events)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", tt.explanation, d)
		}
	}
}

// streamRecorder is an http.ResponseWriter that keeps what is written, and flushes.
type streamRecorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func newStreamRecorder() *streamRecorder              { return &streamRecorder{header: http.Header{}} }
func (r *streamRecorder) Header() http.Header         { return r.header }
func (r *streamRecorder) WriteHeader(code int)        { r.status = code }
func (r *streamRecorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *streamRecorder) Flush()                      {}
