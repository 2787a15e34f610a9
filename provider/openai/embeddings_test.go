package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonguard"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/providertest"
	"github.com/clearbar/clearbar/spec"
	"github.com/tidwall/gjson"
)

const embedAnswer = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":4,"total_tokens":4}}`

// embedServer answers each embeddings request with answer(n, body) for the nth request (from 1).
type embedServer struct {
	mu     sync.Mutex
	bodies []string
	paths  []string
	keys   []string
}

func (e *embedServer) start(t *testing.T, answer func(n int, body string) (int, string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, string(b))
		e.paths = append(e.paths, r.URL.Path)
		e.keys = append(e.keys, r.Header.Get("Authorization"))
		n := len(e.bodies)
		e.mu.Unlock()
		status, body := answer(n, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", fmt.Sprintf("req_%d", n))
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEmbed(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(int, string) (int, string) { return 200, embedAnswer })
	p := newTestProvider(t, srv, TypeCompatible, providertest.APIKey)
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{
		Model:          "text-embedding-3-small",
		EncodingFormat: clearbar.EncodingBase64,
		Body:           []byte(`{"model":"my-alias","input":["a","b"],"user":"u-1","x_extra":{"n":1},"encoding_format":"float"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Usage != (clearbar.Usage{PromptTokens: 4}) || !r.HasUsage || r.Model != "text-embedding-3-small" || r.UpstreamRequestID != "req_1" || string(r.Body) != embedAnswer {
		t.Errorf("answer %+v", r)
	}
	body := es.bodies[0]
	for path, want := range map[string]string{"model": `"text-embedding-3-small"`, "input": `["a","b"]`, "user": `"u-1"`, "x_extra": `{"n":1}`, "encoding_format": `"base64"`} {
		if got := gjson.Get(body, path).Raw; got != want {
			t.Errorf("upstream %s = %s, want %s", path, got, want)
		}
	}
	if es.paths[0] != "/v1/embeddings" || es.keys[0] != "Bearer "+providertest.APIKey {
		t.Errorf("path %s key %q", es.paths[0], es.keys[0])
	}

	// Without a body: built from the canonical fields; no encoding asked means none sent.
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}, Dimensions: 256}); err != nil {
		t.Fatal(err)
	}
	if got := es.bodies[1]; got != `{"model":"m","input":["x"],"dimensions":256}` {
		t.Errorf("canonical body %s", got)
	}
}

func TestEmbedBase64Refused(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(n int, body string) (int, string) {
		if gjson.Get(body, "encoding_format").Str == "base64" {
			return 400, `{"error":{"message":"Invalid value for 'encoding_format': base64 is not supported.","type":"invalid_request_error","param":"encoding_format","code":null}}`
		}
		return 200, embedAnswer
	})
	p := newTestProvider(t, srv, TypeCompatible)
	r, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", EncodingFormat: clearbar.EncodingBase64, Body: []byte(`{"model":"m","input":"x","encoding_format":"base64"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(es.bodies) != 2 || gjson.Get(es.bodies[1], "encoding_format").Exists() || !strings.Contains(string(r.Body), "[0.5,-0.25]") {
		t.Errorf("requests %q", es.bodies)
	}
}

func TestEmbedErrors(t *testing.T) {
	tests := []struct {
		explanation string
		status      int
		body        string
		class       clearbar.FailureClass
	}{
		{"a 2xx without data", 200, `{"object":"list","model":"m"}`, clearbar.BadResponse},
		{"an error object in a 2xx", 200, `{"error":{"message":"boom","code":503}}`, clearbar.Overloaded},
		{"not JSON", 200, `<html>`, clearbar.BadResponse},
		{"rate limited", 429, `{"error":{"message":"slow","type":"rate_limit_error"}}`, clearbar.RateLimited},
		{"a bad request that is not about base64", 400, `{"error":{"message":"input too long","type":"invalid_request_error","param":"input"}}`, clearbar.ClientError},
		{"the key echoed back", 401, `{"error":{"message":"Incorrect API key provided: ` + providertest.APIKey + `"}}`, clearbar.Auth},
	}
	for _, tt := range tests {
		var es embedServer
		srv := es.start(t, func(int, string) (int, string) { return tt.status, tt.body })
		p := newTestProvider(t, srv, TypeOpenAI, providertest.APIKey)
		_, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", EncodingFormat: clearbar.EncodingBase64, Input: []string{"x"}})
		e := clearbar.AsError(err)
		if e.Class != tt.class || e.Provider != "up" || e.Model != "m" {
			t.Errorf("%s: %s (%v)", tt.explanation, e.Class, err)
		}
		if err != nil && (strings.Contains(err.Error(), providertest.APIKey) || strings.Contains(fmt.Sprint(e.Err), providertest.APIKey)) {
			t.Errorf("%s: the key leaks: %v", tt.explanation, err)
		}
		if len(es.bodies) != 1 {
			t.Errorf("%s: %d requests, want 1", tt.explanation, len(es.bodies))
		}
	}
	// An answer nested too deep says so, not that it is not JSON.
	deep := `{"data":` + strings.Repeat("[", jsonguard.MaxDepth) + strings.Repeat("]", jsonguard.MaxDepth) + `}`
	var es embedServer
	srv := es.start(t, func(int, string) (int, string) { return 200, deep })
	_, err := newTestProvider(t, srv, TypeOpenAI, providertest.APIKey).Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}})
	if e := clearbar.AsError(err); e.Class != clearbar.BadResponse || !strings.Contains(e.Message, "nests arrays and objects more than") {
		t.Errorf("a deep answer: %v", err)
	}
	// A body that is not a JSON object is the client's error, before any request.
	idle := httptest.NewServer(http.NotFoundHandler())
	defer idle.Close()
	p := newTestProvider(t, idle, TypeOpenAI)
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Body: []byte(`[1]`)}); clearbar.ClassOf(err) != clearbar.ClientError {
		t.Errorf("array body: %v", err)
	}
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m"}); clearbar.ClassOf(err) != clearbar.ClientError {
		t.Errorf("no input: %v", err)
	}
}

