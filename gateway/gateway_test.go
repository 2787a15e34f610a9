package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/spec"
	"github.com/clearbar/clearbar/validate"
)

// memRecorder keeps decisions in memory.
type memRecorder struct {
	mu sync.Mutex
	ds []*clearbar.Decision
}

func (m *memRecorder) Record(d *clearbar.Decision) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds = append(m.ds, d)
	return true
}

func (m *memRecorder) last() *clearbar.Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ds) == 0 {
		return nil
	}
	return m.ds[len(m.ds)-1]
}

func (m *memRecorder) Get(_ context.Context, id string) (*clearbar.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.ds {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, errNotFound
}

type fixture struct {
	srv  *httptest.Server
	gw   *Gateway
	a, b *fakeProvider
	rec  *memRecorder
}

func newFixture(t *testing.T, edit func(src string) string) *fixture {
	t.Helper()
	data, err := readFile("testdata/gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	if edit != nil {
		src = edit(src)
	}
	s, err := spec.Parse([]byte(src), "testdata/gw.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{a: newFake("a"), b: newFake("b"), rec: &memRecorder{}}
	f.gw, err = New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": f.a, "b": f.b}, Recorder: f.rec, Decisions: f.rec})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(f.srv.Close)
	return f
}

func readFile(p string) ([]byte, error) { return osReadFile(p) }

func (f *fixture) post(t *testing.T, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readAll(t *testing.T, r *http.Response) []byte {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const hello = `{"model":"clearbar/intent","messages":[{"role":"user","content":"hello"}]}`

func overloaded() error {
	return &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "upstream overloaded"}
}

func TestCompleteHappyPathHeaders(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.post(t, hello)
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"X-Clearbar-Category": "intent", "X-Clearbar-Model": "small", "X-Clearbar-Provider": "a",
		"X-Clearbar-Attempts": "1", "Content-Type": "application/json",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	if !strings.HasPrefix(id, "dec_") || resp.Header.Get("X-Request-Id") != id {
		t.Errorf("decision id %q, request id %q", id, resp.Header.Get("X-Request-Id"))
	}
	if resp.Header.Get("X-Clearbar-Cost-Usd") == "" {
		t.Error("no cost header on an answer with usage")
	}
	d := f.rec.last()
	if d == nil || d.ID != id || d.Category != "intent" || d.CategoryBy != "model alias clearbar/intent" || d.Outcome != clearbar.OK {
		t.Fatalf("decision %+v", d)
	}
	if d.Cost <= 0 || d.Usage.PromptTokens != 10 || len(d.Attempts) != 1 || d.Attempts[0].Outcome != "accepted" {
		t.Errorf("decision cost %v usage %+v attempts %+v", d.Cost, d.Usage, d.Attempts)
	}
	if d.Prompt != "" {
		t.Error("prompt text recorded for a category that did not opt in")
	}
}

func TestFallbackOnProviderFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(model string, n int) error { return overloaded() }
	resp := f.post(t, hello)
	body := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "big" {
		t.Fatalf("status %d model %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
	}
	// One retry of small (Overloaded retries the same model), then big.
	if got := f.a.Calls("gpt-4o-mini"); got != 2 {
		t.Errorf("small called %d times, want 2 (one retry)", got)
	}
	d := f.rec.last()
	kinds := []string{}
	for _, a := range d.Attempts {
		kinds = append(kinds, a.Kind+":"+a.Class.String())
	}
	if strings.Join(kinds, ",") != "primary:overloaded,retry:overloaded,fallback:ok" {
		t.Errorf("attempts %v", kinds)
	}
	if resp.Header.Get("X-Clearbar-Attempts") != "3" {
		t.Errorf("attempts header %q", resp.Header.Get("X-Clearbar-Attempts"))
	}
}

func TestEveryFallbackFailsReturnsPrimaryError(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(string, int) error {
		return &clearbar.Error{Class: clearbar.RateLimited, Status: 429, Message: "slow down", RetryAfter: 50 * time.Millisecond}
	}
	f.b.behave = func(string, int) error {
		return &clearbar.Error{Class: clearbar.Timeout, Status: 504, Message: "too slow"}
	}
	resp := f.post(t, hello)
	body := readAll(t, resp)
	if resp.StatusCode != 429 {
		t.Fatalf("status %d, want the primary's 429: %s", resp.StatusCode, body)
	}
	var e struct {
		Error struct{ Message, Type, Code string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Type != "rate_limit_error" || e.Error.Message != "slow down" {
		t.Errorf("error body %s", body)
	}
	if resp.Header.Get("Retry-After-Ms") != "50" {
		t.Errorf("retry-after-ms %q", resp.Header.Get("Retry-After-Ms"))
	}
	// small is retried once after its Retry-After (the spec allows one retry), then big is
	// tried once (a timeout falls back at once); the client gets small's error.
	if f.a.Calls("gpt-4o-mini") != 2 || f.b.Calls("gpt-4o") != 1 {
		t.Errorf("small called %d times, big %d", f.a.Calls("gpt-4o-mini"), f.b.Calls("gpt-4o"))
	}
	d := f.rec.last()
	if d.Attempts[1].Kind != clearbar.AttemptRetry || d.Attempts[1].Start.Sub(d.Attempts[0].Start) < 50*time.Millisecond {
		t.Errorf("the retry did not wait for Retry-After: %+v", d.Attempts)
	}
}

func TestClientErrorIsNotRetriedOrFallenBack(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(string, int) error {
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Message: "bad tool schema", Param: "tools"}
	}
	resp := f.post(t, hello)
	readAll(t, resp)
	if resp.StatusCode != 400 || f.b.Calls("gpt-4o") != 0 || f.a.Calls("gpt-4o-mini") != 1 {
		t.Errorf("status %d, small %d calls, big %d calls", resp.StatusCode, f.a.Calls("gpt-4o-mini"), f.b.Calls("gpt-4o"))
	}
}

func TestCategoryAssignment(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		body, header, want, by string
	}{
		{`{"model":"intent-model","messages":[{"role":"user","content":"x"}]}`, "", "intent", "model alias intent-model"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]}`, "X-Task: intent", "intent", "header X-Task: intent"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}]}`, "X-Clearbar-Category: refunds", "refunds", "header X-Clearbar-Category"},
		{`{"model":"m","metadata":{"clearbar_category":"long"},"messages":[{"role":"user","content":"x"}]}`, "", "long", "metadata clearbar_category"},
		{`{"model":"m","messages":[{"role":"user","content":"a chargeback please"}]}`, "", "refunds", "rule of refunds"},
		{`{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("long text ", 300) + `"}]}`, "", "long", "rule of long"},
		{`{"model":"m","messages":[{"role":"user","content":"hello"}]}`, "", "chat", "default category"},
	} {
		var hs []string
		if tc.header != "" {
			k, v, _ := strings.Cut(tc.header, ": ")
			hs = []string{k, v}
		}
		resp := f.post(t, tc.body, hs...)
		readAll(t, resp)
		d := f.rec.last()
		if d.Category != tc.want || !strings.HasPrefix(d.CategoryBy, tc.by) {
			t.Errorf("%s %s: category %q by %q, want %q by %q", tc.header, tc.body[:40], d.Category, d.CategoryBy, tc.want, tc.by)
		}
	}
	resp := f.post(t, hello, "X-Clearbar-Category", "nope")
	body := readAll(t, resp)
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("unknown_category")) {
		t.Errorf("unknown category: %d %s", resp.StatusCode, body)
	}
}

// TestUnknownAliasIsModelNotFound: a model in Clearbar's namespace that names no category is
// a typo, answered 404 model_not_found as OpenAI answers an unknown model, not routed to the
// default category; clearbar/auto (classify me) still routes by rules.
func TestUnknownAliasIsModelNotFound(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.post(t, `{"model":"clearbar/nope","messages":[{"role":"user","content":"hello"}]}`)
	body := readAll(t, resp)
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    string  `json:"code"`
			Param   *string `json:"param"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 404 || e.Error.Code != "model_not_found" ||
		e.Error.Type != "invalid_request_error" || e.Error.Param == nil || *e.Error.Param != "model" {
		t.Fatalf("clearbar/nope: %d %s", resp.StatusCode, body)
	}
	for _, alias := range []string{"clearbar/auto", "clearbar/intent", "clearbar/chat"} {
		if !strings.Contains(e.Error.Message, alias) {
			t.Errorf("the error does not name %s: %s", alias, e.Error.Message)
		}
	}
	if d := f.rec.last(); d == nil || d.Status != 404 || d.RequestedModel != "clearbar/nope" {
		t.Errorf("decision %+v", d)
	}
	if f.a.Calls("gpt-4o-mini")+f.b.Calls("gpt-4o") > 0 {
		t.Error("an unknown alias reached a provider")
	}

	resp = f.post(t, `{"model":"clearbar/auto","messages":[{"role":"user","content":"a refund please"}]}`)
	if body := readAll(t, resp); resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Category") != "refunds" {
		t.Errorf("clearbar/auto: %d category %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Category"), body)
	}
	resp, _ = f.srv.Client().Get(f.srv.URL + "/v1/models/clearbar/auto")
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Errorf("GET /v1/models/clearbar/auto: %d %s", resp.StatusCode, body)
	}
}

func TestRulesRecorded(t *testing.T) {
	f := newFixture(t, nil)
	readAll(t, f.post(t, `{"model":"m","messages":[{"role":"user","content":"refund"}]}`))
	d := f.rec.last()
	if len(d.Rules) != 2 || d.Rules[0].Category != "refunds" || !d.Rules[0].Fired || d.Rules[1].Fired {
		t.Errorf("rules %+v", d.Rules)
	}
}

func TestContextWindowRouting(t *testing.T) {
	f := newFixture(t, nil)
	// small has a 1,000-token window; this request needs about 1,300 tokens.
	body := `{"model":"clearbar/intent","messages":[{"role":"user","content":"` + strings.Repeat("word ", 1000) + `"}]}`
	resp := f.post(t, body)
	readAll(t, resp)
	d := f.rec.last()
	if resp.Header.Get("X-Clearbar-Model") != "big" || len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0].Reason, "context window 1000") {
		t.Errorf("model %q skipped %+v", resp.Header.Get("X-Clearbar-Model"), d.Skipped)
	}
	if f.a.Calls("gpt-4o-mini") != 0 {
		t.Error("the too-small model was called")
	}
}

func TestRecordTextOptIn(t *testing.T) {
	f := newFixture(t, nil)
	readAll(t, f.post(t, `{"model":"m","messages":[{"role":"user","content":"hello there"}]}`))
	d := f.rec.last()
	if d.Category != "chat" || d.Prompt != "hello there" || d.Answer == "" {
		t.Errorf("chat opts in to text: prompt %q answer %q", d.Prompt, d.Answer)
	}
	if d.PromptHash == "" || d.PromptChars != len("hello there") {
		t.Errorf("hash %q chars %d", d.PromptHash, d.PromptChars)
	}
}

// sseEvents reads an SSE body into its data payloads.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestStreamFallbackBeforeFirstByte(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(string, int) error { return overloaded() }
	resp := f.post(t, `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("X-Clearbar-Model") != "big" {
		t.Fatalf("status %d type %q model %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Clearbar-Model"))
	}
	ev := sseEvents(t, resp.Body)
	if len(ev) != 4 || ev[3] != "[DONE]" {
		t.Fatalf("events %v", ev)
	}
	for _, e := range ev[:3] {
		if strings.Contains(e, `"usage"`) {
			t.Errorf("usage forwarded to a client that did not ask: %s", e)
		}
	}
	if resp.Trailer.Get("X-Clearbar-Cost-Usd") == "" {
		t.Error("no cost trailer")
	}
}

