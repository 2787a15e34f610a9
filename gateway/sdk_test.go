package gateway_test

// End-to-end conformance tests: the real openai-go v3 client talks to the gateway, which calls a
// scripted fake OpenAI-compatible upstream through the real provider/openai adapter. Each test
// names the item of the API conformance checklist (§8 of the API conformance brief) it covers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// upstreamKey is the provider key in testdata/e2e/sdk.yaml; clientKey is the key the SDK sends
// to the gateway. Neither may reach a place it does not belong.
const (
	upstreamKey = "sk-upstream-e2e-SECRET-0000key"
	clientKey   = "client-key"
)

// upstreamCall is one request the fake upstream received.
type upstreamCall struct {
	// N is the call's number among the calls for its model, from 1.
	N      int
	Model  string
	Stream bool
	Header http.Header
	Body   []byte
}

// includeUsage reports whether the call asked for a usage chunk.
func (c upstreamCall) includeUsage() bool {
	return gjson.GetBytes(c.Body, "stream_options.include_usage").Bool()
}

// script answers one upstream call. It runs on the upstream server's goroutine; r's context ends
// when the gateway gives up on the call or the test ends.
type script func(w http.ResponseWriter, r *http.Request, c upstreamCall)

// fakeUpstream is an OpenAI-compatible server that records every call and answers as the test
// scripts it; without a script it answers every call normally (answerNormally).
type fakeUpstream struct {
	srv    *httptest.Server
	script script

	mu    sync.Mutex
	calls []upstreamCall
	// canceled counts calls whose request context had ended when the script returned.
	canceled atomic.Int32
}