// TestEmbedKeyRotation checks that a rejected key moves the provider to the next one, as for
// chat completions.
func TestEmbedKeyRotation(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(n int, _ string) (int, string) {
		if n == 1 {
			return 401, `{"error":{"message":"bad key"}}`
		}
		return 200, embedAnswer
	})
	p := newTestProvider(t, srv, TypeOpenAI, "key-one-xxxx", "key-two-xxxx")
	if _, err := p.Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(es.keys, ",") != "Bearer key-one-xxxx,Bearer key-two-xxxx" {
		t.Errorf("keys %q", es.keys)
	}
}

// TestEmbedTimeout checks that the model's timeout bounds an embeddings call too.
func TestEmbedTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	sp := specProvider(TypeCompatible, srv.URL+"/v1")
	sp.Timeout = spec.Duration(50 * time.Millisecond)
	pp, err := New(provider.Config{Provider: sp, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pp.(*Provider).Embed(context.Background(), &clearbar.EmbedCall{Model: "m", Input: []string{"x"}})
	if c := clearbar.ClassOf(err); c != clearbar.Timeout {
		t.Errorf("class %s (%v), want timeout", c, err)
	}
}

// TestEmbedEncodingFormatUnknown: an upstream that does not know encoding_format at all (older
// Azure OpenAI api-versions answer "Unrecognized request argument supplied: encoding_format")
// refuses it whatever its value; the second request leaves it out, which means floats.
func TestEmbedEncodingFormatUnknown(t *testing.T) {
	var es embedServer
	srv := es.start(t, func(n int, body string) (int, string) {
		if gjson.Get(body, "encoding_format").Exists() {
			return 400, `{"error":{"code":null,"message":"Unrecognized request argument supplied: encoding_format","param":null,"type":"invalid_request_error"}}`
		}
		return 200, embedAnswer
	})
	p := newTestProvider(t, srv, TypeCompatible)
	for _, call := range []*clearbar.EmbedCall{
		{Model: "m", EncodingFormat: clearbar.EncodingBase64, Body: []byte(`{"model":"m","input":"x","encoding_format":"base64"}`)},
		{Model: "m", EncodingFormat: clearbar.EncodingBase64, Input: []string{"x"}},
	} {
		es.bodies = nil
		r, err := p.Embed(context.Background(), call)
		if err != nil {
			t.Fatalf("%v (requests %q)", err, es.bodies)
		}
		if len(es.bodies) != 2 || !strings.Contains(string(r.Body), "[0.5,-0.25]") {
			t.Errorf("requests %q", es.bodies)
		}
	}
}
