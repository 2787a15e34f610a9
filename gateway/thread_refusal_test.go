package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A Messages request with Anthropic's thread on a route whose models keep no conversation
// (an OpenAI-format model, simulated models) is refused with the 400 Anthropic gives a request
// Threads cannot serve: error.details.error_code "thread_unsupported_request". The Anthropic
// SDKs read that code (ThreadUnsupportedRequestError) and, with unsupportedRequestBehavior
// "continue_unthreaded", the default of client.beta.messages.toolRunner, send the turn again
// without thread and with the whole conversation. Without it the tool runner fails on its first
// request.

// checkThreadRefusal checks the body of the refusal: Anthropic's envelope, the human message,
// and error.details as the SDKs read it.
func checkThreadRefusal(t *testing.T, status int, body []byte, message string) {
	t.Helper()
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", status, body)
	}
	b := gjson.ParseBytes(body)
	if b.Get("type").Str != "error" || b.Get("error.type").Str != "invalid_request_error" {
		t.Errorf("envelope %s: want Anthropic's, with invalid_request_error", body)
	}
	if !strings.Contains(b.Get("error.message").Str, message) {
		t.Errorf("error.message %q, want it to contain %q", b.Get("error.message").Str, message)
	}
	if got := b.Get("error.details.error_code"); got.Type != gjson.String || got.Str != "thread_unsupported_request" {
		t.Errorf("error.details.error_code %s, want \"thread_unsupported_request\": %s", got.Raw, body)
	}
	if !b.Get("request_id").Exists() {
		t.Errorf("request_id missing: %s", body)
	}
	if n := len(b.Get("error.details").Map()); n != 1 {
		t.Errorf("error.details %s: want error_code alone", b.Get("error.details").Raw)
	}
}

func TestThreadRefusalOpenAIRoute(t *testing.T) {
	e := newAntEnv(t, "")
	for _, thread := range []string{`{"type":"create"}`, `{"type":"continue","previous_message_id":"msg_1"}`} {
		for _, stream := range []string{"false", "true"} {
			body := `{"model":"clearbar/oa","max_tokens":100,"stream":` + stream + `,"messages":[{"role":"user","content":"hi"}],"thread":` + thread + `}`
			resp := e.post(t, body)
			b := antBody(t, resp)
			checkThreadRefusal(t, resp.StatusCode, b, "which only Anthropic models take")
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		}
	}
	if n := len(e.oa.calls); n != 0 {
		t.Errorf("the OpenAI-format upstream got %d calls, want none", n)
	}
	// The same request without thread, as the SDK sends it again, is answered.
	resp := e.post(t, `{"model":"clearbar/oa","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`)
	if b := antBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("without thread: %d %s", resp.StatusCode, b)
	}
}

func TestThreadRefusalSimulatedRoute(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/messages", strings.NewReader(
		`{"model":"clearbar/intent","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"thread":{"type":"create"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkThreadRefusal(t, resp.StatusCode, antBody(t, resp), "simulated, which keep none")
}

// TestOtherRefusalsHaveNoDetails: only the thread refusal carries error.details; another
// parameter only Anthropic takes keeps the plain envelope.
func TestOtherRefusalsHaveNoDetails(t *testing.T) {
	e := newAntEnv(t, "")
	resp := e.post(t, `{"model":"clearbar/oa","max_tokens":100,"messages":[{"role":"user","content":"hi"}],"container":"c1"}`)
	b := antBody(t, resp)
	if resp.StatusCode != 400 || gjson.GetBytes(b, "error.details").Exists() {
		t.Errorf("container on an OpenAI route: %d %s, want a 400 without details", resp.StatusCode, b)
	}
}
