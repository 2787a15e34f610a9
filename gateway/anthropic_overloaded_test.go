package gateway

import (
	"net/http"
	"strings"
	"testing"
)

// TestMessagesOverloadedIs529: Anthropic answers overloaded_error with 529, so an overload from
// any upstream reaches a /v1/messages client as a 529 (which Anthropic's SDKs retry, as every
// 5xx); an OpenAI client of the same route still gets the gateway's 503.
func TestMessagesOverloadedIs529(t *testing.T) {
	e := newAntEnv(t, "")
	e.oa.answer(func(w http.ResponseWriter, c antCall) {
		writeUpstream(w, 503, `{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}`)
	})
	for _, stream := range []string{"", `,"stream":true`} {
		resp := e.post(t, antReq("oa", stream))
		body := antBody(t, resp)
		if resp.StatusCode != 529 {
			t.Errorf("stream %q: status %d, want 529: %s", stream, resp.StatusCode, body)
			continue
		}
		checkAnthropicError(t, "an OpenAI upstream's 503", resp, body, "overloaded_error", "overloaded")
	}

	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"clearbar/oa","messages":[{"role":"user","content":"Hello"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+antClientKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := antBody(t, resp)
	if resp.StatusCode != 503 {
		t.Errorf("OpenAI ingress: status %d, want 503: %s", resp.StatusCode, body)
	}
}