func TestStreamUsageWhenAsked(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.post(t, `{"model":"clearbar/intent","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	ev := sseEvents(t, resp.Body)
	if len(ev) != 5 || !strings.Contains(ev[3], `"usage"`) || ev[4] != "[DONE]" {
		t.Fatalf("events %v", ev)
	}
}

func TestStreamCutAfterFirstByteEndsWithErrorEvent(t *testing.T) {
	f := newFixture(t, nil)
	f.a.cutAfter = 2
	resp := f.post(t, `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	defer resp.Body.Close()
	ev := sseEvents(t, resp.Body)
	if len(ev) != 3 || !strings.HasPrefix(ev[2], `{"error":`) {
		t.Fatalf("want two chunks then an error event, got %v", ev)
	}
	for _, e := range ev {
		if e == "[DONE]" {
			t.Error("a cut stream must not end with [DONE]")
		}
	}
	d := f.rec.last()
	if d.Outcome != clearbar.StreamCut || f.b.Calls("gpt-4o") != 0 {
		t.Errorf("outcome %s; big called %d times (no fallback after the first byte)", d.Outcome, f.b.Calls("gpt-4o"))
	}
}

func TestClientCancelIsNotChargedToUpstream(t *testing.T) {
	f := newFixture(t, nil)
	f.a.delay = 50 * time.Millisecond
	f.a.chunks = 100
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	br.ReadString('\n') // the first chunk arrived
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := f.rec.last()
		if d != nil && d.Outcome == clearbar.Canceled {
			if d.Attempts[0].Class != clearbar.Canceled {
				t.Errorf("attempt class %s", d.Attempts[0].Class)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no canceled decision; last %+v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.a.mu.Lock()
	upstreamCtx := f.a.seenCtx[0]
	f.a.mu.Unlock()
	select {
	case <-upstreamCtx.Done():
	case <-time.After(2 * time.Second):
		t.Error("the upstream call's context was not cancelled when the client left")
	}
	for _, s := range f.gw.breakers.Snapshot() {
		if s.Failures > 0 {
			t.Errorf("breaker %s counted a client cancellation as a failure", s.Key)
		}
	}
}

func TestErrorsAreOpenAIShaped(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		param                   string
	}{
		{"not JSON", `{"model":`, "application/json", 400, ""},
		{"no model", `{"messages":[{"role":"user","content":"x"}]}`, "application/json", 400, "model"},
		{"no messages", `{"model":"m","messages":[]}`, "application/json", 400, "messages"},
		{"message without role", `{"model":"m","messages":[{"content":"x"}]}`, "application/json", 400, "messages[0].role"},
		{"wrong content type", `{}`, "text/plain", 415, ""},
	} {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		var e struct {
			Error *struct {
				Message string  `json:"message"`
				Type    string  `json:"type"`
				Param   *string `json:"param"`
			} `json:"error"`
		}
		if resp.StatusCode != tc.status || json.Unmarshal(body, &e) != nil || e.Error == nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Errorf("%s: status %d body %s", tc.name, resp.StatusCode, body)
			continue
		}
		if tc.param != "" && (e.Error.Param == nil || *e.Error.Param != tc.param) {
			t.Errorf("%s: param %v, want %q", tc.name, e.Error.Param, tc.param)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no x-request-id on an error", tc.name)
		}
	}
}

func TestModelsAndHealth(t *testing.T) {
	f := newFixture(t, nil)
	resp, _ := f.srv.Client().Get(f.srv.URL + "/v1/models")
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	json.Unmarshal(readAll(t, resp), &list)
	ids := map[string]bool{}
	for _, m := range list.Data {
		ids[m.ID] = true
	}
	for _, want := range []string{"clearbar/intent", "clearbar/chat", "intent-model", "small", "big"} {
		if !ids[want] {
			t.Errorf("/v1/models lacks %q: %v", want, ids)
		}
	}
	resp, _ = f.srv.Client().Get(f.srv.URL + "/v1/models/clearbar/nope")
	if body := readAll(t, resp); resp.StatusCode != 404 || !bytes.Contains(body, []byte("model_not_found")) {
		t.Errorf("unknown alias: %d %s", resp.StatusCode, body)
	}
	// A name outside the namespace is classified, as a chat request naming it is: it is a model
	// of this gateway, described as such.
	resp, _ = f.srv.Client().Get(f.srv.URL + "/v1/models/nope")
	if body := readAll(t, resp); resp.StatusCode != 200 || gjson.GetBytes(body, "id").Str != "nope" ||
		!strings.Contains(gjson.GetBytes(body, "description").Str, "classified like clearbar/auto") {
		t.Errorf("unlisted model: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/healthz", "/readyz", "/v1/admin/health", "/metrics"} {
		resp, _ := f.srv.Client().Get(f.srv.URL + path)
		readAll(t, resp)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	f.gw.SetReady(false)
	resp, _ = f.srv.Client().Get(f.srv.URL + "/readyz")
	readAll(t, resp)
	if resp.StatusCode != 503 {
		t.Errorf("readyz while draining: %d", resp.StatusCode)
	}
}

func TestDecisionEndpoint(t *testing.T) {
	f := newFixture(t, nil)
	resp := f.post(t, hello)
	readAll(t, resp)
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	r2, _ := f.srv.Client().Get(f.srv.URL + "/v1/decisions/" + id)
	var d clearbar.Decision
	if err := json.Unmarshal(readAll(t, r2), &d); err != nil || d.ID != id || d.Category != "intent" {
		t.Errorf("decision %d %+v %v", r2.StatusCode, d, err)
	}
	r3, _ := f.srv.Client().Get(f.srv.URL + "/v1/decisions/dec_nope")
	if readAll(t, r3); r3.StatusCode != 404 {
		t.Errorf("unknown decision: %d", r3.StatusCode)
	}
}

func TestKeysAndTiers(t *testing.T) {
	clientHash, adminHash := HashKey("client-secret-1"), HashKey("admin-secret-1")
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + adminHash + "\"]\n  clients:\n    - {name: web, hash: \"" + clientHash + "\", tier: pro, rate_limit: 2/m}\n"
	})
	if resp := f.post(t, hello); readAll(t, resp) != nil && resp.StatusCode != 401 {
		t.Errorf("no key: %d", resp.StatusCode)
	}
	if resp := f.post(t, hello, "Authorization", "Bearer wrong"); readAll(t, resp) != nil && resp.StatusCode != 401 {
		t.Errorf("wrong key: %d", resp.StatusCode)
	}
	resp := f.post(t, hello, "Authorization", "Bearer client-secret-1")
	readAll(t, resp)
	if resp.StatusCode != 200 || f.rec.last().Tier != "pro" || f.rec.last().Client != "web" {
		t.Fatalf("client key: %d %+v", resp.StatusCode, f.rec.last())
	}
	// The rate limit is 2 a minute: the third request in a row is refused with Retry-After.
	readAll(t, f.post(t, hello, "Authorization", "Bearer client-secret-1"))
	resp = f.post(t, hello, "Authorization", "Bearer client-secret-1")
	readAll(t, resp)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After-Ms") == "" {
		t.Errorf("over the rate limit: %d, retry-after-ms %q", resp.StatusCode, resp.Header.Get("Retry-After-Ms"))
	}
	get := func(path, key string) int {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		return resp.StatusCode
	}
	if got := get("/v1/admin/health", "client-secret-1"); got != 403 {
		t.Errorf("admin endpoint with a client key: %d", got)
	}
	if got := get("/v1/admin/health", "admin-secret-1"); got != 200 {
		t.Errorf("admin endpoint with the admin key: %d", got)
	}
	if got := get("/v1/models", ""); got != 401 {
		t.Errorf("models without a key: %d", got)
	}
}

