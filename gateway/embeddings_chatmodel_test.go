package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	openaiadapter "github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// TestEmbeddingsChatModels: chat models on a provider that also serves embeddings (an
// OpenAI-compatible one) are neither suggested as embeddings models nor called for embeddings:
// one the price catalogue has as a chat model is a 400 naming it, before any upstream call.
// A model the catalogue does not have is suggested unless the spec routes chat to it.
func TestEmbeddingsChatModels(t *testing.T) {
	primary, backup := newEmbedUpstream(t, "floats"), newEmbedUpstream(t, "floats")
	src := fmt.Sprintf(embedSpec, primary.srv.URL, backup.srv.URL, "")
	src = strings.Replace(src, "  talker:", `  chatty:      {provider: up, model: gpt-4o-mini, latency: {p50: 10ms, p95: 20ms}}
  custom-chat: {provider: up, model: house-chat-1, price: {input: 1, output: 1}, latency: {p50: 10ms, p95: 20ms}}
  custom-emb:  {provider: up, model: house-embed-1, price: {input: 0.01, output: 0}, latency: {p50: 10ms, p95: 20ms}}
  talker:`, 1)
	src = strings.Replace(src, "route: {model: talker}", "route: {model: talker}\n    fallback: [custom-chat]", 1)
	src = strings.Replace(src, "pass_rate: {talker: 0.9}", "pass_rate: {talker: 0.9, custom-chat: 0.9}", 1)
	s, err := spec.Parse([]byte(src), "embeddings.yaml", spec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	providers := map[string]clearbar.Provider{"chat": newFake("chat")}
	for _, name := range []string{"up", "back"} {
		sp := *s.Provider(name)
		sp.APIKey = spec.SecretRef{Secret: clearbar.NewSecret(embedUpstreamKey)}
		p, err := openaiadapter.New(provider.Config{Provider: &sp, Spec: s})
		if err != nil {
			t.Fatal(err)
		}
		providers[name] = p
	}
	gw, err := New(Options{Spec: s, Providers: providers})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", gw.embeddings)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	post := func(body string) (int, gjson.Result) {
		resp, err := http.Post(srv.URL+"/v1/embeddings", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, gjson.Parse(string(antBody(t, resp)))
	}

	const names = "(embed, embed-back, large, custom-emb)"
	status, body := post(`{"model":"clearbar/auto","input":"x"}`)
	if status != 400 || !strings.Contains(body.Get("error.message").Str, names) {
		t.Errorf("an alias: %d %s; want the embeddings models %s", status, body.Raw, names)
	}
	status, body = post(`{"model":"chatty","input":"x"}`)
	msg := body.Get("error.message").Str
	if status != 400 || body.Get("error.code").Str != "model_not_supported" || body.Get("error.param").Str != "model" ||
		!strings.Contains(msg, "chatty (gpt-4o-mini) is a chat model") || !strings.Contains(msg, names) {
		t.Errorf("a chat model named directly: %d %s", status, body.Raw)
	}
	if n := len(primary.bodies()) + len(backup.bodies()); n != 0 {
		t.Errorf("the upstreams got %d calls", n)
	}
	if status, body = post(`{"model":"custom-emb","input":"x"}`); status != 200 {
		t.Errorf("a model the catalogue does not have: %d %s", status, body.Raw)
	}
}
