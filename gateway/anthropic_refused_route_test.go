package gateway

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// mixCategory routes to the Anthropic model, falling back to the OpenAI-format one.
const mixCategory = `  - name: mix
    share: 0
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: claude}
    fallback: [gpt]
    assume: {pass_rate: {claude: 0.95, gpt: 0.95}}
`

// oaChoices answers as an OpenAI-compatible upstream with as many choices as the request's n.
func oaChoices(w http.ResponseWriter, c antCall) {
	n := int(gjson.GetBytes(c.Body, "n").Int())
	if n < 1 {
		n = 1
	}
	var choices []string
	for i := 0; i < n; i++ {
		choices = append(choices, `{"index":`+strconv.Itoa(i)+`,"message":{"role":"assistant","content":"answer `+strconv.Itoa(i)+`"},"logprobs":null,"finish_reason":"stop"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-n","object":"chat.completion","created":1,"model":"gpt-up","choices":[`+strings.Join(choices, ",")+`],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}`)
}

// postChat sends a chat completions request to the gateway.
func (e *antEnv) postChat(t *testing.T, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp, antBody(t, resp)
}

// TestAnthropicRefusalFallsBack: a chat request the Anthropic translation refuses (n over 1)
// is planned past the route's Anthropic model, with the reason in the decision, and the
// OpenAI-format fallback answers it with its n choices; a route of the Anthropic model alone
// answers the 400 the translation gives, as before, calling no upstream.
func TestAnthropicRefusalFallsBack(t *testing.T) {
	e := newAntEnv(t, mixCategory)
	e.oa.answer(oaChoices)
	const req = `{"model":"clearbar/%s","n":2,"messages":[{"role":"user","content":"hi"}]}`

	resp, body := e.postChat(t, strings.Replace(req, "%s", "mix", 1))
	if resp.StatusCode != 200 {
		t.Fatalf("n=2 on claude with fallback gpt: status %d, body %s", resp.StatusCode, body)
	}
	if got := gjson.GetBytes(body, "choices.#").Int(); got != 2 {
		t.Errorf("%d choices, want 2: %s", got, body)
	}
	if m, a := resp.Header.Get("X-Clearbar-Model"), resp.Header.Get("X-Clearbar-Attempts"); m != "gpt" || a != "1" {
		t.Errorf("model %q after %s attempts, want gpt after 1", m, a)
	}
	if n := e.an.count(); n != 0 {
		t.Errorf("the Anthropic upstream got %d calls, want none", n)
	}
	d := e.rec.last()
	if d == nil || d.ID != resp.Header.Get("X-Clearbar-Decision-Id") {
		t.Fatalf("no decision recorded for %s", resp.Header.Get("X-Clearbar-Decision-Id"))
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Model != "claude" || !strings.Contains(d.Skipped[0].Reason, "n must be 1: Anthropic models answer with one choice (got 2)") {
		t.Errorf("skips %+v, want claude left out for n", d.Skipped)
	}
	if strings.Join(d.Plan, " ") != "gpt" {
		t.Errorf("plan %v, want gpt", d.Plan)
	}

	// The Anthropic model alone: the translation's 400, as before.
	resp, body = e.postChat(t, strings.Replace(req, "%s", "an", 1))
	if resp.StatusCode != 400 {
		t.Fatalf("n=2 on claude alone: status %d, body %s", resp.StatusCode, body)
	}
	if msg, param, code := gjson.GetBytes(body, "error.message").String(), gjson.GetBytes(body, "error.param").String(), gjson.GetBytes(body, "error.code").String(); msg != "n must be 1: Anthropic models answer with one choice (got 2)" || param != "n" || code != "unsupported_value" {
		t.Errorf("n=2 on claude alone: message %q, param %q, code %q: %s", msg, param, code, body)
	}
	if an, oa := e.an.count(), e.oa.count(); an != 0 || oa != 1 {
		t.Errorf("upstream calls: anthropic %d, openai %d; want 0 and 1", an, oa)
	}
}
