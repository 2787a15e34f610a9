package gateway

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/health"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// logBuffer is a slog text log in memory, safe for the gateway's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the log's lines that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	var out []string
	for l := range strings.SplitSeq(b.String(), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// testClock is a clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newLoggingFixture is newFixture (testdata/gw.yaml, fake providers a and b) with the gateway's
// log in a buffer, at debug level, and a clock the test moves.
func newLoggingFixture(t *testing.T, edit func(string) string) (*fixture, *logBuffer, *testClock) {
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
	logs := &logBuffer{}
	clock := &testClock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	f := &fixture{a: newFake("a"), b: newFake("b"), rec: &memRecorder{}}
	f.gw, err = New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": f.a, "b": f.b}, Recorder: f.rec, Decisions: f.rec,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(f.srv.Close)
	return f, logs, clock
}

// TestBreakerTransitionsAreLogged: a breaker that opens is a warning naming the model, its
// provider and why; it closing again is an info line; neither is repeated per request.
func TestBreakerTransitionsAreLogged(t *testing.T) {
	f, logs, clock := newLoggingFixture(t, nil)
	f.a.behave = func(string, int) error { return overloaded() }
	for range 5 {
		readAll(t, f.post(t, hello)) // small fails (and is retried once), big answers
	}
	opened := logs.lines("level=WARN", "circuit breaker opened", "model=small", "provider=a", `why="5 failures in a row (last: overloaded)"`, "cooldown=")
	if len(opened) != 1 || len(logs.lines("circuit breaker opened")) != 1 {
		t.Fatalf("want one warning that small's breaker opened, got:\n%s", logs)
	}
	if got := logs.lines("circuit breaker closed"); len(got) != 0 {
		t.Fatalf("closed before its cooldown: %q", got)
	}

	// After the cooldown, small answers its probe: the breaker closes.
	f.a.behave = nil
	clock.add(health.DefaultSettings().Cooldown + time.Second)
	resp := f.post(t, hello)
	readAll(t, resp)
	if resp.Header.Get("X-Clearbar-Model") != "small" {
		t.Fatalf("the probe went to %q", resp.Header.Get("X-Clearbar-Model"))
	}
	if got := logs.lines("level=INFO", "circuit breaker closed", "model=small", "provider=a"); len(got) != 1 {
		t.Errorf("want one info line that small's breaker closed, got:\n%s", logs)
	}
	if got := logs.lines("level=DEBUG", "half-open", "model=small"); len(got) != 1 {
		t.Errorf("want one debug line that small's breaker half-opened, got:\n%s", logs)
	}

	// A failed probe opens it again: a warning that says so.
	f.a.behave = func(string, int) error { return overloaded() }
	for range 5 {
		readAll(t, f.post(t, hello))
	}
	clock.add(health.DefaultSettings().Cooldown + time.Second)
	readAll(t, f.post(t, hello))
	if got := logs.lines("level=WARN", "circuit breaker opened again", "model=small", `why="probe failed: overloaded"`); len(got) != 1 {
		t.Errorf("want one warning that small's probe failed, got:\n%s", logs)
	}
}

// TestAuthFailuresAreLoggedOncePerMinute: a provider that rejects the gateway's credentials is
// a warning at most once a minute per provider, however many requests fail, and the log holds
// no key: not the provider's, not one the upstream's message quotes.
func TestAuthFailuresAreLoggedOncePerMinute(t *testing.T) {
	const key = "tk-live-SECRETKEY-98765"
	f, logs, clock := newLoggingFixture(t, func(src string) string {
		return strings.Replace(src, "a: {type: simulated}", `a: {type: openai-compatible, base_url: "http://127.0.0.1:9/v1", api_key: "`+key+`"}`, 1)
	})
	if ks := f.gw.spec.Provider("a").Keys(); len(ks) != 1 || ks[0].Reveal() != key {
		t.Fatalf("provider a's keys %v: the spec edit did not take", ks)
	}
	f.a.behave = func(string, int) error {
		return &clearbar.Error{Class: clearbar.Auth, Status: 401, Provider: "a",
			Message: "Incorrect API key provided: " + key + " (also sk-proj-abcdef123456, Bearer " + key + ")"}
	}
	f.b.behave = func(string, int) error {
		return &clearbar.Error{Class: clearbar.Auth, Status: 403, Provider: "b", Message: "permission denied"}
	}
	for range 10 {
		readAll(t, f.post(t, hello)) // small (a) and big (b) both reject the gateway
	}
	warned := func(provider string) []string {
		return logs.lines("level=WARN", "rejected the gateway's credentials", "provider="+provider)
	}
	if a, b := warned("a"), warned("b"); len(a) != 1 || len(b) != 1 {
		t.Fatalf("want one warning per provider, got:\n%s", logs)
	}
	if a := warned("a")[0]; !strings.Contains(a, "model=small") || !strings.Contains(a, "status=401") ||
		!strings.Contains(a, "Incorrect API key provided: [redacted]") || !strings.Contains(a, "keys=[redacted]") {
		t.Errorf("warning %s: want the model, status and redacted message", a)
	}
	clock.add(30 * time.Second)
	readAll(t, f.post(t, hello))
	if len(warned("a")) != 1 {
		t.Errorf("warned again within the minute:\n%s", logs)
	}
	clock.add(31 * time.Second)
	readAll(t, f.post(t, hello))
	if a := warned("a"); len(a) != 2 || !strings.Contains(a[1], "not_logged=") {
		t.Errorf("want a second warning, counting those not logged, a minute after the first:\n%s", logs)
	}
	for _, secret := range []string{key, "SECRETKEY", "98765", "abcdef123456"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// TestAuthFailureLoggedThroughAdapter: an OpenAI-compatible upstream's 401, quoting the key it
// was sent, reaches the log as one warning with the key redacted.
func TestAuthFailureLoggedThroughAdapter(t *testing.T) {
	const key = "sk-upstream-e2e-SECRET-0000key"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s. You can find your API key at https://example.com.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	t.Cleanup(up.Close)
	data, err := readFile("testdata/e2e/sdk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse([]byte(strings.ReplaceAll(string(data), "UPSTREAM_URL", up.URL)), "testdata/e2e/sdk.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := openaiadapter.New(provider.Config{Provider: s.Provider("up"), Spec: s, HTTP: up.Client()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	g, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"up": p},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	for range 3 {
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"clearbar/auto","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode/100 != 5 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	}
	if got := logs.lines("level=WARN", "rejected the gateway's credentials", "provider=up", "status=401"); len(got) != 1 {
		t.Errorf("want one warning, got:\n%s", logs)
	}
	for _, secret := range []string{key, "SECRET", "0000key"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
