package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/trace"
)

// syncBuffer is a goroutine-safe buffer for a server's log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs "clearbar serve args..." in-process and returns its address, its log and a
// stop function that shuts it down the way SIGINT does and returns the exit status.
func startServe(t *testing.T, args ...string) (addr string, logs *syncBuffer, stop func() int) {
	t.Helper()
	addr, logs, signal, exited := launchServe(t, args...)
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() {
			signal()
			select {
			case code = <-exited:
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, logs, stop
}

// launchServe runs "clearbar serve args..." in-process and returns its address, its log, a
// function that signals it to stop (as SIGINT does) without waiting, and the channel its exit
// status arrives on. The caller waits for the exit.
func launchServe(t *testing.T, args ...string) (addr string, logs *syncBuffer, signal func(), exited <-chan int) {
	t.Helper()
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	m := &Main{Stdout: logs, Stderr: logs, Stdin: strings.NewReader(""), Now: time.Now,
		OnListen: func(a net.Addr) { listening <- a }}
	done := make(chan int, 1)
	// No drain grace period unless a test asks for one: tests stop their servers at once.
	go func() {
		done <- m.Run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--drain-grace", "0"}, args...))
	}()
	select {
	case a := <-listening:
		addr = a.String()
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d:\n%s", code, logs.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return addr, logs, cancel, done
}

func chat(t *testing.T, addr, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestServeZeroConfig is the README's promise: "clearbar serve" with no spec serves the quick
// start on simulated providers, records decisions in SQLite, and explains them.
func TestServeZeroConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clearbar.db")
	addr, logs, stop := startServe(t, "--trace", db)
	if !strings.Contains(logs.String(), "serving the built-in quick start") {
		t.Errorf("start-up message: %s", logs.String())
	}
	resp, body := chat(t, addr, `{"model":"clearbar/auto","messages":[{"role":"user","content":"Where is my parcel?"}]}`, "X-Clearbar-Task", "intent")
	if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Category") != "intent" {
		t.Fatalf("status %d category %q: %s", resp.StatusCode, resp.Header.Get("X-Clearbar-Category"), body)
	}
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	code, out, errOut := run(t, "explain", id, "--url", "http://"+addr)
	if code != 0 || !strings.Contains(out, "category    intent — by header X-Clearbar-Task: intent") || !strings.Contains(out, "attempts") {
		t.Errorf("explain: exit %d\n%s%s", code, out, errOut)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Get(context.Background(), id); err != nil {
		t.Errorf("decision %s not in %s after shutdown: %v", id, db, err)
	}
}

// TestServeWarnsOfUnsetKeys: a provider whose api_key references a variable that is not set
// would send its requests without a key and pass on the upstream's authentication error,
// which does not name the variable: serve says so at start, naming the variable, and not with
// --simulate, which calls no provider.
func TestServeWarnsOfUnsetKeys(t *testing.T) {
	t.Setenv("CLEARBAR_TEST_SET_KEY", "sk-test")
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.yaml")
	os.WriteFile(file, []byte(`version: 1
name: keys
providers:
  up: {type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "${CLEARBAR_TEST_UNSET_KEY}"}
  both: {type: openai, base_url: "http://127.0.0.1:9/v1", api_keys: ["${CLEARBAR_TEST_SET_KEY}", "${CLEARBAR_TEST_UNSET_KEY2}"]}
models:
  mini: {provider: up, model: gpt-4.1-mini}
  nano: {provider: both, model: gpt-4.1-nano}
categories:
  - {name: chat, share: 1, tokens: {in: 100, out: 50}, quality_bar: 0.5, failure_impact: {bad_answer: 0.01}, route: {model: mini}, fallback: [nano], assume: {pass_rate: {mini: 0.9, nano: 0.8}}, why: test}
`), 0o644)
	_, logs, stop := startServe(t, file, "--trace", "none")
	stop()
	out := logs.String()
	for _, want := range []string{"provider key not set: its requests go without an API key", "provider=up unset=CLEARBAR_TEST_UNSET_KEY",
		"provider key not set: its requests use only the keys that are set", "provider=both unset=CLEARBAR_TEST_UNSET_KEY2"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "sk-test") {
		t.Errorf("a key's value is in the log:\n%s", out)
	}
	_, logs, stop = startServe(t, file, "--trace", "none", "--simulate")
	stop()
	if strings.Contains(logs.String(), "provider key not set") {
		t.Errorf("--simulate calls no provider, but serve warns of its keys:\n%s", logs.String())
	}
}

// TestServeRecordsTheTimeScale: decisions answered by simulated providers at a time scale say
// so, and so does each attempt, for review and outcomes to compare their latencies with the
// spec's.
func TestServeRecordsTheTimeScale(t *testing.T) {
	db := filepath.Join(t.TempDir(), "clearbar.db")
	addr, logs, stop := startServe(t, "--trace", db, "--time-scale", "0.01")
	resp, body := chat(t, addr, `{"model":"clearbar/intent","messages":[{"role":"user","content":"Where is my parcel?"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Clearbar-Decision-Id")
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := store.Get(context.Background(), id)
	if err != nil || d.TimeScale != 0.01 {
		t.Fatalf("decision %s: time scale %v, %v; want 0.01", id, d.TimeScale, err)
	}
	// Each attempt says its provider's scale too, so that a decision that also called an
	// unscaled provider has each call's latency divided by its own.
	for _, a := range d.Attempts {
		if a.TimeScale != 0.01 {
			t.Errorf("attempt %d on %s: time scale %v, want 0.01", a.N, a.Provider, a.TimeScale)
		}
	}
}

// TestServeDrainsOnShutdown starts requests, shuts the server down while they are in flight,
// and checks that every one completes and every decision is written.
func TestServeDrainsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "slow.yaml", "slow", simProvider, "{p50: 400ms, p95: 500ms}", "")
	db := filepath.Join(dir, "d.db")
	addr, logs, stop := startServe(t, specFile, "--trace", db)
	const n = 20
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := chat(t, addr, `{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`)
			statuses <- resp.StatusCode
		}()
	}
	time.Sleep(150 * time.Millisecond) // every request is now waiting on the simulated model
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, logs.String())
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("an in-flight request got %d during shutdown", s)
		}
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ds, err := store.List(context.Background(), trace.Filter{Limit: 1000})
	if err != nil || len(ds) != n {
		t.Errorf("%d decisions written of %d requests (err %v)", len(ds), n, err)
	}
	// The drain window is longer than any request may take: the request timeout (120 s without
	// server.request_timeout) and the time to read and route a request.
	if !strings.Contains(logs.String(), "window=2m10s") {
		t.Errorf("the drain window is not the request timeout and then some:\n%s", logs.String())
	}
}

// TestServeReadyzDuringDrainGrace: on SIGINT or SIGTERM, /readyz answers 503 for the grace
// period while requests are still served, so that a load balancer stops sending before the
// listener closes; then serve drains and exits.
func TestServeReadyzDuringDrainGrace(t *testing.T) {
	addr, logs, signal, exited := launchServe(t, "--trace", "none", "--drain-grace", "1500ms")
	if strings.Contains(logs.String(), "clearbar explain") {
		t.Errorf("without a decision store, serve must not suggest explain:\n%s", logs.String())
	}
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/readyz"); got != 200 {
		t.Fatalf("/readyz before the drain: %d", got)
	}
	start := time.Now()
	signal()
	for get("/readyz") != 503 {
		if time.Since(start) > time.Second {
			t.Fatalf("/readyz never answered 503 while draining:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, body := chat(t, addr, `{"model":"clearbar/auto","messages":[{"role":"user","content":"Where is my parcel?"}]}`)
	if resp.StatusCode != 200 {
		t.Errorf("a request during the grace period: %d %s", resp.StatusCode, body)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Errorf("exit %d:\n%s", code, logs.String())
		}
		if time.Since(start) < 1500*time.Millisecond {
			t.Errorf("serve exited after %v, before the grace period ended", time.Since(start))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(logs.String(), "/readyz answers 503") {
		t.Errorf("the log does not say serve is draining:\n%s", logs.String())
	}
}

// TestServeDrainCutsWhatOutlivesTheWindow: requests still running when the drain window ends
// are cut, not dropped: a stream whose answer began ends with an error event (no [DONE]), a
// completion still waiting gets a 503, both decisions are in the store when serve exits, and
// serve exits 0.
func TestServeDrainCutsWhatOutlivesTheWindow(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls++
		mu.Unlock()
		if bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"the start of a long answer "},"finish_reason":null}]}`+"\n\n")
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done() // the rest never comes: only the cut ends the call
	}))
	defer upstream.Close()
	dir := t.TempDir()
	specFile := writeOneModelSpec(t, dir, "hang.yaml", "hang", upstreamProvider(upstream.URL), "{p50: 10ms, p95: 20ms}",
		"server: {drain_timeout: 300ms}\n") // the spec's drain window, as --drain-timeout sets it
	db := filepath.Join(dir, "d.db")
	addr, logs, signal, exited := launchServe(t, specFile, "--trace", db)

	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"clearbar/c","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Content-Type", "application/json")
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	streamID := stream.Header.Get("X-Clearbar-Decision-Id")
	br := bufio.NewReader(stream.Body)
	if first, err := br.ReadString('\n'); err != nil || !strings.Contains(first, "the start") {
		t.Fatalf("first event %q: %v", first, err)
	}
	completion := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions",
			strings.NewReader(`{"model":"clearbar/c","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resp = nil
		}
		completion <- resp
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the completion did not reach the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}

	signal()
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), `"code":"gateway_shutting_down"`) || strings.Contains(string(rest), "[DONE]") {
		t.Errorf("the cut stream ended with %q, want an error event and no [DONE]", rest)
	}
	resp := <-completion
	if resp == nil {
		t.Fatal("the completion's connection was dropped instead of answered")
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "gateway_shutting_down") {
		t.Errorf("the cut completion: %d %s", resp.StatusCode, body)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(logs.String(), "cut=2") {
		t.Errorf("the log does not say two requests were cut:\n%s", logs.String())
	}
	store, err := trace.OpenSQLite(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ds, err := store.List(context.Background(), trace.Filter{Limit: 10})
	if err != nil || len(ds) != 2 {
		t.Fatalf("%d decisions in the store, want 2 (err %v)", len(ds), err)
	}
	for _, d := range ds {
		if !strings.Contains(d.Reason, "shut down") || d.Outcome.String() != "canceled" {
			t.Errorf("decision %s: outcome %s reason %q", d.ID, d.Outcome, d.Reason)
		}
		if d.ID == streamID && (d.Attempts[0].Outcome != "cut mid-stream" || !d.Attempts[0].UsageEstimated || d.Attempts[0].Usage.CompletionTokens == 0) {
			t.Errorf("the stream's attempt: %+v", d.Attempts[0])
		}
	}
}

// TestNoSecretInLogsOrRecords runs the gateway with an upstream key and client keys, makes the
// upstream echo the key it was sent in an error, and checks that neither the upstream key nor
// the client key appears in the log (at debug level), in any response, or anywhere in the
// decision database file.
func TestNoSecretInLogsOrRecords(t *testing.T) {
	const upstreamKey = "sk-upstream-SECRET-7f3a9"
	const clientKey = "client-SECRET-b81c2"
	const adminKey = "admin-SECRET-99d0e"
	t.Setenv("CB_TEST_UPSTREAM_KEY", upstreamKey)
	var calls int
	var mu sync.Mutex
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		io.Copy(io.Discard, r.Body)
		if n%2 == 0 {
			// An upstream that echoes the credentials it got, as some do.
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error","code":"invalid_api_key"}}`, r.Header.Get("Authorization"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	defer upstream.Close()
	dir := t.TempDir()
	specFile := filepath.Join(dir, "keys.yaml")
	os.WriteFile(specFile, []byte(`version: 1
name: keys
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers:
  up: {type: openai-compatible, base_url: "`+upstream.URL+`/v1", api_key: "${CB_TEST_UPSTREAM_KEY}"}
models:
  m: {provider: up, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, record_text: true, assume: {pass_rate: {m: 0.9}}}
keys:
  admin: ["`+gateway.HashKey(adminKey)+`"]
  clients: [{name: app, hash: "`+gateway.HashKey(clientKey)+`", tier: pro}]
`), 0o644)
	db := filepath.Join(dir, "d.db")
	addr, logs, stop := startServe(t, specFile, "--trace", db, "--log-level", "debug")
	var bodies []string
	for range 6 {
		resp, body := chat(t, addr, `{"model":"clearbar/c","messages":[{"role":"user","content":"hello"}]}`, "Authorization", "Bearer "+clientKey)
		bodies = append(bodies, string(body))
		for k, v := range resp.Header {
			bodies = append(bodies, k+": "+strings.Join(v, ","))
		}
		id := resp.Header.Get("X-Clearbar-Decision-Id")
		req, _ := http.NewRequest("GET", "http://"+addr+"/v1/decisions/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+adminKey)
		if r2, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(r2.Body)
			r2.Body.Close()
			bodies = append(bodies, string(b))
		}
	}
	mu.Lock()
	if calls == 0 {
		t.Fatal("the upstream was never called; the test proves nothing")
	}
	mu.Unlock()
	stop()
	files, _ := filepath.Glob(filepath.Join(dir, "d.db*"))
	var dbBytes []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		dbBytes = append(dbBytes, b...)
	}
	if !bytes.Contains(dbBytes, []byte("hello")) {
		t.Fatal("the recorded prompt is not in the database; the byte scan would prove nothing")
	}
	for _, secret := range []string{upstreamKey, clientKey, adminKey, "SECRET"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs.String())
		}
		if bytes.Contains(dbBytes, []byte(secret)) {
			t.Errorf("the decision database contains %q", secret)
		}
		for _, b := range bodies {
			if strings.Contains(b, secret) {
				t.Errorf("a response contains %q: %s", secret, b)
			}
		}
	}
	var d struct {
		Attempts []struct{ Error string } `json:"attempts"`
	}
	for _, b := range bodies {
		if strings.Contains(b, `"attempts"`) && json.Unmarshal([]byte(b), &d) == nil {
			for _, a := range d.Attempts {
				if strings.Contains(a.Error, "sk-") {
					t.Errorf("an attempt error keeps a key fragment: %q", a.Error)
				}
			}
		}
	}
}

// simProvider and upstreamProvider are the provider lines of writeOneModelSpec: the simulator
// without errors, or an OpenAI-compatible upstream at url.
const simProvider = "sim: {type: simulated, simulate: {seed: 1, error_rate: 0}}"

func upstreamProvider(url string) string {
	return `up: {type: openai-compatible, base_url: "` + url + `/v1"}`
}

// writeOneModelSpec writes, in dir, the spec of one category routed to one model m on the
// provider line provider ("NAME: {type: …}"), with the latency given, and extra (top-level
// YAML such as a keys: section) after it; it returns the file's path.
func writeOneModelSpec(t *testing.T, dir, file, name, provider, latency, extra string) string {
	t.Helper()
	prov, _, _ := strings.Cut(provider, ":")
	path := filepath.Join(dir, file)
	doc := `version: 1
name: ` + name + `
review: {last: 2026-11-01}
volume: {per_month: 1000}
providers:
  ` + provider + `
models:
  m: {provider: ` + prov + `, model: gpt-4o-mini, latency: ` + latency + `}
categories:
  - {name: c, share: 1, tokens: {in: 10, out: 10}, quality_bar: 0.5, route: {model: m}, assume: {pass_rate: {m: 0.9}}}
` + extra
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
