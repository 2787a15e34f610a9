package openai

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/internal/inflight"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
)

// specProvider returns provider settings for tests.
func specProvider(typ, baseURL string, keys ...string) *spec.Provider {
	sp := &spec.Provider{Name: "up", Type: typ, BaseURL: spec.EnvString{Value: baseURL}}
	for i, k := range keys {
		ref := spec.SecretRef{Secret: clearbar.NewSecret(k)}
		if i == 0 {
			sp.APIKey = ref
		} else {
			sp.APIKeys = append(sp.APIKeys, ref)
		}
	}
	return sp
}

func newTestProvider(t testing.TB, srv *httptest.Server, typ string, keys ...string) *Provider {
	t.Helper()
	p, err := New(provider.Config{Provider: specProvider(typ, srv.URL+"/v1", keys...), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Provider)
}

// TestConformance runs the shared suite for both provider types the adapter serves.
func TestConformance(t *testing.T) {
	for _, typ := range []string{TypeOpenAI, TypeCompatible} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			providertest.Run(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
				return newTestProvider(t, upstream, typ, providertest.APIKey)
			}, providertest.Fixtures(t, "openai")...)
		})
	}
}

// TestStreamCloseIsAlwaysCanceled: see providertest.CloseIsCanceled.
func TestStreamCloseIsAlwaysCanceled(t *testing.T) {
	providertest.CloseIsCanceled(t, func(t *testing.T, upstream *httptest.Server) clearbar.Provider {
		return newTestProvider(t, upstream, TypeCompatible, providertest.APIKey)
	}, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n")
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, explanation string
		typ, base         string
		wantURL, wantErr  string
	}{
		{"openai default", "type openai needs no base_url", TypeOpenAI, "", "https://api.openai.com/v1/chat/completions", ""},
		{"trailing slash", "a trailing slash does not double", TypeCompatible, "http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1/chat/completions", ""},
		{"compatible needs base_url", "there is no default server for openai-compatible", TypeCompatible, "", "", "needs base_url"},
		{"bad scheme", "only http and https upstreams", TypeCompatible, "ftp://x/v1", "", "not an http or https URL"},
		{"wrong type", "the adapter does not pretend to serve another type", "anthropic", "", "", "not \"anthropic\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(provider.Config{Provider: specProvider(tt.typ, tt.base)})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s: err = %v, want %q", tt.explanation, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Provider).endpoint; got != tt.wantURL {
				t.Errorf("%s: endpoint = %q, want %q", tt.explanation, got, tt.wantURL)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	sp := specProvider(TypeOpenAI, "")
	sp.Timeout = spec.Duration(30 * time.Second)
	s := &spec.Spec{Models: spec.Models{
		{Name: "fast", Provider: spec.Ref{Name: "up"}, Model: "gpt-4o-mini", Timeout: spec.Duration(5 * time.Second)},
		{Name: "fast-long", Provider: spec.Ref{Name: "up"}, Model: "gpt-4o-mini", Timeout: spec.Duration(9 * time.Second)},
		{Name: "other", Provider: spec.Ref{Name: "elsewhere"}, Model: "gpt-4o", Timeout: spec.Duration(time.Second)},
		{Name: "plain", Provider: spec.Ref{Name: "up"}, Model: "gpt-4o"},
	}}
	pp, err := New(provider.Config{Provider: sp, Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	p := pp.(*Provider)
	for model, want := range map[string]time.Duration{
		"gpt-4o-mini": 9 * time.Second,  // two models name it: the longer timeout
		"gpt-4o":      30 * time.Second, // its model sets none (and another provider's does not count)
		"unknown":     30 * time.Second, // the provider's
	} {
		if got := p.timeouts.For(model); got != want {
			t.Errorf("timeouts.For(%q) = %s, want %s", model, got, want)
		}
	}
}

// TestModelTimeout checks that the model's timeout bounds a call: Timeout, naming the limit.
func TestModelTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	sp := specProvider(TypeCompatible, srv.URL)
	s := &spec.Spec{Models: spec.Models{{Provider: spec.Ref{Name: "up"}, Model: "m", Timeout: spec.Duration(100 * time.Millisecond)}}}
	p, err := New(provider.Config{Provider: sp, Spec: s, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[]}`)}, Model: "m"})
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.Timeout || !strings.Contains(e.Message, "100ms") {
		t.Fatalf("err = %v, want a Timeout naming 100ms", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the cause does not unwrap to context.DeadlineExceeded: %v", e.Err)
	}
}

// TestKeyRotation covers the rotation contract: a rejected key moves the provider to the next
// key and the same call is sent once more with it; the next call starts with the key that
// worked; when every key is rejected, one call tries two keys and returns Auth.
func TestKeyRotation(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	good := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen = append(seen, key)
		ok := good[key]
		mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+key+`","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	call := &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{"messages":[]}`)}, Model: "m"}
	takeSeen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}

	t.Run("rotates within the call and stays", func(t *testing.T) {
		p := newTestProvider(t, srv, TypeOpenAI, "key-revoked-0001", "key-good-0002", "key-spare-0003")
		mu.Lock()
		good = map[string]bool{"key-good-0002": true}
		mu.Unlock()
		if _, err := p.Complete(context.Background(), call); err != nil {
			t.Fatalf("the call failed despite a good second key: %v", err)
		}
		if got := takeSeen(); strings.Join(got, ",") != "key-revoked-0001,key-good-0002" {
			t.Errorf("keys sent = %v, want the revoked key then the good one", got)
		}
		if _, err := p.Complete(context.Background(), call); err != nil {
			t.Fatal(err)
		}
		if got := takeSeen(); strings.Join(got, ",") != "key-good-0002" {
			t.Errorf("next call sent %v, want the key that worked", got)
		}
	})
	t.Run("all keys rejected", func(t *testing.T) {
		p := newTestProvider(t, srv, TypeOpenAI, "key-a-000000001", "key-b-000000002", "key-c-000000003")
		mu.Lock()
		good = map[string]bool{}
		mu.Unlock()
		_, err := p.Complete(context.Background(), call)
		var e *clearbar.Error
		if !errors.As(err, &e) || e.Class != clearbar.Auth {
			t.Fatalf("err = %v, want Auth", err)
		}
		if got := takeSeen(); strings.Join(got, ",") != "key-a-000000001,key-b-000000002" {
			t.Errorf("keys sent = %v, want two: the active key and one rotation", got)
		}
		for _, k := range []string{"key-a-000000001", "key-b-000000002", "key-c-000000003"} {
			if strings.Contains(err.Error(), k) || strings.Contains(e.Err.Error(), k) {
				t.Errorf("the error leaks key %s: %v / %v", k, err, e.Err)
			}
		}
		// The caller's RotateKey action is another call: it starts with the third key.
		_, _ = p.Complete(context.Background(), call)
		if got := takeSeen(); len(got) == 0 || got[0] != "key-c-000000003" {
			t.Errorf("the retry sent %v, want the third key first", got)
		}
	})
	t.Run("single key", func(t *testing.T) {
		p := newTestProvider(t, srv, TypeOpenAI, "key-only-0000001")
		_, err := p.Complete(context.Background(), call)
		if clearbar.ClassOf(err) != clearbar.Auth {
			t.Fatalf("err = %v, want Auth", err)
		}
		if got := takeSeen(); len(got) != 1 {
			t.Errorf("sent %d requests with one key, want 1", len(got))
		}
	})
}

// TestNoKey: a local server without keys gets no Authorization header.
func TestNoKey(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Values("Authorization"))
		_, _ = io.WriteString(w, `{"id":"x","choices":[]}`)
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeCompatible)
	if _, err := p.Complete(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{}`)}, Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if v := auth.Load().([]string); len(v) != 0 {
		t.Errorf("Authorization = %q, want none", v)
	}
}

// TestConnectionRefused uses an address nothing listens on.
func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pp, err := New(provider.Config{Provider: specProvider(TypeCompatible, "http://"+addr+"/v1", providertest.APIKey)})
	if err != nil {
		t.Fatal(err)
	}
	call := &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{}`)}, Model: "m"}
	_, err = pp.Complete(context.Background(), call)
	var e *clearbar.Error
	if !errors.As(err, &e) || e.Class != clearbar.Connection {
		t.Fatalf("err = %v, want Connection", err)
	}
	if strings.Contains(e.Message, addr) {
		t.Errorf("the client-safe message names the address: %s", e.Message)
	}
	if _, err := pp.Stream(context.Background(), call); clearbar.ClassOf(err) != clearbar.Connection {
		t.Errorf("Stream: err = %v, want Connection", err)
	}
}

// TestStreamCloseFromAnotherGoroutine: Close aborts a Next blocked on a silent upstream.
func TestStreamCloseFromAnotherGoroutine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeOpenAI, "k-000000000001")
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{}`)}, Model: "m", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, func() { _ = s.Close() })
	if s.Next() {
		t.Fatal("Next returned a chunk from a silent upstream")
	}
	if c := clearbar.ClassOf(s.Err()); c != clearbar.Canceled {
		t.Errorf("Err() = %v (%s), want Canceled", s.Err(), c)
	}
}