func (u *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := upstreamCall{Model: gjson.GetBytes(body, "model").Str, Stream: gjson.GetBytes(body, "stream").Bool(), Header: r.Header.Clone(), Body: body}
	u.mu.Lock()
	c.N = 1
	for _, p := range u.calls {
		if p.Model == c.Model {
			c.N++
		}
	}
	u.calls = append(u.calls, c)
	u.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeBody(w, http.StatusNotFound, "application/json", `{"error":{"message":"no such path","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	s := u.script
	if s == nil {
		s = answerNormally
	}
	s(w, r, c)
	if r.Context().Err() != nil {
		u.canceled.Add(1)
	}
}

// count returns the number of calls for an upstream model id ("" for every call).
func (u *fakeUpstream) count(model string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.calls {
		if model == "" || c.Model == model {
			n++
		}
	}
	return n
}

// received returns a copy of the calls so far.
func (u *fakeUpstream) received() []upstreamCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// answerNormally answers a call as a healthy upstream does: a completion, or a stream of three
// content chunks with a usage chunk when asked.
func answerNormally(w http.ResponseWriter, r *http.Request, c upstreamCall) {
	if c.Stream {
		streamText(w, c, "Hello", ", ", "world!")
		return
	}
	writeBody(w, http.StatusOK, "application/json", completion(callID(c), c.Model, "answer from "+c.Model))
}

// callID is the completion id the default answers use: one per call.
func callID(c upstreamCall) string { return fmt.Sprintf("chatcmpl-%s-%d", c.Model, c.N) }

// js returns s as a JSON string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// completion is a chat completion as OpenAI sends it, with cached and reasoning token details.
func completion(id, model, text string) string {
	return `{"id":` + js(id) + `,"object":"chat.completion","created":1741569952,"model":` + js(model) +
		`,"choices":[{"index":0,"message":{"role":"assistant","content":` + js(text) + `,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":6,"audio_tokens":0},` +
		`"completion_tokens_details":{"reasoning_tokens":4,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
		`"service_tier":"default","system_fingerprint":"fp_e2e"}`
}

// chunk is a stream chunk with one choice; delta is raw JSON, finish "" means null, usage ""
// means null.
func chunk(id, model, delta, finish, usage string) string {
	fr := "null"
	if finish != "" {
		fr = js(finish)
	}
	if usage == "" {
		usage = "null"
	}
	return `{"id":` + js(id) + `,"object":"chat.completion.chunk","created":1741569952,"model":` + js(model) +
		`,"system_fingerprint":"fp_e2e","choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":` + fr + `}],"usage":` + usage + `}`
}

// usageChunk is the final usage-only chunk.
func usageChunk(id, model, usage string) string {
	return `{"id":` + js(id) + `,"object":"chat.completion.chunk","created":1741569952,"model":` + js(model) + `,"system_fingerprint":"fp_e2e","choices":[],"usage":` + usage + `}`
}

func usageJSON(prompt, completion int) string {
	return fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}`, prompt, completion, prompt+completion)
}

// sseOut writes an event stream and flushes every event.
type sseOut struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func openSSE(w http.ResponseWriter) *sseOut {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	s := &sseOut{w: w, rc: http.NewResponseController(w)}
	s.rc.Flush()
	return s
}

// data writes one data event; it reports false once the gateway has gone away.
func (s *sseOut) data(d string) bool { return s.raw("data: "+d+"\n\n") == nil }

func (s *sseOut) raw(text string) error {
	if _, err := io.WriteString(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}

func (s *sseOut) done() { s.data("[DONE]") }

// streamText streams parts as content chunks: a role chunk, the parts, a finish chunk, a usage
// chunk (prompt 5 tokens, one completion token a part) when the call asked for one, and [DONE].
func streamText(w http.ResponseWriter, c upstreamCall, parts ...string) {
	id := callID(c)
	s := openSSE(w)
	s.data(chunk(id, c.Model, `{"role":"assistant","content":""}`, "", ""))
	for _, p := range parts {
		s.data(chunk(id, c.Model, `{"content":`+js(p)+`}`, "", ""))
	}
	s.data(chunk(id, c.Model, `{}`, "stop", ""))
	if c.includeUsage() {
		s.data(usageChunk(id, c.Model, usageJSON(5, len(parts))))
	}
	s.done()
}

func writeBody(w http.ResponseWriter, status int, contentType, body string, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// resetConn takes the connection over and closes it. With rst, the close is abortive (a TCP
// reset); otherwise it is an ordinary close, so data already written still arrives.
func resetConn(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("hijack: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}

// decisionLog keeps the gateway's decisions; it is both its Recorder and its DecisionStore.
type decisionLog struct {
	mu  sync.Mutex
	all []*clearbar.Decision
}

func (l *decisionLog) Record(d *clearbar.Decision) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
	return true
}

type decisionMissing string

func (e decisionMissing) Error() string  { return "no decision " + string(e) }
func (e decisionMissing) NotFound() bool { return true }

func (l *decisionLog) Get(_ context.Context, id string) (*clearbar.Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.all {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, decisionMissing(id)
}

// wait returns the decision with id, waiting for the gateway to record it (it does so after the
// answer is written).
func (l *decisionLog) wait(t *testing.T, id string) *clearbar.Decision {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if d, err := l.Get(context.Background(), id); err == nil {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("no decision %q was recorded", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// count returns the number of decisions recorded.
func (l *decisionLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// waitCount waits until n decisions are recorded and returns them.
func (l *decisionLog) waitCount(t *testing.T, n int) []*clearbar.Decision {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d decisions recorded, want %d", l.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.all)
}

// inboundLog keeps the headers of every request that reached the gateway.
type inboundLog struct {
	mu      sync.Mutex
	headers []http.Header
}

func (l *inboundLog) add(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.headers = append(l.headers, h.Clone())
}

// retryCounts returns the X-Stainless-Retry-Count of every chat request, in order of arrival.
func (l *inboundLog) retryCounts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, h := range l.headers {
		out = append(out, h.Get("X-Stainless-Retry-Count"))
	}
	return out
}

// setup configures an end-to-end harness.
type setup struct {
	script script
	// edit changes the spec's YAML before it is parsed.
	edit func(src string) string
	// breakers replaces the gateway's default breaker set.
	breakers *health.Set
	// sockBuf, when positive, sets the kernel socket buffers of every connection (gateway to
	// upstream, client to gateway) to this many bytes, so that backpressure shows quickly.
	sockBuf int
	// validate compiles the spec's validators, with judges calling models through the same
	// providers, as clearbar serve does.
	validate bool
}

// e2e is one test's world: fake upstream, real adapter, gateway, and an openai-go client.
type e2e struct {
	up        *fakeUpstream
	gw        *gateway.Gateway
	srv       *httptest.Server
	decisions *decisionLog
	inbound   *inboundLog
	client    openai.Client
	// http is a plain client to the gateway, for the raw wire.
	http *http.Client
}

// bufListener sets the socket buffers of accepted connections.
type bufListener struct {
	net.Listener
	size int
}

func (l bufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(l.size)
		tc.SetWriteBuffer(l.size)
	}
	return c, err
}

// newTransport returns a transport of its own, whose idle connections are closed when the test
// ends, so that no connection goroutine outlives it.
func newTransport(t *testing.T, sockBuf int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok && sockBuf > 0 {
				tc.SetReadBuffer(sockBuf)
				tc.SetWriteBuffer(sockBuf)
			}
			return c, err
		},
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func startServer(t *testing.T, h http.Handler, sockBuf int) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	if sockBuf > 0 {
		srv.Listener = bufListener{Listener: srv.Listener, size: sockBuf}
	}
	srv.Start()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// loadSpec reads testdata/e2e/sdk.yaml with the upstream's URL in place.
func loadSpec(t *testing.T, upstreamURL string, edit func(string) string) *spec.Spec {
	t.Helper()
	data, err := os.ReadFile("testdata/e2e/sdk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(string(data), "UPSTREAM_URL", upstreamURL)
	if edit != nil {
		src = edit(src)
	}
	s, err := spec.Parse([]byte(src), "testdata/e2e/sdk.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newE2E(t *testing.T, cfg setup) *e2e {
	t.Helper()
	e := &e2e{up: &fakeUpstream{script: cfg.script}, decisions: &decisionLog{}, inbound: &inboundLog{}}
	e.up.srv = startServer(t, e.up, cfg.sockBuf)
	s := loadSpec(t, e.up.srv.URL, cfg.edit)

	upstreamHTTP := &http.Client{Transport: newTransport(t, cfg.sockBuf)}
	providers := map[string]clearbar.Provider{}
	for _, sp := range s.Providers {
		p, err := openaiadapter.New(provider.Config{Provider: sp, Spec: s, HTTP: upstreamHTTP})
		if err != nil {
			t.Fatal(err)
		}
		providers[sp.Name] = p
	}
	var checker gateway.Checker
	if cfg.validate {
		c, err := validate.NewChecker(s, validate.Env{Caller: validate.ProviderCaller{Providers: providers}})
		if err != nil {
			t.Fatal(err)
		}
		checker = c
	}
	var err error
	e.gw, err = gateway.New(gateway.Options{Spec: s, Providers: providers, Recorder: e.decisions, Decisions: e.decisions, Breakers: cfg.breakers, Checker: checker})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/chat/completions" {
			e.inbound.add(r.Header)
		}
		e.gw.ServeHTTP(w, r)
	}), cfg.sockBuf)
	e.http = &http.Client{Transport: newTransport(t, cfg.sockBuf)}
	e.client = openai.NewClient(
		option.WithBaseURL(e.srv.URL+"/v1"),
		option.WithAPIKey(clientKey),
		option.WithHTTPClient(&http.Client{Transport: newTransport(t, cfg.sockBuf)}),
	)
	return e
}

// post sends a raw chat request to the gateway.
func (e *e2e) post(t *testing.T, ctx context.Context, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// breaker returns the breaker status GET /v1/admin/health reports for key, and whether there is
// one.
func (e *e2e) breaker(t *testing.T, key string) (health.Status, bool) {
	t.Helper()
	resp, err := e.http.Get(e.srv.URL + "/v1/admin/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Breakers []struct {
			Key                 string `json:"key"`
			State               string `json:"state"`
			Requests            int64  `json:"requests"`
			Failures            int64  `json:"failures"`
			ConsecutiveFailures int64  `json:"consecutive_failures"`
			Reason              string `json:"reason"`
		} `json:"breakers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/admin/health: %d %v", resp.StatusCode, err)
	}
	for _, b := range out.Breakers {
		if b.Key == key {
			st := health.Status{Key: b.Key, Requests: b.Requests, Failures: b.Failures, ConsecutiveFailures: b.ConsecutiveFailures, Reason: b.Reason}
			switch b.State {
			case "open":
				st.State = health.Open
			case "half_open":
				st.State = health.HalfOpen
			}
			return st, true
		}
	}
	return health.Status{}, false
}

// metric returns the value of an unlabelled metric from GET /metrics.
func (e *e2e) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := e.http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, line)
			}
			return f
		}
	}
	return 0
}

// teeBody copies each response body the SDK reads into dst: the raw wire, to check framing.
func teeBody(dst *bytes.Buffer) option.RequestOption {
	return option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		resp, err := next(r)
		if resp != nil && resp.Body != nil {
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(resp.Body, dst), resp.Body}
		}
		return resp, err
	})
}

// attemptLog records the status and headers of every attempt the SDK makes, retries included.
type attemptLog struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
}

func (l *attemptLog) option() option.RequestOption {
	return option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		resp, err := next(r)
		l.mu.Lock()
		defer l.mu.Unlock()
		if resp != nil {
			l.statuses = append(l.statuses, resp.StatusCode)
			l.headers = append(l.headers, resp.Header.Clone())
		} else {
			l.statuses = append(l.statuses, 0)
			l.headers = append(l.headers, nil)
		}
		return resp, err
	})
}

// rawEvents splits a raw event stream into the data of its events. It fails the test when an
// event does not end with a blank line or holds anything but data lines.
func rawEvents(t *testing.T, raw string) []string {
	t.Helper()
	if raw != "" && !strings.HasSuffix(raw, "\n\n") {
		t.Errorf("the stream's last event does not end with a blank line: %q", tail(raw))
	}
	var out []string
	for ev := range strings.SplitSeq(strings.TrimSuffix(raw, "\n\n"), "\n\n") {
		if ev == "" {
			continue
		}
		d, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(d, "\n") {
			t.Errorf("event is not a single data line: %q", ev)
		}
		out = append(out, d)
	}
	return out
}

func tail(s string) string {
	if len(s) > 200 {
		return "…" + s[len(s)-200:]
	}
	return s
}

func userMessage(text string) []openai.ChatCompletionMessageParamUnion {
	return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)}
}

// apiError returns err as an *openai.Error, failing the test when it is not one.
func apiError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var ae *openai.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *openai.Error", err, err)
	}
	return ae
}

// checkDecisionHeaders checks the explanation headers every answer carries.
func checkDecisionHeaders(t *testing.T, h http.Header, category, model, attempts string) {
	t.Helper()
	id := h.Get("X-Clearbar-Decision-Id")
	if !strings.HasPrefix(id, "dec_") || h.Get("X-Request-Id") != id {
		t.Errorf("decision id %q, request id %q", id, h.Get("X-Request-Id"))
	}
	for name, want := range map[string]string{"X-Clearbar-Category": category, "X-Clearbar-Model": model, "X-Clearbar-Attempts": attempts} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// §8 item 1 (non-stream chat parses, usage details included), 38 (the served model is named),
// 39 (explanation headers on a success).
func TestSDKChatCompletion(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 200, "application/json", completion("chatcmpl-e2e-1", "up-primary-2026-01-01", "Hello there."), "X-Request-Id", "req_upstream_1")
	}})
	var httpResp *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/chat", Messages: userMessage("Say hello."),
	}, option.WithResponseInto(&httpResp))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ID != "chatcmpl-e2e-1" || resp.Object != "chat.completion" || resp.Created != 1741569952 || resp.Model != "up-primary-2026-01-01" {
		t.Errorf("id %q object %q created %d model %q", resp.ID, resp.Object, resp.Created, resp.Model)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "Hello there." || resp.Choices[0].FinishReason != "stop" {
		t.Fatalf("choices %+v", resp.Choices)
	}
	u := resp.Usage
	if u.PromptTokens != 19 || u.CompletionTokens != 10 || u.TotalTokens != 29 ||
		u.PromptTokensDetails.CachedTokens != 6 || u.CompletionTokensDetails.ReasoningTokens != 4 {
		t.Errorf("usage %+v", u)
	}
	if resp.SystemFingerprint != "fp_e2e" || resp.ServiceTier != "default" {
		t.Errorf("fingerprint %q tier %q", resp.SystemFingerprint, resp.ServiceTier)
	}
	checkDecisionHeaders(t, httpResp.Header, "chat", "primary", "1")
	if httpResp.Header.Get("X-Clearbar-Provider") != "up" || httpResp.Header.Get("X-Clearbar-Cost-Usd") == "" {
		t.Errorf("provider %q cost %q", httpResp.Header.Get("X-Clearbar-Provider"), httpResp.Header.Get("X-Clearbar-Cost-Usd"))
	}
	d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
	if d.Outcome != clearbar.OK || d.Usage.PromptTokens != 19 || d.Usage.CachedTokens != 6 || d.Attempts[0].UpstreamRequestID != "req_upstream_1" {
		t.Errorf("decision outcome %s usage %+v attempts %+v", d.Outcome, d.Usage, d.Attempts)
	}
	if calls := e.up.received(); len(calls) != 1 || calls[0].Model != "up-primary" || calls[0].Stream {
		t.Errorf("upstream calls %+v", calls)
	}
}

// A streamed answer's attempt records the upstream's request id, as a complete answer's does.
func TestSDKStreamRecordsUpstreamRequestID(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		w.Header().Set("X-Request-Id", "req_upstream_stream")
		streamText(w, c, "Hello", "!")
	}})
	var httpResp *http.Response
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/chat", Messages: userMessage("hi"),
	}, option.WithResponseInto(&httpResp))
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
	if len(d.Attempts) != 1 || d.Attempts[0].UpstreamRequestID != "req_upstream_stream" {
		t.Errorf("attempts %+v; want the upstream's request id", d.Attempts)
	}
}

// §8 item 2: a stream without stream_options: deltas add up, [DONE] ends it, every event ends with
// a blank line, no usage chunk and no error key reach the client.
func TestSDKStreamWithoutUsage(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{})
	var raw bytes.Buffer
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/chat", Messages: userMessage("hi"),
	}, teeBody(&raw))
	var acc openai.ChatCompletionAccumulator
	n := 0
	for stream.Next() {
		n++
		c := stream.Current()
		if !acc.AddChunk(c) {
			t.Errorf("AddChunk refused chunk %d: %s", n, c.RawJSON())
		}
		if c.JSON.Usage.Valid() {
			t.Errorf("chunk %d carries usage to a client that did not ask: %s", n, c.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream error: %v", err)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello, world!" {
		t.Errorf("content %q", got)
	}
	if acc.Usage.TotalTokens != 0 || acc.Choices[0].FinishReason != "stop" {
		t.Errorf("usage %+v finish %q", acc.Usage, acc.Choices[0].FinishReason)
	}
	events := rawEvents(t, raw.String())
	if len(events) == 0 || events[len(events)-1] != "[DONE]" || !strings.HasSuffix(raw.String(), "data: [DONE]\n\n") {
		t.Fatalf("the stream does not end with data: [DONE] and a blank line: %q", tail(raw.String()))
	}
	for _, ev := range events[:len(events)-1] {
		if gjson.Get(ev, "error").Exists() {
			t.Errorf("a chunk has an error key: %s", ev)
		}
		if gjson.Get(ev, "choices.#").Int() == 0 {
			t.Errorf("a usage-only chunk reached a client that did not ask for usage: %s", ev)
		}
	}
	if calls := e.up.received(); len(calls) != 1 || !calls[0].includeUsage() {
		t.Errorf("the gateway should ask the upstream for usage (to price the answer): %+v", calls)
	}
}

// §8 items 3 and 4 (and 38): with include_usage the client gets exactly one usage chunk, with
// choices [], at the end; every chunk has one id and one model; the accumulator takes every chunk
// and its totals are the upstream's, also when the upstream sends cumulative usage on every chunk.
func TestSDKStreamUsageOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		script            script
	}{
		{"final usage chunk", "OpenAI: usage null on every chunk, then one usage-only chunk",
			func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				streamText(w, c, "one", " two", " three")
			}},
		{"cumulative usage and a final chunk", "vLLM continuous_usage_stats: cumulative usage on every chunk, then the usage-only chunk",
			func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				id, s := callID(c), openSSE(w)
				s.data(chunk(id, c.Model, `{"role":"assistant","content":""}`, "", usageJSON(5, 0)))
				for i, p := range []string{"one", " two", " three"} {
					s.data(chunk(id, c.Model, `{"content":`+js(p)+`}`, "", usageJSON(5, i+1)))
				}
				s.data(chunk(id, c.Model, `{}`, "stop", usageJSON(5, 3)))
				s.data(usageChunk(id, c.Model, usageJSON(5, 3)))
				s.done()
			}},
		{"cumulative usage only", "a proxy with cumulative usage on every chunk and no usage-only chunk",
			func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				id, s := callID(c), openSSE(w)
				for i, p := range []string{"one", " two", " three"} {
					s.data(chunk(id, c.Model, `{"content":`+js(p)+`}`, "", usageJSON(5, i+1)))
				}
				s.data(chunk(id, c.Model, `{}`, "stop", usageJSON(5, 3)))
				s.done()
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: tc.script})
			var raw bytes.Buffer
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/chat", Messages: userMessage("count"),
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			}, teeBody(&raw))
			var acc openai.ChatCompletionAccumulator
			ids, models := map[string]bool{}, map[string]bool{}
			usageChunks, n := 0, 0
			for stream.Next() {
				n++
				c := stream.Current()
				if !acc.AddChunk(c) {
					t.Errorf("AddChunk refused chunk %d: %s", n, c.RawJSON())
				}
				ids[c.ID], models[c.Model] = true, true
				if c.JSON.Usage.Valid() {
					usageChunks++
					if len(c.Choices) != 0 {
						t.Errorf("usage on a chunk with choices: %s", c.RawJSON())
					}
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream error: %v (%s)", err, tc.explanation)
			}
			if usageChunks != 1 || len(ids) != 1 || len(models) != 1 || !models["up-primary"] {
				t.Errorf("%s: %d usage chunks, ids %v, models %v", tc.explanation, usageChunks, ids, models)
			}
			if u := acc.Usage; u.PromptTokens != 5 || u.CompletionTokens != 3 || u.TotalTokens != 8 {
				t.Errorf("%s: accumulated usage %+v, want 5+3=8", tc.explanation, u)
			}
			if acc.Choices[0].Message.Content != "one two three" {
				t.Errorf("content %q", acc.Choices[0].Message.Content)
			}
			events := rawEvents(t, raw.String())
			if len(events) < 2 || events[len(events)-1] != "[DONE]" || gjson.Get(events[len(events)-2], "choices.#").Int() != 0 {
				t.Errorf("the usage chunk is not the last before [DONE]: %v", events)
			}
		})
	}
}

// §8 item 5: an upstream that ignores stream_options, or rejects it, must not turn the stream
// into a 400, nor into an answer recorded as free: the gateway estimates the usage, records it
// as estimated, and supplies it to a client that asked for it.
func TestSDKStreamUpstreamWithoutStreamOptions(t *testing.T) {
	t.Parallel()
	ignores := func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		id, s := callID(c), openSSE(w)
		s.data(chunk(id, c.Model, `{"role":"assistant","content":"Hi"}`, "", ""))
		s.data(chunk(id, c.Model, `{}`, "stop", ""))
		s.done()
	}
	rejects := func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if gjson.GetBytes(c.Body, "stream_options").Exists() {
			writeBody(w, 400, "application/json", `{"error":{"message":"Unrecognized request argument supplied: stream_options","type":"invalid_request_error","param":null,"code":null}}`)
			return
		}
		ignores(w, r, c)
	}
	tests := []struct {
		name, explanation string
		script            script
		clientUsage       bool
	}{
		{"ignores, client asked", "old Ollama: no usage chunk at all; the client still gets its answer", ignores, true},
		{"ignores, client did not ask", "nothing to strip, nothing to add", ignores, false},
		{"rejects, client asked", "old Azure API versions answer 400 to stream_options; the gateway should retry without it", rejects, true},
		{"rejects, client did not ask", "the client never sent stream_options: a 400 about it would be the gateway's own doing", rejects, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: tc.script})
			params := openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")}
			if tc.clientUsage {
				params.StreamOptions.IncludeUsage = openai.Bool(true)
			}
			var httpResp *http.Response
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), params, option.WithMaxRetries(0), option.WithResponseInto(&httpResp))
			var acc openai.ChatCompletionAccumulator
			usageChunks, usageLast := 0, false
			for stream.Next() {
				c := stream.Current()
				if !acc.AddChunk(c) {
					t.Errorf("AddChunk refused %s", c.RawJSON())
				}
				usageLast = c.JSON.Usage.Valid() && len(c.Choices) == 0
				if c.JSON.Usage.Valid() {
					usageChunks++
				}
			}
			if err := stream.Err(); err != nil {
				var ae *openai.Error
				if errors.As(err, &ae) {
					t.Fatalf("%s: status %d %q (param %q)", tc.explanation, ae.StatusCode, ae.Message, ae.Param)
				}
				t.Fatalf("%s: %v", tc.explanation, err)
			}
			if acc.Choices[0].Message.Content != "Hi" {
				t.Errorf("content %q", acc.Choices[0].Message.Content)
			}
			// The upstream reported no usage: the gateway records its estimate (the prompt's
			// tokens by its own count, the answer's from its bytes) and prices it, and a client
			// that asked for usage gets it in one last chunk without choices.
			d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
			a := d.Attempts[len(d.Attempts)-1]
			if !a.UsageEstimated || a.Usage.PromptTokens != d.Features.TokensIn || a.Usage.CompletionTokens != clearbar.TokensOfBytes(len("Hi")) || a.Cost <= 0 || d.Cost <= 0 {
				t.Errorf("%s: attempt usage %+v estimated %v cost %s, decision cost %s (tokens_in %d)", tc.explanation, a.Usage, a.UsageEstimated, a.Cost, d.Cost, d.Features.TokensIn)
			}
			u := acc.Usage
			switch {
			case tc.clientUsage && (usageChunks != 1 || !usageLast):
				t.Errorf("%s: %d usage chunks (the last: %v), want one, last", tc.explanation, usageChunks, usageLast)
			case tc.clientUsage && (u.PromptTokens != int64(a.Usage.PromptTokens) || u.CompletionTokens != int64(a.Usage.CompletionTokens) || u.TotalTokens != u.PromptTokens+u.CompletionTokens):
				t.Errorf("%s: usage %+v, want the recorded estimate %+v", tc.explanation, u, a.Usage)
			case !tc.clientUsage && usageChunks != 0:
				t.Errorf("%s: %d usage chunks for a client that asked for none", tc.explanation, usageChunks)
			}
		})
	}
}

// §8 item 6: streamed tool calls, single and parallel (interleaved by index), reassemble into
// calls with their ids, names and valid JSON arguments; finish_reason is tool_calls.
func TestSDKToolCalls(t *testing.T) {
	t.Parallel()
	type call struct{ id, name, args string }
	tests := []struct {
		name, explanation string
		calls             []call
	}{
		{"single", "one call, arguments in three fragments", []call{{"call_a", "get_weather", `{"city":"Paris","unit":"c"}`}}},
		{"parallel", "two calls whose fragments interleave by index", []call{
			{"call_a", "get_weather", `{"city":"Paris"}`}, {"call_b", "get_time", `{"tz":"Europe/Paris"}`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				id, s := callID(c), openSSE(w)
				s.data(chunk(id, c.Model, `{"role":"assistant","content":null}`, "", ""))
				for i, tcall := range tc.calls {
					s.data(chunk(id, c.Model, fmt.Sprintf(`{"tool_calls":[{"index":%d,"id":%s,"type":"function","function":{"name":%s,"arguments":""}}]}`, i, js(tcall.id), js(tcall.name)), "", ""))
				}
				// Fragments of every call, round robin: parallel calls interleave.
				for part := range 3 {
					for i, tcall := range tc.calls {
						a := tcall.args
						lo, hi := part*len(a)/3, (part+1)*len(a)/3
						s.data(chunk(id, c.Model, fmt.Sprintf(`{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]}`, i, js(a[lo:hi])), "", ""))
					}
				}
				s.data(chunk(id, c.Model, `{}`, "tool_calls", ""))
				s.done()
			}})
			tools := []openai.ChatCompletionToolUnionParam{
				openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_weather", Parameters: shared.FunctionParameters{"type": "object"}}),
				openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time", Parameters: shared.FunctionParameters{"type": "object"}}),
			}
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/chat", Messages: userMessage("weather and time in Paris?"), Tools: tools,
			})
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Errorf("AddChunk refused %s", stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			msg := acc.Choices[0].Message
			if acc.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != len(tc.calls) {
				t.Fatalf("%s: finish %q, %d tool calls", tc.explanation, acc.Choices[0].FinishReason, len(msg.ToolCalls))
			}
			for i, want := range tc.calls {
				got := msg.ToolCalls[i]
				if got.ID != want.id || got.Function.Name != want.name || got.Function.Arguments != want.args || !json.Valid([]byte(got.Function.Arguments)) {
					t.Errorf("%s: call %d = %s %s %s, want %+v", tc.explanation, i, got.ID, got.Function.Name, got.Function.Arguments, want)
				}
			}
			if up := e.up.received(); len(up) != 1 || gjson.GetBytes(up[0].Body, "tools.#").Int() != 2 {
				t.Errorf("the tools did not reach the upstream: %+v", up)
			}
		})
	}
}

// §8 item 12: the developer role works against an OpenAI-compatible upstream, which gets it as
// the system role every such server knows, n reaches it unchanged, and the client gets both
// choices.
func TestSDKDeveloperRoleAndN(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 200, "application/json", `{"id":"chatcmpl-n2","object":"chat.completion","created":1,"model":"up-primary","choices":[`+
			`{"index":0,"message":{"role":"assistant","content":"first","refusal":null},"logprobs":null,"finish_reason":"stop"},`+
			`{"index":1,"message":{"role":"assistant","content":"second","refusal":null},"logprobs":null,"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}`)
	}})
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "clearbar/chat",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.DeveloperMessage("Answer in one word."),
			openai.UserMessage("Hello?"),
		},
		N: openai.Int(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 2 || resp.Choices[1].Index != 1 || resp.Choices[1].Message.Content != "second" {
		t.Errorf("choices %+v", resp.Choices)
	}
	up := e.up.received()
	if len(up) != 1 {
		t.Fatalf("%d upstream calls", len(up))
	}
	body := up[0].Body
	if gjson.GetBytes(body, "messages.0.role").Str != "system" || gjson.GetBytes(body, "messages.0.content").Str != "Answer in one word." ||
		gjson.GetBytes(body, "n").Int() != 2 {
		t.Errorf("upstream body %s", body)
	}
}

// §8 item 13: errors the gateway itself makes parse into *openai.Error with message, type, code
// and param, as an {"error": {...}} object, with x-request-id; 4xx are not retried.
func TestSDKGatewayErrors(t *testing.T) {
	t.Parallel()
	adminKey := "admin-key"
	e := newE2E(t, setup{edit: func(src string) string {
		return src + "keys:\n  admin: [\"" + gateway.HashKey(adminKey) + "\"]\n  clients:\n    - {name: sdk, hash: \"" + gateway.HashKey(clientKey) + "\", tier: free}\n" +
			"server: {max_body: 4KB}\n"
	}})
	ctx := context.Background()
	chat := func(params openai.ChatCompletionNewParams, opts ...option.RequestOption) error {
		_, err := e.client.Chat.Completions.New(ctx, params, opts...)
		return err
	}
	tests := []struct {
		name, explanation string
		do                func() error
		status            int
		typ, code, param  string
	}{
		{"no messages", "messages is required", func() error {
			return chat(openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: []openai.ChatCompletionMessageParamUnion{}})
		}, 400, "invalid_request_error", "missing_required_parameter", "messages"},
		{"no model", "model is required", func() error {
			return chat(openai.ChatCompletionNewParams{Messages: userMessage("x")})
		}, 400, "invalid_request_error", "missing_required_parameter", "model"},
		{"unknown category", "a header naming a category the spec does not declare", func() error {
			return chat(openai.ChatCompletionNewParams{Model: "m", Messages: userMessage("x")}, option.WithHeader("X-Clearbar-Category", "nope"))
		}, 400, "invalid_request_error", "unknown_category", "X-Clearbar-Category"},
		{"wrong key", "the client key is not the gateway's", func() error {
			return chat(openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("x")}, option.WithAPIKey("wrong"))
		}, 401, "invalid_request_error", "invalid_api_key", ""},
		{"admin endpoint with a client key", "the health endpoint needs the admin key", func() error {
			var out map[string]any
			return e.client.Get(ctx, "admin/health", nil, &out)
		}, 403, "permission_error", "admin_key_required", ""},
		{"admin endpoint with a wrong key", "a key that is none of the gateway's is a 401 there too", func() error {
			var out map[string]any
			return e.client.Get(ctx, "admin/health", nil, &out, option.WithAPIKey("wrong"))
		}, 401, "invalid_request_error", "invalid_api_key", ""},
		{"unknown model", "GET /v1/models/{id} of a name in the gateway's namespace that names nothing", func() error {
			_, err := e.client.Models.Get(ctx, "clearbar/nope")
			return err
		}, 404, "invalid_request_error", "model_not_found", "model"},
		{"unknown embeddings model", "embeddings go to a spec model by name", func() error {
			_, err := e.client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "m", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
			return err
		}, 404, "invalid_request_error", "model_not_found", "model"},
		{"unknown endpoint", "the moderations API is not served", func() error {
			_, err := e.client.Moderations.New(ctx, openai.ModerationNewParams{Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("x")}})
			return err
		}, 404, "not_found_error", "unknown_url", ""},
		{"body too large", "server.max_body is 4KB", func() error {
			return chat(openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage(strings.Repeat("x", 8000))})
		}, 413, "invalid_request_error", "request_too_large", ""},
	}
	for _, tc := range tests {
		before := len(e.inbound.retryCounts())
		err := tc.do()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		ae := apiError(t, err)
		if ae.StatusCode != tc.status || ae.Type != tc.typ || ae.Code != tc.code || ae.Param != tc.param || ae.Message == "" {
			t.Errorf("%s (%s): status %d type %q code %q param %q message %q; want %d %q %q %q", tc.name, tc.explanation,
				ae.StatusCode, ae.Type, ae.Code, ae.Param, ae.Message, tc.status, tc.typ, tc.code, tc.param)
		}
		if !gjson.Get(ae.RawJSON(), "message").Exists() || ae.Response.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: raw error %s, x-request-id %q", tc.name, ae.RawJSON(), ae.Response.Header.Get("X-Request-Id"))
		}
		if n := len(e.inbound.retryCounts()) - before; n > 1 {
			t.Errorf("%s: a %d was retried (%d chat requests)", tc.name, tc.status, n)
		}
	}
	if e.up.count("") != 0 {
		t.Errorf("rejected requests reached the upstream %d times", e.up.count(""))
	}
}

