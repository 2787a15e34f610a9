package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// get sends GET path with the key (none when empty) and returns the status and body.
func (f *fixture) get(t *testing.T, path, key string, headers ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp)
}

// TestAdminKeysOnlyStillNeedAKey: a keys: section with admin keys and no client keys does
// not leave the gateway open: every client request needs a key, and the admin key serves as
// one (client "admin", no tier, no rate limit).
func TestAdminKeysOnlyStillNeedAKey(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey("admin-only-secret") + "\"]\n"
	})
	for _, key := range []string{"", "wrong"} {
		var h []string
		if key != "" {
			h = []string{"Authorization", "Bearer " + key}
		}
		resp := f.post(t, hello, h...)
		if body := readAll(t, resp); resp.StatusCode != 401 || gjson.GetBytes(body, "error.code").Str != "invalid_api_key" {
			t.Errorf("chat with key %q: %d %s", key, resp.StatusCode, body)
		}
		if status, body := f.get(t, "/v1/models", key); status != 401 {
			t.Errorf("models with key %q: %d %s", key, status, body)
		}
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/messages", strings.NewReader(`{"model":"clearbar/intent","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Anthropic-Version", "2023-06-01")
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != 401 {
			t.Errorf("messages with key %q: %d %s", key, resp.StatusCode, body)
		}
	}
	if f.a.Calls("gpt-4o-mini")+f.b.Calls("gpt-4o") != 0 {
		t.Errorf("a request without a valid key reached a provider")
	}
	resp := f.post(t, hello, "Authorization", "Bearer admin-only-secret")
	if body := readAll(t, resp); resp.StatusCode != 200 || f.rec.last().Client != "admin" {
		t.Errorf("chat with the admin key: %d %s", resp.StatusCode, body)
	}
	if status, body := f.get(t, "/v1/models", "admin-only-secret"); status != 200 {
		t.Errorf("models with the admin key: %d %s", status, body)
	}
}

// TestAdminEndpointsAnswerAWrongKeyAsChatDoes: a key that is none of the gateway's gets the
// same 401 invalid_api_key on every admin endpoint (the decisions, health and metrics
// endpoints, and handlers behind RequireAdmin, as the dashboard's API is) that it gets on
// /v1/chat/completions, as OpenAI answers a wrong key; only a valid client key gets the 403
// that says an admin's is needed.
func TestAdminEndpointsAnswerAWrongKeyAsChatDoes(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey("admin-secret") + "\"]\n  clients:\n    - {name: web, hash: \"" + HashKey("client-secret") + "\"}\n"
	})
	resp := f.post(t, hello, "Authorization", "Bearer client-secret")
	readAll(t, resp)
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	resp = f.post(t, hello, "Authorization", "Bearer wrong")
	chat := readAll(t, resp)
	if resp.StatusCode != 401 || gjson.GetBytes(chat, "error.code").Str != "invalid_api_key" || gjson.GetBytes(chat, "error.type").Str != "invalid_request_error" {
		t.Fatalf("chat with a wrong key: %d %s; want OpenAI's 401 invalid_request_error invalid_api_key", resp.StatusCode, chat)
	}
	dash := httptest.NewServer(f.gw.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })))
	defer dash.Close()
	get := func(url, key string) (int, []byte) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	for _, url := range []string{f.srv.URL + "/metrics", f.srv.URL + "/v1/decisions/" + id, f.srv.URL + "/v1/admin/health", dash.URL + "/ui/api/overview"} {
		status, body := get(url, "wrong")
		for _, field := range []string{"error.type", "error.code", "error.message"} {
			if status != 401 || gjson.GetBytes(body, field).Str != gjson.GetBytes(chat, field).Str {
				t.Errorf("GET %s with a wrong key: %d %s; want the chat endpoint's 401 %s", url, status, body, chat)
				break
			}
		}
		status, body = get(url, "client-secret")
		if status != 403 || gjson.GetBytes(body, "error.code").Str != "admin_key_required" {
			t.Errorf("GET %s with a client key: %d %s; want 403 admin_key_required", url, status, body)
		}
		if status, body = get(url, "admin-secret"); status != 200 {
			t.Errorf("GET %s with the admin key: %d %.300s", url, status, body)
		}
	}
}

