package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// TestUnversionedPaths: a client whose base URL lacks /v1 reaches the same endpoints
// (POST /chat/completions, /messages, /responses, GET /models), with the same method checks;
// the admin endpoints stay under /v1 only.
func TestUnversionedPaths(t *testing.T) {
	e := newAntEnv(t, "")
	do := func(method, path, body string, anthropic bool) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if anthropic {
			req.Header.Set("Anthropic-Version", "2023-06-01")
			req.Header.Set("X-Api-Key", antClientKey)
		} else {
			req.Header.Set("Authorization", "Bearer "+antClientKey)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, antBody(t, resp)
	}
	for _, tc := range []struct {
		method, path, body string
		anthropic          bool
		status             int
		check              string // a gjson path that must exist in the answer
	}{
		{"POST", "/chat/completions", `{"model":"clearbar/oa","messages":[{"role":"user","content":"Hello"}]}`, false, 200, "choices.0.message.content"},
		{"POST", "/messages", antReq("oa", ""), true, 200, "content.0.text"},
		{"POST", "/messages/count_tokens", `{"model":"clearbar/oa","messages":[{"role":"user","content":"Hello"}]}`, true, 200, "input_tokens"},
		{"POST", "/responses", `{"model":"clearbar/oa","input":"Hello"}`, false, 200, "output.0.content.0.text"},
		{"GET", "/models", "", false, 200, "data.0.id"},
		{"GET", "/chat/completions", "", false, 405, "error.message"},
		{"POST", "/messages/nope", "{}", true, 404, "error.type"},
		{"GET", "/admin/health", "", false, 404, "error.message"},
	} {
		resp, body := do(tc.method, tc.path, tc.body, tc.anthropic)
		if resp.StatusCode != tc.status || !gjson.GetBytes(body, tc.check).Exists() {
			t.Errorf("%s %s: status %d, want %d with %s: %s", tc.method, tc.path, resp.StatusCode, tc.status, tc.check, body)
		}
	}
}