// §8 item 14: upstream errors in every shape become the OpenAI envelope with a sensible status.
func TestSDKUpstreamErrorShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation   string
		status              int
		contentType, body   string
		wantStatus          []int
		wantType, wantInMsg string
	}{
		{"openai envelope", "passes through with its param and code", 400, "application/json",
			`{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`,
			[]int{400}, "invalid_request_error", "Invalid value for 'temperature'"},
		{"vllm flat", "vLLM before mid-2025: no envelope, numeric code", 400, "application/json",
			`{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":null,"code":400}`,
			[]int{400}, "", "max_tokens must be at least 1"},
		{"fastapi detail list", "FastAPI validation error", 422, "application/json",
			`{"detail":[{"loc":["body","messages",0,"content"],"msg":"field required","type":"missing"}]}`,
			[]int{422}, "", "field required"},
		{"fastapi detail string", "FastAPI HTTPException on a 503", 503, "application/json",
			`{"detail":"Model is loading"}`, []int{502, 503}, "server_error", "Model is loading"},
		{"llama.cpp numeric code", "context overflow with a numeric code", 400, "application/json",
			`{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}`,
			[]int{400}, "", "exceeds the available context size"},
		{"gemini status", "Gemini's error with status RESOURCE_EXHAUSTED", 429, "application/json",
			`{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`,
			[]int{429}, "rate_limit_error", "Resource has been exhausted"},
		{"anthropic shape", "Anthropic's 529 overloaded_error", 529, "application/json",
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			[]int{502, 503}, "server_error", "Overloaded"},
		{"text/plain 502", "a proxy's plain-text Bad Gateway", 502, "text/plain; charset=utf-8",
			"Bad Gateway\n", []int{502, 503}, "server_error", "502"},
		{"html 503", "a load balancer page: no HTML reaches the client", 503, "text/html",
			"<html><body><h1>503 Service Unavailable</h1></body></html>", []int{502, 503}, "server_error", "503"},
		{"empty 500", "no body at all", 500, "", "", []int{500, 502, 503}, "server_error", "500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				writeBody(w, tc.status, tc.contentType, tc.body)
			}})
			_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/solo", Messages: userMessage("x"),
			}, option.WithMaxRetries(0))
			ae := apiError(t, err)
			if !slices.Contains(tc.wantStatus, ae.StatusCode) || ae.Type == "" || !strings.Contains(ae.Message, tc.wantInMsg) {
				t.Errorf("%s: status %d type %q message %q; want a status in %v and a message with %q", tc.explanation, ae.StatusCode, ae.Type, ae.Message, tc.wantStatus, tc.wantInMsg)
			}
			if tc.wantType != "" && ae.Type != tc.wantType {
				t.Errorf("%s: type %q, want %q", tc.explanation, ae.Type, tc.wantType)
			}
			if strings.Contains(ae.Message, "<") || !json.Valid([]byte(ae.RawJSON())) || !strings.HasPrefix(ae.RawJSON(), "{") {
				t.Errorf("%s: raw error %s", tc.explanation, ae.RawJSON())
			}
			checkDecisionHeaders(t, ae.Response.Header, "solo", "", "1")
		})
	}
}