func TestBodyLimits(t *testing.T) {
	f := newFixture(t, func(src string) string { return src + "server: {max_body: 1KB, max_messages: 3}\n" })
	resp := f.post(t, `{"model":"m","messages":[{"role":"user","content":"`+strings.Repeat("x", 2000)+`"}]}`)
	if body := readAll(t, resp); resp.StatusCode != 413 || !bytes.Contains(body, []byte("max_body")) {
		t.Errorf("large body: %d %s", resp.StatusCode, body)
	}
	msgs := strings.Repeat(`{"role":"user","content":"x"},`, 4)
	resp = f.post(t, `{"model":"m","messages":[`+strings.TrimSuffix(msgs, ",")+`]}`)
	if body := readAll(t, resp); resp.StatusCode != 400 || !bytes.Contains(body, []byte("too_many_messages")) {
		t.Errorf("too many messages: %d %s", resp.StatusCode, body)
	}
}

func TestSpecTestsAndLints(t *testing.T) {
	f := newFixture(t, nil)
	results, lints := CheckSpec(f.gw)
	if len(results) != 3 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s: %v", r.Name, r.Problems)
		}
	}
	// The "long" rule is never exercised by a golden test.
	if len(lints) != 1 || !strings.Contains(lints[0].Msg, `"long" fired in none`) {
		t.Errorf("lints %+v", lints)
	}
	f2 := newFixture(t, func(src string) string {
		src = strings.Replace(src, `when: 'tokens_in > 500'`, `when: 'true'`, 1)
		return strings.Replace(src, "expect: {category: refunds, plan: [big, backup], by: rule}", "expect: {category: intent}", 1)
	})
	results, lints = CheckSpec(f2.gw)
	if results[0].Pass || !strings.Contains(results[0].Problems[0], `category "refunds", want "intent"`) {
		t.Errorf("a wrong expectation passed: %+v", results[0])
	}
	found := false
	for _, l := range lints {
		if strings.Contains(l.Msg, `the rule of "long" fires for every request`) {
			found = true
		}
	}
	if !found {
		t.Errorf("constant rule not linted: %+v", lints)
	}
}