// TestMetricsNeedAnAdminKey: with keys configured, /metrics (breaker states, traffic, cost)
// needs an admin key, as /v1/admin/health does; without keys it is open.
func TestMetricsNeedAnAdminKey(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return src + "keys:\n  admin: [\"" + HashKey("admin-secret") + "\"]\n  clients:\n    - {name: web, hash: \"" + HashKey("client-secret") + "\"}\n"
	})
	readAll(t, f.post(t, hello, "Authorization", "Bearer client-secret"))
	for key, want := range map[string]int{"": 401, "client-secret": 403, "wrong": 401, "admin-secret": 200} {
		status, body := f.get(t, "/metrics", key)
		if status != want {
			t.Errorf("/metrics with key %q: %d, want %d", key, status, want)
		}
		if leaked := bytes.Contains(body, []byte("clearbar_requests_total")); leaked != (want == 200) {
			t.Errorf("/metrics with key %q: metrics in the answer: %v\n%.300s", key, leaked, body)
		}
	}
	open := newFixture(t, nil)
	if status, _ := open.get(t, "/metrics", ""); status != 200 {
		t.Errorf("/metrics without keys configured: %d", status)
	}
}

// TestUpstreamErrorFieldsAreNotRelayed: an upstream that echoes the gateway's provider key in
// its error's code, param or type (a 401, a 400 whose type a client error keeps, a stream's
// error event) does not get it to the client, whole or masked, in any field.
func TestUpstreamErrorFieldsAreNotRelayed(t *testing.T) {
	const key = "tk_live_9f8e7d6c5b4a3210"
	masked := key[:6] + "****" + key[len(key)-4:]
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch model := gjson.GetBytes(body, "model").Str; model {
		case "echo-401":
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"%s","code":"%s","param":"%s"}}`, masked, k, k, k)
		case "echo-400":
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"message":"bad request for %s","type":"invalid_request_error_%s","code":"key_%s","param":"messages[0].%s"}}`, k, k, k, k)
		case "echo-stream":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"error\":{\"message\":\"key %s\",\"type\":\"%s\",\"code\":\"%s\",\"param\":\"%s\"}}\n\n", masked, k, k, k)
		}
	}))
	defer up.Close()
	t.Setenv("REVIEW_KEY", key)
	src := fmt.Sprintf(`version: 1
name: t
review: {last: 2026-11-01, cadence: monthly, owner: me}
volume: {per_month: 1000}
retry: {attempts: 0}
providers:
  up: {type: openai-compatible, base_url: "%s/v1", api_key: "${REVIEW_KEY}"}
models:
  m401: {provider: up, model: echo-401, price: {input: 1, output: 1}, context_window: 100000}
  m400: {provider: up, model: echo-400, price: {input: 1, output: 1}, context_window: 100000}
  mstream: {provider: up, model: echo-stream, price: {input: 1, output: 1}, context_window: 100000}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m401}, assume: {pass_rate: {m401: 0.9}}, default: true}
`, up.URL)
	s, err := spec.Parse([]byte(src), "t.yaml", spec.Options{Today: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := openai.New(provider.Config{Provider: s.Providers[0], Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"up": p}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	for _, c := range []struct {
		model  string
		stream bool
	}{{"m401", false}, {"m400", false}, {"mstream", true}, {"m401", true}} {
		req := fmt.Sprintf(`{"model":%q,"stream":%v,"messages":[{"role":"user","content":"hi"}]}`, c.model, c.stream)
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, leak := range []string{key, masked, key[:6], key[len(key)-6:]} {
			if bytes.Contains(body, []byte(leak)) {
				t.Errorf("%s (stream %v): %q reached the client: %d %s", c.model, c.stream, leak, resp.StatusCode, body)
			}
		}
		t.Logf("%s stream %v: %d %s", c.model, c.stream, resp.StatusCode, body)
		if resp.StatusCode < 400 && !bytes.Contains(body, []byte(`"error"`)) {
			t.Errorf("%s (stream %v): no error: %d %s", c.model, c.stream, resp.StatusCode, body)
		}
	}
}

// TestGatewayDropsKeyShapedUpstreamFields: whatever an adapter lets through, an upstream's
// type, code or param that is not shaped like one (a key, a token, odd characters) does not
// reach the client; the gateway's own fields, and an upstream's ordinary ones, do.
func TestGatewayDropsKeyShapedUpstreamFields(t *testing.T) {
	upstream := func(typ, code, param string) *clearbar.Error {
		return &clearbar.Error{Class: clearbar.ClientError, Status: 400, Provider: "up", Model: "m", Type: typ, Code: code, Param: param, Message: "m"}
	}
	for _, c := range []struct {
		e                             *clearbar.Error
		wantType, wantCode, wantParam string
	}{
		{upstream("invalid_request_error", "context_length_exceeded", "messages[12].content"), "invalid_request_error", "context_length_exceeded", "messages[12].content"},
		{upstream("RESOURCE_EXHAUSTED", "ResponsibleAIPolicyViolation", "tools[0].function.name"), "RESOURCE_EXHAUSTED", "ResponsibleAIPolicyViolation", "tools[0].function.name"},
		{upstream("tk_live_9f8e7d6c5b4a3210", "gsk_8Hq2vX9mLp4Rt7Wz1Yb6", "xai-Q7m2Kp9Zr4Tt8Wv3"), "invalid_request_error", "", ""},
		{upstream("AIzaSyD3x9Kq2Lm8Np4Rt7Wv1Yb6Zc0Ae5Fg", "0123456789abcdef0123456789abcdef01234567", "key sk-abc"), "invalid_request_error", "", ""},
		{upstream("x", "ok\"}", strings.Repeat("a", 65)), "x", "", ""},
		// The gateway's own errors keep their fields: a client's own parameter name is its own.
		{&clearbar.Error{Class: clearbar.ClientError, Status: 400, Code: "unknown_parameter", Param: "a weird key 123456789abc"}, "invalid_request_error", "unknown_parameter", "a weird key 123456789abc"},
	} {
		b := errorJSON(c.e, statusFor(c.e))
		if got := gjson.GetBytes(b, "error.type").Str; got != c.wantType {
			t.Errorf("%+v: type %q, want %q", c.e, got, c.wantType)
		}
		if got := gjson.GetBytes(b, "error.code").Str; got != c.wantCode {
			t.Errorf("%+v: code %q, want %q", c.e, got, c.wantCode)
		}
		if got := gjson.GetBytes(b, "error.param").Str; got != c.wantParam {
			t.Errorf("%+v: param %q, want %q", c.e, got, c.wantParam)
		}
		if d := DescribeError(c.e); c.wantCode == "" && strings.Contains(d, c.e.Code) {
			t.Errorf("DescribeError relays %q: %s", c.e.Code, d)
		}
	}
}

// TestFailOpenCarriesRetryAfter: when every candidate's breaker is open, the plan fails open
// on one; when that call fails too, the 503 says when to retry: when the first breaker
// half-opens, not at once (one call) nor after the default second (retried).
func TestFailOpenCarriesRetryAfter(t *testing.T) {
	for _, attempts := range []int{0, 1} {
		f := newFixture(t, func(src string) string {
			return strings.Replace(src, "retry: {attempts: 1, backoff: 1ms}", "retry: {attempts: "+strconv.Itoa(attempts)+", backoff: 1ms}", 1)
		})
		f.b.behave = func(model string, n int) error {
			return &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "overloaded", Provider: "b", Model: model}
		}
		const chat = `{"model":"clearbar/chat","messages":[{"role":"user","content":"hello"}]}`
		// Five failures in a row open the breaker of big, the chat category's only model.
		for i := 0; i < 6 && !strings.Contains(fmt.Sprint(f.gw.breakers.Snapshot()), "open"); i++ {
			readAll(t, f.post(t, chat))
		}
		resp := f.post(t, chat)
		body := readAll(t, resp)
		d := f.rec.last()
		failedOpen := false
		for _, s := range d.Skipped {
			failedOpen = failedOpen || strings.Contains(s.Reason, "trying it anyway")
		}
		if !failedOpen {
			t.Fatalf("attempts %d: the plan did not fail open: %+v", attempts, d.Skipped)
		}
		ms, _ := strconv.Atoi(resp.Header.Get("Retry-After-Ms"))
		// The breaker's cooldown is 10s: the wait is what is left of it.
		if resp.StatusCode != 503 || ms <= int(DefaultExhaustedRetryAfter.Milliseconds()) || ms > 10000 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("attempts %d: %d, retry-after-ms %q, retry-after %q, x-should-retry %q\n%s", attempts, resp.StatusCode,
				resp.Header.Get("Retry-After-Ms"), resp.Header.Get("Retry-After"), resp.Header.Get("X-Should-Retry"), body)
		}
	}
}

// TestOneFailedCallWithClosedBreakersHasNoBreakerWait: a request whose one call failed with its
// breaker closed gets no wait the gateway made up: its SDK retries as the status says.
func TestOneFailedCallWithClosedBreakersHasNoBreakerWait(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return strings.Replace(src, "retry: {attempts: 1, backoff: 1ms}", "retry: {attempts: 0, backoff: 1ms}", 1)
	})
	f.b.behave = func(model string, n int) error {
		return &clearbar.Error{Class: clearbar.Overloaded, Status: 503, Message: "overloaded", Provider: "b", Model: model}
	}
	resp := f.post(t, `{"model":"clearbar/chat","messages":[{"role":"user","content":"hello"}]}`)
	readAll(t, resp)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After-Ms") != "" {
		t.Errorf("%d, retry-after-ms %q", resp.StatusCode, resp.Header.Get("Retry-After-Ms"))
	}
}