// §8 item 15 (and 40, client retries counted): a 429 with retry-after-ms 50 makes openai-go try
// three times, X-Stainless-Retry-Count 0, 1, 2, in about 100 ms; the error exposes the headers.
func TestSDKRateLimitRetries(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 429, "application/json", `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`,
			"Retry-After-Ms", "50", "Retry-After", "1")
	}})
	start := time.Now()
	_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/solo", Messages: userMessage("x")})
	elapsed := time.Since(start)
	ae := apiError(t, err)
	if ae.StatusCode != 429 || ae.Type != "rate_limit_error" || ae.Code != "rate_limit_exceeded" {
		t.Errorf("status %d type %q code %q", ae.StatusCode, ae.Type, ae.Code)
	}
	if got := e.inbound.retryCounts(); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("X-Stainless-Retry-Count at the gateway %v, want [0 1 2]", got)
	}
	if n := e.up.count("up-primary"); n != 3 {
		t.Errorf("upstream called %d times, want 3 (one per client attempt; solo does not retry)", n)
	}
	if elapsed < 100*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("three attempts took %v, want about 100ms", elapsed)
	}
	if h := ae.Response.Header; h.Get("Retry-After-Ms") != "50" || h.Get("Retry-After") != "1" {
		t.Errorf("retry-after-ms %q retry-after %q", h.Get("Retry-After-Ms"), h.Get("Retry-After"))
	}
	if got := e.metric(t, "clearbar_client_retries_total"); got != 2 {
		t.Errorf("clearbar_client_retries_total = %v, want 2", got)
	}
}