// modelChecker fails every answer from the listed upstream models.
type modelChecker struct{ failing map[string]bool }

func (c modelChecker) Check(_ context.Context, _ string, _ *clearbar.Request, resp *clearbar.Response, vs []*spec.Validator) ([]clearbar.Verdict, bool, []clearbar.Attempt) {
	pass := !c.failing[resp.Model]
	reason := ""
	if !pass {
		reason = "not JSON"
	}
	return []clearbar.Verdict{{Validator: "JSON Schema x.json", Pass: pass, Reason: reason}}, pass, nil
}

const cascadeCategory = `  - name: extract
    share: 0
    tokens: {in: 10, out: 10}
    quality_bar: 0.9
    route: {cascade: [small, big], validate: [{max_length: 1000}]}
    assume: {pass_rate: {small: 0.9, big: 0.95}, validator: {detect: 0.9, false_alarm: 0.01}}
`

func newCascadeFixture(t *testing.T, failing ...string) *fixture {
	f := newFixture(t, func(src string) string {
		return strings.Replace(src, "categories:\n", "categories:\n"+cascadeCategory, 1)
	})
	m := map[string]bool{}
	for _, x := range failing {
		m[x] = true
	}
	f.gw.checker = modelChecker{failing: m}
	return f
}

func TestCascadeEscalatesOnFailedValidation(t *testing.T) {
	f := newCascadeFixture(t, "gpt-4o-mini")
	resp := f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`)
	readAll(t, resp)
	d := f.rec.last()
	if resp.StatusCode != 200 || d.Model != "big" || len(d.Attempts) != 2 {
		t.Fatalf("status %d model %s attempts %+v", resp.StatusCode, d.Model, d.Attempts)
	}
	a := d.Attempts[0]
	if a.Class != clearbar.Quality || a.Outcome != "escalated after failed validation" || len(a.Verdicts) != 1 || a.Verdicts[0].Pass {
		t.Errorf("first attempt %+v", a)
	}
	if d.Attempts[1].Kind != clearbar.AttemptEscalation || d.EscalationCost != a.Cost || d.EscalationCost == 0 {
		t.Errorf("escalation %+v, escalation cost %v", d.Attempts[1], d.EscalationCost)
	}
	if d.Flagged {
		t.Error("a request that escalated and passed is not flagged")
	}
}

// TestEscalationTax: the decision counts the time, as well as the cost, of the attempts whose
// answers were not delivered, and the escalation metric says whether a step was left for
// quality (validation) or for provider failures.
func TestEscalationTax(t *testing.T) {
	metricsText := func(t *testing.T, f *fixture) string {
		resp, err := f.srv.Client().Get(f.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return string(readAll(t, resp))
	}
	for _, tc := range []struct {
		name, reason, other string
		failing             []string
		behave              func(model string, n int) error
		discarded           int
	}{
		{name: "validation fails", reason: "quality", other: "provider", failing: []string{"gpt-4o-mini"}, discarded: 1},
		{name: "provider fails", reason: "provider", other: "quality", discarded: 2, // the call and its retry
			behave: func(model string, n int) error { return overloaded() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCascadeFixture(t, tc.failing...)
			f.a.delay, f.a.behave = 30*time.Millisecond, tc.behave
			resp := f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`)
			readAll(t, resp)
			d := f.rec.last()
			if resp.StatusCode != 200 || d.Model != "big" || len(d.Attempts) != tc.discarded+1 {
				t.Fatalf("status %d model %s attempts %+v", resp.StatusCode, d.Model, d.Attempts)
			}
			var lat time.Duration
			var cost clearbar.Money
			for _, a := range d.Attempts[:tc.discarded] {
				lat += a.Latency
				cost += a.Cost
			}
			if d.EscalationLatency != lat || lat < time.Duration(tc.discarded)*30*time.Millisecond || d.EscalationCost != cost {
				t.Errorf("escalation latency %v cost %v, want %v and %v (attempts %+v)", d.EscalationLatency, d.EscalationCost, lat, cost, d.Attempts)
			}
			var out strings.Builder
			WriteExplanation(&out, d)
			if want := "on discarded attempts, which took " + roundDur(lat); !strings.Contains(out.String(), want) {
				t.Errorf("explain lacks %q:\n%s", want, out.String())
			}
			m := metricsText(t, f)
			if !strings.Contains(m, `clearbar_escalations_total{category="extract",reason="`+tc.reason+`"} 1`) ||
				strings.Contains(m, `reason="`+tc.other+`"`) {
				t.Errorf("escalation metrics:\n%s", grepLines(m, "clearbar_escalations_total"))
			}
		})
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestFlaggedWhenEveryStepFails(t *testing.T) {
	f := newCascadeFixture(t, "gpt-4o-mini", "gpt-4o")
	resp := f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`)
	readAll(t, resp)
	d := f.rec.last()
	if resp.StatusCode != 200 || !d.Flagged || !strings.HasPrefix(d.FlagReason, "every step failed validation") {
		t.Errorf("status %d flagged %v reason %q", resp.StatusCode, d.Flagged, d.FlagReason)
	}
	if !strings.Contains(d.Reason, "delivered, flagged for review") {
		t.Errorf("reason %q", d.Reason)
	}
}

// TestFlaggedWhenOneStepFailsValidationAndAnotherFails: when one step's answer failed
// validation and the next step failed for the provider, the decision says so, step by step,
// instead of blaming validation for both.
func TestFlaggedWhenOneStepFailsValidationAndAnotherFails(t *testing.T) {
	f := newCascadeFixture(t, "gpt-4o-mini")
	f.b.behave = func(model string, n int) error { return overloaded() }
	resp := f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`)
	readAll(t, resp)
	d := f.rec.last()
	const why = "no step's answer passed validation: step 1 (small) failed validation; step 2 (big) failed: overloaded"
	if resp.StatusCode != 200 || !d.Flagged || !strings.HasPrefix(d.FlagReason, why+"; last: ") ||
		d.Reason != why+"; the last answer that failed validation was delivered, flagged for review" {
		t.Errorf("status %d flagged %v\nflag reason %q\nreason %q", resp.StatusCode, d.Flagged, d.FlagReason, d.Reason)
	}
	if a := d.Attempts[0]; a.Outcome != "delivered flagged: "+why {
		t.Errorf("delivered attempt's outcome %q", a.Outcome)
	}
}

