package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/trace"
)

const benchAnswer = `{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Your parcel left our warehouse this morning and should arrive within two working days. You can follow it with the tracking link in your confirmation email.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":64,"completion_tokens":38,"total_tokens":102,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":"fp_bench"}`

const benchRequest = `{"model":"clearbar/chat","messages":[{"role":"system","content":"You are a helpful support assistant for an online shop. Answer briefly and politely."},{"role":"user","content":"Hello, I ordered a blue kettle last week and I have not received it yet. Where is my order?"}]}`

// benchStream is the upstream's streamed answer: a role chunk, eight content chunks, a finish
// chunk and a usage chunk, as OpenAI sends them.
var benchStream = func() string {
	var b strings.Builder
	chunk := func(delta, finish, usage string) {
		b.WriteString(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + finish + `}],"usage":` + usage + "}\n\n")
	}
	chunk(`{"role":"assistant","content":""}`, "null", "null")
	for _, w := range strings.Fields("Your parcel left our warehouse this morning and should arrive") {
		chunk(`{"content":"`+w+` "}`, "null", "null")
	}
	chunk(`{}`, `"stop"`, "null")
	b.WriteString(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","system_fingerprint":"fp_bench","choices":[],"usage":{"prompt_tokens":64,"completion_tokens":38,"total_tokens":102}}` + "\n\n")
	b.WriteString("data: [DONE]\n\n")
	return b.String()
}()

// BenchmarkOverhead compares, in one run, a request through a bare httputil.ReverseProxy and
// through the gateway (static route, real OpenAI adapter, decisions recorded to SQLite), both in
// front of the same in-process upstream. The difference is the gateway's own work per request.
func BenchmarkOverhead(b *testing.B) {
	benchOverhead(b, benchRequest, func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchAnswer)
	})
}

// BenchmarkOverheadStream is BenchmarkOverhead for a streamed answer whose first chunk comes
// at once: the path every fast stream takes.
func BenchmarkOverheadStream(b *testing.B) {
	benchOverhead(b, strings.Replace(benchRequest, `{"model"`, `{"stream":true,"model"`, 1), func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, benchStream)
	})
}

func benchOverhead(b *testing.B, request string, answer func(http.ResponseWriter)) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		answer(w)
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = provider.NewTransport()
	proxySrv := httptest.NewServer(proxy)
	defer proxySrv.Close()

	src := `version: 1
name: bench
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers: {up: {type: openai-compatible, base_url: "` + up.URL + `/v1"}}
models: {m: {provider: up, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}}
categories:
  - {name: chat, share: 1, tokens: {in: 64, out: 38}, quality_bar: 0.9, route: {model: m}, assume: {pass_rate: {m: 0.95}}}
`
	s, err := spec.Parse([]byte(src), "bench.yaml", spec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	prov, err := openaiadapter.New(provider.Config{Provider: s.Providers[0], Spec: s})
	if err != nil {
		b.Fatal(err)
	}
	store, err := trace.OpenSQLite(b.TempDir() + "/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	rec := trace.NewRecorder(store, trace.RecorderOptions{})
	defer store.Close()
	defer rec.Close(b.Context())
	gw, err := gateway.New(gateway.Options{Spec: s, Providers: map[string]clearbar.Provider{"up": prov}, Recorder: rec})
	if err != nil {
		b.Fatal(err)
	}
	// Served as clearbar serve serves it: request contexts derive from the gateway's.
	gwSrv := httptest.NewUnstartedServer(gw)
	gwSrv.Config.BaseContext = gw.BaseContext
	gwSrv.Start()
	defer gwSrv.Close()

	client := &http.Client{Transport: provider.NewTransport()}
	call := func(b *testing.B, base string) {
		resp, err := client.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(request))
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, buf.String())
		}
	}
	for _, tc := range []struct{ name, base string }{{"proxy", proxySrv.URL}, {"clearbar", gwSrv.URL}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				call(b, tc.base)
			}
		})
	}
}