// §8 item 16: an upstream that is out of credit (429 insufficient_quota) gets exactly one call:
// the client is told x-should-retry: false, and the gateway does not retry it either.
func TestSDKQuotaExhaustedIsNotRetried(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		writeBody(w, 429, "application/json", `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`)
	}})
	// The chat route retries provider failures once (spec retry.attempts 1) and falls back.
	_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("x")})
	ae := apiError(t, err)
	if ae.StatusCode != 429 || ae.Code != "insufficient_quota" || ae.Response.Header.Get("X-Should-Retry") != "false" {
		t.Errorf("status %d code %q x-should-retry %q", ae.StatusCode, ae.Code, ae.Response.Header.Get("X-Should-Retry"))
	}
	if got := e.inbound.retryCounts(); len(got) != 1 {
		t.Errorf("the client tried %d times, want 1", len(got))
	}
	if n := e.up.count("up-primary"); n != 1 {
		t.Errorf("the out-of-credit model was called %d times, want 1: retrying it cannot succeed", n)
	}
}

// §8 item 17: a transient overload is answered 503 with a small retry-after-ms, which the SDK
// retries until it succeeds.
func TestSDKTransientOverloadIsRetried(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if c.N <= 2 {
			writeBody(w, 503, "application/json", `{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}`, "Retry-After-Ms", "20")
			return
		}
		answerNormally(w, r, c)
	}})
	var attempts attemptLog
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/solo", Messages: userMessage("x")}, attempts.option())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "answer from up-primary" {
		t.Errorf("content %q", resp.Choices[0].Message.Content)
	}
	if !slices.Equal(attempts.statuses, []int{503, 503, 200}) || !slices.Equal(e.inbound.retryCounts(), []string{"0", "1", "2"}) {
		t.Fatalf("attempts %v, retry counts %v", attempts.statuses, e.inbound.retryCounts())
	}
	for _, h := range attempts.headers[:2] {
		ms, err := strconv.Atoi(h.Get("Retry-After-Ms"))
		if err != nil || ms <= 0 || ms > 1000 || h.Get("X-Should-Retry") == "false" {
			t.Errorf("a transient 503 should carry a small retry-after-ms and allow retries: retry-after-ms %q x-should-retry %q",
				h.Get("Retry-After-Ms"), h.Get("X-Should-Retry"))
		}
	}
}