func TestFlaggedWhenAValidatorKeepsFailing(t *testing.T) {
	f := newCascadeFixture(t, "gpt-4o-mini")
	for i := 1; i <= repeatThreshold; i++ {
		readAll(t, f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`))
		d := f.rec.last()
		if want := i == repeatThreshold; d.Flagged != want {
			t.Errorf("request %d: flagged %v, want %v (%s)", i, d.Flagged, want, d.FlagReason)
		}
	}
	if r := f.rec.last().FlagReason; !strings.Contains(r, "failed the last 5 answers of small in category extract, within 10m0s") {
		t.Errorf("reason %q", r)
	}
}

// TestFailuresBetweenPassesDoNotFlag: a validator that fails some of a model's answers and
// passes the others, as any validator that catches bad answers does, never flags, however
// many failures the window holds; it takes failures in a row.
func TestFailuresBetweenPassesDoNotFlag(t *testing.T) {
	var failing sync.Map
	f := newCascadeFixture(t)
	f.gw.checker = checkerFunc(func(resp *clearbar.Response) bool { _, bad := failing.Load(resp.Model); return !bad })
	for i := 1; i <= 4*repeatThreshold; i++ {
		if i%2 == 1 {
			failing.Store("gpt-4o-mini", true)
		} else {
			failing.Delete("gpt-4o-mini")
		}
		readAll(t, f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`))
		if d := f.rec.last(); d.Flagged {
			t.Fatalf("request %d: flagged (%s) after %d failures between passes", i, d.FlagReason, (i+1)/2)
		}
	}
}

