package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// newCORSFixture is the fixture's gateway with CORS origins.
func newCORSFixture(t *testing.T, origins ...string) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	data, err := readFile("testdata/gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(data, "testdata/gw.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.gw, err = New(Options{Spec: s, Providers: map[string]clearbar.Provider{"a": f.a, "b": f.b}, Recorder: f.rec, CORSOrigins: origins}); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.gw)
	t.Cleanup(f.srv.Close)
	return f
}

func corsDo(t *testing.T, f *fixture, method, path, body string, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	return resp
}

// accessControl returns the response's Access-Control-* headers.
func accessControl(h http.Header) []string {
	var out []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out = append(out, k)
		}
	}
	return out
}

// TestCORS: with origins configured, a browser page on one of them can call the gateway: its
// preflight is a 204 naming the methods and the headers the SDKs send (Anthropic's, the
// X-Stainless-* ones, Clearbar's X-Clearbar-*), before any key is checked, and its answers
// carry Access-Control-Allow-Origin and the headers it may read. Another origin gets no CORS
// header. Before, no response allowed any origin, and a preflight was a 405.
func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	f := newCORSFixture(t, app, "http://localhost:5173")
	asked := "content-type, authorization, anthropic-version, x-clearbar-category, x-stainless-os, x-stainless-retry-count, x-evil"
	for _, path := range []string{"/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/models"} {
		resp := corsDo(t, f, "OPTIONS", path, "", "Origin", app, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", asked)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != app || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight of %s: status %d, headers %v", path, resp.StatusCode, h)
		}
		allowed := h.Get("Access-Control-Allow-Headers")
		for _, want := range []string{"content-type", "authorization", "anthropic-version", "x-clearbar-category", "x-stainless-os", "x-stainless-retry-count"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("preflight of %s allows %q, not %s", path, allowed, want)
			}
		}
		if strings.Contains(allowed, "x-evil") {
			t.Errorf("preflight of %s allows a header the gateway does not read: %q", path, allowed)
		}
	}
	resp := corsDo(t, f, "POST", "/v1/chat/completions", hello, "Origin", "http://localhost:5173")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-Clearbar-Decision-Id") || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Errorf("a request from an allowed origin: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp = corsDo(t, f, "POST", "/v1/chat/completions", strings.Replace(hello, `{"model"`, `{"stream":true,"model"`, 1), "Origin", app)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != app || resp.Header.Get("Access-Control-Expose-Headers") == "" {
		t.Errorf("a stream to an allowed origin: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp = corsDo(t, f, "POST", "/v1/chat/completions", `{"model":`, "Origin", app)
	if resp.StatusCode != 400 || resp.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("an error to an allowed origin must be readable too: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp = corsDo(t, f, "POST", "/v1/chat/completions", hello, "Origin", "https://evil.example.com")
	if got := accessControl(resp.Header); resp.StatusCode != 200 || len(got) > 0 {
		t.Errorf("another origin: status %d, CORS headers %v", resp.StatusCode, got)
	}
	resp = corsDo(t, f, "OPTIONS", "/v1/chat/completions", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if got := accessControl(resp.Header); resp.StatusCode == http.StatusNoContent || len(got) > 0 {
		t.Errorf("another origin's preflight: status %d, CORS headers %v", resp.StatusCode, got)
	}

	any := newCORSFixture(t, "*")
	resp = corsDo(t, any, "POST", "/v1/chat/completions", hello, "Origin", "https://anywhere.example")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("with *: Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestNoCORSByDefault: without origins, no response carries a CORS header, errors and streams
// included, and OPTIONS is the 405 of any other method.
func TestNoCORSByDefault(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct{ method, body string }{
		{"POST", hello},
		{"POST", strings.Replace(hello, `{"model"`, `{"stream":true,"model"`, 1)},
		{"POST", `{"model":`},
		{"OPTIONS", ""},
	} {
		resp := corsDo(t, f, tt.method, "/v1/chat/completions", tt.body, "Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
		if got := accessControl(resp.Header); len(got) > 0 {
			t.Errorf("%s %s: CORS headers %v", tt.method, tt.body, got)
		}
		if tt.method == "OPTIONS" && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("OPTIONS: status %d", resp.StatusCode)
		}
	}
}

// TestCORSOriginsChecked: an origin that is not scheme://host[:port] is refused when the
// gateway is built.
func TestCORSOriginsChecked(t *testing.T) {
	for _, o := range []string{"app.example.com", "https://app.example.com/path", "ftp://x", "https://"} {
		if _, err := newCORS([]string{o}); err == nil || !strings.Contains(err.Error(), "is not an origin") {
			t.Errorf("%q: %v", o, err)
		}
	}
	if c, err := newCORS([]string{"https://App.Example.com/", "*"}); err != nil || !c.any || !c.origins["https://app.example.com"] {
		t.Errorf("%+v %v", c, err)
	}
}