// §8 item 18: whatever the upstream asks, the gateway never tells its clients to wait more than
// 60 s (openai-go gives up above two minutes; Anthropic's SDKs would block), and does not itself
// sit out an hour-long Retry-After.
func TestSDKRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, explanation string
		headers           []string
	}{
		{"retry-after an hour", "seconds", []string{"Retry-After", "3600"}},
		{"retry-after-ms ten minutes", "milliseconds, as OpenAI sends them", []string{"Retry-After-Ms", "600000"}},
		{"retry-after date", "an HTTP date two hours ahead", []string{"Retry-After", time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)}},
		{"retry-after just over the cap", "61 seconds", []string{"Retry-After", "61"}},
		{"retry-after fractional", "a fractional number of seconds", []string{"Retry-After", "7200.5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				writeBody(w, 429, "application/json", `{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, tc.headers...)
			}})
			start := time.Now()
			_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("x")}, option.WithMaxRetries(0))
			ae := apiError(t, err)
			if time.Since(start) > 10*time.Second {
				t.Errorf("%s: the gateway waited %v", tc.explanation, time.Since(start))
			}
			h := ae.Response.Header
			if v := h.Get("Retry-After"); v != "" {
				if s, err := strconv.Atoi(v); err != nil || s > 60 || s < 1 {
					t.Errorf("%s: Retry-After %q: not whole seconds in 1..60", tc.explanation, v)
				}
			}
			if v := h.Get("Retry-After-Ms"); v != "" {
				if ms, err := strconv.Atoi(v); err != nil || ms > 60000 || ms < 1 {
					t.Errorf("%s: Retry-After-Ms %q: not in 1..60000", tc.explanation, v)
				}
			}
			if ae.StatusCode != 429 {
				t.Errorf("status %d", ae.StatusCode)
			}
		})
	}
}

// §8 item 19: a stream that fails after its first byte ends with an error event; the SDK reports
// a *ssestream.StreamError, no [DONE] is sent, and the fallback model is not called.
func TestSDKStreamErrorAfterFirstByte(t *testing.T) {
	t.Parallel()
	twoChunks := func(s *sseOut, c upstreamCall) {
		id := callID(c)
		s.data(chunk(id, c.Model, `{"role":"assistant","content":"Hel"}`, "", ""))
		s.data(chunk(id, c.Model, `{"content":"lo"}`, "", ""))
	}
	tests := []struct {
		name, explanation string
		end               func(w http.ResponseWriter, s *sseOut)
	}{
		{"connection cut", "the upstream's connection closes inside the chunked body", func(w http.ResponseWriter, s *sseOut) { resetConn(w, false) }},
		{"clean end without [DONE]", "the body ends without the terminator", func(w http.ResponseWriter, s *sseOut) {}},
		{"error event", "the upstream reports an error mid-stream", func(w http.ResponseWriter, s *sseOut) {
			s.data(`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`)
		}},
		{"malformed chunk", "a chunk that is not JSON", func(w http.ResponseWriter, s *sseOut) { s.data(`{"id":"x","choices":[`) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model != "up-primary" {
					answerNormally(w, r, c)
					return
				}
				s := openSSE(w)
				twoChunks(s, c)
				tc.end(w, s)
			}})
			var raw bytes.Buffer
			var httpResp *http.Response
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/chat", Messages: userMessage("hi"),
			}, teeBody(&raw), option.WithResponseInto(&httpResp))
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			var se *ssestream.StreamError
			if err := stream.Err(); !errors.As(err, &se) {
				t.Fatalf("%s: stream error %v (%T), want *ssestream.StreamError", tc.explanation, err, err)
			}
			if acc.Choices[0].Message.Content != "Hello" {
				t.Errorf("content before the cut %q", acc.Choices[0].Message.Content)
			}
			events := rawEvents(t, raw.String())
			last := events[len(events)-1]
			if slices.Contains(events, "[DONE]") || !gjson.Get(last, "error.message").Exists() || !gjson.Get(last, "error.type").Exists() {
				t.Errorf("%s: events %v", tc.explanation, events)
			}
			if n := e.up.count("up-secondary"); n != 0 {
				t.Errorf("the fallback was called %d times after the answer began", n)
			}
			d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
			if d.Outcome == clearbar.OK || d.Outcome == clearbar.Canceled {
				t.Errorf("decision outcome %s", d.Outcome)
			}
		})
	}
}

// §8 item 20: a client that goes away mid-stream cancels the upstream call; the decision says
// canceled and the breaker counts no failure.
func TestSDKClientCancelMidStream(t *testing.T) {
	t.Parallel()
	upstreamCanceled := make(chan struct{})
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		s := openSSE(w)
		s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":"first"}`, "", ""))
		select {
		case <-r.Context().Done():
			close(upstreamCanceled)
		case <-time.After(10 * time.Second):
		}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var httpResp *http.Response
	stream := e.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")},
		option.WithResponseInto(&httpResp))
	if !stream.Next() {
		t.Fatalf("no first chunk: %v", stream.Err())
	}
	cancel()
	for stream.Next() {
	}
	if err := stream.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("stream error %v", err)
	}
	stream.Close()
	select {
	case <-upstreamCanceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream call was not canceled when the client went away")
	}
	d := e.decisions.wait(t, httpResp.Header.Get("X-Clearbar-Decision-Id"))
	if d.Outcome != clearbar.Canceled || d.Attempts[0].Class != clearbar.Canceled {
		t.Errorf("decision outcome %s, attempt class %s", d.Outcome, d.Attempts[0].Class)
	}
	if st, ok := e.breaker(t, "up/primary"); ok && (st.Failures != 0 || st.ConsecutiveFailures != 0) {
		t.Errorf("the breaker counted a client cancellation: %+v", st)
	}
	if e.up.count("up-secondary") != 0 {
		t.Error("a canceled request fell back")
	}
}

