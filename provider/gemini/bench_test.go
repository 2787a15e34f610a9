package gemini

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/tidwall/gjson"
)

// benchAnswer is a typical generateContent answer (the complete_basic fixture's shape, compact).
const benchAnswer = `{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":9,"totalTokenCount":37,"cachedContentTokenCount":4,"thoughtsTokenCount":20},"modelVersion":"gemini-2.5-flash","responseId":"Zk8xaL-3BaGJ1dkP0Jq5iAQ"}`

// benchEvent is a typical stream event: one text delta with cumulative usage.
const benchEvent = `{"candidates": [{"content": {"parts": [{"text": " there! How"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 4,"totalTokenCount": 32,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 8}],"thoughtsTokenCount": 20},"modelVersion": "gemini-2.5-flash","responseId": "sse-1"}`

// BenchmarkTranslateRequest measures the OpenAI → Gemini body translation per request: the
// suite's default body (system + user text, pass-through fields to drop), and a tool-calling
// history (the tools_history golden case: tools with schemas, calls, results, signatures).
func BenchmarkTranslateRequest(b *testing.B) {
	hist, err := os.ReadFile("testdata/requests/tools_history.in.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, model string
		body        []byte
	}{
		{"default", "gemini-2.5-flash", []byte(providertest.DefaultBody)},
		{"tools_history", "gemini-3-pro-preview", []byte(gjson.GetBytes(hist, "request").Raw)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := translateRequest(bc.body, bc.model, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTranslateResponse measures the Gemini → OpenAI translation of a non-streaming answer.
func BenchmarkTranslateResponse(b *testing.B) {
	p := &Provider{name: "gem", now: time.Now, newID: randomID}
	a := &attempt{Attempt: &inflight.Attempt{Provider: p.name, Call: &clearbar.Call{Model: "gemini-2.5-flash"}}, p: p}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}}
	data := []byte(benchAnswer)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.parseResponse(a, resp, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamChunk measures the translation of one stream event into one chunk.
func BenchmarkStreamChunk(b *testing.B) {
	p := &Provider{name: "gem", now: time.Now, newID: randomID}
	a := &attempt{Attempt: &inflight.Attempt{Provider: p.name, Call: &clearbar.Call{Model: "gemini-2.5-flash"}}, p: p}
	tr := streamTranslator{p: p, model: "gemini-2.5-flash"}
	data := []byte(benchEvent)
	var c clearbar.Chunk
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if kind, _ := tr.event(a, 200, data, &c); kind != eventChunk {
			b.Fatal(kind)
		}
	}
}

// BenchmarkCompleteOverhead measures what the adapter adds to one call against an in-process
// upstream: raw posts a prepared Gemini body with a bare http.Client and reads the answer;
// adapter calls Complete (translation both ways, headers, checks) through the same client.
func BenchmarkCompleteOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchAnswer)
	}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	p := newTestProvider(b, srv, providertest.APIKey)
	p.newID = randomID
	body := []byte(providertest.DefaultBody)
	call := &clearbar.Call{Request: &clearbar.Request{Dialect: clearbar.DialectOpenAI, Body: body}, Model: "gemini-2.5-flash"}
	gemBody, e := translateRequest(body, call.Model, nil)
	if e != nil {
		b.Fatal(e)
	}
	url := p.endpoint(call.Model, "generateContent")
	ctx := context.Background()
	raw := func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(gemBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Goog-Api-Key", providertest.APIKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	adapter := func() {
		if r, err := p.Complete(ctx, call); err != nil || r.Text() == "" {
			b.Fatal(err)
		}
	}
	providertest.BenchmarkPair(b, raw, adapter)
}
