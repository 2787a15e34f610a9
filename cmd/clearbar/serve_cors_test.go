package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeCORSOrigin: serve --cors-origin lets a browser page on that origin call the API
// (its preflight is answered, its answers carry Access-Control-Allow-Origin); without the flag
// no CORS header is sent; an origin that is not one is refused at start.
func TestServeCORSOrigin(t *testing.T) {
	const origin = "http://localhost:5173"
	preflight := func(addr string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", "http://"+addr+"/v1/chat/completions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-clearbar-category")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	addr, _, _ := startServe(t, "--trace", "none", "--cors-origin", origin)
	if resp := preflight(addr); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-clearbar-category") {
		t.Errorf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
	}
	resp, body := chat(t, addr, `{"model":"clearbar/intent","messages":[{"role":"user","content":"Where is my order?"}]}`, "Origin", origin)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Access-Control-Expose-Headers") == "" {
		t.Errorf("chat: status %d, headers %v: %s", resp.StatusCode, resp.Header, body)
	}

	plain, _, _ := startServe(t, "--trace", "none")
	if resp := preflight(plain); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without --cors-origin, preflight: status %d, headers %v", resp.StatusCode, resp.Header)
	}

	var out syncBuffer
	m := &Main{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(""), Now: time.Now}
	if code := m.Run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--trace", "none", "--cors-origin", "localhost:5173"}); code == 0 || !strings.Contains(out.String(), "is not an origin") {
		t.Errorf("an origin without its scheme: exit %d, output %s", code, out.String())
	}
}