// §8 item 20, with the SDK's own request timeout: the attempt that times out on the client
// cancels its upstream call, which is not charged to the upstream. (openai-go v3.98 does not
// retry an attempt that hit WithRequestTimeout: it returns the deadline error at once.)
func TestSDKRequestTimeoutCancelsUpstream(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		hangUntilCanceled(r)
	}})
	start := time.Now()
	_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/slowsolo", Messages: userMessage("hi")},
		option.WithRequestTimeout(100*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the SDK's request timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("a 100ms attempt took %v", elapsed)
	}
	if got := e.inbound.retryCounts(); !slices.Equal(got, []string{"0"}) {
		t.Errorf("X-Stainless-Retry-Count %v, want [0]", got)
	}
	d := e.decisions.waitCount(t, 1)[0]
	if d.Outcome != clearbar.Canceled || len(d.Attempts) != 1 || d.Attempts[0].Class != clearbar.Canceled {
		t.Errorf("decision outcome %s attempts %v, want one canceled attempt (the model's own timeout is 300ms)", d.Outcome, attemptClasses(d))
	}
	waitFor(t, "the upstream call to be canceled", func() bool { return e.up.canceled.Load() == 1 })
	if st, ok := e.breaker(t, "up/slow"); ok && (st.Failures != 0 || st.ConsecutiveFailures != 0) {
		t.Errorf("the breaker counted the client's timeout: %+v", st)
	}
}

// §8 items 21 and 39: a primary that fails before the first byte is replaced by the fallback; the
// client sees one 200 stream whose headers name the final model and the attempts. A stream that
// sent only its role chunk before failing has sent nothing of the answer: it is replaced too.
func TestSDKStreamFallbackBeforeFirstByte(t *testing.T) {
	t.Parallel()
	// roleThen opens a stream with the role-only chunk, then fails it: nothing of the answer
	// has come, so nothing has gone to the client either.
	roleThen := func(fail func(s *sseOut, w http.ResponseWriter)) func(w http.ResponseWriter, c upstreamCall) {
		return func(w http.ResponseWriter, c upstreamCall) {
			s := openSSE(w)
			s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":""}`, "", ""))
			fail(s, w)
		}
	}
	tests := []struct {
		name, explanation string
		fail              func(w http.ResponseWriter, c upstreamCall)
		attempts          string
		primaryCalls      int
	}{
		{"5xx", "503 overloaded: retried once, then the fallback", func(w http.ResponseWriter, _ upstreamCall) {
			writeBody(w, 503, "application/json", `{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`)
		}, "3", 2},
		{"429", "rate limited with a short retry-after-ms", func(w http.ResponseWriter, _ upstreamCall) {
			writeBody(w, 429, "application/json", `{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}`, "Retry-After-Ms", "5")
		}, "3", 2},
		{"role chunk, then an error event", "a stream cut after its role chunk falls back at once", roleThen(func(s *sseOut, _ http.ResponseWriter) {
			s.data(`{"error":{"message":"the model crashed","type":"server_error","param":null,"code":null}}`)
		}), "2", 1},
		{"role chunk, then a reset", "as above, the connection reset", roleThen(func(_ *sseOut, w http.ResponseWriter) {
			resetConn(w, true)
		}), "2", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
				if c.Model == "up-primary" {
					tc.fail(w, c)
					return
				}
				answerNormally(w, r, c)
			}})
			var httpResp *http.Response
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/chat", Messages: userMessage("hi"),
			}, option.WithResponseInto(&httpResp))
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Errorf("AddChunk refused %s", stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			if httpResp.StatusCode != 200 || acc.Choices[0].Message.Content != "Hello, world!" || acc.Model != "up-secondary" {
				t.Errorf("%s: status %d content %q model %q", tc.explanation, httpResp.StatusCode, acc.Choices[0].Message.Content, acc.Model)
			}
			checkDecisionHeaders(t, httpResp.Header, "chat", "secondary", tc.attempts)
			if len(e.inbound.retryCounts()) != 1 || e.up.count("up-primary") != tc.primaryCalls || e.up.count("up-secondary") != 1 {
				t.Errorf("client requests %d, primary calls %d, secondary calls %d", len(e.inbound.retryCounts()), e.up.count("up-primary"), e.up.count("up-secondary"))
			}
		})
	}
}

// §8 item 24: the model list iterates with the SDK; an unknown id is a 404 envelope.
func TestSDKModels(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{})
	ctx := context.Background()
	ids := map[string]bool{}
	iter := e.client.Models.ListAutoPaging(ctx)
	for iter.Next() {
		m := iter.Current()
		if m.Object != "model" || m.OwnedBy == "" {
			t.Errorf("model %+v", m)
		}
		ids[m.ID] = true
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"clearbar/chat", "clearbar/solo", "clearbar/slowpath", "primary", "secondary", "slow"} {
		if !ids[want] {
			t.Errorf("the model list lacks %q: %v", want, ids)
		}
	}
	m, err := e.client.Models.Get(ctx, "clearbar/chat")
	if err != nil || m.ID != "clearbar/chat" {
		t.Errorf("get clearbar/chat: %+v %v", m, err)
	}
	_, err = e.client.Models.Get(ctx, "clearbar/nope")
	if ae := apiError(t, err); ae.StatusCode != 404 || ae.Code != "model_not_found" {
		t.Errorf("unknown model: %d %q", ae.StatusCode, ae.Code)
	}
}

// §8 items 24 and 38: a spec model that GET /v1/models lists can be asked for by name, and it is
// the model that answers (the list says so: "up-secondary on up").
func TestSDKListedModelIsServedWhenNamed(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{})
	var httpResp *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "secondary", Messages: userMessage("hi"),
	}, option.WithResponseInto(&httpResp))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "up-secondary" || httpResp.Header.Get("X-Clearbar-Model") != "secondary" {
		t.Errorf("asked for the listed model \"secondary\"; served by %q (upstream model %q), category %q",
			httpResp.Header.Get("X-Clearbar-Model"), resp.Model, httpResp.Header.Get("X-Clearbar-Category"))
	}
}

// §8 item 27: unknown fields go through both ways; the gateway's own routing hints (metadata keys
// starting with clearbar) are stripped before the upstream; extra response fields reach the SDK.
func TestSDKExtensionFields(t *testing.T) {
	t.Parallel()
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		body := completion("chatcmpl-x", c.Model, "ok")
		body = body[:len(body)-1] + `,"x_upstream":{"region":"eu"}}`
		writeBody(w, 200, "application/json", body, "X-Upstream-Custom", "1")
	}})
	var httpResp *http.Response
	resp, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "m", Messages: userMessage("hi"),
		Metadata: shared.Metadata{"clearbar_category": "solo", "team": "support"},
	}, option.WithJSONSet("x_custom", map[string]any{"a": []int{1, 2}}), option.WithResponseInto(&httpResp))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := resp.JSON.ExtraFields["x_upstream"]; !ok || gjson.Get(f.Raw(), "region").Str != "eu" {
		t.Errorf("extra response field lost: %v", resp.JSON.ExtraFields)
	}
	if httpResp.Header.Get("X-Clearbar-Category") != "solo" {
		t.Errorf("category %q, want solo from metadata", httpResp.Header.Get("X-Clearbar-Category"))
	}
	up := e.up.received()
	if len(up) != 1 {
		t.Fatalf("%d upstream calls", len(up))
	}
	body := up[0].Body
	if meta := gjson.GetBytes(body, "metadata"); meta.Get("clearbar_category").Exists() || meta.Get("team").Str != "support" {
		t.Errorf("upstream metadata %s", meta.Raw)
	}
	if got := gjson.GetBytes(body, "x_custom").Raw; got != `{"a":[1,2]}` || gjson.GetBytes(body, "model").Str != "up-primary" {
		t.Errorf("upstream body %s", body)
	}
}

