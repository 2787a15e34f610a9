package gateway

import (
	"strings"
	"testing"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/spec"
)

// TestWebSearchWithToolsSkipsGemini2: a request with web_search_options and tools is planned
// past a Gemini model before Gemini 3, which refuses the two together, with the reason; the
// search alone, or the tools alone, keep it; web_search_options that is not an object is a
// 400 naming it.
func TestWebSearchWithToolsSkipsGemini2(t *testing.T) {
	const doc = `version: 1
name: search
providers: {google: {type: gemini, api_key: "k"}}
models:
  flash: {provider: google, model: gemini-2.5-flash, latency: {p50: 1s, p95: 2s}}
  pro3: {provider: google, model: gemini-3-pro-preview, latency: {p50: 1s, p95: 2s}}
categories:
  - name: qa
    share: 1
    tokens: {in: 100, out: 10}
    quality_bar: 0.5
    route: {model: flash}
    fallback: [pro3]
    assume: {pass_rate: {flash: 0.9, pro3: 0.95}}
`
	s, err := spec.Parse([]byte(doc), "search.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Options{Spec: s, Providers: map[string]clearbar.Provider{"google": newFake("google")}})
	if err != nil {
		t.Fatal(err)
	}
	const tools = `,"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]`
	const search = `,"web_search_options":{}`
	for _, tc := range []struct {
		name, extra string
		plan        string
		skipped     string
	}{
		{"search and tools", search + tools, "pro3", "flash: a Gemini model before Gemini 3 cannot search the web and call the request's tools in one request"},
		{"search alone", search, "flash pro3", ""},
		{"tools alone", tools, "flash pro3", ""},
	} {
		d, err := DryRun(g, []byte(`{"model":"clearbar/qa","messages":[{"role":"user","content":"Who won?"}]`+tc.extra+`}`), nil, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var skipped []string
		for _, sk := range d.Skipped {
			skipped = append(skipped, sk.Model+": "+sk.Reason)
		}
		if got := strings.Join(d.Plan, " "); got != tc.plan || strings.Join(skipped, "; ") != tc.skipped {
			t.Errorf("%s: plan %q, skipped %q; want plan %q, skipped %q", tc.name, got, skipped, tc.plan, tc.skipped)
		}
	}
	// A route of Gemini 2.x models only: the 400 says what no model there takes together.
	s2, err := spec.Parse([]byte(strings.Replace(doc, "    fallback: [pro3]\n", "", 1)), "search.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := New(Options{Spec: s2, Providers: map[string]clearbar.Provider{"google": newFake("google")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = DryRun(g2, []byte(`{"model":"clearbar/qa","messages":[{"role":"user","content":"Who won?"}]`+search+tools+`}`), nil, "")
	if e := clearbar.AsError(err); err == nil || e.Status != 400 || e.Param != "web_search_options" || !strings.Contains(e.Message, "asks for a web search (web_search_options) and offers tools") {
		t.Errorf("a route of Gemini 2.x models only: %v", err)
	}
	// A request that names the Gemini 2.x model itself is told about that model's route.
	_, err = DryRun(g, []byte(`{"model":"flash","messages":[{"role":"user","content":"Who won?"}]`+search+tools+`}`), nil, "")
	if e := clearbar.AsError(err); err == nil || !strings.Contains(e.Message, "no model on the route of model flash, which the request names, takes together") {
		t.Errorf("the model named in the request: %v", err)
	}
	_, err = DryRun(g, []byte(`{"model":"clearbar/qa","messages":[{"role":"user","content":"x"}],"web_search_options":true}`), nil, "")
	if e := clearbar.AsError(err); err == nil || e.Status != 400 || !strings.Contains(e.Message, "Invalid type for 'web_search_options': expected an object") {
		t.Errorf("web_search_options true: %v", err)
	}
}

// TestThreadOnSimulatedModels: a Messages request that continues a thread Anthropic's API
// keeps cannot be answered by a simulated provider, which keeps no conversation: it would answer
// the last turn alone. It is a 400 that says so, not an answer without the history.
func TestThreadOnSimulatedModels(t *testing.T) {
	f := newFixture(t, nil)
	body := `{"model":"clearbar/intent","max_tokens":100,"messages":[{"role":"user","content":"and tomorrow?"}],"thread":{"type":"continue","previous_message_id":"msg_1"}}`
	d, err := DryRunMessages(f.gw, []byte(body), map[string]string{"anthropic-version": "2023-06-01"}, "")
	e := clearbar.AsError(err)
	if err == nil || e.Status != 400 || e.Param != "thread" || !strings.Contains(e.Message, "simulated, which keep none") {
		t.Fatalf("thread on simulated models: %v", err)
	}
	if d == nil || len(d.Skipped) == 0 || !strings.Contains(d.Skipped[0].Reason, "the simulated provider keeps no conversation") {
		t.Errorf("skips %+v: want the reason each simulated model was left out", d)
	}
}
