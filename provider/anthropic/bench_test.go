package anthropic

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/translate"
)

// benchAnswer is a typical non-streaming answer (the shape of the complete_basic fixture).
const benchAnswer = `{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":2000,"output_tokens":12,"service_tier":"standard"}}`

// BenchmarkCompleteOverhead measures what the adapter adds to one non-streaming call, the
// translations both ways included: against an in-process upstream, raw posts the client body
// with a bare http.Client and reads the answer; adapter calls Complete (request translation,
// headers, error checks, answer translation) through the same client. paired alternates the
// two in one loop and reports raw-ns/call, adapter-ns/call and overhead-ns/call.
func BenchmarkCompleteOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_bench")
		_, _ = io.WriteString(w, benchAnswer)
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	p := newTestProvider(b, srv, "", providertest.APIKey)
	body := []byte(providertest.DefaultBody)
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: body}, Model: "claude-sonnet-4-5"}
	url := srv.URL + "/v1/messages"
	ctx := context.Background()

	raw := func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", providertest.APIKey)
		req.Header.Set("Anthropic-Version", DefaultVersion)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(data) == 0 {
			b.Fatal(err)
		}
	}
	adapter := func() {
		r, err := p.Complete(ctx, call)
		if err != nil || r.Text() == "" {
			b.Fatal(err)
		}
	}
	providertest.BenchmarkPair(b, raw, adapter)
}

// loopBody repeats a buffer forever: an endless stream for a benchmark to read b.N events from.
type loopBody struct {
	b   []byte
	off int
}

func (l *loopBody) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

func (l *loopBody) Close() error { return nil }

// BenchmarkStreamChunk measures the per-chunk cost of a stream end to end from an in-memory
// body: SSE framing of an Anthropic text_delta event, its translation into an OpenAI chunk,
// and Next.
func BenchmarkStreamChunk(b *testing.B) {
	p := &Provider{name: "bench", now: time.Now}
	a := p.begin(context.Background(), &clearbar.Call{Model: "m"}, 0)
	start := "event: message_start\ndata: " + `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":5,"output_tokens":1}}}` + "\n\n"
	delta := "event: content_block_delta\ndata: " + `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}` + "\n\n"
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(bytes.NewReader([]byte(start)), &loopBody{b: []byte(delta)}))}
	s := newStream(a, resp, translate.AnthropicCall{})
	defer s.Close()
	if !s.Next() {
		b.Fatal(s.Err())
	}
	b.SetBytes(int64(len(delta)))
	b.ReportAllocs()
	for b.Loop() {
		if !s.Next() {
			b.Fatal(s.Err())
		}
	}
}