// §8 item 28: neither the SDK's x-stainless-* headers nor the client's key reach the upstream,
// which gets the provider's key; the provider's key appears in no error, whatever the upstream
// echoes.
func TestSDKNoHeaderOrKeyLeaks(t *testing.T) {
	t.Parallel()
	echo := "Incorrect API key provided: " + upstreamKey + ". You can find your API key at https://platform.openai.com/account/api-keys."
	tests := []struct {
		name, explanation string
		stream            bool
		script            script
	}{
		{"upstream 401 echoes the key", "OpenAI's 401 names the key it got", false, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			writeBody(w, 401, "application/json", `{"error":{"message":`+js(echo)+`,"type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		}},
		{"upstream 400 quotes the header", "a proxy quoting the Authorization header", false, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			writeBody(w, 400, "text/plain", "bad request: Authorization: "+r.Header.Get("Authorization"))
		}},
		{"mid-stream error echoes the key", "an error event carrying the key", true, func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
			s := openSSE(w)
			s.data(chunk(callID(c), c.Model, `{"role":"assistant","content":"x"}`, "", ""))
			s.data(`{"error":{"message":` + js(echo) + `,"type":"server_error","param":null,"code":null}}`)
		}},
		{"success", "headers only", true, func(w http.ResponseWriter, r *http.Request, c upstreamCall) { answerNormally(w, r, c) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newE2E(t, setup{script: tc.script})
			var raw bytes.Buffer
			params := openai.ChatCompletionNewParams{Model: "clearbar/solo", Messages: userMessage("hi")}
			var err error
			if tc.stream {
				stream := e.client.Chat.Completions.NewStreaming(context.Background(), params, teeBody(&raw), option.WithMaxRetries(0))
				for stream.Next() {
				}
				err = stream.Err()
			} else {
				_, err = e.client.Chat.Completions.New(context.Background(), params, teeBody(&raw), option.WithMaxRetries(0),
					option.WithRequestTimeout(10*time.Second))
			}
			if err != nil {
				if strings.Contains(err.Error(), upstreamKey) {
					t.Errorf("%s: the error text has the provider's key: %v", tc.explanation, err)
				}
				var ae *openai.Error
				if errors.As(err, &ae) && (strings.Contains(ae.Message, upstreamKey) || strings.Contains(ae.RawJSON(), upstreamKey)) {
					t.Errorf("%s: the error has the provider's key: %s", tc.explanation, ae.RawJSON())
				}
				if errors.As(err, &ae) && ae.StatusCode == 401 {
					t.Errorf("%s: the provider's rejection of the gateway's key reached the client as a 401 (the client's key was fine)", tc.explanation)
				}
			}
			if strings.Contains(raw.String(), upstreamKey) || strings.Contains(raw.String(), "SECRET") {
				t.Errorf("%s: the wire to the client has the provider's key: %s", tc.explanation, raw.String())
			}
			up := e.up.received()
			if len(up) == 0 {
				t.Fatal("no upstream call")
			}
			for _, c := range up {
				for name, vals := range c.Header {
					if strings.HasPrefix(strings.ToLower(name), "x-stainless") {
						t.Errorf("the SDK's %s header reached the upstream", name)
					}
					for _, v := range vals {
						if strings.Contains(v, clientKey) || strings.Contains(v, "OpenAI/Go") {
							t.Errorf("the client's %s (%q) reached the upstream", name, v)
						}
					}
				}
				if c.Header.Get("Authorization") != "Bearer "+upstreamKey {
					t.Errorf("upstream Authorization %q", c.Header.Get("Authorization"))
				}
			}
		})
	}
}

// §8 item 39: the explanation headers come on success, on errors and on streams, where they
// arrive before the first chunk.
func TestSDKDecisionHeadersBeforeFirstChunk(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		if c.Model == "up-secondary" {
			writeBody(w, 400, "application/json", `{"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":null}}`)
			return
		}
		id, s := callID(c), openSSE(w)
		s.data(chunk(id, c.Model, `{"role":"assistant","content":"a"}`, "", ""))
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		s.data(chunk(id, c.Model, `{}`, "stop", ""))
		s.done()
	}})
	var httpResp *http.Response
	stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/chat", Messages: userMessage("hi")},
		option.WithResponseInto(&httpResp))
	// The upstream holds the stream after its first chunk: the headers are already here.
	checkDecisionHeaders(t, httpResp.Header, "chat", "primary", "1")
	if httpResp.Header.Get("Content-Type") != "text/event-stream" || httpResp.Header.Get("X-Clearbar-Provider") != "up" {
		t.Errorf("content type %q provider %q", httpResp.Header.Get("Content-Type"), httpResp.Header.Get("X-Clearbar-Provider"))
	}
	if !stream.Next() {
		t.Fatal(stream.Err())
	}
	close(release)
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}

	_, err := e.client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{Model: "clearbar/backup", Messages: userMessage("hi")})
	ae := apiError(t, err)
	checkDecisionHeaders(t, ae.Response.Header, "backup", "", "1")
	if d := e.decisions.wait(t, ae.Response.Header.Get("X-Clearbar-Decision-Id")); d.Outcome != clearbar.ClientError || d.Status != 400 {
		t.Errorf("decision outcome %s status %d", d.Outcome, d.Status)
	}
}

// §8 item 40: 100 streams at once through the gateway with the Go SDK: every client gets its own
// id, content and usage, and nothing else.
func TestSDKParallelStreams(t *testing.T) {
	t.Parallel()
	const n = 100
	e := newE2E(t, setup{script: func(w http.ResponseWriter, r *http.Request, c upstreamCall) {
		msg := gjson.GetBytes(c.Body, "messages.0.content").Str // "req-N"
		k, _ := strconv.Atoi(strings.TrimPrefix(msg, "req-"))
		id, s := "chatcmpl-"+msg, openSSE(w)
		parts := []string{"reply", " to ", msg}
		for i, p := range parts {
			if !s.data(chunk(id, "up-primary", `{"content":`+js(p)+`}`, "", "")) {
				return
			}
			time.Sleep(time.Duration((k+i)%5) * time.Millisecond)
		}
		s.data(chunk(id, "up-primary", `{}`, "stop", ""))
		s.data(usageChunk(id, "up-primary", usageJSON(k+1, 3)))
		s.done()
	}})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	decisionIDs := make(chan string, n)
	for k := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("req-%d", k)
			var httpResp *http.Response
			stream := e.client.Chat.Completions.NewStreaming(context.Background(), openai.ChatCompletionNewParams{
				Model: "clearbar/chat", Messages: userMessage(msg),
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			}, option.WithResponseInto(&httpResp))
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				if c := stream.Current(); !acc.AddChunk(c) || c.ID != "chatcmpl-"+msg {
					errs <- fmt.Errorf("%s: chunk %s", msg, c.RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				errs <- fmt.Errorf("%s: %w", msg, err)
				return
			}
			decisionIDs <- httpResp.Header.Get("X-Clearbar-Decision-Id")
			if acc.ID != "chatcmpl-"+msg || acc.Choices[0].Message.Content != "reply to "+msg ||
				acc.Usage.PromptTokens != int64(k+1) || acc.Usage.CompletionTokens != 3 {
				errs <- fmt.Errorf("%s: id %q content %q usage %+v", msg, acc.ID, acc.Choices[0].Message.Content, acc.Usage)
			}
		})
	}
	wg.Wait()
	close(errs)
	close(decisionIDs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for id := range decisionIDs {
		if seen[id] || id == "" {
			t.Errorf("decision id %q given twice", id)
		}
		seen[id] = true
	}
	if got := e.up.count("up-primary"); got != n {
		t.Errorf("%d upstream calls for %d streams", got, n)
	}
	for _, d := range e.decisions.waitCount(t, n) {
		if d.Outcome != clearbar.OK || d.Usage.CompletionTokens != 3 {
			t.Errorf("decision %s: outcome %s usage %+v", d.ID, d.Outcome, d.Usage)
		}
	}
}
