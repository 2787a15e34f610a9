package openai

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
)

// benchAnswer is a typical non-streaming answer (the shape of the complete_basic fixture).
const benchAnswer = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}`

// BenchmarkCompleteOverhead measures what the adapter adds to one non-streaming call: against
// an in-process upstream, the raw sub-benchmark posts the client body with a bare http.Client
// and reads the answer; adapter calls Complete (body edit, headers, error checks, response
// parse) through the same client. paired alternates the two in one loop, so that both see the
// same machine state, and reports raw-ns/call, adapter-ns/call and their difference,
// overhead-ns/call.
func BenchmarkCompleteOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_bench")
		_, _ = io.WriteString(w, benchAnswer)
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	p := newTestProvider(b, srv, TypeOpenAI, providertest.APIKey)
	body := []byte(providertest.DefaultBody)
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: body}, Model: "gpt-4o-mini"}
	url := srv.URL + "/v1/chat/completions"
	ctx := context.Background()

	raw := func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+providertest.APIKey)
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

// benchChunk is a typical content chunk.
const benchChunk = `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741290958,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null}`

// loopBody repeats a buffer forever: an endless stream for a benchmark to read b.N chunks from.
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

// BenchmarkStreamChunk measures the per-chunk cost of a stream: parse alone on a content chunk,
// parse of a chunk with cumulative usage (which is rewritten), and stream.Next end to end from
// an in-memory body (SSE framing, parse, Chunk), without the network.
func BenchmarkStreamChunk(b *testing.B) {
	b.Run("parse", func(b *testing.B) {
		var cp chunkParser
		var c clearbar.Chunk
		data := []byte(benchChunk)
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if k, _ := cp.parse(data, &c); k != chunkData || c.Text != " world" {
				b.Fatal("bad parse")
			}
		}
	})
	b.Run("parse-cumulative-usage", func(b *testing.B) {
		var cp chunkParser
		var c clearbar.Chunk
		data := []byte(`{"id":"chatcmpl-vllm","object":"chat.completion.chunk","created":1,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"delta":{"content":" two"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":7,"completion_tokens":2}}`)
		b.ReportAllocs()
		for b.Loop() {
			if k, _ := cp.parse(data, &c); k != chunkData {
				b.Fatal("bad parse")
			}
		}
	})
	b.Run("next", func(b *testing.B) {
		p := &Provider{name: "bench", now: time.Now}
		call := &clearbar.Call{Model: "m"}
		a := p.begin(context.Background(), call, 0)
		resp := &http.Response{StatusCode: 200, Body: &loopBody{b: []byte("data: " + benchChunk + "\n\n")}}
		s := newStream(a, resp)
		defer s.Close()
		b.ReportAllocs()
		for b.Loop() {
			if !s.Next() {
				b.Fatal(s.Err())
			}
		}
	})
}
