package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar/provider"
	geminiadapter "github.com/clearbar/clearbar/provider/gemini"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

const geRefusedSpec = `version: 1
name: gemini-refused
review: {last: 2026-11-01, cadence: monthly}
volume: {per_month: 1000}
retry: {attempts: 0, backoff: 1ms}
providers:
  oa: {type: openai-compatible, base_url: OA_URL/v1, api_key: "k-oa"}
  ge: {type: gemini, base_url: GE_URL, api_key: "k-ge"}
models:
  gpt:   {provider: oa, model: gpt-up, catalog: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
  flash: {provider: ge, model: gemini-2.5-flash, latency: {p50: 10ms, p95: 20ms}}
categories:
  - name: mix
    default: true
    share: 0.5
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: flash}
    fallback: [gpt]
    assume: {pass_rate: {flash: 0.95, gpt: 0.95}}
  - name: ge
    share: 0.5
    tokens: {in: 100, out: 10}
    quality_bar: 0.9
    route: {model: flash}
    assume: {pass_rate: {flash: 0.95}}
`

// TestGeminiRefusalFallsBack: a chat request the Gemini adapter refuses (a custom tool) is
// planned past the route's Gemini model, with the reason in the decision, and the
// OpenAI-format fallback answers it, the Gemini upstream never called; a route of the Gemini
// model alone answers the adapter's own 400, calling no upstream.
func TestGeminiRefusalFallsBack(t *testing.T) {
	oa := newAntUpstream(t, oaChoices)
	ge := newAntUpstream(t, func(w http.ResponseWriter, _ antCall) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"candidates":[{"content":{"role":"model","parts":[{"text":"from gemini"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}`))
	})
	src := strings.NewReplacer("OA_URL", oa.srv.URL, "GE_URL", ge.srv.URL).Replace(geRefusedSpec)
	s, err := spec.Parse([]byte(src), "gemini-refused.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := provider.NewRegistry()
	reg.Register("openai-compatible", openaiadapter.New)
	reg.Register("gemini", geminiadapter.New)
	providers, err := reg.NewAll(s, provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &memRecorder{}
	gw, err := New(Options{Spec: s, Providers: providers, Recorder: rec, Decisions: rec})
	if err != nil {
		t.Fatal(err)
	}
	e := &antEnv{gw: gw, rec: rec, oa: oa}
	e.srv = httptest.NewServer(gw)
	t.Cleanup(e.srv.Close)

	const req = `{"model":"clearbar/%s","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"custom","custom":{"name":"grammar"}}]}`
	const refusal = `Gemini takes function tools, not "custom"`

	// A plain request reaches Gemini: the route works as it is.
	resp, body := e.postChat(t, `{"model":"clearbar/mix","messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("X-Clearbar-Model") != "flash" || ge.count() != 1 {
		t.Fatalf("a plain request: status %d from %q, %d Gemini calls: %s; want 200 from flash", resp.StatusCode, resp.Header.Get("X-Clearbar-Model"), ge.count(), body)
	}

	resp, body = e.postChat(t, strings.Replace(req, "%s", "mix", 1))
	if resp.StatusCode != 200 {
		t.Fatalf("a custom tool on flash with fallback gpt: status %d, body %s", resp.StatusCode, body)
	}
	if m, a := resp.Header.Get("X-Clearbar-Model"), resp.Header.Get("X-Clearbar-Attempts"); m != "gpt" || a != "1" {
		t.Errorf("model %q after %s attempts, want gpt after 1", m, a)
	}
	if n := ge.count(); n != 1 {
		t.Errorf("the Gemini upstream got %d calls for the custom tool, want none", n-1)
	}
	d := rec.last()
	if d == nil || d.ID != resp.Header.Get("X-Clearbar-Decision-Id") {
		t.Fatalf("no decision recorded for %s", resp.Header.Get("X-Clearbar-Decision-Id"))
	}
	if len(d.Skipped) != 1 || d.Skipped[0].Model != "flash" || d.Skipped[0].Reason != "a Gemini model cannot take the request: "+refusal {
		t.Errorf("skips %+v, want flash left out for the custom tool", d.Skipped)
	}
	if strings.Join(d.Plan, " ") != "gpt" {
		t.Errorf("plan %v, want gpt", d.Plan)
	}

	// The Gemini model alone: the adapter's 400.
	resp, body = e.postChat(t, strings.Replace(req, "%s", "ge", 1))
	if resp.StatusCode != 400 {
		t.Fatalf("a custom tool on flash alone: status %d, body %s", resp.StatusCode, body)
	}
	if msg, param, code := gjson.GetBytes(body, "error.message").String(), gjson.GetBytes(body, "error.param").String(), gjson.GetBytes(body, "error.code").String(); msg != refusal || param != "tools[0].type" || code != "unsupported_for_gemini" {
		t.Errorf("a custom tool on flash alone: message %q, param %q, code %q: %s", msg, param, code, body)
	}
	if g, o := ge.count(), oa.count(); g != 1 || o != 1 {
		t.Errorf("upstream calls: gemini %d, openai %d; want 1 and 1 (the plain request's, the fallback's)", g, o)
	}
}