// checkerFunc passes an answer when pass says so.
type checkerFunc func(resp *clearbar.Response) bool

func (c checkerFunc) Check(_ context.Context, _ string, _ *clearbar.Request, resp *clearbar.Response, vs []*spec.Validator) ([]clearbar.Verdict, bool, []clearbar.Attempt) {
	pass := c(resp)
	return []clearbar.Verdict{{Validator: "JSON Schema x.json", Pass: pass}}, pass, nil
}

// TestFlagRepeatsSetting: server.flag_repeats and flag_window set when repeated failures flag.
func TestFlagRepeatsSetting(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return strings.Replace(src, "categories:\n", "server: {flag_repeats: 2, flag_window: 1h}\ncategories:\n"+cascadeCategory, 1)
	})
	f.gw.checker = modelChecker{failing: map[string]bool{"gpt-4o-mini": true}}
	for i := 1; i <= 2; i++ {
		readAll(t, f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`))
		if d := f.rec.last(); d.Flagged != (i == 2) {
			t.Errorf("request %d: flagged %v (%s), want it flagged at the second failure", i, d.Flagged, d.FlagReason)
		}
	}
	if r := f.rec.last().FlagReason; !strings.Contains(r, "failed the last 2 answers of small in category extract, within 1h0m0s") {
		t.Errorf("reason %q", r)
	}
}

// TestScoreRouteRecordsScore: a heuristic score route starts easy requests on the small model
// and hard ones on the big one, escalates a failed small answer to big, and the decision
// record and explanation show the score, the tiers and the starting model.
func TestScoreRouteRecordsScore(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return strings.Replace(src, "categories:\n", "categories:\n"+`  - name: qa
    share: 0
    tokens: {in: 10, out: 10}
    quality_bar: 0.9
    route:
      score: {heuristic: {tiers: [0.3]}, models: [small, big]}
      validate: [{max_length: 1000}]
    assume: {pass_rate: {small: 0.9, big: 0.95}, validator: {detect: 0.9, false_alarm: 0.01}, score_share: {small: 0.7, big: 0.3}}
`, 1)
	})
	f.gw.checker = modelChecker{failing: map[string]bool{"gpt-4o-mini": true}}
	hard := `First, explain step by step why the integral of x^2 from 0 to 3 equals 9. Then implement it in python:\n` +
		"```\\ndef integrate(f, a, b):\\n    return sum(f(a + i*(b-a)/1000) for i in range(1000)) * (b-a)/1000\\n```\\n" +
		`Finally, compare the result with the exact equation and justify the difference. How many steps are needed? Why?`
	for _, tc := range []struct {
		text, start, models string
	}{
		{"What is 2+2?", "small", "small,big"},
		{hard, "big", "big"},
	} {
		body, _ := json.Marshal(map[string]any{"model": "clearbar/qa", "messages": []map[string]string{{"role": "user", "content": tc.text}}})
		resp := f.post(t, string(body))
		readAll(t, resp)
		d := f.rec.last()
		var models []string
		for _, a := range d.Attempts {
			models = append(models, a.Model)
		}
		if resp.StatusCode != 200 || d.Score == nil || d.Score.Start != tc.start || strings.Join(models, ",") != tc.models {
			t.Errorf("%.20q: status %d score %+v attempts %v, want start %s, attempts %s", tc.text, resp.StatusCode, d.Score, models, tc.start, tc.models)
			continue
		}
		var b bytes.Buffer
		if err := WriteExplanation(&b, d); err != nil {
			t.Fatal(err)
		}
		if text := b.String(); !strings.Contains(text, "score       heuristic, tiers 0.3: difficulty ") || !strings.Contains(text, "→ start on "+tc.start) {
			t.Errorf("explanation lacks the score:\n%s", b.String())
		}
	}
}

// TestFailedCallStillBilled: a failure that the upstream billed (an answer blocked on
// content-policy grounds, with its usage) counts its tokens and cost in the attempt.
func TestFailedCallStillBilled(t *testing.T) {
	f := newFixture(t, nil)
	f.a.behave = func(model string, n int) error {
		return &clearbar.Error{Class: clearbar.ContentPolicy, Status: 200, Message: "blocked", Usage: clearbar.Usage{PromptTokens: 1000}}
	}
	readAll(t, f.post(t, hello))
	d := f.rec.last()
	if d == nil || len(d.Attempts) == 0 {
		t.Fatalf("decision %+v", d)
	}
	a := d.Attempts[0]
	if a.Class != clearbar.ContentPolicy || a.Usage.PromptTokens != 1000 || a.Cost <= 0 || d.Cost < a.Cost {
		t.Errorf("attempt %+v, decision cost %s: want the blocked call's 1000 prompt tokens priced and counted", a, d.Cost)
	}
}

// openBreaker opens the breaker of a spec model the way failures do: five in a row.
func openBreaker(t *testing.T, g *Gateway, key string) {
	t.Helper()
	b := g.breakers.Get(key)
	for range 5 {
		done, ok := b.Allow(g.now())
		if !ok {
			break
		}
		done(clearbar.Overloaded, g.now())
	}
	if b.State(g.now()) != health.Open {
		t.Fatalf("breaker %s did not open", key)
	}
}

// TestSkippedPrimaryIsAFallback: a request served by a fallback because the primary's breaker
// is open, or by a cascade's second step because the first step's breaker is open, records a
// fallback or an escalation, not a primary attempt, in its decision and in
// clearbar_fallbacks_total, streamed or not: review, drift and metrics see an outage. No call
// failed, so the metric's cause is breaker_open, not a failure class.
func TestSkippedPrimaryIsAFallback(t *testing.T) {
	tests := []struct {
		explanation, body, open string
		model, kind             string
		step                    int
	}{
		{"the primary's breaker is open: its fallback answers", hello, "a/small", "big", clearbar.AttemptFallback, 1},
		{"streamed", `{"model":"clearbar/intent","stream":true,"messages":[{"role":"user","content":"hello"}]}`, "a/small", "big", clearbar.AttemptFallback, 1},
		{"a cascade's first step is left out: the second step escalates", `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`, "a/small", "big", clearbar.AttemptEscalation, 2},
	}
	for _, tt := range tests {
		t.Run(tt.explanation, func(t *testing.T) {
			f := newCascadeFixture(t)
			openBreaker(t, f.gw, tt.open)
			resp := f.post(t, tt.body)
			body := readAll(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != tt.model {
				t.Fatalf("status %d model %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), body)
			}
			d := f.rec.last()
			if len(d.Attempts) != 1 || len(d.Skipped) == 0 {
				t.Fatalf("attempts %+v skipped %+v", d.Attempts, d.Skipped)
			}
			if a := d.Attempts[0]; a.Kind != tt.kind || a.Step != tt.step || a.Outcome != "accepted" {
				t.Errorf("attempt kind %q step %d outcome %q, want %q at step %d", a.Kind, a.Step, a.Outcome, tt.kind, tt.step)
			}
			if tt.kind == clearbar.AttemptFallback && !strings.Contains(d.Reason, "as the fallback") {
				t.Errorf("reason %q does not say the answer came from the fallback", d.Reason)
			}
			mr, err := http.Get(f.srv.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics := string(readAll(t, mr))
			if want := `clearbar_fallbacks_total{category="` + d.Category + `",class="breaker_open"} 1`; !strings.Contains(metrics, want) || strings.Contains(metrics, `class="overloaded"`) {
				t.Errorf("metrics lack %s:\n%s", want, grepLines(metrics, "clearbar_fallbacks_total"))
			}
		})
	}
}

// TestDecisionSettled: a decision says when the oldest request still in flight as it finished
// started: another request's start while that one runs, its own finish when none does. The
// drift monitor orders its windows by it.
func TestDecisionSettled(t *testing.T) {
	f := newFixture(t, nil)
	release, entered := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.b.behave = func(model string, n int) error { // model "m" lands in chat, routed to big on b
		if n == 1 {
			once.Do(func() { close(entered) })
			<-release
		}
		return nil
	}
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		readAll(t, f.post(t, `{"model":"m","messages":[{"role":"user","content":"first"}]}`))
	}()
	<-entered
	readAll(t, f.post(t, `{"model":"m","messages":[{"role":"user","content":"second"}]}`))
	fast := f.rec.last()
	close(release)
	<-slow
	first := f.rec.last()
	if first == fast {
		t.Fatal("the first request's decision was not recorded")
	}
	if !fast.Settled.Equal(first.Time) {
		t.Errorf("the second request settled at %v, want the first's start %v, still in flight", fast.Settled, first.Time)
	}
	if want := first.Time.Add(first.Latency); !first.Settled.Equal(want) {
		t.Errorf("the first request settled at %v, want its own finish %v: nothing else was in flight", first.Settled, want)
	}
}

// TestStartedOutOfOrder: requests that finish out of order leave the oldest still in flight
// as the settled time; a request ended twice (finished, then its deferred end) changes nothing.
func TestStartedOutOfOrder(t *testing.T) {
	var s started
	t0 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	clock := t0
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	a, ta := s.begin(now)
	b, tb := s.begin(now)
	c, _ := s.begin(now)
	end := t0.Add(time.Minute)
	if got := s.end(b, end); !got.Equal(ta) {
		t.Errorf("b ended while a runs: settled %v, want a's start %v", got, ta)
	}
	if got := s.end(a, end); got.Equal(tb) || got.Equal(ta) {
		t.Errorf("a ended after b: settled %v, want c's start", got)
	}
	if got := s.end(a, end); !got.After(tb) {
		t.Errorf("a ended again: settled %v, want c's start", got)
	}
	if got := s.end(c, end); !got.Equal(end) {
		t.Errorf("the last ended: settled %v, want its finish %v", got, end)
	}
}

// TestVerdictReasonsKeepNoTextUnlessRecorded: a validator's reason that quotes the answer (a
// regex's match) keeps the quote in the record only for a category that records text; in any
// other the quoted words are taken out, as the answer itself is.
func TestVerdictReasonsKeepNoTextUnlessRecorded(t *testing.T) {
	for _, record := range []bool{false, true} {
		f := newFixture(t, func(src string) string {
			cat := strings.Replace(cascadeCategory, "validate: [{max_length: 1000}]", `validate: [{regex: {must_not: ['answer from \S+']}}]`, 1)
			if record {
				cat += "    record_text: true\n"
			}
			return strings.Replace(src, "categories:\n", "categories:\n"+cat, 1)
		})
		checker, err := validate.NewChecker(f.gw.spec, validate.Env{})
		if err != nil {
			t.Fatal(err)
		}
		f.gw.checker = checker
		readAll(t, f.post(t, `{"model":"clearbar/extract","messages":[{"role":"user","content":"x"}]}`))
		d := f.rec.last()
		if len(d.Attempts) == 0 || len(d.Attempts[0].Verdicts) != 1 {
			t.Fatalf("record_text %v: attempts %+v", record, d.Attempts)
		}
		reason, quoted := d.Attempts[0].Verdicts[0].Reason, `at "answer from gpt-4o-mini"`
		if strings.Contains(reason, "gpt-4o-mini") != record || strings.Contains(d.Attempts[0].Error, "gpt-4o-mini") != record {
			t.Errorf("record_text %v: verdict %q, attempt error %q; want the answer's words only when text is recorded", record, reason, d.Attempts[0].Error)
		}
		if record && !strings.Contains(reason, quoted) || !record && !strings.Contains(reason, `at "…"`) {
			t.Errorf("record_text %v: verdict %q", record, reason)
		}
	}
}