func TestRedact(t *testing.T) {
	p := &Provider{keys: inflight.NewKeys([]clearbar.Secret{clearbar.NewSecret("gsk_groq0123456789secret")})}
	tests := []struct{ explanation, in, want string }{
		{"the provider's own key, whatever its shape", "Invalid API Key gsk_groq0123456789secret given", "Invalid API Key [redacted] given"},
		{"OpenAI's masked echo", "Incorrect API key provided: sk-proj-********************abcd. You can find", "Incorrect API key provided: [redacted]. You can find"},
		{"a bearer token", "header was Bearer abc.def.ghi", "header was [redacted]"},
		{"nothing to redact", "The model does not exist", "The model does not exist"},
	}
	for _, tt := range tests {
		if got := p.redact(tt.in); got != tt.want {
			t.Errorf("%s: redact(%q) = %q, want %q", tt.explanation, tt.in, got, tt.want)
		}
	}
}

func TestIsQuotaExhausted(t *testing.T) {
	quota := &clearbar.Error{Class: clearbar.RateLimited, Code: CodeInsufficientQuota}
	if !IsQuotaExhausted(quota) || !IsQuotaExhausted(errors.Join(errors.New("x"), quota)) {
		t.Error("an insufficient_quota error is not recognised")
	}
	if IsQuotaExhausted(&clearbar.Error{Class: clearbar.RateLimited, Code: "rate_limit_exceeded"}) || IsQuotaExhausted(nil) {
		t.Error("a plain rate limit counts as exhausted quota")
	}
}

// TestStreamExtras: the stream offers the upstream request id by type assertion, and an SSE
// event named "error" ends it like an error chunk.
func TestStreamExtras(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-Request-Id", "req_stream_42")
		_, _ = io.WriteString(w, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"+
			"event: error\ndata: {\"message\":\"overloaded\",\"type\":\"overloaded_error\"}\n\n")
	}))
	defer srv.Close()
	p := newTestProvider(t, srv, TypeOpenAI, "k-000000000001")
	s, err := p.Stream(context.Background(), &clearbar.Call{Request: &clearbar.Request{Body: []byte(`{}`)}, Model: "m", Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rid, ok := s.(interface{ UpstreamRequestID() string })
	if !ok || rid.UpstreamRequestID() != "req_stream_42" {
		t.Errorf("no upstream request id on the stream")
	}
	n := 0
	for s.Next() {
		n++
	}
	var e *clearbar.Error
	if n != 1 || !errors.As(s.Err(), &e) || e.Class != clearbar.StreamCut || e.Type != "overloaded_error" || !strings.Contains(e.Message, "overloaded") {
		t.Errorf("%d chunks, err %v, want 1 and a StreamCut with the event's fields", n, s.Err())
	}
}
